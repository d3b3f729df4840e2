#!/usr/bin/env bash
# `make bench-asr`: the speech benchmarks of docs/benchmarks.md, on the
# production ASR model (models/manifest.json) and the held-out synthetic sets.
#
#   1. the evaluation sets .data/asr/{test,intent_test,digits_test} (synthesised
#      by training/, `switchboard-train asr synth`, if missing: ~6 min);
#   2. `switchboard asr eval` on each, streaming in 20 ms packets through VAD,
#      features, model and beam search, one thread: CER/WER by condition,
#      end-to-end intent accuracy (ASR then the NLU intent model), digit-string
#      accuracy with the digit grammar, real-time factor, end-of-speech latency;
#   3. the same CER/WER from NIST sclite on the same trn files (cross-check);
#   4. capacity: ASR_STREAMS live calls at once (default 200), each streaming
#      test-set recordings in real time (20 ms packets), VAD and ASR on every
#      one: how late packets are processed, and how many miss their 20 ms;
#   5. go test -bench BenchmarkStream (RTF of one call, with and without partials).
#
# Environment: ASR_DATA (default .data/asr), ASR_LIMIT (rows per set, 0 = all),
# ASR_STREAMS (default 200). Output in .data/bench/asr/.
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
SB_LOG_TAG=bench-asr
cd "$SB_ROOT"
export OMP_WAIT_POLICY="${OMP_WAIT_POLICY:-PASSIVE}"

apt_ensure "${SB_APT_PACKAGES[@]}"
ort_download
vad_download
go_env_setup
export ONNXRUNTIME_LIB="$ORT_LIB"
go build -o .cache/bin/switchboard ./cmd/switchboard
sb=.cache/bin/switchboard

data="${ASR_DATA:-$SB_DATA/asr}"
limit="${ASR_LIMIT:-0}"
streams="${ASR_STREAMS:-200}"
out="$SB_DATA/bench/asr"
mkdir -p "$out"

if [[ ! -f "$data/test/manifest.jsonl" || ! -f "$data/intent_test/manifest.jsonl" || ! -f "$data/digits_test/manifest.jsonl" ]]; then
  venv_ensure
  say "synthesising the evaluation sets into ${data#"$SB_ROOT"/} (training/, seed 13)"
  "$SB_ROOT/.venv/bin/python" -m switchboard_training asr synth --data "$data"
fi

sclite_bin() {
  if command -v sclite >/dev/null 2>&1; then echo sclite
  elif [[ -x /usr/lib/sctk/bin/sclite ]]; then echo /usr/lib/sctk/bin/sclite
  elif command -v sctk >/dev/null 2>&1; then echo "sctk sclite"
  fi
}

# sclite_rate REF HYP -- sclite's Err (%) on the Sum/Avg line
sclite_rate() {
  local bin
  bin="$(sclite_bin)"
  [[ -n "$bin" ]] || { echo "sclite not installed"; return 0; }
  [[ -s "$1" ]] || { echo "no rows"; return 0; }
  # -e utf-8: Chinese units; the trn files already hold one unit per token
  $bin -r "$1" trn -h "$2" trn -i rm -e utf-8 -o sum stdout 2>/dev/null |
    awk -F'|' '/Sum\/Avg/ { n = split($4, a, " "); print "Err " a[5] "% (sub " a[2] "%, del " a[3] "%, ins " a[4] "%)" }'
}

{
  echo "# switchboard ASR benchmark, $(date -u +%FT%TZ), $(nproc) cores"
  for set in test intent_test digits_test; do
    echo
    echo "## $set"
    extra=()
    [[ "$set" == intent_test ]] && extra=(--intents)
    "$sb" asr eval --manifest "$data/$set/manifest.jsonl" --out "$out/$set" --limit "$limit" --threads 1 "${extra[@]}"
    echo "sclite CER: $(sclite_rate "$out/$set/ref.cer.trn" "$out/$set/hyp.cer.trn")"
    echo "sclite WER: $(sclite_rate "$out/$set/ref.wer.trn" "$out/$set/hyp.wer.trn")"
  done
  echo
  echo "## capacity: $streams live calls (test set, real-time pacing)"
  "$sb" asr eval --manifest "$data/test/manifest.jsonl" --limit $((2 * streams)) --threads 1 --parallel "$streams" --realtime |
    grep -E "real-time|real time|speech ->"
  echo
  echo "## go test -bench BenchmarkStream ./nlu/asr/"
  go test -run '^$' -bench BenchmarkStream -benchtime 20x ./nlu/asr/ | grep -E "Benchmark|ok"
} 2>&1 | tee "$out/results.txt"
say "results in ${out#"$SB_ROOT"/}/results.txt"
