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
FILTER_KEYS = ("segment", "country", "salesperson", "currency", "customer_id", "reporting_currency")
UNAPPLIED = "Unapplied"
PAID, WRITTEN_OFF = "Paid", "Written off"
# Stated fallback loss rates (share of a bucket's balance eventually written off) for buckets with
# too little history; a common provision matrix for trade receivables.
FALLBACK_LOSS_RATES = (0.01, 0.03, 0.10, 0.25, 0.50, 0.75)
MIN_HISTORY_MONTHS = 3
CURRENCY_SYMBOLS = {"USD": "$", "EUR": "€", "GBP": "£", "JPY": "¥", "INR": "₹"}


def _params(filters: dict | None, **extra) -> dict:
    filters = filters or {}
    unknown = set(filters) - set(FILTER_KEYS)
    if unknown:
        raise ValueError(f"unknown filter(s): {', '.join(sorted(unknown))}")
    params = {key: filters.get(key) or None for key in FILTER_KEYS}
    params["customer"] = params.pop("customer_id")
    params["reporting"] = params.pop("reporting_currency")
    if params["reporting"]:  # every currency, translated: no per-currency filter
        params["currency"] = None
    params.update(extra)
    return params


def _run(store: Store, domain: str, name: str, params: dict) -> pd.DataFrame:
    """Runs a named query; with a `reporting` currency, over its translated sources, every amount
    at the closing rate on or before the as-of date (or the end of the period shown)."""
    sql = queries.load(domain)[name].sql
    if params.get("reporting"):
        sql = queries.in_reporting_currency(sql)
        params = {**params, "rate_on": params.get("as_of") or params.get("end") or dt.date.today()}
    wanted = queries.parameters_of(sql)
    return store.df(sql, {k: v for k, v in params.items() if k in wanted})


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
    """Open AR, past due and open invoices per currency at `as_of` (a document without a
    currency counts in the home currency)."""
    return store.df(queries.sql("overview", "headline"), {"as_of": as_of})


def main_currency(store: Store) -> str | None:
    """The currency with the most invoiced (a document without one is in the home currency);
    the home currency when nothing is invoiced yet."""
    return store.value(queries.sql("overview", "main_currency"))


def filter_values(store: Store) -> dict[str, list[str]]:
    """What each sidebar filter can be set to."""
    values: dict[str, list[str]] = {}
    for name, value in store.rows(queries.sql("overview", "filter_values")):
        values.setdefault(name, []).append(value)
    return values


def results_stamp(store: Store) -> str:
    """When the models last wrote results (personas, risk scores) and when the app last recorded
    an action (a promise, a hold: audit_log). Neither changes the data version (the models'
    staleness is read from it), so cached pages key on this too."""
    tables = {name for (name,) in store.rows("SELECT table_name FROM duckdb_tables()")}
    stamps = [
        str(store.value(f"SELECT max({column}) FROM {table}"))
        for table, column in (
            ("persona_runs", "computed_at"),
            ("invoice_scores", "scored_at"),
            ("audit_log", "logged_at"),
        )  # fmt: skip
        if table in tables
    ]
    return "|".join(stamps)


def import_history(store: Store) -> pd.DataFrame:
    """Every import, newest first."""
    return store.df(queries.sql("overview", "import_history"))


def data_health(store: Store, as_of: dt.date) -> pd.DataFrame:
    """Checks worth a look after an import: unapplied money, guessed due dates, missing limits.
    Columns check, currency, items, amount: money checks have a row per currency (never a sum
    across currencies); the others have no currency and no amount."""
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
    # One row per (group, bucket) comes back: scatter the amounts into a group × bucket grid
    # (a pandas unstack of 150k rows costs as much as the query at 10M invoices).
    group = long.groupby(keys, sort=False, dropna=False).ngroup().to_numpy()
    n_groups = int(group.max()) + 1
    column = long["bucket_index"].to_numpy(dtype="int64")
    column = np.where(column < 0, len(labels), column)  # -1, unapplied: the last column
    grid = np.zeros((n_groups, len(labels) + 1))
    np.add.at(grid, (group, column), long["amount"].to_numpy(dtype="float64"))
    past_due = np.bincount(group, long["past_due"].to_numpy(dtype="float64"), n_groups)
    first = long.drop_duplicates(keys).reset_index(drop=True)  # in ngroup order
    wide = first[keys].copy()
    if group_by == "customer":
        wide["name"] = (
            long.dropna(subset=["group_name"])
            .drop_duplicates("customer_id")
            .set_index("customer_id")["group_name"]
            .reindex(wide["customer_id"])
            .to_numpy()
        )
    for i, label in enumerate([*labels, UNAPPLIED]):
        wide[label] = grid[:, i]
    wide["past_due"] = past_due
    wide["total"] = grid[:, : len(labels)].sum(axis=1) + (
        grid[:, len(labels)] if net_unapplied else 0
    )
    order = ["currency", "total", *keys[1:]]  # equal totals in the group's order
    return wide.sort_values(
        order, ascending=[True, False, *[True] * (len(keys) - 1)], ignore_index=True
    )[columns]


def _trend_query(basis: str, edges: Sequence[int], params: dict | None = None) -> str:
    """Month-end balances are kept for the due basis and the default edges."""
    if basis != "due" or _edges(edges) != list(DEFAULT_EDGES):
        return "trend"
    if params and not any(params.get(k) for k in ("segment", "country", "salesperson", "customer")):
        return "trend_all_from_balances"
    return "trend_from_balances"


def trend(
    store: Store,
    start: dt.date,
    end: dt.date,
    basis: str = "due",
    edges: Sequence[int] = DEFAULT_EDGES,
    filters: dict | None = None,
) -> pd.DataFrame:
    """Aging at every month-end in [start, end]: one row per (month_end, currency).

    With the default edges on the due basis it reads the month-end balances the importer keeps;
    otherwise it ages every invoice at every month-end."""
    labels = bucket_labels(basis, edges)
    params = _params(filters, start=start, end=end, basis=basis, edges=_edges(edges))
    long = _run(store, "aging", _trend_query(basis, edges, params), params)
    if long.empty:
        return pd.DataFrame(columns=["month_end", "currency", *labels, "total"])
    long["bucket"] = _label_buckets(long, labels)
    wide = (
        long.groupby(["month_end", "currency", "bucket"], dropna=False)["amount"]
        .sum()
        .unstack("bucket", fill_value=0.0)
        .reindex(columns=labels, fill_value=0.0)
    )
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
    """DSO, best possible DSO, ADD, countback DSO and CEI at `as_of`, per currency: a row for
    every currency invoiced by then, fully collected ones included (DSO 0)."""
    return _run(store, "kpis", "kpis", _params(filters, as_of=as_of, window_days=int(window_days)))


def kpi_series(
    store: Store,
    start: dt.date,
    end: dt.date,
    window_days: int = DEFAULT_WINDOW_DAYS,
    filters: dict | None = None,
) -> pd.DataFrame:
    """The KPIs at every month-end in [start, end] (CEI per calendar month), a row per currency
    once it has been invoiced (fully collected month-ends included: DSO 0)."""
    return _run(
        store,
        "kpis",
        "kpi_series",
        _params(filters, start=start, end=end, window_days=int(window_days)),
    )


def cash_conversion_cycle(
    store: Store,
    currency: str | None = None,
    as_of: dt.date | None = None,
    reporting: str | None = None,
) -> pd.DataFrame:
    """DIO, DPO, DSO and CCC = DSO + DIO − DPO per financial period ending on or before `as_of`
    (None: every period). DSO is over each period's own days, like DIO and DPO (not the N-day
    DSO of `kpis`), and uses one currency's receivables (default: the main one), so that no sum
    mixes currencies — or, with `reporting`, every currency's translated into it."""
    currency = reporting or currency or main_currency(store)
    params = {"currency": None if reporting else currency, "as_of": as_of, "reporting": reporting}
    frame = _run(store, "kpis", "cash_conversion_cycle", params)
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
    """Where each bucket's open amount went by the next month-end, pooled over `months` pairs.

    One row per (currency, from_bucket, to_bucket); `rate` is the share of the from-bucket's
    pooled amount, so each (currency, from_bucket) adds to 1. `month_pairs` is how many month-ends
    of the window the currency had anything open at (its months of history), `bucket_months` at
    how many the from-bucket held a balance."""
    labels = bucket_labels("due", edges)
    frame = _run(
        store,
        "risk",
        "roll_rates",
        _params(filters, as_of=as_of, months=int(months), edges=_edges(edges)),
    )
    columns = ["currency", "from_bucket", "to_bucket", "amount", "rate", "month_pairs",
               "bucket_months"]  # fmt: skip
    if frame.empty:
        return pd.DataFrame(columns=columns)
    names = {i: label for i, label in enumerate(labels)} | {-2: PAID, -3: WRITTEN_OFF}
    frame["from_bucket"] = frame["from_index"].map(names)
    frame["to_bucket"] = frame["to_index"].map(names)
    frame["amount"] = frame["amount"].astype(float)
    totals = frame.groupby(["currency", "from_index"], dropna=False)["amount"].transform("sum")
    frame["rate"] = frame["amount"] / totals.where(totals != 0)
    frame[["month_pairs", "bucket_months"]] = frame[["month_pairs", "bucket_months"]].astype(int)
    return frame[columns]


def roll_rate_matrix(
    rates: pd.DataFrame, labels: list[str], seen_only: bool = False
) -> pd.DataFrame:
    """The long roll rates of one currency as a bucket × (bucket, Paid, Written off) matrix.

    A bucket that held no balance at the month-ends has no row in the history: it is a row of
    zeros (what loss_rates solves with), or left out with `seen_only` (what a reader is shown:
    every row shown then adds to 100%)."""
    matrix = rates.pivot_table(
        index="from_bucket", columns="to_bucket", values="rate", aggfunc="sum"
    )
    seen = [label for label in labels if label in set(rates["from_bucket"])]
    return matrix.reindex(
        index=seen if seen_only else labels, columns=[*labels, PAID, WRITTEN_OFF]
    ).fillna(0.0)


def loss_rates(rates: pd.DataFrame, labels: list[str]) -> pd.DataFrame:
    """Loss rate per bucket of one currency: the chance that money in it ends written off,
    reading the monthly roll rates as an absorbing Markov chain (Paid and Written off absorb).

    A bucket takes the stated fallback rate, and says why in `note`, when the currency's
    history is shorter than MIN_HISTORY_MONTHS month-ends, when nothing at all was written off
    in the history (a register that records no write-offs would otherwise read as "no loss
    ever"), or when the bucket itself held a balance at fewer than MIN_HISTORY_MONTHS month-ends.
    The other buckets are solved with the fallback buckets' rates fixed, so money rolling into a
    bucket without history still carries that bucket's (fallback) loss.
    Columns: bucket, loss_rate, source ('history' | 'fallback'), note."""
    fallback = _fallback_rates(len(labels))
    months = int(rates["month_pairs"].max()) if len(rates) else 0
    column = "bucket_months" if "bucket_months" in rates else "month_pairs"
    bucket_months = rates.groupby("from_bucket")[column].max().to_dict() if len(rates) else {}
    wrote_off = bool(((rates["to_bucket"] == WRITTEN_OFF) & (rates["rate"] > 0)).any())
    notes: dict[int, str] = {}
    for i, label in enumerate(labels):
        held = int(bucket_months.get(label, 0))
        if months < MIN_HISTORY_MONTHS:
            notes[i] = (f"fallback: {_months(months)} of history, fewer than "
                        f"{MIN_HISTORY_MONTHS}")  # fmt: skip
        elif not wrote_off:
            notes[i] = f"fallback: nothing written off in the {_months(months)} of history"
        elif held < MIN_HISTORY_MONTHS:
            notes[i] = (f"fallback: a balance in this bucket at {held} of the {months} "
                        "month-ends")  # fmt: skip
    matrix = roll_rate_matrix(rates, labels).to_numpy()
    transient, written_off = matrix[:, : len(labels)], matrix[:, len(labels) + 1]
    solved = [i for i in range(len(labels)) if i not in notes]
    fixed = [i for i in range(len(labels)) if i in notes]
    result = np.array(fallback, dtype=float)
    if solved:
        known = written_off[solved] + transient[np.ix_(solved, fixed)] @ result[fixed]
        try:
            system = np.eye(len(solved)) - transient[np.ix_(solved, solved)]
            result[solved] = np.linalg.solve(system, known)
        except np.linalg.LinAlgError:
            for i in solved:
                notes[i] = "fallback: money in this bucket never left it in the history"
            result[solved] = np.asarray(fallback)[solved]
    rows = []
    for i, label in enumerate(labels):
        ok = i not in notes and np.isfinite(result[i])
        rows.append({
            "bucket": label,
            "loss_rate": float(np.clip(result[i], 0, 1)) if ok else fallback[i],
            "source": "history" if ok else "fallback",
            "note": (f"roll rates at {int(bucket_months.get(label, 0))} month-ends" if ok
                     else notes.get(i, "fallback: the roll rates give no finite rate")),
        })  # fmt: skip
    return pd.DataFrame(rows, columns=["bucket", "loss_rate", "source", "note"])


def _months(n: int) -> str:
    return f"{n} month{'' if n == 1 else 's'}"


def _fallback_rates(n: int) -> list[float]:
    rates = list(FALLBACK_LOSS_RATES)
    if n <= len(rates):
        return rates[: n - 1] + [rates[-1]]
    return rates[:-1] + [rates[-2]] * (n - len(rates)) + [rates[-1]]


def fallback_rates_text(edges: Sequence[int] = DEFAULT_EDGES) -> str:
    """The stated fallback rates in words: "Current 1%, 1-30 3%, …, 121+ 75%"."""
    labels = bucket_labels("due", edges)
    rates = _fallback_rates(len(labels))
    return ", ".join(f"{label} {rate:.0%}" for label, rate in zip(labels, rates, strict=True))


def _of_currency(frame: pd.DataFrame, currency) -> pd.DataFrame:
    """The rows of one currency (a missing currency matches a missing one)."""
    if pd.isna(currency):
        return frame[frame["currency"].isna()]
    return frame[frame["currency"] == currency]


def allowance(
    store: Store,
    as_of: dt.date,
    history_months: int = 12,
    edges: Sequence[int] = DEFAULT_EDGES,
    filters: dict | None = None,
    rates: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """Expected credit loss (the allowance) per (currency, bucket): balance at `as_of` × the
    bucket's loss rate from the roll rates of the `history_months` before it (loss_rates), with
    where the rate comes from (`source`, `note`); money to the cent. Never summed across
    currencies. `rates`: those roll rates when the caller has them already (the slow part)."""
    columns = ["currency", "bucket", "balance", "loss_rate", "source", "note", "allowance"]
    labels = bucket_labels("due", edges)
    balances = aging(store, as_of, "due", edges, group_by="currency", filters=filters)
    if rates is None:
        rates = roll_rates(store, as_of, months=history_months, edges=edges, filters=filters)
    rows = []
    for record in balances.to_dict("records"):
        currency = record["currency"]
        per_bucket = loss_rates(_of_currency(rates, currency), labels)
        for rate in per_bucket.to_dict("records"):
            balance = float(record[rate["bucket"]])
            rows.append({"currency": currency, **rate, "balance": balance,
                         "allowance": round(balance * rate["loss_rate"], 2)})  # fmt: skip
    return pd.DataFrame(rows, columns=columns)


def loss_rate_note(table: pd.DataFrame) -> str:
    """One sentence per currency on where the allowance's loss rates come from (the allowance
    table above): every bucket from history, every one from the fallback rates and why, or
    which buckets fall back."""
    sentences = []
    for currency, part in table.groupby("currency", dropna=False, sort=True):
        fallback = part[part["source"] == "fallback"]
        if fallback.empty:
            text = "every loss rate is from the roll-rate history."
        elif len(fallback) == len(part) and fallback["note"].nunique() == 1:
            why = fallback["note"].iloc[0].removeprefix("fallback: ")
            text = f"{why}, so every bucket uses the stated fallback rates."
        else:
            named = ", ".join(f"{r.bucket} {r.loss_rate:.0%} ({r.note.removeprefix('fallback: ')})"
                              for r in fallback.itertuples())  # fmt: skip
            text = f"fallback rates for {named}; the other buckets are from the roll-rate history."
        where = f"{currency}: " if table["currency"].nunique(dropna=False) > 1 else ""
        sentences.append(where + text[:1].upper() + text[1:])
    return " ".join(sentences)


def expected_credit_loss_by(
    store: Store,
    as_of: dt.date,
    group_by: str = "customer",
    history_months: int = 12,
    edges: Sequence[int] = DEFAULT_EDGES,
    filters: dict | None = None,
    rates: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """Expected credit loss per customer or segment (the allowance split by where it sits): its
    balance in each bucket × the bucket's loss rate, in its currency (column
    `expected_credit_loss`, to the cent). Largest first within each currency. `rates` as in
    `allowance`."""
    labels = bucket_labels("due", edges)
    balances = aging(store, as_of, "due", edges, group_by=group_by, filters=filters)
    if balances.empty:
        return balances.assign(expected_credit_loss=pd.Series(dtype=float))
    if rates is None:
        rates = roll_rates(store, as_of, months=history_months, edges=edges, filters=filters)
    parts = []
    for currency, part in balances.groupby("currency", dropna=False):
        per_bucket = loss_rates(_of_currency(rates, currency), labels).set_index("bucket")
        part = part.copy()
        part["expected_credit_loss"] = sum(
            part[label].astype(float) * per_bucket.loc[label, "loss_rate"] for label in labels
        ).round(2)
        parts.append(part)
    result = pd.concat(parts, ignore_index=True)
    return result.sort_values(
        ["currency", "expected_credit_loss"], ascending=[True, False], ignore_index=True
    )


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


# The credit review lives in arlens/credit.py (credit.sql); its public names are read through
# this module too (`metrics.credit_review`, `metrics.HoldRule`), so that the pages' `query(name)`
# and the command line find every metric here. Loaded on first use: arlens.credit imports this
# module's helpers.
CREDIT_NAMES = ("HoldRule", "credit_review", "credit_groups", "order_warnings",
                "untranslated_items", "credit_settings")  # fmt: skip


def __getattr__(name: str):
    if name in CREDIT_NAMES:
        from arlens import credit

        return getattr(credit, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def _cents(amount) -> int:
    return int(Decimal(str(amount)).scaleb(2).quantize(Decimal(1), rounding=ROUND_HALF_UP))


def _percent_of(part, whole) -> str:
    """`part` as a whole percentage of `whole` (money, compared in cents), half up: "539%"."""
    ratio = Decimal(_cents(part) * 100) / Decimal(_cents(whole))
    return f"{ratio.quantize(Decimal(1), rounding=ROUND_HALF_UP):,}%"


def _whole_percent(share: float) -> str:
    """0.5 -> "50%", 0.125 -> "12.5%" (a threshold as the user set it)."""
    text = f"{Decimal(str(share)) * 100:f}"
    return (text.rstrip("0").rstrip(".") if "." in text else text) + "%"


def _count(n, noun: str) -> str:
    """`1 broken promise`, `2 broken promises`."""
    n = int(n)
    return f"{n:,} {noun}{'' if n == 1 else 's'}"


def money(amount: float, currency: str | None) -> str:
    """`$10,000`, `€950`, `CHF 1,200`: whole units, for a sentence a collector reads aloud.
    Without a currency, the bare number; a missing amount is an empty string."""
    if amount is None or pd.isna(amount):
        return ""
    symbol = CURRENCY_SYMBOLS.get(currency or "")
    whole = Decimal(str(abs(amount))).quantize(Decimal(1), rounding=ROUND_HALF_UP)  # 368.50 -> 369
    text = f"{whole:,}"
    sign = "-" if amount < 0 and whole else ""
    if symbol:
        return f"{sign}{symbol}{text}"
    return f"{sign}{currency} {text}" if currency else f"{sign}{text}"


def call_summary(past_due, over_amount, over_days, currency: str | None) -> str:
    """The collector's sentence from the worklist's `sentence_days` / `sentence_amount` (the rule
    is in collections.sql): "$436,971 is over 90 days past due", else "$800 is past due"."""
    if over_days is None or pd.isna(over_days):
        return f"{money(past_due, currency)} is past due"
    return f"{money(over_amount, currency)} is over {int(over_days)} days past due"


def grace_days(store: Store) -> int:
    """The store's grace days (`arlens config grace-days`, default 0): an item counts as past due
    for the worklist, the call sheets and dunning when it is more than this many days past its
    due date; aging stays on the due date. For the pages' captions."""
    return store.grace_days()


def grace_in_force(store: Store, grace: int | None) -> int:
    """`grace` when given (0 or more), else the store setting."""
    if grace is None:
        return store.grace_days()
    if int(grace) < 0:
        raise ValueError(f"grace days are 0 or more, not {grace}")
    return int(grace)


def worklist(
    store: Store,
    as_of: dt.date,
    filters: dict | None = None,
    risk_scores: dict[str, float] | None = None,
    edges: Sequence[int] = DEFAULT_EDGES,
    grace_days: int | None = None,
) -> pd.DataFrame:
    """Past-due customers in the order collecting is worth most, each with its call sheet: the
    sentence (`summary`, on the aging buckets `edges`), the two largest past-due invoices and the
    promises. Past due here is more than `grace_days` past the due date (None: the store
    setting); days past due, buckets and priority still count from the due date."""
    risk_scores = risk_scores or {}
    frame = _run(
        store,
        "collections",
        "worklist",
        _params(
            filters,
            as_of=as_of,
            edges=_edges(edges),
            risk_customers=list(risk_scores),
            risk_scores=[float(v) for v in risk_scores.values()],
            grace_days=grace_in_force(store, grace_days),
        ),
    )
    frame.insert(
        3,
        "summary",
        [
            call_summary(r.past_due, r.sentence_amount, r.sentence_days, r.currency)
            for r in frame.itertuples()
        ],
    )
    return frame.merge(customer_personas(store, as_of), on="customer_id", how="left")


# The worklist as a collector's spreadsheet (the page's downloads): readable headers in this order.
WORKLIST_SHEET = {
    "name": "Customer",
    "customer_id": "Id",
    "currency": "Currency",
    "follow_up": "Follow up",
    "summary": "What to say",
    "past_due": "Past due",
    "max_days_past_due": "Oldest (days)",
    "invoice_1": "Largest invoice",
    "invoice_1_amount": "Largest open",
    "invoice_1_due": "Largest due",
    "invoice_2": "Second invoice",
    "invoice_2_amount": "Second open",
    "invoice_2_due": "Second due",
    "open_promises": "Open promises",
    "next_promised_date": "Next promised date",
    "broken_promises_90d": "Broken promises (90 days)",
    "dunning_level": "Dunning level",
    "last_notice_date": "Last notice",
    "risk_score": "Risk score",
    "priority": "Priority",
    "persona": "Persona",
    "strategy": "Strategy",
    "credit_action": "Credit action",
}
_SHEET_OPTIONAL = ("risk_score", "persona", "strategy", "credit_action", "next_promised_date",
                   "last_notice_date", "follow_up")  # fmt: skip


def worklist_sheet(frame: pd.DataFrame) -> pd.DataFrame:
    """`worklist()` as a person reads it: readable headers, dates without a time, and the optional
    columns (second invoice, risk score, persona, ...) only when some customer has one; the
    dunning level and last notice when the frame carries them (the page adds them from
    arlens.collections.dunning.last_notices). Missing cells stay missing (the exports write them
    empty)."""
    columns = [c for c in WORKLIST_SHEET if c in frame]
    columns = [c for c in columns if c not in _SHEET_OPTIONAL or frame[c].notna().any()]
    if not frame["invoice_2"].notna().any():
        columns = [c for c in columns if not c.startswith("invoice_2")]
    sheet = frame[columns].copy()
    for column in ("invoice_1_due", "invoice_2_due", "next_promised_date", "last_notice_date"):
        if column in sheet:
            sheet[column] = [None if pd.isna(v) else pd.Timestamp(v).date() for v in sheet[column]]
    return sheet.rename(columns=WORKLIST_SHEET)


def customer_personas(store: Store, as_of: dt.date) -> pd.DataFrame:
    """Persona, strategy and credit action per customer from the newest `arlens personas` run on
    or before `as_of` (tables written by models/personas.py); empty when none has run."""
    if not store.has_table("customer_personas"):
        return pd.DataFrame(
            columns=["customer_id", "persona", "strategy", "credit_action", "persona_as_of"]
        )
    return store.df(queries.sql("personas", "worklist_personas"), {"as_of": as_of})
