"""The Polars baseline of the benchmarks gives the pandas baseline's answers (two independent
implementations of the same definitions), on a small generated company and on a ledger built to
hold the awkward cases."""

from __future__ import annotations

import argparse
import datetime as dt
from decimal import Decimal

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from arlens import sample
from arlens.ingest.importer import import_file
from arlens.store import Store
from benchmarks import pandas_ar, polars_ar, workers
from benchmarks.questions import QUESTIONS, compare


def answers(parquet_dir):
    pandas_book = pandas_ar.settle(pandas_ar.load(parquet_dir))
    polars_book = polars_ar.settle(polars_ar.scan(parquet_dir))
    for question in QUESTIONS:
        yield (
            question,
            pandas_ar.answer(pandas_book, question),
            polars_ar.answer(polars_book, question),
        )


@pytest.fixture(scope="module")
def generated(tmp_path_factory):
    """A small sample company, imported and exported the way the benchmark does it."""
    folder = tmp_path_factory.mktemp("bench")
    sample.generate(folder / "csv", customers=12, seed=11)
    with Store.open(folder / "arlens.duckdb") as store:
        for table in workers.IMPORTED:
            import_file(store, folder / "csv" / f"{table}.csv", table)
    done = folder / "export.json"
    workers.export(argparse.Namespace(db=folder / "arlens.duckdb", out=folder / "pq", json=done))
    return folder / "pq"


def test_polars_answers_the_generated_company_as_pandas_does(generated):
    for question, pandas_answer, polars_answer in answers(generated):
        assert len(pandas_answer) > 0, question
        assert compare(question, pandas_answer, polars_answer, other="Polars") == [], question


def _write(folder, name, rows, types):
    columns = {c: [row[i] for row in rows] for i, c in enumerate(types)}
    table = pa.table({c: pa.array(v, type=types[c]) for c, v in columns.items()})
    pq.write_table(table, folder / f"{name}.parquet")


def test_polars_settles_the_awkward_cases_as_pandas_does(tmp_path):
    """Partial and over-payments, a payment naming no invoice or an unknown one, credit memos
    applied and not, paid dates, write-offs, a claim tie on one day, a document without a
    currency, an invoice in another currency than its customer's; questions asked at month-ends before and after settlement."""
    day = dt.date
    money = pa.decimal128(18, 2)
    _write(
        tmp_path,
        "customers",
        [("C1", "One", "EUR"), ("C2", "Two", "USD"), ("C3", "Three", "EUR")],
        {"customer_id": pa.string(), "name": pa.string(), "currency": pa.string()},
    )
    invoices = [  # id, customer, date, due, amount, type, currency, paid, written off, applies to
        ("I1", "C1", day(2025, 1, 10), day(2025, 2, 9), "1000.00", "invoice", "EUR", None, None, None),
        ("I2", "C1", day(2025, 6, 1), day(2025, 7, 1), "500.00", "invoice", None, None, None, None),
        ("I3", "C2", day(2025, 3, 3), day(2025, 4, 2), "250.50", "invoice", "USD",
         day(2025, 9, 30), None, None),
        ("I4", "C2", day(2024, 12, 1), day(2024, 12, 31), "80.00", "invoice", "USD", None,
         day(2026, 2, 28), None),
        ("I5", "C3", day(2026, 9, 15), day(2026, 10, 15), "300.00", "debit_memo", "EUR", None,
         None, None),
        ("I6", "C3", day(2026, 10, 31), day(2026, 10, 31), "42.42", "invoice", "EUR", None, None,
         None),
        ("I7", "C1", day(2026, 4, 1), day(2026, 5, 1), "120.00", "invoice", "USD", None, None,
         None),
        ("M1", "C1", day(2025, 2, 1), day(2025, 2, 1), "-200.00", "credit_memo", "EUR", None,
         None, "I1"),
        ("M2", "C3", day(2026, 1, 5), day(2026, 1, 5), "-75.00", "credit_memo", "EUR", None, None,
         None),
        ("M3", "C1", day(2025, 7, 1), day(2025, 7, 1), "-900.00", "credit_memo", "EUR", None,
         None, "I2"),
    ]  # fmt: skip
    _write(
        tmp_path,
        "invoices",
        [(*row[:4], Decimal(row[4]), *row[5:]) for row in invoices],
        {
            "invoice_id": pa.string(), "customer_id": pa.string(), "invoice_date": pa.date32(),
            "due_date": pa.date32(), "amount": money, "doc_type": pa.string(),
            "currency": pa.string(), "paid_date": pa.date32(), "written_off_on": pa.date32(),
            "applies_to": pa.string(),
        },
    )  # fmt: skip
    payments = [
        ("P1", "C1", day(2025, 3, 1), "300.00", "I1"),
        ("P2", "C1", day(2025, 3, 1), "300.00", "I1"),  # the same day as P1: taken by id
        ("P3", "C1", day(2025, 5, 31), "400.00", "I1"),  # pays beyond what is open
        ("P4", "C2", day(2025, 4, 30), "100.00", "I3"),
        ("P5", "C2", day(2025, 8, 1), "60.00", None),  # names no invoice
        ("P6", "C3", day(2026, 10, 1), "100.00", "NOPE"),  # names an unknown one
        ("P7", "C3", day(2026, 10, 20), "300.00", "I5"),
        ("P8", "C2", day(2025, 12, 1), "20.00", "I4"),
        ("P9", "C1", day(2026, 5, 5), "150.00", "I7"),  # beyond it, in the invoice's currency
    ]
    _write(
        tmp_path,
        "payments",
        [(*row[:3], Decimal(row[3]), row[4]) for row in payments],
        {
            "payment_id": pa.string(), "customer_id": pa.string(), "payment_date": pa.date32(),
            "amount": money, "invoice_id": pa.string(),
        },
    )  # fmt: skip
    pandas_book = pandas_ar.settle(pandas_ar.load(tmp_path))
    polars_book = polars_ar.settle(polars_ar.scan(tmp_path))
    # month-ends, and days just before and on payments that leave cash unapplied
    as_ofs = [day(2025, 2, 28), day(2025, 5, 30), day(2025, 5, 31), day(2025, 7, 31)]
    as_ofs += [day(2025, 12, 31), day(2026, 5, 5), day(2026, 10, 31)]
    rows = {"aging": 0, "kpis": 0}
    for as_of in as_ofs:
        for name in rows:
            expected = getattr(pandas_ar, name)(pandas_book, as_of)
            got = getattr(polars_ar, name)(polars_book, as_of)
            rows[name] += len(expected)
            assert compare(name, expected, got, other="Polars") == [], (name, as_of)
    assert all(rows.values())
    expected = pandas_ar.trend(pandas_book, day(2024, 12, 31), day(2026, 10, 31))
    got = polars_ar.trend(polars_book, day(2024, 12, 31), day(2026, 10, 31))
    assert len(expected) > 0
    assert compare("trend", expected, got, other="Polars") == []
