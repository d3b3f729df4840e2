"""Stratified k-fold cross-validation of a training recipe.

Each fold learns its own tokenizer from its training part only, so nothing
about the test part leaks in; this is how recipes are compared on public
datasets.
"""

from __future__ import annotations

import logging
import statistics
from collections.abc import Sequence

import numpy as np
from sklearn.model_selection import StratifiedKFold

from switchboard_training import data
from switchboard_training.evaluate import Policy, score
from switchboard_training.calibrate import softmax
from switchboard_training.train import FitConfig, fit, torch_logits


def cross_validate(
    rows: Sequence[data.Example],
    cfg: FitConfig,
    folds: int,
    log: logging.Logger,
    val_fraction: float = 0.1,
    only_folds: Sequence[int] | None = None,
    progress: bool = True,
) -> dict[str, object]:
    """cross_validate trains and tests one model per fold (folds numbered from 1)
    and returns per-fold accuracy / macro-F1 with mean and standard deviation."""
    if folds < 2:
        raise data.DataError(f"--folds must be at least 2, got {folds}")
    labels = [r.label for r in rows]
    smallest = min(data.label_counts(rows).values())
    if smallest < folds:
        raise data.DataError(f"a label has only {smallest} rows, fewer than --folds {folds}")
    skf = StratifiedKFold(n_splits=folds, shuffle=True, random_state=cfg.seed)
    out_folds = []
    for k, (tr, te) in enumerate(skf.split(np.zeros(len(rows)), labels), start=1):
        if only_folds and k not in only_folds:
            continue
        train_part = [rows[i] for i in tr]
        test_part = [rows[i] for i in te]
        rest, held = data.stratified_indices([r.label for r in train_part], val_fraction, cfg.seed + k)
        fitted = fit([train_part[i] for i in rest], [train_part[i] for i in held], cfg, log, progress)
        lg = torch_logits(fitted.model, fitted.encoder, [r.text for r in test_part], len(fitted.labels))
        res = score([r.label for r in test_part], softmax(lg), fitted.labels, Policy())
        fold = {"fold": k, "train_rows": len(rest), "val_rows": len(held), "test_rows": len(test_part),
                "accuracy": res["accuracy"], "macro_f1": res["macro_f1"], "epochs_run": fitted.epochs_run,
                "best_epoch": fitted.best_epoch, "seconds": round(fitted.seconds, 1)}
        log.info("fold %d: accuracy %.4f, macro-F1 %.4f (%d epochs, best %d, %.0fs)", k, res["accuracy"],
                 res["macro_f1"], fitted.epochs_run, fitted.best_epoch, fitted.seconds)
        out_folds.append(fold)

    def agg(key: str) -> dict[str, float]:
        xs = [float(f[key]) for f in out_folds]
        return {"mean": statistics.fmean(xs), "std": statistics.pstdev(xs) if len(xs) > 1 else 0.0}

    return {"rows": len(rows), "folds": folds, "config": cfg.as_dict(), "per_fold": out_folds,
            "accuracy": agg("accuracy"), "macro_f1": agg("macro_f1")}
