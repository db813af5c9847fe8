"""Sidebar filters that every page respects; they live in the URL so a view can be shared."""

from __future__ import annotations

import datetime as dt

import streamlit as st

from ui.data import query


def as_of_date() -> dt.date | None:
    """The as-of date: the URL's `as_of`, else the newest document in the store."""
    latest = query("latest_activity_date")
    if latest is None:
        return None
    from_url = st.query_params.get("as_of")
    try:
        initial = dt.date.fromisoformat(from_url) if from_url else latest
    except ValueError:
        initial = latest
    chosen = st.sidebar.date_input(
        "As of",
        value=initial,
        key="as_of",
        help="Balances are rebuilt for this date: payments dated later do not count.",
    )
    st.query_params["as_of"] = chosen.isoformat()
    return chosen
