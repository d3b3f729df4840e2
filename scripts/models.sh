#!/usr/bin/env bash
# `make models`: rebuild the default models shipped in models/ from scratch,
# reproducibly (fixed seeds), on CPU:
#   1. generate the domain training data (training/switchboard_training/generate.py)
#      into .data/training/generated/<task>/{train,test}.jsonl, test = held-out templates;
#   2. train category, intent and sentiment, evaluate on the held-out templates,
#      export ONNX (parity-checked) and write each model card;
#   3. convert the pretrained MiniLM sentence encoder into the embed model;
#   4. promote the new versions in models/manifest.json (a version only
#      replaces production if it beats it; FORCE=1 promotes regardless);
#   5. build the speech model models/asr/<ASR_VERSION> (training/README.md,
#      "Speech recognition"): synthesised telephone speech, CTC training
#      within ASR_MINUTES (55), ONNX export, evaluation. About 62 minutes on
#      2 cores (measured for 2026-11-24.1: synth 5.9, features 0.5, train 52
#      with ASR_MINUTES=52, export+evaluate 0.3).
#
# Environment: ARCH (default ngrams), TRAIN_ARGS (the recipe's
# hyperparameters), SEED (13), FORCE (0), TASKS ("category intent
# sentiment"), EMBED (1: also rebuild the embed model), ASR (1: also build
# the speech model), ASR_VERSION (today's date .1), ASR_MINUTES (55).
#
# The recipe is what won on the held-out templates (docs/benchmarks.md):
# fastText-style n-gram bags over a small (2,000) WordPiece vocabulary
# generalise to unseen phrasings better than TextCNN or the transformer.
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
SB_LOG_TAG=models
cd "$SB_ROOT"
# Idle OpenMP threads sleep instead of spinning: on a small shared machine a
# spinning pool slowed training about 30-fold whenever anything else ran.
export OMP_WAIT_POLICY="${OMP_WAIT_POLICY:-PASSIVE}"

venv_ensure
py="$SB_ROOT/.venv/bin/python"
[[ -x "$py" ]] || die "no Python venv: run make setup"
train() { "$py" -m switchboard_training "$@"; }

arch="${ARCH:-ngrams}"
read -r -a train_args <<<"${TRAIN_ARGS:---embed-dim 64 --lr 1e-3 --dropout 0.5 --vocab-size 2000 --weight-decay 0.1}"
seed="${SEED:-13}"
data="$SB_DATA/training/generated"
read -r -a tasks <<<"${TASKS:-category intent sentiment}"
force=()
[[ "${FORCE:-0}" == 1 ]] && force=(--force)
start=$SECONDS

say "generating domain data (seed $seed) into ${data#"$SB_ROOT"/}"
train generate --task all --out "$data" --seed "$seed"

for task in "${tasks[@]}"; do
  say "training $task ($arch)"
  extra=()
  [[ "$task" == intent ]] && extra=(--oos-label out_of_scope)
  # Escalation flags P(negative) at the point where 85% of the flagged are
  # really negative: at 90% the threshold sat above what even plainly
  # furious messages scored, and a missed angry customer costs more than a
  # supervisor's glance at a merely unhappy one.
  [[ "$task" == sentiment ]] && extra=(--escalation-precision 0.85)
  summary="$(train train --task "$task" --arch "$arch" --seed "$seed" "${train_args[@]}" \
    --data "$data/$task/train.jsonl" --test "$data/$task/test.jsonl" \
    --out models "${extra[@]}")"
  echo "$summary"
  version="$("$py" -c 'import json,sys; print(json.loads(sys.stdin.read())["version"])' <<<"$summary")"
  say "promoting $task $version"
  train promote --models models --task "$task" --version "$version" \
    --data "$data/$task/test.jsonl" "${force[@]}" ||
    warn "$task $version was not promoted (see above); production is unchanged"
done

if [[ "${EMBED:-1}" == 1 ]]; then
  version="minilm-l6-int8.1"
  if [[ -f "models/embed/$version/model.onnx" ]]; then
    say "embed model $version exists; keeping it (delete models/embed/$version to rebuild)"
  else
    say "converting the pretrained MiniLM encoder into models/embed/$version"
    train pretrained-embed --out models --version "$version"
  fi
  train promote --models models --task embed --version "$version" --force
fi
if [[ "${ASR:-1}" == 1 ]]; then
  asr_version="${ASR_VERSION:-$(date -u +%Y-%m-%d).1}"
  if [[ -f "models/asr/$asr_version/model.onnx" ]]; then
    say "speech model $asr_version exists; keeping it (delete models/asr/$asr_version to rebuild)"
  else
    say "building the speech model models/asr/$asr_version (about 62 min; log in .data/asr/all.log)"
    mkdir -p "$SB_DATA/asr"
    train asr all --data "$SB_DATA/asr" --out "models/asr/$asr_version" --seed "$seed" \
      --max-minutes "${ASR_MINUTES:-55}" --quiet 2> >(tee "$SB_DATA/asr/all.log" >&2)
  fi
fi
say "models rebuilt in $((SECONDS - start)) s; manifest:"
cat models/manifest.json >&2
