"""The stored risk scores, read back for the pages, the worklist and the overview.

`arlens score` (models/risk.py `score`) writes `invoice_scores` and `customer_scores`; these
functions read them. A view at as-of date D uses scores computed for D or before it, never later
ones: with none, they answer empty. Nothing here imports scikit-learn, Streamlit or Plotly.
"""

from __future__ import annotations

import datetime as dt

import pandas as pd

from arlens import queries
from arlens.store import Store

DOMAIN = "risk_model"


def _sql(name: str) -> str:
    return queries.sql(DOMAIN, name)


def _date(value) -> dt.date | None:
    if value is None or (not isinstance(value, dt.date) and pd.isna(value)):
        return None
    return pd.Timestamp(value).date()


def _outdated_scores(store: Store) -> bool:
    """Score tables written by an older AR Lens (no amount at risk of late payment column)."""
    return bool(store.value(_sql("outdated_scores")))


def has_scores(store: Store) -> bool:
    """Whether `arlens score` has written scores (in this version's tables) into this store."""
    return (
        bool(store.value(_sql("has_scores")))
        and not _outdated_scores(store)
        and bool(store.value(_sql("scored_customers")))
    )


def _scores_as_of(store: Store) -> dt.date | None:
    return _date(store.value(_sql("scores_as_of"))) if has_scores(store) else None


def _usable_at(store: Store, as_of: dt.date | None) -> bool:
    """Whether there are stored scores to show at `as_of`: scored on or before it (None: any)."""
    scored = _scores_as_of(store)
    return scored is not None and (as_of is None or scored <= _date(as_of))


def scores_info(store: Store) -> dict | None:
    """As-of date, model version, data version, staleness and time of the stored scores (None
    when there are none)."""
    if not has_scores(store):
        return None
    frame = store.df(_sql("scores_info"))
    info = frame.iloc[0].to_dict()
    info["as_of"] = _date(info["as_of"])
    info["current"] = info["data_version"] == store.data_version()
    return info


def customer_risk_scores(store: Store, as_of: dt.date | None = None) -> dict[str, float]:
    """{customer_id: risk score} from the last scoring, when it was scored on or before `as_of`
    (None: whenever); empty when there is none: the worklist priority, the bad-debt page."""
    if not _usable_at(store, as_of):
        return {}
    return {customer: float(value) for customer, value in store.rows(_sql("customer_risk_scores"))}


def expected_collections(
    store: Store,
    as_of: dt.date,
    weeks: int = 8,
    currency: str | None = None,
    reporting: str | None = None,
) -> pd.DataFrame:
    """Open amounts by the week (Monday) of their expected payment date, for `weeks` weeks from
    `as_of`, per currency; from the stored scores (an empty frame when there are none, or when
    they were scored after `as_of`: a view at a date never uses later knowledge)."""
    columns = ["week_start", "currency", "expected_amount", "invoices"]
    if not _usable_at(store, as_of):
        return pd.DataFrame(columns=columns)
    params = {"as_of": _date(as_of), "weeks": int(weeks), "currency": currency,
              "reporting": reporting}  # fmt: skip
    frame = store.df(_sql("expected_collections"), params)
    frame["week_start"] = pd.to_datetime(frame["week_start"]).dt.date
    return frame[columns]


def ranked_invoices(
    store: Store, currency: str | None = None, limit: int = 200, as_of: dt.date | None = None
) -> pd.DataFrame:
    """Scored open documents by amount at risk of late payment (open amount × P(late)), largest
    first; empty when nothing was scored on or before `as_of` (None: whenever)."""
    if not _usable_at(store, as_of):
        return pd.DataFrame()
    return store.df(_sql("ranked_invoices"), {"currency": currency, "limit": int(limit)})


def score_distribution(
    store: Store, currency: str | None = None, as_of: dt.date | None = None
) -> pd.DataFrame:
    """The model's P(late) over open documents not yet late, in 5-point bins; empty when nothing
    was scored on or before `as_of` (None: whenever)."""
    if not _usable_at(store, as_of):
        return pd.DataFrame(columns=["bin", "invoices", "open_amount", "p_from"])
    frame = store.df(_sql("score_distribution"), {"currency": currency})
    frame["p_from"] = frame["bin"] / 20
    return frame
