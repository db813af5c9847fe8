"""The reporting currency: one total for a company that bills in several currencies.

Per-currency figures stay the default (sums never mix currencies); the reporting view translates
every amount at the closing rate on or before the as-of date (DESIGN §4). The translation itself
lives in SQL (the `*_in` macros in macros.sql); this module says which currency, which rates were
used and what could not be translated.
"""

from __future__ import annotations

import datetime as dt

import pandas as pd

from arlens import queries
from arlens.store import Store


def reporting_currency(store: Store) -> str | None:
    """The store's reporting currency, else its home currency once rates exist (None: no
    reporting view, e.g. a one-currency store with no rates)."""
    chosen = store.reporting_currency()
    if chosen:
        return chosen
    if store.value("SELECT count(*) FROM fx_rates"):
        return store.home_currency()
    return None


def rates_used(store: Store, as_of: dt.date, reporting: str) -> pd.DataFrame:
    """Each currency in use with its closing rate into `reporting` (rate NaN: none on or before
    `as_of`)."""
    return store.df(
        queries.sql("currencies", "rates_used"), {"as_of": as_of, "reporting": reporting}
    )


def untranslated(store: Store, as_of: dt.date, reporting: str) -> pd.DataFrame:
    """Open items per currency that the reporting view leaves out for want of a rate."""
    return store.df(
        queries.sql("currencies", "untranslated"), {"as_of": as_of, "reporting": reporting}
    )


def rates_sentence(used: pd.DataFrame, reporting: str, as_of: dt.date) -> str:
    """The rates a translated page used, e.g. "In USD at the closing rates on or before 31 Oct
    2026: 1 EUR = 1.1347 USD (30 Oct 2026); 1 GBP = 1.4353 USD (30 Oct 2026, through EUR)."."""
    parts = [
        f"1 {r.currency} = {r.rate:,.6g} {reporting} ({r.rate_date.day} {r.rate_date:%b %Y}"
        + (f", through {r.via}" if isinstance(r.via, str) else "")
        + ")"
        for r in used.itertuples()
        if r.currency != reporting and r.rate == r.rate
    ]
    head = f"In {reporting} at the closing rates on or before {as_of.day} {as_of:%b %Y}"
    return f"{head}: {'; '.join(parts)}." if parts else f"{head}."


def untranslated_sentence(frame: pd.DataFrame, reporting: str, as_of: dt.date) -> str | None:
    """One line naming what is not in the totals, e.g. "Not in the EUR totals: 3 open items in CHF
    (12,000.00 CHF): no CHF rate on or before 7 Dec 2026."."""
    if frame is None or frame.empty:
        return None
    parts = [
        f"{int(r.open_items):,} open item{'s' if r.open_items != 1 else ''} in {r.currency} "
        f"({r.open_amount:,.2f} {r.currency})"
        for r in frame.itertuples()
    ]
    codes = ", ".join(frame["currency"])
    return (
        f"Not in the {reporting} totals: {'; '.join(parts)}: no {codes} rate on or before "
        f"{as_of.day} {as_of:%b %Y} (import one with `arlens import rates.csv --table fx_rates`)."
    )


def translate(
    store: Store, frame: pd.DataFrame, as_of: dt.date, reporting: str, columns: list[str]
) -> pd.DataFrame:
    """Rows of a per-customer table (personas, scored invoices) with `columns` in `reporting`,
    each at its currency's closing rate rounded to the cent, as the SQL twins do; rows in a
    currency without a rate are dropped here (the page lists them from `untranslated`)."""
    if frame is None or frame.empty:
        return frame
    rates = rates_used(store, as_of, reporting).dropna(subset=["rate"])
    rate = frame["currency"].map(dict(zip(rates["currency"], rates["rate"], strict=True)))
    out = frame[rate.notna()].copy()
    for column in columns:
        out[column] = (out[column].astype(float) * rate[rate.notna()]).round(2)
    out["currency"] = reporting
    return out
