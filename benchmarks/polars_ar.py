"""The Polars baseline: the three benchmarked questions in lazy Polars, no DuckDB, no pandas.

It reads the same Parquet files as the pandas baseline and follows the same definitions
(README "How numbers are computed", benchmarks/pandas_ar.py): claims on an invoice are payments
naming it, credit memos through `applies_to`, its `paid_date` and its `written_off_on`, taken in
date order (payment, credit, paid date, write-off on the same day; then by source id) until it is
settled; what a payment or credit memo brings beyond that stays unapplied. A document without a
currency is in its customer's; a payment is in the currency of the invoice it names, else its
customer's.

`settle` is the work AR Lens does at import; it is timed apart, and the "answer-only" figure
starts from its result in memory. Like AR Lens it keeps the *partial* settlements (those before
the day an invoice was settled in full): no open invoice needs any other, and a reader who keeps
settlements in memory would keep only those. Amounts are integer cents until the answers.
"""

from __future__ import annotations

import calendar
import datetime as dt
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import polars as pl

from benchmarks.questions import AS_OF, EDGES, LABELS, TREND_START, WINDOW_DAYS


@dataclass
class Raw:
    customers: pl.LazyFrame
    invoices: pl.LazyFrame
    payments: pl.LazyFrame


def scan(parquet_dir: Path) -> Raw:
    """The raw tables as lazy frames, amounts as integer cents."""
    cents = (pl.col("amount").cast(pl.Float64) * 100).round().cast(pl.Int64)

    def read(name: str) -> pl.LazyFrame:
        frame = pl.scan_parquet(Path(parquet_dir) / f"{name}.parquet")
        return frame.with_columns(cents) if name != "customers" else frame

    return Raw(read("customers"), read("invoices"), read("payments"))


@dataclass
class Book:
    """Invoices and debit memos (amount > 0) with the day each was settled in full, their
    partial settlements, and what was left unapplied; all in memory."""

    documents: (
        pl.DataFrame
    )  # doc, customer_id, currency, invoice_date, due_date, amount, settled_on
    partial: pl.DataFrame  # doc, day, applied: settlements before the document's settled_on
    unapplied: pl.DataFrame  # customer_id, currency, date, open (negative cents)
    names: pl.DataFrame  # customer_id, name


def settle(raw: Raw) -> Book:
    """Derive who settled what from the raw tables (the work AR Lens does at import)."""
    customers = raw.customers.unique("customer_id", keep="first", maintain_order=True)
    customer_currency = customers.select("customer_id", customer_currency="currency")
    invoices = (
        raw.invoices.with_row_index("doc")
        .join(customer_currency, on="customer_id", how="left")
        .with_columns(currency=pl.coalesce("currency", "customer_currency"))
        .drop("customer_currency")
    )
    named = invoices.select(
        "invoice_id", named_doc="doc", named_amount="amount", named_currency="currency"
    )
    payments = raw.payments.with_row_index("source_row").join(named, on="invoice_id", how="left")
    # read once: the claims and the unapplied items below both start from these
    invoices, payments = (frame.lazy() for frame in pl.collect_all([invoices, payments]))
    named = invoices.select(
        "invoice_id", named_doc="doc", named_amount="amount", named_currency="currency"
    )
    memos = (
        invoices.filter(pl.col("amount") < 0)
        .join(named, left_on="applies_to", right_on="invoice_id", how="left")
        .rename({"doc": "source_row"})
    )
    documents = invoices.filter(pl.col("amount") > 0)

    def claims(frame, doc, day, claim, doc_amount, rank, source_id):
        return frame.select(
            doc=doc, day=day, claim=claim, doc_amount=doc_amount, rank=pl.lit(rank, pl.Int8),
            source_id=source_id, source_row=pl.col("source_row"),
        )  # fmt: skip

    paid = documents.filter(pl.col("paid_date").is_not_null()).with_columns(source_row="doc")
    written = documents.filter(pl.col("written_off_on").is_not_null()).with_columns(
        source_row="doc"
    )
    all_claims = pl.concat(
        [
            claims(
                payments.filter((pl.col("named_amount") > 0) & (pl.col("amount") > 0)),
                "named_doc", "payment_date", "amount", "named_amount", 1, "payment_id",
            ),
            claims(
                memos.filter(pl.col("named_amount") > 0),
                "named_doc", "invoice_date", -pl.col("amount"), "named_amount", 2, "invoice_id",
            ),
            claims(paid, "doc", "paid_date", "amount", "amount", 3, "invoice_id"),
            claims(written, "doc", "written_off_on", "amount", "amount", 4, "invoice_id"),
        ]
    )  # fmt: skip
    # Each claim settles what earlier claims on the same invoice left open.
    settlements = (
        all_claims.sort("doc", "day", "rank", "source_id")
        .with_columns(before=pl.col("claim").cum_sum().over("doc") - pl.col("claim"))
        .with_columns(applied=pl.min_horizontal("claim", pl.col("doc_amount") - pl.col("before")))
        .filter(pl.col("applied") > 0)
        .select("doc", "day", "applied", "rank", "source_row", "doc_amount")
    )
    settlements = settlements.collect().lazy()  # used four times below
    settled_on = (
        settlements.group_by("doc")
        .agg(total=pl.col("applied").sum(), last=pl.col("day").max(), amount=pl.first("doc_amount"))
        .filter(pl.col("total") >= pl.col("amount"))
        .select("doc", settled_on="last")
    )
    documents = documents.join(settled_on, on="doc", how="left").select(
        "doc", "customer_id", "currency", "invoice_date", "due_date", "amount", "settled_on"
    )
    partial = (
        settlements.join(documents.select("doc", "settled_on"), on="doc")
        .filter(pl.col("settled_on").is_null() | (pl.col("day") < pl.col("settled_on")))
        .select("doc", "day", "applied")
    )

    def applied_by(rank: int) -> pl.LazyFrame:
        return (
            settlements.filter(pl.col("rank") == rank)
            .group_by("source_row")
            .agg(used=pl.col("applied").sum())
        )

    cash = (
        payments.join(applied_by(1), on="source_row", how="left")
        .join(customer_currency, on="customer_id", how="left")
        .with_columns(left=pl.col("amount") - pl.col("used").fill_null(0))
        .filter(pl.col("left") != 0)
        .select(
            "customer_id",
            currency=pl.coalesce("named_currency", "customer_currency"),
            date="payment_date",
            open=-pl.col("left"),
        )
    )
    credit = (
        memos.join(applied_by(2), on="source_row", how="left")
        .with_columns(left=pl.col("amount") + pl.col("used").fill_null(0))
        .filter(pl.col("left") != 0)
        .select("customer_id", "currency", date="invoice_date", open="left")
    )
    documents, partial, cash, credit, names = pl.collect_all(
        [documents, partial, cash, credit, customers.select("customer_id", "name")]
    )
    return Book(documents, partial, pl.concat([cash, credit]), names)


def _days_past_due(day) -> pl.Expr:
    return (pl.lit(day, pl.Date) - pl.col("due_date")).dt.total_days()


def _bucket(days: pl.Expr) -> pl.Expr:
    """0 = Current (due today is current), then 1-30, 31-60, 61-90, 91-120, 121+."""
    chain = pl.when(days <= 0).then(0)
    for i, edge in enumerate(EDGES):
        chain = chain.when(days <= edge).then(i + 1)
    return chain.otherwise(len(EDGES) + 1)


def _bucket_sums(open_: str = "open") -> list[pl.Expr]:
    return [
        pl.col(open_).filter(pl.col("bucket") == b).sum().alias(label)
        for b, label in enumerate(LABELS)
    ]


def open_documents(book: Book, day: dt.date) -> pl.LazyFrame:
    """The invoices and debit memos open at `day`, with their open cents."""
    settled = (
        book.partial.lazy()
        .filter(pl.col("day") <= day)
        .group_by("doc")
        .agg(settled=pl.col("applied").sum())
    )
    return (
        book.documents.lazy()
        .filter(
            (pl.col("invoice_date") <= day)
            & (pl.col("settled_on").is_null() | (pl.col("settled_on") > day))
        )
        .join(settled, on="doc", how="left")
        .with_columns(open=pl.col("amount") - pl.col("settled").fill_null(0))
        .filter(pl.col("open") != 0)
    )


def aging(book: Book, as_of: dt.date) -> pd.DataFrame:
    """Open amount per (currency, customer) and bucket, past due, unapplied, total."""
    keys = ["currency", "customer_id"]
    per_customer = (
        open_documents(book, as_of)
        .with_columns(days=_days_past_due(as_of))
        .with_columns(bucket=_bucket(pl.col("days")))
        .group_by(keys)
        .agg(*_bucket_sums(), past_due=pl.col("open").filter(pl.col("days") > 0).sum())
    )
    unapplied = (
        book.unapplied.lazy()
        .filter(pl.col("date") <= as_of)
        .group_by(keys)
        .agg(Unapplied=pl.col("open").sum())
    )
    amounts = [*LABELS, "Unapplied", "past_due", "total"]
    table = (
        per_customer.join(unapplied, on=keys, how="full", coalesce=True, nulls_equal=True)
        .with_columns(pl.col(*LABELS, "Unapplied", "past_due").fill_null(0))
        .with_columns(total=pl.sum_horizontal(LABELS))
        .join(book.names.lazy(), on="customer_id", how="left")
        .select(*keys, "name", *[pl.col(c) / 100 for c in amounts])
        .sort(["currency", "total"], descending=[False, True])
        .collect()
    )
    return table.to_pandas()


def _countback(open_ar: int, months: list[tuple[int, int]]) -> float:
    """Days of the most recent months' credit sales that add up to the open AR."""
    if open_ar <= 0:
        return 0.0
    sales_so_far = days_so_far = 0
    for days, sales in months:
        if sales > 0 and sales_so_far + sales >= open_ar:
            return days_so_far + days * (open_ar - sales_so_far) / sales
        sales_so_far += sales
        days_so_far += days
    return float(days_so_far)


def _months_back(day: dt.date, k: int) -> tuple[int, int]:
    """(year, month) of the month k months before day's."""
    index = day.year * 12 + day.month - 1 - k
    return index // 12, index % 12 + 1


def kpis(book: Book, as_of: dt.date, window_days: int = WINDOW_DAYS) -> pd.DataFrame:
    """Open AR, DSO, best possible DSO, ADD, countback DSO and CEI per currency."""
    start = as_of - dt.timedelta(days=window_days)

    def ar(day):
        return (
            open_documents(book, day)
            .group_by("currency")
            .agg(
                open_ar=pl.col("open").sum(),
                current_ar=pl.col("open").filter(_days_past_due(day) <= 0).sum(),
            )
        )

    documents = book.documents.lazy()
    window = documents.filter((pl.col("invoice_date") > start) & (pl.col("invoice_date") <= as_of))
    first_month = dt.date(*_months_back(as_of, 23), 1)
    recent = documents.filter(pl.col("invoice_date").is_between(first_month, as_of))
    end, begin, window_sales, month_sales = pl.collect_all(
        [
            ar(as_of),
            ar(start),
            window.group_by("currency").agg(sales=pl.col("amount").sum()),
            recent.group_by("currency", month=pl.col("invoice_date").dt.truncate("1mo")).agg(
                sales=pl.col("amount").sum()
            ),
        ]
    )
    ar_start = dict(zip(begin["currency"], begin["open_ar"], strict=True))
    sales_of = dict(zip(window_sales["currency"], window_sales["sales"], strict=True))
    month_sales_of = {
        (c, m): s for c, m, s in month_sales.select("currency", "month", "sales").iter_rows()
    }
    records = []
    for currency, open_ar, current_ar in end.select(
        "currency", "open_ar", "current_ar"
    ).iter_rows():
        sales = sales_of.get(currency, 0)
        months = []
        for k in range(24):
            year, month = _months_back(as_of, k)
            days = as_of.day if k == 0 else calendar.monthrange(year, month)[1]
            months.append((days, month_sales_of.get((currency, dt.date(year, month, 1)), 0)))
        opening = ar_start.get(currency, 0)
        cei_base = opening + sales - current_ar
        per_day = window_days / sales if sales else float("nan")
        records.append(
            {
                "currency": currency,
                "open_ar": open_ar / 100,
                "current_ar": current_ar / 100,
                "past_due": (open_ar - current_ar) / 100,
                "credit_sales": sales / 100,
                "dso": open_ar * per_day,
                "best_possible_dso": current_ar * per_day,
                "add": (open_ar - current_ar) * per_day,
                "countback_dso": _countback(open_ar, months),
                "cei": (opening + sales - open_ar) / cei_base * 100 if cei_base else float("nan"),
            }
        )
    columns = ["currency", "open_ar", "current_ar", "past_due", "credit_sales", "dso"]
    columns += ["best_possible_dso", "add", "countback_dso", "cei"]
    out = pd.DataFrame(records, columns=columns)
    return out.sort_values("open_ar", ascending=False, ignore_index=True)


def _month_number(column: str) -> pl.Expr:
    return pl.col(column).dt.year().cast(pl.Int32) * 12 + pl.col(column).dt.month() - 1


def trend(book: Book, start: dt.date, end: dt.date) -> pd.DataFrame:
    """Aging (due-date basis) per currency at every month-end in [start, end].

    Every document is expanded to the month-ends at which it is open (dated by then, not
    settled by then), and its partial settlements to the month-ends they count at."""
    month_ends = [m.date() for m in pd.date_range(start, end, freq="ME")]
    columns = ["month_end", "currency", *LABELS, "total"]
    if not month_ends:
        return pd.DataFrame(columns=columns)
    first = month_ends[0].year * 12 + month_ends[0].month - 1
    last_k = len(month_ends) - 1
    # month-end k is open for a document from the month of its date to the month before the
    # one it was settled in (a month-end is always on or after every day of its month)
    spans = (
        book.documents.lazy()
        .with_columns(
            first_k=pl.max_horizontal(_month_number("invoice_date") - first, 0),
            last_k=pl.min_horizontal(
                (_month_number("settled_on") - first - 1).fill_null(last_k), last_k
            ),
        )
        .filter(pl.col("first_k") <= pl.col("last_k"))
    )
    pairs = spans.select(
        "doc", "currency", "due_date", "amount", k=pl.int_ranges("first_k", pl.col("last_k") + 1)
    ).explode("k", empty_as_null=False)
    settled = (
        book.partial.lazy()
        .join(spans.select("doc", "first_k", "last_k"), on="doc")
        .with_columns(from_k=pl.max_horizontal(_month_number("day") - first, "first_k"))
        .filter(pl.col("from_k") <= pl.col("last_k"))
        .select("doc", "applied", k=pl.int_ranges("from_k", pl.col("last_k") + 1))
        .explode("k", empty_as_null=False)
        .group_by("doc", "k")
        .agg(settled=pl.col("applied").sum())
    )
    calendar_ = pl.LazyFrame(
        {"k": range(len(month_ends)), "month_end": month_ends},
        schema={"k": pl.Int64, "month_end": pl.Date},
    )
    days = (pl.col("month_end") - pl.col("due_date")).dt.total_days()
    out = (
        pairs.join(settled, on=["doc", "k"], how="left")
        .with_columns(open=pl.col("amount") - pl.col("settled").fill_null(0))
        .filter(pl.col("open") != 0)
        .join(calendar_, on="k")
        .with_columns(bucket=_bucket(days))
        .group_by("month_end", "currency")
        .agg(*_bucket_sums())
        .with_columns(total=pl.sum_horizontal(LABELS))
        .select("month_end", "currency", *[pl.col(c) / 100 for c in [*LABELS, "total"]])
        .sort("month_end", "currency")
        .collect()
    )
    return out.to_pandas()


def answer(book: Book, question: str) -> pd.DataFrame:
    """The benchmarked question, asked of the Polars baseline."""
    if question == "aging":
        return aging(book, AS_OF)
    if question == "kpis":
        return kpis(book, AS_OF, WINDOW_DAYS)
    if question == "trend":
        return trend(book, TREND_START, AS_OF)
    raise ValueError(question)
