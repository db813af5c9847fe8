"""P(late), the expected payment date and the reasons for the documents open at a date, from a
trained scorer and its card: what `arlens score` writes, and what training's back-test of the
cash forecast replays at past dates. Nothing is written here.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd

from models.risk_data import DAYS_CAP, _sql, features
from models.risk_pipeline import FEATURES, explain

AT_RISK = "amount_at_risk_of_late_payment"  # open amount × P(late): not an expected credit loss


def used_features(card: dict) -> list[str]:
    """The features the shipped scorer was trained on, in FEATURES order."""
    used = card["features_used"]
    return used["numeric"] + used["categorical"]


def days_late_by(predictor: str, X: pd.DataFrame, days_model, fallback_days: float) -> np.ndarray:
    """Days late expected by one payment-date predictor: "model" (the days-late model) or
    "median" (the customer's median days late so far, `fallback_days` for a new customer);
    clipped as the payment dates are. Training checks both with this, scoring uses the chosen."""
    if predictor == "model" and days_model is not None:
        days = days_model.predict(X[FEATURES])
    else:
        days = X["days_late_median"].fillna(fallback_days).to_numpy()
    return np.clip(np.asarray(days, dtype=float), -60, DAYS_CAP)


def expected_days_late(models: dict, card: dict, X: pd.DataFrame, predictor: str | None = None) -> np.ndarray:  # fmt: skip
    """Days late expected for invoices not yet late, by the predictor validation chose (or
    `predictor`)."""
    if not len(X):
        return np.array([])
    predictor = predictor or card["payment_dates"]["predictor"]
    fallback = card["payment_dates"]["fallback_days"]
    return days_late_by(predictor, X, models.get("days_late"), fallback)


def score_open_items(
    store, as_of: dt.date, models: dict, card: dict, with_reasons: bool = True
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(open documents at `as_of` with P(late), expected payment date, amount at risk and
    reasons; each customer's next typical invoice with its P(late), the customer's risk score)."""
    invoices, nxt, _ = _score(store, as_of, models, card, with_reasons)
    return invoices, nxt


def payment_dates_both_ways(store, as_of: dt.date, models: dict, card: dict) -> dict[str, pd.DataFrame]:  # fmt: skip
    """{predictor: the open documents at `as_of` with expected payment dates by it}: the
    days-late model (when there is one) and the customer's median days late, for the back-test
    of the cash forecast."""
    return _score(store, as_of, models, card, False, both=True)[2]


def _score(store, as_of, models, card, with_reasons, both=False):
    grace = int(card["grace_days"])
    open_docs = store.df(_sql("open_documents"), {"as_of": as_of})
    frame = features(store, scope="score", as_of=as_of, grace_days=grace)
    scorer, invoice = models["late"], (frame["target"] == "invoice").to_numpy()
    p = scorer.predict_proba(frame[FEATURES])[:, 1] if len(frame) else np.array([])
    scored = frame[invoice].assign(p_model=p[invoice])
    scored["expected_days_late"] = expected_days_late(models, card, scored)
    if with_reasons and len(scored):
        reasons = explain(
            scorer, scored[FEATURES], scored["p_model"].to_numpy(), card["explanation_reference"],
            used_features(card),
        )  # fmt: skip
        scored["reasons"], scored["explanation"] = reasons
    else:
        scored["reasons"], scored["explanation"] = None, None
    invoices = _invoice_scores(open_docs, scored, card, as_of, grace)
    ways = {}
    for predictor in ("model", "median") if both else ():
        if predictor == "model" and "days_late" not in models:
            continue
        scored["expected_days_late"] = expected_days_late(models, card, scored, predictor)
        ways[predictor] = _invoice_scores(open_docs, scored, card, as_of, grace)
    return invoices, frame[~invoice].assign(risk_score=p[~invoice]), ways


def _invoice_scores(open_docs: pd.DataFrame, scored: pd.DataFrame, card: dict, as_of: dt.date,
                    grace: int) -> pd.DataFrame:  # fmt: skip
    """One row per open document: the scorer's view, or certainty when it is already late."""
    columns = ["invoice_id", "p_model", "expected_days_late", "reasons", "explanation"]
    frame = open_docs.merge(scored[columns], on="invoice_id", how="left")
    frame["already_late"] = frame["days_past_due"] > grace
    unscored = ~frame["already_late"] & frame["p_model"].isna()  # e.g. a zero-amount edge case
    frame.loc[unscored, "p_model"] = card["base_rate_train"]
    frame["p_late"] = np.where(frame["already_late"], 1.0, frame["p_model"])
    # Already late: the days it is past due plus the mean further wait of invoices paid that late.
    residual = np.asarray(card["residual_days"])
    late_by = frame["days_past_due"].clip(lower=0).to_numpy()
    waiting = late_by + residual[np.minimum(late_by, len(residual) - 1)]
    days = np.where(frame["already_late"], waiting, frame["expected_days_late"].fillna(0))
    due = pd.to_datetime(frame["due_date"])
    expected = due + pd.to_timedelta(np.round(days), unit="D")
    expected = expected.where(expected > pd.Timestamp(as_of), pd.Timestamp(as_of) + pd.Timedelta(days=1))  # fmt: skip
    doubtful = frame["already_late"] & (late_by >= card["days_late_cap"])
    frame["expected_days_late"] = np.where(doubtful, np.nan, days)
    frame["expected_payment_date"] = expected.where(~doubtful).dt.date
    frame[AT_RISK] = frame["open_amount"].astype(float) * frame["p_late"]
    return frame
