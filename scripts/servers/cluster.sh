# shellcheck shell=bash
# The ClickHouse test cluster: ZooKeeper and nodes a and b, started, stopped and wiped.
# Sourced by scripts/servers.sh, which sets the configuration (ports, directories) first.

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
