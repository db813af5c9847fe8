"""Training the late-payment scorer: choose by validation, report on the test period, save.

`train` learns P(late) (late = settled more than `grace_days` after due, DESIGN.md §4) from the
invoices issued before a cut-off, with labels as they stood on the cut-off day. The candidates
(models/risk_select.py) are compared by rolling-origin validation inside that window; the one
that validated best is shipped (the customer's historical late rate when no model beats it). The
invoices issued after the cut-off, with labels as known at the newest date in the store, only
report: every candidate's metrics with customer-clustered bootstrap intervals, and a verdict in
words. The expected payment date (days-late model against the customer's median days late) is
chosen the same way, and the 8-week cash forecast built on it is back-tested at past dates.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
import sklearn
import skops
from sklearn.inspection import permutation_importance

from arlens.store import Store
from models import risk_eval, risk_persist, risk_select
from models.risk_data import (
    DAYS_CAP,
    _date,
    _schema,
    _sql,
    _threads,
    _timed,
    data_end,
    dispute_basis,
    features,
    labels_for,
    resolve_model_dir,
    store_id,
)
from models.risk_persist import ModelError
from models.risk_pipeline import CATEGORICAL, FEATURES, NUMERIC, days_model, reference_row
from models.risk_pipeline import usable_features as _usable
from models.risk_scoring import days_late_by, payment_dates_both_ways

THRESHOLD = 0.5  # calibrated probabilities: "late" when more likely than not
CUTOFF_QUANTILE = 0.75  # default cut-off: three quarters of the labelled invoices train
MIN_TRAIN_INVOICES = 200
MIN_TRAIN_PER_CLASS = 20
MAX_FINAL_INVOICES = 150_000  # the fitted candidates learn from at most this many of the newest
IMPORTANCE_SAMPLE = 5_000
BACKTEST_DATES = 3  # past month-ends the cash forecast is replayed at
FORECAST_WEEKS = 8
NOTES = [
    "credit_utilisation divides an invoice's open balance the day before its invoice date by the "
    "credit limit in force then (the credit_limits history); without a history row, by the "
    "customer's current credit_limit.",
    "Every other feature of an invoice uses only rows dated before its invoice date, except the "
    "invoice's own dispute status (see dispute_status).",
    "The shipped scorer was chosen by rolling-origin validation inside the training window; the "
    "test period after the cut-off only reports. Retrain with a later --cutoff to learn from "
    "newer outcomes.",
    "Invoices not yet more than grace_days past due on the label date are left out of training "
    "and testing, paid or not (their outcome is still open).",
    "Scores: an open invoice already more than grace_days past due is late for certain "
    "(P(late) = 1); the scorer scores the others.",
    "Features that are constant or empty in the training invoices (for example credit "
    "utilisation in a register without credit limits) are left out: features_used lists the rest.",
]
DISPUTE_NOTES = {
    "dated dispute activities": "The invoice's own dispute status is read from dated dispute "
    "activities: when scoring, disputes raised on or before the as-of date; for a training "
    "invoice, disputes raised by its due date plus grace days, the last day the scorer would "
    "score it. That is slightly optimistic for invoices scored early in their term, before a "
    "dispute that is still to come.",
    "status at export": "The invoice's own dispute status is the register's dispute flag, its "
    "status at export: no dated dispute activities are in the store. For an open invoice that "
    "is what the collector sees today, so scoring uses what is known. A training invoice also "
    "uses the flag as exported, which may have been set after the invoice was already late (a "
    "dispute raised in answer to a reminder): the test metrics are optimistic by as much as "
    "disputes follow lateness rather than cause it. Import dated dispute activities to remove it.",
}

Progress = Callable[[float, str], None]


def _default_cutoff(dates: pd.Series) -> dt.date:
    """The first of the month holding the CUTOFF_QUANTILE of the labelled invoices' dates."""
    day = _date(dates.quantile(CUTOFF_QUANTILE))
    return day.replace(day=1)


def _residual_days(days_late: np.ndarray, cap: int) -> list[int]:
    """For an invoice x days past due, the mean further days until paid, among invoices paid
    within `cap` days: index x = 0 … cap − 1 (7 when nothing was paid that late)."""
    paid = np.asarray(days_late)[np.asarray(days_late) < cap]
    out = []
    for x in range(cap):
        later = paid[paid > x]
        out.append(max(1, round(float(np.mean(later - x)))) if len(later) else 7)
    return out


def train(
    store: Store,
    cutoff: dt.date | None = None,
    grace_days: int = 0,
    model_dir=None,
    progress: Progress | None = None,
) -> dict:
    """Choose, fit and save the scorer of P(late) and its card into `model_dir` (default: the
    store's own model folder). Returns what `arlens train` prints: the choice, every candidate's
    validation and test metrics with intervals, the verdict, the payment-date check and the
    forecast back-test. Raises ModelError when there is too little labelled history."""
    report = progress or (lambda fraction, message: None)
    started, seconds = time.perf_counter(), {}
    if int(grace_days) < 0:
        raise ValueError("grace days cannot be negative")
    end = data_end(store)
    if end is None:
        raise ModelError("the store has no invoices: import some before training")
    model_dir = resolve_model_dir(model_dir, store)

    report(0.05, "Computing point-in-time features")
    with _timed(seconds, "features"):
        frame = features(store, grace_days=grace_days)
        split = _time_split(store, frame, cutoff, end, int(grace_days))
        folds = _folds(store, frame, split, int(grace_days))
    X, groups = frame[FEATURES], frame["customer_id"].to_numpy()
    X_train, y_train = X[split["train"]], split["y_train"]
    numeric, categorical = _usable(X_train)

    with _threads(fitting=True):
        report(0.15, f"Validating {len(risk_select.CANDIDATES)} candidates at {len(folds)} origins")
        with _timed(seconds, "validate"):
            validation = risk_select.validate(X, groups, folds, numeric, categorical)
        chosen = validation["chosen"]
        report(0.45, f"Fitting every candidate on {len(y_train):,} training invoices")
        with _timed(seconds, "fit"):
            keep = risk_select.newest(split["train"], MAX_FINAL_INVOICES)
            fitted = risk_select.fit_all(X[keep], split["late_at_cutoff"][keep], numeric, categorical)  # fmt: skip
        report(0.6, "Checking expected payment dates")
        with _timed(seconds, "payment_dates"):
            days, payment_dates = _payment_dates(X, split, folds, numeric, categorical)

    with _threads():
        report(0.7, f"Testing on {len(split['y_test']):,} invoices issued from {split['cutoff']}")
        with _timed(seconds, "test"):
            test = _test(X[split["test"]], split["y_test"], groups[split["test"]], fitted, chosen)
            payment_dates["mae_test"] = _days_mae(X, split, days, payment_dates["fallback_days"])
        report(0.78, "Measuring feature importance")
        with _timed(seconds, "importance"):
            used = numeric + categorical
            importance, note = _importance(fitted[chosen], X[split["test"]], split["y_test"], used)

    created = dt.datetime.now().replace(microsecond=0)
    data_version = store.data_version()
    basis = dispute_basis(store)
    card = {
        "model": "late-payment risk",
        "model_version": f"{created:%Y%m%d-%H%M%S}-dv{data_version}",
        "created_at": created.isoformat(),
        "store": str(Path(store.path).resolve()) if store.path else None,
        "store_id": store_id(store),
        "data_version": data_version,
        "schema_version": store.schema_version(),
        "schema": _schema(store),
        "target": (
            f"late = settled more than {grace_days} days after the due date; written off = late; "
            f"still open and more than {grace_days} days past due on the label date = late"
        ),
        "grace_days": int(grace_days),
        "cutoff": split["cutoff"].isoformat(),
        "data_end": end.isoformat(),
        "train": _period(frame, split["train"], y_train, labels_as_of=split["cutoff"]),
        "test": _period(frame, split["test"], split["y_test"], labels_as_of=end),
        "threshold": THRESHOLD,
        "shipped": chosen,
        "shipped_label": risk_select.LABELS[chosen],
        "selection_reason": validation["reason"],
        "verdict": _verdict(chosen, test),
        "validation": validation,
        **test,
        "candidates": {
            c.key: {"label": c.label, "estimator": c.description} for c in risk_select.CANDIDATES
        },  # fmt: skip
        "dispute_status": {"basis": basis, "note": DISPUTE_NOTES[basis]},
        "payment_dates": payment_dates,
        "feature_importance": importance,
        "feature_importance_note": note,
        "features": {"numeric": NUMERIC, "categorical": CATEGORICAL},
        "features_used": {"numeric": numeric, "categorical": categorical},
        "feature_query": "arlens/sql/risk_model.sql: features",
        "days_late_cap": DAYS_CAP,
        "residual_days": _residual_days(split["y_days"], DAYS_CAP),
        "explanation_reference": reference_row(X_train),
        "base_rate_train": float(y_train.mean()),
        "notes": NOTES,
        "versions": {
            "scikit-learn": sklearn.__version__,
            "skops": skops.__version__,
            "duckdb": duckdb.__version__,
        },  # fmt: skip
    }
    models = {"late": fitted[chosen]} | ({"days_late": days} if days is not None else {})
    report(0.85, "Back-testing the cash forecast")
    with _timed(seconds, "backtest"):
        card["forecast_backtest"] = _backtest(store, models, card, split["cutoff"], end)
    report(0.95, "Saving the model and its card")
    card["seconds"] = seconds | {"total": round(time.perf_counter() - started, 2)}
    card = risk_persist.save(Path(model_dir), models, card)
    report(1.0, "Done")
    return _summary(card, model_dir)


def _time_split(store: Store, frame: pd.DataFrame, cutoff, end: dt.date, grace_days: int) -> dict:
    """Which invoices train (issued before the cut-off, outcome known on it) and which test
    (issued from the cut-off, outcome known at `end`), with their labels."""
    at_end = labels_for(store, frame, end, grace_days)
    known_at_end = at_end["known"].to_numpy(dtype=bool)
    if cutoff is None:
        if not known_at_end.any():
            raise ModelError(_too_little(0, grace_days))
        cutoff = _default_cutoff(frame["invoice_date"][known_at_end])
    cutoff = _date(cutoff)
    if cutoff > end:
        raise ModelError(f"the cut-off {cutoff} is after the newest data ({end})")
    at_cutoff = labels_for(store, frame, cutoff, grace_days)
    before = (frame["invoice_date"] < pd.Timestamp(cutoff)).to_numpy()
    train = before & at_cutoff["known"].to_numpy(dtype=bool)
    test = ~before & known_at_end
    late_at_cutoff = at_cutoff["late"].fillna(0).to_numpy().astype(int)
    y_train = late_at_cutoff[train]
    late = int(y_train.sum())
    if len(y_train) < MIN_TRAIN_INVOICES or min(late, len(y_train) - late) < MIN_TRAIN_PER_CLASS:
        raise ModelError(_too_little(len(y_train), grace_days, late, cutoff))
    days_at_cutoff, days_at_end = at_cutoff["days_late"].to_numpy(), at_end["days_late"].to_numpy()
    days = before & ~np.isnan(days_at_cutoff)
    test_days = test & ~np.isnan(days_at_end)
    return {
        "cutoff": cutoff,
        "train": train,
        "y_train": y_train,
        "late_at_cutoff": late_at_cutoff,
        "days_at_cutoff": days_at_cutoff,
        "test": test,
        "y_test": at_end["late"].to_numpy()[test].astype(int),
        "days": days,
        "y_days": days_at_cutoff[days],
        "test_days": test_days,
        "y_test_days": days_at_end[test_days],
    }


def _folds(store: Store, frame: pd.DataFrame, split: dict, grace_days: int) -> list[dict]:
    """The rolling-origin folds inside the training window: fit on invoices issued before each
    origin with labels as known on it; check on those issued from it to the next origin, with
    labels as known at the cut-off (as training sees them)."""
    dates = frame["invoice_date"]
    out = []
    for origin, end in risk_select.origins(dates[split["train"]], split["cutoff"]):
        at_origin = labels_for(store, frame, origin.date(), grace_days)
        before = (dates < origin).to_numpy()
        fit = before & at_origin["known"].to_numpy(dtype=bool)
        check = split["train"] & ~before & (dates < end).to_numpy()
        days = before & ~np.isnan(at_origin["days_late"].to_numpy())
        out.append({
            "origin": origin, "end": end,
            "fit": fit, "y_fit": at_origin["late"].to_numpy()[fit].astype(int),
            "check": check, "y_check": split["late_at_cutoff"][check],
            "days": days, "y_days": at_origin["days_late"].to_numpy()[days],
        })  # fmt: skip
    return out


def _payment_dates(X, split, folds, numeric, categorical) -> tuple[object, dict]:
    """The days-late model (fitted on every training invoice whose days late were known at the
    cut-off) and whether validation prefers it to the customer's median days late: both are
    checked on the newest fold (fitted before its origin, measured on the invoices after it whose
    days late were known at the cut-off)."""
    fallback = float(np.median(split["y_days"])) if len(split["y_days"]) else 0.0
    known = split["days"] & ~np.isnan(split["days_at_cutoff"])
    out = {"fallback_days": fallback, "predictor": "median", "mae_validation": None}
    if known.sum() < MIN_TRAIN_INVOICES:
        out["reason"] = f"fewer than {MIN_TRAIN_INVOICES} training invoices with known days late"
        return None, out
    rows = risk_select.newest(known, MAX_FINAL_INVOICES)
    days = days_model(numeric, categorical).fit(X[rows], split["days_at_cutoff"][rows])
    # the fold with the most checked invoices whose days late were known at the cut-off
    usable = [f for f in folds if f["days"].sum() >= MIN_TRAIN_INVOICES]
    fold = max(usable, key=lambda f: (f["check"] & known).sum(), default=None)
    check = None if fold is None else fold["check"] & known
    if check is None or check.sum() < risk_eval.MIN_TEST_INVOICES:
        out["reason"] = "too few invoices to validate the days-late model: the median is used"
        return days, out
    early_rows = risk_select.newest(fold["days"], risk_select.MAX_FIT_INVOICES)
    early = days_model(numeric, categorical).fit(
        X[early_rows], fold["y_days"][early_rows[fold["days"]]]
    )
    truth = split["days_at_cutoff"][check]
    mae = {
        way: float(np.mean(np.abs(days_late_by(way, X[check], early, fallback) - truth)))
        for way in ("model", "median")
    }
    out["mae_validation"] = mae
    out["predictor"] = "model" if mae["model"] < mae["median"] else "median"
    out["reason"] = (
        f"validation MAE: {mae['model']:.1f} days for the model, {mae['median']:.1f} for the median"
    )
    return days, out


def _days_mae(X, split, days, fallback) -> dict | None:
    """Test-period mean absolute error in days of both payment-date predictors."""
    rows = split["test_days"]
    if rows.sum() < risk_eval.MIN_TEST_INVOICES:
        return None
    truth = split["y_test_days"]
    out = {"invoices": int(rows.sum())}
    for way in ("median", "model") if days is not None else ("median",):
        out[way] = float(np.mean(np.abs(days_late_by(way, X[rows], days, fallback) - truth)))
    return out


def _test(X_test, y, groups, fitted: dict, chosen: str) -> dict:
    """Every candidate's test metrics, intervals and differences against the historical rate."""
    refused = risk_eval.refusals(y)
    if not len(y):
        none = dict.fromkeys(risk_eval.METRICS)
        return {"metrics": dict.fromkeys(fitted, none), "refused": refused, "curves": {},
                "intervals": {}, "differences": {}, "context": risk_eval.baselines(y)}  # fmt: skip
    scores = {k: m.predict_proba(X_test)[:, 1] for k, m in fitted.items()}
    boot = risk_eval.intervals(y, scores, groups=groups, reference=risk_select.BASELINE)
    return {
        "metrics": {k: risk_eval.evaluate(y, p, THRESHOLD) for k, p in scores.items()},
        "refused": refused,
        "context": risk_eval.baselines(y),
        "intervals": boot["intervals"],
        "differences": boot["differences"],
        "bootstrap": {"n_boot": boot["n_boot"], "clustered_by": boot["clustered_by"]},
        "curves": risk_eval.curves(y, scores),
    }


def _verdict(chosen: str, test: dict) -> str:
    """One line: did the shipped scorer beat the historical late rate on the test period?"""
    reason = test["refused"].get("roc_auc")
    differences = test.get("differences") or {}
    if chosen != risk_select.BASELINE:
        label = risk_select.LABELS[chosen]
        said = risk_eval.verdict(differences.get(chosen, {}), label, reason=reason)
        return f"{said} on the test period."
    text = "No model beat the historical late rate on validation: the page ranks by that instead."
    others = {k: v for k, v in (test.get("metrics") or {}).items() if k != chosen}
    best = max(others, key=lambda k: others[k]["roc_auc"] or 0, default=None)
    if best is None or reason:
        return text
    label = f"the best model ({risk_select.LABELS[best]})"
    return f"{text} On the test period {risk_eval.verdict(differences.get(best, {}), label)}."


def _backtest(store: Store, models: dict, card: dict, cutoff: dt.date, end: dt.date) -> dict:
    """The 8-week cash forecast replayed at up to BACKTEST_DATES past month-ends after the cut-off
    (so the scorer never saw their outcomes) whose 8 weeks are over by `end`: predicted against
    collected per week and currency, with payment dates from the days-late model and from the
    customer's median days late (card["payment_dates"]["predictor"] says which one is shipped)."""
    last = pd.Timestamp(end) - pd.Timedelta(days=7 * FORECAST_WEEKS + 7)
    month_ends = pd.date_range(pd.Timestamp(cutoff), last, freq="ME")[-BACKTEST_DATES:]
    dates, rows = [], []
    for day in month_ends:
        as_of = day.date()
        ways = payment_dates_both_ways(store, as_of, models, card)
        actual = store.df(_sql("collected_by_week"), {"as_of": as_of, "weeks": FORECAST_WEEKS})
        weeks = _weeks(as_of)
        currencies = set(actual["currency"]).union(
            *(set(f["currency"].dropna()) for f in ways.values())
        )
        for currency in sorted(currencies):
            got = actual[actual["currency"] == currency].set_index("week_start")["collected"]
            got.index = pd.to_datetime(got.index)
            for predictor, frame in ways.items():
                expected = _by_week(frame[frame["currency"] == currency], weeks)
                for week in weeks:
                    rows.append({"as_of": as_of.isoformat(), "currency": currency, "predictor": predictor,
                                 "week_start": week.date().isoformat(), "expected": round(float(expected[week]), 2),
                                 "collected": round(float(got.get(week, 0.0)), 2)})  # fmt: skip
        dates.append(as_of.isoformat())
    return {"as_of_dates": dates, "weeks": FORECAST_WEEKS, "rows": rows, "errors": _errors(rows)}


def _weeks(as_of: dt.date) -> list[pd.Timestamp]:
    first = pd.Timestamp(as_of + dt.timedelta(days=1)).to_period("W-SUN").start_time
    return [first + pd.Timedelta(days=7 * i) for i in range(FORECAST_WEEKS)]


def _by_week(frame: pd.DataFrame, weeks: list[pd.Timestamp]) -> pd.Series:
    """Open amounts by the week of their expected payment date (as arlens/sql/risk_model.sql
    `expected_collections`: earlier dates count in the first week, doubtful items are left out)."""
    dated = frame[frame["expected_payment_date"].notna()]
    when = pd.to_datetime(dated["expected_payment_date"]).dt.to_period("W-SUN").dt.start_time
    when = when.clip(lower=weeks[0])
    sums = dated["open_amount"].astype(float).groupby(when).sum()
    return pd.Series({w: float(sums.get(w, 0.0)) for w in weeks})


def _errors(rows: list[dict]) -> list[dict]:
    """Per currency and predictor: weighted absolute percentage error over the weeks and dates
    (Σ|expected − collected| / Σ collected) and the bias of the total."""
    if not rows:
        return []
    frame = pd.DataFrame(rows)
    out = []
    for (currency, predictor), part in frame.groupby(["currency", "predictor"]):
        collected = part["collected"].sum()
        if collected <= 0:
            continue
        out.append({
            "currency": currency, "predictor": predictor, "dates": int(part["as_of"].nunique()),
            "weekly_error": float((part["expected"] - part["collected"]).abs().sum() / collected),
            "total_bias": float((part["expected"].sum() - collected) / collected),
            "collected": round(float(collected), 2),
        })  # fmt: skip
    return out


def _too_little(n: int, grace_days: int, late: int = 0, cutoff=None) -> str:
    where = f" before the cut-off {cutoff}" if cutoff else ""
    return (
        f"too little labelled history to learn from: {n} invoices{where} whose outcome is known "
        f"({late} late), at least {MIN_TRAIN_INVOICES} with {MIN_TRAIN_PER_CLASS} late and "
        f"{MIN_TRAIN_PER_CLASS} on time are needed (late = settled more than {grace_days} days "
        "after due); choose a later --cutoff or import more history"
    )


def _period(frame: pd.DataFrame, rows: np.ndarray, y: np.ndarray, labels_as_of: dt.date) -> dict:
    dates = frame["invoice_date"][rows]
    return {
        "invoices": int(rows.sum()),
        "late": int(y.sum()),
        "late_share": float(y.mean()) if len(y) else None,
        "first_invoice_date": _date(dates.min()).isoformat() if len(dates) else None,
        "last_invoice_date": _date(dates.max()).isoformat() if len(dates) else None,
        "labels_as_of": labels_as_of.isoformat(),
    }


def _importance(model, X: pd.DataFrame, y: np.ndarray, used: list[str]) -> tuple[list[dict], str]:
    """Permutation importance (drop in ROC AUC) of the features the scorer uses, on up to
    IMPORTANCE_SAMPLE test invoices."""
    refused = risk_eval.refusals(y)
    if "roc_auc" in refused:
        return [], f"not measured: {refused['roc_auc']}"
    rng = np.random.default_rng(0)
    pick = np.sort(rng.choice(len(y), min(len(y), IMPORTANCE_SAMPLE), replace=False))
    columns = [c for c in FEATURES if c in used or c == "late_share"]
    result = permutation_importance(
        model, X.iloc[pick][columns], y[pick], scoring="roc_auc", n_repeats=3, random_state=0
    )
    rows = [
        {"feature": f, "importance": round(float(m), 5), "std": round(float(s), 5)}
        for f, m, s in zip(columns, result.importances_mean, result.importances_std, strict=True)
        if f in used or m != 0
    ]
    note = f"drop in test ROC AUC when the feature is shuffled ({len(pick):,} test invoices, 3 repeats)"
    return sorted(rows, key=lambda r: -r["importance"]), note


def _summary(card: dict, model_dir) -> dict:
    """What `train` returns and `arlens train` prints."""
    keys = ["model_version", "cutoff", "grace_days", "data_version", "data_end", "train", "test",
            "shipped", "shipped_label", "candidates", "verdict", "selection_reason", "threshold", "metrics",
            "context", "intervals", "differences", "refused", "payment_dates", "dispute_status",
            "features_used", "seconds"]  # fmt: skip
    validation = card["validation"]
    summary = {k: card.get(k) for k in keys}
    summary["validation"] = {k: validation[k] for k in ("metrics", "differences", "folds", "chosen", "reason")}  # fmt: skip
    summary["forecast_backtest"] = card["forecast_backtest"]["errors"]
    return {**summary, "model_dir": str(model_dir)}
