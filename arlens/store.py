"""The DuckDB file that holds one company's receivables.

DuckDB 2.x streams results and a connection serves one call at a time (DESIGN.md §5), so every
read here drains its result before returning, and writes run inside one transaction each.
"""

from __future__ import annotations

import os
import re
from contextlib import contextmanager
from importlib import resources
from pathlib import Path

import duckdb
import pandas as pd

DEFAULT_DB_PATH = Path("data") / "arlens.duckdb"
SCHEMA_VERSION = 3
# Statements that bring a file written by an older AR Lens up to SCHEMA_VERSION, by version
# (new tables are created by schema.sql itself; a migration fills what they derive).
MIGRATIONS = {
    2: ["ALTER TABLE financials ADD COLUMN IF NOT EXISTS accounts_receivable DECIMAL(18,2)"],
    3: ["DELETE FROM partial_applications", ("derive", "rebuild_partial_applications")],
}


class StoreError(Exception):
    """A problem with the database file that the user can fix; the message is one line."""


class StoreBusyError(StoreError):
    """Another process holds the file read-write."""


def resolve_db_path(db: str | os.PathLike | None = None) -> Path:
    """`--db`, else `$ARLENS_DB`, else data/arlens.duckdb."""
    if db:
        return Path(db)
    if os.environ.get("ARLENS_DB"):
        return Path(os.environ["ARLENS_DB"])
    return DEFAULT_DB_PATH


def _busy_message(path: Path, error: Exception) -> str:
    holder = re.search(r"Conflicting lock is held in (.+?)(?: \(PID (\d+)\))", str(error))
    who = f"{holder.group(1)} (PID {holder.group(2)})" if holder else "another process"
    return f"{path} is in use by {who}; close it or try again in a moment"


class Store:
    """One open connection to an AR Lens database.

    Open it read-only for pages and reports (`Store.open(path, read_only=True)`); the importer
    opens it read-write. Both raise `StoreBusyError` when another process holds the file.
    """

    def __init__(self, con: duckdb.DuckDBPyConnection, path: Path | None = None):
        self.con = con
        self.path = path
        # DuckDB draws a progress bar on stdout for long queries: not in our CSV/JSON output.
        con.execute("SET enable_progress_bar = false")

    @classmethod
    def open(cls, db: str | os.PathLike | None = None, read_only: bool = False) -> Store:
        path = resolve_db_path(db)
        if read_only and not path.exists():
            raise StoreError(
                f"no database at {path}: import data first (arlens import or make run)"
            )
        path.parent.mkdir(parents=True, exist_ok=True)
        try:
            con = duckdb.connect(str(path), read_only=read_only)
        except duckdb.Error as error:  # a lock held elsewhere, a file that is not a database, …
            if "lock" in str(error).lower():
                raise StoreBusyError(_busy_message(path, error)) from None
            if "different configuration" in str(error):
                raise StoreBusyError(
                    f"{path} is open read-only in this process (another page is reading it); "
                    "try again in a moment"
                ) from None
            raise StoreError(f"cannot open {path}: {error}") from None
        store = cls(con, path)
        if not read_only:
            store.create_schema()
        elif store.schema_version() < SCHEMA_VERSION:
            con.close()
            raise StoreError(
                f"{path} was written by an older AR Lens: run `arlens status --upgrade --db {path}` "
                "(or import any file) once to upgrade it"
            )
        store.create_macros()
        return store

    @classmethod
    def memory(cls) -> Store:
        """An empty in-memory store, for tests and throwaway work."""
        store = cls(duckdb.connect(":memory:"))
        store.create_schema()
        store.create_macros()
        return store

    def create_schema(self) -> None:
        schema = resources.files("arlens").joinpath("schema.sql").read_text()
        self.con.execute(schema)
        if not self.rows("SELECT 1 FROM store_meta"):
            self.con.execute("INSERT INTO store_meta VALUES (0, ?)", [SCHEMA_VERSION])
        for version in range(self.schema_version() + 1, SCHEMA_VERSION + 1):
            for statement in MIGRATIONS.get(version, []):
                if isinstance(statement, tuple):
                    from arlens import queries

                    statement = queries.sql(*statement)
                self.execute(statement)
        self.execute("UPDATE store_meta SET schema_version = ?", [SCHEMA_VERSION])

    def schema_version(self) -> int:
        return int(self.value("SELECT schema_version FROM store_meta"))

    def create_macros(self) -> None:
        """The shared building blocks of the metric queries (TEMP: fine on read-only files)."""
        macros = resources.files("arlens").joinpath("sql").joinpath("macros.sql").read_text()
        self.con.execute(macros)

    def close(self) -> None:
        self.con.close()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    # Reads: every result is drained before returning (a half-read result blocks the connection).
    def rows(self, sql: str, params: list | dict | None = None) -> list[tuple]:
        return self.con.execute(sql, params or []).fetchall()

    def value(self, sql: str, params: list | dict | None = None):
        rows = self.rows(sql, params)
        return rows[0][0] if rows else None

    def df(self, sql: str, params: list | dict | None = None) -> pd.DataFrame:
        return self.con.execute(sql, params or []).df()

    def execute(self, sql: str, params: list | dict | None = None) -> None:
        self.con.execute(sql, params or []).fetchall()

    @contextmanager
    def transaction(self):
        """All or nothing: any exception rolls every statement back."""
        self.con.begin()
        try:
            yield self
        except BaseException:
            self.con.rollback()
            raise
        self.con.commit()

    def data_version(self) -> int:
        """Bumped by every import; pages key their caches on it."""
        return int(self.value("SELECT data_version FROM store_meta"))

    def bump_data_version(self) -> int:
        self.execute("UPDATE store_meta SET data_version = data_version + 1")
        return self.data_version()

    def table_counts(self) -> dict[str, int]:
        tables = ["customers", "invoices", "payments", "applications", "financials", "activities"]
        return {t: int(self.value(f"SELECT count(*) FROM {t}")) for t in tables}
