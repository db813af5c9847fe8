"""Suggested credit limits: what each customer's recent buying and paying says its limit should be,
beside the limit it has, with the reasoning in words (README, "Suggested credit limits").

The inputs per customer come from one query (`arlens/sql/limits.sql`, `limit_inputs`); the rule
(`LimitRule`, every number a parameter) and the arithmetic, in exact decimals, are here:

    monthly sales × (terms + usual days late) / 30 × risk factor, rounded up to the step

Nothing here imports Streamlit; the page (pages/limits.py) and `arlens limits` call
`suggested_limits`.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import ROUND_CEILING, ROUND_HALF_UP, Decimal

import pandas as pd

from arlens import metrics, queries
from arlens.formats import is_missing, money
from arlens.store import Store

BASES = ("peak", "average")
COLUMNS = ["customer_id", "name", "currency", "credit_limit", "suggested_limit", "difference",
           "relative_difference", "stale", "reviewed_on", "monthly_sales", "peak_month",
           "terms_days", "days_late", "risk_score", "persona", "factor", "reasoning"]  # fmt: skip


@dataclass(frozen=True)
class LimitRule:
    """How a suggested limit is worked out (README, "Suggested credit limits"); every number a
    parameter, the defaults below.

    Monthly credit sales over the `months` calendar months ending with the as-of month: the
    `basis` is the peak month (default: a limit has to carry the customer through its busiest
    month, or its orders are held every season) or the average month (total ÷ `months`, for a
    more cautious figure). × (payment terms + the median days late of the invoices settled in
    the window and of those open and past due at the as-of date, 0 when early, at most
    `max_days_late`) / 30: the exposure such a month leaves
    open while it is paid. × the risk factor: the lower of the risk score's band factor
    (`risk_bands`: a score at or above each threshold takes its factor) and the persona's
    (`persona_factors`); the lower only, since both describe the same lateness. Rounded up to the
    next `step`. A persona in `no_increase` is not suggested more than its current limit. A limit
    is stale when its review is missing or more than `stale_months` months old.
    """

    months: int = 12
    basis: str = "peak"
    step: float = 1_000
    max_days_late: int = 60
    stale_months: int = 24
    risk_bands: tuple[tuple[float, float, str], ...] = ((0.6, 0.75, "high"), (0.4, 0.9, "elevated"))  # fmt: skip
    persona_factors: tuple[tuple[str, float], ...] = (
        ("Deteriorating", 0.5),
        ("Late and under strain", 0.75),
        ("New / thin history", 0.75),
    )
    no_increase: tuple[str, ...] = (
        "Strong but slow — stretching terms",
        "Late and under strain",
        "Deteriorating",
    )

    def __post_init__(self):
        if self.basis not in BASES:
            raise ValueError(f"basis is one of {', '.join(BASES)}, not {self.basis!r}")
        if int(self.months) < 1 or float(self.step) <= 0 or int(self.max_days_late) < 0:
            raise ValueError("months is 1 or more, step above 0 and max_days_late 0 or more")

    def params(self) -> dict:
        return {"months": int(self.months), "stale_months": int(self.stale_months)}

    def describe(self, currency: str | None = None) -> str:
        """The rule in one sentence, for the page's caption and the command line's JSON."""
        month = "peak month" if self.basis == "peak" else "average month"
        bands = ", ".join(
            f"{name} (≥ {low:g}) × {factor:g}" for low, factor, name in self.risk_bands
        )
        personas = ", ".join(f"{name} × {factor:g}" for name, factor in self.persona_factors)
        return (
            f"Credit sales in the {month} of the last {self.months} months × (payment terms + "
            f"median days late, at most {self.max_days_late}) / 30, × the lower of the risk "
            f"score's factor ({bands}) and the persona's ({personas}), rounded up to the next "
            f"{money(Decimal(str(self.step)), currency)}; no increase for "
            f"{', '.join(self.no_increase)}. Stale: not reviewed in {self.stale_months} months."
        )


def suggested_limits(
    store: Store,
    as_of: dt.date,
    filters: dict | None = None,
    risk_scores: dict[str, float] | None = None,
    rule: LimitRule | None = None,
) -> pd.DataFrame:
    """One row per customer with a limit or a credit sale in the window: current and suggested
    limit, difference (suggested − current), relative difference (|difference| ÷ the larger of
    the two; 1 without a current limit), stale flag, the inputs and the reasoning in words.
    Customers whose suggestion differs most come first; those without one (no sales in the
    window) last, with the reason. `risk_scores` ({customer_id: score}, the stored scores of
    `arlens score`) and the personas of `arlens personas` are optional."""
    rule = rule or LimitRule()
    params = metrics._params(filters, as_of=as_of, **rule.params())
    params["reporting"] = None  # a limit is in the customer's own currency, never translated
    query = queries.load("limits")["limit_inputs"]
    inputs = store.df(query.sql, {k: v for k, v in params.items() if k in query.parameters})
    personas = metrics.customer_personas(store, as_of)
    persona_of = dict(zip(personas["customer_id"], personas["persona"], strict=True))
    scores = risk_scores or {}
    rows = [
        _suggest(
            r,
            rule,
            as_of,
            scores.get(r.customer_id),
            persona_of.get(r.customer_id),
            bool(scores),
            bool(persona_of),
        )  # fmt: skip
        for r in inputs.itertuples()
    ]
    frame = pd.DataFrame(rows, columns=COLUMNS)
    for column in ("credit_limit", "suggested_limit", "difference", "monthly_sales"):
        frame[column] = pd.to_numeric(frame[column].astype(object), errors="coerce").astype(float)
    frame["relative_difference"] = frame["relative_difference"].astype(float)
    frame["stale"] = frame["stale"].astype(bool)
    order = frame.assign(
        _missing=frame["suggested_limit"].isna(), _abs=frame["difference"].abs()
    ).sort_values(
        ["_missing", "relative_difference", "_abs", "customer_id"],
        ascending=[True, False, False, True],
        na_position="last",
    )
    return frame.loc[order.index].reset_index(drop=True)


def _number(value) -> Decimal | None:
    return None if is_missing(value) else Decimal(str(value))


def _days(value) -> int:
    """A median of whole days (x.5 for an even count) to whole days, half up."""
    return int(Decimal(str(value)).quantize(Decimal(1), rounding=ROUND_HALF_UP))


def _factor(value: float) -> Decimal:
    return Decimal(str(value))


def _suggest(row, rule: LimitRule, as_of: dt.date, score, persona, any_scores: bool,
             any_personas: bool) -> dict:  # fmt: skip
    """One customer's suggestion and the reasoning that gives it."""
    currency = row.currency
    current = _number(row.credit_limit)
    out = {
        "customer_id": row.customer_id, "name": row.name, "currency": currency,
        "credit_limit": current, "suggested_limit": None, "difference": None,
        "relative_difference": None, "stale": bool(row.stale),
        "reviewed_on": None if is_missing(row.reviewed_on) else pd.Timestamp(row.reviewed_on).date(),
        "monthly_sales": None, "peak_month": None, "terms_days": None, "days_late": None,
        "risk_score": None if score is None else float(score), "persona": persona,
        "factor": None, "reasoning": "",
    }  # fmt: skip
    if is_missing(row.peak_sales) or Decimal(str(row.peak_sales)) <= 0:
        out["reasoning"] = (
            f"No credit sales in {currency} in the {rule.months} months to {as_of:%d %b %Y}: no "
            "suggestion (is the limit still needed?)"
        )
        return out

    # Monthly sales on the rule's basis.
    peak_month = pd.Timestamp(row.peak_month).date()
    if rule.basis == "peak":
        sales = Decimal(str(row.peak_sales))
        sales_words = f"Peak month ({peak_month:%b %Y}) {money(sales, currency)}"
    else:
        total = Decimal(str(row.window_sales))
        sales = total / rule.months
        sales_words = (
            f"Average month {money(sales, currency)} ({money(total, currency)} / {rule.months})"
        )

    # Terms and usual days late.
    if not is_missing(row.payment_terms_days):
        terms, terms_words = int(row.payment_terms_days), f"{int(row.payment_terms_days)} terms"
    else:
        terms = max(_days(row.terms_from_dates), 0) if not is_missing(row.terms_from_dates) else 0
        terms_words = f"{terms} terms (from due dates)"
    if is_missing(row.median_days_late):
        late, late_words = 0, "0 days late (nothing settled or past due in the window)"
    else:
        median = _days(row.median_days_late)
        late = min(max(median, 0), int(rule.max_days_late))
        late_words = f"{late} days late"
        if median < 0:
            late_words += f" (median {median}: early)"
        elif median > late:
            late_words += f" (capped; median {median})"
    base = sales * (terms + late) / 30
    steps = [f"{sales_words} × ({terms_words} + {late_words}) / 30 = {money(base, currency)}"]

    # Risk: the lower of the score's band factor and the persona's.
    factors: list[tuple[Decimal, str]] = []
    if score is not None:
        band = next(((f, name) for low, f, name in rule.risk_bands if score >= low), None)
        if band:
            factors.append((_factor(band[0]), f"{band[1]} risk score {score:.2f}: × {band[0]:g}"))
        else:
            steps.append(f"risk score {score:.2f}: no change")
    elif any_scores:
        steps.append("no risk score")
    persona_factor = dict(rule.persona_factors).get(persona) if persona else None
    if persona_factor is not None:
        factors.append((_factor(persona_factor), f"persona {persona}: × {persona_factor:g}"))
    elif any_personas and not persona:
        steps.append("no persona")
    factor = min((f for f, _ in factors), default=Decimal(1))
    adjusted = base * factor
    if len(factors) == 2:
        steps.append(f"{factors[0][1]}; {factors[1][1]}; the lower applies = {money(adjusted, currency)}")  # fmt: skip
    elif factors:
        steps.append(f"{factors[0][1]} = {money(adjusted, currency)}")
    step = Decimal(str(rule.step))
    suggested = (adjusted / step).to_integral_value(rounding=ROUND_CEILING) * step
    steps.append(f"rounded up to {money(suggested, currency)}")
    if persona in rule.no_increase and current is not None and suggested > current:
        suggested = current
        steps.append(f"persona {persona}: no increase, kept at {money(current, currency)}")
    if row.other_currency_documents:
        steps.append(f"{row.other_currency_documents:,} documents in other currencies left out")

    difference = suggested - current if current is not None else None
    larger = max(suggested, current) if current is not None else suggested
    relative = abs(difference) / larger if difference is not None and larger else Decimal(1)
    out |= {
        "suggested_limit": suggested, "difference": difference,
        "relative_difference": float(relative) if current is not None else 1.0,
        "monthly_sales": sales.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP),
        "peak_month": peak_month, "terms_days": terms, "days_late": late,
        "factor": float(factor), "reasoning": "; ".join(steps),
    }  # fmt: skip
    return out
