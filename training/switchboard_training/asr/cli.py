"""`switchboard-train asr ...`: the speech model's steps, one subcommand each,
and `all`, the `make models` recipe (synth -> features -> train -> export -> evaluate)."""

from __future__ import annotations

import argparse
import json
import logging
import os
import random
import sys
import time
from collections import Counter
from collections.abc import Sequence
from pathlib import Path

# Idle OpenMP threads must sleep, not spin: on this small shared machine a
# spinning pool slowed concurrent jobs about 30-fold. It only takes effect
# if set before torch loads its OpenMP runtime, hence before the imports below.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

PROG = "switchboard-train asr"
DEFAULT_DATA = Path(".data/asr")
SPLITS = ("train", "dev", "test", "intent_test", "digits_test")
EVAL_SPLITS = ("test", "intent_test", "digits_test")


class UsageError(Exception):
    """UsageError is bad command-line input (one line, exit status 2)."""


class _Parser(argparse.ArgumentParser):
    def error(self, message: str):
        raise UsageError(f"{self.prog}: {message} (see --help)")


def _add_sizes(p: argparse.ArgumentParser) -> None:
    g = p.add_argument_group("data sizes (utterances)")
    g.add_argument("--train", type=int, default=16000, help="training utterances (default 16000, ~17 h)")
    g.add_argument("--dev", type=int, default=400, help="dev utterances for early stopping (default 400)")
    g.add_argument("--test", type=int, default=800, help="test utterances (default 800)")
    g.add_argument("--intent-test", type=int, default=300, help="intent_test utterances (default 300)")
    g.add_argument("--digits-test", type=int, default=200, help="digits_test utterances (default 200)")
    g.add_argument("--seed", type=int, default=13, help="seed for texts, voices and noise (default 13)")


def _add_train(p: argparse.ArgumentParser) -> None:
    g = p.add_argument_group("training")
    g.add_argument("--max-minutes", type=float, default=55.0, help="training time budget (default 55)")
    g.add_argument("--epochs", type=int, default=100, help="maximum epochs (default 100; the budget usually ends first)")
    g.add_argument("--lr", type=float, default=2e-3, help="peak AdamW learning rate (default 2e-3; 5e-4 to fine-tune)")
    g.add_argument("--batch-frames", type=int, default=10000, help="padded input frames per batch (default 10000)")
    g.add_argument("--channels", type=int, default=256, help="conv channels (default 256)")
    g.add_argument("--threads", type=int, default=2, help="torch CPU threads (default 2)")
    g.add_argument("--train-seed", type=int, default=13, help="seed for initialisation, batches, SpecAugment")
    g.add_argument("--init", type=Path, metavar="MODEL_DIR",
                   help="fine-tune from this model directory (its checkpoint.pt; keeps its tokens)")
    g.add_argument("--manifest", type=Path, action="append", default=[], metavar="JSONL",
                   help="extra training data: manifest of WAV (any rate) + transcript rows "
                        '({"audio": path, "text": ...}); repeatable')
    g.add_argument("--manifest-repeat", type=int, default=3,
                   help="each --manifest utterance counts this many times per epoch (default 3)")
    g.add_argument("--no-synthetic", action="store_true", help="train on the --manifest data only")
    g.add_argument("--dev-manifest", type=Path, help="early-stopping data instead of the synthetic dev split")
    g.add_argument("--checkpoint", type=Path, help="where to save the best weights (default <data>/checkpoint.pt)")
    g.add_argument("--quiet", action="store_true", help="no progress bars")


def build_parser() -> argparse.ArgumentParser:
    p = _Parser(prog=PROG, description="Build the CTC speech model (docs/asr.md) from synthesised telephone speech.")
    p.add_argument("-v", "--verbose", action="store_true")
    sub = p.add_subparsers(dest="command", metavar="STEP", parser_class=_Parser)
    sub.required = True

    t = sub.add_parser("texts", help="write the transcripts of every split (for inspection)")
    t.add_argument("--data", type=Path, default=DEFAULT_DATA, help="data directory (default .data/asr)")
    _add_sizes(t)

    s = sub.add_parser("synth", help="synthesise telephone speech: <data>/<split>/{wav/,manifest.jsonl}")
    s.add_argument("--data", type=Path, default=DEFAULT_DATA)
    s.add_argument("--workers", type=int, default=2, help="synthesis processes (default 2)")
    s.add_argument("--quiet", action="store_true")
    _add_sizes(s)

    f = sub.add_parser("features", help="precompute fbank features of every split: <data>/features/<split>/")
    f.add_argument("--data", type=Path, default=DEFAULT_DATA)
    f.add_argument("--quiet", action="store_true")

    tr = sub.add_parser("train", help="train (or fine-tune) the CTC model on the features")
    tr.add_argument("--data", type=Path, default=DEFAULT_DATA)
    _add_train(tr)

    e = sub.add_parser("export", help="export a checkpoint to a model directory (ONNX, tokens.txt, card.json)")
    e.add_argument("--data", type=Path, default=DEFAULT_DATA, help="data directory (described in the card)")
    e.add_argument("--checkpoint", type=Path, help="default <data>/checkpoint.pt")
    e.add_argument("--out", type=Path, required=True, help="model directory, e.g. models/asr/2026-11-24.1")

    ev = sub.add_parser("evaluate", help="score a model directory on manifests (greedy decoding, sclite cross-check)")
    ev.add_argument("--model", type=Path, required=True, help="model directory")
    ev.add_argument("--data", type=Path, default=DEFAULT_DATA)
    ev.add_argument("--manifest", type=Path, action="append", default=[],
                    help="manifest to score (default: <data>/{test,intent_test,digits_test}/manifest.jsonl)")
    ev.add_argument("--update-card", action="store_true", help="write the metrics into the model's card.json")

    a = sub.add_parser("all", help="the whole recipe: synth, features, train, export, evaluate")
    a.add_argument("--data", type=Path, default=DEFAULT_DATA)
    a.add_argument("--out", type=Path, required=True, help="model directory, e.g. models/asr/2026-11-24.1")
    a.add_argument("--workers", type=int, default=2)
    a.add_argument("--reuse", action="store_true",
                   help="keep synthesised audio and features that already exist (same sizes and seed)")
    _add_sizes(a)
    _add_train(a)
    return p


def _texts(a: argparse.Namespace):
    from switchboard_training.asr import texts

    return texts.build(a.train, a.dev, a.test, a.intent_test, a.digits_test, a.seed)


def cmd_texts(a: argparse.Namespace, log: logging.Logger) -> dict:
    from dataclasses import asdict

    out = a.data / "texts"
    out.mkdir(parents=True, exist_ok=True)
    counts = {}
    for split, utts in _texts(a).splits().items():
        with open(out / f"{split}.jsonl", "w", encoding="utf-8") as f:
            for u in utts:
                f.write(json.dumps(asdict(u), ensure_ascii=False) + "\n")
        counts[split] = len(utts)
    return {"texts": str(out), "counts": counts}


def _synth_stamp(a: argparse.Namespace) -> dict:
    return {"train": a.train, "dev": a.dev, "test": a.test, "intent_test": a.intent_test,
            "digits_test": a.digits_test, "seed": a.seed}


def cmd_synth(a: argparse.Namespace, log: logging.Logger) -> dict:
    from switchboard_training.asr import synth

    t0 = time.monotonic()
    counts = synth.synthesize(_texts(a), a.data, a.seed, a.workers, progress=not a.quiet, log=log)
    (a.data / "synth.json").write_text(json.dumps(_synth_stamp(a)) + "\n")
    return {"data": str(a.data), "counts": counts, "minutes": round((time.monotonic() - t0) / 60, 1)}


def cmd_features(a: argparse.Namespace, log: logging.Logger) -> dict:
    from switchboard_training.asr.features import compute_store, read_manifest

    t0 = time.monotonic()
    counts = {}
    for split in SPLITS:
        m = a.data / split / "manifest.jsonl"
        if not m.is_file():
            raise FileNotFoundError(f"{m}: no manifest (run `{PROG} synth` first)")
        st = compute_store(read_manifest(m), a.data / "features" / split, progress=not a.quiet)
        counts[split] = {"utterances": len(st), "hours": round(float(st.lengths().sum()) / 360000, 2)}
    return {"features": str(a.data / "features"), "counts": counts, "minutes": round((time.monotonic() - t0) / 60, 1)}


def _extra_store(path: Path, repeat: int, data: Path, log: logging.Logger):
    """_extra_store computes (once, cached by file contents) the features of a
    fine-tuning manifest, with transcripts normalised as the synthetic ones are."""
    import hashlib

    from switchboard_training.asr.features import compute_store, load_store, read_manifest
    from switchboard_training.asr.texts import _lang_of, normalize

    rows = read_manifest(path)
    rng = random.Random(0)
    for r in rows:
        r.setdefault("lang", _lang_of(r["text"].lower()))
        r["text"] = normalize(r["text"], r["lang"], rng)
    digest = hashlib.sha256(json.dumps(rows, ensure_ascii=False).encode()).hexdigest()[:12]
    d = data / "features" / f"extra-{path.stem}-{digest}"
    st = load_store(d) if (d / "feats.npy").is_file() else compute_store(rows, d)
    log.info("%s: %d utterances (%.2f h), counted %d times", path, len(st), st.lengths().sum() / 360000, repeat)
    idx = [i for _ in range(repeat) for i in range(len(st))]
    return st, idx


def _concat(stores):
    """_concat joins (store, indices) pairs into one in-memory store."""
    import numpy as np

    from switchboard_training.asr.features import FeatureStore

    frames, offsets, rows = [], [0], []
    for st, idx in stores:
        for i in idx:
            f = np.asarray(st.get(i))
            frames.append(f)
            offsets.append(offsets[-1] + f.shape[0])
            rows.append(st.rows[i])
    return FeatureStore(np.concatenate(frames), np.asarray(offsets, np.int64), rows)


def cmd_train(a: argparse.Namespace, log: logging.Logger) -> dict:
    import torch

    from switchboard_training.asr.features import load_store
    from switchboard_training.asr.model import ModelConfig, Tokens
    from switchboard_training.asr.train import TrainConfig, encode_store, fit, save_checkpoint

    parts = []
    if not a.no_synthetic:
        st = load_store(a.data / "features" / "train")
        parts.append((st, list(range(len(st)))))
    for m in a.manifest:
        parts.append(_extra_store(m, a.manifest_repeat, a.data, log))
    if not parts:
        raise UsageError(f"{PROG} train: --no-synthetic needs at least one --manifest")
    train_store = parts[0][0] if len(parts) == 1 else _concat(parts)
    dev_store = (_extra_store(a.dev_manifest, 1, a.data, log)[0] if a.dev_manifest
                 else load_store(a.data / "features" / "dev"))
    init = None
    mcfg = ModelConfig(channels=a.channels)
    if a.init:
        ck_path = a.init / "checkpoint.pt"
        if not ck_path.is_file():
            raise FileNotFoundError(f"{a.init}: no checkpoint.pt to fine-tune from (pretrained drop-ins cannot be)")
        init = torch.load(ck_path, map_location="cpu", weights_only=False)
        tokens = Tokens(tuple(init["tokens"]))
        mc = dict(init["model_config"])
        mc["kernels"] = tuple(mc["kernels"])
        mcfg = ModelConfig(**mc)
    else:
        tokens = Tokens.build(r["text"] for r in train_store.rows)
    cfg = TrainConfig(max_minutes=a.max_minutes, epochs=a.epochs, lr=a.lr, batch_frames=a.batch_frames,
                      seed=a.train_seed, threads=a.threads)
    res = fit(encode_store(train_store, tokens), encode_store(dev_store, tokens), tokens, mcfg, cfg, log,
              init=init, progress=not a.quiet)
    ck = a.checkpoint or a.data / "checkpoint.pt"
    save_checkpoint(ck, res, mcfg, cfg, {"init": str(a.init) if a.init else None,
                                         "manifests": [str(m) for m in a.manifest], "synthetic": not a.no_synthetic,
                                         "train_utterances": len(train_store),
                                         "train_hours": round(float(train_store.lengths().sum()) / 360000, 2)})
    return {"checkpoint": str(ck), "best_dev_cer": round(res.best_dev_cer, 4), "best_step": res.best_step,
            "steps": res.steps, "epochs": res.epochs, "minutes": res.minutes}


def data_summary(data: Path) -> dict:
    """data_summary describes the synthetic data set for the card."""
    from switchboard_training.asr import synth

    out: dict = {"splits": {}}
    for split in SPLITS:
        m = data / split / "manifest.jsonl"
        if not m.is_file():
            continue
        rows = [json.loads(line) for line in open(m, encoding="utf-8")]
        out["splits"][split] = {
            "utterances": len(rows), "hours": round(sum(r["duration"] for r in rows) / 3600, 2),
            "langs": dict(Counter(r["lang"] for r in rows)), "kinds": dict(Counter(r["kind"] for r in rows)),
            "conditions": dict(Counter(r["condition"] for r in rows)), "manifest": str(m),
        }
    out["voices"] = {"train": list(synth.TRAIN_VARIANTS), "test": list(synth.TEST_VARIANTS),
                     "base_voices": "cmn (zh, mixed, 15% of en), en-us and en (en)"}
    out["noise_conditions"] = {
        "train": "clean / white / pink (SNR 10-30 dB) / babble of 3-5 espeak voices (12-28 dB); "
                 "mild reverb (sox reverb 10-50%, small room) on 35%",
        "test": "clean; brown noise 5-20 dB; low_snr: white/pink/babble 0-8 dB; strong_reverb: "
                "reverberance 75-100%, large room, + pink 15-30 dB (all but clean never seen in training)",
        "intent_test/digits_test": "the training conditions with held-out voices",
        "every utterance": "espeak-ng (rate 120-210 wpm, pitch 25-75), sox speed 0.9-1.1, 8 kHz, "
                           "level -20..-1 dBFS peak, sinc 300-3400 Hz, G.711 mu-law round trip",
    }
    stamp = data / "synth.json"
    if stamp.is_file():
        out["synth"] = json.loads(stamp.read_text())
    return out


def cmd_export(a: argparse.Namespace, log: logging.Logger) -> dict:
    import numpy as np
    import torch

    from switchboard_training.asr.export import LIMITATIONS, check_parity, export_onnx, write_card
    from switchboard_training.asr.features import FBANK_OPTIONS, load_store
    from switchboard_training.asr.model import count_params, receptive_field
    from switchboard_training.asr.train import load_checkpoint

    ck_path = a.checkpoint or a.data / "checkpoint.pt"
    model, tokens, ck = load_checkpoint(ck_path)
    version = a.out.name
    a.out.mkdir(parents=True, exist_ok=True)
    meta = export_onnx(model, tokens, a.out / "model.onnx", version)
    tokens.save(a.out / "tokens.txt")
    # Parity on real features of varied lengths and batch sizes (padding included).
    batches = []
    dev_dir = a.data / "features" / "dev"
    rng = np.random.default_rng(0)
    if (dev_dir / "feats.npy").is_file():
        st = load_store(dev_dir)
        for n in (1, 1, 3, 8, 16):
            idx = rng.choice(len(st), size=min(n, len(st)), replace=False)
            fs = [np.asarray(st.get(int(i)), np.float32) for i in idx]
            x = np.zeros((len(fs), max(f.shape[0] for f in fs), fs[0].shape[1]), np.float32)
            for j, f in enumerate(fs):
                x[j, : f.shape[0]] = f
            batches.append((x, np.array([f.shape[0] for f in fs], np.int64)))
    else:
        batches.append(((np.asarray(rng.standard_normal((2, 300, 80)), np.float32) * 3 + 5),
                        np.array([300, 123], np.int64)))
    diff = check_parity(model, a.out / "model.onnx", batches)
    torch.save({**ck, "state_dict": {k: (v.half() if v.is_floating_point() else v)
                                     for k, v in model.state_dict().items()}}, a.out / "checkpoint.pt")
    left, right = receptive_field(model.cfg)
    card = {
        "task": "asr", "version": version, "model_type": meta["model_type"], "language": meta["language"],
        "contract": "docs/asr.md", "files": ["model.onnx", "tokens.txt", "card.json", "checkpoint.pt"],
        "architecture": {
            "kind": "QuartzNet-style 1-D CNN, CTC", "params": count_params(model), "vocab_size": len(tokens),
            "model_config": model.cfg.to_dict(), "subsampling_factor": 4,
            "receptive_field": {"left_context": left, "right_context": right, "unit": "input frames (10 ms)",
                                "meaning": "output frame j depends only on input frames 4j-left .. 4j+right"},
            "normalisation": "global mean/variance of the training features, inside the graph",
        },
        "features": FBANK_OPTIONS,
        "data": data_summary(a.data),
        "training": {"train_config": ck["train_config"], **ck["result"],
                     **{k: ck.get(k) for k in ("init", "manifests", "synthetic", "train_utterances", "train_hours")}},
        "onnx": {"opset": 17, "parity_max_abs_diff": diff, "parity_batches": len(batches),
                 "metadata": meta, "size_bytes": (a.out / "model.onnx").stat().st_size},
        "checkpoint": "checkpoint.pt: float16 PyTorch weights, tokens and configs, for "
                      "`switchboard-train asr train --init` (fine-tuning)",
        "limitations": LIMITATIONS,
    }
    write_card(a.out / "card.json", card)
    return {"model_dir": str(a.out), "params": count_params(model), "vocab": len(tokens),
            "parity_max_abs_diff": diff, "left_context": left, "right_context": right}


def cmd_evaluate(a: argparse.Namespace, log: logging.Logger) -> dict:
    from switchboard_training.asr.evaluate import evaluate_split

    if not (a.model / "model.onnx").is_file():
        raise FileNotFoundError(f"{a.model}: no model.onnx")
    manifests = a.manifest or [a.data / s / "manifest.jsonl" for s in EVAL_SPLITS]
    res = {}
    for m in manifests:
        name = m.parent.name
        t0 = time.monotonic()
        res[name] = evaluate_split(a.model, m, a.data / "eval" / a.model.name / name, log)
        log.info("%s: %s (%.1f s)", name, res[name]["overall"], time.monotonic() - t0)
    if a.update_card:
        card_path = a.model / "card.json"
        card = json.loads(card_path.read_text(encoding="utf-8")) if card_path.is_file() else {}
        card["metrics"] = {**card.get("metrics", {}), **res}
        card_path.write_text(json.dumps(card, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    return res


def cmd_all(a: argparse.Namespace, log: logging.Logger) -> dict:
    timings = {}
    t0 = time.monotonic()
    stamp = a.data / "synth.json"
    if a.reuse and stamp.is_file() and json.loads(stamp.read_text()) == _synth_stamp(a):
        log.info("reusing the synthesised audio in %s", a.data)
    else:
        a.quiet = getattr(a, "quiet", False)
        log.info("synth: %s", cmd_synth(a, log))
    timings["synth_minutes"] = round((time.monotonic() - t0) / 60, 1)
    t = time.monotonic()
    if a.reuse and all((a.data / "features" / s / "feats.npy").is_file() for s in SPLITS) and timings["synth_minutes"] < 0.5:
        log.info("reusing the features in %s", a.data / "features")
    else:
        log.info("features: %s", cmd_features(a, log))
    timings["features_minutes"] = round((time.monotonic() - t) / 60, 1)
    t = time.monotonic()
    log.info("train: %s", cmd_train(a, log))
    timings["train_minutes"] = round((time.monotonic() - t) / 60, 1)
    t = time.monotonic()
    a.checkpoint = a.checkpoint or a.data / "checkpoint.pt"
    exp = cmd_export(a, log)
    a.model, a.manifest, a.update_card = a.out, [], True
    res = cmd_evaluate(a, log)
    timings["export_evaluate_minutes"] = round((time.monotonic() - t) / 60, 1)
    timings["total_minutes"] = round((time.monotonic() - t0) / 60, 1)
    card_path = a.out / "card.json"
    card = json.loads(card_path.read_text(encoding="utf-8"))
    card["recipe"] = {"command": [PROG, *sys.argv[2:]] if sys.argv[1:2] == ["asr"] else sys.argv, "timings": timings,
                      "machine": f"{os.cpu_count()} CPU cores, no GPU"}
    card_path.write_text(json.dumps(card, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    return {"export": exp, "timings": timings, **{k: v["overall"] for k, v in res.items()}}


COMMANDS = {"texts": cmd_texts, "synth": cmd_synth, "features": cmd_features, "train": cmd_train,
            "export": cmd_export, "evaluate": cmd_evaluate, "all": cmd_all}


def main(argv: Sequence[str] | None = None) -> int:
    """main runs one asr step and prints its result as JSON; bad input exits 2."""
    args = list(sys.argv[2:] if argv is None else argv)
    try:
        a = build_parser().parse_args(args)
        logging.basicConfig(level=logging.DEBUG if a.verbose else logging.INFO,
                            format="%(asctime)s %(levelname)s %(message)s", datefmt="%H:%M:%S")
        log = logging.getLogger("asr")
        res = COMMANDS[a.command](a, log)
    except UsageError as e:
        print(str(e), file=sys.stderr)
        return 2
    except (FileNotFoundError, ValueError) as e:
        if os.environ.get("SWITCHBOARD_TRAIN_DEBUG"):
            raise
        print(f"{PROG}: {e}", file=sys.stderr)
        return 2
    sys.stdout.write(json.dumps(res, ensure_ascii=False, indent=2) + "\n")
    return 0
