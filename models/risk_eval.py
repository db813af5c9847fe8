"""How well P(late) scores rank and are calibrated on the invoices after the cut-off.

A metric is reported only when the test set can carry it: too few invoices, or too few of one
class, and the metric is None with the reason beside it (`refused`), never a number from noise.
"""

from __future__ import annotations

import math

import numpy as np
from sklearn.calibration import calibration_curve
from sklearn.metrics import average_precision_score, brier_score_loss, roc_auc_score, roc_curve

MIN_TEST_INVOICES = 200  # below this no metric is reported
MIN_PER_CLASS = 20  # ROC AUC, PR AUC and lift need this many late and on-time invoices
METRICS = ("roc_auc", "pr_auc", "brier", "accuracy", "top_decile_lift")
METRIC_NAMES = {
    "roc_auc": "ROC AUC",
    "pr_auc": "PR AUC",
    "brier": "Brier score",
    "accuracy": "Accuracy",
    "top_decile_lift": "Top-decile lift",
}


def refusals(y: np.ndarray) -> dict[str, str]:
    """The metrics this test set is too small for, each with the reason."""
    n, late = len(y), int(np.sum(y))
    if n < MIN_TEST_INVOICES:
        reason = (
            f"the test set has {n} labelled invoices, fewer than {MIN_TEST_INVOICES}: "
            "choose an earlier --cutoff or wait for more history"
        )
        return dict.fromkeys(METRICS, reason)
    if min(late, n - late) < MIN_PER_CLASS:
        reason = (
            f"the test set has {late} late and {n - late} on-time invoices; ranking metrics "
            f"need at least {MIN_PER_CLASS} of each"
        )
        return dict.fromkeys(("roc_auc", "pr_auc", "top_decile_lift"), reason)
    return {}


def top_decile_lift(y: np.ndarray, p: np.ndarray) -> float:
    """Late rate among the 10% highest scores / the overall late rate (ties keep their order)."""
    k = math.ceil(len(y) / 10)
    top = np.argsort(-p, kind="stable")[:k]
    return float(np.mean(y[top]) / np.mean(y))


def evaluate(y: np.ndarray, p: np.ndarray, threshold: float = 0.5) -> dict[str, float | None]:
    """ROC AUC, PR AUC, Brier score, accuracy at `threshold` and top-decile lift (None: refused)."""
    y, p = np.asarray(y, dtype=int), np.asarray(p, dtype=float)
    refused = refusals(y)
    compute = {
        "roc_auc": lambda: roc_auc_score(y, p),
        "pr_auc": lambda: average_precision_score(y, p),
        "brier": lambda: brier_score_loss(y, p),
        "accuracy": lambda: np.mean((p >= threshold) == y),
        "top_decile_lift": lambda: top_decile_lift(y, p),
    }
    return {name: None if name in refused else float(compute[name]()) for name in METRICS}


def curves(y: np.ndarray, scores: dict[str, np.ndarray], points: int = 60) -> dict:
    """Calibration curves (10 quantile bins) and ROC curves (thinned to ~`points`) per scorer."""
    y = np.asarray(y, dtype=int)
    if refusals(y):
        return {}
    out: dict = {"calibration": {}, "roc": {}}
    for name, p in scores.items():
        observed, predicted = calibration_curve(y, p, n_bins=10, strategy="quantile")
        out["calibration"][name] = {
            "predicted": [round(float(v), 4) for v in predicted],
            "observed": [round(float(v), 4) for v in observed],
        }
        fpr, tpr, _ = roc_curve(y, p)
        keep = np.unique(np.linspace(0, len(fpr) - 1, min(points, len(fpr))).astype(int))
        out["roc"][name] = {
            "fpr": [round(float(v), 4) for v in fpr[keep]],
            "tpr": [round(float(v), 4) for v in tpr[keep]],
        }
    return out
