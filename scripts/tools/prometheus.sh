#!/usr/bin/env bash
# A local Prometheus and Pushgateway for migrate-metrics' tests, and promtool's checks of the shipped alert.
# No systemd: both daemons are started by hand, in the background, with their PIDs recorded.
#
# Usage: scripts/tools/prometheus.sh [COMMAND]
#   up (default)  install Debian's prometheus and prometheus-pushgateway when missing (root only), then start
#                 the Pushgateway on 127.0.0.1:9091 and Prometheus on 127.0.0.1:9090, which scrapes the
#                 Pushgateway every 1s (honor_labels: true) and evaluates deploy/prometheus/migrate-alerts.yml
#                 every 1s; and a second Pushgateway on 127.0.0.1:9092 that asks for basic auth (user
#                 migrate, password `p@ss/w0rd:test`), for the test that pushes with credentials in the URL.
#                 A no-op when all answer (a changed configuration is reloaded).
#   check         promtool check rules and promtool test rules on deploy/prometheus/ (offline).
#   status        what runs, and where.
#   down          stop the daemons, only if this script started them.
#
# Environment: MIGRATE_PROMETHEUS_DIR (/tmp/migrate-prometheus: configuration, data, PIDs, logs),
# PROMETHEUS_PORT (9090), PUSHGATEWAY_PORT (9091), AUTH_PUSHGATEWAY_PORT (9092), START_TIMEOUT_S (60),
# STOP_TIMEOUT_S (10).
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
RULES=$ROOT/deploy/prometheus/migrate-alerts.yml
RULES_TEST=$ROOT/deploy/prometheus/migrate-alerts.test.yml
DIR=${MIGRATE_PROMETHEUS_DIR:-/tmp/migrate-prometheus}
PROMETHEUS_PORT=${PROMETHEUS_PORT:-9090}
PUSHGATEWAY_PORT=${PUSHGATEWAY_PORT:-9091}
AUTH_PUSHGATEWAY_PORT=${AUTH_PUSHGATEWAY_PORT:-9092}
START_TIMEOUT_S=${START_TIMEOUT_S:-60}
STOP_TIMEOUT_S=${STOP_TIMEOUT_S:-10}

# Debian's binaries; the package names differ from the Pushgateway's binary name.
PROMETHEUS_BIN=/usr/bin/prometheus
PUSHGATEWAY_BIN=/usr/bin/prometheus-pushgateway
PROMTOOL_BIN=/usr/bin/promtool

# The markers prove a PID is ours: each daemon gets a path under $DIR on its command line.
PROM_CONFIG=$DIR/prometheus.yml
PROM_MARKER="--config.file=$PROM_CONFIG"
PG_STORE=$DIR/pushgateway.store
PG_MARKER="--persistence.file=$PG_STORE"
AUTH_STORE=$DIR/pushgateway-auth.store
AUTH_MARKER="--persistence.file=$AUTH_STORE"
AUTH_WEB_CONFIG=$DIR/pushgateway-auth-web.yml
# A test password, nothing real: bcrypt (cost 4) of `p@ss/w0rd:test`, whose @ / : the URL must percent-encode.
AUTH_USER=migrate
AUTH_PASSWORD='p@ss/w0rd:test'
AUTH_HASH='$2b$04$1OUdi3t5BgSrcCxx7bLiOOwokP8g9.b1xMTaSTcSZvthvicE2CncG'

# The helpers the servers share (messages, the run lock, apt, PIDs, stop_pid), speaking as this script.
SCRIPT_NAME=prometheus.sh
RUN_DIR=$DIR
IS_ROOT=0
[[ $(id -u) == 0 ]] && IS_ROOT=1
# shellcheck source=../servers/common.sh
source "$ROOT/scripts/servers/common.sh"

# ready PORT [USER:PASSWORD]
ready() { curl -fsS --max-time 2 ${2:+--user "$2"} "http://127.0.0.1:$1/-/ready" >/dev/null 2>&1; }

install() {
  local pkgs=()
  [[ -x $PROMETHEUS_BIN && -x $PROMTOOL_BIN ]] || pkgs+=(prometheus)
  [[ -x $PUSHGATEWAY_BIN ]] || pkgs+=(prometheus-pushgateway)
  command -v curl >/dev/null || pkgs+=(curl ca-certificates)
  command -v ss >/dev/null || pkgs+=(iproute2)
  # The packages' init scripts must not start the daemons with Debian's configuration (port 9090 would be
  # taken by a Prometheus that loads no rules of ours): with RUNLEVEL=1 invoke-rc.d starts nothing.
  ((${#pkgs[@]} == 0)) || RUNLEVEL=1 apt_install "${pkgs[@]}"
}

write_config() { # writes $PROM_CONFIG; returns 0 when it changed
  local new=$DIR/prometheus.yml.new
  cat >"$new" <<EOF
# Written by scripts/tools/prometheus.sh; rewritten at every \`up\`.
global:
  scrape_interval: 1s
  evaluation_interval: 1s
rule_files:
  - $RULES
scrape_configs:
  - job_name: pushgateway
    # The pushed job/service labels are the ones the alert names, not the scrape's.
    honor_labels: true
    scrape_interval: 1s
    static_configs:
      - targets: ['127.0.0.1:$PUSHGATEWAY_PORT']
EOF
  if cmp -s "$new" "$PROM_CONFIG"; then rm -f "$new"; return 1; fi
  mv "$new" "$PROM_CONFIG"
}

# start NAME PORT PIDFILE MARKER CMD...: starts CMD in the background unless our process runs already.
# READY_AUTH=USER:PASSWORD for a daemon that asks for basic auth.
start() {
  local name=$1 port=$2 pidfile=$3 marker=$4 pid deadline t
  shift 4
  t=$(now)
  pid=$(read_pid "$pidfile")
  if [[ -n "$pid" ]] && cmdline_has "$pid" "$marker"; then
    ready "$port" "${READY_AUTH:-}" && { echo "$name: already running (pid $pid) on 127.0.0.1:$port"; return; }
    note "$name: pid $pid (ours) runs but does not answer yet; waiting for it"
  else
    if ready "$port" "${READY_AUTH:-}"; then
      die "$name: 127.0.0.1:$port answers but was not started by this script ($(port_owner "$port")); stop it first"
    fi
    port_in_use "$port" && die "$name: port $port is taken: $(port_owner "$port")"
    nohup "$@" >"$DIR/$name.log" 2>&1 </dev/null 9>&- &
    pid=$!
    echo "$pid" >"$pidfile"
  fi
  deadline=$((SECONDS + START_TIMEOUT_S))
  until ready "$port" "${READY_AUTH:-}"; do
    if ! proc_running "$pid" || ((SECONDS >= deadline)); then
      echo "---- $DIR/$name.log" >&2; tail -n 25 "$DIR/$name.log" >&2 || true
      proc_running "$pid" && die "$name (pid $pid) did not answer on 127.0.0.1:$port within ${START_TIMEOUT_S}s"
      die "$name exited during start-up (log above)"
    fi
    sleep 0.1
  done
  echo "$name: started (pid $pid) on 127.0.0.1:$port in $(since "$t")s"
}

# Prometheus must have loaded the alert before a test relies on it (a reload is asynchronous).
wait_rules() {
  local deadline=$((SECONDS + START_TIMEOUT_S))
  until curl -fsS --max-time 2 "http://127.0.0.1:$PROMETHEUS_PORT/api/v1/rules" 2>/dev/null | grep -q '"MigrationFailed"'; do
    ((SECONDS < deadline)) || die "prometheus did not load $RULES within ${START_TIMEOUT_S}s (log: $DIR/prometheus.log)"
    sleep 0.2
  done
}

up() {
  local changed=0 pid
  take_lock
  install
  mkdir -p "$DIR/data"
  write_config && changed=1
  start pushgateway "$PUSHGATEWAY_PORT" "$DIR/pushgateway.pid" "$PG_MARKER" \
    "$PUSHGATEWAY_BIN" "--web.listen-address=127.0.0.1:$PUSHGATEWAY_PORT" "$PG_MARKER" \
    --persistence.interval=5m
  printf 'basic_auth_users:\n  %s: %s\n' "$AUTH_USER" "$AUTH_HASH" >"$AUTH_WEB_CONFIG"
  READY_AUTH="$AUTH_USER:$AUTH_PASSWORD" start pushgateway-auth "$AUTH_PUSHGATEWAY_PORT" "$DIR/pushgateway-auth.pid" \
    "$AUTH_MARKER" "$PUSHGATEWAY_BIN" "--web.listen-address=127.0.0.1:$AUTH_PUSHGATEWAY_PORT" "$AUTH_MARKER" \
    "--web.config.file=$AUTH_WEB_CONFIG"
  pid=$(read_pid "$DIR/prometheus.pid")
  if [[ $changed == 1 && -n "$pid" ]] && cmdline_has "$pid" "$PROM_MARKER"; then
    # Another checkout's rules path, or new ports: SIGHUP makes Prometheus read its configuration again.
    kill -HUP "$pid"
    echo "prometheus: configuration changed, reloaded (pid $pid)"
  fi
  start prometheus "$PROMETHEUS_PORT" "$DIR/prometheus.pid" "$PROM_MARKER" \
    "$PROMETHEUS_BIN" "$PROM_MARKER" "--storage.tsdb.path=$DIR/data" \
    "--web.listen-address=127.0.0.1:$PROMETHEUS_PORT" --storage.tsdb.retention.time=1d
  wait_rules
}

stop() { # stop NAME PIDFILE MARKER
  local name=$1 pidfile=$2 marker=$3 pid
  pid=$(read_pid "$pidfile")
  if [[ -z "$pid" ]] || ! cmdline_has "$pid" "$marker"; then
    echo "$name: not running (not started by this script)"
    rm -f "$pidfile"
    return
  fi
  stop_pid "$name" "$pid" "$marker"
  rm -f "$pidfile"
}

status() {
  local name port auth
  for name in pushgateway pushgateway-auth prometheus; do
    port=$PUSHGATEWAY_PORT auth=
    [[ $name == prometheus ]] && port=$PROMETHEUS_PORT
    [[ $name == pushgateway-auth ]] && port=$AUTH_PUSHGATEWAY_PORT auth="$AUTH_USER:$AUTH_PASSWORD"
    if ready "$port" "$auth"; then
      echo "$name: up on 127.0.0.1:$port (pid $(read_pid "$DIR/$name.pid"))"
    else
      echo "$name: down on 127.0.0.1:$port"
    fi
  done
}

check() {
  [[ -x $PROMTOOL_BIN ]] || { take_lock; install; }
  "$PROMTOOL_BIN" check rules "$RULES"
  "$PROMTOOL_BIN" test rules "$RULES_TEST"
}

usage() { awk 'NR == 1 { next } /^#/ { sub(/^# ?/, ""); print; next } { exit }' "${BASH_SOURCE[0]}"; }

cmd=${1:-up}
[[ $# -gt 0 ]] && shift
[[ $# == 0 ]] || die "$cmd takes no arguments"
case "$cmd" in
  up) up ;;
  check) check ;;
  status) status ;;
  down) take_lock; stop prometheus "$DIR/prometheus.pid" "$PROM_MARKER"; stop pushgateway "$DIR/pushgateway.pid" "$PG_MARKER"
    stop pushgateway-auth "$DIR/pushgateway-auth.pid" "$AUTH_MARKER" ;;
  -h | --help | help) usage ;;
  *) usage >&2; exit 2 ;;
esac
