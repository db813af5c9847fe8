"""The metrics on Apache Spark: the exported tables as views, the same SQL, transpiled.

`SparkStore` answers the read calls the metric functions make on a DuckDB `Store` (`df`, `rows`,
`value`, the settings), so `arlens.metrics.aging(spark_store, ...)` runs the one definition in
`arlens/sql/aging.sql` on Spark: macros expanded and the text transpiled by
`arlens.engines.portable`, `$name` parameters bound by Spark (`args=`), never pasted into the text.
pyspark is an optional extra (`pip install arlens[spark]`); nothing else in AR Lens imports it.
"""

from __future__ import annotations

import os
import warnings
from decimal import Decimal
from importlib import resources

import pandas as pd
import pyarrow as pa

from arlens.engines import portable
from arlens.engines.export import DERIVED_TABLES, MANIFEST, read_manifest

DEFAULT_MASTER = "local[*]"
# The named queries (domain, name) that run on Spark, each checked against DuckDB to the cent in
# tests/test_spark_engine.py; README "Running on a Spark cluster" lists what stays on DuckDB.
COVERED_QUERIES = (
    ("overview", "latest_activity_date"), ("overview", "headline"), ("overview", "main_currency"),
    ("aging", "open_items"), ("aging", "aging"), ("aging", "trend"),
    ("aging", "trend_from_balances"), ("aging", "trend_all_from_balances"),
    ("aging", "customer_open_invoices"),
    ("kpis", "kpis"), ("kpis", "kpi_series"), ("kpis", "cash_conversion_cycle"),
    ("risk", "roll_rates"), ("risk", "concentration"), ("risk", "top_past_due_customers"),
    ("risk", "write_off_history"),
    ("collections", "worklist"),
    ("credit", "credit_review"), ("credit", "credit_groups"), ("credit", "order_warnings"),
    ("credit", "untranslated_items"),
)  # fmt: skip
# pyspark 4 warns on every read that it "does not yet fully support pandas >= 3.0.0"; the frames
# it hands over here are Arrow tables, converted by pyarrow (and checked against DuckDB in tests).
warnings.filterwarnings("ignore", "PySpark does not yet fully support pandas", FutureWarning)


def session(master: str | None = None, app_name: str = "arlens"):
    """A Spark session: the given master, else what spark-submit set, else local[*]. A local
    session gets few shuffle partitions (the default 200 is meant for a cluster) and a quiet
    console; a cluster's own settings are left alone."""
    try:
        from pyspark.sql import SparkSession
    except ImportError as error:  # pragma: no cover - the extra is installed in tests
        raise RuntimeError(
            "the Spark engine needs pyspark: pip install 'arlens[spark]' (and Java 17 or newer)"
        ) from error
    builder = SparkSession.builder.appName(app_name)
    master = master or os.environ.get("MASTER") or None
    if master or not os.environ.get("SPARK_ENV_LOADED"):
        master = master or DEFAULT_MASTER
        builder = builder.master(master)
    local = bool(master) and master.startswith("local")  # not under spark-submit's cluster
    if local:
        builder = builder.config("spark.sql.shuffle.partitions", str(2 * (os.cpu_count() or 2)))
        builder = builder.config("spark.ui.enabled", "false")
        quiet = resources.files("arlens.engines").joinpath("log4j2.properties")
        builder = builder.config(
            "spark.driver.extraJavaOptions", f"-Dlog4j2.configurationFile=file:{quiet}"
        )
    builder = builder.config("spark.sql.session.timeZone", "UTC")
    builder = builder.config("spark.ui.showConsoleProgress", "false")
    spark = builder.getOrCreate()
    if local:
        spark.sparkContext.setLogLevel("FATAL")  # errors reach the caller as exceptions
    return spark


class SparkStore:
    """The read side of `arlens.store.Store` over a folder of exported tables (local path or any
    URL Spark reads: s3a://, abfss://, gs://, hdfs://)."""

    def __init__(self, spark, data: str, derive: bool | None = None, cache: bool = False):
        # Its own session (on the same Spark): the tables are temporary views, named as in the
        # store, and two stores open at once must not see each other's.
        self.spark = spark.newSession()
        self.data = str(data).rstrip("/")
        self.manifest = read_manifest(self.data, self._remote_manifest())
        self.macros = dict(portable.shared_macros())
        tables = self.manifest["tables"]
        for name in tables:
            self._register(name, cache)
        missing_derived = [t for t in DERIVED_TABLES if t not in tables]
        if derive or (derive is None and missing_derived):
            from arlens.engines import spark_derive

            spark_derive.derive(self)
        self._settings = {key: value for key, value in self.rows("SELECT key, value FROM settings")}

    def _remote_manifest(self) -> str | None:
        """manifest.json through Spark when the tables are behind a URL (s3a://, abfss://, ...)."""
        if "://" not in self.data:
            return None
        frame = self.spark.read.text(f"{self.data}/{MANIFEST}", wholetext=True)
        return frame.first()[0]

    @classmethod
    def open(cls, data: str, master: str | None = None, derive: bool | None = None) -> SparkStore:
        return cls(session(master), data, derive=derive)

    def _register(self, name: str, cache: bool) -> None:
        """A table as a view; `cache`: kept in memory once read (many reports in one process)."""
        frame = self.spark.read.parquet(f"{self.data}/{name}")
        column = self.manifest.get("partition_column")
        if column and column in frame.columns:
            frame = frame.drop(column)
        if cache:
            frame = frame.cache()
        frame.createOrReplaceTempView(name)

    def close(self) -> None:
        """The session stays for the next store (Spark keeps one per process)."""

    def __enter__(self) -> SparkStore:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    # -- what the metric functions call on a Store -----------------------------------------------

    def spark_sql(self, sql: str) -> str:
        return portable.to_spark(sql, self.macros)

    def frame(self, sql: str, params: dict | None = None):
        """The Spark DataFrame of a query of ours (lazy: nothing runs until it is read)."""
        if isinstance(params, list | tuple):
            raise TypeError("the Spark engine binds $name parameters, not positional ones")
        wanted = set(portable.queries.parameters_of(sql))
        args = {k: _spark_value(v) for k, v in (params or {}).items() if k in wanted}
        return self.spark.sql(self.spark_sql(sql), args=args)

    def df(self, sql: str, params: dict | None = None) -> pd.DataFrame:
        return _as_duckdb_would(self.frame(sql, params).toArrow())

    def rows(self, sql: str, params: dict | None = None) -> list[tuple]:
        return [tuple(_python(v) for v in row) for row in self.frame(sql, params).collect()]

    def value(self, sql: str, params: dict | None = None):
        rows = self.rows(sql, params)
        return rows[0][0] if rows else None

    def add_macros(self, sql_text: str) -> None:
        self.macros.update(portable.parse_macros(sql_text))

    def has_table(self, name: str) -> bool:
        return name in self.manifest["tables"]

    def setting(self, key: str) -> str | None:
        return self._settings.get(key)

    def home_currency(self) -> str | None:
        return self.setting("home_currency")

    def reporting_currency(self) -> str | None:
        return self.setting("reporting_currency")

    def grace_days(self) -> int:
        value = self.setting("grace_days")
        return int(value) if value is not None else 0

    def data_version(self) -> int:
        return int(self.manifest.get("data_version", 0))


def _spark_value(value):
    """A parameter as Spark binds it: lists stay arrays (typed even when empty), the rest as is."""
    if isinstance(value, list | tuple):
        from pyspark.sql import functions as F

        if not value:
            return F.array()
        return F.array(*[F.lit(v) for v in value])
    if isinstance(value, pd.Timestamp):
        return value.date()
    return value


def _python(value):
    return float(value) if isinstance(value, Decimal) else value


def _as_duckdb_would(table: pa.Table) -> pd.DataFrame:
    """Arrow from Spark as DuckDB's `.df()` gives it: decimals as floats, dates as datetime64."""
    columns = []
    for field in table.schema:
        column = table.column(field.name)
        if pa.types.is_decimal(field.type):
            column = column.cast(pa.float64())
        elif pa.types.is_date(field.type):
            column = column.cast(pa.timestamp("us"))
        columns.append(column)
    frame = pa.table(columns, names=table.column_names).to_pandas()
    for field in table.schema:
        nulls = table.column(field.name).null_count
        if nulls and nulls == table.num_rows and pa.types.is_string(field.type):
            frame[field.name] = pd.Series([None] * nulls, dtype=object)  # as DuckDB: no text at all
        if pa.types.is_boolean(field.type) and nulls:  # yes/no with gaps: nullable booleans
            frame[field.name] = pd.array(table.column(field.name).to_pylist(), dtype="boolean")
        if pa.types.is_integer(field.type) and nulls:  # whole numbers with gaps: nullable integers
            frame[field.name] = pd.array(table.column(field.name).to_pylist(),
                                         dtype=f"Int{field.type.bit_width}")  # fmt: skip
    return frame
