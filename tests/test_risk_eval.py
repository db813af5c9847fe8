"""Metrics, baselines, bootstrap intervals and verdicts of models/risk_eval.py."""

import numpy as np
import pytest
from sklearn.calibration import calibration_curve
from sklearn.metrics import average_precision_score, brier_score_loss, log_loss, roc_auc_score

from models import risk_eval
from models.risk_eval import baselines, curves, evaluate, intervals, verdict, weighted_metrics

MINUS, DASH = "\u2212", "\u2013"


def sklearn_metrics(y, p, sample_weight=None):
    return {
        "roc_auc": roc_auc_score(y, p, sample_weight=sample_weight),
        "pr_auc": average_precision_score(y, p, sample_weight=sample_weight),
        "brier": brier_score_loss(y, p, sample_weight=sample_weight),
        "log_loss": log_loss(y, p, sample_weight=sample_weight, labels=[0, 1]),
    }


def problem(n, seed, ties=True):
    """Labels and scores with signal; `ties` rounds scores to 2 decimals (many ties)."""
    rng = np.random.default_rng(seed)
    signal = rng.normal(size=n)
    y = (rng.random(n) < 1 / (1 + np.exp(-1.5 * signal))).astype(int)
    p = 1 / (1 + np.exp(-signal - rng.normal(scale=0.8, size=n)))
    p = np.clip(np.round(p, 2) if ties else p, 0.01, 0.99)
    return y, p


def assert_close(ours, theirs, tol=1e-9):
    assert set(ours) == set(theirs)
    for name in theirs:
        assert ours[name] == pytest.approx(theirs[name], abs=tol, rel=0), name


# -- Weighted metrics against sklearn --------------------------------------------------------------


@pytest.mark.parametrize("seed", range(4))
@pytest.mark.parametrize("ties", [True, False])
def test_unit_weights_equal_sklearn(seed, ties):
    y, p = problem(1500, seed, ties)
    assert len(np.unique(p)) < 120 if ties else len(np.unique(p)) == len(p)
    assert_close(weighted_metrics(y, p), sklearn_metrics(y, p))
    assert_close(weighted_metrics(y, p, np.ones(len(y), dtype=int)), sklearn_metrics(y, p))


def test_ties_across_classes_only():
    """One score for everyone: AUC one half, average precision the late share."""
    y = np.array([1, 0, 0, 1, 0, 0, 0, 0])
    p = np.full(len(y), 0.3)
    assert_close(weighted_metrics(y, p), sklearn_metrics(y, p))
    assert weighted_metrics(y, p)["roc_auc"] == 0.5
    assert weighted_metrics(y, p)["pr_auc"] == pytest.approx(0.25)


@pytest.mark.parametrize("seed", range(3))
@pytest.mark.parametrize("high", [4, 400])  # small counts (byte path) and counts above 255
def test_integer_weights_equal_sklearn_on_repeated_rows(seed, high):
    y, p = problem(600, seed)
    w = np.random.default_rng(100 + seed).integers(0, high, len(y))
    w[::7] = 0  # rows left out
    assert_close(weighted_metrics(y, p, w), sklearn_metrics(np.repeat(y, w), np.repeat(p, w)))


def test_fractional_weights_equal_sklearn_sample_weight():
    y, p = problem(800, 7)
    w = np.random.default_rng(7).random(len(y)) * 3
    assert_close(weighted_metrics(y, p, w), sklearn_metrics(y, p, sample_weight=w))


def test_cluster_counts_equal_sklearn_on_repeated_customers():
    """The bootstrap's weights: each customer's count applies to all of its invoices."""
    y, p = problem(900, 3)
    rng = np.random.default_rng(3)
    customer = rng.integers(0, 40, len(y))
    coarse = np.clip(np.round(p, 1), 0.05, 0.95)  # heavy ties
    engine = risk_eval._Engine(y, {"a": p, "b": coarse}, customer)
    counts = np.bincount(rng.integers(0, 40, 40), minlength=40)
    assert (counts == 0).any() and (counts > 1).any()
    result = engine.metrics(counts)
    rows = np.repeat(np.arange(len(y)), counts[customer])
    assert_close(result["a"], sklearn_metrics(y[rows], p[rows]))
    assert_close(result["b"], sklearn_metrics(y[rows], coarse[rows]))


def test_a_missing_class_gives_nan():
    y, p = problem(300, 1)
    assert all(np.isnan(v) for v in weighted_metrics(y, p, y == 0).values())


# -- evaluate, baselines, curves -------------------------------------------------------------------


def test_evaluate_reports_log_loss_and_every_metric():
    y, p = problem(1000, 2)
    metrics = evaluate(y, p)
    assert tuple(metrics) == risk_eval.METRICS and set(risk_eval.METRIC_NAMES) == set(metrics)
    assert metrics["log_loss"] == pytest.approx(log_loss(y, p))
    assert evaluate(y, np.where(y == 1, 0.0, 1.0))["log_loss"] == pytest.approx(-np.log(1e-6))
    assert evaluate(y[:100], p[:100])["log_loss"] is None  # refused with the rest


def labels(n, late):
    return np.array([1] * late + [0] * (n - late))


def test_baselines_by_hand():
    assert baselines(labels(250, 25)) == pytest.approx(
        {"majority_rate": 0.9, "late_share": 0.1, "top_decile_lift_ceiling": 10.0}
    )
    # More late than on time: the majority is late; k = 30 top invoices can all be late.
    assert baselines(labels(300, 180)) == pytest.approx(
        {"majority_rate": 0.6, "late_share": 0.6, "top_decile_lift_ceiling": 1 / 0.6}
    )
    # k = ceil(205 / 10) = 21 and 21 late: a perfect top decile has lift 1 / (21/205).
    assert baselines(labels(205, 21))["top_decile_lift_ceiling"] == pytest.approx(205 / 21)
    # Too few late for lift: only the ceiling is refused, as top_decile_lift is.
    assert baselines(labels(200, 5)) == {
        "majority_rate": 0.975,
        "late_share": 0.025,
        "top_decile_lift_ceiling": None,
    }
    assert set(baselines(labels(10, 1)).values()) == {None}  # too small for anything


def test_lift_ceiling_is_the_lift_of_a_perfect_scorer():
    for late in (25, 21, 40, 150):
        y = labels(230, late)
        perfect = risk_eval.top_decile_lift(y, y.astype(float))
        assert baselines(y)["top_decile_lift_ceiling"] == pytest.approx(perfect)


def test_calibration_curve_has_counts_and_matches_sklearn():
    y, p = problem(1000, 4)
    out = curves(y, {"model": p, "flat": np.full(len(y), 0.3)})
    model = out["calibration"]["model"]
    observed, predicted = calibration_curve(y, p, n_bins=10, strategy="quantile")
    assert model["observed"] == pytest.approx(observed, abs=1e-4)
    assert model["predicted"] == pytest.approx(predicted, abs=1e-4)
    assert sum(model["count"]) == len(y) and len(model["count"]) == len(predicted)
    assert out["calibration"]["flat"]["count"] == [len(y)]  # one score: one bin
    assert set(out["roc"]) == {"model", "flat"}


# -- Bootstrap intervals ---------------------------------------------------------------------------


def test_intervals_contain_the_point_estimates():
    y, p = problem(3000, 5)
    noisy = np.clip(p + np.random.default_rng(55).normal(scale=0.15, size=len(p)), 0.01, 0.99)
    out = intervals(y, {"model": p, "noisy": noisy}, reference="noisy", n_boot=200)
    assert out["n_boot"] == 200 and out["clustered_by"] == "invoice"
    assert out["replicates_used"] == 200
    point = {name: evaluate(y, s) for name, s in (("model", p), ("noisy", noisy))}
    for name in ("model", "noisy"):
        assert set(out["intervals"][name]) == {"roc_auc", "pr_auc", "brier", "log_loss"}
        for metric, (low, high) in out["intervals"][name].items():
            assert low < point[name][metric] < high, (name, metric)
            assert high - low < 0.1
    assert set(out["differences"]) == {"model"}
    for metric, d in out["differences"]["model"].items():
        assert d["difference"] == pytest.approx(point["model"][metric] - point["noisy"][metric])
        assert d["low"] < d["difference"] < d["high"]
    assert out["differences"]["model"]["roc_auc"]["low"] > 0  # less noise ranks better
    assert out["differences"]["model"]["brier"]["high"] < 0


def test_intervals_are_reproducible_and_depend_on_the_seed():
    y, p = problem(500, 6)
    first = intervals(y, {"m": p}, seed=1, n_boot=50)
    assert intervals(y, {"m": p}, seed=1, n_boot=50) == first
    assert intervals(y, {"m": p}, seed=2, n_boot=50) != first


def clustered(seed=0):
    """20 customers x 200 invoices; whether an invoice is late depends mostly on its customer."""
    rng = np.random.default_rng(seed)
    rate = rng.uniform(0.05, 0.95, 20)
    customer = np.repeat(np.array([f"C{i:02d}" for i in range(20)]), 200)
    index = np.repeat(np.arange(20), 200)
    y = (rng.random(len(index)) < rate[index]).astype(int)
    return y, customer, rate[index]


def test_cluster_bootstrap_is_wider_when_invoices_are_clustered():
    y, customer, score = clustered()
    noisy = np.clip(score + np.random.default_rng(1).normal(scale=0.1, size=len(y)), 0, 1)
    scores = {"rate": score, "noisy": noisy}
    by_invoice = intervals(y, scores, reference="noisy")
    by_customer = intervals(y, scores, groups=customer, reference="noisy")
    assert by_customer["clustered_by"] == "customer"
    for metric in ("roc_auc", "pr_auc", "brier", "log_loss"):
        low, high = by_invoice["intervals"]["rate"][metric]
        c_low, c_high = by_customer["intervals"]["rate"][metric]
        assert c_high - c_low > 2 * (high - low), metric
    point = evaluate(y, score)["roc_auc"]
    assert by_customer["intervals"]["rate"]["roc_auc"][0] < point
    assert point < by_customer["intervals"]["rate"]["roc_auc"][1]


def test_customers_that_are_never_drawn_drop_their_invoices():
    """Replicates without a late invoice are skipped, not counted as zeros."""
    customer = np.repeat(np.arange(30), 10)
    y = (customer < 2).astype(int)  # all 20 late invoices belong to two customers
    p = np.linspace(0.01, 0.99, len(y))
    out = intervals(y, {"p": p}, groups=customer, n_boot=200)
    assert 100 < out["replicates_used"] < 200
    assert out["intervals"]["p"]["roc_auc"] is not None


def test_refused_metrics_have_no_interval():
    y, p = problem(100, 0)
    out = intervals(y, {"a": p, "b": p}, reference="b")
    assert out["intervals"]["a"] == dict.fromkeys(risk_eval.INTERVAL_METRICS)
    assert out["differences"]["a"] == dict.fromkeys(risk_eval.INTERVAL_METRICS)
    y = labels(300, 5)  # enough invoices, too few late: ranking refused, Brier kept
    p = np.random.default_rng(0).random(300)
    out = intervals(y, {"a": p, "b": p / 2}, reference="b")
    assert out["intervals"]["a"]["roc_auc"] is None and out["intervals"]["a"]["pr_auc"] is None
    assert out["intervals"]["a"]["brier"] is not None
    assert out["differences"]["a"]["roc_auc"] is None
    assert out["differences"]["a"]["log_loss"]["difference"] is not None


def test_an_unknown_reference_is_an_error():
    y, p = problem(300, 0)
    with pytest.raises(ValueError, match="reference"):
        intervals(y, {"a": p}, reference="b")


# -- Verdicts --------------------------------------------------------------------------------------


def diff(d, low, high, metric="roc_auc"):
    return {metric: {"difference": d, "low": low, "high": high}}


def test_verdict_beats():
    text = verdict(diff(0.04, 0.02, 0.06), "The model")
    assert text == f"The model beats the historical late rate by 0.04 AUC (95% CI 0.02{DASH}0.06)"


def test_verdict_ties():
    text = verdict(diff(0.004, -0.012, 0.02), "The model")
    assert text == (
        f"The model ties the historical late rate: 0.004 AUC better "
        f"(95% CI {MINUS}0.01{DASH}0.02), within the noise"
    )
    text = verdict(diff(-0.003, -0.02, 0.01), "The model", "the logistic baseline")
    assert text.startswith("The model ties the logistic baseline: 0.003 AUC worse")


def test_verdict_does_not_beat():
    text = verdict(diff(-0.02, -0.034, -0.006), "The model")
    assert text == (
        f"The model does not beat the historical late rate: 0.02 AUC worse "
        f"(95% CI {MINUS}0.03{DASH}{MINUS}0.006)"
    )


def test_verdict_for_a_loss_counts_lower_as_better():
    text = verdict(diff(-0.004, -0.006, -0.002, "brier"), "The model", metric="brier")
    assert (
        text == f"The model beats the historical late rate by 0.004 Brier (95% CI 0.002{DASH}0.006)"
    )
    text = verdict(diff(0.05, 0.03, 0.07, "log_loss"), "The model", metric="log_loss")
    assert text.startswith("The model does not beat the historical late rate: 0.05 log loss worse")


def test_verdict_when_refused():
    text = verdict({"roc_auc": None}, "The model", reason="the test set has 5 late invoices")
    assert text == (
        "The model cannot be compared with the historical late rate: "
        "the test set has 5 late invoices"
    )
    assert "cannot be compared" in verdict({}, "The model")


def test_verdict_from_real_intervals():
    y, customer, score = clustered()
    flat = np.full(len(y), y.mean())
    out = intervals(y, {"rate": score, "flat": flat}, groups=customer, reference="flat")
    assert " beats " in verdict(out["differences"]["rate"], "The customer rate", "a flat rate")
