"""An independent plain-pandas implementation of the README's "How numbers are computed".

The tests compare `arlens.metrics` (SQL on DuckDB) against this module, and the benchmarks use it as
a baseline. It never touches DuckDB, `arlens.queries` or the derived `applications` table: it takes
the raw input tables as DataFrames and re-derives every settlement itself, in integer cents.

    ledger = load_ledger(store)          # or Ledger(customers=..., invoices=..., payments=..., activities=...)
    aging(ledger, dt.date(2026, 3, 31), basis="due", group_by="customer")

Every function takes the ledger first and otherwise mirrors the signature in `arlens.metrics`.
Amounts come back as floats (units of the currency), dates as datetime64 columns, missing values
as NaN/NaT/None.
"""

from __future__ import annotations

from collections.abc import Mapping
from fractions import Fraction

import numpy as np
import pandas as pd

RANK = {"payment": 1, "credit_memo": 2, "paid_date": 3, "write_off": 4}
DEFAULT_EDGES = (30, 60, 90, 120)
CUSTOMER_FILTERS = ("segment", "country", "salesperson")
GROUP_COLUMNS = {
    "customer": "customer_id",
    "customer_id": "customer_id",
    "segment": "segment",
    "country": "country",
    "salesperson": "salesperson",
    "currency": None,
    None: None,
}
SYMBOLS = {"USD": "$", "EUR": "€", "GBP": "£"}
_NONE = "\x00none"  # stands for a missing group value while grouping


class Ledger(dict):
    """The raw tables (`customers`, `invoices`, `payments`, `activities`) plus a cache of what is
    derived from them (so do not change the tables after the first call). A plain dict works
    too; it is just re-derived at every call."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._book: _Book | None = None


def load_ledger(store) -> Ledger:
    """The input tables of a store, as read by `SELECT *` (payment schedules included)."""
    return Ledger(
        {
            table: store.df(f"SELECT * FROM {table}")
            for table in (
                "customers",
                "invoices",
                "payments",
                "activities",
                "invoice_instalments",
                "orders",
                "credit_limits",
            )  # fmt: skip
        }
    )


# -- conversions ----------------------------------------------------------------------------------


def _cents(values) -> pd.Series:
    """Decimal/float amounts to integer cents (0 for missing)."""
    series = pd.Series(values)
    if series.dtype == object:  # Decimal values
        series = series.map(lambda v: None if v is None or pd.isna(v) else float(v))
    floats = pd.to_numeric(series, errors="coerce").astype("float64")
    return pd.Series(
        np.round(floats.fillna(0).to_numpy() * 100).astype("int64"), index=floats.index
    )


def _nullable_cents(values) -> pd.Series:
    series = pd.Series(values, dtype="object")
    missing = series.map(lambda v: v is None or (isinstance(v, float) and np.isnan(v)))
    cents = _cents(series).astype("float64")
    cents[missing.to_numpy(dtype=bool)] = np.nan
    return cents


def _dates(values) -> pd.Series:
    return pd.to_datetime(pd.Series(values), errors="coerce").astype("datetime64[ns]")


def _text(values) -> pd.Series:
    """Text with missing values as None (object dtype, so groupby and == behave plainly)."""
    series = pd.Series(values).astype("object")
    return series.where(series.notna(), None)


def _ts(day) -> pd.Timestamp:
    return pd.Timestamp(day).normalize()


# -- the derived book -------------------------------------------------------------------------------


class _Book:
    """Typed copies of the inputs and the re-derived settlements."""

    def __init__(self, ledger: Mapping):
        customers = ledger["customers"]
        invoices = ledger["invoices"]
        payments = ledger["payments"]
        activities = ledger["activities"]

        cust = pd.DataFrame(
            {
                "customer_id": _text(customers["customer_id"]).to_numpy(),
                "segment": _text(customers["segment"]).to_numpy(),
                "country": _text(customers["country"]).to_numpy(),
                "salesperson": _text(customers["salesperson"]).to_numpy(),
                "currency": _text(customers["currency"]).to_numpy(),
                "credit_limit": _nullable_cents(customers["credit_limit"]).to_numpy(),
                "reviewed_on": _dates(customers["credit_limit_reviewed_on"]).to_numpy(),
            }
        )
        self.customers = cust.set_index("customer_id", drop=False)
        cust_currency = self.customers["currency"]

        inv = pd.DataFrame(
            {
                "invoice_id": _text(invoices["invoice_id"]).to_numpy(),
                "customer_id": _text(invoices["customer_id"]).to_numpy(),
                "invoice_date": _dates(invoices["invoice_date"]).to_numpy(),
                "due_date": _dates(invoices["due_date"]).to_numpy(),
                "amount": _cents(invoices["amount"]).to_numpy(),
                "doc_type": _text(invoices["doc_type"]).to_numpy(),
                "currency": _text(invoices["currency"]).to_numpy(),
                "paid_date": _dates(invoices["paid_date"]).to_numpy(),
                "written_off_on": _dates(invoices["written_off_on"]).to_numpy(),
                "applies_to": _text(invoices["applies_to"]).to_numpy(),
            }
        )
        # A document without a currency is in its customer's currency.
        inv["currency"] = inv["currency"].fillna(inv["customer_id"].map(cust_currency))
        inv["currency"] = _text(inv["currency"]).to_numpy()
        # Invoices and debit memos: what can be open and what counts as credit sales.
        self.docs = inv[inv["amount"] > 0].reset_index(drop=True)
        # Credit memos: negative documents.
        self.memos = inv[inv["amount"] < 0].reset_index(drop=True)

        pay = pd.DataFrame(
            {
                "payment_id": _text(payments["payment_id"]).to_numpy(),
                "customer_id": _text(payments["customer_id"]).to_numpy(),
                "payment_date": _dates(payments["payment_date"]).to_numpy(),
                "amount": _cents(payments["amount"]).to_numpy(),
                "invoice_id": _text(payments["invoice_id"]).to_numpy(),
                "currency": _text(payments["currency"]).to_numpy(),
            }
        )
        # A payment without a currency is in the currency of the invoice it names, else its
        # customer's.
        invoice_currency = inv.drop_duplicates("invoice_id").set_index("invoice_id")["currency"]
        pay["currency"] = _text(
            pay["currency"]
            .fillna(pay["invoice_id"].map(invoice_currency))
            .fillna(pay["customer_id"].map(cust_currency))
        ).to_numpy()
        self.payments = pay

        act = pd.DataFrame(
            {
                "customer_id": _text(activities["customer_id"]).to_numpy(),
                "activity_date": _dates(activities["activity_date"]).to_numpy(),
                "kind": _text(activities["kind"]).to_numpy(),
                "promised_date": _dates(activities["promised_date"]).to_numpy(),
                "promised_amount": _nullable_cents(
                    activities.get("promised_amount", pd.Series([None] * len(activities)))
                ).to_numpy(),
                "outcome": _text(activities["outcome"]).to_numpy(),
            }
        )
        act["outcome"] = act["outcome"].map(lambda v: v.lower() if isinstance(v, str) else v)
        self.promises = act[act["kind"] == "promise"].reset_index(drop=True)

        self.settlements = self._settle()
        self.parts = _instalment_parts(ledger.get("invoice_instalments"), self.docs)
        # The same settlements as arrays keyed by the position of their invoice in `docs`, so
        # that "settled by D" is one bincount (the benchmarks run this at a million rows).
        position = pd.Series(np.arange(len(self.docs)), index=self.docs["invoice_id"].to_numpy())
        self.settled_doc = position.reindex(self.settlements["invoice_id"].to_numpy()).to_numpy()
        self.settled_on = self.settlements["applied_on"].to_numpy()
        self.settled_amount = self.settlements["amount"].to_numpy().astype("float64")

    def _settle(self) -> pd.DataFrame:
        """Claims per invoice in order (date, payment < credit < paid date < write-off, source id);
        each settles what is still open, nothing once the invoice is settled."""
        docs = self.docs
        positive = set(docs["invoice_id"])
        pay = self.payments
        pay = pay[pay["invoice_id"].isin(positive) & (pay["amount"] > 0)]
        memos = self.memos
        memos = memos[memos["applies_to"].isin(positive)]
        paid = docs[docs["paid_date"].notna()]
        written = docs[docs["written_off_on"].notna()]
        claims = pd.concat(
            [
                pd.DataFrame(
                    {
                        "source_type": "payment",
                        "source_id": pay["payment_id"].to_numpy(),
                        "invoice_id": pay["invoice_id"].to_numpy(),
                        "applied_on": pay["payment_date"].to_numpy(),
                        "claim": pay["amount"].to_numpy(),
                    }
                ),
                pd.DataFrame(
                    {
                        "source_type": "credit_memo",
                        "source_id": memos["invoice_id"].to_numpy(),
                        "invoice_id": memos["applies_to"].to_numpy(),
                        "applied_on": memos["invoice_date"].to_numpy(),
                        "claim": -memos["amount"].to_numpy(),
                    }
                ),
                pd.DataFrame(
                    {
                        "source_type": "paid_date",
                        "source_id": paid["invoice_id"].to_numpy(),
                        "invoice_id": paid["invoice_id"].to_numpy(),
                        "applied_on": paid["paid_date"].to_numpy(),
                        "claim": paid["amount"].to_numpy(),
                    }
                ),
                pd.DataFrame(
                    {
                        "source_type": "write_off",
                        "source_id": written["invoice_id"].to_numpy(),
                        "invoice_id": written["invoice_id"].to_numpy(),
                        "applied_on": written["written_off_on"].to_numpy(),
                        "claim": written["amount"].to_numpy(),
                    }
                ),
            ],
            ignore_index=True,
        )
        claims["source_type"] = claims["source_type"].astype("object")
        claims["source_id"] = claims["source_id"].astype("object")
        claims["invoice_id"] = claims["invoice_id"].astype("object")
        claims["applied_on"] = claims["applied_on"].astype("datetime64[ns]")
        claims["claim"] = claims["claim"].astype("int64")
        claims["rank"] = claims["source_type"].map(RANK).astype("int64")
        claims = claims.sort_values(
            ["invoice_id", "applied_on", "rank", "source_id"], kind="mergesort"
        ).reset_index(drop=True)
        invoice_amount = claims["invoice_id"].map(docs.set_index("invoice_id")["amount"])
        claimed_through = claims.groupby("invoice_id", sort=False)["claim"].cumsum()
        claimed_before = claimed_through - claims["claim"]
        still_open = (invoice_amount - claimed_before).clip(lower=0)
        claims["amount"] = np.minimum(claims["claim"], still_open).astype("int64")
        settled = claims[claims["amount"] > 0]
        return settled[
            ["source_type", "source_id", "invoice_id", "applied_on", "amount"]
        ].reset_index(drop=True)


def _half_up_cents(value: Fraction) -> int:
    """Cents rounded half away from zero (as DuckDB rounds a decimal)."""
    sign = -1 if value < 0 else 1
    return sign * int(abs(value) + Fraction(1, 2))


def _instalment_parts(instalments, docs: pd.DataFrame) -> pd.DataFrame:
    """Payment schedules as parts of their invoices (README "Payment schedules"): instalments in
    due-date order, each its amount or its share of the invoice rounded to the cent, the last
    taking what the others leave; a schedule applies when its amounts add up to the invoice or
    its shares to 1 (within 0.000001), every row given the same way, on an invoice or debit memo.
    Columns: invoice_id, instalment, part_due, part, before (cents)."""
    columns = ["invoice_id", "instalment", "part_due", "part", "before"]
    if instalments is None or len(instalments) == 0:
        return pd.DataFrame(columns=columns)
    amounts = docs.set_index("invoice_id")["amount"]
    rows = []
    frame = instalments.assign(due=_dates(instalments["due_date"]))
    for invoice_id, schedule in frame.sort_values("due").groupby("invoice_id", sort=False):
        if invoice_id not in amounts.index:
            continue  # a credit memo, or not in the store
        total = int(amounts[invoice_id])
        given = [None if pd.isna(v) else Fraction(str(v)) * 100 for v in schedule["amount"]]
        shares = [None if pd.isna(v) else Fraction(str(v)) for v in schedule["share"]]
        if all(g is not None and g > 0 for g in given):
            if sum(given) != total:
                continue
            raw = [int(g) for g in given]
        elif all(g is None and s is not None and s > 0 for g, s in zip(given, shares, strict=True)):
            if abs(sum(shares) - 1) > Fraction(1, 1000000):
                continue
            raw = [_half_up_cents(s * total) for s in shares]
        else:
            continue
        before = 0
        for n, (due, cents) in enumerate(zip(schedule["due"], raw, strict=True), start=1):
            part = total - before if n == len(raw) else cents
            rows.append((invoice_id, n, due, part, before))
            before += part
    return pd.DataFrame(rows, columns=columns)


def _split(docs: pd.DataFrame, parts: pd.DataFrame) -> pd.DataFrame:
    """Open invoices with a schedule become their open instalments: what was settled (amount −
    open) pays the instalments in due-date order; each keeps its own due date."""
    whole = docs[~docs["invoice_id"].isin(parts["invoice_id"])].assign(instalment=np.nan)
    split = docs.merge(parts, on="invoice_id", how="inner")
    if split.empty:
        return whole
    settled = split["amount"] - split["open"]
    paid = np.minimum(split["part"], np.maximum(settled - split["before"], 0))
    split = split.assign(
        due_date=split["part_due"], amount=split["part"], open=split["part"] - paid
    ).drop(columns=["part_due", "part", "before"])
    split = split[split["open"] != 0]
    out = pd.concat([whole, split[whole.columns]], ignore_index=True)
    out["amount"] = out["amount"].astype("int64")
    out["open"] = out["open"].astype("int64")
    return out


def _book(ledger: Mapping) -> _Book:
    if isinstance(ledger, _Book):
        return ledger
    if isinstance(ledger, Ledger):
        if ledger._book is None:
            ledger._book = _Book(ledger)
        return ledger._book
    return _Book(ledger)


# -- building blocks ----------------------------------------------------------------------------------


def bucket_labels(basis: str = "due", edges=DEFAULT_EDGES) -> list[str]:
    edges = list(edges)
    middle = [f"{lo + 1}-{hi}" for lo, hi in zip(edges, edges[1:], strict=False)]
    last = f"{edges[-1] + 1}+"
    if basis == "due":
        return ["Current", f"1-{edges[0]}", *middle, last]
    if basis == "invoice":
        return [f"0-{edges[0]}", *middle, last]
    raise ValueError(f"unknown basis {basis!r}")


def _bucket(days: pd.Series, basis: str, edges) -> pd.Series:
    labels = np.array(bucket_labels(basis, edges), dtype=object)
    edge_array = np.asarray(list(edges), dtype="int64")
    values = days.to_numpy(dtype="int64")
    above = np.searchsorted(edge_array, values, side="left")  # how many edges are < days
    index = np.where(values <= 0, 0, 1 + above) if basis == "due" else above
    return pd.Series(labels[index], index=days.index, dtype="object")


def _keep(frame: pd.DataFrame, book: _Book, filters) -> pd.DataFrame:
    """Rows whose customer (segment, country, salesperson, customer_id) and currency match."""
    if not filters:
        return frame
    mask = pd.Series(True, index=frame.index)
    for key, value in filters.items():
        if value is None:
            continue
        if key in CUSTOMER_FILTERS:
            mask &= frame["customer_id"].map(book.customers[key]).eq(value).fillna(False)
        elif key in ("currency", "customer_id"):
            mask &= frame[key].eq(value).fillna(False)
        else:
            raise ValueError(f"unknown filter {key!r}")
    return frame[mask.astype(bool)]


def _settled_by_doc(book: _Book, day: pd.Timestamp) -> np.ndarray:
    """Cents settled on each of `book.docs` by settlements dated <= day."""
    mask = book.settled_on <= _ts(day).to_datetime64()
    settled = np.bincount(
        book.settled_doc[mask], weights=book.settled_amount[mask], minlength=len(book.docs)
    )
    return np.rint(settled).astype("int64")


def _open_docs(book: _Book, day, filters=None, instalments: bool = True) -> pd.DataFrame:
    """Invoices and debit memos dated <= day with their open amount (cents) at day, open > 0;
    with `instalments`, an invoice with a payment schedule as its open instalments (month-end
    balances, the trend and roll rates keep invoices whole)."""
    day = _ts(day)
    docs = book.docs[book.docs["invoice_date"] <= day]
    docs = _keep(docs, book, filters).copy()
    docs["open"] = docs["amount"].to_numpy() - _settled_by_doc(book, day)[docs.index.to_numpy()]
    docs = docs[docs["open"] != 0].copy()
    if instalments:
        docs = _split(docs, book.parts)
    docs["days_past_due"] = (day - docs["due_date"]).dt.days.astype("int64")
    docs["days_outstanding"] = (day - docs["invoice_date"]).dt.days.astype("int64")
    return docs


def _unapplied(book: _Book, day, filters=None) -> pd.DataFrame:
    """Unapplied cash and unapplied credit at day, as negative open amounts (cents)."""
    day = _ts(day)
    s = book.settlements[book.settlements["applied_on"] <= day]
    by_source = s.groupby(["source_type", "source_id"])["amount"].sum()
    pay = book.payments[book.payments["payment_date"] <= day]
    pay_settled = (
        pay["payment_id"]
        .map(by_source.xs("payment") if "payment" in by_source.index.get_level_values(0) else {})
        .fillna(0)
        .astype("int64")
    )
    cash = pd.DataFrame(
        {
            "item_type": "unapplied_cash",
            "document_id": pay["payment_id"].to_numpy(),
            "customer_id": pay["customer_id"].to_numpy(),
            "currency": pay["currency"].to_numpy(),
            "document_date": pay["payment_date"].to_numpy(),
            "open": -(pay["amount"] - pay_settled).to_numpy(),
        }
    )
    memos = book.memos[book.memos["invoice_date"] <= day]
    memo_settled = (
        memos["invoice_id"]
        .map(
            by_source.xs("credit_memo")
            if "credit_memo" in by_source.index.get_level_values(0)
            else {}
        )
        .fillna(0)
        .astype("int64")
    )
    credit = pd.DataFrame(
        {
            "item_type": "unapplied_credit",
            "document_id": memos["invoice_id"].to_numpy(),
            "customer_id": memos["customer_id"].to_numpy(),
            "currency": memos["currency"].to_numpy(),
            "document_date": memos["invoice_date"].to_numpy(),
            "open": (memos["amount"] + memo_settled).to_numpy(),
        }
    )
    items = pd.concat([cash, credit], ignore_index=True)
    items["open"] = items["open"].astype("int64")
    items = items[items["open"] != 0]
    for column in ("item_type", "document_id", "customer_id", "currency"):
        items[column] = items[column].astype("object")
    return _keep(items, book, filters)


def _sum_cents(series: pd.Series) -> int:
    return int(series.sum()) if len(series) else 0


# -- the metrics ---------------------------------------------------------------------------------------


def open_items(ledger, as_of, basis="due", edges=DEFAULT_EDGES, filters=None) -> pd.DataFrame:
    book = _book(ledger)
    docs = _open_docs(book, as_of, filters)
    days = docs["days_past_due"] if basis == "due" else docs["days_outstanding"]
    invoices = pd.DataFrame(
        {
            "item_type": docs["doc_type"].where(docs["doc_type"] == "debit_memo", "invoice"),
            "document_id": docs["invoice_id"],
            "customer_id": docs["customer_id"],
            "currency": docs["currency"],
            "document_date": docs["invoice_date"],
            "due_date": docs["due_date"],
            "open_amount": docs["open"] / 100.0,
            "days_past_due": docs["days_past_due"].astype("float64"),
            "days_outstanding": docs["days_outstanding"].astype("float64"),
            "bucket": _bucket(days, basis, edges),
        }
    )
    unapplied = _unapplied(book, as_of, filters)
    loose = pd.DataFrame(
        {
            "item_type": unapplied["item_type"],
            "document_id": unapplied["document_id"],
            "customer_id": unapplied["customer_id"],
            "currency": unapplied["currency"],
            "document_date": unapplied["document_date"],
            "due_date": pd.Series(pd.NaT, index=unapplied.index, dtype="datetime64[ns]"),
            "open_amount": unapplied["open"] / 100.0,
            "days_past_due": np.nan,
            "days_outstanding": np.nan,
            "bucket": "Unapplied",
        }
    )
    frames = [f for f in (invoices, loose) if len(f)]
    if not frames:
        return invoices.iloc[0:0].reset_index(drop=True)
    out = pd.concat(frames, ignore_index=True)
    return out.sort_values(["currency", "customer_id", "item_type", "document_id"]).reset_index(
        drop=True
    )


def aging(
    ledger,
    as_of,
    basis="due",
    edges=DEFAULT_EDGES,
    group_by="customer",
    net_unapplied=False,
    filters=None,
) -> pd.DataFrame:
    book = _book(ledger)
    if group_by not in GROUP_COLUMNS:
        raise ValueError(f"unknown group_by {group_by!r}")
    group = GROUP_COLUMNS[group_by]
    labels = bucket_labels(basis, edges)
    docs = _open_docs(book, as_of, filters)
    docs["bucket"] = _bucket(
        docs["days_past_due"] if basis == "due" else docs["days_outstanding"], basis, edges
    )
    docs["late"] = docs["open"].where(docs["days_past_due"] > 0, 0)
    unapplied = _unapplied(book, as_of, filters)
    keys = ["currency"] + ([group] if group else [])

    def keyed(frame: pd.DataFrame) -> pd.DataFrame:
        frame = frame.copy()
        if group and group != "customer_id":
            frame[group] = frame["customer_id"].map(book.customers[group])
        for key in keys:  # missing group values (no segment) form a group of their own
            frame[key] = frame[key].astype("object").where(frame[key].notna(), _NONE)
        return frame

    columns = keys + labels + ["Unapplied", "past_due", "total"]
    if docs.empty and unapplied.empty:
        return pd.DataFrame(columns=columns)
    docs, unapplied = keyed(docs), keyed(unapplied)
    buckets = docs.groupby(keys + ["bucket"])["open"].sum().unstack("bucket")
    buckets = buckets.reindex(columns=labels)
    parts = [
        buckets,
        unapplied.groupby(keys)["open"].sum().rename("Unapplied"),
        docs.groupby(keys)["late"].sum().rename("past_due"),
    ]
    table = pd.concat(parts, axis=1).fillna(0).astype("int64")
    table["total"] = table[labels].sum(axis=1)
    if net_unapplied:
        table["total"] += table["Unapplied"]
    out = (table / 100.0).reset_index()
    out.columns = columns
    for key in keys:
        out[key] = out[key].where(out[key] != _NONE, None)
    return out.sort_values(keys, na_position="last").reset_index(drop=True)


def _credit_sales(book: _Book, after, through, filters) -> pd.Series:
    """Invoice and debit memo amounts dated in (after, through], cents per currency."""
    docs = book.docs
    docs = docs[(docs["invoice_date"] > _ts(after)) & (docs["invoice_date"] <= _ts(through))]
    return _keep(docs, book, filters).groupby("currency")["amount"].sum()


def _countback_month(day: pd.Timestamp, k: int) -> tuple[pd.Timestamp, pd.Timestamp]:
    """Month 1 is D's calendar month up to D; month k the calendar month k - 1 before it.
    Returned as (the day before it starts, its last day counted)."""
    first = day.replace(day=1) - pd.DateOffset(months=k - 1)
    last = day if k == 1 else first + pd.offsets.MonthEnd(0)
    return first - pd.Timedelta(days=1), last


def kpis(ledger, as_of, window_days=90, filters=None) -> pd.DataFrame:
    book = _book(ledger)
    day = _ts(as_of)
    start = day - pd.Timedelta(days=window_days)
    docs = _open_docs(book, day, filters)
    open_ar = docs.groupby("currency")["open"].sum()
    current = docs[docs["days_past_due"] <= 0].groupby("currency")["open"].sum()
    past_due = docs[docs["days_past_due"] > 0].groupby("currency")["open"].sum()
    sales = _credit_sales(book, start, day, filters)
    start_docs = _open_docs(book, start, filters)
    ar_start = start_docs.groupby("currency")["open"].sum()
    # Countback months are calendar months, the first one D's month up to D (README).
    months = []
    for k in range(1, 25):
        lo, hi = _countback_month(day, k)
        months.append(((hi - lo).days, _credit_sales(book, lo, hi, filters)))
    records = []
    # A row per currency invoiced (invoices, debit memos) by D: a fully collected one keeps its
    # row, with DSO, best possible DSO, ADD and countback DSO 0.
    billed = _keep(book.docs[book.docs["invoice_date"] <= day], book, filters)["currency"]
    for currency in sorted(set(open_ar.index) | set(billed.dropna())):
        ar = int(open_ar.get(currency, 0))
        cur = int(current.get(currency, 0))
        pd_ = int(past_due.get(currency, 0))
        cs = int(sales.get(currency, 0))
        dso = 0.0 if ar == 0 else (ar / cs * window_days if cs else np.nan)
        best = 0.0 if ar == 0 else (cur / cs * window_days if cs else np.nan)
        remaining = ar
        countback = 0.0
        for days, month_sales in months:
            if remaining <= 0:
                break
            month = int(month_sales.get(currency, 0))
            if remaining >= month:
                countback += days
                remaining -= month
            else:
                countback += days * remaining / month
                remaining = 0
        a = int(ar_start.get(currency, 0))
        denominator = a + cs - cur
        cei = (a + cs - ar) / denominator * 100 if denominator else np.nan
        records.append(
            {
                "currency": currency,
                "open_ar": ar / 100.0,
                "current_ar": cur / 100.0,
                "past_due": pd_ / 100.0,
                "credit_sales": cs / 100.0,
                "dso": dso,
                "best_possible_dso": best,
                "add": dso - best,
                "countback_dso": countback,
                "cei": cei,
            }
        )
    columns = [
        "currency",
        "open_ar",
        "current_ar",
        "past_due",
        "credit_sales",
        "dso",
        "best_possible_dso",
        "add",
        "countback_dso",
        "cei",
    ]
    return pd.DataFrame(records, columns=columns)


def _month_ends(start, end) -> list[pd.Timestamp]:
    return list(pd.date_range(_ts(start), _ts(end), freq="ME"))


def trend(ledger, start, end, basis="due", edges=DEFAULT_EDGES, filters=None) -> pd.DataFrame:
    book = _book(ledger)
    labels = bucket_labels(basis, edges)
    records = []
    for month_end in _month_ends(start, end):
        docs = _open_docs(book, month_end, filters, instalments=False)
        if docs.empty:
            continue
        docs["bucket"] = _bucket(
            docs["days_past_due"] if basis == "due" else docs["days_outstanding"], basis, edges
        )
        table = docs.pivot_table(
            index="currency", columns="bucket", values="open", aggfunc="sum", fill_value=0
        )
        for currency, values in table.iterrows():
            record = {"month_end": month_end, "currency": currency}
            record |= {label: int(values.get(label, 0)) / 100.0 for label in labels}
            record["total"] = int(sum(values.get(label, 0) for label in labels)) / 100.0
            records.append(record)
    columns = ["month_end", "currency", *labels, "total"]
    return pd.DataFrame(records, columns=columns)


def last_month_end(as_of) -> pd.Timestamp:
    day = _ts(as_of)
    return day if day.is_month_end else day - pd.offsets.MonthEnd(1)


def roll_rates(ledger, as_of, months=1, edges=DEFAULT_EDGES, filters=None) -> pd.DataFrame:
    book = _book(ledger)
    m0 = last_month_end(as_of)
    ends = [(m0 - pd.DateOffset(months=k)) + pd.offsets.MonthEnd(0) for k in range(months + 1)]
    s = book.settlements
    moved, opened = [], []
    for k in range(1, months + 1):
        earlier, later = ends[k], ends[k - 1]
        before = _open_docs(book, earlier, filters, instalments=False)
        before = before[before["open"] > 0]
        before = pd.DataFrame(
            {
                "invoice_id": before["invoice_id"],
                "currency": before["currency"],
                "from_bucket": _bucket(before["days_past_due"], "due", edges),
                "open": before["open"],
            }
        )
        opened.append(before)
        after = _open_docs(book, later, filters, instalments=False)
        after = pd.DataFrame(
            {
                "invoice_id": after["invoice_id"],
                "to_bucket": _bucket(after["days_past_due"], "due", edges),
                "amount": after["open"],
            }
        )
        window = s[(s["applied_on"] > earlier) & (s["applied_on"] <= later)]
        window = pd.DataFrame(
            {
                "invoice_id": window["invoice_id"],
                "to_bucket": np.where(window["source_type"] == "write_off", "Written off", "Paid"),
                "amount": window["amount"],
            }
        )
        where = pd.concat([after, window], ignore_index=True)
        moved.append(
            before[["invoice_id", "currency", "from_bucket"]].merge(where, on="invoice_id")
        )
    columns = ["currency", "from_bucket", "to_bucket", "amount", "rate"]
    moved = pd.concat(moved, ignore_index=True)
    if moved.empty:
        return pd.DataFrame(columns=columns)
    totals = pd.concat(opened).groupby(["currency", "from_bucket"])["open"].sum()
    out = moved.groupby(["currency", "from_bucket", "to_bucket"])["amount"].sum().reset_index()
    out = out[out["amount"] != 0]
    out = out.merge(totals.rename("base").reset_index(), on=["currency", "from_bucket"])
    out["rate"] = out["amount"] / out["base"]
    out["amount"] = out["amount"] / 100.0
    return out[columns].reset_index(drop=True)


def _top10_share(per_customer: pd.Series) -> float:
    total = int(per_customer.sum())
    if total == 0:
        return np.nan
    top = sorted((int(v) for v in per_customer), reverse=True)[:10]
    return sum(top) / total


def concentration(ledger, as_of, filters=None) -> pd.DataFrame:
    book = _book(ledger)
    docs = _open_docs(book, as_of, filters)
    records = []
    for currency, group in docs.groupby("currency"):
        per_customer = group.groupby("customer_id")["open"].sum()
        per_customer = per_customer[per_customer != 0]
        due = group[group["days_past_due"] > 0].groupby("customer_id")["open"].sum()
        total = int(per_customer.sum())
        hhi = sum((int(v) / total * 100) ** 2 for v in per_customer) if total else np.nan
        records.append(
            {
                "currency": currency,
                "customers": len(per_customer),
                "top10_share_open": _top10_share(per_customer),
                "top10_share_past_due": _top10_share(due),
                "hhi": hhi,
            }
        )
    columns = ["currency", "customers", "top10_share_open", "top10_share_past_due", "hhi"]
    return pd.DataFrame(records, columns=columns)


def _promise_status(book: _Book, day: pd.Timestamp) -> pd.DataFrame:
    """Each promise made by `day`: open while its date is `day` or later; then the outcome its
    file gave (kept / broken), else kept when the customer paid the promised amount (payments,
    settled dates) from the day it was made to its date."""
    p = book.promises[book.promises["activity_date"] <= day].copy()
    money = pd.concat([
        book.payments[["customer_id", "payment_date", "amount"]].rename(columns={"payment_date": "on"}),
        book.settlements[book.settlements["source_type"] == "paid_date"]
        .merge(book.docs[["invoice_id", "customer_id"]], on="invoice_id")
        .rename(columns={"applied_on": "on"})[["customer_id", "on", "amount"]],
    ])  # fmt: skip
    paid = []
    for row in p.itertuples():
        mine = money[(money["customer_id"] == row.customer_id) & (money["on"] >= row.activity_date)
                     & (money["on"] <= min(row.promised_date, day))]  # fmt: skip
        paid.append(int(mine["amount"].sum()))
    p["paid"] = paid
    wanted = p["promised_amount"].fillna(1)  # no amount: any payment keeps it
    p["status"] = np.where(
        p["promised_date"] >= day, "open",
        np.where(p["outcome"].isin(["kept", "broken"]), p["outcome"],
                 np.where(p["paid"] >= wanted, "kept", "broken")))  # fmt: skip
    return p


def _broken_promises(book: _Book, day: pd.Timestamp) -> pd.Series:
    p = _promise_status(book, day)
    broken = p[(p["status"] == "broken") & (p["promised_date"] > day - pd.Timedelta(days=90))]
    return broken.groupby("customer_id").size()


def _open_promises(book: _Book, day: pd.Timestamp) -> pd.Series:
    p = _promise_status(book, day)
    return p[p["status"] == "open"].groupby("customer_id").size()


def _follow_up(book: _Book, day: pd.Timestamp) -> pd.Series:
    """'promise due today' / 'promise broken yesterday' per customer (the former wins)."""
    p = _promise_status(book, day)
    today = set(p.loc[(p["status"] == "open") & (p["promised_date"] == day), "customer_id"])
    yesterday = set(p.loc[(p["status"] == "broken")
                          & (p["promised_date"] == day - pd.Timedelta(days=1)), "customer_id"])  # fmt: skip
    flags = {c: "promise broken yesterday" for c in yesterday} | {
        c: "promise due today" for c in today
    }
    return pd.Series(flags, dtype=object)


def _half_up(value: Fraction) -> int:
    """The nearest whole number, halves away from zero (value >= 0 here)."""
    return int(value + Fraction(1, 2))


def _percent_text(part: int, whole: int) -> str:
    return f"{_half_up(Fraction(part * 100, whole)):,}%"


def _noun(n: int, singular: str) -> str:
    return f"{n:,} {singular}" + ("" if n == 1 else "s")


def credit_review(
    ledger,
    as_of,
    filters=None,
    hold_days=90,
    hold_share=0.5,
    hold_min_amount=5000,
    hold_broken_promises=3,
    hold_utilisation=1.0,
) -> pd.DataFrame:
    """README "Credit review", worked per customer in integer cents and exact fractions.

    Rows: customers that pass the filters (a currency filter means the customer's currency) and
    have a limit or any open document. Exposure counts only documents in the customer's currency.
    """
    book = _book(ledger)
    day = _ts(as_of)
    share = Fraction(str(hold_share))
    ceiling = Fraction(str(hold_utilisation))
    floor = int(Fraction(str(hold_min_amount)) * 100)
    customer_filters = {k: v for k, v in (filters or {}).items() if k != "currency"}
    customers = _keep(book.customers, book, customer_filters)
    if (filters or {}).get("currency") is not None:
        customers = customers[customers["currency"] == filters["currency"]]
    docs = _open_docs(book, day)
    docs = docs[docs["customer_id"].isin(customers["customer_id"])]
    owing = set(docs["customer_id"])
    broken = _broken_promises(book, day)
    pay = book.payments[book.payments["payment_date"] <= day]
    last_paid = pay.groupby("customer_id")["payment_date"].max()
    cutoff = day - pd.DateOffset(months=24)
    # Open orders (open or shipped, dated by D) count in exposure; the limit in force at D is the
    # newest credit_limits row effective by D, else the customer's current one. Customers each
    # under their own limit here (no parent pools: the ledgers compared give every one a limit).
    orders = ledger.get("orders") if hasattr(ledger, "get") else None
    ordered = {}
    if orders is not None and len(orders):
        live = orders[orders["status"].isin(["open", "shipped"])
                      & (pd.to_datetime(orders["order_date"]) <= day)]  # fmt: skip
        for o in live.itertuples():
            ordered.setdefault((o.customer_id, o.currency), 0)
            ordered[(o.customer_id, o.currency)] += int(round(float(o.amount) * 100))
    history = ledger.get("credit_limits") if hasattr(ledger, "get") else None
    in_force = {}
    if history is not None and len(history):
        dated = history[pd.to_datetime(history["effective_from"]) <= day]
        for h in dated.sort_values("effective_from").itertuples():
            in_force[h.customer_id] = h
    rows = []
    for cid in sorted(customers["customer_id"]):
        c = book.customers.loc[cid].copy()
        limit = None if pd.isna(c["credit_limit"]) else int(c["credit_limit"])
        if cid in in_force:
            h = in_force[cid]
            limit = None if pd.isna(h.credit_limit) else int(round(float(h.credit_limit) * 100))
            c["reviewed_on"] = pd.NaT if pd.isna(h.reviewed_on) else _ts(h.reviewed_on)
        if limit is None and cid not in owing:
            continue
        mine = docs[docs["customer_id"] == cid]
        other = mine[mine["currency"] != c["currency"]]
        mine = mine[mine["currency"] == c["currency"]]
        exposure = int(mine["open"].sum()) + ordered.get((cid, c["currency"]), 0)
        late_docs = mine[mine["days_past_due"] > 0]
        past_due = int(late_docs["open"].sum())
        very_late = int(mine.loc[mine["days_past_due"] > hold_days, "open"].sum())
        n_broken = int(broken.get(cid, 0))
        for_limit = limit is not None and exposure > limit * ceiling
        needed = share * exposure / (2 if n_broken >= hold_broken_promises else 1)
        for_lateness = very_late > 0 and very_late >= floor and very_late >= needed
        hold = for_limit or for_lateness
        reasons = []
        if hold and for_limit:
            reasons.append(
                f"exposure {format_money(c['currency'], exposure)} on a limit of 0"
                if limit == 0
                else f"exposure {_percent_text(exposure, limit)} of the limit"
            )
        if hold and for_lateness:
            reasons.append(
                f"{format_money(c['currency'], very_late)} over {hold_days} days past due "
                f"({_percent_text(very_late, exposure)} of exposure)"
            )
        if hold and n_broken >= hold_broken_promises:
            reasons.append(f"{_noun(n_broken, 'broken promise')} in 90 days")
        paid = last_paid.get(cid)
        above_limit = exposure - limit if limit is not None else 0
        rows.append(
            {
                "customer_id": cid,
                "exposure": exposure / 100.0,
                "credit_limit": np.nan if limit is None else limit / 100.0,
                "utilisation": exposure / limit if limit else np.nan,
                "over_limit": limit is not None and exposure > limit,
                "no_limit": limit is None,
                "stale_review": limit is not None
                and (pd.isna(c["reviewed_on"]) or c["reviewed_on"] < cutoff),
                "days_since_last_payment": np.nan if paid is None else float((day - paid).days),
                "past_due": past_due / 100.0,
                "seriously_late": very_late / 100.0,
                "max_days_past_due": (
                    float(late_docs["days_past_due"].max()) if len(late_docs) else np.nan
                ),
                "broken_promises_90d": n_broken,
                "open_in_other_currencies": len(other),
                "at_risk": max(past_due, above_limit) / 100.0,
                "hold_for_limit": for_limit,
                "hold_for_lateness": for_lateness,
                "hold": hold,
                "hold_reasons": "; ".join(reasons),
            }
        )
    columns = ["customer_id", "exposure", "credit_limit", "utilisation", "over_limit", "no_limit",
               "stale_review", "days_since_last_payment", "past_due", "seriously_late",
               "max_days_past_due", "broken_promises_90d", "open_in_other_currencies", "at_risk",
               "hold_for_limit", "hold_for_lateness", "hold", "hold_reasons"]  # fmt: skip
    return pd.DataFrame(rows, columns=columns)


def format_money(currency: str, cents: int) -> str:
    """Whole units, half up, thousands separators, the currency's symbol or its code."""
    units = (abs(int(cents)) + 50) // 100
    sign = "-" if cents < 0 and units else ""
    symbol = SYMBOLS.get(currency)
    prefix = symbol if symbol else f"{currency} "
    return f"{sign}{prefix}{units:,}"


def collectors_sentence(currency: str, by_bucket: list[tuple[int, int]]) -> tuple:
    """DESIGN.md §4, read literally. `by_bucket`: (first day, past due in cents) of each past-due
    bucket, youngest first. Walk from the oldest bucket towards the youngest; the first one that
    holds at least a fifth of the past due or at least 1,000.00 names its first day − 1 and the
    money in it and every older bucket. The 1-30 bucket would say "over 0 days": plain "is past
    due" instead. Returns (sentence, days or None, amount in cents or None)."""
    total = sum(amount for _, amount in by_bucket)
    older = 0
    for first_day, amount in reversed(by_bucket):
        older += amount
        if first_day == 1:
            break
        if amount > 0 and (amount * 5 >= total or amount >= 100_000):
            return (
                f"{format_money(currency, older)} is over {first_day - 1} days past due",
                first_day - 1,
                older,
            )
    return f"{format_money(currency, total)} is past due", None, None


def worklist(ledger, as_of, filters=None, edges=DEFAULT_EDGES) -> pd.DataFrame:
    book = _book(ledger)
    day = _ts(as_of)
    docs = _open_docs(book, day, filters)
    late = docs[docs["days_past_due"] > 0].copy()
    keys = ["customer_id", "currency"]
    late["weighted"] = late["open"] * late["days_past_due"]
    per = late.groupby(keys, dropna=False)[["open", "weighted"]].sum()
    per = per[per["open"] > 0]
    # The past-due buckets of the Aging page and the day each starts on: 1-30 starts on day 1,
    # the next on the day after the first edge, and so on.
    labels = bucket_labels("due", edges)[1:]
    first_days = [1] + [edge + 1 for edge in edges]
    late["bucket"] = _bucket(late["days_past_due"], "due", edges)
    in_bucket = late.groupby([*keys, "bucket"], dropna=False)["open"].sum()
    # The two largest past-due invoices (one due in instalments once: its past-due instalments
    # together, due since the oldest): open amount descending, then invoice_id ascending.
    named = late.groupby([*keys, "invoice_id"], dropna=False, as_index=False).agg(
        open=("open", "sum"), due_date=("due_date", "min")
    )
    ranked = named.sort_values(
        [*keys, "open", "invoice_id"], ascending=[True, True, False, True], kind="mergesort"
    )
    ranked["n"] = ranked.groupby(keys, dropna=False).cumcount()
    out = per.reset_index()
    for n in (1, 2):
        top = ranked[ranked["n"] == n - 1].set_index(keys)
        top = top.reindex(pd.MultiIndex.from_frame(out[keys]))
        out[f"invoice_{n}"] = _text(top["invoice_id"]).to_numpy()
        out[f"invoice_{n}_amount"] = top["open"].to_numpy(dtype="float64") / 100.0
        out[f"invoice_{n}_due"] = top["due_date"].to_numpy()
    out["past_due"] = out["open"] / 100.0
    sentences = [
        collectors_sentence(
            r.currency,
            [
                (start, int(in_bucket.get((r.customer_id, r.currency, label), 0)))
                for start, label in zip(first_days, labels, strict=True)
            ],
        )
        for r in out.itertuples(index=False)
    ]
    out["summary"] = [text for text, _, _ in sentences]
    out["sentence_days"] = [np.nan if d is None else float(d) for _, d, _ in sentences]
    out["sentence_amount"] = [np.nan if a is None else a / 100.0 for _, _, a in sentences]
    out["open_promises"] = out["customer_id"].map(_open_promises(book, day)).fillna(0)
    out["broken_promises_90d"] = out["customer_id"].map(_broken_promises(book, day)).fillna(0)
    out["open_promises"] = out["open_promises"].astype("int64")
    out["broken_promises_90d"] = out["broken_promises_90d"].astype("int64")
    out["priority"] = out["weighted"] / 100.0
    out["follow_up"] = out["customer_id"].map(_follow_up(book, day))
    columns = [
        "customer_id",
        "currency",
        "past_due",
        "summary",
        "sentence_days",
        "sentence_amount",
        "invoice_1",
        "invoice_1_amount",
        "invoice_1_due",
        "invoice_2",
        "invoice_2_amount",
        "invoice_2_due",
        "open_promises",
        "broken_promises_90d",
        "follow_up",
        "priority",
    ]
    # a promise due today or broken yesterday first, then by priority
    out["flagged"] = out["follow_up"].notna()
    out = out.sort_values(["flagged", "priority", "customer_id"], ascending=[False, False, True],
                          kind="mergesort")  # fmt: skip
    return out[columns].reset_index(drop=True)
