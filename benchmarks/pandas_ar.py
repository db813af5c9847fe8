"""The pandas baseline: the three benchmarked questions in plain pandas (and NumPy), no DuckDB.

It starts from the raw tables as exported (customers, invoices with credit memos, payments), the
data at rest being Parquet, and re-derives every settlement itself as README "How numbers are
computed" says: payments naming an invoice, credit memos through `applies_to`, `paid_date` and
`written_off_on` on the invoice; claims on an invoice are taken in date order (payment, credit,
paid date, write-off on the same day; then by source id) until it is settled, and what a payment
or credit memo brings beyond that stays unapplied.

It is meant as a fair, competent baseline, the way an analyst who knows pandas would write it:
identifiers are matched once through a hash index, sums by key use `groupby` or `np.bincount`
over integer codes, nothing loops in Python over rows (only over the 24 month-ends of the trend
and the 24 countback months per currency). Amounts are integer cents, so sums are exact; they
become currency units only in the answers. tests/reference.py is the slower, line-by-line
reference the test suite uses; this module exists because that one is built for clarity on
small ledgers (per-value Python conversions), not for 10M rows.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from benchmarks.questions import AS_OF, EDGES, LABELS, TREND_START, WINDOW_DAYS

# The raw input columns the three questions need (what an ERP export carries).
RAW_COLUMNS = {
    "customers": ["customer_id", "name", "currency"],
    "invoices": [
        "invoice_id",
        "customer_id",
        "invoice_date",
        "due_date",
        "amount",
        "doc_type",
        "currency",
        "paid_date",
        "written_off_on",
        "applies_to",
    ],
    "payments": ["payment_id", "customer_id", "payment_date", "amount", "invoice_id"],
}
DAY = np.timedelta64(1, "D")
RANK_PAYMENT, RANK_CREDIT, RANK_PAID_DATE, RANK_WRITE_OFF = 1, 2, 3, 4


@dataclass
class Raw:
    customers: pd.DataFrame
    invoices: pd.DataFrame
    payments: pd.DataFrame


# Repeating keys are read as categoricals (integer codes), the usual pandas choice for them.
CATEGORICAL = {
    "customers": [],
    "invoices": ["customer_id", "doc_type", "currency"],
    "payments": ["customer_id"],
}


def load(parquet_dir: Path) -> Raw:
    """Read the raw tables: amounts as integer cents, dates as datetime64, ids as strings,
    customer ids and currencies as categoricals."""

    def read(name: str) -> pd.DataFrame:
        table = pq.read_table(
            Path(parquet_dir) / f"{name}.parquet",
            columns=RAW_COLUMNS[name],
            read_dictionary=CATEGORICAL[name],
        )
        cents = {}
        for column in table.column_names:
            if pa.types.is_decimal(table.schema.field(column).type):
                values = pc.cast(table[column], pa.float64()).to_numpy(zero_copy_only=False)
                if np.isnan(values).any():
                    raise ValueError(f"{name}.{column} has missing amounts")
                cents[column] = np.rint(values * 100).astype(np.int64)
        frame = table.drop_columns(list(cents)).to_pandas(date_as_object=False)
        for column, values in cents.items():
            frame[column] = values
        for column in frame.columns:
            if frame[column].dtype.kind == "M":
                frame[column] = frame[column].astype("datetime64[ms]")
        return frame[RAW_COLUMNS[name]]

    return Raw(read("customers"), read("invoices"), read("payments"))


@dataclass
class Book:
    """Invoices and debit memos (amount > 0) with their settlements, and what was left unapplied.
    Per-document arrays are aligned; customer and currency are integer codes into *_names (whose
    last entry is None, so that code -1, missing, reads as None)."""

    customer: np.ndarray
    customer_names: np.ndarray
    currency: np.ndarray
    currency_names: np.ndarray
    invoice_date: np.ndarray  # datetime64[ms]
    due_date: np.ndarray
    amount: np.ndarray  # int64 cents
    settled_on: np.ndarray  # the day it was settled in full (NaT while open)
    s_doc: np.ndarray  # settlements: document, day, cents (sorted by document, then day)
    s_day: np.ndarray
    s_amount: np.ndarray
    unapplied: pd.DataFrame  # customer_id, currency, date, open (negative cents)
    names: pd.Series  # customer_id -> name


def _codes(values: pd.Series, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Integer codes of a categorical column at rows, and the names they stand for (+ None)."""
    codes = values.cat.codes.to_numpy()[rows].astype(np.int64)
    names = np.asarray(list(values.cat.categories) + [None], dtype=object)
    return codes, names


def _break_ties(order, doc, day, rank, source_id) -> np.ndarray:
    """Claims with the same (invoice, day, rank) are taken in source id order; such ties are rare,
    so only they are sorted by their (string) ids."""
    d, t, r = doc[order], day[order], rank[order]
    same = (d[1:] == d[:-1]) & (t[1:] == t[:-1]) & (r[1:] == r[:-1])
    if not same.any():
        return order
    tied = np.zeros(len(order), dtype=bool)
    tied[1:] |= same
    tied[:-1] |= same
    positions = np.flatnonzero(tied)
    run = np.cumsum(np.concatenate([[True], ~same]))[positions]
    ids = source_id(order[positions])
    ranked = pd.DataFrame({"run": run, "id": ids, "at": positions})
    ranked = ranked.sort_values(["run", "id"], kind="stable")
    order = order.copy()
    order[positions] = order[ranked["at"].to_numpy()]
    return order


def settle(raw: Raw) -> Book:
    """Derive who settled what from the raw tables (the work AR Lens does at import)."""
    inv, pay, customers = raw.invoices, raw.payments, raw.customers
    amount_all = inv["amount"].to_numpy()
    doc_rows, memo_rows = np.flatnonzero(amount_all > 0), np.flatnonzero(amount_all < 0)
    doc_of = np.full(len(inv) + 1, -1, dtype=np.int64)  # invoice row -> document (-1: none)
    doc_of[doc_rows] = np.arange(len(doc_rows))
    memo_of = np.full(len(inv) + 1, -1, dtype=np.int64)
    memo_of[memo_rows] = np.arange(len(memo_rows))

    # Payments and credit memos name invoices by id: the ids are factorized together, once
    # (pd.factorize over pyarrow strings is faster than Index.get_indexer or a merge).
    ids = pd.concat(
        [inv["invoice_id"], pay["invoice_id"], inv["applies_to"].take(memo_rows)],
        ignore_index=True,
    )
    codes, _ = pd.factorize(ids)  # -1: missing
    row_of = np.full(codes.max() + 2, -1, dtype=np.int64)  # code -> invoice row; [-1] stays -1
    row_of[codes[: len(inv)]] = np.arange(len(inv))
    pay_row = row_of[codes[len(inv) : len(inv) + len(pay)]]  # -1: no invoice named, or unknown
    pay_doc = doc_of[pay_row]
    memo_doc = doc_of[row_of[codes[len(inv) + len(pay) :]]]

    amount, memo_amount = amount_all[doc_rows], amount_all[memo_rows]
    pay_amount = pay["amount"].to_numpy()
    invoice_date = inv["invoice_date"].to_numpy()
    paid_date, written_off_on = inv["paid_date"].to_numpy(), inv["written_off_on"].to_numpy()
    paid = ~np.isnat(paid_date[doc_rows])
    written = ~np.isnat(written_off_on[doc_rows])
    pay_ok = (pay_doc >= 0) & (pay_amount > 0)
    memo_ok = memo_doc >= 0
    parts = [  # (document, day, claim, source row) per kind of claim, in rank order
        (pay_doc[pay_ok], pay["payment_date"].to_numpy()[pay_ok], pay_amount[pay_ok], pay_ok),
        (memo_doc[memo_ok], invoice_date[memo_rows][memo_ok], -memo_amount[memo_ok], memo_ok),
        (np.flatnonzero(paid), paid_date[doc_rows][paid], amount[paid], paid),
        (np.flatnonzero(written), written_off_on[doc_rows][written], amount[written], written),
    ]
    doc = np.concatenate([p[0] for p in parts])
    day = np.concatenate([p[1] for p in parts])
    claim = np.concatenate([p[2] for p in parts]).astype(np.int64)
    source = np.concatenate([np.flatnonzero(p[3]) for p in parts])
    rank = np.repeat(np.arange(1, 5, dtype=np.int8), [len(p[0]) for p in parts])
    id_of = {
        RANK_PAYMENT: lambda rows: pay["payment_id"].take(rows),
        RANK_CREDIT: lambda rows: inv["invoice_id"].take(memo_rows[rows]),
        RANK_PAID_DATE: lambda rows: inv["invoice_id"].take(doc_rows[rows]),
        RANK_WRITE_OFF: lambda rows: inv["invoice_id"].take(doc_rows[rows]),
    }

    def source_id(rows: np.ndarray) -> np.ndarray:
        ids = np.empty(len(rows), dtype=object)
        for kind, take in id_of.items():
            mine = rank[rows] == kind
            ids[mine] = take(source[rows][mine]).to_numpy(dtype=object)
        return ids

    order = _break_ties(np.lexsort((rank, day, doc)), doc, day, rank, source_id)
    doc, day, claim, source, rank = (a[order] for a in (doc, day, claim, source, rank))

    # What was claimed on the same invoice before each claim; each settles what is still open.
    n = len(doc)
    through = np.cumsum(claim)
    first = np.ones(n, dtype=bool)
    first[1:] = doc[1:] != doc[:-1]
    start = np.maximum.accumulate(np.where(first, np.arange(n), 0))
    before = through - claim - (through[start] - claim[start])
    applied = np.minimum(claim, amount[doc] - before)
    keep = applied > 0
    doc, day, applied, source, rank = (a[keep] for a in (doc, day, applied, source, rank))

    # The day each invoice was settled in full: its last settlement, once they add up.
    total = np.rint(np.bincount(doc, weights=applied, minlength=len(doc_rows))).astype(np.int64)
    last = np.ones(len(doc), dtype=bool)
    last[:-1] = doc[1:] != doc[:-1]
    settled_on = np.full(len(doc_rows), np.datetime64("NaT"), dtype="datetime64[ms]")
    full = total[doc[last]] >= amount[doc[last]]
    settled_on[doc[last][full]] = day[last][full]

    # Currencies: a document without one is in its customer's.
    customer_currency = customers.set_index("customer_id")["currency"]
    currency = inv["currency"]
    if currency.isna().any():
        missing = currency.isna().to_numpy()
        filled = currency.astype(object)
        filled[missing] = inv.loc[missing, "customer_id"].astype(object).map(customer_currency)
        currency = filled.astype("category")

    # Unapplied cash (payments) and unapplied credit (credit memos), fixed on their own date.
    def applied_by(kind, rows):
        mine = rank == kind
        return np.rint(np.bincount(source[mine], weights=applied[mine], minlength=rows))

    cash_left = pay_amount - applied_by(RANK_PAYMENT, len(pay)).astype(np.int64)
    cash = np.flatnonzero(cash_left != 0)
    cash_customer = pay["customer_id"].take(cash).astype(object).to_numpy()
    # a payment's currency: the invoice (or credit memo) it names, else its customer's
    named = pay_row[cash]
    cash_currency = np.where(
        named >= 0,
        currency.take(np.maximum(named, 0)).astype(object).to_numpy(),
        None,
    )
    cash_currency = pd.Series(cash_currency, dtype=object).fillna(
        pd.Series(cash_customer, dtype=object).map(customer_currency)
    )
    credit_left = memo_amount + applied_by(RANK_CREDIT, len(memo_rows)).astype(np.int64)
    credit = memo_rows[credit_left != 0]
    unapplied = pd.DataFrame(
        {
            "customer_id": np.concatenate(
                [cash_customer, inv["customer_id"].take(credit).astype(object).to_numpy()]
            ),
            "currency": np.concatenate(
                [cash_currency.to_numpy(), currency.take(credit).astype(object).to_numpy()]
            ),
            "date": np.concatenate([pay["payment_date"].to_numpy()[cash], invoice_date[credit]]),
            "open": np.concatenate([-cash_left[cash], credit_left[credit_left != 0]]),
        }
    )
    customer_codes, customer_names = _codes(inv["customer_id"], doc_rows)
    currency_codes, currency_names = _codes(currency, doc_rows)
    return Book(
        customer=customer_codes,
        customer_names=customer_names,
        currency=currency_codes,
        currency_names=currency_names,
        invoice_date=invoice_date[doc_rows],
        due_date=inv["due_date"].to_numpy()[doc_rows],
        amount=amount,
        settled_on=settled_on,
        s_doc=doc,
        s_day=day,
        s_amount=applied,
        unapplied=unapplied,
        names=customers.drop_duplicates("customer_id").set_index("customer_id")["name"],
    )


def _day(value) -> np.datetime64:
    return np.datetime64(pd.Timestamp(value).date(), "ms")


def _bucket(days: np.ndarray) -> np.ndarray:
    """0 = Current (due today is current), then 1-30, 31-60, 61-90, 91-120, 121+."""
    return np.where(days <= 0, 0, 1 + np.searchsorted(np.asarray(EDGES), days, side="left"))


def open_documents(book: Book, as_of) -> tuple[np.ndarray, np.ndarray]:
    """Rows of the invoices and debit memos open at `as_of`, and their open cents."""
    day = _day(as_of)
    candidate = (book.invoice_date <= day) & ~(book.settled_on <= day)
    counted = book.s_day <= day
    settled = np.bincount(
        book.s_doc[counted], weights=book.s_amount[counted], minlength=len(book.amount)
    )
    rows = np.flatnonzero(candidate)
    open_cents = book.amount[rows] - np.rint(settled[rows]).astype(np.int64)
    keep = open_cents != 0
    return rows[keep], open_cents[keep]


def aging(book: Book, as_of) -> pd.DataFrame:
    """Open amount per (currency, customer) and bucket, past due, unapplied, total."""
    day = _day(as_of)
    rows, open_cents = open_documents(book, day)
    days_past_due = (day - book.due_date[rows]) // DAY
    items = pd.DataFrame(
        {
            "currency": book.currency[rows],
            "customer": book.customer[rows],
            "bucket": _bucket(days_past_due),
            "open": open_cents,
            "late": np.where(days_past_due > 0, open_cents, 0),
        }
    )
    keys = ["currency", "customer"]
    per_customer = (
        items.groupby([*keys, "bucket"])["open"]
        .sum()
        .unstack("bucket", fill_value=0)
        .reindex(columns=range(len(LABELS)), fill_value=0)
    )
    per_customer.columns = LABELS
    per_customer["past_due"] = items.groupby(keys)["late"].sum()
    per_customer = per_customer.reset_index()
    per_customer.index = pd.MultiIndex.from_arrays(
        [
            book.currency_names[per_customer.pop("currency").to_numpy()],
            book.customer_names[per_customer.pop("customer").to_numpy()],
        ],
        names=["currency", "customer_id"],
    )
    unapplied = book.unapplied[book.unapplied["date"].to_numpy() <= day]
    unapplied = unapplied.groupby(["currency", "customer_id"], dropna=False)["open"].sum()
    table = pd.concat([per_customer, unapplied.rename("Unapplied")], axis=1)
    table = table.fillna(0).astype(np.int64)
    table["total"] = table[LABELS].sum(axis=1)
    out = (table[[*LABELS, "Unapplied", "past_due", "total"]] / 100).reset_index()
    out.insert(2, "name", out["customer_id"].map(book.names))
    return out.sort_values(["currency", "total"], ascending=[True, False], ignore_index=True)


def _countback(open_ar: int, months: list[tuple[int, int]]) -> float:
    """months: (days, credit sales) for month 1 (D's month up to D), month 2, … month 24."""
    if open_ar <= 0:
        return 0.0
    consumed_sales, consumed_days = 0, 0
    for days, sales in months:
        if sales > 0 and consumed_sales + sales >= open_ar:
            return consumed_days + days * (open_ar - consumed_sales) / sales
        consumed_sales += sales
        consumed_days += days
    return float(consumed_days)


def kpis(book: Book, as_of, window_days: int = WINDOW_DAYS) -> pd.DataFrame:
    """Open AR, DSO, best possible DSO, ADD, countback DSO and CEI per currency."""
    day = _day(as_of)
    start = day - np.timedelta64(window_days, "D")

    def ar(at):
        rows, open_cents = open_documents(book, at)
        current = (at - book.due_date[rows]) // DAY <= 0
        frame = pd.DataFrame(
            {
                "currency": book.currency[rows],
                "open_ar": open_cents,
                "current_ar": np.where(current, open_cents, 0),
            }
        )
        return frame.groupby("currency").sum()

    end, begin = ar(day), ar(start)
    in_window = (book.invoice_date > start) & (book.invoice_date <= day)
    window_sales = pd.Series(book.amount[in_window]).groupby(book.currency[in_window]).sum()
    this_month = day.astype("datetime64[M]")
    first_month = (this_month - np.timedelta64(23, "M")).astype("datetime64[ms]")
    recent = (book.invoice_date >= first_month) & (book.invoice_date <= day)
    month_sales = (
        pd.DataFrame(
            {
                "currency": book.currency[recent],
                "month": book.invoice_date[recent].astype("datetime64[M]").astype(np.int64),
                "amount": book.amount[recent],
            }
        )
        .groupby(["currency", "month"])["amount"]
        .sum()
    )
    records = []
    for code, row in end.iterrows():
        open_ar, current_ar = int(row["open_ar"]), int(row["current_ar"])
        sales = int(window_sales.get(code, 0))
        months = []
        for k in range(24):
            month = this_month - np.timedelta64(k, "M")
            days = (
                int((day - month.astype("datetime64[D]")) // DAY) + 1
                if k == 0
                else int(((month + 1).astype("datetime64[D]") - month) // DAY)
            )
            months.append((days, int(month_sales.get((code, int(month.astype(np.int64))), 0))))
        ar_start = int(begin["open_ar"].get(code, 0))
        cei_base = ar_start + sales - current_ar
        records.append(
            {
                "currency": book.currency_names[code],
                "open_ar": open_ar / 100,
                "current_ar": current_ar / 100,
                "past_due": (open_ar - current_ar) / 100,
                "credit_sales": sales / 100,
                "dso": open_ar / sales * window_days if sales else np.nan,
                "best_possible_dso": current_ar / sales * window_days if sales else np.nan,
                "add": (open_ar - current_ar) / sales * window_days if sales else np.nan,
                "countback_dso": _countback(open_ar, months),
                "cei": (ar_start + sales - open_ar) / cei_base * 100 if cei_base else np.nan,
            }
        )
    columns = ["currency", "open_ar", "current_ar", "past_due", "credit_sales", "dso"]
    columns += ["best_possible_dso", "add", "countback_dso", "cei"]
    out = pd.DataFrame(records, columns=columns)
    return out.sort_values("open_ar", ascending=False, ignore_index=True)


def trend(book: Book, start, end) -> pd.DataFrame:
    """Aging (due-date basis) per currency at every month-end in [start, end]."""
    month_ends = [_day(m) for m in pd.date_range(pd.Timestamp(start), pd.Timestamp(end), freq="ME")]
    columns = ["month_end", "currency", *LABELS, "total"]
    if not month_ends:
        return pd.DataFrame(columns=columns)
    # Only invoices open at some month-end matter: dated by the last, not settled by the first.
    rows = np.flatnonzero(
        (book.invoice_date <= month_ends[-1]) & ~(book.settled_on <= month_ends[0])
    )
    local = np.full(len(book.amount), -1)
    local[rows] = np.arange(len(rows))
    mine = (local[book.s_doc] >= 0) & (book.s_day <= month_ends[-1])
    s_doc, s_day, s_amount = local[book.s_doc[mine]], book.s_day[mine], book.s_amount[mine]
    currencies, codes = np.unique(book.currency[rows], return_inverse=True)
    invoice_date, settled_on = book.invoice_date[rows], book.settled_on[rows]
    due_date, amount = book.due_date[rows], book.amount[rows]
    n_groups = len(currencies) * len(LABELS)
    records = []
    for month_end in month_ends:
        counted = s_day <= month_end
        settled = np.bincount(s_doc[counted], weights=s_amount[counted], minlength=len(rows))
        open_cents = amount - np.rint(settled).astype(np.int64)
        alive = (invoice_date <= month_end) & ~(settled_on <= month_end) & (open_cents != 0)
        group = codes[alive] * len(LABELS) + _bucket((month_end - due_date[alive]) // DAY)
        sums = np.bincount(group, weights=open_cents[alive], minlength=n_groups)
        counts = np.bincount(group, minlength=n_groups)
        sums = np.rint(sums).astype(np.int64).reshape(len(currencies), len(LABELS))
        counts = counts.reshape(len(currencies), len(LABELS)).sum(axis=1)
        for c, code in enumerate(currencies):
            if counts[c]:
                records.append(
                    {
                        "month_end": month_end,
                        "currency": book.currency_names[code],
                        **{label: sums[c, b] / 100 for b, label in enumerate(LABELS)},
                        "total": sums[c].sum() / 100,
                    }
                )
    out = pd.DataFrame(records, columns=columns)
    out["month_end"] = pd.to_datetime(out["month_end"])
    return out.sort_values(["month_end", "currency"], ignore_index=True)


def answer(book: Book, question: str) -> pd.DataFrame:
    """The benchmarked question, asked of the pandas baseline."""
    if question == "aging":
        return aging(book, AS_OF)
    if question == "kpis":
        return kpis(book, AS_OF, WINDOW_DAYS)
    if question == "trend":
        return trend(book, TREND_START, AS_OF)
    raise ValueError(question)
