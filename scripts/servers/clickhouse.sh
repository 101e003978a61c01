# shellcheck shell=bash
# ClickHouse, single server: install from Debian, start it with our config.d override, stop it.
# Sourced by scripts/servers.sh, which sets the configuration (ports, directories) first.

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
