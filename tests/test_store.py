"""The store's boundary: paths, locks, versions, and the layering rule."""

from __future__ import annotations

import subprocess
import sys

import pytest
from conftest import DATA, REPO

from arlens.cli import main
from arlens.ingest.importer import import_file
from arlens.store import (
    SCHEMA_VERSION,
    Store,
    StoreBusyError,
    StoreError,
    _holder_name,
    resolve_db_path,
)


def test_db_path_precedence(monkeypatch):
    monkeypatch.delenv("ARLENS_DB", raising=False)
    assert str(resolve_db_path()) == "data/arlens.duckdb"
    monkeypatch.setenv("ARLENS_DB", "/x/env.duckdb")
    assert str(resolve_db_path()) == "/x/env.duckdb"
    assert str(resolve_db_path("/x/flag.duckdb")) == "/x/flag.duckdb"


def test_every_import_bumps_the_data_version(tmp_path):
    with Store.open(tmp_path / "a.duckdb") as store:
        assert store.data_version() == 0
        import_file(store, DATA / "register_unusual_headers.csv", "invoices")
        import_file(store, DATA / "register_unusual_headers.csv", "invoices")
        assert store.data_version() == 2


def test_reading_a_missing_database_says_what_to_do(tmp_path):
    with pytest.raises(StoreError, match="import data first"):
        Store.open(tmp_path / "none.duckdb", read_only=True)


def test_a_held_file_fails_in_one_line_naming_the_holder(tmp_path):
    db = tmp_path / "held.duckdb"
    Store.open(db).close()
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            f"import duckdb,time; c=duckdb.connect({str(db)!r}); print(1, flush=True); time.sleep(60)",
        ],
        stdout=subprocess.PIPE,
    )
    try:
        holder.stdout.readline()
        with pytest.raises(StoreBusyError) as busy:
            Store.open(db, read_only=True)
        message = str(busy.value)
        assert f"PID {holder.pid}" in message and "\n" not in message
        code = main(
            ["import", str(DATA / "bad_invoices.csv"), "--table", "invoices", "--db", str(db)]
        )
        assert code == 1
    finally:
        holder.kill()
        holder.wait()


# Opens the file read-write through the store, says so, and holds it (the file is the last argument).
HOLD = (
    "import sys, time\n"
    "from arlens.store import Store\n"
    "store = Store.open(sys.argv[-1])\n"
    "print('holding', flush=True)\n"
    "time.sleep(60)\n"
)


@pytest.mark.parametrize(
    ("program", "args", "holder"),
    [
        ("-c", [], "another AR Lens process"),
        ("arlens", ["import", "invoices.csv", "--table", "invoices", "--db"], "arlens import"),
        ("streamlit", ["run", "dashboard.py", "--", "--db"], "the dashboard"),
    ],
)
def test_the_busy_message_names_the_holder_as_the_user_knows_it(
    tmp_path, capsys, program, args, holder
):
    """A real second process holds the file; the message is one line, without interpreter paths."""
    db = tmp_path / "held.duckdb"
    Store.open(db).close()
    if program == "-c":
        command = [sys.executable, "-c", HOLD, str(db)]
    else:  # a script named like the program, run the way its console script runs
        script = tmp_path / program
        script.write_text(HOLD)
        command = [sys.executable, str(script), *args, str(db)]
    process = subprocess.Popen(command, cwd=REPO, stdout=subprocess.PIPE, text=True)
    try:
        assert process.stdout.readline() == "holding\n"
        expected = (
            f"{db} is in use by {holder} (PID {process.pid}); close it or try again in a moment"
        )
        with pytest.raises(StoreBusyError) as busy:
            Store.open(db, read_only=True)
        assert str(busy.value) == expected
        assert main(["status", "--db", str(db)]) == 1
        assert capsys.readouterr().err == f"arlens: {expected}\n"
    finally:
        process.kill()
        process.wait()


@pytest.mark.parametrize(
    ("argv", "executable", "holder"),
    [
        (["/v/bin/python3.11", "/v/bin/arlens", "import", "x.csv", "--table", "invoices"], "/usr/bin/python3.11", "arlens import"),
        (["python", "-u", "-m", "arlens", "personas", "--as-of", "2026-03-31"], "/usr/bin/python3", "arlens personas"),
        (["/v/bin/python", "/v/bin/arlens"], "/usr/bin/python3", "arlens"),
        (["python", "-m", "streamlit", "run", "dashboard.py"], "/usr/bin/python3", "the dashboard"),
        (["/v/bin/python", "/v/bin/streamlit", "run", "dashboard.py"], "/usr/bin/python3", "the dashboard"),
        (["python", "-m", "pytest", "-q"], "/usr/bin/python3", "another AR Lens process"),
        (["duckdb", "data/arlens.duckdb"], "/usr/local/bin/duckdb", "duckdb"),
        ([], "/usr/local/bin/duckdb", "duckdb"),  # /proc unreadable: the executable's name
        ([], "/root/.pyenv/versions/3.11.7/bin/python3.11", "another AR Lens process"),
    ],
)  # fmt: skip
def test_holder_names(argv, executable, holder):
    assert _holder_name(argv, executable) == holder


def test_cli_import_exit_codes(tmp_path, capsys):
    db = str(tmp_path / "c.duckdb")
    assert main(["import", str(DATA / "bad_invoices.csv"), "--table", "invoices", "--db", db]) == 0
    out = capsys.readouterr().out
    assert "11 rows read, 3 loaded, 8 rejected" in out
    empty = tmp_path / "empty.csv"
    empty.write_text("")
    assert main(["import", str(empty), "--table", "invoices", "--db", db]) == 1
    err = capsys.readouterr().err.strip()
    assert err.startswith("arlens: ") and "empty" in err and "\n" not in err
    with pytest.raises(SystemExit) as usage:
        main(["import", str(empty), "--table", "nonsense", "--db", db])
    assert usage.value.code == 2
    assert main(["rejects", "--db", db]) == 0
    assert "not an amount" in capsys.readouterr().out


def test_headless_modules_never_load_the_ui():
    """arlens/ and models/ serve the CLI, tests and benchmarks: no streamlit, no plotly."""
    code = (
        "import sys, pkgutil, importlib, arlens, models\n"
        "for pkg in (arlens, models):\n"
        "    for m in pkgutil.walk_packages(pkg.__path__, pkg.__name__ + '.'):\n"
        "        if m.name != 'arlens.__main__':\n"
        "            importlib.import_module(m.name)\n"
        "bad = [m for m in sys.modules if m.split('.')[0] in ('streamlit', 'plotly')]\n"
        "print(bad)\n"
        "sys.exit(1 if bad else 0)\n"
    )
    result = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


def test_a_file_from_an_older_version_is_upgraded_not_misread(tmp_path):
    db = tmp_path / "old.duckdb"
    with Store.open(db) as store:  # make it look like schema version 1, with some data
        import_file(store, DATA / "ledger" / "invoices.csv", "invoices")
        import_file(store, DATA / "ledger" / "payments.csv", "payments")
        partial = store.rows("SELECT * FROM partial_applications ORDER BY ALL")
        store.execute("ALTER TABLE financials DROP COLUMN accounts_receivable")
        store.execute("DROP TABLE partial_applications")
        store.execute("UPDATE store_meta SET schema_version = 1")
    with pytest.raises(StoreError, match="older AR Lens"):
        Store.open(db, read_only=True)
    assert main(["status", "--upgrade", "--db", str(db)]) == 0
    with Store.open(db, read_only=True) as store:
        assert store.schema_version() == SCHEMA_VERSION
        assert store.value("SELECT count(*) FROM financials WHERE accounts_receivable IS NULL") == 0
        assert store.rows("SELECT * FROM partial_applications ORDER BY ALL") == partial
        # P1 on I1 (P2 settles it later), M1 on I2 (still open), P3 on I4 (before its write-off).
        assert len(partial) == 3


def test_opening_read_write_beside_a_reader_in_this_process_says_so(tmp_path):
    """Two sessions of the app: one reading, one importing through the Data page."""
    db = tmp_path / "shared.duckdb"
    Store.open(db).close()
    with (
        Store.open(db, read_only=True),
        pytest.raises(StoreBusyError, match="open read-only in this process"),
    ):
        Store.open(db)


def test_a_file_that_is_not_a_database_fails_in_one_line(tmp_path):
    path = tmp_path / "notes.duckdb"
    path.write_text("hello")
    with pytest.raises(StoreError, match="not a valid DuckDB database") as failure:
        Store.open(path, read_only=True)
    assert "\n" not in str(failure.value)
