"""Scoring exported model directories with ONNX Runtime, as Go serves them.

:func:`score` is the one place where predictions become metrics; training's
test evaluation, `evaluate`, `compare`, `promote` and `cv` all use it, so
their numbers mean the same thing.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from sklearn.metrics import confusion_matrix, precision_recall_fscore_support

from switchboard_training import calibrate, onnx_export
from switchboard_training.data import Example
from switchboard_training.tok import Batch, Encoder, load_tokenizer

REQUIRED_FILES: tuple[str, ...] = ("model.onnx", "tokenizer.json", "labels.json", "card.json")


class ModelDirError(ValueError):
    """ModelDirError is a model directory that does not follow docs/models.md."""


@dataclass(frozen=True)
class Policy:
    """Policy is how serving turns probabilities into a decision (from the card)."""

    confidence: float = 0.0
    oos_label: str | None = None
    oos_threshold: float = 0.0


def read_json(path: Path) -> object:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as e:
        raise ModelDirError(f"{path}: missing") from e
    except json.JSONDecodeError as e:
        raise ModelDirError(f"{path}: bad JSON: {e}") from e


class OnnxClassifier:
    """OnnxClassifier is an exported classifier directory opened for scoring."""

    def __init__(self, model_dir: str | Path, threads: int = 1, onnx_file: str = "model.onnx") -> None:
        d = Path(model_dir)
        if not d.is_dir():
            raise ModelDirError(f"{d}: no such model directory")
        for f in REQUIRED_FILES:
            if not (d / f).is_file():
                raise ModelDirError(f"{d}: missing {f} (see docs/models.md)")
        card = read_json(d / "card.json")
        labels = read_json(d / "labels.json")
        if not isinstance(card, dict):
            raise ModelDirError(f"{d}/card.json: want a JSON object")
        if card.get("kind", "classifier") != "classifier":
            raise ModelDirError(f"{d}: card.kind is {card.get('kind')!r}, want a classifier")
        if not isinstance(labels, list) or not labels or not all(isinstance(x, str) and x for x in labels):
            raise ModelDirError(f"{d}/labels.json: want a non-empty JSON array of label strings")
        if len(set(labels)) != len(labels):
            raise ModelDirError(f"{d}/labels.json: labels are not unique")
        self.dir = d
        self.card: dict = card
        self.labels: list[str] = labels
        tok = load_tokenizer(d / "tokenizer.json", int(card.get("max_length", 128)))
        self.encoder = Encoder(tok, int(card.get("max_length", 128)), int(card.get("min_length", 1)))
        if int(card.get("pad_id", self.encoder.pad_id)) != self.encoder.pad_id:
            raise ModelDirError(f"{d}: card pad_id {card.get('pad_id')} != tokenizer's [PAD] id {self.encoder.pad_id}")
        self.session = onnx_export.session(d / onnx_file, threads)
        self.temperature = float(card.get("calibration", {}).get("temperature", 1.0))
        th = card.get("thresholds", {})
        self.policy = Policy(
            confidence=float(th.get("confidence", 0.0)),
            oos_label=card.get("out_of_scope_label"),
            oos_threshold=float(th.get("out_of_scope", 0.0)),
        )

    def logits(self, texts: Sequence[str], batch_size: int = 64) -> np.ndarray:
        """logits scores texts in input order."""
        return batched_logits(lambda b: onnx_export.run(self.session, b), self.encoder, texts,
                              len(self.labels), batch_size)

    def probs(self, texts: Sequence[str]) -> np.ndarray:
        """probs is softmax(logits / calibration.temperature), as serving computes it."""
        return calibrate.softmax(self.logits(texts), self.temperature)


def batched_logits(
    fn: Callable[[Batch], np.ndarray], encoder: Encoder, texts: Sequence[str], width: int, batch_size: int = 64,
) -> np.ndarray:
    """batched_logits runs fn over texts in batches of similar length (outputs
    do not depend on padding, and less padding is faster), in input order."""
    rows = encoder.ids(texts)
    order = sorted(range(len(rows)), key=lambda i: len(rows[i]))
    out = np.zeros((len(rows), width), dtype=np.float32)
    for s in range(0, len(order), batch_size):
        idx = order[s : s + batch_size]
        out[idx] = fn(encoder.pad([rows[i] for i in idx]))
    return out


def score(
    true_labels: Sequence[str], probs: np.ndarray, labels: Sequence[str], policy: Policy,
) -> dict[str, object]:
    """score computes the evaluation JSON for calibrated probabilities.

    With policy.oos_label, a row is predicted out of scope when the argmax
    is that label or the max probability is below policy.oos_threshold, and
    true labels the model does not know count as out of scope; without it
    they are counted in unknown_labels and are always wrong.
    """
    labels = list(labels)
    index = {lab: i for i, lab in enumerate(labels)}
    oos = policy.oos_label
    truth: list[str] = []
    unknown = 0
    for lab in true_labels:
        if lab not in index:
            if oos:
                lab = oos
            else:
                unknown += 1
        truth.append(lab)
    n = len(truth)
    conf = probs.max(axis=1) if n else np.zeros(0)
    pred = [labels[i] for i in probs.argmax(axis=1)] if n else []
    if oos:
        flagged = [p == oos or c < policy.oos_threshold for p, c in zip(pred, conf)]
        pred = [oos if f else p for p, f in zip(pred, flagged)]
    y, p = np.array(truth, dtype=object), np.array(pred, dtype=object)
    out: dict[str, object] = {"n": n}
    if n == 0:
        return out
    correct = y == p
    out["accuracy"] = float(correct.mean())
    present = sorted(set(truth) | set(pred), key=lambda s: (s not in index, index.get(s, 0), s))
    prec, rec, f1, sup = precision_recall_fscore_support(y, p, labels=present, zero_division=0)
    out["macro_f1"] = float(np.mean(f1))
    if oos:
        is_oos = y == oos
        out["oos_recall"] = float((p[is_oos] == oos).mean()) if is_oos.any() else None
        out["in_scope_accuracy"] = float(correct[~is_oos].mean()) if (~is_oos).any() else None
        out["false_oos_rate"] = float((p[~is_oos] == oos).mean()) if (~is_oos).any() else None
    else:
        out["in_scope_accuracy"] = out["accuracy"]
    out["needs_review_rate"] = float((conf < policy.confidence).mean())
    out["per_class"] = {
        lab: {"precision": float(a), "recall": float(b), "f1": float(c), "support": int(d)}
        for lab, a, b, c, d in zip(present, prec, rec, f1, sup)
    }
    out["unknown_labels"] = unknown
    known = np.array([t in index for t in truth])
    out["confusion_labels"] = labels
    out["confusion"] = confusion_matrix(y[known], p[known], labels=labels).tolist() if known.any() else []
    return out


def evaluate_dir(model_dir: str | Path, rows: Sequence[Example], oos_label: str | None = None) -> dict[str, object]:
    """evaluate_dir scores an exported model directory on rows.

    oos_label defaults to the card's out_of_scope_label.
    """
    clf = OnnxClassifier(model_dir)
    pol = clf.policy
    if oos_label:
        pol = Policy(pol.confidence, oos_label, pol.oos_threshold)
    return score([r.label for r in rows], clf.probs([r.text for r in rows]), clf.labels, pol)


def summary(result: dict[str, object]) -> dict[str, object]:
    """summary drops the bulky confusion matrix for printing."""
    return {k: v for k, v in result.items() if k not in ("confusion", "confusion_labels")}


def deltas(candidate: dict[str, object], production: dict[str, object]) -> dict[str, float]:
    """deltas is candidate minus production for every top-level number both have."""
    out = {}
    for k, v in candidate.items():
        w = production.get(k)
        if isinstance(v, (int, float)) and isinstance(w, (int, float)) and not isinstance(v, bool) and k != "n":
            out[k] = float(v) - float(w)
    return out
