#!/usr/bin/env bash
# migrate's main job on a local default: apply fixtures/basic to the local PostgreSQL (database
# migrate_demo, created if missing) with goose's invocation, then print status.
#
# Usage: scripts/run.sh [DIR]   (default fixtures/basic)
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
DIR=${1:-fixtures/basic}
DB=migrate_demo
URL="postgres://postgres@127.0.0.1:5432/$DB?sslmode=disable"

"$ROOT/scripts/servers.sh" up >/dev/null
if ! psql -h 127.0.0.1 -U postgres -d postgres -Atc "SELECT 1 FROM pg_database WHERE datname = '$DB'" | grep -q 1; then
  psql -h 127.0.0.1 -U postgres -d postgres -qc "CREATE DATABASE $DB"
fi
# Build the binary with cargo's progress on stderr, and take its path from cargo's JSON messages on stdout
# (the one artifact with an "executable"), so CARGO_TARGET_DIR or a configured target-dir is honoured.
echo "run.sh: building the migrate binary (cargo build -p migrate-goose-cli)" >&2
MESSAGES=$(cargo build -p migrate-goose-cli --bin migrate --message-format=json-render-diagnostics)
BIN=$(printf '%s\n' "$MESSAGES" | grep -o '"executable":"[^"]*"' | tail -n 1 | cut -d '"' -f 4)
if [[ -z "$BIN" || ! -x "$BIN" ]]; then
  echo "run.sh: cargo reported no migrate executable (got '${BIN}')" >&2
  exit 1
fi
"$BIN" -dir "$DIR" postgres "$URL" up
"$BIN" -dir "$DIR" postgres "$URL" status
