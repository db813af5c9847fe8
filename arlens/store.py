"""The DuckDB file that holds one company's receivables.

DuckDB 2.x streams results and a connection serves one call at a time (DESIGN.md §5), so every
read here drains its result before returning, and writes run inside one transaction each.
"""

from __future__ import annotations

import getpass
import json
import os
import re
import uuid
from contextlib import contextmanager
from importlib import resources
from pathlib import Path

import duckdb
import pandas as pd

DEFAULT_DB_PATH = Path("data") / "arlens.duckdb"
SCHEMA_VERSION = 11
# Statements that bring a file written by an older AR Lens up to SCHEMA_VERSION, by version
# (new tables are created by schema.sql itself; a migration fills what they derive).
MIGRATIONS = {
    2: ["ALTER TABLE financials ADD COLUMN IF NOT EXISTS accounts_receivable DECIMAL(18,2)"],
    3: [],  # partial_applications: filled by version 6's rebuild
    4: [
        "ALTER TABLE customers ADD COLUMN IF NOT EXISTS currency_assumed BOOLEAN DEFAULT false",
        "ALTER TABLE invoices ADD COLUMN IF NOT EXISTS currency_assumed BOOLEAN DEFAULT false",
        "ALTER TABLE invoices ADD COLUMN IF NOT EXISTS open_amount_exported DECIMAL(18,2)",
        "ALTER TABLE invoices ADD COLUMN IF NOT EXISTS exported_on DATE",
        "ALTER TABLE payments ADD COLUMN IF NOT EXISTS currency_assumed BOOLEAN DEFAULT false",
        "upgrade_currencies",
    ],
    5: ["ALTER TABLE invoices ADD COLUMN IF NOT EXISTS billing_channel VARCHAR"],
    # applications loses its primary key (slow deletes); month_end_balances is new.
    6: ["DROP TABLE applications", "schema", "rebuild_derived"],
    # The billing contact and a dunning block on customers; a dunning notice's level and letter.
    7: [
        "ALTER TABLE customers ADD COLUMN IF NOT EXISTS contact_name VARCHAR",
        "ALTER TABLE customers ADD COLUMN IF NOT EXISTS email VARCHAR",
        "ALTER TABLE customers ADD COLUMN IF NOT EXISTS phone VARCHAR",
        "ALTER TABLE customers ADD COLUMN IF NOT EXISTS dunning_blocked BOOLEAN DEFAULT false",
        "ALTER TABLE activities ADD COLUMN IF NOT EXISTS level INTEGER",
        "ALTER TABLE activities ADD COLUMN IF NOT EXISTS document VARCHAR",
    ],
    # open_invoices is new (the invoices not yet settled in full): filled from the settled dates.
    8: ["schema", "rebuild_open_invoices"],
    # fx_rates, invoice_instalments, orders, credit_limits are new (nothing to fill).
    9: ["schema"],
    # instalment_parts is new: the payment schedules that apply, derived from the instalments.
    10: ["schema", ("derive", "rebuild_instalment_parts")],
    # Team use: customers' collector; who logged an activity or set a limit; holds, limit
    # requests and the audit trail are new.
    11: [
        "ALTER TABLE customers ADD COLUMN IF NOT EXISTS collector VARCHAR",
        "ALTER TABLE activities ADD COLUMN IF NOT EXISTS note VARCHAR",
        "ALTER TABLE activities ADD COLUMN IF NOT EXISTS created_by VARCHAR",
        "ALTER TABLE activities ADD COLUMN IF NOT EXISTS created_at TIMESTAMP",
        "ALTER TABLE credit_limits ADD COLUMN IF NOT EXISTS set_by VARCHAR",
        "ALTER TABLE credit_limits ADD COLUMN IF NOT EXISTS set_at TIMESTAMP",
        "ALTER TABLE credit_limits ADD COLUMN IF NOT EXISTS reason VARCHAR",
        "schema",
    ],
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
    """Names the holder as the user knows it ("the dashboard"), not by its interpreter's path."""
    holder = re.search(r"Conflicting lock is held in (.+?) \(PID (\d+)\)", str(error))
    if not holder:
        return f"{path} is in use by another process; close it or try again in a moment"
    executable, pid = holder.group(1), int(holder.group(2))
    who = _holder_name(_command_line(pid), executable)
    return f"{path} is in use by {who} (PID {pid}); close it or try again in a moment"


def _command_line(pid: int) -> list[str]:
    """A process's arguments, or [] where /proc is missing or unreadable (macOS, hidepid)."""
    try:
        raw = Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return []
    return [arg.decode(errors="replace") for arg in raw.split(b"\0") if arg]


def _holder_name(argv: list[str], executable: str) -> str:
    """Who holds the file: "the dashboard", "arlens import", another program's name (`duckdb`),
    else "another AR Lens process".

    The program is the first argument after the interpreter and its options: `.venv/bin/arlens
    import x` runs as `python .venv/bin/arlens import x`, `python -m arlens import x` is the same.
    """
    args = argv[1:] if argv and Path(argv[0]).name.startswith("python") else argv
    words = [arg for arg in args if not arg.startswith("-")]
    program = Path(words[0]).name if words else ""
    if program == "streamlit":
        return "the dashboard"
    if program == "arlens":
        return " ".join(["arlens", *words[1:2]])
    name = Path(argv[0] if argv else executable).name
    if name and not name.startswith("python"):
        return name  # the duckdb shell, a SQL client
    return "another AR Lens process"  # Python holding an AR Lens file: a notebook, a test, a script


class Store:
    """One open connection to an AR Lens database.

    Open it read-only for pages and reports (`Store.open(path, read_only=True)`); the importer
    opens it read-write. Both raise `StoreBusyError` when another process holds the file.
    """

    def __init__(self, con: duckdb.DuckDBPyConnection, path: Path | None = None):
        self.con = con
        self.path = path
        # whom the audit trail names; the app sets the signed-in user
        self.actor = command_line_user()
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
        self.create_macros()  # migrations re-derive tables with them
        if not self.rows("SELECT 1 FROM store_meta"):
            self.con.execute("INSERT INTO store_meta VALUES (0, ?)", [SCHEMA_VERSION])
        for version in range(self.schema_version() + 1, SCHEMA_VERSION + 1):
            for statement in MIGRATIONS.get(version, []):
                if statement == "schema":
                    self.con.execute(schema)
                    continue
                if statement == "rebuild_derived":
                    from arlens.ingest.derive import rebuild_derived

                    rebuild_derived(self)
                    continue
                if statement == "rebuild_open_invoices":
                    from arlens.ingest.derive import rebuild_open_invoices

                    rebuild_open_invoices(self)
                    continue
                if statement == "upgrade_currencies":
                    from arlens.ingest import derive
                    from arlens.ingest.importer import fill_currencies

                    derive.begin(self)
                    self.ensure_home_currency()
                    fill_currencies(self)
                    continue
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

    def add_macros(self, sql_text: str) -> None:
        """More TEMP macros (credit.sql's), created once per connection."""
        added = self.__dict__.setdefault("_macros_added", set())
        if sql_text not in added:
            self.con.execute(sql_text)
            added.add(sql_text)

    def has_table(self, name: str) -> bool:
        return bool(self.value("SELECT count(*) FROM duckdb_tables() WHERE table_name = ?", [name]))

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

    def audit(self, action: str, target: str | None, details: dict, key: str | None = None) -> bool:
        """Add a line to the audit trail, in the caller's transaction. `key` is an action's
        idempotency key: a second line with the same key is not added (returns False)."""
        if key is not None and self.value("SELECT 1 FROM audit_log WHERE audit_id = ?", [key]):
            return False
        self.execute(
            "INSERT INTO audit_log VALUES ($id, now()::TIMESTAMP, $user, $action, $target, $details)",
            {
                "id": key or uuid.uuid4().hex,
                "user": self.actor,
                "action": action,
                "target": target,
                "details": json.dumps(details, default=str),
            },
        )
        return True

    def setting(self, key: str) -> str | None:
        return self.value("SELECT value FROM settings WHERE key = ?", [key])

    def _set(self, key: str, value: str) -> None:
        before = self.setting(key)
        if before != value:
            self.audit("setting", key, {"before": before, "after": value})
        self.execute(
            "INSERT INTO settings VALUES ($k, $v) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            {"k": key, "v": value},
        )

    def home_currency(self) -> str | None:
        """What a document, payment or customer imported without a currency is in."""
        return self.setting("home_currency")

    def set_home_currency(self, code: str) -> None:
        """Set (or change) the home currency; what took the old one by default takes the new."""
        code = _currency_code(code)
        old = self.home_currency()
        self._set("home_currency", code)
        if old and old != code:
            for table in ("customers", "invoices", "payments"):
                self.execute(
                    f"UPDATE {table} SET currency = $c WHERE currency_assumed AND currency = $old",
                    {"c": code, "old": old},
                )
            self.execute(
                "UPDATE unapplied SET currency = $c WHERE currency = $old AND document_id IN ("
                "SELECT payment_id FROM payments WHERE currency_assumed UNION ALL "
                "SELECT invoice_id FROM invoices WHERE currency_assumed)",
                {"c": code, "old": old},
            )
            from arlens.ingest.derive import rebuild_month_end_balances

            rebuild_month_end_balances(self)

    def ensure_home_currency(self, given: str | None = None) -> tuple[str, bool]:
        """The home currency, set on first use: the one given, else the store's most common
        document currency, else USD. Returns (currency, whether it was only now assumed)."""
        home = self.home_currency()
        if home:
            return home, False
        if given:
            self.set_home_currency(given)
            return self.home_currency(), False
        common = self.value(
            "SELECT mode(currency) FROM (SELECT currency FROM customers WHERE currency IS NOT NULL "
            "UNION ALL SELECT currency FROM invoices WHERE currency IS NOT NULL)"
        )
        self.set_home_currency(common or "USD")
        return self.home_currency(), common is None

    def reporting_currency(self) -> str | None:
        """What "all currencies in one" totals are translated to (None: not set, per currency)."""
        return self.setting("reporting_currency")

    def set_reporting_currency(self, code: str) -> None:
        self._set("reporting_currency", _currency_code(code))

    def grace_days(self) -> int:
        """Days after the due date before an item counts as past due for holds, dunning and the
        call sheet (aging itself stays on the due date). Default 0."""
        value = self.setting("grace_days")
        return int(value) if value is not None else 0

    def set_grace_days(self, days: int | str) -> None:
        text = str(days).strip()
        if not re.fullmatch("[0-9]{1,3}", text):
            raise StoreError(f"{text!r} is not a number of days (0 to 999)")
        self._set("grace_days", str(int(text)))

    def table_counts(self) -> dict[str, int]:
        tables = ["customers", "invoices", "payments", "applications", "financials", "activities"]
        return {t: int(self.value(f"SELECT count(*) FROM {t}")) for t in tables}


def command_line_user() -> str:
    """Who runs a command: the login name, marked as not signed in to the app."""
    try:
        login = getpass.getuser()
    except (KeyError, OSError):  # a container user without a passwd entry
        login = "unknown"
    return f"{login} (command line)"


def _currency_code(code: str) -> str:
    """`eur ` → `EUR`; anything but three letters is refused in one line."""
    code = code.strip().upper()
    if not re.fullmatch("[A-Z]{3}", code):
        raise StoreError(f"{code!r} is not a currency code (use ISO codes such as USD, EUR)")
    return code
