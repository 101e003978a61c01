# shellcheck shell=bash
# PostgreSQL: start the local server when it is down, and the pg_hba line for the password tests.
# Sourced by scripts/servers.sh, which sets the configuration (ports, directories) first.

# ======================================================================================================
# PostgreSQL
# ======================================================================================================
pg_ready() { pg_isready -h "$PG_HOST" -p "$PG_PORT" -t 2 -q 2>/dev/null; }
pg_sql() { psql -X -w -h "$PG_HOST" -p "$PG_PORT" -U postgres -d postgres -v ON_ERROR_STOP=1 -Atqc "$1"; }
pg_postgres_login() { [[ "$(pg_sql 'SELECT 1' 2>/dev/null)" == 1 ]]; }

# The PostgreSQL major version to install or start: 15 if present, else the newest one installed.
pg_version() {
  local v
  if [[ -x /usr/lib/postgresql/15/bin/postgres ]]; then echo 15; return; fi
  # shellcheck disable=SC2012 # version directories are plain numbers
  v=$(ls /usr/lib/postgresql 2>/dev/null | sort -n | tail -n 1)
  [[ -n "$v" && -x /usr/lib/postgresql/$v/bin/postgres ]] && echo "$v"
}

HBA_BEGIN='# BEGIN migrate scripts/servers.sh (managed block: keep it first)'
HBA_END='# END migrate scripts/servers.sh'
# pg_hba_block WITH_TRUST: members of role migrate_password_auth must give a password over TCP (md5 accepts
# both md5 and SCRAM passwords; superusers are not members unless granted), so tests can check real password
# logins even where everything else on 127.0.0.1 is trust. WITH_TRUST=1 adds trust for everyone else on
# 127.0.0.1 (only written when `postgres` could not log in over TCP without a password).
pg_hba_block() {
  echo "$HBA_BEGIN"
  echo "host    all    +$PG_PASSWORD_GROUP    127.0.0.1/32    md5"
  [[ $1 == 1 ]] && echo "host    all    all    127.0.0.1/32    trust"
  echo "$HBA_END"
}

# pg_hba_ensure HBA_FILE WITH_TRUST: put our block at the top of pg_hba.conf. Prints "changed" if it wrote.
pg_hba_ensure() {
  local hba=$1 with_trust=$2 tmp
  [[ -f "$hba" ]] || die "pg_hba.conf not found at $hba"
  [[ -r "$hba" && -w "$hba" ]] || { note "cannot write $hba; leaving it as it is"; return; }
  # Keep trust once it was needed: the login test cannot tell that the block itself provides it.
  if awk -v b="$HBA_BEGIN" -v e="$HBA_END" '$0 == b { in_block = 1 } in_block && $3 == "all" && $5 == "trust" { f = 1 }
      $0 == e { in_block = 0 } END { exit !f }' "$hba"; then
    with_trust=1
  fi
  tmp=$(mktemp)
  { pg_hba_block "$with_trust"; awk -v b="$HBA_BEGIN" -v e="$HBA_END" '$0 == b { skip = 1 } !skip { print } $0 == e { skip = 0 }' "$hba"; } >"$tmp"
  if cmp -s "$tmp" "$hba"; then rm -f "$tmp"; return; fi
  cp "$hba" "$hba.migrate-backup"
  cat "$tmp" >"$hba" # keep owner and mode
  rm -f "$tmp"
  echo changed
}

pg_reload() { # pg_reload VERSION CLUSTER
  if pg_postgres_login; then pg_sql 'SELECT pg_reload_conf()' >/dev/null
  else nolock pg_ctlcluster --skip-systemctl-redirect "$1" "$2" reload; fi
  sleep 0.2
}

pg_check_hba_errors() {
  local errs
  errs=$(pg_sql "SELECT line_number || ': ' || error FROM pg_hba_file_rules WHERE error IS NOT NULL" 2>/dev/null || true)
  [[ -z "$errs" ]] || die "pg_hba.conf has errors: $errs"
}

pg_up() {
  local t v cluster=$PG_CLUSTER hba changed state deadline log
  t=$(now)
  if pg_ready && pg_postgres_login; then
    hba=$(pg_sql "SELECT current_setting('hba_file')")
    changed=$(pg_hba_ensure "$hba" 0)
    if [[ -n "$changed" ]]; then
      v=$(basename "$(dirname "$(dirname "$hba")")"); cluster=$(basename "$(dirname "$hba")")
      pg_reload "$v" "$cluster"; pg_check_hba_errors
      note "added the $PG_PASSWORD_GROUP password rule to $hba"
    fi
    echo "postgresql: already running on $PG_HOST:$PG_PORT ($(pg_sql 'SHOW server_version' | cut -d' ' -f1))"
    return
  fi
  [[ $IS_ROOT == 1 ]] || die "PostgreSQL does not answer on $PG_HOST:$PG_PORT, and only root can install or start it"

  v=$(pg_version || true)
  if [[ -z "$v" ]] || ! command -v pg_ctlcluster >/dev/null || ! command -v pg_isready >/dev/null; then
    apt_install postgresql postgresql-client
    v=$(pg_version || true)
    [[ -n "$v" ]] || die "postgresql installed, but no /usr/lib/postgresql/*/bin/postgres"
  fi
  if ! pg_lsclusters -h 2>/dev/null | awk -v v="$v" -v c="$cluster" '$1 == v && $2 == c { f = 1 } END { exit !f }'; then
    note "creating cluster $v/$cluster"
    nolock pg_createcluster "$v" "$cluster" >/dev/null
  fi

  # Listen on 127.0.0.1:5432 (conf.d is included by Debian's postgresql.conf; ours sorts last among 90-*).
  local confd=/etc/postgresql/$v/$cluster/conf.d conf want
  conf=$confd/95-migrate.conf
  want=$(printf "# Written by migrate's scripts/servers.sh\nlisten_addresses = '%s'\nport = %s\n" "$PG_HOST" "$PG_PORT")
  mkdir -p "$confd"
  [[ "$(cat "$conf" 2>/dev/null)" == "$want" ]] || { echo "$want" >"$conf"; chown postgres:postgres "$conf" 2>/dev/null || true; }

  hba=/etc/postgresql/$v/$cluster/pg_hba.conf
  pg_hba_ensure "$hba" 0 >/dev/null
  log=/var/log/postgresql/postgresql-$v-$cluster.log
  state=$(pg_lsclusters -h | awk -v v="$v" -v c="$cluster" '$1 == v && $2 == c { print $4 }')
  if pg_ready; then
    : # it answers now (started by the package's postinst where nothing blocks that)
  elif [[ "$state" == online* ]]; then
    note "cluster $v/$cluster is online but does not answer on $PG_HOST:$PG_PORT: restarting it"
    nolock pg_ctlcluster --skip-systemctl-redirect "$v" "$cluster" restart || { tail -n 20 "$log" >&2 || true; die "pg_ctlcluster restart failed"; }
  else
    nolock pg_ctlcluster --skip-systemctl-redirect "$v" "$cluster" start || { tail -n 20 "$log" >&2 || true; die "pg_ctlcluster start failed"; }
  fi
  deadline=$((SECONDS + START_TIMEOUT_S))
  until pg_ready; do
    ((SECONDS < deadline)) || { tail -n 20 "$log" >&2 || true; die "PostgreSQL did not answer on $PG_HOST:$PG_PORT within ${START_TIMEOUT_S}s (log: $log)"; }
    sleep 0.1
  done
  if ! pg_postgres_login; then
    note "postgres cannot log in over TCP without a password: adding trust for 127.0.0.1 to $hba"
    pg_hba_ensure "$hba" 1 >/dev/null
    nolock pg_ctlcluster --skip-systemctl-redirect "$v" "$cluster" reload
    deadline=$((SECONDS + 10))
    until pg_postgres_login; do
      ((SECONDS < deadline)) || die "user postgres still cannot log in to $PG_HOST:$PG_PORT without a password (see $hba)"
      sleep 0.1
    done
  fi
  pg_check_hba_errors
  echo "postgresql: started $v/$cluster on $PG_HOST:$PG_PORT in $(since "$t")s"
}

pg_status() {
  if pg_ready && pg_postgres_login; then
    echo "postgresql: up on $PG_HOST:$PG_PORT ($(pg_sql 'SHOW server_version' | cut -d' ' -f1)), $(port_owner "$PG_PORT")"
  elif pg_ready; then
    echo "postgresql: answers on $PG_HOST:$PG_PORT, but user postgres cannot log in without a password"
  else
    echo "postgresql: down on $PG_HOST:$PG_PORT"
  fi
}

# ======================================================================================================
# ClickHouse, single server (the packaged /etc/clickhouse-server config plus one config.d override)
# ======================================================================================================
