"""Late-payment risk: point-in-time features, honest validation, calibrated scores on open invoices.

`train` learns P(late) (late = settled more than `grace_days` after due, DESIGN.md §4) from the
invoices issued before a cut-off, with labels as they stood on the cut-off day, and measures it on
the invoices issued after, against a logistic regression and the customer's historical late rate.
It saves the model with skops beside a JSON model card, in the store's own model folder
(`<db stem>.models/` beside the DuckDB file): a model belongs to the store it was trained on, and
a card from another store is refused (`model_card`). `score` puts P(late), an expected payment
date, the amount at risk of late payment (open amount × P(late)) and the reasons on every open
invoice, and a risk score on every customer, in the tables `invoice_scores` and
`customer_scores`. The SQL is in arlens/sql/risk_model.sql; nothing here
imports Streamlit or Plotly.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import os
import time
from collections.abc import Callable
from contextlib import contextmanager
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
import sklearn
import skops
from sklearn.inspection import permutation_importance
from threadpoolctl import threadpool_limits

from arlens.store import Store, resolve_db_path
from models import risk_eval, risk_persist
from models.risk_persist import ModelError
from models.risk_pipeline import (
    CATEGORICAL,
    FEATURES,
    NUMERIC,
    days_model,
    explain,
    late_model,
    logistic_baseline,
    reference_row,
)
from models.risk_scores import (
    _date,
    _outdated_scores,
    _sql,
    customer_risk_scores,
    expected_collections,
    has_scores,
    ranked_invoices,
    score_distribution,
    scores_info,
)

__all__ = [
    "AT_RISK",
    "ModelError",
    "customer_risk_scores",
    "data_end",
    "expected_collections",
    "features",
    "has_scores",
    "labels",
    "load_model",
    "model_card",
    "ranked_invoices",
    "resolve_model_dir",
    "score",
    "score_distribution",
    "scores_info",
    "store_id",
    "train",
]

MODEL_DIR_SUFFIX = ".models"  # the store's model folder: <db stem>.models beside the file
AT_RISK = "amount_at_risk_of_late_payment"  # open amount × P(late): not an expected credit loss
THRESHOLD = 0.5  # calibrated probabilities: "late" when more likely than not
CUTOFF_QUANTILE = 0.75  # default cut-off: three quarters of the labelled invoices train
MIN_TRAIN_INVOICES = 200
MIN_TRAIN_PER_CLASS = 20
DAYS_CAP = 120  # days late beyond this (or written off): collection doubtful, no payment date
IMPORTANCE_SAMPLE = 5_000
NOTES = [
    "Credit limits are a current snapshot (no history is kept): credit_utilisation of past "
    "invoices divides their open balance then by today's limit.",
    "Every other feature of an invoice uses only rows dated before its invoice date.",
    "The saved model is the one validated: trained on invoices issued before the cut-off, with "
    "labels as known on the cut-off day. Retrain with a later --cutoff to learn from newer outcomes.",
    "Invoices not yet more than grace_days past due on the label date are left out of training "
    "and testing, paid or not (their outcome is still open).",
    "Scores: an open invoice already more than grace_days past due is late for certain "
    "(P(late) = 1); the model scores the others from what was known on their invoice date.",
]

ESTIMATORS = {
    "late": "Pipeline(prepare: OrdinalEncoder for categories; classifier: "
    "HoldoutCalibratedClassifier(HistGradientBoostingClassifier, sigmoid, holdout 20%)): "
    "calibrated on the newest 20% of the training invoices by trees fitted on the older 80%, "
    "then the trees are refitted on all of them",
    "logistic_baseline": "Pipeline(median impute + arcsinh + scale, one-hot; LogisticRegression)",
    "historical_rate_baseline": "the customer's share of earlier settled invoices paid late "
    "(the training late rate when it has none)",
    "days_late": f"Pipeline(prepare; HistGradientBoostingRegressor), days late capped at {DAYS_CAP}",
}

Progress = Callable[[float, str], None]


def _threads(fitting: bool = False):
    """Thread pools (OpenMP, BLAS) while fitting or predicting: one thread unless
    $ARLENS_MODEL_THREADS says more (for fitting). The trees open a parallel region per node or
    tree; on our sizes that costs about what it saves, and it stalls many times over when the
    cores are shared with other work (a dashboard, DuckDB, a colleague's tests)."""
    threads = int(os.environ.get("ARLENS_MODEL_THREADS") or 1) if fitting else 1
    return threadpool_limits(threads)


def resolve_model_dir(
    model_dir: str | os.PathLike | None = None, db: str | os.PathLike | Store | None = None
) -> Path:
    """The model folder of a store: `model_dir`, else $ARLENS_MODEL_DIR, else the folder
    `<db stem>.models` beside the database file `db` (a path or an open Store; None: the default
    database, $ARLENS_DB else data/arlens.duckdb). A folder named by hand may hold another
    store's model: `model_card` refuses it. Raises ModelError for an in-memory store without a
    folder."""
    if model_dir:
        return Path(model_dir)
    if os.environ.get("ARLENS_MODEL_DIR"):
        return Path(os.environ["ARLENS_MODEL_DIR"])
    path = db.path if isinstance(db, Store) else resolve_db_path(db)
    if path is None:
        raise ModelError("an in-memory store has no model folder: give one (model_dir)")
    path = Path(path)
    return path.with_name(path.stem + MODEL_DIR_SUFFIX)


def store_id(store: Store) -> str | None:
    """Which store this is, for telling a model trained on it from one trained on another: a
    hash of its first import (file, checksum, time), which later imports and copying the file
    keep; the file's path for a store never imported into; None for an in-memory one."""
    first = store.rows(
        "SELECT import_id, file, sha256, imported_at FROM import_log ORDER BY import_id LIMIT 1"
    )
    if first:
        return hashlib.sha256(repr(first[0]).encode()).hexdigest()[:16]
    return str(Path(store.path).resolve()) if store.path else None


# -- Features and labels -------------------------------------------------------------------------


def features(
    store: Store, scope: str = "all", as_of: dt.date | None = None, grace_days: int = 0
) -> pd.DataFrame:
    """Point-in-time features (arlens/sql/risk_model.sql `features`), ordered by invoice date.

    scope 'all': every invoice and debit memo, as of its invoice date. scope 'score': the
    documents open at `as_of` that are not yet more than `grace_days` past due, plus one typical
    next invoice per customer dated `as_of` + 1 (target = 'next').
    """
    if scope not in ("all", "score"):
        raise ValueError("scope is 'all' or 'score'")
    if scope == "score" and as_of is None:
        raise ValueError("scoring features need an as-of date")
    params = {"scope": scope, "as_of": as_of, "grace_days": int(grace_days)}
    frame = store.df(_sql("features"), params)
    return frame.sort_values(["invoice_date", "invoice_id"], kind="stable", ignore_index=True)


def labels(
    store: Store, horizon: dt.date, grace_days: int = 0, cap: int = DAYS_CAP
) -> pd.DataFrame:
    """What was known at `horizon` about every invoice: known, late (0/1), days_late (capped)."""
    params = {"horizon": horizon, "grace_days": int(grace_days), "cap": int(cap)}
    return store.df(_sql("labels"), params).set_index("invoice_id")


def data_end(store: Store) -> dt.date | None:
    """The newest date in the store: outcomes are known up to it."""
    return _date(store.value(_sql("data_end")))


# -- Training ------------------------------------------------------------------------------------


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


@contextmanager
def _timed(seconds: dict, step: str):
    started = time.perf_counter()
    yield
    seconds[step] = round(time.perf_counter() - started, 2)


def train(
    store: Store,
    cutoff: dt.date | None = None,
    grace_days: int = 0,
    model_dir: str | os.PathLike | None = None,
    progress: Progress | None = None,
) -> dict:
    """Fit on invoices issued before `cutoff`, test on those after; save the model and its card
    into `model_dir` (default: the store's own model folder, resolve_model_dir).

    Training labels are as known on the cut-off day, test labels as known at the newest date in
    the store. Returns the validation report (what `arlens train` prints): test metrics of the
    model and both baselines, with the reason for every metric the test set is too small for.
    Raises ModelError when there is too little labelled history to learn from.
    """
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
    X = frame[FEATURES]
    X_train, y_train = X[split["train"]], split["y_train"]

    with _threads(fitting=True):
        report(0.2, f"Training gradient-boosted trees on {len(y_train):,} invoices")
        with _timed(seconds, "fit_model"):
            model = late_model().fit(X_train, y_train)
        report(0.5, "Training the logistic baseline")
        with _timed(seconds, "fit_logistic"):
            logistic = logistic_baseline().fit(X_train, y_train)
        report(0.6, "Training the days-late model for payment dates")
        with _timed(seconds, "fit_days"):
            days = None
            if split["days"].sum() >= MIN_TRAIN_INVOICES:
                days = days_model().fit(X[split["days"]], split["y_days"])

    with _threads():
        report(0.7, f"Testing on {len(split['y_test']):,} invoices issued from {split['cutoff']}")
        with _timed(seconds, "evaluate"):
            validation = _validate(X, split, model, logistic, days)
        report(0.8, "Measuring feature importance")
        with _timed(seconds, "importance"):
            importance, note = _importance(model, X[split["test"]], split["y_test"], validation["refused"])  # fmt: skip

    report(0.9, "Saving the model and its card")
    created = dt.datetime.now().replace(microsecond=0)
    data_version = store.data_version()
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
        **validation,
        "feature_importance": importance,
        "feature_importance_note": note,
        "features": {"numeric": NUMERIC, "categorical": CATEGORICAL},
        "feature_query": "arlens/sql/risk_model.sql: features",
        "estimators": ESTIMATORS | ({} if days else {"days_late": None}),
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
        "seconds": seconds | {"total": round(time.perf_counter() - started, 2)},
    }
    models = {"late": model} | ({"days_late": days} if days is not None else {})
    card = risk_persist.save(Path(model_dir), models, card)
    report(1.0, "Done")
    return _summary(card, model_dir)


def _time_split(store: Store, frame: pd.DataFrame, cutoff, end: dt.date, grace_days: int) -> dict:
    """Which invoices train (issued before the cut-off, outcome known on it) and which test
    (issued from the cut-off, outcome known at `end`), with their labels."""
    at_end = labels(store, end, grace_days).reindex(frame["invoice_id"])
    known_at_end = at_end["known"].to_numpy(dtype=bool)
    if cutoff is None:
        if not known_at_end.any():
            raise ModelError(_too_little(0, grace_days))
        cutoff = _default_cutoff(frame["invoice_date"][known_at_end])
    cutoff = _date(cutoff)
    if cutoff > end:
        raise ModelError(f"the cut-off {cutoff} is after the newest data ({end})")
    at_cutoff = labels(store, cutoff, grace_days).reindex(frame["invoice_id"])
    before = (frame["invoice_date"] < pd.Timestamp(cutoff)).to_numpy()
    train = before & at_cutoff["known"].to_numpy(dtype=bool)
    test = ~before & known_at_end
    y_train = at_cutoff["late"].to_numpy()[train].astype(int)
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
        "test": test,
        "y_test": at_end["late"].to_numpy()[test].astype(int),
        "days": days,
        "y_days": days_at_cutoff[days],
        "test_days": test_days,
        "y_test_days": days_at_end[test_days],
    }


def _validate(X: pd.DataFrame, split: dict, model, logistic, days) -> dict:
    """Test metrics and curves of the model and both baselines; the days model's error."""
    y, X_test = split["y_test"], X[split["test"]]
    base_rate = float(split["y_train"].mean())
    scores = {
        "model": model.predict_proba(X_test)[:, 1],
        "logistic": logistic.predict_proba(X_test)[:, 1],
        "historical_rate": X_test["late_share"].fillna(base_rate).to_numpy(),
    } if len(y) else {}  # fmt: skip
    days_mae = None
    if days is not None and split["test_days"].sum() >= risk_eval.MIN_TEST_INVOICES:
        predicted = days.predict(X[split["test_days"]])
        days_mae = float(np.mean(np.abs(predicted - split["y_test_days"])))
    return {
        "metrics": {
            name: risk_eval.evaluate(y, scores[name], THRESHOLD)
            if scores
            else dict.fromkeys(risk_eval.METRICS)
            for name in ("model", "logistic", "historical_rate")
        },  # fmt: skip
        "refused": risk_eval.refusals(y),
        "curves": risk_eval.curves(y, scores) if scores else {},
        "days_late_mae_test": days_mae,
    }


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


def _importance(model, X: pd.DataFrame, y: np.ndarray, refused: dict) -> tuple[list[dict], str]:
    """Permutation importance (drop in ROC AUC) on up to IMPORTANCE_SAMPLE test invoices."""
    if "roc_auc" in refused:
        return [], f"not measured: {refused['roc_auc']}"
    rng = np.random.default_rng(0)
    pick = np.sort(rng.choice(len(y), min(len(y), IMPORTANCE_SAMPLE), replace=False))
    result = permutation_importance(
        model, X.iloc[pick], y[pick], scoring="roc_auc", n_repeats=3, random_state=0
    )
    rows = [
        {"feature": f, "importance": round(float(m), 5), "std": round(float(s), 5)}
        for f, m, s in zip(FEATURES, result.importances_mean, result.importances_std, strict=True)
    ]
    note = f"drop in test ROC AUC when the feature is shuffled ({len(pick):,} test invoices, 3 repeats)"
    return sorted(rows, key=lambda r: -r["importance"]), note


def _summary(card: dict, model_dir) -> dict:
    """What `train` returns and `arlens train` prints."""
    keys = ["model_version", "cutoff", "grace_days", "data_version", "data_end", "train", "test",
            "threshold", "metrics", "refused", "days_late_mae_test", "seconds"]  # fmt: skip
    return {**{k: card[k] for k in keys}, "model_dir": str(model_dir)}


def _schema(store: Store) -> dict[str, str]:
    """{table.column: type} of the tables the features read."""
    return dict(sorted(store.rows(_sql("required_columns"))))


# -- Loading -------------------------------------------------------------------------------------


def model_card(model_dir: str | os.PathLike | None, store: Store | None = None) -> dict | None:
    """The model card (None when no model was trained), checked against `store` when given:
    raises ModelError when the model was trained on another store or does not fit the store's
    schema; card["stale"] is True (and card["stale_reason"] says why) when the store's data
    changed since training. `model_dir` None: the store's own model folder."""
    model_dir = resolve_model_dir(model_dir, store)
    card = risk_persist.read_card(Path(model_dir))
    if card is None or store is None:
        return card
    if card.get("store_id") != store_id(store):
        where = f" ({card['store']})" if card.get("store") else ""
        raise ModelError(
            f"the model in {model_dir} was trained on another store{where}, not this one: train "
            "one for this store (arlens train)"
            if card.get("store_id")
            else f"the model in {model_dir} does not say which store it was trained on (it is "
            "older than per-store models): train one for this store (arlens train)"
        )
    if card.get("features") != {"numeric": NUMERIC, "categorical": CATEGORICAL}:
        raise ModelError("the model was trained on other features than this version computes: retrain (arlens train)")  # fmt: skip
    now = _schema(store)
    changed = sorted(c for c, kind in card.get("schema", {}).items() if now.get(c) != kind)
    if changed or not card.get("schema"):
        what = ", ".join(f"{c} ({card['schema'][c]} → {now.get(c, 'missing')})" for c in changed)
        raise ModelError(f"the store's schema changed since training ({what or 'no schema in the card'}): retrain (arlens train)")  # fmt: skip
    version = store.data_version()
    card["stale"] = card.get("data_version") != version
    card["stale_reason"] = (
        f"this store's data changed since training (data version {card.get('data_version')} "
        f"then, {version} now: an import or a changed setting since): retrain"
        if card["stale"]
        else None
    )
    return card


def _load_all(model_dir, store: Store) -> tuple[dict, dict]:
    model_dir = resolve_model_dir(model_dir, store)
    card = model_card(model_dir, store)
    if card is None:
        raise ModelError(f"no risk model in {model_dir}: train one first (arlens train)")
    return risk_persist.load(Path(model_dir), card), card


def load_model(model_dir: str | os.PathLike | None, store: Store):
    """(pipeline, card): the P(late) pipeline, loaded with skops' explicit trusted types, and its
    card checked against the store (ModelError on a schema mismatch; card["stale"] when the data
    changed since training)."""
    models, card = _load_all(model_dir, store)
    return models["late"], card


# -- Scoring -------------------------------------------------------------------------------------


def score(
    store: Store,
    as_of: dt.date,
    model_dir: str | os.PathLike | None = None,
    allow_stale: bool = False,
    progress: Progress | None = None,
) -> dict:
    """P(late), expected payment date, amount at risk of late payment and reasons for every
    document open at `as_of`, a risk score per customer; written to `invoice_scores` and
    `customer_scores` (replacing the last scores). The model comes from `model_dir` (default: the
    store's own model folder). A stale model is refused unless `allow_stale` (the rows then say
    so). Returns a summary; amounts at risk are per currency, never summed across them."""
    report = progress or (lambda fraction, message: None)
    started, seconds = time.perf_counter(), {}
    as_of = _date(as_of)
    with _timed(seconds, "load"):
        models, card = _load_all(model_dir, store)
    if card["stale"] and not allow_stale:
        raise ModelError(f"the risk model is stale ({card['stale_reason']}), or score with --allow-stale")  # fmt: skip
    grace = int(card["grace_days"])

    report(0.1, "Computing features of the open invoices")
    with _timed(seconds, "features"):
        open_docs = store.df(_sql("open_documents"), {"as_of": as_of})
        frame = features(store, scope="score", as_of=as_of, grace_days=grace)
    model, invoice = models["late"], (frame["target"] == "invoice").to_numpy()
    with _threads():
        report(0.4, "Scoring")
        with _timed(seconds, "predict"):
            p = model.predict_proba(frame[FEATURES])[:, 1] if len(frame) else np.array([])
            scored = frame[invoice].assign(p_model=p[invoice])
            scored["expected_days_late"] = (
                np.clip(models["days_late"].predict(scored[FEATURES]), -60, DAYS_CAP)
                if "days_late" in models and len(scored)
                else 0.0
            )
        report(0.6, "Explaining the scores")
        with _timed(seconds, "explain"):
            reference = card["explanation_reference"]
            scored["reasons"], scored["explanation"] = (
                explain(model, scored[FEATURES], scored["p_model"].to_numpy(), reference)
                if len(scored)
                else ([], [])
            )

    report(0.8, "Writing the scores")
    with _timed(seconds, "write"):
        context = {
            "as_of": as_of,
            "model_version": card["model_version"],
            "data_version": store.data_version(),
            "stale_model": bool(card["stale"]),
            "scored_at": dt.datetime.now().replace(microsecond=0),
        }
        invoices = _invoice_scores(open_docs, scored, card, as_of, grace).assign(**context)
        customers = _customer_scores(frame[~invoice].assign(risk_score=p[~invoice]), invoices)
        _write(store, invoices, customers.assign(**context))
    seconds["total"] = round(time.perf_counter() - started, 2)
    report(1.0, "Done")
    return {
        "as_of": as_of.isoformat(),
        "model_version": card["model_version"],
        "stale_model": bool(card["stale"]),
        "open_invoices": len(invoices),
        "scored_by_model": int(invoices["p_model"].notna().sum()),
        "already_late": int(invoices["already_late"].sum()),
        "customers": int(customers["customer_id"].nunique()),
        AT_RISK: _per_currency(invoices, AT_RISK),
        "seconds": seconds,
    }


def _per_currency(frame: pd.DataFrame, column: str) -> dict[str, float]:
    """{currency: sum of `column`} to the cent: amounts are never added across currencies."""
    if frame.empty:
        return {}
    sums = frame.groupby(frame["currency"].fillna("(no currency)"))[column].sum()
    return {str(currency): round(float(value), 2) for currency, value in sums.items()}


def _invoice_scores(open_docs: pd.DataFrame, scored: pd.DataFrame, card: dict, as_of: dt.date,
                    grace: int) -> pd.DataFrame:  # fmt: skip
    """One row per open document: the model's view, or certainty when it is already late."""
    columns = ["invoice_id", "p_model", "expected_days_late", "reasons", "explanation"]
    frame = open_docs.merge(scored[columns], on="invoice_id", how="left")
    frame["already_late"] = frame["days_past_due"] > grace
    unscored = ~frame["already_late"] & frame["p_model"].isna()  # e.g. a zero-amount edge case
    frame.loc[unscored, "p_model"] = card["base_rate_train"]
    frame["p_late"] = np.where(frame["already_late"], 1.0, frame["p_model"])
    # Already late: the days it is past due plus the mean further wait of invoices paid that late.
    residual = np.asarray(card["residual_days"])
    late_by = frame["days_past_due"].clip(lower=0).to_numpy()
    waiting = late_by + residual[np.minimum(late_by, len(residual) - 1)]
    days = np.where(frame["already_late"], waiting, frame["expected_days_late"].fillna(0))
    due = pd.to_datetime(frame["due_date"])
    expected = due + pd.to_timedelta(np.round(days), unit="D")
    expected = expected.where(expected > pd.Timestamp(as_of), pd.Timestamp(as_of) + pd.Timedelta(days=1))  # fmt: skip
    doubtful = frame["already_late"] & (late_by >= card["days_late_cap"])
    frame["expected_days_late"] = np.where(doubtful, np.nan, days)
    frame["expected_payment_date"] = expected.where(~doubtful).dt.date
    frame[AT_RISK] = frame["open_amount"].astype(float) * frame["p_late"]
    return frame


def _customer_scores(nxt: pd.DataFrame, invoices: pd.DataFrame) -> pd.DataFrame:
    """Risk score = P(late) of the customer's next typical invoice; open totals beside it, one
    row per currency the customer has open (amounts are never added across currencies)."""
    amounts = invoices.assign(open_amount=invoices["open_amount"].astype(float))
    totals = amounts.groupby(["customer_id", "currency"], dropna=False, as_index=False).agg(
        open_invoices=("invoice_id", "count"),
        open_amount=("open_amount", "sum"),
        **{AT_RISK: (AT_RISK, "sum")},
    )  # fmt: skip
    frame = nxt[["customer_id", "currency", "risk_score"]].merge(
        totals, on="customer_id", how="left", suffixes=("_usual", "")
    )
    frame["currency"] = frame["currency"].where(
        frame["open_invoices"].notna(), frame["currency_usual"]
    )
    frame = frame.drop(columns="currency_usual")
    return frame.fillna({"open_invoices": 0, "open_amount": 0.0, AT_RISK: 0.0}).astype(
        {"open_invoices": int}
    )


def _write(store: Store, invoices: pd.DataFrame, customers: pd.DataFrame) -> None:
    try:
        if _outdated_scores(store):  # an older AR Lens's tables: scores are rebuilt, not migrated
            store.execute(_sql("drop_score_tables"))
        store.execute(_sql("create_score_tables"))
        with store.transaction():
            store.con.register("new_invoice_scores", invoices)
            store.con.register("new_customer_scores", customers)
            try:
                store.execute(_sql("replace_scores"))
            finally:
                store.con.unregister("new_invoice_scores")
                store.con.unregister("new_customer_scores")
    except duckdb.Error as error:
        if "read-only" in str(error).lower():
            raise ModelError("scoring writes the tables invoice_scores and customer_scores: open the store read-write") from None  # fmt: skip
        raise
