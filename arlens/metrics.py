"""One Python function per named query: what the pages, the command line and the tests call.

Each function runs a query from `arlens/sql/<domain>.sql` with bound parameters and, where a page
needs a wide table (buckets as columns), pivots the long result. Nothing here imports Streamlit.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Sequence
from decimal import ROUND_HALF_UP, Decimal

import numpy as np
import pandas as pd

from arlens import queries
from arlens.store import Store

DEFAULT_EDGES = (30, 60, 90, 120)
DEFAULT_WINDOW_DAYS = 90
GROUPS = ("customer", "segment", "country", "salesperson", "currency", "none")
FILTER_KEYS = ("segment", "country", "salesperson", "currency", "customer_id")
UNAPPLIED = "Unapplied"
PAID, WRITTEN_OFF = "Paid", "Written off"
# Stated fallback loss rates (share of a bucket's balance eventually written off) for buckets with
# too little history; a common provision matrix for trade receivables.
FALLBACK_LOSS_RATES = (0.01, 0.03, 0.10, 0.25, 0.50, 0.75)
MIN_HISTORY_MONTHS = 3
CURRENCY_SYMBOLS = {"USD": "$", "EUR": "€", "GBP": "£", "JPY": "¥"}


def _params(filters: dict | None, **extra) -> dict:
    filters = filters or {}
    unknown = set(filters) - set(FILTER_KEYS)
    if unknown:
        raise ValueError(f"unknown filter(s): {', '.join(sorted(unknown))}")
    params = {key: filters.get(key) or None for key in FILTER_KEYS}
    params["customer"] = params.pop("customer_id")
    params.update(extra)
    return params


def _run(store: Store, domain: str, name: str, params: dict) -> pd.DataFrame:
    query = queries.load(domain)[name]
    return store.df(query.sql, {k: v for k, v in params.items() if k in query.parameters})


def _edges(edges: Sequence[int]) -> list[int]:
    edges = [int(e) for e in edges]
    if not edges or edges != sorted(set(edges)) or edges[0] <= 0:
        raise ValueError("bucket edges must be increasing whole days above 0, e.g. 30,60,90,120")
    return edges


def bucket_labels(basis: str = "due", edges: Sequence[int] = DEFAULT_EDGES) -> list[str]:
    """`Current, 1-30, …, 121+` (due-date basis) or `0-30, 31-60, …, 121+` (invoice-date basis)."""
    edges = _edges(edges)
    if basis == "due":
        labels, low = ["Current"], 1
    elif basis == "invoice":
        labels, low = [], 0
    else:
        raise ValueError("basis is 'due' or 'invoice'")
    for edge in edges:
        labels.append(f"{low}-{edge}")
        low = edge + 1
    labels.append(f"{low}+")
    return labels


def _label_buckets(frame: pd.DataFrame, labels: list[str]) -> pd.Series:
    names = {i: label for i, label in enumerate(labels)} | {
        -1: UNAPPLIED,
        -2: PAID,
        -3: WRITTEN_OFF,
    }
    return frame["bucket_index"].map(names)


# -- Overview ------------------------------------------------------------------------------------


def latest_activity_date(store: Store) -> dt.date | None:
    """The default as-of date: the newest document in the store (None when it is empty)."""
    return store.value(queries.sql("overview", "latest_activity_date"))


def headline(store: Store, as_of: dt.date) -> pd.DataFrame:
    """Open AR, past due and open invoices per currency at `as_of`."""
    return store.df(queries.sql("overview", "headline"), {"as_of": as_of})


def main_currency(store: Store) -> str | None:
    """The currency with the most invoiced."""
    return store.value(queries.sql("overview", "main_currency"))


def filter_values(store: Store) -> dict[str, list[str]]:
    """What each sidebar filter can be set to."""
    values: dict[str, list[str]] = {}
    for name, value in store.rows(queries.sql("overview", "filter_values")):
        values.setdefault(name, []).append(value)
    return values


def results_stamp(store: Store) -> str:
    """When the models last wrote results (personas, risk scores). Writing them does not change
    the data version, so cached pages key on this too."""
    tables = {name for (name,) in store.rows("SELECT table_name FROM duckdb_tables()")}
    stamps = [
        str(store.value(f"SELECT max({column}) FROM {table}"))
        for table, column in (("persona_runs", "computed_at"), ("invoice_scores", "scored_at"))
        if table in tables
    ]
    return "|".join(stamps)


def import_history(store: Store) -> pd.DataFrame:
    """Every import, newest first."""
    return store.df(queries.sql("overview", "import_history"))


def data_health(store: Store, as_of: dt.date) -> pd.DataFrame:
    """Checks worth a look after an import: unapplied money, guessed due dates, missing limits."""
    return store.df(queries.sql("overview", "data_health"), {"as_of": as_of})


def rejected_rows(store: Store, import_id: int) -> pd.DataFrame:
    return store.df(queries.sql("overview", "rejected_rows"), {"import_id": import_id})


def import_mapping(store: Store, import_id: int) -> dict:
    rows = store.rows(queries.sql("overview", "import_mapping"), {"import_id": import_id})
    if not rows:
        return {}
    mapping, notes = rows[0]
    return {"mapping": json.loads(mapping) if mapping else {}, "notes": notes}


# -- Aging ---------------------------------------------------------------------------------------


def open_items(
    store: Store,
    as_of: dt.date,
    basis: str = "due",
    edges: Sequence[int] = DEFAULT_EDGES,
    filters: dict | None = None,
) -> pd.DataFrame:
    """Every open item at `as_of` with its bucket; unapplied cash and credits as negative items."""
    labels = bucket_labels(basis, edges)
    frame = _run(
        store,
        "aging",
        "open_items",
        _params(filters, as_of=as_of, basis=basis, edges=_edges(edges)),
    )
    frame["bucket"] = _label_buckets(frame, labels)
    return frame.drop(columns="bucket_index")


def aging(
    store: Store,
    as_of: dt.date,
    basis: str = "due",
    edges: Sequence[int] = DEFAULT_EDGES,
    group_by: str | None = "customer",
    net_unapplied: bool = False,
    filters: dict | None = None,
) -> pd.DataFrame:
    """Open amount by bucket per (currency, group); `total` reconciles with open AR to the cent."""
    group_by = group_by or "none"
    if group_by not in GROUPS:
        raise ValueError(f"group_by is one of {', '.join(GROUPS)}")
    labels = bucket_labels(basis, edges)
    long = _run(
        store,
        "aging",
        "aging",
        _params(filters, as_of=as_of, basis=basis, edges=_edges(edges), group_by=group_by),
    )
    keys = ["currency"]
    group_column = {"customer": "customer_id"}.get(group_by, group_by)
    if group_by not in ("currency", "none"):
        keys.append(group_column)
        long = long.rename(columns={"group_key": group_column})
    columns = [
        *keys,
        *([] if group_by != "customer" else ["name"]),
        *labels,
        UNAPPLIED,
        "past_due",
        "total",
    ]
    if long.empty:
        return pd.DataFrame(columns=columns)
    long["bucket"] = _label_buckets(long, labels)
    wide = (
        long.groupby([*keys, "bucket"], dropna=False)["amount"]
        .sum()
        .unstack("bucket", fill_value=0.0)
    )
    wide = wide.reindex(columns=[*labels, UNAPPLIED], fill_value=0.0)
    wide["past_due"] = long.groupby(keys, dropna=False)["past_due"].sum()
    wide["total"] = wide[labels].sum(axis=1) + (wide[UNAPPLIED] if net_unapplied else 0)
    wide = wide.reset_index()
    wide.columns.name = None
    if group_by == "customer":
        names = long.dropna(subset=["group_name"]).groupby("customer_id")["group_name"].first()
        wide.insert(len(keys), "name", wide["customer_id"].map(names))
    return wide.sort_values(["currency", "total"], ascending=[True, False], ignore_index=True)[
        columns
    ]


def trend(
    store: Store,
    start: dt.date,
    end: dt.date,
    basis: str = "due",
    edges: Sequence[int] = DEFAULT_EDGES,
    filters: dict | None = None,
) -> pd.DataFrame:
    """Aging at every month-end in [start, end]: one row per (month_end, currency)."""
    labels = bucket_labels(basis, edges)
    long = _run(
        store,
        "aging",
        "trend",
        _params(filters, start=start, end=end, basis=basis, edges=_edges(edges)),
    )
    if long.empty:
        return pd.DataFrame(columns=["month_end", "currency", *labels, "total"])
    long["bucket"] = _label_buckets(long, labels)
    wide = long.pivot_table(
        index=["month_end", "currency"],
        columns="bucket",
        values="amount",
        aggfunc="sum",
        fill_value=0.0,
    ).reindex(columns=labels, fill_value=0.0)
    wide["total"] = wide.sum(axis=1)
    wide = wide.reset_index()
    wide.columns.name = None
    return wide


def customer_open_invoices(store: Store, as_of: dt.date, customer_id: str) -> pd.DataFrame:
    """One customer's open invoices at `as_of`."""
    return _run(store, "aging", "customer_open_invoices", {"as_of": as_of, "customer": customer_id})


# -- KPIs ----------------------------------------------------------------------------------------


def kpis(
    store: Store,
    as_of: dt.date,
    window_days: int = DEFAULT_WINDOW_DAYS,
    filters: dict | None = None,
) -> pd.DataFrame:
    """DSO, best possible DSO, ADD, countback DSO and CEI at `as_of`, per currency."""
    return _run(store, "kpis", "kpis", _params(filters, as_of=as_of, window_days=int(window_days)))


def kpi_series(
    store: Store,
    start: dt.date,
    end: dt.date,
    window_days: int = DEFAULT_WINDOW_DAYS,
    filters: dict | None = None,
) -> pd.DataFrame:
    """The KPIs at every month-end in [start, end] (CEI per calendar month)."""
    return _run(
        store,
        "kpis",
        "kpi_series",
        _params(filters, start=start, end=end, window_days=int(window_days)),
    )


def cash_conversion_cycle(store: Store, currency: str | None = None) -> pd.DataFrame:
    """DIO, DPO, DSO and CCC = DSO + DIO − DPO per financial period. DSO uses one currency's
    receivables (default: the main one), so that no sum mixes currencies."""
    currency = currency or main_currency(store)
    frame = _run(store, "kpis", "cash_conversion_cycle", {"currency": currency})
    frame.insert(1, "currency", currency)
    frame["ccc"] = frame["dso"] + frame["dio"] - frame["dpo"]
    return frame


# -- Loss, concentration -------------------------------------------------------------------------


def roll_rates(
    store: Store,
    as_of: dt.date,
    months: int = 1,
    edges: Sequence[int] = DEFAULT_EDGES,
    filters: dict | None = None,
) -> pd.DataFrame:
    """Where each bucket's open amount went by the next month-end, pooled over `months` pairs."""
    labels = bucket_labels("due", edges)
    frame = _run(
        store,
        "risk",
        "roll_rates",
        _params(filters, as_of=as_of, months=int(months), edges=_edges(edges)),
    )
    columns = ["currency", "from_bucket", "to_bucket", "amount", "rate", "month_pairs"]
    if frame.empty:
        return pd.DataFrame(columns=columns)
    names = {i: label for i, label in enumerate(labels)} | {-2: PAID, -3: WRITTEN_OFF}
    frame["from_bucket"] = frame["from_index"].map(names)
    frame["to_bucket"] = frame["to_index"].map(names)
    totals = frame.groupby(["currency", "from_index"])["amount"].transform("sum")
    frame["rate"] = frame["amount"] / totals
    return frame[columns]


def roll_rate_matrix(rates: pd.DataFrame, labels: list[str]) -> pd.DataFrame:
    """The long roll rates of one currency as a bucket × (bucket, Paid, Written off) matrix."""
    matrix = rates.pivot_table(
        index="from_bucket", columns="to_bucket", values="rate", aggfunc="sum"
    )
    return matrix.reindex(index=labels, columns=[*labels, PAID, WRITTEN_OFF]).fillna(0.0)


def loss_rates(rates: pd.DataFrame, labels: list[str]) -> pd.DataFrame:
    """Loss rate per bucket: the chance that money in it ends written off, reading the monthly
    roll rates as an absorbing Markov chain (Paid and Written off absorb). Buckets with less than
    MIN_HISTORY_MONTHS of history or no balance take the stated fallback rate."""
    fallback = _fallback_rates(len(labels))
    months = int(rates["month_pairs"].max()) if not rates.empty else 0
    matrix = roll_rate_matrix(rates, labels)
    seen = set(rates["from_bucket"]) if not rates.empty else set()
    transient = matrix[labels].to_numpy()
    written_off = matrix[WRITTEN_OFF].to_numpy()
    try:
        absorbed = np.linalg.solve(np.eye(len(labels)) - transient, written_off)
    except np.linalg.LinAlgError:
        absorbed = np.full(len(labels), np.nan)
    rows = []
    for i, label in enumerate(labels):
        from_history = months >= MIN_HISTORY_MONTHS and label in seen and np.isfinite(absorbed[i])
        rows.append(
            {
                "bucket": label,
                "loss_rate": float(np.clip(absorbed[i], 0, 1)) if from_history else fallback[i],
                "source": "history" if from_history else "fallback",
            }
        )
    return pd.DataFrame(rows)


def _fallback_rates(n: int) -> list[float]:
    rates = list(FALLBACK_LOSS_RATES)
    if n <= len(rates):
        return rates[: n - 1] + [rates[-1]]
    return rates[:-1] + [rates[-2]] * (n - len(rates)) + [rates[-1]]


def allowance(
    store: Store,
    as_of: dt.date,
    history_months: int = 12,
    edges: Sequence[int] = DEFAULT_EDGES,
    filters: dict | None = None,
) -> pd.DataFrame:
    """Expected loss per (currency, bucket): balance at `as_of` × loss rate from history."""
    labels = bucket_labels("due", edges)
    balances = aging(store, as_of, "due", edges, group_by="currency", filters=filters)
    rates = roll_rates(store, as_of, months=history_months, edges=edges, filters=filters)
    rows = []
    for record in balances.to_dict("records"):
        currency = record["currency"]
        per_bucket = loss_rates(rates[rates["currency"] == currency], labels)
        for rate in per_bucket.to_dict("records"):
            balance = float(record[rate["bucket"]])
            rows.append(
                {
                    "currency": currency,
                    "bucket": rate["bucket"],
                    "balance": balance,
                    "loss_rate": rate["loss_rate"],
                    "source": rate["source"],
                    "allowance": balance * rate["loss_rate"],
                }
            )
    return pd.DataFrame(
        rows, columns=["currency", "bucket", "balance", "loss_rate", "source", "allowance"]
    )


def expected_loss_by(
    store: Store,
    as_of: dt.date,
    group_by: str = "customer",
    history_months: int = 12,
    edges: Sequence[int] = DEFAULT_EDGES,
    filters: dict | None = None,
) -> pd.DataFrame:
    """Expected loss per customer or segment: its balance in each bucket × the bucket's loss rate."""
    labels = bucket_labels("due", edges)
    balances = aging(store, as_of, "due", edges, group_by=group_by, filters=filters)
    if balances.empty:
        return balances.assign(expected_loss=[])
    rates = roll_rates(store, as_of, months=history_months, edges=edges, filters=filters)
    parts = []
    for currency, part in balances.groupby("currency"):
        per_bucket = loss_rates(rates[rates["currency"] == currency], labels).set_index("bucket")[
            "loss_rate"
        ]
        part = part.copy()
        part["expected_loss"] = sum(part[label] * per_bucket[label] for label in labels)
        parts.append(part)
    result = pd.concat(parts, ignore_index=True)
    return result.sort_values("expected_loss", ascending=False, ignore_index=True)


def concentration(store: Store, as_of: dt.date, filters: dict | None = None) -> pd.DataFrame:
    """Top-10 customers' share of open AR and past due, and HHI, per currency."""
    return _run(store, "risk", "concentration", _params(filters, as_of=as_of))


def top_past_due_customers(
    store: Store, as_of: dt.date, limit: int = 10, filters: dict | None = None
) -> pd.DataFrame:
    return _run(
        store, "risk", "top_past_due_customers", _params(filters, as_of=as_of, limit=int(limit))
    )


def write_off_history(store: Store, as_of: dt.date, filters: dict | None = None) -> pd.DataFrame:
    return _run(store, "risk", "write_off_history", _params(filters, as_of=as_of))


# -- Credit and collections ----------------------------------------------------------------------


def credit_review(
    store: Store,
    as_of: dt.date,
    filters: dict | None = None,
    proposed_limits: dict[str, float] | None = None,
) -> pd.DataFrame:
    """Per customer: exposure, limit, utilisation, over limit, stale review, hold reasons.

    `proposed_limits` ({customer_id: limit}) answers the what-if with the same rules."""
    proposed_limits = proposed_limits or {}
    params = _params(
        filters,
        as_of=as_of,
        limit_customers=list(proposed_limits),
        limit_values=[float(v) for v in proposed_limits.values()],
    )
    frame = _run(store, "credit", "credit_review", params)
    frame["hold"] = frame["hold_reasons"].fillna("") != ""
    return frame


def money(amount: float, currency: str | None) -> str:
    """`$10,000`, `€950`, `CHF 1,200`: whole units, for a sentence a collector reads aloud."""
    symbol = CURRENCY_SYMBOLS.get(currency or "")
    whole = Decimal(str(abs(amount))).quantize(Decimal(1), rounding=ROUND_HALF_UP)  # 368.50 -> 369
    text = f"{whole:,}"
    sign = "-" if amount < 0 else ""
    return f"{sign}{symbol}{text}" if symbol else f"{sign}{currency} {text}".strip()


def call_summary(past_due: float, over: dict[int, float], currency: str | None) -> str:
    """ "$10,000 is over 30 days past due": the largest threshold holding half the past due."""
    for days in sorted(over, reverse=True):
        if over[days] > 0 and over[days] >= past_due / 2:
            return f"{money(over[days], currency)} is over {days} days past due"
    return f"{money(past_due, currency)} is past due"


def worklist(
    store: Store,
    as_of: dt.date,
    filters: dict | None = None,
    risk_scores: dict[str, float] | None = None,
) -> pd.DataFrame:
    """Past-due customers in the order collecting is worth most, each with its call sheet."""
    risk_scores = risk_scores or {}
    frame = _run(
        store,
        "collections",
        "worklist",
        _params(
            filters,
            as_of=as_of,
            risk_customers=list(risk_scores),
            risk_scores=[float(v) for v in risk_scores.values()],
        ),
    )
    frame.insert(
        3,
        "summary",
        [
            call_summary(r.past_due, {30: r.over_30, 60: r.over_60, 90: r.over_90}, r.currency)
            for r in frame.itertuples()
        ],
    )
    return frame.merge(customer_personas(store, as_of), on="customer_id", how="left")


def customer_personas(store: Store, as_of: dt.date) -> pd.DataFrame:
    """Persona, strategy and credit action per customer from the newest `arlens personas` run on
    or before `as_of` (tables written by models/personas.py); empty when none has run."""
    if not store.value(queries.sql("personas", "stored")):
        return pd.DataFrame(
            columns=["customer_id", "persona", "strategy", "credit_action", "persona_as_of"]
        )
    return store.df(queries.sql("personas", "worklist_personas"), {"as_of": as_of})
