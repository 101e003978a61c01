#!/usr/bin/env bash
# Installs the peers the benchmark compares against, into bench/work/tools (not committed):
# dbmate (npm package `dbmate`), sqlx-cli and refinery_cli (cargo install). Idempotent; each is skipped
# when already installed. The floor needs only psql and clickhouse-client, which scripts/servers.sh installs.
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
TOOLS="$ROOT/bench/work/tools"
mkdir -p "$TOOLS"

if [[ ! -x "$TOOLS/node_modules/.bin/dbmate" ]]; then
  echo "installing dbmate (npm)"
  npm install --prefix "$TOOLS" --no-audit --no-fund --silent dbmate
fi
if [[ ! -x "$TOOLS/bin/sqlx" ]]; then
  echo "installing sqlx-cli (cargo install; a few minutes)"
  cargo install --quiet --root "$TOOLS" sqlx-cli --no-default-features --features postgres,rustls
fi
if [[ ! -x "$TOOLS/bin/refinery" ]]; then
  echo "installing refinery_cli (cargo install; a few minutes)"
  cargo install --quiet --root "$TOOLS" refinery_cli --no-default-features --features postgresql
fi
echo "peers installed under $TOOLS"
