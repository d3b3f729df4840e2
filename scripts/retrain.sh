#!/usr/bin/env bash
# `make retrain`: the ML engineer's monthly workflow, against the local
# Elasticsearch (the dev node of `make run`, started here if needed):
#   1. export labelled tickets (`switchboard training export --since ...`),
#   2. train the category model on them (tokenizer reused from production,
#      early stopping, fixed seed),
#   3. evaluate on the last weeks (a split by time) and, on the same data,
#      the production model,
#   4. export ONNX with a parity check (part of step 2), optionally int8,
#   5. promote only if the candidate beats production by MARGIN (FORCE=1:
#      regardless). Earlier versions stay for `switchboard-train rollback`.
#
# Environment: SINCE (default: 90 days ago), TEST_WEEKS (2), MARGIN (0.005),
# FORCE (0), ARCH (ngrams), TRAIN_ARGS (as make models), QUANTIZE (0),
# MIN_ROWS (200), ES_PORT (9200),
# MODELS (default models): the models directory to compare against and
# promote into.
# DEMO=1: first import labelled demo tickets (from the domain generator,
# spread over the last 10 weeks) so that a fresh install has data. The demo
# works on a copy of the models (unless MODELS is set): its tickets repeat
# the generator's phrasings, so its candidate looks perfect on them and
# must not replace the shipped model.
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
SB_LOG_TAG=retrain
cd "$SB_ROOT"
# Idle OpenMP threads sleep instead of spinning: on a small shared machine a
# spinning pool slowed training about 30-fold whenever anything else ran.
export OMP_WAIT_POLICY="${OMP_WAIT_POLICY:-PASSIVE}"

SB_SKIP_BUILD=0 bash scripts/setup.sh
py="$SB_ROOT/.venv/bin/python"
train() { "$py" -m switchboard_training "$@"; }
port="${ES_PORT:-9200}"
es_dev_ensure "$port"
export ES_URL="http://127.0.0.1:$port"
since="${SINCE:-$(date -u -d '90 days ago' +%F)}"
work="$SB_DATA/retrain/$(date -u +%Y%m%dT%H%M%S)"
mkdir -p "$work"
models="${MODELS:-models}"
if [[ "${DEMO:-0}" == 1 && -z "${MODELS:-}" ]]; then
  models="$work/models"
  cp -r models "$models"
  say "demo: working on a copy of the models in ${models#"$SB_ROOT"/}"
fi

if [[ "${DEMO:-0}" == 1 ]]; then
  say "importing labelled demo tickets (generated, spread over the last 10 weeks)"
  train generate --task category --out "$work/generated" --seed "${SEED:-13}" >/dev/null
  "$py" - "$work/generated/category" "$work/demo.jsonl" <<'PY'
import json, random, sys, datetime as dt, pathlib
src, out = pathlib.Path(sys.argv[1]), pathlib.Path(sys.argv[2])
rows = [json.loads(l) for f in ("train.jsonl", "test.jsonl") for l in open(src / f, encoding="utf-8")]
rnd = random.Random(7)
now = dt.datetime.now(dt.timezone.utc).replace(microsecond=0)
with open(out, "w", encoding="utf-8") as w:
    for i, r in enumerate(rows):
        text = r["text"].strip()
        subject, _, rest = text.partition("\n")
        at = now - dt.timedelta(seconds=rnd.randrange(70 * 86400))
        w.write(json.dumps({"id": f"demo-{i:06d}", "subject": subject[:200] or text[:200],
            "description": rest, "category": r["label"], "lang": r.get("lang", ""),
            "customer": "Demo customer", "created_at": at.isoformat()}, ensure_ascii=False) + "\n")
PY
  "$SB_BIN" import --mapping deploy/demo/labelled-mapping.yaml --quiet "$work/demo.jsonl"
fi

say "1/5 exporting labelled tickets since $since from $ES_URL"
"$SB_BIN" training export --since "$since" --out "$work/data.jsonl"
rows=$(wc -l <"$work/data.jsonl")
if ((rows < ${MIN_ROWS:-200})); then
  die "only $rows labelled tickets since $since; a model trained on so few would be worse than the shipped one. Label more tickets (agents' category corrections count), lower MIN_ROWS, or try DEMO=1"
fi

prod="$("$py" -c 'import json,sys; print(json.load(open(sys.argv[1] + "/manifest.json"))["tasks"]["category"]["production"])' "$models" 2>/dev/null || true)"
tok=()
[[ -n "$prod" ]] && tok=(--tokenizer "$models/category/$prod/tokenizer.json")
quant=()
[[ "${QUANTIZE:-0}" == 1 ]] && quant=(--quantize)
say "2-4/5 training category on $rows tickets (test = the last ${TEST_WEEKS:-2} weeks)"
# The time split is written out so that step 3 and the promotion judge
# candidate and production on exactly the same, newest tickets.
"$py" - "$work/data.jsonl" "$work/split" "${TEST_WEEKS:-2}" <<'PY'
import json, sys, pathlib
from switchboard_training import data
rows, _ = data.clean(data.load(sys.argv[1]))
split = data.split_time(rows, float(sys.argv[3]))
out = pathlib.Path(sys.argv[2]); out.mkdir(parents=True, exist_ok=True)
for name, part in (("train", split.train), ("test", split.test)):
    with open(out / f"{name}.jsonl", "w", encoding="utf-8") as w:
        for r in part:
            w.write(json.dumps({"id": r.id, "text": r.text, "label": r.label, "source": r.source,
                "created_at": r.created_at.isoformat() if r.created_at else None, "lang": r.lang},
                ensure_ascii=False) + "\n")
print(f"time split: {len(split.train)} train, {len(split.test)} test (cutoff {split.details['cutoff']})", file=sys.stderr)
PY
read -r -a train_args <<<"${TRAIN_ARGS:---embed-dim 64 --lr 1e-3 --dropout 0.5 --vocab-size 2000 --weight-decay 0.1}"
summary="$(train train --task category --arch "${ARCH:-ngrams}" "${train_args[@]}" --data "$work/split/train.jsonl" \
  --test "$work/split/test.jsonl" --source "switchboard training export --since $since" \
  --out "$models" "${tok[@]}" "${quant[@]}")"
echo "$summary"
version="$("$py" -c 'import json,sys; print(json.loads(sys.stdin.read())["version"])' <<<"$summary")"
if [[ -n "$prod" ]]; then
  say "3/5 candidate $version vs production $prod on the same held-out weeks"
  train compare --candidate "$models/category/$version" --production "$models/category/$prod" --data "$work/split/test.jsonl"
fi
force=()
[[ "${FORCE:-0}" == 1 ]] && force=(--force)
say "5/5 promotion (margin ${MARGIN:-0.005})"
if train promote --models "$models" --task category --version "$version" \
  --data "$work/split/test.jsonl" --margin "${MARGIN:-0.005}" "${force[@]}"; then
  say "promoted in ${models#"$SB_ROOT"/}; a server serving that directory picks it up within seconds (GET /api/v1/nlu/models)"
else
  warn "category $version was not promoted; production stays $prod. FORCE=1 promotes anyway"
fi
say "work files: ${work#"$SB_ROOT"/}"
