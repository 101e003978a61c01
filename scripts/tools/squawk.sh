#!/usr/bin/env bash
# Installs squawk (PyPI `squawk-cli`, a prebuilt binary) into .tools/squawk-venv once, and runs it.
# Idempotent: a second call only runs the binary. Used by scripts/lint-vs-squawk.py and bench/lint.sh.
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
venv="$root/.tools/squawk-venv"
version="${SQUAWK_VERSION:-2.70.0}"
if [ ! -x "$venv/bin/squawk" ]; then
  python3 -m venv "$venv" >&2
  "$venv/bin/pip" install --quiet "squawk-cli==$version" >&2
fi
exec "$venv/bin/squawk" "$@"
