#!/usr/bin/env bash
# Installs squawk (PyPI `squawk-cli`, a prebuilt binary) into .tools/squawk-venv-VERSION once, and runs it.
# Idempotent: a second call only runs the binary. Used by scripts/lint-vs-squawk.py and bench/bench.py (L1).
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
venv="$root/.tools/squawk-venv-${SQUAWK_VERSION:-2.68.0}"
# 2.68.0: the release of the squawk-linter crate migrate-lint is built with, so findings compare one to one.
version="${SQUAWK_VERSION:-2.68.0}"
if [ ! -x "$venv/bin/squawk" ]; then
  python3 -m venv "$venv" >&2
  "$venv/bin/pip" install --quiet "squawk-cli==$version" >&2
fi
exec "$venv/bin/squawk" "$@"
