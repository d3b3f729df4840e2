#!/usr/bin/env bash
# shellcheck disable=SC2329  # cleanup/signal functions are invoked from traps
# `make run`: set everything up, start the dev Elasticsearch, run the server.
#
#   scripts/run.sh [-- EXTRA SERVER ARGS...]
#
# Environment:
#   ES_URL      use this Elasticsearch instead of starting one (read by the binary)
#   ES_PORT     port of the dev Elasticsearch (default 9200)
#   ES_HEAP     Elasticsearch heap (default 512m)
#   SERVER_STOP_TIMEOUT  seconds to wait for the server after SIGTERM (default 30)
#
# Ctrl-C / SIGTERM stop the server, then the Elasticsearch this script started.
# The exit status is the server's.
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$SB_ROOT"

if [[ "${1:-}" == "--" ]]; then
  shift
fi
extra_args=("$@")
SERVER_STOP_TIMEOUT="${SERVER_STOP_TIMEOUT:-30}"

bash "$SB_ROOT/scripts/setup.sh"
[[ -x "$SB_BIN" ]] || die "${SB_BIN#"$SB_ROOT"/} was not built (does cmd/switchboard exist?)"

export ONNXRUNTIME_LIB="$ORT_LIB"
export SWITCHBOARD_DOCS_ASSETS_DIR="$SWAGGER_DIR"
mkdir -p "$SB_DATA"

server_pid=""
server_rc=0
ES_DEV_STARTED=0

# stop_server SIGNAL -- signal the server, wait for it (SIGKILL after a timeout),
# and put its exit status in server_rc.
stop_server() {
  [[ -n "$server_pid" ]] || return 0
  if _sb_running "$server_pid"; then
    say "stopping switchboard (pid $server_pid, SIG$1)"
    kill -"$1" "$server_pid" 2>/dev/null || true
    local start=$SECONDS
    while _sb_running "$server_pid"; do
      if ((SECONDS - start >= SERVER_STOP_TIMEOUT)); then
        warn "switchboard did not exit within ${SERVER_STOP_TIMEOUT} s; sending SIGKILL"
        kill -KILL "$server_pid" 2>/dev/null || true
        break
      fi
      sleep 0.2 || true # a second Ctrl-C kills the sleep; keep waiting
    done
  fi
  server_rc=0
  wait "$server_pid" 2>/dev/null || server_rc=$?
  server_pid=""
}

cleanup() {
  local rc=$?
  trap 'say "already shutting down, please wait..."' INT TERM HUP
  trap - EXIT
  stop_server TERM
  if [[ "$ES_DEV_STARTED" == 1 ]]; then
    es_stop "$ES_DEV_PIDFILE"
  fi
  exit "$rc"
}

on_signal() {
  trap 'say "already shutting down, please wait..."' INT TERM HUP
  say "caught SIG$1, shutting down"
  if [[ -n "$server_pid" ]]; then
    stop_server "$1"
    exit "$server_rc"
  fi
  exit "$2"
}

# When output goes through a pipe (`make run | tee log`), Ctrl-C ends the
# pipe's reader too; a write to it must not kill us before cleanup has
# stopped the server and Elasticsearch.
trap '' PIPE
trap cleanup EXIT
trap 'on_signal INT 130' INT
trap 'on_signal TERM 143' TERM
trap 'on_signal HUP 129' HUP

es_args=()
if [[ -n "${ES_URL:-}" ]]; then
  say "ES_URL is set ($ES_URL); not starting a local Elasticsearch"
else
  port="${ES_PORT:-9200}"
  es_dev_ensure "$port"
  es_args=(--es-url "http://127.0.0.1:$port")
fi

# The voice IVR answers SIP on 127.0.0.1:5060 (IVR=0 turns it off).
ivr_arg="--ivr"
[[ "${IVR:-1}" == 0 ]] && ivr_arg=""
say "starting: ${SB_BIN#"$SB_ROOT"/} serve ${es_args[*]:+${es_args[*]} }$ivr_arg ${extra_args[*]}"
# Own session, so a terminal Ctrl-C reaches it only once (forwarded by us).
setsid "$SB_BIN" serve "${es_args[@]}" $ivr_arg "${extra_args[@]}" &
server_pid=$!

wait "$server_pid" || server_rc=$?
server_pid=""
if ((server_rc == 0)); then
  say "switchboard exited"
else
  warn "switchboard exited with status $server_rc"
fi
exit "$server_rc"
