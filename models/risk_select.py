"""Which scorer of P(late) AR Lens ships: chosen by rolling-origin validation inside the training
window, never by the test period.

A model earns its place only by beating the customer's historical late rate, the number a credit
manager would compute by hand. The candidates are a small, fixed grid (gradient-boosted trees,
regularised logistic regression) and that baseline. Each candidate is fitted at a few origins
inside the training window on the invoices issued before the origin, with their labels as known
on that day, and scored on the invoices issued from the origin to the next one (labels as known at
the cut-off): the same question the test period asks later, asked earlier. The out-of-origin
predictions are pooled; a candidate beats the baseline when the lower bound of the paired,
customer-clustered bootstrap interval of its ROC AUC gain is above zero, or when it ranks better
and its probabilities are better beyond noise (log loss). The best such candidate
is shipped; with none, the historical rate is.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd

from models import risk_eval
from models.risk_pipeline import HistoricalRateClassifier, late_model, logistic_baseline

BASELINE = "historical_rate"
ORIGINS = (0.55, 0.7, 0.85)  # where the folds start, as quantiles of the training invoice dates
MIN_FIT_INVOICES = 200
MIN_FIT_PER_CLASS = 20
MAX_FIT_INVOICES = 40_000  # a validation fit learns from at most this many of the newest invoices


@dataclass(frozen=True)
class Candidate:
    key: str
    label: str
    build: Callable[[list[str], list[str]], object]
    description: str


CANDIDATES = [
    Candidate(
        "trees",
        "Gradient-boosted trees (31 leaves)",
        lambda num, cat: late_model(num, cat, leaves=31, min_leaf=100),
        "HistGradientBoostingClassifier(learning_rate=0.2, max_leaf_nodes=31, "
        "min_samples_leaf=100, l2_regularization=1, early stopping), sigmoid-calibrated on the "
        "newest 20% of its training rows, then refitted on all of them",
    ),
    Candidate(
        "trees_small",
        "Gradient-boosted trees (7 leaves)",
        lambda num, cat: late_model(num, cat, leaves=7, min_leaf=40),
        "as above with max_leaf_nodes=7, min_samples_leaf=40: for small registers",
    ),
    Candidate(
        "logistic",
        "Logistic regression (C = 1)",
        lambda num, cat: logistic_baseline(num, cat, C=1.0),
        "LogisticRegression(C=1) on median-imputed, arcsinh-squashed, scaled numbers and "
        "one-hot categories",
    ),
    Candidate(
        "logistic_strong",
        "Logistic regression (C = 0.05)",
        lambda num, cat: logistic_baseline(num, cat, C=0.05),
        "as above with C=0.05 (stronger regularisation)",
    ),
    Candidate(
        BASELINE,
        "Historical late rate",
        lambda num, cat: HistoricalRateClassifier(),
        "the customer's share of earlier settled invoices paid late (the training late rate "
        "for a customer with none)",
    ),
]
BY_KEY = {c.key: c for c in CANDIDATES}
LABELS = {c.key: c.label for c in CANDIDATES}


def origins(dates: pd.Series, cutoff) -> list[tuple[pd.Timestamp, pd.Timestamp]]:
    """The validation folds: (origin, end) pairs splitting the newer part of the training window;
    the last one ends at the cut-off."""
    starts = sorted({pd.Timestamp(dates.quantile(q)).normalize() for q in ORIGINS})
    ends = [*starts[1:], pd.Timestamp(cutoff)]
    return [(s, e) for s, e in zip(starts, ends, strict=True) if s < e]


def newest(rows: np.ndarray, limit: int = MAX_FIT_INVOICES) -> np.ndarray:
    """`rows` (a boolean mask over rows in date order) keeping only the newest `limit`."""
    where = np.flatnonzero(rows)
    if len(where) <= limit:
        return rows
    kept = np.zeros_like(rows)
    kept[where[-limit:]] = True
    return kept


def fit_all(X: pd.DataFrame, y: np.ndarray, numeric, categorical, keys=None) -> dict:
    """Every candidate (or those in `keys`) fitted on (X, y): {key: fitted estimator}."""
    fitted = {}
    for c in CANDIDATES:
        if keys is None or c.key in keys:
            fitted[c.key] = c.build(numeric, categorical).fit(X, y)
    return fitted


def validate(
    X: pd.DataFrame,
    groups: np.ndarray,
    folds: list[dict],
    numeric: list[str],
    categorical: list[str],
) -> dict:
    """Rolling-origin validation. `folds`: for each origin, {"origin", "end", "fit" (mask),
    "y_fit", "check" (mask), "y_check"}. Returns the per-fold and pooled metrics of every
    candidate, the paired differences against the baseline, and the choice with its reason."""
    pooled = {c.key: [] for c in CANDIDATES}
    pooled_y, pooled_groups, per_fold = [], [], []
    for fold in folds:
        fit, y_fit = fold["fit"], fold["y_fit"]
        late = int(y_fit.sum())
        usable = (
            len(y_fit) >= MIN_FIT_INVOICES and min(late, len(y_fit) - late) >= MIN_FIT_PER_CLASS
        )
        if not usable or not fold["check"].any():
            per_fold.append(
                _fold_summary(fold, None, "too few labelled invoices before the origin")
            )
            continue
        keep = newest(fit)
        y_kept = y_fit[keep[fit]]
        fitted = fit_all(X[keep], y_kept, numeric, categorical)
        X_check, y_check = X[fold["check"]], fold["y_check"]
        scores = {k: m.predict_proba(X_check)[:, 1] for k, m in fitted.items()}
        for key, p in scores.items():
            pooled[key].append(p)
        pooled_y.append(y_check)
        pooled_groups.append(groups[fold["check"]])
        metrics = {k: risk_eval.evaluate(y_check, p) for k, p in scores.items()}
        per_fold.append(_fold_summary(fold, metrics, None, fitted=int(keep.sum())))
    if not pooled_y:
        return _no_validation(per_fold, "no validation fold had enough labelled history")
    y = np.concatenate(pooled_y)
    scores = {k: np.concatenate(v) for k, v in pooled.items()}
    refused = risk_eval.refusals(y)
    if "roc_auc" in refused:
        return _no_validation(
            per_fold, f"the validation invoices are too few: {refused['roc_auc']}"
        )
    metrics = {k: risk_eval.evaluate(y, p) for k, p in scores.items()}
    boot = risk_eval.intervals(y, scores, groups=np.concatenate(pooled_groups), reference=BASELINE)
    chosen, reason = choose(metrics, boot["differences"])
    return {
        "folds": per_fold,
        "invoices": len(y),
        "late_share": float(np.mean(y)),
        "metrics": metrics,
        "intervals": boot["intervals"],
        "differences": boot["differences"],
        "chosen": chosen,
        "reason": reason,
    }


def choose(metrics: dict, differences: dict) -> tuple[str, str]:
    """The candidate with the best pooled validation ROC AUC among those that beat the baseline:
    ranking better beyond noise (the lower bound of the AUC gain's interval above zero), or
    ranking better with probabilities better beyond noise (the upper bound of the log-loss
    change below zero: log loss judges the probabilities the amount at risk is built on). With
    none, the baseline."""

    def beats(key: str) -> str | None:
        auc, loss = (differences.get(key) or {}).get("roc_auc"), (differences.get(key) or {}).get("log_loss")  # fmt: skip
        if not auc or auc["low"] is None:
            return None
        if auc["low"] > 0:
            return (
                f"ROC AUC {auc['difference']:+.3f} (95% CI {auc['low']:+.3f} to {auc['high']:+.3f})"
            )
        if auc["difference"] > 0 and loss and loss["high"] is not None and loss["high"] < 0:
            return (
                f"ROC AUC {auc['difference']:+.3f} and log loss {loss['difference']:+.4f} "
                f"(95% CI {loss['low']:+.4f} to {loss['high']:+.4f})"
            )
        return None

    beating = {k: why for k in differences if (why := beats(k))}
    if not beating:
        return BASELINE, (
            "no model beat the historical late rate on validation beyond the bootstrap interval"
        )
    best = max(beating, key=lambda k: (metrics[k]["roc_auc"], -metrics[k]["log_loss"]))
    return best, (
        f"best validation ROC AUC ({metrics[best]['roc_auc']:.3f}) among the candidates that beat "
        f"the historical late rate; against it: {beating[best]}"
    )


def _fold_summary(fold: dict, metrics: dict | None, skipped: str | None, fitted: int = 0) -> dict:
    return {
        "origin": fold["origin"].date().isoformat(),
        "end": fold["end"].date().isoformat(),
        "fit_invoices": fitted,
        "check_invoices": int(fold["check"].sum()),
        "check_late_share": float(np.mean(fold["y_check"])) if len(fold["y_check"]) else None,
        "roc_auc": {k: m["roc_auc"] for k, m in metrics.items()} if metrics else None,
        "skipped": skipped,
    }


def _no_validation(per_fold: list[dict], reason: str) -> dict:
    return {
        "folds": per_fold,
        "invoices": 0,
        "late_share": None,
        "metrics": {},
        "intervals": {},
        "differences": {},
        "chosen": BASELINE,
        "reason": f"{reason}: the historical late rate is used",
    }
