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
import threading
from contextlib import contextmanager
from pathlib import Path

import streamlit as st

from arlens import metrics
from arlens.ingest.importer import ImportResult, import_file
from arlens.ingest.uploads import MAPPING_KINDS, check_upload, upload_folder
from arlens.store import Store, StoreBusyError, StoreError, resolve_db_path
from arlens.team.roles import User
from arlens.team.writes import STORE_LOCK, write

READ_WAIT_S = 5.0  # how long a rerun waits for this app's own write before showing older data
LAST_SEEN = "last_seen_version"  # st.session_state: (data version, results stamp) last read

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
        _close()
        state.clear()


def _close() -> None:
    """Close this rerun's store (and let a waiting write in)."""
    store = _rerun().pop("store", None)
    if store is not None:
        try:
            store.close()
        finally:
            STORE_LOCK.release_read()


class _Busy:
    """Stands in for the store while another process holds the file: cached results still
    answer (the page as it was before the import); anything else stops the page in one line."""

    def __init__(self, message: str):
        self.message = message

    def __getattr__(self, name):
        raise StoreBusyError(self.message)


def _answer(function, *args):
    """A cached call's result; while another process holds the file and the result is not
    cached, the page says so in one line and stops (what was typed in a form is kept)."""
    try:
        return function(*args)
    except StoreBusyError as error:
        _wait(str(error))


def _wait(why: str) -> None:
    """The one line a page shows where it needs the store and cannot have it yet; the page stops
    there (a form above keeps what was typed)."""
    st.warning(f"{why}. This part of the page will show once it is done.",
               icon=":material/hourglass_top:")  # fmt: skip
    st.stop()


def _store() -> Store | _Busy | None:
    state = _rerun()
    if "store" not in state:
        path = db_path()
        if not path.exists():
            return None
        if not STORE_LOCK.acquire_read(timeout=READ_WAIT_S):  # a long write in this app
            state["store"], state["busy"] = (
                None,
                (f"{path} is being written by this app (an import on the Data page, or scoring)"),
            )
            if LAST_SEEN in st.session_state:
                return _Busy(state["busy"])
            st.error(f"{state['busy']}. The page will show the new data once it is done.")
            st.stop()
        try:
            state["store"] = Store.open(path, read_only=True)
        except StoreError as error:
            STORE_LOCK.release_read()
            state["store"] = None
            if isinstance(error, StoreBusyError) and LAST_SEEN in st.session_state:
                state["busy"] = str(error)
                return _Busy(str(error))
            st.error(f"{error}. The page will show the new data once the import is done.")
            st.stop()
    if state["store"] is None and "busy" in state:
        return _Busy(state["busy"])
    return state["store"]


def current_store() -> Store:
    """This rerun's store, read-only: opened under the app's read lock (a page that opened its
    own connection could meet the app's own write) and closed when the rerun ends."""
    store = _store()
    if store is None or isinstance(store, _Busy):
        _wait(store.message if store is not None else f"no database at {db_path()}")
    return store


def data_version() -> int | None:
    """None when there is no database yet. While another process holds the file, the version
    this session last read (its cached results still show, with a line saying why)."""
    state = _rerun()
    if "version" not in state:
        store = _store()
        if isinstance(store, _Busy):
            state["version"], state["results"] = st.session_state[LAST_SEEN]
            st.info(f"{store.message}: showing the data as they were before it.",
                    icon=":material/hourglass_top:")  # fmt: skip
            return state["version"]
        state["version"] = store.data_version() if store is not None else None
        state["results"] = metrics.results_stamp(store) if store is not None else ""
        if store is not None:  # a store rebuilt at the same path restarts its version count
            state["results"] += f"|{store.value('SELECT max(imported_at) FROM import_log')}"
            st.session_state[LAST_SEEN] = (state["version"], state["results"])
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
    return _answer(_cached, name, str(db_path()), version, _rerun()["results"], params, _store())


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
    return _answer(_cached_risk, name, str(db_path()), version, _rerun()["results"], params,
                   _store())  # fmt: skip


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
    return _answer(_cached_call, name, str(db_path()), version, _rerun()["results"], params,
                   function, _store())  # fmt: skip


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


def write_as(user: User, work):
    """`work(store)` on the store read-write, as `user`, in the app's write turn (arlens.team.
    writes). This rerun's read-only store is closed first (one process cannot hold the file both
    ways) and reopened by the next read; every cached result is dropped once it has landed."""
    _close()
    state = _rerun()
    state.pop("version", None)
    state.pop("busy", None)
    result = write(db_path(), user, work)
    st.cache_data.clear()  # (a write that failed changed nothing: the cached pages still hold)
    return result


def import_upload(
    user: User,
    name: str,
    data: bytes,
    table: str,
    mapping: tuple[str, bytes] | None = None,
    sheet: str | None = None,
    progress=None,
) -> ImportResult:
    """Import an uploaded file through the app's own connection, as `user` (arlens.team.writes).

    The upload is checked first (arlens.ingest.uploads: its size, its kind by name and by
    content), then written under its own name into a temporary folder inside the store's folder
    (`uploads/`, never elsewhere), removed afterwards; the import log, its notes and rejected
    rows, the result and any error message name the upload (`name`), never that path. `mapping`
    is an optional (name, bytes) TOML mapping file. Returns the ImportResult; raises
    ImportFailed or UploadRefused (nothing loaded) or StoreError (the file is busy), each with a
    one-line message.
    """
    user.require("import")
    shown = check_upload(name, data)
    if mapping is not None:
        mapping = (check_upload(mapping[0], mapping[1], kinds=MAPPING_KINDS), mapping[1])
    with upload_folder(db_path()) as folder:
        path = folder / shown
        path.write_bytes(data)
        mapping_path = None
        if mapping is not None:
            mapping_path = folder / mapping[0]
            mapping_path.write_bytes(mapping[1])
        return write_as(user, lambda store: import_file(
            store, path, table, mapping_path, sheet or None, progress, display_name=shown))  # fmt: skip
