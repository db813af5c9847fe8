"""How the app reads the store.

The app holds the DuckDB file only while it reads (DESIGN.md §5): each rerun opens it read-only,
reads the data version, and closes it; query results are cached by (query, parameters, data
version). So `arlens import` can run while the dashboard is open, and the next rerun shows the new
data. While an import holds the file, the page says so in one line instead of a traceback.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import streamlit as st

from arlens import metrics
from arlens.store import Store, StoreError, resolve_db_path


def db_path() -> Path:
    """`streamlit run dashboard.py -- --db PATH`, else $ARLENS_DB, else data/arlens.duckdb."""
    parser = argparse.ArgumentParser(add_help=False)
    parser.add_argument("--db")
    args, _ = parser.parse_known_args(sys.argv[1:])
    return resolve_db_path(args.db)


def data_version() -> int | None:
    """None when there is no database yet; stops the page with one line when it is busy."""
    path = db_path()
    if not path.exists():
        return None
    try:
        with Store.open(path, read_only=True) as store:
            return store.data_version()
    except StoreError as error:
        st.error(f"{error}. The page will show the new data once the import is done.")
        st.stop()


@st.cache_data(show_spinner=False, max_entries=256)
def _cached(name: str, db: str, version: int, params: tuple) -> object:
    with Store.open(db, read_only=True) as store:
        return getattr(metrics, name)(store, **dict(params))


def query(name: str, **params):
    """Run `arlens.metrics.<name>` on the store, cached until the data version changes."""
    version = data_version()
    if version is None:
        return None
    try:
        return _cached(name, str(db_path()), version, tuple(sorted(params.items())))
    except StoreError as error:
        st.error(f"{error}. The page will show the new data once the import is done.")
        st.stop()


def require_data() -> None:
    """The empty state: no database or no invoices yet."""
    if data_version() is None or query("latest_activity_date") is None:
        st.info(
            "No receivables data yet. Import your exports on the **Data** page, or from a shell: "
            "`arlens import invoices.csv --table invoices` (`make run` loads the bundled sample)."
        )
        st.stop()
