"""The Spark parity cases (tests/spark_cases.py) on the minimal register, the sample and the
ERPNext export with payment schedules, at two as-of dates each: the same answer on Spark as on
DuckDB, to the cent. A module of its own so that a second test worker runs it beside
test_spark_engine.py."""

from __future__ import annotations

from tests.spark_cases import parity_tests

engines, test_spark_answers_as_duckdb = parity_tests(("minimal", "sample", "erpnext_schedules"))
