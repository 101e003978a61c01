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
cargo build -q -p migrate-goose-cli
"$ROOT/target/debug/migrate" -dir "$DIR" postgres "$URL" up
"$ROOT/target/debug/migrate" -dir "$DIR" postgres "$URL" status
