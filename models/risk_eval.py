"""How well P(late) scores rank and are calibrated on the invoices after the cut-off.

A reader of the model card has to decide whether the model is worth using instead of something
simpler, so a bare metric is not enough. Beside each metric this module reports:

* the context that makes it readable (`baselines`): the accuracy of always guessing the more
  common outcome, the late share, and the best top-decile lift any scorer could reach;
* how much it could move on another test period (`intervals`): bootstrap 95% intervals that
  resample customers, not invoices, because one customer's invoices are paid alike and
  resampling them one by one would make the intervals too narrow;
* whether a candidate really beats a baseline (`verdict`): the paired difference on the same
  resamples and a sentence saying "beats", "ties" (within the noise) or "does not beat".

A metric is reported only when the test set can carry it: too few invoices, or too few of one
class, and the metric is None with the reason beside it (`refused`), never a number from noise.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
from sklearn.metrics import (
    average_precision_score,
    brier_score_loss,
    log_loss,
    roc_auc_score,
    roc_curve,
)

MIN_TEST_INVOICES = 200  # below this no metric is reported
MIN_PER_CLASS = 20  # ROC AUC, PR AUC and lift need this many late and on-time invoices
METRICS = ("roc_auc", "pr_auc", "brier", "log_loss", "accuracy", "top_decile_lift")
METRIC_NAMES = {
    "roc_auc": "ROC AUC",
    "pr_auc": "PR AUC",
    "brier": "Brier score",
    "log_loss": "Log loss",
    "accuracy": "Accuracy",
    "top_decile_lift": "Top-decile lift",
}
INTERVAL_METRICS = ("roc_auc", "pr_auc", "brier", "log_loss")  # bootstrapped by `intervals`
LOWER_IS_BETTER = frozenset({"brier", "log_loss"})
CLIP = 1e-6  # log loss clips P(late) to [CLIP, 1 - CLIP]
_TINY = np.finfo(float).tiny
_BLOCK_CELLS = 2_000_000  # replicates x clusters drawn at once by `intervals` (memory bound)


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
    """Every metric of METRICS for scores `p` (accuracy at `threshold`); None where refused."""
    y, p = np.asarray(y, dtype=int), np.asarray(p, dtype=float)
    refused = refusals(y)
    compute = {
        "roc_auc": lambda: roc_auc_score(y, p),
        "pr_auc": lambda: average_precision_score(y, p),
        "brier": lambda: brier_score_loss(y, p),
        "log_loss": lambda: log_loss(y, np.clip(p, CLIP, 1 - CLIP), labels=[0, 1]),
        "accuracy": lambda: np.mean((p >= threshold) == y),
        "top_decile_lift": lambda: top_decile_lift(y, p),
    }
    return {name: None if name in refused else float(compute[name]()) for name in METRICS}


def baselines(y: np.ndarray) -> dict[str, float | None]:
    """What the metrics should be compared with: trivial accuracy, late share, best lift.

    `majority_rate` is the accuracy of always predicting the more frequent outcome,
    `top_decile_lift_ceiling` the lift of a scorer that puts every late invoice first.
    None where `refusals` refuses the matching metric (accuracy, lift; late share with all).
    """
    y = np.asarray(y, dtype=int)
    refused = refusals(y)
    n, late = len(y), int(y.sum())
    out: dict[str, float | None] = {
        "majority_rate": None,
        "late_share": None,
        "top_decile_lift_ceiling": None,
    }
    if "accuracy" not in refused:
        out["majority_rate"] = max(late, n - late) / n
        out["late_share"] = late / n
    if "top_decile_lift" not in refused:
        k = math.ceil(n / 10)
        out["top_decile_lift_ceiling"] = (min(k, late) / k) / (late / n)
    return out


# -- Weighted metrics for the bootstrap ------------------------------------------------------------


class _Scorer:
    """One scorer's rows sorted once (descending score), ready for many weight vectors.

    Per weight vector only the cumulative weights of late and of on-time rows in score order
    are needed; where each late row's tie group starts and ends is worked out here, once.
    """

    def __init__(self, y: np.ndarray, p: np.ndarray, clusters: np.ndarray):
        order = np.argsort(-p, kind="stable")
        p_sorted, late = p[order], y[order].astype(bool)
        self.late_clusters, self.on_time_clusters = clusters[order][late], clusters[order][~late]
        group = np.zeros(len(p), dtype=np.intp)  # tie group of each sorted row
        group[1:] = np.cumsum(p_sorted[1:] != p_sorted[:-1])
        ends = np.append(np.flatnonzero(np.diff(group)), len(p) - 1) if len(p) else group
        on_time_through = np.cumsum(~late)[ends]  # on-time rows down to the end of each group
        late_through = np.cumsum(late)[ends]
        g = group[late]
        self.on_time_above = np.concatenate([[0], on_time_through[:-1]])[g] if len(g) else g
        self.on_time_through = on_time_through[g]
        self.late_through = late_through[g]
        self.untied = np.array_equal(self.on_time_above, self.on_time_through)
        self.own = np.array_equal(self.late_through, np.arange(1, len(g) + 1))

    def ranking(self, counts: np.ndarray) -> tuple[float, float]:
        """Weighted ROC AUC and average precision for cluster weights `counts`.

        AUC is Mann-Whitney with ties counted half: 1 - sum_late w (F_above + F_through) / 2PN,
        F the on-time weight ranked above / down to the row's tie group. AP is sum over distinct
        thresholds of (R_k - R_{k-1}) P_k, as sklearn's average_precision_score.
        NaN when a class has no weight.
        """
        w_late = counts[self.late_clusters]
        kind = np.int64 if counts.dtype.kind in "iu" else np.float64
        tp, fp = np.empty(len(w_late) + 1, kind), np.empty(len(self.on_time_clusters) + 1, kind)
        tp[0] = fp[0] = 0
        np.cumsum(w_late, out=tp[1:])
        np.cumsum(counts[self.on_time_clusters], out=fp[1:])
        pos, neg = tp[-1], fp[-1]
        if pos <= 0 or neg <= 0:
            return math.nan, math.nan
        fp_through = fp[self.on_time_through]
        above = w_late @ fp_through
        above = 2 * above if self.untied else above + w_late @ fp[self.on_time_above]
        auc = 1.0 - float(above) / (2.0 * float(pos) * float(neg))
        tp_through = tp[1:] if self.own else tp[self.late_through]
        # Where nothing is ranked that high yet tp is 0 too, so any positive divisor gives 0.
        precision = tp_through / np.maximum(tp_through + fp_through, _TINY)
        return auc, float(w_late @ precision) / float(pos)


class _Engine:
    """Weighted ROC AUC, PR AUC, Brier and log loss of several scorers under cluster weights.

    A weight vector gives each cluster (customer, or invoice) a count; every row of a cluster
    takes its cluster's count, as if its rows were repeated that many times.
    """

    def __init__(self, y: np.ndarray, scores: dict[str, np.ndarray], clusters: np.ndarray):
        self.n_clusters = int(clusters.max()) + 1 if len(clusters) else 0
        self.names = list(scores)
        self.scorers = {name: _Scorer(y, p, clusters) for name, p in scores.items()}

        def per_cluster(values: np.ndarray) -> np.ndarray:
            return np.bincount(clusters, weights=values, minlength=self.n_clusters)

        # Brier and log loss are weighted means, so per-cluster sums are all they need.
        columns = [per_cluster(np.ones(len(y))), per_cluster(y.astype(float))]
        for p in scores.values():
            clipped = np.clip(p, CLIP, 1 - CLIP)
            columns.append(per_cluster((p - y) ** 2))
            columns.append(per_cluster(-np.where(y == 1, np.log(clipped), np.log1p(-clipped))))
        self.sums = np.column_stack(columns)

    def metrics(
        self, counts: np.ndarray, totals: np.ndarray | None = None
    ) -> dict[str, dict[str, float]] | None:
        """{scorer: {metric: value}} under cluster weights `counts`; None if a class is missing.

        `totals` is counts @ self.sums when the caller has it (one matrix product for a block
        of replicates). Integer counts (the bootstrap's) keep the cumulative sums exact; below
        256 they are gathered as bytes, which is faster (cumsum still adds in int64).
        """
        if totals is None:
            totals = counts.astype(float) @ self.sums
        weight, late = totals[0], totals[1]
        if late <= 0 or late >= weight:
            return None
        if counts.dtype.kind in "iu" and counts.min() >= 0 and counts.max() < 256:
            counts = counts.astype(np.uint8)
        out = {}
        for i, name in enumerate(self.names):
            auc, ap = self.scorers[name].ranking(counts)
            out[name] = {
                "roc_auc": auc,
                "pr_auc": ap,
                "brier": float(totals[2 + 2 * i] / weight),
                "log_loss": float(totals[3 + 2 * i] / weight),
            }
        return out


def weighted_metrics(
    y: np.ndarray, p: np.ndarray, weights: np.ndarray | None = None
) -> dict[str, float]:
    """ROC AUC, PR AUC, Brier score and log loss with row weights (the bootstrap's code path).

    NaN for every metric when one class has no weight.
    """
    y, p = np.asarray(y, dtype=int), np.asarray(p, dtype=float)
    weights = np.ones(len(y), dtype=np.int64) if weights is None else np.asarray(weights)
    result = _Engine(y, {"p": p}, np.arange(len(y))).metrics(weights)
    return dict.fromkeys(INTERVAL_METRICS, math.nan) if result is None else result["p"]


# -- Bootstrap intervals ---------------------------------------------------------------------------


def intervals(
    y: np.ndarray,
    scores: dict[str, np.ndarray],
    groups: np.ndarray | None = None,
    reference: str | None = None,
    n_boot: int = 200,
    seed: int = 0,
) -> dict:
    """Bootstrap 95% percentile intervals of ROC AUC, PR AUC, Brier and log loss per scorer.

    With `groups` (customer ids) whole customers are resampled with replacement, otherwise
    invoices. With `reference`, also the paired difference name - reference of each metric,
    computed on the same resamples. Refused metrics get None; replicates missing a class are
    skipped (`replicates_used` says how many were kept).
    """
    y = np.asarray(y, dtype=int)
    scores = {name: np.asarray(p, dtype=float) for name, p in scores.items()}
    if reference is not None and reference not in scores:
        raise ValueError(f"reference {reference!r} is not one of the scores {list(scores)}")
    if any(len(p) != len(y) for p in scores.values()):
        raise ValueError("every score array needs one value per invoice of y")
    if groups is None:
        clusters = np.arange(len(y))
    else:
        if len(groups) != len(y):
            raise ValueError("groups needs one customer id per invoice of y")
        clusters = pd.factorize(np.asarray(groups), use_na_sentinel=False)[0]  # missing: a group
    refused = refusals(y)
    engine = _Engine(y, scores, clusters)
    n_clusters = engine.n_clusters

    kept: list[dict] = []  # one {scorer: {metric: value}} per replicate with both classes
    if n_clusters and not set(INTERVAL_METRICS) <= set(refused):
        rng = np.random.default_rng(seed)
        block = max(1, min(n_boot, _BLOCK_CELLS // n_clusters))
        for start in range(0, n_boot, block):
            size = min(block, n_boot - start)
            # Each replicate draws n_clusters clusters with replacement, equal chances: an exact
            # multinomial count per cluster (bincount over the replicate's own offset range).
            draws = rng.integers(0, n_clusters, (size, n_clusters))
            draws += np.arange(size)[:, None] * n_clusters
            counts = np.bincount(draws.ravel(), minlength=size * n_clusters)
            counts = counts.reshape(size, n_clusters)
            totals = counts.astype(float) @ engine.sums
            for row, row_totals in zip(counts, totals, strict=True):
                result = engine.metrics(row, row_totals)
                if result is not None:
                    kept.append(result)

    def spread(name: str, metric: str, minus: str | None = None) -> list[float] | None:
        if metric in refused or not kept:
            return None
        values = np.array([r[name][metric] - (r[minus][metric] if minus else 0.0) for r in kept])
        values = values[~np.isnan(values)]
        if not len(values):
            return None
        low, high = np.percentile(values, [2.5, 97.5])
        return [float(low), float(high)]

    out: dict = {
        "n_boot": n_boot,
        "clustered_by": "invoice" if groups is None else "customer",
        "replicates_used": len(kept),
        "intervals": {name: {m: spread(name, m) for m in INTERVAL_METRICS} for name in scores},
        "differences": {},
    }
    if reference is None:
        return out
    point = engine.metrics(np.ones(n_clusters, dtype=np.int64))  # every invoice once
    for name in scores:
        if name == reference:
            continue
        out["differences"][name] = {}
        for m in INTERVAL_METRICS:
            bounds = spread(name, m, minus=reference)
            if m in refused or point is None:
                out["differences"][name][m] = None
                continue
            out["differences"][name][m] = {
                "difference": float(point[name][m] - point[reference][m]),
                "low": None if bounds is None else bounds[0],
                "high": None if bounds is None else bounds[1],
            }
    return out


# -- Verdict in words ------------------------------------------------------------------------------

_UNITS = {"roc_auc": "AUC", "pr_auc": "PR AUC", "brier": "Brier", "log_loss": "log loss"}


def _number(value: float) -> str:
    """Two decimals from 0.01 up, else three; a real minus sign; never "−0.000"."""
    text = f"{value:.2f}" if abs(value) >= 0.01 else f"{value:.3f}"
    if text.startswith("-") and float(text) == 0:
        text = text[1:]
    return text.replace("-", "\u2212")


def verdict(
    differences: dict,
    candidate_label: str,
    baseline_label: str = "the historical late rate",
    metric: str = "roc_auc",
    reason: str | None = None,
) -> str:
    """One sentence: does the candidate beat the baseline on `metric`, beyond the noise?

    `differences` is intervals()["differences"][candidate]. For Brier and log loss (lower is
    better) the numbers shown are the improvement, so "better" is always positive.
    """
    entry = (differences or {}).get(metric)
    if entry is None or entry.get("low") is None or entry.get("high") is None:
        why = reason or (
            "the test set is too small for it"
            if entry is None
            else "no bootstrap resample had both late and on-time invoices"
        )
        return f"{candidate_label} cannot be compared with {baseline_label}: {why}"
    gain, low, high = entry["difference"], entry["low"], entry["high"]
    if metric in LOWER_IS_BETTER:
        gain, low, high = -gain, -high, -low
    unit = _UNITS.get(metric, METRIC_NAMES.get(metric, metric))
    ci = f"95% CI {_number(low)}\u2013{_number(high)}"
    if low > 0:
        return f"{candidate_label} beats {baseline_label} by {_number(gain)} {unit} ({ci})"
    direction = "better" if gain >= 0 else "worse"
    amount = f"{_number(abs(gain))} {unit} {direction}"
    if high < 0:
        return f"{candidate_label} does not beat {baseline_label}: {amount} ({ci})"
    return f"{candidate_label} ties {baseline_label}: {amount} ({ci}), within the noise"


# -- Curves ----------------------------------------------------------------------------------------


def _calibration(y: np.ndarray, p: np.ndarray, n_bins: int = 10) -> dict[str, list]:
    """Quantile-bin calibration as sklearn's calibration_curve, with the invoices per bin."""
    edges = np.percentile(p, np.linspace(0, 100, n_bins + 1))
    bins = np.searchsorted(edges[1:-1], p)
    total = np.bincount(bins, minlength=n_bins)
    predicted = np.bincount(bins, weights=p, minlength=n_bins)
    observed = np.bincount(bins, weights=y, minlength=n_bins)
    keep = total > 0
    return {
        "predicted": [round(float(v), 4) for v in predicted[keep] / total[keep]],
        "observed": [round(float(v), 4) for v in observed[keep] / total[keep]],
        "count": [int(v) for v in total[keep]],
    }


def curves(y: np.ndarray, scores: dict[str, np.ndarray], points: int = 60) -> dict:
    """Calibration curves (10 quantile bins, with counts) and ROC curves (~`points`) per scorer."""
    y = np.asarray(y, dtype=int)
    if refusals(y):
        return {}
    out: dict = {"calibration": {}, "roc": {}}
    for name, p in scores.items():
        p = np.asarray(p, dtype=float)
        out["calibration"][name] = _calibration(y, p)
        fpr, tpr, _ = roc_curve(y, p)
        keep = np.unique(np.linspace(0, len(fpr) - 1, min(points, len(fpr))).astype(int))
        out["roc"][name] = {
            "fpr": [round(float(v), 4) for v in fpr[keep]],
            "tpr": [round(float(v), 4) for v in tpr[keep]],
        }
    return out
