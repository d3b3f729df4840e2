#!/usr/bin/env bash
# shellcheck disable=SC2329  # cleanup/signal functions are invoked from traps
# `make es`: run only the dev Elasticsearch (data in .data/elasticsearch).
#
#   scripts/es-dev.sh          start it (or reuse a running one) and wait for Ctrl-C
#   scripts/es-dev.sh stop     stop the dev Elasticsearch started by our scripts
#   scripts/es-dev.sh status   say whether it is running
#
# Environment: ES_PORT (default 9200), ES_HEAP (default 512m).
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$SB_ROOT"

port="${ES_PORT:-9200}"
case "${1:-run}" in
  stop)
    es_stop "$ES_DEV_PIDFILE"
    exit 0
    ;;
  status)
    if es_pid_alive "$ES_DEV_PIDFILE"; then
      if es_healthy "$port"; then
        say "dev Elasticsearch running (pid $(cat "$ES_DEV_PIDFILE")), healthy on http://127.0.0.1:$port"
      else
        say "dev Elasticsearch running (pid $(cat "$ES_DEV_PIDFILE")), but not healthy on port $port"
      fi
      exit 0
    fi
    say "dev Elasticsearch is not running"
    exit 1
    ;;
  run) ;;
  *) die "usage: scripts/es-dev.sh [stop|status]" ;;
esac

es_download
ES_DEV_STARTED=0
cleanup() {
  local rc=$?
  trap '' INT TERM HUP
  trap - EXIT
  if [[ "$ES_DEV_STARTED" == 1 ]]; then
    es_stop "$ES_DEV_PIDFILE"
  fi
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 0' INT TERM HUP

es_dev_ensure "$port"
if [[ "$ES_DEV_STARTED" != 1 ]]; then
  say "it was already running; leaving it alone (stop it with: scripts/es-dev.sh stop)"
  exit 0
fi
say "Elasticsearch: http://127.0.0.1:$port  logs: ${ES_DEV_LOG#"$SB_ROOT"/}  -- press Ctrl-C to stop"
pid="$(cat "$ES_DEV_PIDFILE")"
while es_pid_alive "$ES_DEV_PIDFILE"; do
  sleep 1 &
  wait $! || true
done
warn "Elasticsearch (pid $pid) exited on its own; last lines of ${ES_DEV_LOG#"$SB_ROOT"/}:"
tail -n 20 "$ES_DEV_LOG" >&2 || true
exit 1
