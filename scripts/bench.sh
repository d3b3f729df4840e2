#!/usr/bin/env bash
# `make bench`: the foundation's speed benchmarks, on a throwaway Elasticsearch.
#
#   1. bulk import: `switchboard import` of N generated legacy tickets (CSV)
#      vs. a raw `_bulk` of the very same stored documents sent with curl,
#      in 1000-document requests, 3 at a time (the importer's batch size and
#      concurrency);
#   2. API latency and throughput under wrk on loopback: ticket creation and
#      full-text search over the imported tickets.
#
# Environment: BENCH_TICKETS (default 100000), BENCH_DURATION (wrk seconds,
# default 30), BENCH_CONNS (wrk connections, default 16), ES_HEAP.
# Results are printed and written to .data/bench/results.txt.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$SB_ROOT"

N="${BENCH_TICKETS:-100000}"
DUR="${BENCH_DURATION:-30}"
CONNS="${BENCH_CONNS:-16}"

apt_ensure wrk curl
es_download
go_env_setup
go build -o .cache/bin/switchboard ./cmd/switchboard
go build -o .cache/bin/benchtool ./scripts/benchtool

out=".data/bench"
mkdir -p "$out"
results="$out/results.txt"
tmp="$(mktemp -d "${TMPDIR:-/tmp}/switchboard-bench.XXXXXX")"
chmod 755 "$tmp"
es_pidfile="$tmp/es.pid"
srv_pid=""
cleanup() {
  local rc=$?
  [[ -n "$srv_pid" ]] && kill "$srv_pid" 2>/dev/null && wait "$srv_pid" 2>/dev/null || true
  es_stop "$es_pidfile" || true
  rm -rf "$tmp"
  exit "$rc"
}
trap cleanup EXIT

port="$(free_port)"
es_start "$tmp/es-data" "$port" "$tmp/es.log" "$es_pidfile"
ES="http://127.0.0.1:$port"
now() { date +%s.%N; }
rate() { python3 -c "import sys; print(f'{int(sys.argv[1])/(float(sys.argv[3])-float(sys.argv[2])):.0f}')" "$@"; }

{
  echo "# make bench, $(date -u +%Y-%m-%dT%H:%M:%SZ)"
  echo "machine: $(nproc) cores, $(free -g | awk '/Mem:/{print $2}') GiB RAM, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)"
  echo "elasticsearch: $ES_VERSION single node, heap ${ES_HEAP:-512m}, same machine"
} | tee "$results"

# 1. Import vs raw bulk -------------------------------------------------------
say "generating $N legacy tickets"
.cache/bin/benchtool gen-csv "$N" "$tmp/legacy.csv"
# A warm-up import into another prefix first, so that the measured import
# and the raw bulk after it both meet a warmed-up JVM.
say "warm-up import (20000 tickets, prefix warm)"
.cache/bin/benchtool gen-csv 20000 "$tmp/warm.csv"
.cache/bin/switchboard import --es-url "$ES" --index-prefix warm --quiet --log-level warn \
  --mapping tickets/importer/testdata/generated-mapping.yaml "$tmp/warm.csv" >/dev/null
say "switchboard import"
t0=$(now)
.cache/bin/switchboard import --es-url "$ES" --index-prefix bench --quiet --log-level warn --writers 3 \
  --mapping tickets/importer/testdata/generated-mapping.yaml "$tmp/legacy.csv" | tee -a "$results"
t1=$(now)
import_rate=$(rate "$N" "$t0" "$t1")

say "dumping the stored documents as raw bulk requests"
mkdir -p "$tmp/bulk"
curl -s -XPOST "$ES/bench-tickets/_refresh" >/dev/null
.cache/bin/benchtool dump-ndjson "$ES" bench-tickets bench-tickets-v999 "$tmp/bulk"
# The raw side writes to bench-tickets-v999: the same versioned index
# template applies to it, so both sides index into identical settings and
# mappings (analyzers included).
say "raw _bulk with curl"
t0=$(now)
ls "$tmp"/bulk/*.ndjson | xargs -P 3 -I{} curl -s -o /dev/null -w '%{http_code}\n' \
  -H 'Content-Type: application/x-ndjson' --data-binary @{} "$ES/_bulk" | sort | uniq -c > "$tmp/raw-codes"
t1=$(now)
raw_rate=$(rate "$N" "$t0" "$t1")
curl -s -XPOST "$ES/bench-tickets-v999/_refresh" >/dev/null
raw_count=$(curl -s "$ES/bench-tickets-v999/_count" | python3 -c 'import sys,json; print(json.load(sys.stdin)["count"])')
imp_count=$(curl -s "$ES/bench-tickets/_count" | python3 -c 'import sys,json; print(json.load(sys.stdin)["count"])')
{
  echo
  echo "## bulk import of $N tickets"
  echo "switchboard import: $import_rate tickets/s ($imp_count stored; wall time includes process start and CSV parsing)"
  echo "raw _bulk (curl, 1000/request, 3 parallel): $raw_rate docs/s ($raw_count stored; HTTP codes: $(tr -s ' \n' ' ' < "$tmp/raw-codes"))"
  python3 -c "import sys; print(f'ratio: {int(sys.argv[1])/int(sys.argv[2]):.0%} of raw')" "$import_rate" "$raw_rate"
} | tee -a "$results"

# 2. API latency under wrk ----------------------------------------------------
addr="127.0.0.1:$(free_port)"
.cache/bin/switchboard serve --es-url "$ES" --index-prefix bench --addr "$addr" --log-level warn >"$tmp/serve.out" 2>"$tmp/serve.err" &
srv_pid=$!
for _ in $(seq 120); do curl -sf "http://$addr/readyz" >/dev/null && break; sleep 0.5; done
secret=$(awk '/client_secret:/{print $2; exit}' "$tmp/serve.out")
[[ -n "$secret" ]] || die "no admin secret printed; server output: $(cat "$tmp/serve.out" "$tmp/serve.err")"
TOKEN=$(curl -s -u "admin:$secret" -d grant_type=client_credentials "http://$addr/oauth/token" |
  python3 -c 'import sys,json; print(json.load(sys.stdin)["access_token"])')
export TOKEN
for kind in create search; do
  say "wrk: $kind, $CONNS connections, ${DUR}s"
  wrk -t2 -c"$CONNS" -d"${DUR}s" --latency -s "scripts/wrk/$kind.lua" "http://$addr" >"$tmp/wrk-$kind.txt"
  {
    echo
    echo "## API $kind: wrk -t2 -c$CONNS -d${DUR}s --latency -s scripts/wrk/$kind.lua"
    grep -E 'Requests/sec|^ +50%|^ +99%|Non-2xx|Socket errors|requests in' "$tmp/wrk-$kind.txt"
  } | tee -a "$results"
done
say "results in $results"
