"""Calibration and decision thresholds fitted on the validation split.

Serving turns logits into probabilities with softmax(logits / T) and then
compares them with the card's thresholds; everything here works on
validation data only, so test metrics stay an unbiased estimate.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

ECE_BINS = 15


def softmax(logits: np.ndarray, temperature: float = 1.0) -> np.ndarray:
    """softmax returns softmax(logits / temperature) row-wise, in float64."""
    z = np.asarray(logits, dtype=np.float64) / temperature
    z = z - z.max(axis=1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=1, keepdims=True)


def nll(logits: np.ndarray, labels: np.ndarray, temperature: float) -> float:
    """nll is the mean negative log-likelihood of labels under softmax(logits / T)."""
    z = np.asarray(logits, dtype=np.float64) / temperature
    z = z - z.max(axis=1, keepdims=True)
    logp = z - np.log(np.exp(z).sum(axis=1, keepdims=True))
    return float(-logp[np.arange(len(labels)), labels].mean())


def fit_temperature(logits: np.ndarray, labels: np.ndarray, lo: float = 0.05, hi: float = 20.0) -> float:
    """fit_temperature minimises validation NLL over T in [lo, hi].

    NLL is convex in 1/T, so a golden-section search on log T finds the
    optimum without a gradient optimiser's step-size tuning.
    """
    if len(labels) == 0:
        return 1.0
    a, b = math.log(lo), math.log(hi)
    g = (math.sqrt(5) - 1) / 2
    c, d = b - g * (b - a), a + g * (b - a)
    fc, fd = nll(logits, labels, math.exp(c)), nll(logits, labels, math.exp(d))
    for _ in range(80):
        if fc < fd:
            b, d, fd = d, c, fc
            c = b - g * (b - a)
            fc = nll(logits, labels, math.exp(c))
        else:
            a, c, fc = c, d, fd
            d = a + g * (b - a)
            fd = nll(logits, labels, math.exp(d))
    return float(math.exp((a + b) / 2))


def ece(probs: np.ndarray, labels: np.ndarray, bins: int = ECE_BINS) -> float:
    """ece is the expected calibration error: |accuracy - confidence| per
    equal-width confidence bin, weighted by the bin's share of rows."""
    if len(labels) == 0:
        return 0.0
    conf = probs.max(axis=1)
    correct = (probs.argmax(axis=1) == labels).astype(np.float64)
    edges = np.linspace(0.0, 1.0, bins + 1)
    total = 0.0
    for i in range(bins):
        lo, hi = edges[i], edges[i + 1]
        sel = (conf > lo) & (conf <= hi) if i else (conf >= lo) & (conf <= hi)
        if sel.any():
            total += sel.mean() * abs(correct[sel].mean() - conf[sel].mean())
    return float(total)


def precision_threshold(scores: np.ndarray, positive: np.ndarray, target: float) -> tuple[float, float | None]:
    """precision_threshold returns the lowest threshold t such that rows with
    score >= t are >= target positive, and that precision.

    When no threshold reaches the target it returns the one with the best
    precision (ties: the lowest), and that precision, so serving is as
    careful as the data allows; with no rows it returns (1.0, None).
    """
    if len(scores) == 0:
        return 1.0, None
    order = np.argsort(-scores, kind="stable")
    s, p = scores[order], positive[order].astype(np.float64)
    prec = np.cumsum(p) / np.arange(1, len(s) + 1)
    # Only cut between distinct scores: a threshold accepts all rows at its score.
    last_of_run = np.r_[s[1:] != s[:-1], True]
    cand = np.flatnonzero(last_of_run)
    ok = cand[prec[cand] >= target]
    if len(ok):
        i = ok.max()  # most rows accepted = lowest threshold
    else:
        best = prec[cand].max()
        i = cand[prec[cand] >= best - 1e-12].max()
    return float(s[i]), float(prec[i])


@dataclass
class OOSChoice:
    """OOSChoice is the out-of-scope threshold and what it achieved on validation."""

    threshold: float
    in_scope_accuracy: float
    oos_recall: float


def oos_predicted(probs: np.ndarray, oos_index: int, threshold: float) -> np.ndarray:
    """oos_predicted is the serving rule: argmax is the OOS class or max prob < threshold."""
    return (probs.argmax(axis=1) == oos_index) | (probs.max(axis=1) < threshold)


def fit_oos_threshold(probs: np.ndarray, labels: np.ndarray, oos_index: int) -> OOSChoice:
    """fit_oos_threshold picks the threshold maximising (in-scope accuracy + OOS recall) / 2.

    Ties go to the lowest threshold: it rejects fewer in-scope callers.
    """
    is_oos = labels == oos_index
    pred = probs.argmax(axis=1)
    conf = probs.max(axis=1)
    cands = np.unique(np.r_[0.0, conf])
    best: OOSChoice | None = None
    best_score = -1.0
    for t in cands:
        flagged = (pred == oos_index) | (conf < t)
        ins = ~is_oos
        acc = float(((pred == labels) & ~flagged)[ins].mean()) if ins.any() else 0.0
        rec = float(flagged[is_oos].mean()) if is_oos.any() else 0.0
        score = (acc + rec) / 2
        if score > best_score + 1e-12:
            best_score, best = score, OOSChoice(float(t), acc, rec)
    assert best is not None
    return best
