"""What the Spark tests ask of both engines: each covered report through the one Python function
the pages and the command line call, on a DuckDB `Store` and on a `SparkStore` over its export.

Answers are compared column by column: amounts to the cent (half a cent of float noise allowed),
ratios to 1e-9 relative, text, ids, dates and flags exactly; a missing value matches only a
missing value.
"""

from __future__ import annotations

import datetime as dt
import re
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from arlens import metrics

DATA = Path(__file__).parent / "data"

JAVA = shutil.which("java")


def spark_session():
    """One local Spark for the module, or a skip saying what is missing."""
    pytest.importorskip(
        "pyspark", reason="the Spark engine needs pyspark (pip install arlens[spark])"
    )
    if not JAVA or not _java_17_or_newer():
        pytest.skip("the Spark engine needs Java 17 or newer (make test installs it as root)")
    from arlens.engines.spark import session

    return session("local[2]")


def _java_17_or_newer() -> bool:
    said = subprocess.run([JAVA, "-version"], capture_output=True, text=True).stderr
    found = re.search(r'version "(\d+)', said)
    return bool(found) and int(found[1]) >= 17


def months_before(day: dt.date, months: int) -> dt.date:
    month = day.month - months
    year = day.year + (month - 1) // 12
    return dt.date(year, (month - 1) % 12 + 1, 1)


# Each case: what to ask, given a store and an as-of date. The names say which query they reach.
CASES = {
    "open_items": lambda s, d: metrics.open_items(s, d),
    "open_items_invoice_basis_custom_edges": lambda s, d: metrics.open_items(
        s, d, basis="invoice", edges=(15, 45, 400)
    ),
    "aging_by_customer_net_unapplied": lambda s, d: metrics.aging(s, d, net_unapplied=True),
    "aging_invoice_basis_by_segment": lambda s, d: metrics.aging(
        s, d, basis="invoice", edges=(10, 20, 365), group_by="segment"
    ),
    "aging_by_country": lambda s, d: metrics.aging(s, d, group_by="country"),
    "aging_by_salesperson": lambda s, d: metrics.aging(s, d, group_by="salesperson"),
    "aging_by_currency": lambda s, d: metrics.aging(s, d, group_by="currency"),
    "aging_total": lambda s, d: metrics.aging(s, d, group_by="none"),
    "aging_in_reporting_currency": lambda s, d: metrics.aging(
        s, d, filters={"reporting_currency": "USD"}
    ),
    "customer_open_invoices": lambda s, d: metrics.customer_open_invoices(
        s, d, _largest_customer(s, d)
    ),
    "headline": lambda s, d: metrics.headline(s, d),
    "kpis": lambda s, d: metrics.kpis(s, d),
    "kpis_in_reporting_currency": lambda s, d: metrics.kpis(
        s, d, 30, filters={"reporting_currency": "USD"}
    ),
    "kpi_series": lambda s, d: metrics.kpi_series(s, months_before(d, 6), d),
    "trend_from_balances": lambda s, d: metrics.trend(s, months_before(d, 12), d),
    "trend_from_balances_filtered": lambda s, d: metrics.trend(
        s, months_before(d, 12), d, filters={"customer_id": _largest_customer(s, d)}
    ),
    "trend_custom_edges": lambda s, d: metrics.trend(
        s, months_before(d, 12), d, basis="invoice", edges=(30, 90)
    ),
    "roll_rates": lambda s, d: metrics.roll_rates(s, d, months=6),
    "allowance": lambda s, d: metrics.allowance(s, d),
    "concentration": lambda s, d: metrics.concentration(s, d),
    "top_past_due_customers": lambda s, d: metrics.top_past_due_customers(s, d),
    "write_off_history": lambda s, d: metrics.write_off_history(s, d),
    "cash_conversion_cycle": lambda s, d: metrics.cash_conversion_cycle(s, as_of=d),
    "worklist": lambda s, d: metrics.worklist(
        s, d, risk_scores={_largest_customer(s, d): 0.5}, grace_days=3
    ),
    "credit_review": lambda s, d: metrics.credit_review(
        s, d, proposed_limits={_largest_customer(s, d): 1_000.0}
    ),
    "credit_review_in_reporting_currency": lambda s, d: metrics.credit_review(
        s, d, reporting="USD"
    ),
    "credit_groups": lambda s, d: metrics.credit_groups(s, d),
    "untranslated_items": lambda s, d: metrics.untranslated_items(s, d, "JPY"),
    "order_warnings": lambda s, d: metrics.order_warnings(s, d),
}
# Each register with the two as-of dates it is asked at (None: its newest document).
REGISTERS = {
    "ledger": (dt.date(2026, 3, 31), dt.date(2026, 2, 10)),
    "minimal": (None, dt.date(2025, 9, 30)),
    "sample": (None, dt.date(2026, 4, 30)),
    "erpnext_schedules": (dt.date(2026, 4, 9), dt.date(2026, 3, 15)),
}
# Per register, the cases at its first and at its second date. A Spark query costs seconds
# whatever the size, so every case runs on the hand ledger (but SAMPLE_ONLY); the other registers run the cases
# their data makes different: the minimal register's missing columns, the sample's currencies,
# segments and history, the ERPNext export's payment schedules.
# The credit review's customer tree is a recursive query (tens of seconds on a busy machine):
# its variants run on the sample, whose customers have parents, orders and limit history.
SAMPLE_ONLY = ("credit_review_in_reporting_currency", "credit_groups", "order_warnings",
               "untranslated_items")  # fmt: skip
PLAN = {
    "ledger": (tuple(c for c in CASES if c not in SAMPLE_ONLY), ("open_items", "kpis", "worklist")),
    "minimal": (("open_items", "aging_by_country", "kpis", "trend_from_balances", "worklist",
                 "credit_review"),
                ("open_items",)),
    "sample": (("open_items", "aging_invoice_basis_by_segment", "aging_in_reporting_currency",
                "kpis_in_reporting_currency", "kpi_series", "trend_custom_edges", "roll_rates",
                "allowance", "concentration", "worklist", "credit_review_in_reporting_currency",
                "credit_groups", "order_warnings", "untranslated_items"),
               ("open_items", "kpis")),
    "erpnext_schedules": (("open_items", "customer_open_invoices", "worklist"), ("open_items",)),
}  # fmt: skip


def cases_of(registers) -> list[tuple[str, int, str]]:
    """(register, 0 or 1 for its first or second date, case) for a test's parametrize."""
    return [(register, which, case) for register in registers
            for which, cases in enumerate(PLAN[register]) for case in cases]  # fmt: skip


def duckdb_register(name: str, folder: Path, sample_db: Path, minimal_db: Path) -> Path:
    """A register's DuckDB store: the session's sample and minimal stores, or one built here."""
    if name == "sample":
        return sample_db
    if name == "minimal":
        return minimal_db
    from arlens.ingest.importer import import_file
    from arlens.store import Store

    path = folder / f"{name}.duckdb"
    with Store.open(path) as store:
        if name == "ledger":
            for table in ("customers", "invoices", "payments", "activities"):
                import_file(store, DATA / "ledger" / f"{table}.csv", table)
        else:  # ERPNext: invoices with their payment schedules
            import_file(store, DATA / "exports" / "erpnext_sales_invoice.csv", "invoices")
            import_file(
                store, DATA / "instalments" / "erpnext_payment_schedule.csv", "invoice_instalments"
            )
    return path


def open_engines(spark, stores: dict[str, Path], folder: Path) -> dict:
    """Per register: the DuckDB store (read-only), the SparkStore over its export, its dates."""
    from arlens.engines.spark import SparkStore
    from arlens.store import Store

    opened = {}
    for name, path in stores.items():
        duck = Store.open(path, read_only=True)
        spark_store = SparkStore(spark, str(export(path, folder / name)), cache=True)
        first, second = REGISTERS[name]
        opened[name] = (duck, spark_store, (first or metrics.latest_activity_date(duck), second))
    return opened


def check_case(engines: dict, register: str, which: int, case: str) -> None:
    duck, spark_store, dates = engines[register]
    expected = CASES[case](duck, dates[which])
    assert_same_answer(CASES[case](spark_store, dates[which]), expected)


_LARGEST: dict[tuple[int, dt.date], str] = {}


def _largest_customer(store, as_of: dt.date) -> str:
    """The customer with the most open at as_of (asked of DuckDB and Spark alike, once each)."""
    key = (id(store), as_of)
    if key not in _LARGEST:
        _LARGEST[key] = _largest_of(metrics.aging(store, as_of, group_by="customer"))
    return _LARGEST[key]


def _largest_of(frame: pd.DataFrame) -> str:
    return str(frame.sort_values(["total", "customer_id"], ascending=[False, True])
               ["customer_id"].iloc[0]) if len(frame) else "nobody"  # fmt: skip


def assert_same_answer(spark: pd.DataFrame, duck: pd.DataFrame) -> None:
    assert list(spark.columns) == list(duck.columns)
    assert len(spark) == len(duck), f"{len(spark)} rows on Spark, {len(duck)} on DuckDB"
    for column in duck.columns:
        a, b = spark[column], duck[column]
        missing_a, missing_b = a.isna().to_numpy(), b.isna().to_numpy()
        assert (missing_a == missing_b).all(), f"{column}: missing in different rows"
        a, b = a[~missing_a], b[~missing_b]
        numeric = pd.api.types.is_numeric_dtype(b) and not pd.api.types.is_bool_dtype(b)
        if numeric:
            x, y = a.to_numpy(dtype=float), b.to_numpy(dtype=float)
            close = np.isclose(x, y, rtol=1e-9, atol=0.005)
            assert close.all(), f"{column}: {x[~close][:3]} on Spark, {y[~close][:3]} on DuckDB"
        else:
            x, y = [_plain(v) for v in a], [_plain(v) for v in b]
            assert x == y, f"{column}: {x[:3]} on Spark, {y[:3]} on DuckDB"


def _plain(value):
    if isinstance(value, pd.Timestamp | dt.datetime):
        return pd.Timestamp(value).date()
    if isinstance(value, np.generic):
        return value.item()
    return value


def export(store_path: Path, out: Path, derived: bool = True) -> Path:
    from arlens.engines.export import export_parquet
    from arlens.store import Store

    with Store.open(store_path, read_only=True) as store:
        export_parquet(store, out, derived=derived)
    return out


def parity_tests(registers: tuple[str, ...]):
    """A module's `engines` fixture and its parametrised parity test over `registers`:
    `engines, test_spark_answers_as_duckdb = parity_tests(("ledger",))`."""

    @pytest.fixture(scope="module")
    def engines(tmp_path_factory, sample_db, minimal_db):
        folder = tmp_path_factory.mktemp("spark_exports")
        stores = {name: duckdb_register(name, folder, sample_db, minimal_db) for name in registers}
        opened = open_engines(spark_session(), stores, folder)
        yield opened
        for duck, _, _ in opened.values():
            duck.close()

    @pytest.mark.parametrize(("register", "which", "case"), cases_of(registers))
    def test_spark_answers_as_duckdb(engines, register, which, case):
        check_case(engines, register, which, case)

    return engines, test_spark_answers_as_duckdb
