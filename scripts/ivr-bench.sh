#!/usr/bin/env bash
# `make bench-ivr`: the voice IVR under load (docs/benchmarks.md, "Voice IVR").
#
# Runs `switchboard serve --ivr` (the demo flow, the shipped models, a
# throwaway Elasticsearch, a static order system) and calls it with SIPp:
#
#   1. load: IVR_CALLS concurrent calls (default 60), started IVR_RATE per
#      second (default 2), IVR_TOTAL in all (default 3 x IVR_CALLS). Each
#      caller asks for its order in its own words, says the ten-digit order
#      number, hears the status and hangs up after 28 s: two recognitions
#      (VAD + ASR + intent model) per call. Measured: SIPp's failed calls,
#      the server's CPU per call in the steady state (/proc), turn latency
#      p50/p95 from the call records (caller's end of speech to the first
#      response packet), playout underruns and dropped frames (/metrics),
#      and how many calls were served end to end;
#      The callers' speech is espeak-ng with pink line noise under it
#      (IVR_NOISE, default 0.01; 0 for digital silence between words).
#   2. call setup: short calls (INVITE, ACK, 250 ms, BYE) at increasing
#      rates (IVR_SETUP_RATES, default "20 50 100") for 10 s each: failed
#      calls and SIPp's INVITE to 200 OK response time.
#
# Output: .data/bench/ivr/report.md (and the raw files beside it).
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
SB_LOG_TAG=bench-ivr
cd "$SB_ROOT"
export OMP_WAIT_POLICY="${OMP_WAIT_POLICY:-PASSIVE}"

apt_ensure "${SB_APT_PACKAGES[@]}"
need_cmd python3
es_download
ort_download
vad_download
go_env_setup
go build -o .cache/bin/switchboard ./cmd/switchboard
sb="$SB_ROOT/.cache/bin/switchboard"

calls="${IVR_CALLS:-60}"
rate="${IVR_RATE:-2}"
total="${IVR_TOTAL:-$((calls * 3))}"
setup_rates="${IVR_SETUP_RATES:-20 50 100}"
noise="${IVR_NOISE:-0.01}" # pink line noise amplitude (0.01: about -40 dBFS); 0 for none
out="$SB_DATA/bench/ivr"
mkdir -p "$out"
rm -f "$out"/*.csv "$out"/*.log

tmp="$(mktemp -d "${TMPDIR:-/tmp}/switchboard-ivr-bench.XXXXXX")"
chmod 755 "$tmp"
es_pidfile="$tmp/es.pid"
pids=()
cleanup() {
  local rc=$?
  trap '' INT TERM HUP
  trap - EXIT
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  # Only our own children: a bare wait would also wait for Elasticsearch,
  # which es_stop ends next.
  for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
  es_stop "$es_pidfile" || true
  rm -rf "$tmp"
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

es_port="$(free_port)"
es_start "$tmp/es-data" "$es_port" "$tmp/es.log" "$es_pidfile"

# The order system: a static file server is a real HTTP server.
mkdir -p "$tmp/www/orders"
printf '{"status_text":"运输中","delivery":{"eta_date":"十一月二十六日"}}' >"$tmp/www/orders/1234567890"
orders_port="$(free_port)"
python3 -m http.server "$orders_port" --bind 127.0.0.1 --directory "$tmp/www" >/dev/null 2>&1 &
pids+=($!)

# The caller: 1.5 s of quiet, a request in its own words, 2.5 s, the order
# number, then quiet until it hangs up.
say "synthesising the caller's audio (espeak-ng, sox)"
espeak-ng -v cmn -w "$tmp/req.wav" "我想查一下我的订单到哪了"
espeak-ng -v cmn -w "$tmp/num.wav" "一二三四五六七八九零"
sox "$tmp/req.wav" -r 8000 -c 1 "$tmp/req8.wav" pad 1.5 2.5
sox "$tmp/num.wav" -r 8000 -c 1 "$tmp/num8.wav" pad 0 30
if [[ "$noise" == 0 ]]; then
  sox "$tmp/req8.wav" "$tmp/num8.wav" -e u-law "$tmp/caller.wav"
else
  # Line noise under the whole call, so that the VAD hears no digital silence.
  sox "$tmp/req8.wav" "$tmp/num8.wav" "$tmp/clean.wav"
  sox -n -r 8000 -c 1 "$tmp/noise.wav" synth "$(soxi -D "$tmp/clean.wav")" pinknoise vol "$noise"
  sox -m "$tmp/clean.wav" "$tmp/noise.wav" -e u-law "$tmp/caller.wav"
fi
sox -n -r 8000 -c 1 -e u-law "$tmp/silence.wav" trim 0 2

sed 's/max_wait: 3m/max_wait: 5s/' ivr/flows/ecommerce.yaml >"$tmp/flow.yaml"
sip_port="$(free_port)"
http_port="$(free_port)"
cat >"$tmp/switchboard.yaml" <<YAML
logs: {ship_to_elasticsearch: false}
ivr:
  enabled: true
  flow: $tmp/flow.yaml
  sip: {addr: "127.0.0.1:$sip_port", invite_rate: 1000, invite_burst: 1000}
  prompts_dir: $SB_CACHE/prompts
  recordings: {dir: $tmp/recordings, retention: 1h}
  systems:
    orders: {url: "http://127.0.0.1:$orders_port"}
  agents:
    groups: [general, logistics, returns]
YAML

say "starting switchboard serve --ivr (SIP 127.0.0.1:$sip_port)"
"$sb" serve --config "$tmp/switchboard.yaml" --es-url "http://127.0.0.1:$es_port" --addr "127.0.0.1:$http_port" \
  --log-level warn --onnxruntime-lib "$ORT_LIB" >"$out/serve.log" 2>&1 &
sb_pid=$!
pids+=("$sb_pid")
for _ in $(seq 1 300); do
  grep -q "Switchboard is running" "$out/serve.log" && break
  kill -0 "$sb_pid" 2>/dev/null || die "serve exited: $(tail -20 "$out/serve.log")"
  sleep 1
done
grep -q "Switchboard is running" "$out/serve.log" || die "serve did not start in 300 s"
secret="$(sed -n 's/.*client_secret: \([^ ]*\).*/\1/p' "$out/serve.log" | head -1)"

cp scripts/ivr-bench/ivr_load.xml scripts/ivr-bench/ivr_setup.xml "$tmp/"
cp "$tmp/caller.wav" "$tmp/silence.wav" "$out/"

# CPU and active calls, once a second, while SIPp runs.
sample() {
  local hz
  hz="$(getconf CLK_TCK)"
  while kill -0 "$sb_pid" 2>/dev/null; do
    local stat active
    stat="$(cut -d' ' -f14,15 "/proc/$sb_pid/stat" 2>/dev/null || echo "0 0")"
    active="$(curl -fsS "http://127.0.0.1:$http_port/metrics" 2>/dev/null | awk '/^switchboard_ivr_active_calls /{print $2}')"
    echo "$(date +%s.%N) ${stat% *} ${stat#* } $hz ${active:-0}"
    sleep 1
  done
}
sample >"$out/samples.txt" &
pids+=($!)

say "load: $total calls, $rate new per second, at most $calls at once"
(cd "$tmp" && sipp "127.0.0.1:$sip_port" -sf ivr_load.xml -t u1 -m "$total" -r "$rate" -l "$calls" \
  -p "$(free_port)" -i 127.0.0.1 -mi 127.0.0.1 -mp "$(free_port)" -set caller load \
  -timeout $((total / rate + 120))s -trace_stat -stf "$out/load_stat.csv" -fd 5 -nostdin >/dev/null 2>&1 ||
  true) # SIPp exits non-zero when any call failed; the report counts them
sleep 3
curl -fsS "http://127.0.0.1:$http_port/metrics" >"$out/metrics.txt"

for r in $setup_rates; do
  say "call setup: $r calls/s for 10 s"
  (cd "$tmp" && sipp "127.0.0.1:$sip_port" -sf ivr_setup.xml -t u1 -m $((r * 10)) -r "$r" -l $((r * 3)) \
    -p "$(free_port)" -i 127.0.0.1 -mi 127.0.0.1 -mp "$(free_port)" -set caller "setup$r" \
    -timeout 60s -trace_stat -stf "$out/setup_${r}_stat.csv" -fd 1 -nostdin >/dev/null 2>&1 || true)
done

token="$(curl -fsS -u "admin:$secret" -d grant_type=client_credentials "http://127.0.0.1:$http_port/oauth/token" |
  python3 -c 'import json,sys; print(json.load(sys.stdin)["access_token"])')"
curl -fsS -XPOST "http://127.0.0.1:$es_port/switchboard-calls/_refresh" >/dev/null
python3 - "$out" "$http_port" "$token" "$calls" "$rate" "$total" "$setup_rates" <<'PY'
import csv, json, math, sys, urllib.request
out, port, token, calls, rate, total, setup_rates = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4]), float(sys.argv[5]), int(sys.argv[6]), sys.argv[7].split()

def api(path):
    req = urllib.request.Request(f"http://127.0.0.1:{port}{path}", headers={"Authorization": "Bearer " + token})
    return json.load(urllib.request.urlopen(req))

def last_row(path):
    with open(path, newline="") as f:
        rows = list(csv.reader(f, delimiter=";"))
    return dict(zip(rows[0], rows[-1]))

def pct(xs, p):
    xs = sorted(xs)
    if not xs:
        return float("nan")
    k = max(0, math.ceil(p / 100 * len(xs)) - 1)
    return xs[k]

# Steady state: every sample with at least 90% of the target concurrency.
samples = [l.split() for l in open(f"{out}/samples.txt") if l.strip()]
steady = [(float(t), int(u) + int(s), int(hz), float(a)) for t, u, s, hz, a in samples if float(a) >= 0.9 * calls]
cpu_cores = per_call = mean_active = float("nan")
if len(steady) >= 2:
    (t0, c0, hz, _), (t1, c1, _, _) = steady[0], steady[-1]
    cpu_cores = (c1 - c0) / hz / (t1 - t0)
    mean_active = sum(a for *_, a in steady) / len(steady)
    per_call = cpu_cores / mean_active

records = []
for off in range(0, 10000, 100):
    page = api(f"/api/v1/calls?size=100&offset={off}")
    records += page["calls"]
    if off + 100 >= page["total"]:
        break
load = [r for r in records if r["caller"].startswith("sip:load@")]
served = [r for r in load if any(s["node"] == "order_answer" for s in r["path"])]
lat = [g["latency_ms"] for r in load for g in r.get("recognitions") or [] if g.get("latency_ms") and not g["text"].startswith("dtmf:")]
first = [ (r.get("recognitions") or [{}])[0] for r in load ]
jump = sum(1 for g in first if g.get("intent") == "order_status" and g.get("result") == "matched")

metrics = {}
for line in open(f"{out}/metrics.txt"):
    if line.startswith("switchboard_ivr_") and not line.startswith("#"):
        k, v = line.rsplit(" ", 1)
        metrics[k] = float(v)
ls = last_row(f"{out}/load_stat.csv")

lines = ["# Voice IVR load (scripts/ivr-bench.sh)", "",
 f"- load: {total} calls, {rate:g}/s, at most {calls} at once; steady-state mean {mean_active:.1f} calls up",
 f"- SIPp: {ls.get('SuccessfulCall(C)')} successful, {ls.get('FailedCall(C)')} failed",
 f"- served end to end (order status read back): {len(served)}/{len(load)}; intent jump at the menu: {jump}/{len(load)}",
 f"- server CPU in the steady state: {cpu_cores:.2f} cores, {per_call*100:.2f}% of a core per call",
 f"- turn latency (caller's end of speech to the first response packet), n={len(lat)}: p50 {pct(lat,50):.0f} ms, p95 {pct(lat,95):.0f} ms, max {max(lat) if lat else float('nan'):.0f} ms",
 f"- playout underruns (gaps > 60 ms inside a prompt): {metrics.get('switchboard_ivr_playout_underruns_total', float('nan')):g}; caller frames dropped: {metrics.get('switchboard_ivr_frames_dropped_total', float('nan')):g}",
 "", "| setup rate (calls/s) | successful | failed | INVITE → 200 OK mean (ms) |", "|---|---|---|---|"]
for r in setup_rates:
    s = last_row(f"{out}/setup_{r}_stat.csv")
    rt = s.get("ResponseTime1(C)", "")
    try:  # hh:mm:ss:microseconds
        h, m, sec, us = (int(x) for x in rt.split(":"))
        ms = ((h * 60 + m) * 60 + sec) * 1000 + us / 1000
        rt = f"{ms:.1f}" if ms > 0 else "< 1 (SIPp's resolution is 1 ms)"
    except ValueError:
        pass
    lines.append(f"| {r} | {s.get('SuccessfulCall(C)')} | {s.get('FailedCall(C)')} | {rt} |")
report = "\n".join(lines) + "\n"
open(f"{out}/report.md", "w").write(report)
print(report)
PY
say "report: ${out#"$SB_ROOT"/}/report.md"
