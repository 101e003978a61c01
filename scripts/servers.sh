#!/usr/bin/env bash
# Start (and install when missing) the database servers that migrate's tests talk to.
# No systemd: every server is started by hand, in the background, with its PID recorded.
#
# Usage: scripts/servers.sh [COMMAND]
#   up (default)            PostgreSQL on 127.0.0.1:5432 and one ClickHouse on 127.0.0.1:8123 (HTTP) / 9000
#                           (native). Installs, configures and starts what is missing; a no-op when both answer.
#   status                  what runs, and where.
#   clickhouse-down         stop the single ClickHouse server, only if this script started it.
#   cluster-up [--fresh]    a 2-node ClickHouse cluster `test_cluster` (shard 01, replicas a and b) and a
#                           standalone ZooKeeper, all on 127.0.0.1 under $MIGRATE_CHCLUSTER_DIR
#                           (default /tmp/migrate-chcluster). --fresh: stop it and wipe its data first.
#   cluster-down [--clean]  stop the cluster (servers first, then ZooKeeper). --clean: delete its data too.
#   cluster-stop-node N     stop one component: a, b or zk (SIGTERM, SIGKILL after $STOP_TIMEOUT_S).
#   cluster-start-node N    start one component again (a or b also starts ZooKeeper when it is down).
#
# Ports: PostgreSQL 5432; ClickHouse 8123/9000/9009; cluster: ZooKeeper 22181, node a 18123/19000/19009,
# node b 28123/29000/29009 (overridable: ZK_PORT, A_HTTP_PORT, A_TCP_PORT, A_INTERSERVER_PORT, B_...).
# Other environment: START_TIMEOUT_S (60), STOP_TIMEOUT_S (10), CH_LOG_LEVEL (debug, cluster only),
# ZK_SESSION_TIMEOUT_MS (10000), MIGRATE_SERVERS_RUN_DIR (/run/migrate-servers: lock, PID and apt logs),
# MIGRATE_PG_PORT (5432), MIGRATE_PG_CLUSTER (main), MIGRATE_CH_HTTP_PORT (8123), MIGRATE_CH_TCP_PORT (9000),
# MIGRATE_CH_INTERSERVER_PORT (9009): to try this script beside the real servers (a chroot, a throwaway cluster).
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)

PG_HOST=127.0.0.1
PG_PORT=${MIGRATE_PG_PORT:-5432}
PG_CLUSTER=${MIGRATE_PG_CLUSTER:-main} # Debian cluster name used when PostgreSQL has to be started
PG_PASSWORD_GROUP=migrate_password_auth
CH_HTTP_PORT=${MIGRATE_CH_HTTP_PORT:-8123}
CH_TCP_PORT=${MIGRATE_CH_TCP_PORT:-9000}
CH_INTERSERVER_PORT=${MIGRATE_CH_INTERSERVER_PORT:-9009}
CH_ETC=/etc/clickhouse-server
CH_CONFIG=$CH_ETC/config.xml
CH_LOG_DIR=/var/log/clickhouse-server
CH_DATA_DIR=/var/lib/clickhouse

ZK_PORT=${ZK_PORT:-22181}
A_HTTP_PORT=${A_HTTP_PORT:-18123}; A_TCP_PORT=${A_TCP_PORT:-19000}; A_INTERSERVER_PORT=${A_INTERSERVER_PORT:-19009}
B_HTTP_PORT=${B_HTTP_PORT:-28123}; B_TCP_PORT=${B_TCP_PORT:-29000}; B_INTERSERVER_PORT=${B_INTERSERVER_PORT:-29009}
CH_LOG_LEVEL=${CH_LOG_LEVEL:-debug}
ZK_SESSION_TIMEOUT_MS=${ZK_SESSION_TIMEOUT_MS:-10000}
START_TIMEOUT_S=${START_TIMEOUT_S:-60}
STOP_TIMEOUT_S=${STOP_TIMEOUT_S:-10}

IS_ROOT=0
[[ $(id -u) == 0 ]] && IS_ROOT=1
if [[ $IS_ROOT == 1 ]]; then RUN_DIR=${MIGRATE_SERVERS_RUN_DIR:-/run/migrate-servers}
else RUN_DIR=${MIGRATE_SERVERS_RUN_DIR:-/tmp/migrate-servers-$(id -u)}; fi

CLUSTER_DIR=${MIGRATE_CHCLUSTER_DIR:-/tmp/migrate-chcluster}
case "$CLUSTER_DIR" in /*) ;; *) CLUSTER_DIR="$(pwd)/$CLUSTER_DIR" ;; esac
CLUSTER_DIR=${CLUSTER_DIR%/}
[[ -n "$CLUSTER_DIR" && "$CLUSTER_DIR" != / ]] || { echo "servers.sh: refusing to use / as the cluster directory" >&2; exit 2; }

# ---- helpers ------------------------------------------------------------------------------------------
now() { date +%s.%N; }
since() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.2f", b - a }'; }
die() { echo "servers.sh: error: $*" >&2; exit 1; }
note() { echo "servers.sh: $*" >&2; }

# Every server started below must not inherit fd 9, the lock of this script: it would hold the lock for as
# long as it runs, and the next invocation would wait for it in vain. `nolock CMD...` runs CMD without it.
nolock() { "$@" 9>&-; }

take_lock() {
  mkdir -p "$RUN_DIR"
  exec 9>"$RUN_DIR/lock"
  if ! flock -n 9; then
    note "waiting for another servers.sh to finish (lock $RUN_DIR/lock)"
    flock -w 300 9 || die "another servers.sh held $RUN_DIR/lock for 300 s"
  fi
}

APT_UPDATED=0
apt_install() {
  [[ $IS_ROOT == 1 ]] || die "must be root to install: $*"
  local log=$RUN_DIR/apt.log t
  t=$(now)
  # One `apt-get update` per hour is enough: `up` and `cluster-up` run one after the other on a new machine.
  if [[ $APT_UPDATED == 0 && -n "$(find "$RUN_DIR/apt-updated" -mmin -60 2>/dev/null)" ]]; then APT_UPDATED=1; fi
  if [[ $APT_UPDATED == 0 ]]; then
    note "apt-get update"
    nolock apt-get update -qq -o DPkg::Lock::Timeout=300 >"$log" 2>&1 || { tail -n 20 "$log" >&2; die "apt-get update failed"; }
    APT_UPDATED=1
    touch "$RUN_DIR/apt-updated"
  fi
  note "apt-get install $*"
  DEBIAN_FRONTEND=noninteractive nolock apt-get install -y -q --no-install-recommends \
    -o DPkg::Lock::Timeout=300 "$@" >"$log" 2>&1 </dev/null || { tail -n 30 "$log" >&2; die "apt-get install $* failed (log: $log)"; }
  note "installed $* in $(since "$t")s"
}

render() { # render TEMPLATE OUT key=value...
  local template=$1 out=$2 expr=() kv
  shift 2
  for kv in "$@"; do expr+=(-e "s|@${kv%%=*}@|${kv#*=}|g"); done
  sed "${expr[@]}" "$template" >"$out"
}

# Tools this script needs beyond coreutils/util-linux; installed when missing (bare machines may lack them).
ensure_tools() {
  local pkgs=()
  command -v curl >/dev/null || pkgs+=(curl ca-certificates)
  command -v ss >/dev/null || pkgs+=(iproute2)
  ((${#pkgs[@]} == 0)) || apt_install "${pkgs[@]}"
}

# port_in_use PORT: something listens on 127.0.0.1:PORT (or on a wildcard address). Uses ss, so that probing
# a server's native port does not leave "Client has not sent any data" in its log at every run.
port_in_use() { [[ -n "$(ss -Hltn "sport = :$1" 2>/dev/null)" ]]; }
port_owner() { ss -Hltnp "sport = :$1" 2>/dev/null | grep -o 'users:.*' | head -n 1 || true; }
ch_ping() { [[ "$(curl -s --max-time 2 "http://127.0.0.1:$1/ping" 2>/dev/null)" == "Ok." ]]; }
ch_query() { curl -sS --max-time "${3:-5}" "http://127.0.0.1:$1/" --data-binary "$2"; }

# cmdline_has PID STRING: the process runs and its command line contains STRING (proves a PID is ours).
cmdline_has() {
  [[ "$1" =~ ^[0-9]+$ && -r "/proc/$1/cmdline" ]] || return 1
  [[ "$(tr '\0' ' ' <"/proc/$1/cmdline" 2>/dev/null)" == *"$2"* ]]
}
# proc_running PID: alive and not a zombie. Right after a fork the child still shows this script's command
# line, and a dead child stays a zombie until we exit, so start-up waits use this instead of cmdline_has.
proc_running() {
  local state
  state=$(awk '{ print $3 }' "/proc/$1/stat" 2>/dev/null) || return 1
  [[ -n "$state" && "$state" != Z && "$state" != X ]]
}
read_pid() { if [[ -s "$1" ]]; then cat "$1" 2>/dev/null || true; fi; }

# stop_pid NAME PID MARKER [T0]: SIGTERM, wait up to STOP_TIMEOUT_S, then SIGKILL. Signals only a process
# whose command line contains MARKER, so a reused or forged PID is never hit. With T0, the caller already sent
# SIGTERM at time T0 (several servers shut down in parallel), and the process may be gone already.
stop_pid() {
  local name=$1 pid=$2 marker=$3 t=${4:-} deadline
  if [[ -z "$t" ]]; then
    cmdline_has "$pid" "$marker" || return 0
    t=$(now)
    kill -TERM "$pid" 2>/dev/null || true
  fi
  deadline=$((SECONDS + STOP_TIMEOUT_S))
  while cmdline_has "$pid" "$marker"; do
    if ((SECONDS >= deadline)); then
      note "$name: still running ${STOP_TIMEOUT_S}s after SIGTERM, sending SIGKILL to $pid"
      kill -KILL "$pid" 2>/dev/null || true
      sleep 0.2
      break
    fi
    sleep 0.05
  done
  echo "$name: stopped (pid $pid) in $(since "$t")s"
}

RUN_AS=()
run_as_clickhouse() {
  RUN_AS=()
  if [[ $IS_ROOT == 1 ]]; then
    id clickhouse >/dev/null 2>&1 || die "user clickhouse missing (it comes with the clickhouse-server package)"
    # setpriv execs the server, so $! is the server's own PID (runuser would stay in between).
    RUN_AS=(setpriv --reuid=clickhouse --regid=clickhouse --init-groups --)
  fi
}

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
CH_PIDFILE=$RUN_DIR/clickhouse-server.pid
CH_MARKER="--config-file=$CH_CONFIG"

ch_install() {
  local pkgs=()
  command -v clickhouse-server >/dev/null || pkgs+=(clickhouse-server)
  command -v clickhouse-client >/dev/null || pkgs+=(clickhouse-client)
  ((${#pkgs[@]} == 0)) || apt_install "${pkgs[@]}"
  command -v clickhouse-server >/dev/null || die "clickhouse-server not found after installing it"
}

ch_single_ready() { ch_ping "$CH_HTTP_PORT" && port_in_use "$CH_TCP_PORT"; }

# ch_test_user: the password-test user in users.d (the server reloads users files by itself; wait for it).
ch_test_user() {
  local target="$CH_ETC/users.d/zz-migrate-users.xml" deadline
  [[ $IS_ROOT == 1 ]] || return 0
  mkdir -p "$CH_ETC/users.d"
  cmp -s "$HERE/clickhouse-server/zz-migrate-users.xml" "$target" && return 0
  cp "$HERE/clickhouse-server/zz-migrate-users.xml" "$target"
  ch_single_ready || return 0
  deadline=$((SECONDS + 20))
  until curl -s --max-time 2 -H 'X-ClickHouse-User: migrate_pw' -H 'X-ClickHouse-Key: p%41:@#?/ +wä&=' \
      "http://127.0.0.1:$CH_HTTP_PORT/?query=SELECT%201" 2>/dev/null | grep -qx 1; do
    ((SECONDS < deadline)) || die "clickhouse did not load the test user from $target"
    sleep 0.5
  done
}

ch_up() {
  local t pid p deadline offset=0 errlog=$CH_LOG_DIR/clickhouse-server.err.log out=$RUN_DIR/clickhouse-server.out
  t=$(now)
  [[ ! -d "$CH_ETC" ]] || ch_test_user
  if ch_single_ready; then
    echo "clickhouse: already running on 127.0.0.1:$CH_HTTP_PORT/$CH_TCP_PORT ($(ch_query "$CH_HTTP_PORT" 'SELECT version()' 2>/dev/null || echo '?'))"
    return
  fi
  [[ $IS_ROOT == 1 ]] || die "ClickHouse does not answer on 127.0.0.1:$CH_HTTP_PORT, and only root can install or start it"
  ch_install
  if ch_single_ready; then # started by the package's postinst, where nothing blocks that
    echo "clickhouse: running on 127.0.0.1:$CH_HTTP_PORT/$CH_TCP_PORT after installing it ($(port_owner "$CH_HTTP_PORT"))"
    return
  fi
  run_as_clickhouse

  pid=$(read_pid "$CH_PIDFILE")
  if [[ -n "$pid" ]] && cmdline_has "$pid" "$CH_MARKER"; then
    note "clickhouse: pid $pid (ours) runs but does not answer yet; waiting for it"
  else
    for p in "$CH_HTTP_PORT" "$CH_TCP_PORT" "$CH_INTERSERVER_PORT"; do
      port_in_use "$p" && die "clickhouse: port $p is taken by something this script did not start: $(port_owner "$p")"
    done
    # 18.16 merges $CH_ETC/config.d/*.xml into config.xml.
    mkdir -p "$CH_ETC/config.d"
    render "$HERE/clickhouse-server/zz-migrate.xml.in" "$RUN_DIR/zz-migrate.xml" HTTP_PORT="$CH_HTTP_PORT" \
      TCP_PORT="$CH_TCP_PORT" INTERSERVER_PORT="$CH_INTERSERVER_PORT"
    cmp -s "$RUN_DIR/zz-migrate.xml" "$CH_ETC/config.d/zz-migrate.xml" || cp "$RUN_DIR/zz-migrate.xml" "$CH_ETC/config.d/zz-migrate.xml"
    ch_test_user
    mkdir -p "$CH_DATA_DIR" "$CH_LOG_DIR"
    chown clickhouse:clickhouse "$CH_DATA_DIR" "$CH_LOG_DIR"
    offset=$(stat -c %s "$errlog" 2>/dev/null || echo 0)
    echo "$offset" >"$RUN_DIR/clickhouse-server.err-offset"
    pushd "$CH_DATA_DIR" >/dev/null
    nohup "${RUN_AS[@]}" clickhouse-server "$CH_MARKER" >"$out" 2>&1 </dev/null 9>&- &
    pid=$!
    popd >/dev/null
    echo "$pid" >"$CH_PIDFILE"
  fi
  deadline=$((SECONDS + START_TIMEOUT_S))
  until ch_single_ready; do
    if ! proc_running "$pid" || ((SECONDS >= deadline)); then
      offset=$(cat "$RUN_DIR/clickhouse-server.err-offset" 2>/dev/null || echo 0)
      echo "---- $errlog (this run)" >&2; tail -c +"$((offset + 1))" "$errlog" 2>/dev/null | tail -n 25 >&2 || true
      echo "---- $out" >&2; tail -n 15 "$out" >&2 2>/dev/null || true
      proc_running "$pid" && die "clickhouse (pid $pid) did not answer on 127.0.0.1:$CH_HTTP_PORT/$CH_TCP_PORT within ${START_TIMEOUT_S}s"
      die "clickhouse exited during start-up (logs above; $CH_LOG_DIR)"
    fi
    sleep 0.05
  done
  echo "clickhouse: started (pid $pid) on 127.0.0.1:$CH_HTTP_PORT/$CH_TCP_PORT ($(ch_query "$CH_HTTP_PORT" 'SELECT version()')) in $(since "$t")s"
}

ch_down() {
  local pid
  pid=$(read_pid "$CH_PIDFILE")
  if [[ -n "$pid" ]] && cmdline_has "$pid" "$CH_MARKER"; then
    stop_pid clickhouse "$pid" "$CH_MARKER"
  elif ch_ping "$CH_HTTP_PORT"; then
    echo "clickhouse: running but not started by this script ($(port_owner "$CH_HTTP_PORT")); left alone"
  else
    echo "clickhouse: not running"
  fi
  rm -f "$CH_PIDFILE"
}

ch_status() {
  local pid who
  pid=$(read_pid "$CH_PIDFILE")
  if [[ -n "$pid" ]] && cmdline_has "$pid" "$CH_MARKER"; then who="pid $pid, started by servers.sh"; else who="$(port_owner "$CH_HTTP_PORT")"; fi
  if ch_ping "$CH_HTTP_PORT"; then
    echo "clickhouse: up on 127.0.0.1:$CH_HTTP_PORT/$CH_TCP_PORT ($(ch_query "$CH_HTTP_PORT" 'SELECT version()' 2>/dev/null || echo '?')), $who"
  else
    echo "clickhouse: down on 127.0.0.1:$CH_HTTP_PORT"
  fi
}

# ======================================================================================================
# ClickHouse test cluster: ZooKeeper + nodes a and b, everything under $CLUSTER_DIR
# ======================================================================================================
TPL=$HERE/clickhouse-cluster

node_http() { if [[ $1 == a ]]; then echo "$A_HTTP_PORT"; else echo "$B_HTTP_PORT"; fi; }
node_tcp() { if [[ $1 == a ]]; then echo "$A_TCP_PORT"; else echo "$B_TCP_PORT"; fi; }
node_is() { if [[ $1 == a ]]; then echo "$A_INTERSERVER_PORT"; else echo "$B_INTERSERVER_PORT"; fi; }
# marker COMPONENT: a string that only the command line of that component of this cluster contains.
marker() { if [[ $1 == zk ]]; then echo "$CLUSTER_DIR/zk/zoo.cfg"; else echo "--config-file=$CLUSTER_DIR/$1/etc/config.xml"; fi; }
comp_pid() { read_pid "$CLUSTER_DIR/$1/pid"; }
comp_alive() { local pid; pid=$(comp_pid "$1"); [[ -n "$pid" ]] && cmdline_has "$pid" "$(marker "$1")"; }

# zk_ok: ZooKeeper serves sessions. `ruok` says `imok` ~0.2 s before that, and an 18.16 server whose first
# ZooKeeper handshake fails can segfault on its first ON CLUSTER query: wait for `srvr` to report a Mode.
zk_ok() {
  local reply
  reply=$( (exec 3<>"/dev/tcp/127.0.0.1/$ZK_PORT" && printf srvr >&3 && timeout 1 cat <&3) 2>/dev/null || true)
  [[ "$reply" == *"Mode: "* ]]
}

cluster_install() {
  local pkgs=()
  command -v clickhouse-server >/dev/null || pkgs+=(clickhouse-server)
  command -v clickhouse-client >/dev/null || pkgs+=(clickhouse-client)
  # `zookeeper` only: its jars. `zookeeperd` would add a system service on port 2181.
  { [[ -r /usr/share/java/zookeeper.jar && -r /usr/share/java/slf4j-simple.jar ]] && command -v java >/dev/null; } || pkgs+=(zookeeper)
  ((${#pkgs[@]} == 0)) || apt_install "${pkgs[@]}"
  command -v java >/dev/null || die "java not found after installing zookeeper"
}

ZK_ORPHANS=() # running nodes that zk_start found without a ZooKeeper
zk_start() {
  local zk=$CLUSTER_DIR/zk t pid deadline n
  if comp_alive zk && zk_ok; then echo "zookeeper: already running (pid $(comp_pid zk), port $ZK_PORT)"; return; fi
  t=$(now)
  if comp_alive zk; then
    pid=$(comp_pid zk) # started but not serving yet: wait below
  else
    port_in_use "$ZK_PORT" && die "zookeeper: port $ZK_PORT is taken by something this script did not start: $(port_owner "$ZK_PORT")"
    # Nodes that run on without ZooKeeper get "Session expired" on ON CLUSTER until their DDLWorker
    # reconnects (it retries every 5 s). Mark their logs now, before ZooKeeper can serve, and wait for
    # that reconnection in cluster_start.
    for n in a b; do
      if comp_alive "$n"; then
        stat -c %s "$CLUSTER_DIR/$n/log/server.log" 2>/dev/null >"$CLUSTER_DIR/$n/log_offset" || echo 0 >"$CLUSTER_DIR/$n/log_offset"
        ZK_ORPHANS+=("$n")
      fi
    done
    mkdir -p "$zk/data"
    render "$TPL/zoo.cfg.in" "$zk/zoo.cfg" DIR="$CLUSTER_DIR" ZK_PORT="$ZK_PORT"
    # Small heap, serial GC, C1 only: the load is tiny, and it starts faster (~0.25 s) in less memory.
    nohup java -Xms32m -Xmx256m -XX:+UseSerialGC -XX:TieredStopAtLevel=1 \
      -Dzookeeper.admin.enableServer=false -Dorg.slf4j.simpleLogger.defaultLogLevel=warn \
      -cp /usr/share/java/zookeeper.jar:/usr/share/java/slf4j-simple.jar \
      org.apache.zookeeper.server.ZooKeeperServerMain "$zk/zoo.cfg" >"$zk/zk.log" 2>&1 </dev/null 9>&- &
    pid=$!
    echo "$pid" >"$zk/pid"
  fi
  deadline=$((SECONDS + START_TIMEOUT_S))
  until zk_ok; do
    proc_running "$pid" || { tail -n 20 "$zk/zk.log" >&2; die "zookeeper exited during start-up (log: $zk/zk.log)"; }
    ((SECONDS < deadline)) || { tail -n 20 "$zk/zk.log" >&2; die "zookeeper did not serve on port $ZK_PORT within ${START_TIMEOUT_S}s"; }
    sleep 0.05
  done
  echo "zookeeper: started (pid $pid, port $ZK_PORT) in $(since "$t")s"
}

# node_launch NAME: render the node's config and start its server, unless it already runs.
node_launch() {
  local name=$1 node=$CLUSTER_DIR/$1 p
  comp_alive "$name" && return
  for p in "$(node_http "$name")" "$(node_tcp "$name")" "$(node_is "$name")"; do
    port_in_use "$p" && die "clickhouse $name: port $p is taken by something this script did not start: $(port_owner "$p")"
  done
  mkdir -p "$node/etc" "$node/data" "$node/log"
  render "$TPL/config.xml.in" "$node/etc/config.xml" NAME="$name" DIR="$CLUSTER_DIR" \
    HTTP_PORT="$(node_http "$name")" TCP_PORT="$(node_tcp "$name")" INTERSERVER_PORT="$(node_is "$name")" \
    ZK_PORT="$ZK_PORT" TCP_PORT_A="$A_TCP_PORT" TCP_PORT_B="$B_TCP_PORT" LOG_LEVEL="$CH_LOG_LEVEL" \
    ZK_SESSION_TIMEOUT_MS="$ZK_SESSION_TIMEOUT_MS"
  cp "$TPL/users.xml" "$node/etc/users.xml"
  ((${#RUN_AS[@]} == 0)) || chown -R clickhouse:clickhouse "$node"
  # Readiness is read from the log lines of this run only.
  stat -c %s "$node/log/server.log" 2>/dev/null >"$node/log_offset" || echo 0 >"$node/log_offset"
  # pushd, not `cd X && nohup ... &`, which would background a subshell and make $! useless.
  pushd "$node" >/dev/null
  nohup "${RUN_AS[@]}" clickhouse-server "--config-file=$node/etc/config.xml" \
    >"$node/log/stdout.log" 2>&1 </dev/null 9>&- &
  echo $! >"$node/pid"
  popd >/dev/null
  now >"$node/started_at"
}

# ddl_worker_ready NAME: the node's DDLWorker holds a working ZooKeeper session (logged after the offset
# recorded at launch or at a ZooKeeper restart). Until then an ON CLUSTER query segfaults a fresh 18.16 server
# (null session), or fails with "Session expired" on one that outlived its ZooKeeper; the HTTP port opens
# before that. "Waiting a watch" follows a successful read of the DDL queue ("Processing tasks" is logged
# before that read, which may still fail).
ddl_worker_ready() {
  local node=$CLUSTER_DIR/$1 offset=0 size
  [[ -s "$node/log_offset" ]] && offset=$(<"$node/log_offset")
  size=$(stat -c %s "$node/log/server.log" 2>/dev/null || echo 0)
  ((size >= offset)) || offset=0 # the log was rotated
  # No `grep -q`: under pipefail, tail dying of SIGPIPE on a long log would read as "not ready".
  tail -c +"$((offset + 1))" "$node/log/server.log" 2>/dev/null | grep -E 'DDLWorker: Waiting a watch' >/dev/null
}

node_fail() { # node_fail NAME MESSAGE
  local node=$CLUSTER_DIR/$1
  { echo "---- $node/log/server.err.log"; tail -n 20 "$node/log/server.err.log"; echo "---- $node/log/stdout.log"; tail -n 10 "$node/log/stdout.log"; } >&2 2>/dev/null || true
  die "clickhouse $1: $2 (logs: $node/log)"
}

node_wait() { # node_wait NAME [ddl-only]
  local name=$1 http pid deadline
  http=$(node_http "$name"); pid=$(comp_pid "$name")
  deadline=$((SECONDS + START_TIMEOUT_S))
  until [[ ${2:-} == ddl-only ]] || ch_ping "$http"; do
    proc_running "$pid" || node_fail "$name" "exited during start-up"
    ((SECONDS < deadline)) || node_fail "$name" "no answer on port $http within ${START_TIMEOUT_S}s"
    sleep 0.05
  done
  case "$CH_LOG_LEVEL" in
    debug | trace)
      until ddl_worker_ready "$name"; do
        proc_running "$pid" || node_fail "$name" "exited during start-up"
        ((SECONDS < deadline)) || node_fail "$name" "its DDLWorker did not get a ZooKeeper session within ${START_TIMEOUT_S}s"
        sleep 0.05
      done
      ;;
    *) note "CH_LOG_LEVEL=$CH_LOG_LEVEL hides the DDLWorker readiness line: not waiting for it" ;;
  esac
}

# zk_reachable NAME: the node's own ZooKeeper session works (replicated tables and ON CLUSTER need it).
zk_reachable() {
  local http deadline
  http=$(node_http "$1")
  deadline=$((SECONDS + START_TIMEOUT_S))
  until [[ "$(ch_query "$http" "SELECT count() > 0 FROM system.zookeeper WHERE path = '/'" 2 2>/dev/null)" == 1 ]]; do
    ((SECONDS < deadline)) || node_fail "$1" "cannot reach ZooKeeper on port $ZK_PORT"
    sleep 0.1
  done
}

write_cluster_env() {
  cat >"$CLUSTER_DIR/cluster.env" <<EOF
# Written by scripts/servers.sh: the loopback ClickHouse test cluster in $CLUSTER_DIR
CHCLUSTER_DIR=$CLUSTER_DIR
CHCLUSTER_NAME=test_cluster
ZK_PORT=$ZK_PORT
A_HTTP_PORT=$A_HTTP_PORT
A_TCP_PORT=$A_TCP_PORT
A_INTERSERVER_PORT=$A_INTERSERVER_PORT
B_HTTP_PORT=$B_HTTP_PORT
B_TCP_PORT=$B_TCP_PORT
B_INTERSERVER_PORT=$B_INTERSERVER_PORT
EOF
}

# cluster_start [NODE...]: ZooKeeper first (always), then the given nodes in parallel.
cluster_start() {
  local t n t2 started=() was_up=()
  t=$(now)
  cluster_install
  run_as_clickhouse
  mkdir -p "$CLUSTER_DIR"
  zk_start
  for n in "$@"; do
    if comp_alive "$n" && ch_ping "$(node_http "$n")"; then was_up+=("$n"); continue; fi
    node_launch "$n"
    started+=("$n")
  done
  for n in "${started[@]}"; do node_wait "$n"; done
  if ((${#ZK_ORPHANS[@]})); then
    t2=$(now)
    for n in "${ZK_ORPHANS[@]}"; do node_wait "$n" ddl-only; done
    echo "clickhouse ${ZK_ORPHANS[*]}: DDL worker back on the restarted zookeeper after $(since "$t2")s"
  fi
  for n in "$@"; do zk_reachable "$n"; done
  for n in "${was_up[@]}"; do echo "clickhouse $n: already running (pid $(comp_pid "$n"), http $(node_http "$n"), tcp $(node_tcp "$n"))"; done
  for n in "${started[@]}"; do
    echo "clickhouse $n: started (pid $(comp_pid "$n"), http $(node_http "$n"), tcp $(node_tcp "$n")) in $(since "$(<"$CLUSTER_DIR/$n/started_at")")s"
  done
  write_cluster_env
  if [[ $# == 2 ]]; then
    echo "cluster test_cluster: ready in $(since "$t")s (a http://127.0.0.1:$A_HTTP_PORT/, b http://127.0.0.1:$B_HTTP_PORT/, zookeeper 127.0.0.1:$ZK_PORT, dir $CLUSTER_DIR)"
  fi
}

# cluster_stop COMPONENT...: SIGTERM the servers in parallel, then ZooKeeper (servers close their sessions).
cluster_stop() {
  local c pid t0
  declare -A pids=()
  t0=$(now)
  for c in "$@"; do
    [[ $c == zk ]] && continue
    pid=$(comp_pid "$c")
    if [[ -n "$pid" ]] && cmdline_has "$pid" "$(marker "$c")"; then
      kill -TERM "$pid" 2>/dev/null || true
      pids[$c]=$pid
    else
      echo "clickhouse $c: not running"
      rm -f "$CLUSTER_DIR/$c/pid"
    fi
  done
  for c in a b; do
    [[ -n "${pids[$c]:-}" ]] || continue
    stop_pid "clickhouse $c" "${pids[$c]}" "$(marker "$c")" "$t0"
    rm -f "$CLUSTER_DIR/$c/pid"
  done
  for c in "$@"; do
    [[ $c == zk ]] || continue
    pid=$(comp_pid zk)
    if [[ -n "$pid" ]] && cmdline_has "$pid" "$(marker zk)"; then stop_pid zookeeper "$pid" "$(marker zk)"; else echo "zookeeper: not running"; fi
    rm -f "$CLUSTER_DIR/zk/pid"
  done
}

cluster_wipe() {
  rm -rf "$CLUSTER_DIR/zk" "$CLUSTER_DIR/a" "$CLUSTER_DIR/b" "$CLUSTER_DIR/cluster.env"
  rmdir "$CLUSTER_DIR" 2>/dev/null || true
}

cluster_status() {
  local c pid state
  for c in zk a b; do
    pid=$(comp_pid "$c")
    if [[ -n "$pid" ]] && cmdline_has "$pid" "$(marker "$c")"; then
      if [[ $c == zk ]]; then
        zk_ok && state=up || state="running, not serving"
        echo "cluster zookeeper: $state (pid $pid, port $ZK_PORT)"
      else
        ch_ping "$(node_http "$c")" && state=up || state="running, not answering"
        echo "cluster clickhouse $c: $state (pid $pid, http $(node_http "$c"), tcp $(node_tcp "$c"))"
      fi
    else
      [[ $c == zk ]] && echo "cluster zookeeper: down" || echo "cluster clickhouse $c: down"
    fi
  done
  echo "cluster dir: $CLUSTER_DIR"
}

# ======================================================================================================
usage() { awk 'NR == 1 { next } /^#/ { sub(/^# ?/, ""); print; next } { exit }' "${BASH_SOURCE[0]}"; }

cmd=${1:-up}
[[ $# -gt 0 ]] && shift
case "$cmd" in
  up)
    [[ $# == 0 ]] || die "up takes no arguments"
    take_lock; ensure_tools; pg_up; ch_up ;;
  status)
    pg_status; ch_status; cluster_status ;;
  clickhouse-down)
    take_lock; ch_down ;;
  cluster-up)
    fresh=0
    for a in "$@"; do case "$a" in --fresh) fresh=1 ;; *) die "cluster-up: unknown argument '$a'" ;; esac; done
    take_lock; ensure_tools
    if [[ $fresh == 1 ]]; then cluster_stop a b zk >/dev/null; cluster_wipe; fi
    cluster_start a b ;;
  cluster-down)
    clean=0
    for a in "$@"; do case "$a" in --clean) clean=1 ;; *) die "cluster-down: unknown argument '$a'" ;; esac; done
    take_lock
    cluster_stop a b zk
    if [[ $clean == 1 ]]; then cluster_wipe; echo "cluster: removed $CLUSTER_DIR"; fi ;;
  cluster-stop-node | cluster-start-node)
    [[ $# == 1 ]] || die "$cmd takes one component: a, b or zk"
    case "$1" in a | b | zk) ;; *) die "$cmd: unknown component '$1' (a, b or zk)" ;; esac
    take_lock; ensure_tools
    if [[ $cmd == cluster-stop-node ]]; then
      cluster_stop "$1"
    elif [[ $1 == zk ]]; then
      cluster_start
    else
      cluster_start "$1"
    fi ;;
  -h | --help | help) usage ;;
  *) usage >&2; exit 2 ;;
esac
