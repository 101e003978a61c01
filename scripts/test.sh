#!/usr/bin/env bash
# migrate's test command: bring up the database servers, then run every test of the workspace.
#
# Usage: scripts/test.sh [ARGS...]   ARGS go to both cargo test runs (e.g. a test-name filter, or -- --nocapture)
#
# Servers (scripts/servers.sh, idempotent, quick when already up): PostgreSQL 127.0.0.1:5432, ClickHouse
# 127.0.0.1:8123, and the 2-node ClickHouse cluster `test_cluster` (a 18123, b 28123, ZooKeeper 22181).
# scripts/tools/prometheus.sh up: Pushgateway 127.0.0.1:9091 (and :9092 with basic auth), Prometheus :9090, for
# migrate-metrics' tests (their defaults; MIGRATE_TEST_PUSHGATEWAY_URL etc. override them, docs/metrics.md).
# Environment for the tests (each only if not already set):
#   MIGRATE_TEST_PG_URL          postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable
#   MIGRATE_TEST_CH_URL          http://127.0.0.1:8123/
#   MIGRATE_TEST_CH_CLUSTER_A    http://127.0.0.1:18123/
#   MIGRATE_TEST_CH_CLUSTER_B    http://127.0.0.1:28123/
#   MIGRATE_TEST_CH_CLUSTER_NAME test_cluster
# (The CLI tests' password roles join `migrate_password_auth`, which they create, and which servers.sh's
# pg_hba line makes give a real password on 127.0.0.1.)
#   MIGRATE_TEST_PG_SOCKET_DIR   the server's Unix-socket directory (/var/run/postgresql; set per version by
#                                scripts/test-pg-versions.sh)
#   MIGRATE_SERVERS_SH           this checkout's scripts/servers.sh, for tests that stop and start a cluster node
#                                ("$MIGRATE_SERVERS_SH" cluster-stop-node b / cluster-start-node b)
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"

"$ROOT/scripts/servers.sh" up
"$ROOT/scripts/servers.sh" cluster-up
"$ROOT/scripts/tools/prometheus.sh" up

export MIGRATE_TEST_PG_URL=${MIGRATE_TEST_PG_URL:-postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable}
export MIGRATE_TEST_CH_URL=${MIGRATE_TEST_CH_URL:-http://127.0.0.1:8123/}
export MIGRATE_TEST_CH_CLUSTER_A=${MIGRATE_TEST_CH_CLUSTER_A:-http://127.0.0.1:${A_HTTP_PORT:-18123}/}
export MIGRATE_TEST_CH_CLUSTER_B=${MIGRATE_TEST_CH_CLUSTER_B:-http://127.0.0.1:${B_HTTP_PORT:-28123}/}
export MIGRATE_TEST_CH_CLUSTER_NAME=${MIGRATE_TEST_CH_CLUSTER_NAME:-test_cluster}
export MIGRATE_SERVERS_SH=${MIGRATE_SERVERS_SH:-$ROOT/scripts/servers.sh}

echo "---- cargo test --workspace --all-targets $*"
cargo test --workspace --all-targets "$@"
echo "---- cargo test --workspace --doc $*"
cargo test --workspace --doc "$@"

# The PostgreSQL end-to-end tests on PostgreSQL 18 too (the newest; scripts/test-pg-versions.sh runs 16-18).
if [[ $# -eq 0 ]]; then
  echo "---- scripts/test-pg-versions.sh 18 (tests/e2e on PostgreSQL 18)"
  "$ROOT/scripts/test-pg-versions.sh" 18
fi

# The ClickHouse driver's SQL on a current engine (chdb runs ClickHouse 26.x in process).
if [[ $# -eq 0 ]]; then
  echo "---- scripts/chdb/check.py (the ClickHouse driver's SQL on a current engine)"
  python3 -c "import chdb" 2>/dev/null || python3 -m pip install --quiet --disable-pip-version-check -r "$ROOT/scripts/chdb/requirements.txt"
  python3 "$ROOT/scripts/chdb/check.py"
fi

# migrate's lint against squawk on every PostgreSQL directory of the shared corpus (when present beside the
# checkout): the same findings, statement for statement, or an explained difference.
if [[ $# -eq 0 && -f "$ROOT/../shared/corpus/INDEX.md" ]]; then
  echo "---- scripts/lint-vs-squawk.py (lint against squawk on ../shared/corpus)"
  python3 "$ROOT/scripts/lint-vs-squawk.py" --migrate "${CARGO_TARGET_DIR:-$ROOT/target}/debug/migrate"
fi
