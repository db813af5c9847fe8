"""The store's tables as Parquet files for another engine (`arlens export --format parquet`).

One folder per table under the output folder, the documents partitioned by year (hive style,
`partition_year=2025/`) so that an engine reading one year skips the rest, and `manifest.json`
saying what is there: AR Lens's schema version, the store's data version, and each table's rows,
columns and types. Money stays DECIMAL(18,2) and dates stay DATE: what Spark reads is what DuckDB
stored, to the cent.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import shutil
from pathlib import Path

from arlens import __version__
from arlens.store import SCHEMA_VERSION, Store

MANIFEST = "manifest.json"
PARTITION_COLUMN = "partition_year"
# What the user's exports hold (the raw inputs) and what AR Lens derives from them. A Spark job can
# start from the inputs alone and derive the rest (arlens.engines.spark_derive).
INPUT_TABLES = ("customers", "invoices", "payments", "financials", "activities", "fx_rates",
                "invoice_instalments", "orders", "credit_limits", "settings")  # fmt: skip
DERIVED_TABLES = ("applications", "partial_applications", "open_invoices", "unapplied",
                  "month_end_balances", "instalment_parts",
                  "month_end_scope")  # empty between imports; open_at_month_ends names it  # fmt: skip
# What the models wrote (personas on the worklist), when they have run.
RESULT_TABLES = ("customer_personas", "persona_runs", "invoice_scores")
# The date each partitioned table is split on.
PARTITION_DATES = {"invoices": "invoice_date", "payments": "payment_date",
                   "applications": "applied_on", "partial_applications": "applied_on",
                   "activities": "activity_date", "month_end_balances": "month_end"}  # fmt: skip


def export_parquet(store: Store, out: str | os.PathLike, partition: str = "year",
                   derived: bool = True) -> dict:  # fmt: skip
    """Writes the tables and the manifest; returns the manifest. `partition`: 'year' or 'none'.
    `derived=False` writes the inputs only (the derived tables are then derived where they are
    read). An existing table folder is replaced; the manifest is written last, so a reader
    never finds one describing half-written files."""
    if partition not in ("year", "none"):
        raise ValueError("partition is 'year' or 'none'")
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    (out / MANIFEST).unlink(missing_ok=True)
    present = {name for (name,) in store.rows("SELECT table_name FROM duckdb_tables()")}
    wanted = [*INPUT_TABLES, *(DERIVED_TABLES if derived else ()), *RESULT_TABLES]
    tables = {}
    for name in [t for t in wanted if t in present]:
        folder = out / name
        if folder.exists():
            shutil.rmtree(folder)
        rows = int(store.value(f"SELECT count(*) FROM {name}"))
        date_column = PARTITION_DATES.get(name) if partition == "year" and rows else None
        if date_column:
            store.execute(
                f"COPY (SELECT *, year({date_column}) AS {PARTITION_COLUMN} FROM {name}) "
                f"TO '{_quoted(folder)}' (FORMAT parquet, PARTITION_BY ({PARTITION_COLUMN}))"
            )
        else:  # one file, also for an empty table (its columns and types are still written)
            folder.mkdir()
            store.execute(f"COPY {name} TO '{_quoted(folder / 'part-0.parquet')}' (FORMAT parquet)")
        columns = store.rows(
            "SELECT column_name, data_type FROM duckdb_columns() WHERE table_name = ? "
            "ORDER BY column_index",
            [name],
        )
        tables[name] = {
            "rows": rows,
            "kind": "input"
            if name in INPUT_TABLES
            else "derived"
            if name in DERIVED_TABLES
            else "result",  # fmt: skip
            "partitioned_by": f"year({date_column})" if date_column else None,
            "columns": {column: kind for column, kind in columns},
        }
    manifest = {
        "format": "arlens-parquet",
        "arlens_version": __version__,
        "schema_version": SCHEMA_VERSION,
        "data_version": store.data_version(),
        "exported_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "partition_column": PARTITION_COLUMN,
        "tables": tables,
    }
    (out / MANIFEST).write_text(json.dumps(manifest, indent=2) + "\n")
    return manifest


def read_manifest(folder: str | os.PathLike, text: str | None = None) -> dict:
    """The manifest of an export folder; `text`: its content when read elsewhere (object
    storage, through Spark)."""
    if text is None:
        path = Path(folder) / MANIFEST
        if not path.exists():
            raise FileNotFoundError(
                f"{folder}: no {MANIFEST} here (write one with `arlens export --format parquet "
                f"--out {folder}`)"
            )
        text = path.read_text()
    manifest = json.loads(text)
    if manifest.get("schema_version", 0) > SCHEMA_VERSION:
        raise ValueError(
            f"{folder} was exported by a newer AR Lens (schema {manifest['schema_version']}, this "
            f"one reads up to {SCHEMA_VERSION})"
        )
    return manifest


def _quoted(path: Path) -> str:
    """A path inside a SQL string literal (COPY takes no parameter for its target)."""
    return str(path).replace("'", "''")
