"""One Python function per named query: what the pages, the command line and the tests call."""

from __future__ import annotations

import datetime as dt

import pandas as pd

from arlens import queries
from arlens.store import Store


def latest_activity_date(store: Store) -> dt.date | None:
    """The default as-of date: the newest document in the store (None when it is empty)."""
    return store.value(queries.sql("overview", "latest_activity_date"))


def headline(store: Store, as_of: dt.date) -> pd.DataFrame:
    """Open AR, past due and open invoices per currency at `as_of`."""
    return store.df(queries.sql("overview", "headline"), {"as_of": as_of})


def import_history(store: Store) -> pd.DataFrame:
    """Every import, newest first."""
    return store.df(queries.sql("overview", "import_history"))
