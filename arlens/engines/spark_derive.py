"""The derived tables computed on Spark from the input tables alone, with the importer's SQL.

A Spark user whose exports land in object storage (invoices, payments, customers, ...) has no
DuckDB import to derive who settled what. `derive` runs the importer's full-rebuild path of
`arlens/sql/derive.sql` on Spark: each statement's query (the SELECT of its INSERT or CREATE) is
transpiled like the metric queries, and its result becomes the table the statement would have
written. Only the writes differ — Spark views in place of DuckDB tables — so applications,
settled dates, open invoices, partial applications, unapplied items, instalment parts and
month-end balances follow the same rules on both engines (a test compares them row for row).
"""

from __future__ import annotations

from functools import cache

import sqlglot
from sqlglot import exp

from arlens import queries
from arlens.ingest.derive import THROUGH_KEY
from arlens.store import Store


def query_of(sql_text: str) -> str:
    """The query a DuckDB INSERT ... SELECT or CREATE ... AS SELECT writes, as DuckDB SQL."""
    tree = sqlglot.parse_one(sql_text, read="duckdb")
    if isinstance(tree, exp.Insert | exp.Create):
        tree = tree.expression
    return tree.sql(dialect="duckdb")


@cache
def stored_columns() -> dict[str, dict[str, str]]:
    """Each table's columns and DuckDB types as the store's schema has them (schema.sql)."""
    with Store.memory() as store:
        rows = store.rows(
            "SELECT table_name, column_name, data_type FROM duckdb_columns() "
            "WHERE NOT internal ORDER BY table_name, column_index"
        )
    tables: dict[str, dict[str, str]] = {}
    for table, column, kind in rows:
        tables.setdefault(table, {})[column] = kind
    return tables


def _spark_type(duckdb_type: str) -> str:
    """The Spark type of a column type our schema uses."""
    simple = {"VARCHAR": "string", "DATE": "date", "INTEGER": "int", "BIGINT": "bigint",
              "BOOLEAN": "boolean", "DOUBLE": "double", "TIMESTAMP": "timestamp",
              "TIMESTAMP WITH TIME ZONE": "timestamp", "SMALLINT": "smallint",
              "TINYINT": "tinyint"}  # fmt: skip
    if duckdb_type.startswith("DECIMAL"):
        return duckdb_type.lower()
    return simple[duckdb_type]


def derive(store) -> None:
    """Every derived table of a `SparkStore` from its inputs (a full rebuild, as
    `arlens.ingest.derive.rebuild_derived` does in DuckDB). Intermediate results are persisted:
    each is read several times."""
    from pyspark.sql import functions as F

    spark = store.spark

    def table(name: str, sql: str, params: dict | None = None):
        frame = store.frame(sql, params)
        columns = stored_columns().get(name)
        if columns:  # an INSERT fills the table's columns in order, in their types
            frame = frame.toDF(*columns).select(
                *[F.col(c).cast(_spark_type(kind)) for c, kind in columns.items()]
            )
        frame = frame.persist()
        frame.createOrReplaceTempView(name)
        return frame

    def step(name: str) -> str:
        return query_of(queries.sql("derive", name))

    # Everything is in scope: the scoped documents are all the documents.
    spark.table("invoices").createOrReplaceTempView("_scoped_invoices")
    spark.table("payments").createOrReplaceTempView("_scoped_payments")
    applications = table("_new_applications", step("new_applications"))
    applications.createOrReplaceTempView("applications")
    table("_settled", step("settled_dates"))
    _mark_settled(store)
    spark.table("invoices").createOrReplaceTempView("_scoped_invoices")
    table("open_invoices", step("insert_open_invoices"))
    table("partial_applications", step("rebuild_partial_applications"))
    table("unapplied", step("rebuild_unapplied"))
    spark.createDataFrame([], "invoice_id string, instalment int, due_date date, "
                              "amount decimal(18,2), amount_before decimal(18,2), "
                              "settled_on date").createOrReplaceTempView("instalment_parts")  # fmt: skip
    table("instalment_parts", "SELECT * FROM schedule_parts()")
    spark.createDataFrame([], "customer_id string, from_month_end date").createOrReplaceTempView(
        "month_end_scope"
    )
    _month_end_balances(store, table)


def _mark_settled(store) -> None:
    """derive.sql `mark_settled` (an UPDATE): each invoice's settled_on as `_settled` has it; a
    credit memo keeps its own (it is never settled)."""
    from pyspark.sql import functions as F

    spark = store.spark
    invoices = spark.table("invoices")
    columns = invoices.columns
    if "settled_on" not in columns:  # inputs written by another tool
        columns = [*columns, "settled_on"]
    settled = spark.table("_settled").select("invoice_id", "settled_on")
    settled = settled.withColumnRenamed("settled_on", "_settled_on")
    joined = invoices.join(settled, "invoice_id", "left")
    kept = F.col("settled_on") if "settled_on" in invoices.columns else F.lit(None).cast("date")
    joined = joined.withColumn(
        "settled_on", F.when(F.col("amount") > 0, F.col("_settled_on")).otherwise(kept)
    )
    joined.select(*columns).persist().createOrReplaceTempView("invoices")


def _month_end_balances(store, table) -> None:
    """derive.py `_month_end_balances` in a full rebuild: from the first invoice's month-end to
    the newest month-end the documents reach; the settings say how far they go."""
    from pyspark.sql import functions as F

    spark = store.spark
    through = store.value(queries.sql("derive", "month_end_balances_through"))
    start = store.value("SELECT min(invoice_date) FROM invoices")
    settings = spark.table("settings").where(F.col("key") != THROUGH_KEY)
    if through is None or start is None or start > through:
        empty = "month_end date, customer_id string, currency string, bucket_index int, "
        spark.createDataFrame([], empty + "open_amount decimal(38,2)").createOrReplaceTempView(
            "month_end_balances"
        )
        settings.persist().createOrReplaceTempView("settings")
        return
    table(
        "month_end_balances",
        query_of(queries.sql("derive", "rebuild_month_end_balances")),
        {"start": start, "through": through, "scoped": False},
    )
    row = spark.createDataFrame([(THROUGH_KEY, str(through))], settings.schema)
    settings.unionByName(row).persist().createOrReplaceTempView("settings")
