"""The `switchboard-train` command line: one subcommand per workflow step.

Bad input (files, columns, options, model directories) ends with a
one-line error and exit status 2, never a traceback; set
SWITCHBOARD_TRAIN_DEBUG=1 to see tracebacks of unexpected errors.
"""

from __future__ import annotations

import argparse
import importlib
import json
import logging
import os
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import NoReturn

PROG = "switchboard-train"

# Subcommands whose options belong to modules other engineers own: the rest
# of argv is handed to <module>.<function>(argv) unparsed.
PASSTHROUGH: dict[str, tuple[str, str, str]] = {
    "generate": ("generate", "main", "generate labelled domain data (train.jsonl/test.jsonl) for a task"),
    "pretrained-embed": ("pretrained", "main_embed", "export the pretrained MiniLM sentence embedder"),
    "golden-tokens": ("golden", "main", "write golden token ids for the Go tokenizer tests"),
    "asr": ("asr.cli", "main", "build the speech model: synth, features, train, export, evaluate, all"),
}


class UsageError(Exception):
    """UsageError is bad command-line input, reported in one line with exit status 2."""


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        raise UsageError(f"{self.prog}: {message} (see --help)")


def _positive_int(s: str) -> int:
    try:
        v = int(s)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not an integer: {s!r}") from None
    if v <= 0:
        raise argparse.ArgumentTypeError(f"must be positive: {s}")
    return v


def _nonneg_int(s: str) -> int:
    v = _positive_int(s) if s.strip() != "0" else 0
    return v


def _positive_float(s: str) -> float:
    try:
        v = float(s)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {s!r}") from None
    if not v > 0:
        raise argparse.ArgumentTypeError(f"must be positive: {s}")
    return v


def _fraction(s: str) -> float:
    v = _positive_float(s)
    if v >= 1:
        raise argparse.ArgumentTypeError(f"must be between 0 and 1: {s}")
    return v


def _unit(s: str) -> float:
    try:
        v = float(s)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {s!r}") from None
    if not 0 <= v < 1:
        raise argparse.ArgumentTypeError(f"must be in [0, 1): {s}")
    return v


def _int_list(s: str) -> list[int]:
    try:
        v = [int(x) for x in s.split(",") if x.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(f"want comma-separated integers, got {s!r}") from None
    if not v or min(v) <= 0:
        raise argparse.ArgumentTypeError(f"want positive integers, got {s!r}")
    return v


def _add_columns(p: argparse.ArgumentParser) -> None:
    p.add_argument("--text-col", metavar="NAME",
                   help="text column/field (default: the first of text, sentence, review, text_a, utterance, query)")
    p.add_argument("--label-col", metavar="NAME",
                   help="label column/field (default: the first of label, category, intent, tag, cat)")


def _add_fit(p: argparse.ArgumentParser) -> None:
    from switchboard_training.archs import ARCHITECTURES

    from switchboard_training.train import ARCH_DEFAULTS

    per_arch = "; ".join(f"{a}: " + ", ".join(f"{k} {v}" for k, v in d.items()) for a, d in ARCH_DEFAULTS.items())
    g = p.add_argument_group("model and optimisation", f"Defaults per arch: {per_arch}.")
    g.add_argument("--arch", choices=ARCHITECTURES, default="textcnn",
                   help="network: textcnn (fast, default), transformer (small, from scratch), "
                        "minilm (fine-tune the pretrained MiniLM; uses its tokenizer)")
    g.add_argument("--tokenizer", type=Path, metavar="FILE",
                   help="reuse this tokenizer.json instead of training a WordPiece vocabulary")
    g.add_argument("--vocab-size", type=_positive_int, default=8000, help="WordPiece vocabulary size (default 8000)")
    g.add_argument("--min-frequency", type=_positive_int, default=2,
                   help="a (sub)word must occur this often to enter the vocabulary (default 2)")
    g.add_argument("--max-length", type=_positive_int, default=128,
                   help="tokens per text incl. [CLS]/[SEP]; longer texts are truncated (default 128)")
    g.add_argument("--epochs", type=_positive_int, help="maximum epochs (default per arch, see below)")
    g.add_argument("--batch-size", type=_positive_int, default=32, help="training batch size (default 32)")
    g.add_argument("--lr", type=_positive_float, help="peak AdamW learning rate (default per arch, see below)")
    g.add_argument("--weight-decay", type=_unit, default=0.01, help="AdamW weight decay (default 0.01)")
    g.add_argument("--warmup", type=_unit, default=0.05,
                   help="fraction of steps with a linear learning-rate warm-up, then cosine decay (default 0.05)")
    g.add_argument("--label-smoothing", type=_unit, default=0.1, help="cross-entropy label smoothing (default 0.1)")
    g.add_argument("--patience", type=_positive_int,
                   help="stop after this many epochs without a better validation accuracy (default per arch)")
    g.add_argument("--max-minutes", type=_positive_float, default=60.0,
                   help="training time budget; the best epoch so far is kept (default 60)")
    g.add_argument("--seed", type=int, default=13, help="random seed for splits, initialisation, batches (default 13)")
    g.add_argument("--threads", type=_nonneg_int, default=0, help="torch CPU threads; 0 = torch's default")
    g.add_argument("--ensemble", type=_positive_int, default=1,
                   help="train N networks with different seeds and average their logits in one graph "
                        "(N times the training time and latency; default 1)")
    g.add_argument("--embed-dim", type=_positive_int, default=128, help="textcnn: embedding size (default 128)")
    g.add_argument("--filters", type=_positive_int, default=128, help="textcnn: filters per kernel size (default 128)")
    g.add_argument("--kernel-sizes", type=_int_list, default=[1, 2, 3, 4, 5],
                   help="textcnn: comma-separated kernel sizes; the largest is the card's min_length "
                        "(default 1,2,3,4,5: the unigram filters add ~1 point on BANKING77 over 2,3,4,5)")
    g.add_argument("--dropout", type=_unit,
                   help="dropout before the classifier (textcnn) / in every layer (transformer) (default per arch)")
    g.add_argument("--buckets", type=_positive_int, default=32749,
                   help="ngrams: hash buckets for token bigrams and trigrams (default 32749)")
    g.add_argument("--embed-dropout", type=_unit, default=0.1, help="textcnn: dropout on embeddings (default 0.1)")
    g.add_argument("--d-model", type=_positive_int, default=160, help="transformer: width (default 160)")
    g.add_argument("--layers", type=_positive_int, default=2, help="transformer: layers (default 2)")
    g.add_argument("--heads", type=_positive_int, default=4, help="transformer: attention heads (default 4)")
    g.add_argument("--val-fraction", type=_fraction, default=0.1,
                   help="share of the training rows held out for early stopping and calibration (default 0.1)")
    g.add_argument("--drop-conflicts", action="store_true",
                   help="drop texts that appear with different labels (default: keep, and count them)")
    g.add_argument("--quiet", action="store_true", help="no progress bars")


def _fit_config(a: argparse.Namespace):
    from switchboard_training.archs import ArchConfig
    from switchboard_training.train import ARCH_DEFAULTS, FitConfig

    if a.arch == "transformer" and a.d_model % a.heads:
        raise UsageError(f"--d-model {a.d_model} must be divisible by --heads {a.heads}")
    if a.tokenizer and not a.tokenizer.is_file():
        raise UsageError(f"--tokenizer {a.tokenizer}: no such file")
    d = ARCH_DEFAULTS[a.arch]
    pick = lambda name: getattr(a, name) if getattr(a, name) is not None else d[name]  # noqa: E731
    return FitConfig(
        arch=a.arch,
        arch_config=ArchConfig(embed_dim=a.embed_dim, filters=a.filters, kernel_sizes=tuple(a.kernel_sizes),
                               dropout=pick("dropout"), embed_dropout=a.embed_dropout, d_model=a.d_model,
                               layers=a.layers, heads=a.heads, buckets=a.buckets),
        tokenizer=a.tokenizer, vocab_size=a.vocab_size, min_frequency=a.min_frequency, max_length=a.max_length,
        epochs=pick("epochs"), batch_size=a.batch_size, lr=pick("lr"), weight_decay=a.weight_decay, warmup=a.warmup,
        label_smoothing=a.label_smoothing, patience=pick("patience"), max_minutes=a.max_minutes, seed=a.seed,
        threads=a.threads, ensemble=a.ensemble,
    )


def _print_json(obj: object) -> None:
    sys.stdout.write(json.dumps(obj, ensure_ascii=False, indent=2) + "\n")


def cmd_train(a: argparse.Namespace, log: logging.Logger, argv: Sequence[str]) -> int:
    from switchboard_training.train import TrainConfig, train

    if a.split != "stratified" and a.test:
        raise UsageError("--test FILE and --split are alternatives; give one")
    cfg = TrainConfig(
        data=a.data, task=a.task, out=a.out, fit=_fit_config(a), text_col=a.text_col, label_col=a.label_col,
        test=a.test, split=a.split, test_fraction=a.test_fraction, test_weeks=a.test_weeks,
        val_fraction=a.val_fraction, drop_conflicts=a.drop_conflicts, target_precision=a.target_precision,
        oos_label=a.oos_label, escalation_label=a.escalation_label, escalation_precision=a.escalation_precision,
        quantize=a.quantize, keep=a.keep, version=a.version, parity_batches=a.parity_batches,
        measure_latency=not a.no_latency, source=a.source, notes=a.notes, argv=[PROG, *argv],
    )
    d = train(cfg, log, progress=not a.quiet)
    c = json.loads((d / "card.json").read_text(encoding="utf-8"))
    m = c["metrics"]
    _print_json({"model_dir": str(d), "task": c["task"], "version": c["version"],
                 **{k: m[k] for k in ("accuracy", "macro_f1", "ece", "oos_recall", "in_scope_accuracy",
                                      "needs_review_rate", "latency_ms", "throughput_per_s") if k in m},
                 "thresholds": c["thresholds"], "onnx": c["onnx"]})
    return 0


def _load_rows(path: Path, a: argparse.Namespace):
    from switchboard_training import data

    rows, _ = data.clean(data.load(path, a.text_col, a.label_col))
    return rows


def cmd_evaluate(a: argparse.Namespace, log: logging.Logger, argv: Sequence[str]) -> int:
    from switchboard_training.evaluate import evaluate_dir, summary

    res = evaluate_dir(a.model, _load_rows(a.data, a), a.oos_label)
    _print_json(res if a.confusion else summary(res))
    return 0


def cmd_compare(a: argparse.Namespace, log: logging.Logger, argv: Sequence[str]) -> int:
    from switchboard_training.evaluate import deltas, evaluate_dir, summary

    rows = _load_rows(a.data, a)
    c = evaluate_dir(a.candidate, rows, a.oos_label)
    p = evaluate_dir(a.production, rows, a.oos_label)
    _print_json({"data": str(a.data), "candidate": {"dir": str(a.candidate), **summary(c)},
                 "production": {"dir": str(a.production), **summary(p)}, "delta": deltas(c, p)})
    return 0


def cmd_cv(a: argparse.Namespace, log: logging.Logger, argv: Sequence[str]) -> int:
    from switchboard_training.cv import cross_validate

    rows = _load_rows(a.data, a)
    if a.drop_conflicts:
        from switchboard_training import data

        rows, _ = data.clean(rows, drop_conflicts=True)
    res = cross_validate(rows, _fit_config(a), a.folds, log, a.val_fraction, a.only_folds, progress=not a.quiet)
    res["data"] = str(a.data)
    res["command"] = [PROG, *argv]
    _print_json(res)
    return 0


def cmd_promote(a: argparse.Namespace, log: logging.Logger, argv: Sequence[str]) -> int:
    from switchboard_training.promote import promote

    d = promote(a.models, a.task, a.version, log, data_file=a.data, metric=a.metric, margin=a.margin,
                force=a.force, as_candidate=a.candidate, text_col=a.text_col, label_col=a.label_col)
    out: dict[str, object] = {"promoted": d.promoted, "reason": d.reason}
    if d.candidate is not None and d.production is not None:
        out["metric"] = a.metric
        out["candidate"] = d.candidate.get(a.metric)
        out["production"] = d.production.get(a.metric)
    if d.manifest is not None:
        out["manifest"] = d.manifest["tasks"].get(a.task)
    _print_json(out)
    return 0 if d.promoted else 1


def cmd_rollback(a: argparse.Namespace, log: logging.Logger, argv: Sequence[str]) -> int:
    from switchboard_training.promote import rollback

    d = rollback(a.models, a.task, log)
    _print_json({"rolled_back": True, "reason": d.reason, "manifest": d.manifest["tasks"].get(a.task)})
    return 0


def build_parser() -> argparse.ArgumentParser:
    p = _Parser(prog=PROG, description="Train, evaluate, export and promote Switchboard's NLU models. "
                                       "Model directories follow docs/models.md.")
    p.add_argument("-v", "--verbose", action="store_true", help="debug logging")
    sub = p.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    sub.required = True
    for name, (_, _, helptext) in PASSTHROUGH.items():
        sub.add_parser(name, help=f"{helptext} (see {PROG} {name} --help)", add_help=False)

    t = sub.add_parser("train", help="train a model directory from labelled data",
                       description="Train, calibrate, export (with parity check) and test a classifier; "
                                   "writes <out>/<task>/<version>/.")
    t.add_argument("--data", type=Path, required=True, help="labelled .csv/.tsv/.jsonl (text, label)")
    t.add_argument("--task", required=True, help="task name: category, intent, sentiment, ...")
    t.add_argument("--out", type=Path, default=Path("models"), help="models directory (default ./models)")
    t.add_argument("--version", help="version directory name (default: today's date + first free .N)")
    _add_columns(t)
    s = t.add_argument_group("test split")
    s.add_argument("--split", choices=("stratified", "time", "template"), default="stratified",
                   help="stratified random (default), time (last --test-weeks), template (held-out template_ids)")
    s.add_argument("--test", type=Path, metavar="FILE", help="use this file as the test set instead of a split")
    s.add_argument("--test-fraction", type=_fraction, default=0.2,
                   help="stratified/template: share of rows/templates tested (default 0.2)")
    s.add_argument("--test-weeks", type=_positive_float, default=4.0,
                   help="time split: the last N weeks of the data are the test set (default 4)")
    d = t.add_argument_group("decisions")
    d.add_argument("--target-precision", type=_fraction, default=0.95,
                   help="confidence threshold: lowest at which accepted predictions reach this precision "
                        "on validation (default 0.95)")
    d.add_argument("--oos-label", metavar="LABEL",
                   help="the trained out-of-scope class (intent: out_of_scope); fits the out_of_scope threshold")
    d.add_argument("--escalation-label", default="negative",
                   help="sentiment: the label whose probability sets the escalation threshold (default negative)")
    d.add_argument("--escalation-precision", type=_fraction, default=0.9,
                   help="sentiment: precision the escalation threshold must reach on validation (default 0.9)")
    o = t.add_argument_group("export")
    o.add_argument("--quantize", action="store_true",
                   help="also build an int8 model (dynamic quantization) and record its accuracy change")
    o.add_argument("--keep", choices=("int8", "fp32"), default="int8",
                   help="with --quantize: which one becomes model.onnx (default int8)")
    o.add_argument("--parity-batches", type=_positive_int, default=200,
                   help="batches of real texts compared between PyTorch and ONNX Runtime (default 200)")
    o.add_argument("--no-latency", action="store_true", help="skip the latency/throughput measurement")
    o.add_argument("--source", help="data provenance for the card (default: the --data path)")
    o.add_argument("--notes", help="free text for card.notes")
    _add_fit(t)
    t.set_defaults(func=cmd_train)

    e = sub.add_parser("evaluate", help="score an exported model directory on labelled data (JSON to stdout)",
                       description="Scores the exported ONNX model with ONNX Runtime, as Go serves it.")
    e.add_argument("--model", type=Path, required=True, help="model directory (models/<task>/<version>)")
    e.add_argument("--data", type=Path, required=True, help="labelled .csv/.tsv/.jsonl")
    e.add_argument("--oos-label", metavar="LABEL",
                   help="out-of-scope label; unknown data labels count as it (default: the card's)")
    e.add_argument("--confusion", action="store_true", help="include the confusion matrix")
    _add_columns(e)
    e.set_defaults(func=cmd_evaluate)

    c = sub.add_parser("compare", help="evaluate a candidate and production on the same data, with deltas")
    c.add_argument("--candidate", type=Path, required=True, help="candidate model directory")
    c.add_argument("--production", type=Path, required=True, help="production model directory")
    c.add_argument("--data", type=Path, required=True, help="labelled .csv/.tsv/.jsonl")
    c.add_argument("--oos-label", metavar="LABEL", help="out-of-scope label (default: each card's)")
    _add_columns(c)
    c.set_defaults(func=cmd_compare)

    v = sub.add_parser("cv", help="stratified k-fold cross-validation of a recipe (JSON to stdout)")
    v.add_argument("--data", type=Path, required=True, help="labelled .csv/.tsv/.jsonl")
    v.add_argument("--folds", type=_positive_int, default=5, help="number of folds (default 5)")
    v.add_argument("--only-folds", type=_int_list, metavar="K,...", help="run only these folds (1-based), e.g. 1")
    _add_columns(v)
    _add_fit(v)
    v.set_defaults(func=cmd_cv)

    pr = sub.add_parser("promote", help="make a version production (or the shadow candidate) in manifest.json")
    pr.add_argument("--models", type=Path, default=Path("models"), help="models directory (default ./models)")
    pr.add_argument("--task", required=True, help="task name")
    pr.add_argument("--version", required=True, help="version to promote")
    pr.add_argument("--data", type=Path, help="evaluate candidate and production on this file "
                                               "(default: compare the cards, if tested on the same data)")
    pr.add_argument("--metric", default="macro_f1", help="metric that must improve (default macro_f1)")
    pr.add_argument("--margin", type=float, default=0.005, help="required improvement (default 0.005)")
    pr.add_argument("--force", action="store_true", help="promote without comparing")
    pr.add_argument("--candidate", action="store_true", help="set the shadow candidate instead of production")
    _add_columns(pr)
    pr.set_defaults(func=cmd_promote)

    r = sub.add_parser("rollback", help="make the previous production version production again")
    r.add_argument("--models", type=Path, default=Path("models"), help="models directory (default ./models)")
    r.add_argument("--task", required=True, help="task name")
    r.set_defaults(func=cmd_rollback)
    return p


def _passthrough(name: str, argv: list[str]) -> int:
    mod_name, fn_name, _ = PASSTHROUGH[name]
    try:
        mod = importlib.import_module(f"switchboard_training.{mod_name}")
    except ModuleNotFoundError as e:
        if e.name != f"switchboard_training.{mod_name}":
            raise
        raise UsageError(f"{PROG} {name}: not available in this installation "
                         f"(switchboard_training/{mod_name}.py is missing)") from None
    fn: Callable[[list[str]], int | None] = getattr(mod, fn_name)
    rc = fn(argv)
    return int(rc or 0)


def main(argv: Sequence[str] | None = None) -> int:
    """main runs the command line and returns the exit status."""
    args = list(sys.argv[1:] if argv is None else argv)
    log = logging.getLogger("switchboard_training")
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(message)s", "%H:%M:%S"))
    log.addHandler(handler)
    log.propagate = False
    log.setLevel(logging.DEBUG if "-v" in args[:1] or "--verbose" in args[:1] else logging.INFO)
    from switchboard_training.data import DataError
    from switchboard_training.tok import TokenizerError

    try:
        first = next((i for i, x in enumerate(args) if not x.startswith("-")), None)
        if first is not None and args[first] in PASSTHROUGH:
            return _passthrough(args[first], args[first + 1 :])
        a = build_parser().parse_args(args)
        return a.func(a, log, args)
    except UsageError as e:
        print(str(e), file=sys.stderr)
        return 2
    except (DataError, TokenizerError, FileExistsError, FileNotFoundError) as e:
        print(f"{PROG}: {e}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"{PROG}: interrupted", file=sys.stderr)
        return 130
    except Exception as e:
        from switchboard_training.evaluate import ModelDirError
        from switchboard_training.onnx_export import ParityError
        from switchboard_training.promote import PromoteError

        if isinstance(e, (ModelDirError, PromoteError)):
            print(f"{PROG}: {e}", file=sys.stderr)
            return 2
        if isinstance(e, ParityError):
            print(f"{PROG}: ONNX parity check failed, nothing written: {e}", file=sys.stderr)
            return 1
        if os.environ.get("SWITCHBOARD_TRAIN_DEBUG"):
            raise
        print(f"{PROG}: internal error: {type(e).__name__}: {e} (SWITCHBOARD_TRAIN_DEBUG=1 for a traceback)",
              file=sys.stderr)
        return 1
    finally:
        log.removeHandler(handler)
