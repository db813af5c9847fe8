"""The same reports on Spark (local mode) and on DuckDB, equal to the cent (issue 16).

Every case of tests/spark_cases.py runs through the one Python function the pages call, once on
the DuckDB store and once on a SparkStore over that store's Parquet export, on four registers (the
hand ledger here; the minimal register, the sample and an ERPNext export with payment schedules in
test_spark_engine_registers.py, so that two test workers share them) at two as-of dates each. Also here: the derived tables made on Spark from the inputs alone equal the
importer's, row for row; the command line gives the same CSV on either engine; and every query
the Spark engine claims to cover is reached by a case.
"""

from __future__ import annotations

import subprocess
import sys

import pandas as pd
import pytest

from arlens import metrics, queries
from arlens.store import Store
from tests.spark_cases import (
    CASES,
    REGISTERS,
    assert_same_answer,
    duckdb_register,
    export,
    parity_tests,
    spark_session,
)

# The hand ledger here; the other registers in test_spark_engine_registers.py.
engines, test_spark_answers_as_duckdb = parity_tests(("ledger",))


@pytest.fixture(scope="module")
def spark():
    return spark_session()


@pytest.fixture(scope="module")
def duckdb_files(tmp_path_factory, sample_db, minimal_db):
    folder = tmp_path_factory.mktemp("spark_registers")
    return {name: duckdb_register(name, folder, sample_db, minimal_db)
            for name in ("ledger", "erpnext_schedules", "sample")}  # fmt: skip


def test_every_covered_query_is_reached_by_a_case(duckdb_files, monkeypatch):
    """Cheap and on DuckDB: the cases above run every query the Spark engine claims to cover."""
    from arlens.engines.spark import COVERED_QUERIES

    texts = {}
    for domain, name in COVERED_QUERIES:
        sql = queries.sql(domain, name)
        texts[sql] = texts[queries.in_reporting_currency(sql)] = (domain, name)
    reached = set()

    def recording(read):
        def record(self, sql, params=None):
            reached.add(texts.get(sql))
            return read(self, sql, params)

        return record

    monkeypatch.setattr(Store, "df", recording(Store.df))
    monkeypatch.setattr(Store, "rows", recording(Store.rows))
    with Store.open(duckdb_files["sample"], read_only=True) as store:
        as_of = metrics.latest_activity_date(store)
        for case in CASES.values():
            case(store, as_of)
    assert set(COVERED_QUERIES) <= reached, set(COVERED_QUERIES) - reached


def test_spark_derives_what_the_importer_derives(spark, duckdb_files, tmp_path):
    """From the inputs alone (an export without derived tables), Spark derives applications,
    settled dates, open invoices, partial and unapplied items, instalment parts and month-end
    balances equal to the importer's, row for row; the ERPNext register has payment schedules and
    an open-items export's balances (settlements dated the export)."""
    from arlens.engines.export import DERIVED_TABLES
    from arlens.engines.spark import SparkStore

    for name in ("ledger", "erpnext_schedules"):
        with Store.open(duckdb_files[name], read_only=True) as duck:
            folder = export(duckdb_files[name], tmp_path / name, derived=False)
            spark_store = SparkStore(spark, str(folder), derive=True)
            for table in [*DERIVED_TABLES, "invoices"]:
                expected = duck.df(f"SELECT * FROM {table}")
                got = spark_store.df(f"SELECT * FROM {table}")[list(expected.columns)]
                keys = list(expected.columns)
                pd.testing.assert_frame_equal(
                    got.sort_values(keys, ignore_index=True),
                    expected.sort_values(keys, ignore_index=True),
                    check_dtype=False,
                    atol=0.005,
                    obj=f"{name}: {table}",
                )
            assert spark_store.setting("month_end_balances_through") == duck.setting(
                "month_end_balances_through"
            )
            # ... and the reports read from them agree too.
            as_of = REGISTERS[name][0]
            assert_same_answer(metrics.aging(spark_store, as_of), metrics.aging(duck, as_of))
    assert len(expected) > 0


def test_command_line_gives_the_same_csv_on_either_engine(spark, duckdb_files, tmp_path, capsys):
    """In this process, so that `--engine spark` finds the module's Spark running."""
    from arlens.cli import main

    ledger = str(duckdb_files["ledger"])
    out = tmp_path / "export"
    assert main(["export", "--format", "parquet", "--out", str(out), "--db", ledger]) == 0
    assert "manifest.json: schema" in capsys.readouterr().out
    report = ["aging", "--as-of", "2026-03-31", "--format", "csv"]
    assert main([*report, "--db", ledger]) == 0
    duck = capsys.readouterr().out
    assert main(["--engine", "spark", *report, "--data", str(out)]) == 0
    on_spark = capsys.readouterr()
    assert on_spark.out == duck
    assert "Birch Foods" in duck  # the hand ledger's customer with 800 over 90 days
    assert on_spark.err == ""


def test_spark_engine_says_what_it_needs(tmp_path):
    run = [sys.executable, "-m", "arlens", "--engine", "spark", "aging"]
    missing = subprocess.run(run, capture_output=True, text=True)
    assert missing.returncode == 1
    assert "give --data DIR" in missing.stderr
    nothing = subprocess.run([*run, "--data", str(tmp_path)], capture_output=True, text=True)
    assert nothing.returncode == 1
    assert "no manifest.json here" in nothing.stderr
    duck_only = subprocess.run(
        [sys.executable, "-m", "arlens", "--engine", "spark", "limits", "--data", str(tmp_path)],
        capture_output=True, text=True,
    )  # fmt: skip
    assert duck_only.returncode != 0
