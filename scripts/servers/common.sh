# shellcheck shell=bash
# Helpers every server uses: logging, the run lock, apt installs, templates, ports, PIDs.
# Sourced by scripts/servers.sh, which sets the configuration (ports, directories) first.

# ---- helpers ------------------------------------------------------------------------------------------
now() { date +%s.%N; }
since() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.2f", b - a }'; }
# SCRIPT_NAME: who speaks in messages (scripts/tools/prometheus.sh sources these helpers too).
die() { echo "${SCRIPT_NAME:-servers.sh}: error: $*" >&2; exit 1; }
note() { echo "${SCRIPT_NAME:-servers.sh}: $*" >&2; }

# Every server started below must not inherit fd 9, the lock of this script: it would hold the lock for as
# long as it runs, and the next invocation would wait for it in vain. `nolock CMD...` runs CMD without it.
nolock() { "$@" 9>&-; }

take_lock() {
  mkdir -p "$RUN_DIR"
  exec 9>"$RUN_DIR/lock"
  if ! flock -n 9; then
    note "waiting for another ${SCRIPT_NAME:-servers.sh} to finish (lock $RUN_DIR/lock)"
    flock -w 300 9 || die "another ${SCRIPT_NAME:-servers.sh} held $RUN_DIR/lock for 300 s"
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
