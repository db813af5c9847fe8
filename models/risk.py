"""Late-payment risk: the trained scorer of a store, its card, and the scores of open invoices.

`train` (models/risk_train.py) chooses a scorer of P(late) by rolling-origin validation and
saves it with skops beside a JSON model card, in the store's own model folder (`<db stem>.models/`
beside the DuckDB file): a model belongs to the store it was trained on, and a card from another
store is refused (`model_card`). `score` puts P(late), an expected payment date, the amount at
risk of late payment (open amount × P(late)) and the reasons on every open invoice, and a risk
score on every customer, in the tables `invoice_scores` and `customer_scores`. The SQL is in
arlens/sql/risk_model.sql; nothing here imports Streamlit or Plotly.
"""

from __future__ import annotations

import datetime as dt
import os
import time
from collections.abc import Callable
from pathlib import Path

import duckdb
import pandas as pd

from arlens.store import Store
from models import risk_persist, risk_report
from models.risk_data import (
    _date,
    _schema,
    _sql,
    _threads,
    _timed,
    data_end,
    features,
    labels,
    resolve_model_dir,
    store_id,
)
from models.risk_persist import ModelError
from models.risk_pipeline import CATEGORICAL, FEATURES, NUMERIC
from models.risk_scores import (
    _outdated_scores,
    customer_risk_scores,
    expected_collections,
    has_scores,
    ranked_invoices,
    score_distribution,
    scores_info,
)
from models.risk_scoring import AT_RISK, score_open_items
from models.risk_train import train

__all__ = [
    "AT_RISK",
    "FEATURES",
    "ModelError",
    "customer_risk_scores",
    "data_end",
    "expected_collections",
    "features",
    "forecast_backtest",
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

Progress = Callable[[float, str], None]


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
    if (
        card.get("features") != {"numeric": NUMERIC, "categorical": CATEGORICAL}
        or "shipped" not in card
    ):
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
    report(0.1, "Computing features of the open invoices and scoring them")
    with _threads(), _timed(seconds, "score"):
        invoices, nxt = score_open_items(store, as_of, models, card)

    report(0.8, "Writing the scores")
    with _timed(seconds, "write"):
        context = {
            "as_of": as_of,
            "model_version": card["model_version"],
            "data_version": store.data_version(),
            "stale_model": bool(card["stale"]),
            "scored_at": dt.datetime.now().replace(microsecond=0),
        }
        invoices = invoices.assign(**context)
        customers = _customer_scores(nxt, invoices)
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


def forecast_backtest(store: Store, currency: str | None = None) -> dict | None:
    """How the 8-week cash forecast fared when replayed at past dates (from the model card of
    this store's model): the errors of the shipped payment-date predictor and of the other one
    for `currency` (None: the first),
    or None when there is no usable model or no back-test."""
    try:
        card = model_card(None, store)
    except ModelError:
        return None
    backtest = (card or {}).get("forecast_backtest") or {}
    errors = [
        e for e in backtest.get("errors", []) if currency is None or e["currency"] == currency
    ]
    if not errors:
        return None
    currency = currency or errors[0]["currency"]
    by = {e["predictor"]: e for e in errors if e["currency"] == currency}
    shipped = card["payment_dates"]["predictor"]
    if shipped not in by:
        return None
    other = next((by[k] for k in by if k != shipped), None)
    checked = {"currency": currency, "dates": backtest["as_of_dates"], "weeks": backtest["weeks"],
               "predictor": shipped, "shipped": by[shipped], "other": other}  # fmt: skip
    return checked | {"text": risk_report.backtest_line(checked)}
