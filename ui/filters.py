"""Sidebar filters that every page respects; they live in the URL so a view can be shared."""

from __future__ import annotations

import datetime as dt
import inspect
from pathlib import Path

import streamlit as st

from arlens import currencies as currencies_of_store
from ui.data import cached, query
from ui.navigation import PAGES

ALL = "All"
ALL_IN = "All currencies in"
RETURN_TO = "page"
DIMENSIONS = [("segment", "Segment"), ("country", "Country"), ("salesperson", "Salesperson")]


def _from_url(key: str) -> str | None:
    value = st.query_params.get(key)
    return value or None


def sidebar_filters() -> None:
    """As-of date, segment, country, salesperson and currency, kept in st.session_state.

    The currency defaults to the one with the most invoiced: sums never mix currencies.
    """
    latest = query("latest_activity_date")
    if latest is None:
        st.session_state["as_of_date"] = None
        st.session_state["filters"] = {}
        return
    try:
        initial = dt.date.fromisoformat(_from_url("as_of") or "") if _from_url("as_of") else latest
    except ValueError:
        initial = latest
    as_of = st.sidebar.date_input(
        "As of",
        value=initial,
        key="as_of",
        help="Balances are rebuilt for this date: payments dated later do not count.",
    )
    st.query_params["as_of"] = as_of.isoformat()

    values = query("filter_values")
    currencies = values.get("currency", [])
    main = query("main_currency")
    wanted = _from_url("currency")
    # Several currencies and a reporting currency: one total first, each currency a click away.
    reporting = cached(currencies_of_store.reporting_currency) if len(currencies) > 1 else None
    everything = f"{ALL_IN} {reporting}" if reporting else None
    options = [*([everything] if everything else []), *currencies]
    currency = None
    if options:  # no selectbox offering "None" when no document carries a currency
        currency = st.sidebar.selectbox(
            "Currency",
            options,
            index=options.index(wanted)
            if wanted in options
            else (0 if everything else options.index(main) if main in options else 0),
            key="currency",
            help="Amounts are never added across currencies without a stated conversion: "
            f"{everything or 'a reporting currency'} translates each at the closing rate on or "
            "before the as-of date.",
        )
    if currency and currency == everything:
        filters = {"reporting_currency": reporting}
    else:
        filters = {"currency": currency} if currency else {}
    if currency:
        st.query_params["currency"] = currency
    for key, label in DIMENSIONS:
        options = [ALL, *values.get(key, [])]
        wanted = _from_url(key)
        chosen = st.sidebar.selectbox(
            label, options, index=options.index(wanted) if wanted in options else 0, key=key
        )
        if chosen != ALL:
            filters[key] = chosen
            st.query_params[key] = chosen
        elif key in st.query_params:
            del st.query_params[key]
    st.session_state["as_of_date"] = as_of
    st.session_state["filters"] = filters
    if "reporting_currency" in filters:
        used = cached(currencies_of_store.rates_used, as_of=as_of, reporting=reporting)
        st.sidebar.caption(currencies_of_store.rates_sentence(used, reporting, as_of))
        missing = cached(currencies_of_store.untranslated, as_of=as_of, reporting=reporting)
        line = currencies_of_store.untranslated_sentence(missing, reporting, as_of)
        if line:
            st.warning(line, icon=":material/currency_exchange:")


def running_page() -> Path | None:
    """The pages/ file whose code is running (None: the frame's own code)."""
    frames = inspect.stack(0)  # (no source lines: this runs on every rerun of a page)
    return next((Path(f.filename) for f in frames if Path(f.filename).parent.name == "pages"), None)


def frame_ran() -> None:
    """On a fresh server whose first request names a sub-page (a shared link), Streamlit runs
    that pages/ script alone (its pages-directory fallback) until dashboard.py has called
    st.navigation once. Go through the entry script and come back here, query string kept."""
    if "as_of_date" in st.session_state:
        return
    page = running_page()
    params = dict(st.query_params.to_dict())
    if page is not None:
        params[RETURN_TO] = f"pages/{page.name}"
    st.switch_page("dashboard.py", query_params=params)


def as_of() -> dt.date:
    frame_ran()
    return st.session_state["as_of_date"]


def filters() -> dict:
    frame_ran()
    return dict(st.session_state["filters"])


def currency() -> str | None:
    """The currency the page's amounts are in: the one chosen, or the reporting currency."""
    frame_ran()
    chosen = st.session_state["filters"]
    return chosen.get("currency") or chosen.get("reporting_currency")


def reporting() -> str | None:
    """The reporting currency when the page shows every currency translated into it."""
    frame_ran()
    return st.session_state["filters"].get("reporting_currency")


def return_to_page() -> None:
    """The other half of frame_ran: now that st.navigation has run, open the page asked for.
    A link names it `pages/worklist.py`; a hand-edited one may say `worklist`, and one naming no
    page opens the first page (never a traceback)."""
    target = st.query_params.get(RETURN_TO)
    if target:
        del st.query_params[RETURN_TO]
        pages = {path: path for path, *_ in PAGES} | {Path(path).stem: path for path, *_ in PAGES}
        if target in pages:
            st.switch_page(pages[target], query_params=st.query_params.to_dict())
