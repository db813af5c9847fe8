"""Where the metric SQL runs besides the DuckDB store: the Parquet export (`export`), the DuckDB
SQL made portable (`portable`), and Apache Spark (`spark`, `spark_derive`; the `spark` extra)."""
