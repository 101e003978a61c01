#!/usr/bin/env bash
# The PostgreSQL end-to-end tests (tests/e2e, the library and the driver; ClickHouse's left out) on
# PostgreSQL 16, 17 and 18, each started by scripts/tools/postgres-versions.sh on its own port; 15 is the
# main suite's (scripts/test.sh). scripts/test.sh runs this for 18; run it with no argument for all three.
#
# Usage: scripts/test-pg-versions.sh [VERSION...]   (default: 16 17 18)
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
versions=("$@")
((${#versions[@]} > 0)) || versions=(16 17 18)
"$ROOT/scripts/tools/postgres-versions.sh" up "${versions[@]}"
# --workspace --test e2e (not -p migrate-e2e): the same feature set as scripts/test.sh's build, so nothing
# is compiled again.
for version in "${versions[@]}"; do
  echo "---- tests/e2e on PostgreSQL $version"
  MIGRATE_TEST_PG_URL=$("$ROOT/scripts/tools/postgres-versions.sh" url "$version") \
    MIGRATE_TEST_PG_SOCKET_DIR=${MIGRATE_PG_VERSIONS_DIR:-/tmp/migrate-pg-versions}/sock-$version \
    cargo test --workspace --test e2e -- --skip clickhouse
done
