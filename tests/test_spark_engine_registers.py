"""The Spark parity cases (tests/spark_cases.py) on the minimal register, the sample and the
ERPNext export with payment schedules, at two as-of dates each: the same answer on Spark as on DuckDB, to the cent. A module of its own so that
a second test worker runs it beside test_spark_engine.py."""

from __future__ import annotations

import pytest

from tests.spark_cases import cases_of, check_case, duckdb_register, open_engines, spark_session

REGISTERS_HERE = ("minimal", "sample", "erpnext_schedules")


@pytest.fixture(scope="module")
def engines(tmp_path_factory, sample_db, minimal_db):
    spark = spark_session()
    folder = tmp_path_factory.mktemp("spark_exports")
    stores = {name: duckdb_register(name, folder, sample_db, minimal_db) for name in REGISTERS_HERE}
    opened = open_engines(spark, stores, folder)
    yield opened
    for duck, _, _ in opened.values():
        duck.close()


@pytest.mark.parametrize(("register", "which", "case"), cases_of(REGISTERS_HERE))
def test_spark_answers_as_duckdb(engines, register, which, case):
    check_case(engines, register, which, case)
