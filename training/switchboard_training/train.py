"""Training a classifier end to end into a model directory (docs/models.md).

:func:`fit` is the learning step alone (tokenizer + network + early
stopping), shared with cross-validation; :func:`train` is the whole monthly
recipe: load, split, fit, calibrate, export with parity check, optionally
quantize, test on the exported file, write the card, move the directory
into place atomically.
"""

from __future__ import annotations

import logging
import math
import os
import platform
import random
import shutil
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn
from tqdm import tqdm

from switchboard_training import archs, calibrate, card, data, onnx_export
from switchboard_training.evaluate import Policy, batched_logits, score
from switchboard_training.tok import DEFAULT_MAX_LENGTH, DEFAULT_VOCAB_SIZE, Encoder, load_tokenizer, train_tokenizer

SPLITS: tuple[str, ...] = ("stratified", "time", "template")

# Per-architecture defaults for the options that must differ: a pretrained
# backbone needs a small learning rate and few epochs, a from-scratch
# Transformer little dropout, a TextCNN heavy dropout before its classifier.
ARCH_DEFAULTS: dict[str, dict[str, float]] = {
    "textcnn": {"lr": 1e-3, "epochs": 25, "patience": 6, "dropout": 0.5},
    "transformer": {"lr": 5e-4, "epochs": 30, "patience": 6, "dropout": 0.1},
    "minilm": {"lr": 5e-5, "epochs": 5, "patience": 2, "dropout": 0.1},
    "ngrams": {"lr": 5e-3, "epochs": 30, "patience": 5, "dropout": 0.2},
}


@dataclass
class FitConfig:
    """FitConfig is everything that shapes the learned network (recorded in the card)."""

    arch: str = "textcnn"
    arch_config: archs.ArchConfig = field(default_factory=archs.ArchConfig)
    tokenizer: Path | None = None  # reuse this tokenizer.json instead of training one
    vocab_size: int = DEFAULT_VOCAB_SIZE
    min_frequency: int = 2
    max_length: int = DEFAULT_MAX_LENGTH
    epochs: int = 30
    batch_size: int = 32
    lr: float = 2e-3
    weight_decay: float = 0.01
    warmup: float = 0.05  # fraction of all steps spent warming the learning rate up
    label_smoothing: float = 0.1
    patience: int = 4
    max_minutes: float = 60.0
    seed: int = 13
    threads: int = 0  # torch threads; 0 keeps torch's default
    ensemble: int = 1  # networks trained with different seeds, logits averaged in one graph

    def as_dict(self) -> dict[str, object]:
        d = {k: v for k, v in self.__dict__.items() if k != "arch_config"}
        d["tokenizer"] = str(self.tokenizer) if self.tokenizer else None
        d["arch_config"] = self.arch_config.as_dict()
        return d


@dataclass
class TrainConfig:
    """TrainConfig is one `train` run: data, task, output and decision policy."""

    data: Path
    task: str
    out: Path
    fit: FitConfig = field(default_factory=FitConfig)
    text_col: str | None = None
    label_col: str | None = None
    test: Path | None = None
    split: str = "stratified"
    test_fraction: float = 0.2
    test_weeks: float = 4.0
    val_fraction: float = 0.1
    drop_conflicts: bool = False
    target_precision: float = 0.95
    oos_label: str | None = None
    escalation_label: str = "negative"
    escalation_precision: float = 0.90
    quantize: bool = False
    keep: str = "int8"  # with quantize: which file becomes model.onnx
    version: str | None = None
    parity_batches: int = 200
    measure_latency: bool = True
    source: str | None = None
    notes: str | None = None
    argv: Sequence[str] | None = None


@dataclass
class Fitted:
    """Fitted is a trained network with what is needed to use it."""

    model: nn.Module
    encoder: Encoder
    labels: list[str]
    tokenizer_source: str
    epochs_run: int
    best_epoch: int
    history: list[dict[str, float]]
    seconds: float
    stopped_by: str
    license: str | None = None


def seed_everything(seed: int) -> None:
    """seed_everything fixes Python, NumPy and torch RNGs."""
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)


def torch_logits(model: nn.Module, encoder: Encoder, texts: Sequence[str], width: int, batch_size: int = 128) -> np.ndarray:
    """torch_logits scores texts with the PyTorch model in eval mode."""
    model.eval()

    def fn(b):
        with torch.no_grad():
            return model(torch.from_numpy(b.input_ids), torch.from_numpy(b.attention_mask)).numpy()

    return batched_logits(fn, encoder, texts, width, batch_size)


def _backbone(cfg: FitConfig) -> tuple[Path | None, str | None]:
    if cfg.arch != "minilm":
        return None, None
    from switchboard_training import pretrained

    d = Path(pretrained.backbone_dir())
    lic = getattr(pretrained, "LICENSE", None)
    return d, lic if isinstance(lic, str) else None


def fit(
    train_rows: Sequence[data.Example],
    val_rows: Sequence[data.Example],
    cfg: FitConfig,
    log: logging.Logger,
    progress: bool = True,
) -> Fitted:
    """fit trains a tokenizer (unless reused) and a network on train_rows,
    keeping the epoch with the best validation accuracy (ties: lower loss)
    and stopping after cfg.patience epochs without improvement or when
    cfg.max_minutes is spent."""
    if cfg.threads > 0:
        torch.set_num_threads(cfg.threads)
    seed_everything(cfg.seed)
    start = time.monotonic()
    labels = sorted({r.label for r in train_rows})
    if len(labels) < 2:
        raise data.DataError(f"need at least two labels to train a classifier, got {labels}")
    index = {lab: i for i, lab in enumerate(labels)}
    val_rows = [r for r in val_rows if r.label in index]

    backbone, lic = _backbone(cfg)
    if backbone is not None:
        tok = load_tokenizer(backbone / "tokenizer.json", cfg.max_length)
        tok_source = f"pretrained backbone {backbone.name}"
    elif cfg.tokenizer:
        tok = load_tokenizer(cfg.tokenizer, cfg.max_length)
        tok_source = str(cfg.tokenizer)
    else:
        tok = train_tokenizer((r.text for r in train_rows), cfg.vocab_size, cfg.min_frequency, cfg.max_length)
        tok_source = f"trained WordPiece, vocab {tok.get_vocab_size()}"
    enc0 = Encoder(tok, cfg.max_length)
    deadline = start + cfg.max_minutes * 60
    members: list[nn.Module] = []
    history: list[dict[str, float]] = []
    epochs_run = best_epoch = 0
    stopped_by = "epochs"
    for m in range(cfg.ensemble):
        # Each member differs only in its seed (initialisation, dropout, batch order).
        seed = cfg.seed + 1000 * m
        seed_everything(seed)
        model = archs.build(cfg.arch, enc0.vocab_size, len(labels), enc0.pad_id, cfg.max_length,
                            cfg.arch_config, backbone)
        encoder = Encoder(tok, cfg.max_length, int(getattr(model, "min_length", 1)))
        if m == 0:
            log.info("fit: %d train / %d val rows, %d labels, arch %s (%d parameters%s), tokenizer: %s",
                     len(train_rows), len(val_rows), len(labels), cfg.arch,
                     sum(p.numel() for p in model.parameters()),
                     f" x {cfg.ensemble} members" if cfg.ensemble > 1 else "", tok_source)
        ids = encoder.ids([r.text for r in train_rows])
        y = torch.tensor([index[r.label] for r in train_rows], dtype=torch.long)
        hist, stop = _train_member(model, encoder, ids, y, val_rows, index, cfg, seed, deadline, log, progress,
                                   f"member {m + 1}/{cfg.ensemble} " if cfg.ensemble > 1 else "")
        for h in hist:
            h["member"] = m + 1
        history += hist
        epochs_run += len(hist)
        best_epoch = max(best_epoch, max((h["epoch"] for h in hist if h.get("best")), default=0))
        stopped_by = stop
        members.append(model)
        if time.monotonic() > deadline:
            break
    model = members[0] if len(members) == 1 else archs.Ensemble(members)
    encoder = Encoder(tok, cfg.max_length, int(getattr(model, "min_length", 1)))
    model.eval()
    return Fitted(model, encoder, labels, tok_source, epochs_run, best_epoch, history,
                  time.monotonic() - start, stopped_by, lic)


def _train_member(
    model: nn.Module, encoder: Encoder, ids: list[list[int]], y: torch.Tensor, val_rows: Sequence[data.Example],
    index: dict[str, int], cfg: FitConfig, seed: int, deadline: float, log: logging.Logger, progress: bool,
    what: str,
) -> tuple[list[dict[str, float]], str]:
    """_train_member trains one network in place, leaving it at its best
    validation epoch; returns the per-epoch history and why it stopped."""
    val_texts = [r.text for r in val_rows]
    val_y = np.array([index[r.label] for r in val_rows], dtype=np.int64)
    width = len(index)
    decay = [p for n, p in model.named_parameters() if p.ndim >= 2 and "embed" not in n]
    no_decay = [p for n, p in model.named_parameters() if not (p.ndim >= 2 and "embed" not in n)]
    opt = torch.optim.AdamW([{"params": decay, "weight_decay": cfg.weight_decay},
                             {"params": no_decay, "weight_decay": 0.0}], lr=cfg.lr)
    steps_per_epoch = math.ceil(len(ids) / cfg.batch_size)
    total = max(1, steps_per_epoch * cfg.epochs)
    warm = max(1, int(cfg.warmup * total))

    def lr_at(step: int) -> float:  # linear warm-up, then cosine decay to 5% over the epoch budget
        if step < warm:
            return (step + 1) / warm
        frac = min(1.0, (step - warm) / max(1, total - warm))
        return 0.05 + 0.95 * 0.5 * (1 + math.cos(math.pi * frac))

    sched = torch.optim.lr_scheduler.LambdaLR(opt, lr_at)
    gen = torch.Generator().manual_seed(seed)
    best_key: tuple[float, float] | None = None
    best_state: dict[str, torch.Tensor] | None = None
    bad, history, stopped_by = 0, [], "epochs"
    for epoch in range(1, cfg.epochs + 1):
        model.train()
        perm = torch.randperm(len(ids), generator=gen).tolist()
        bar = tqdm(range(0, len(perm), cfg.batch_size), desc=f"{what}epoch {epoch}/{cfg.epochs}", unit="batch",
                   file=sys.stderr, disable=not progress, leave=False)
        loss_sum, seen = 0.0, 0
        for s in bar:
            idx = perm[s : s + cfg.batch_size]
            b = encoder.pad([ids[i] for i in idx])
            logits = model(torch.from_numpy(b.input_ids), torch.from_numpy(b.attention_mask))
            loss = F.cross_entropy(logits, y[idx], label_smoothing=cfg.label_smoothing)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            opt.step()
            sched.step()
            loss_sum += float(loss.detach()) * len(idx)
            seen += len(idx)
            bar.set_postfix(loss=f"{loss_sum / seen:.3f}", refresh=False)
            if time.monotonic() > deadline:
                break
        bar.close()
        vl = torch_logits(model, encoder, val_texts, width)
        v_acc = float((vl.argmax(axis=1) == val_y).mean()) if len(val_y) else 0.0
        v_nll = calibrate.nll(vl, val_y, 1.0) if len(val_y) else 0.0
        h: dict[str, float] = {"epoch": epoch, "train_loss": round(loss_sum / max(seen, 1), 5),
                               "val_accuracy": round(v_acc, 5), "val_nll": round(v_nll, 5)}
        history.append(h)
        log.info("%sepoch %d: train loss %.4f, val accuracy %.4f, val nll %.4f",
                 what, epoch, loss_sum / max(seen, 1), v_acc, v_nll)
        key = (v_acc, -v_nll)
        if best_key is None or key > best_key:
            best_key, bad = key, 0
            best_state = {k: v.detach().clone() for k, v in model.state_dict().items()}
            for x in history:
                x.pop("best", None)
            h["best"] = True
        else:
            bad += 1
        if time.monotonic() > deadline:
            stopped_by = f"max_minutes {cfg.max_minutes}"
            break
        if bad >= cfg.patience:
            stopped_by = f"early stopping (patience {cfg.patience})"
            break
    if best_state is not None:
        model.load_state_dict(best_state)
    model.eval()
    return history, stopped_by


def next_version(task_dir: Path, today: datetime) -> str:
    """next_version is today's date plus the first free ".N" under task_dir."""
    day = today.strftime("%Y-%m-%d")
    n = 1
    while (task_dir / f"{day}.{n}").exists():
        n += 1
    return f"{day}.{n}"


def split_data(cfg: TrainConfig, log: logging.Logger) -> tuple[data.Split, data.CleanStats]:
    """split_data loads, cleans and splits cfg.data as the config says."""
    rows, stats = data.clean(data.load(cfg.data, cfg.text_col, cfg.label_col), cfg.drop_conflicts)
    log.info("data %s: %d rows read, %d empty texts and %d duplicates dropped, %d texts with conflicting "
             "labels (%d rows dropped), %d kept",
             cfg.data, stats.read, stats.empty_text, stats.duplicates, stats.conflicting_texts,
             stats.conflicts_dropped, stats.kept)
    if cfg.test:
        test_rows, _ = data.clean(data.load(cfg.test, cfg.text_col, cfg.label_col), cfg.drop_conflicts)
        sp = data.split_explicit(rows, test_rows)
    elif cfg.split == "time":
        sp = data.split_time(rows, cfg.test_weeks)
    elif cfg.split == "template":
        sp = data.split_template(rows, cfg.test_fraction, cfg.fit.seed)
    elif cfg.split == "stratified":
        sp = data.split_stratified(rows, cfg.test_fraction, cfg.fit.seed)
    else:
        raise data.DataError(f"unknown --split {cfg.split!r} (want one of {', '.join(SPLITS)})")
    if not sp.train or not sp.test:
        raise data.DataError(f"split {sp.method}: {len(sp.train)} train and {len(sp.test)} test rows; need both")
    return sp, stats


def carve_validation(
    rows: Sequence[data.Example], fraction: float, seed: int,
) -> tuple[list[data.Example], list[data.Example], str]:
    """carve_validation holds out part of the training rows for early stopping
    and calibration: whole templates when every row has a template_id (so
    thresholds are set on phrasings the network has not seen, like the test
    and like live traffic), else a stratified random share."""
    if rows and all(r.template_id for r in rows):
        try:
            sp = data.split_template(rows, fraction, seed)
            return sp.train, sp.test, "held-out templates"
        except data.DataError:
            pass  # no label has two templates: fall back to rows
    rest, held = data.stratified_indices([r.label for r in rows], fraction, seed)
    return [rows[i] for i in rest], [rows[i] for i in held], "stratified"


def thresholds_for(
    cfg: TrainConfig, labels: list[str], val_probs: np.ndarray, val_y: np.ndarray,
) -> tuple[dict[str, float], dict[str, object]]:
    """thresholds_for picks the card's thresholds on validation probabilities
    and returns them with what each achieved there."""
    th: dict[str, float] = {}
    info: dict[str, object] = {}
    conf = val_probs.max(axis=1)
    t, p = calibrate.precision_threshold(conf, val_probs.argmax(axis=1) == val_y, cfg.target_precision)
    th["confidence"] = t
    info["confidence"] = {"target_precision": cfg.target_precision, "val_precision": p,
                          "val_accepted": float((conf >= t).mean()) if len(conf) else None}
    if cfg.oos_label:
        if cfg.oos_label not in labels:
            raise data.DataError(f"--oos-label {cfg.oos_label!r} is not a label in the training data")
        ch = calibrate.fit_oos_threshold(val_probs, val_y, labels.index(cfg.oos_label))
        th["out_of_scope"] = ch.threshold
        info["out_of_scope"] = {"val_in_scope_accuracy": ch.in_scope_accuracy, "val_oos_recall": ch.oos_recall}
    if cfg.task == "sentiment" and cfg.escalation_label in labels:
        neg = labels.index(cfg.escalation_label)
        t, p = calibrate.precision_threshold(val_probs[:, neg], val_y == neg, cfg.escalation_precision)
        th["escalation"] = t
        info["escalation"] = {"label": cfg.escalation_label, "target_precision": cfg.escalation_precision,
                              "val_precision": p}
    return th, info


def train(
    cfg: TrainConfig,
    log: logging.Logger,
    now: Callable[[], datetime] = lambda: datetime.now(timezone.utc),
    progress: bool = True,
) -> Path:
    """train runs the whole recipe and returns the new model directory
    (<out>/<task>/<version>), which appears only when everything passed."""
    if cfg.quantize and cfg.keep not in ("int8", "fp32"):
        raise data.DataError(f"--keep must be int8 or fp32, got {cfg.keep!r}")
    started = now()
    if cfg.version and (cfg.out / cfg.task / cfg.version).exists():
        raise FileExistsError(f"{cfg.out / cfg.task / cfg.version} already exists; choose another --version")
    sp, stats = split_data(cfg, log)
    train_labels = {r.label for r in sp.train}
    if cfg.oos_label and cfg.oos_label not in train_labels:
        raise data.DataError(f"--oos-label {cfg.oos_label!r} is not a label in the training data "
                             f"(labels: {', '.join(sorted(train_labels))})")
    if cfg.task == "sentiment" and cfg.escalation_label not in train_labels:
        log.warning("sentiment without a %r label: no escalation threshold", cfg.escalation_label)
    train_rows, val_rows, val_method = carve_validation(sp.train, cfg.val_fraction, cfg.fit.seed + 1)
    log.info("validation: %d rows (%s)", len(val_rows), val_method)
    if not val_rows:
        raise data.DataError("too little training data to hold out a validation split (need 2+ rows per label)")
    fitted = fit(train_rows, val_rows, cfg.fit, log, progress)
    labels, enc, model = fitted.labels, fitted.encoder, fitted.model
    index = {lab: i for i, lab in enumerate(labels)}
    unseen = sorted({r.label for r in sp.test} - set(labels) - {cfg.oos_label or ""})
    if unseen:
        log.warning("test labels never seen in training (always wrong): %s", ", ".join(unseen))

    val_rows = [r for r in val_rows if r.label in index]
    val_y = np.array([index[r.label] for r in val_rows], dtype=np.int64)
    val_logits = torch_logits(model, enc, [r.text for r in val_rows], len(labels))
    temperature = calibrate.fit_temperature(val_logits, val_y)
    val_probs = calibrate.softmax(val_logits, temperature)
    thresholds, th_info = thresholds_for(cfg, labels, val_probs, val_y)
    log.info("calibration: temperature %.3f, thresholds %s", temperature, thresholds)

    task_dir = cfg.out / cfg.task
    task_dir.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=".tmp-", dir=task_dir))
    try:
        onnx_path = tmp / "model.onnx"
        onnx_export.export(model, onnx_path, enc.encode([r.text for r in val_rows[:4]]))
        texts = [r.text for r in val_rows] + [r.text for r in sp.test]
        parity = onnx_export.check_parity(model, onnx_path,
                                          onnx_export.parity_batches(enc, texts, cfg.parity_batches, cfg.fit.seed))
        log.info("onnx parity over %d batches: max |ORT - PyTorch| = %.3g", cfg.parity_batches, parity)
        enc.tokenizer.save(str(tmp / "tokenizer.json"))
        card.write_json(tmp / "labels.json", labels)

        test_texts = [r.text for r in sp.test]
        test_labels = [r.label for r in sp.test]
        policy = Policy(thresholds["confidence"], cfg.oos_label, thresholds.get("out_of_scope", 0.0))

        def ort_logits(path: Path) -> np.ndarray:
            sess = onnx_export.session(path)
            return batched_logits(lambda b: onnx_export.run(sess, b), enc, test_texts, len(labels))

        test_logits = ort_logits(onnx_path)
        probs = calibrate.softmax(test_logits, temperature)
        result = score(test_labels, probs, labels, policy)
        onnx_info: dict[str, object] = {"opset": onnx_export.OPSET, "parity_max_abs_diff": parity,
                                        "parity_batches": cfg.parity_batches, "quantized": False}
        if cfg.quantize:
            q_path = tmp / "model.int8.onnx"
            onnx_export.quantize(onnx_path, q_path)
            q_logits = ort_logits(q_path)
            q_probs = calibrate.softmax(q_logits, temperature)
            q_result = score(test_labels, q_probs, labels, policy)
            onnx_info.update({"accuracy_fp32": result["accuracy"], "accuracy_int8": q_result["accuracy"],
                              "delta": float(q_result["accuracy"]) - float(result["accuracy"]),
                              "size_fp32_bytes": onnx_path.stat().st_size, "size_int8_bytes": q_path.stat().st_size})
            log.info("int8: test accuracy %.4f (fp32 %.4f)", q_result["accuracy"], result["accuracy"])
            if cfg.keep == "int8":
                os.replace(q_path, onnx_path)
                test_logits, probs, result = q_logits, q_probs, q_result
                onnx_info["quantized"] = True
                onnx_info["quantization"] = "onnxruntime quantize_dynamic, QInt8 weights"
            else:
                q_path.unlink()
        y_idx = np.array([index.get(lab, -1) for lab in test_labels])
        known = y_idx >= 0
        metrics: dict[str, object] = {
            "accuracy": result["accuracy"],
            "macro_f1": result["macro_f1"],
            "ece": calibrate.ece(probs[known], y_idx[known]),
            "ece_uncalibrated": calibrate.ece(calibrate.softmax(test_logits)[known], y_idx[known]),
        }
        for k in ("oos_recall", "in_scope_accuracy", "false_oos_rate", "needs_review_rate", "unknown_labels"):
            if k in result:
                metrics[k] = result[k]
        metrics["per_class"] = result["per_class"]
        metrics["confusion_labels"] = labels
        metrics["confusion"] = result["confusion"]
        metrics["validation"] = {"accuracy": float((val_probs.argmax(axis=1) == val_y).mean()),
                                 "ece": calibrate.ece(val_probs, val_y),
                                 "ece_uncalibrated": calibrate.ece(calibrate.softmax(val_logits), val_y),
                                 "thresholds": th_info}
        if cfg.measure_latency:
            metrics.update(onnx_export.measure(onnx_path, enc.vocab_size, enc.pad_id))

        version = cfg.version or next_version(task_dir, started)
        c = card.build(
            task=cfg.task, version=version, architecture=cfg.fit.arch, created_at=started,
            onnx_path=onnx_path, max_length=enc.max_length, min_length=enc.min_length, pad_id=enc.pad_id,
            temperature=temperature, thresholds=thresholds, oos_label=cfg.oos_label,
            data={
                "source": cfg.source or str(cfg.data),
                "file": str(cfg.data),
                "test_file": str(cfg.test) if cfg.test else None,
                "train_rows": len(train_rows), "val_rows": len(val_rows), "test_rows": len(sp.test),
                "split": sp.method, "split_details": sp.details,
                "test_sha256": data.sha256_rows(sp.test),
                "cleaning": stats.as_dict(),
                "train_label_counts": data.label_counts(train_rows),
            },
            training={
                **cfg.fit.as_dict(),
                "epochs_run": fitted.epochs_run, "best_epoch": fitted.best_epoch, "stopped_by": fitted.stopped_by,
                "seconds": round(fitted.seconds, 1), "history": fitted.history,
                "tokenizer_source": fitted.tokenizer_source, "vocab_size_actual": enc.vocab_size,
                "optimizer": "AdamW, linear warm-up + cosine decay, grad clip 1.0",
                "val_fraction": cfg.val_fraction, "val_split": val_method, "target_precision": cfg.target_precision,
                "git_commit": card.git_commit(), "torch": torch.__version__,
                "python": platform.python_version(),
                "command": list(cfg.argv) if cfg.argv is not None else None,
            },
            metrics=metrics, onnx_info=onnx_info, license=fitted.license, notes=cfg.notes,
        )
        card.write_json(tmp / "card.json", c)
        card.confusion_png(tmp / "confusion.png", result["confusion"], labels,
                           f"{cfg.task} {version}: test accuracy {result['accuracy']:.3f}")
        final = task_dir / version
        if final.exists():
            raise FileExistsError(f"{final} already exists; model directories are never overwritten")
        os.chmod(tmp, 0o755)
        os.rename(tmp, final)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    log.info("wrote %s: test accuracy %.4f, macro-F1 %.4f", final, result["accuracy"], result["macro_f1"])
    return final
