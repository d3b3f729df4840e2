"""Temperature scaling, ECE and the decision thresholds."""

from __future__ import annotations

import numpy as np
import pytest

from switchboard_training import calibrate


@pytest.mark.parametrize("true_t", [0.5, 1.0, 2.5])
def test_fit_temperature_recovers_the_generating_temperature(true_t: float) -> None:
    rng = np.random.default_rng(0)
    logits = rng.normal(0, 3, size=(4000, 5))
    p = calibrate.softmax(logits, true_t)
    labels = np.array([rng.choice(5, p=row) for row in p])
    assert calibrate.fit_temperature(logits, labels) == pytest.approx(true_t, rel=0.1)


def test_ece() -> None:
    probs = np.array([[0.9, 0.1], [0.9, 0.1], [0.6, 0.4], [0.6, 0.4]])
    # Bin 0.9: accuracy 1/2 vs 0.9; bin 0.6: accuracy 1 vs 0.6 -> (0.4 + 0.4) / 2.
    assert calibrate.ece(probs, np.array([0, 1, 0, 0])) == pytest.approx(0.4)
    assert calibrate.ece(np.array([[1.0, 0.0]]), np.array([0])) == pytest.approx(0.0)


@pytest.mark.parametrize(
    "scores, positive, target, want_t, want_p",
    [
        ([0.9, 0.8, 0.7, 0.6, 0.5], [1, 1, 1, 0, 1], 0.95, 0.7, 1.0),
        ([0.9, 0.8, 0.7, 0.6, 0.5], [1, 1, 1, 0, 1], 0.8, 0.5, 0.8),
        ([0.9, 0.8], [0, 0], 0.95, 0.8, 0.0),  # unreachable: best precision, lowest tie
        ([0.9, 0.9, 0.5], [1, 0, 1], 0.6, 0.5, 2 / 3),  # equal scores are accepted together
    ],
)
def test_precision_threshold(scores: list, positive: list, target: float, want_t: float, want_p: float) -> None:
    t, p = calibrate.precision_threshold(np.array(scores), np.array(positive, dtype=bool), target)
    assert (t, p) == (pytest.approx(want_t), pytest.approx(want_p))


def test_oos_threshold_balances_accuracy_and_recall() -> None:
    # Class 2 is out of scope. In-scope rows are confident; OOS rows are
    # predicted in scope with low confidence, so only a threshold catches them.
    probs = np.array([[0.9, 0.05, 0.05], [0.05, 0.9, 0.05], [0.8, 0.1, 0.1],
                      [0.5, 0.3, 0.2], [0.45, 0.35, 0.2], [0.1, 0.1, 0.8]])
    labels = np.array([0, 1, 0, 2, 2, 2])
    ch = calibrate.fit_oos_threshold(probs, labels, 2)
    assert 0.5 < ch.threshold <= 0.8
    assert (ch.in_scope_accuracy, ch.oos_recall) == (1.0, 1.0)
    flagged = calibrate.oos_predicted(probs, 2, ch.threshold)
    assert flagged.tolist() == [False, False, False, True, True, True]
