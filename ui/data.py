"""How the app reads the store.

The app holds the DuckDB file only while a rerun reads it (DESIGN.md §5): `reading()` wraps each
rerun; the first query opens the file read-only, reads the data version, and the file is closed
when the rerun ends. Query results are cached by (query, parameters, data version), so a rerun
whose queries are all cached reads nothing but the version. `arlens import` can therefore run
while the dashboard is open, and the next rerun shows the new data; while an import holds the
file, the page says so in one line instead of a traceback.
"""

from __future__ import annotations

import argparse
import inspect
import sys
import tempfile
import threading
from contextlib import contextmanager
from pathlib import Path

import streamlit as st

from arlens import metrics
from arlens.ingest.importer import ImportResult, import_file
from arlens.store import Store, StoreError, resolve_db_path

_local = threading.local()  # each session's script runs in a thread of its own


def _rerun() -> dict:
    """This rerun's open store, data version and results stamp."""
    if not hasattr(_local, "state"):
        _local.state = {}
    return _local.state


def db_path() -> Path:
    """`streamlit run dashboard.py -- --db PATH`, else $ARLENS_DB, else data/arlens.duckdb."""
    parser = argparse.ArgumentParser(add_help=False)
    parser.add_argument("--db")
    args, _ = parser.parse_known_args(sys.argv[1:])
    return resolve_db_path(args.db)


@contextmanager
def reading():
    """One rerun's access to the store: opened on first use, closed at the end."""
    state = _rerun()
    state.clear()
    try:
        yield
    finally:
        store = state.pop("store", None)
        if store is not None:
            store.close()
        state.clear()


def _store() -> Store | None:
    state = _rerun()
    if "store" not in state:
        path = db_path()
        if not path.exists():
            return None
        try:
            state["store"] = Store.open(path, read_only=True)
        except StoreError as error:
            st.error(f"{error}. The page will show the new data once the import is done.")
            st.stop()
    return state["store"]


def data_version() -> int | None:
    """None when there is no database yet."""
    state = _rerun()
    if "version" not in state:
        store = _store()
        state["version"] = store.data_version() if store is not None else None
        state["results"] = metrics.results_stamp(store) if store is not None else ""
        if store is not None:  # a store rebuilt at the same path restarts its version count
            state["results"] += f"|{store.value('SELECT max(imported_at) FROM import_log')}"
    return state["version"]


def results_stamp() -> str:
    """This rerun's stamp of the models' stored results and of the newest import: with the data
    version, what a cached result of this store is keyed on."""
    data_version()
    return _rerun().get("results", "")


@st.cache_data(show_spinner=False, max_entries=512)
def _cached(name: str, db: str, version: int, results: str, params: dict, _store: Store):
    return getattr(metrics, name)(_store, **params)


def _bound(function, params: dict) -> dict:
    """The call's parameters with the function's defaults filled in: `kpis(as_of=d)` and
    `kpis(as_of=d, window_days=90)` are one cache entry, shared by the pages that ask either."""
    bound = inspect.signature(function).bind(None, **params)
    bound.apply_defaults()
    return dict(list(bound.arguments.items())[1:])


def query(name: str, **params):
    """Run `arlens.metrics.<name>` on the store, cached until the data (or a model's stored
    results: personas, risk scores) change."""
    version = data_version()
    if version is None:
        return None
    params = _bound(getattr(metrics, name), params)
    return _cached(name, str(db_path()), version, _rerun()["results"], params, _store())


@st.cache_data(show_spinner=False, max_entries=128)
def _cached_risk(name: str, db: str, version: int, results: str, params: dict, _store: Store):
    from models import risk as risk_model

    return getattr(risk_model, name)(_store, **params)


def risk_query(name: str, **params):
    """Run `models.risk.<name>` (stored risk scores) on the store, cached until the data or the
    scores change (`arlens score` rewrites the scores without a new data version)."""
    version = data_version()
    if version is None:
        return None
    return _cached_risk(name, str(db_path()), version, _rerun()["results"], params, _store())


@st.cache_data(show_spinner=False, max_entries=128)
def _cached_call(name: str, db: str, version: int, results: str, params: dict, _function, _store):
    return _function(_store, **params)


def cached(function, **params):
    """`function(store, **params)` for any function of the store (the statements and dunning
    library's), cached like `query` until the data change; None when there is no database."""
    version = data_version()
    if version is None:
        return None
    name = f"{function.__module__}.{function.__qualname__}"
    return _cached_call(name, str(db_path()), version, _rerun()["results"], params, function,
                        _store())  # fmt: skip


def require_data() -> None:
    """The empty state: no database or no invoices yet."""
    if data_version() is None or query("latest_activity_date") is None:
        st.info(
            "No receivables data yet. Import your exports on the **Data** page, or from a shell: "
            "`arlens import invoices.csv --table invoices` (`make run` loads the bundled sample)."
        )
        st.stop()


def stop_if_empty(frame, what: str) -> None:
    """A filter with no rows gets a sentence, not an empty chart."""
    if frame is None or len(frame) == 0:
        st.info(f"No {what} for these filters and this date. Widen the filters in the sidebar.")
        st.stop()


def open_for_import() -> Store:
    """The Data page imports through the app's own connection, read-write while it imports."""
    state = _rerun()
    store = state.pop("store", None)
    if store is not None:
        store.close()  # one process cannot hold the file read-only and read-write at once
    state.pop("version", None)
    return Store.open(db_path())


def import_upload(
    name: str,
    data: bytes,
    table: str,
    mapping: tuple[str, bytes] | None = None,
    sheet: str | None = None,
    progress=None,
) -> ImportResult:
    """Import an uploaded file through the app's own connection (read-write while it imports).

    The bytes are written under the upload's own name into a temporary folder, removed
    afterwards; the import log, its notes and rejected rows, the result and any error message
    name the upload (`name`), never that temporary path. `mapping` is an optional (name, bytes)
    TOML mapping file. Returns the ImportResult; raises ImportFailed (nothing loaded: the log
    keeps the rejected rows, if any) or StoreError (the file is busy), each with a one-line
    message.
    """
    shown = Path(name).name
    with tempfile.TemporaryDirectory(prefix="arlens-upload-") as folder:
        path = Path(folder) / shown
        path.write_bytes(data)
        mapping_path = None
        if mapping is not None:
            mapping_path = Path(folder) / Path(mapping[0]).name
            mapping_path.write_bytes(mapping[1])
        with open_for_import() as store:
            return import_file(
                store, path, table, mapping_path, sheet or None, progress, display_name=shown
            )
