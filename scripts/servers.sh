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
#
# The work lives in scripts/servers/: common.sh (helpers), postgres.sh, clickhouse.sh, cluster.sh.
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


for part in common postgres clickhouse cluster; do
  # shellcheck source=/dev/null
  source "$HERE/servers/$part.sh"
done

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
