"""The persona rules: parameters, the personas with their severity, strategy and credit action,
and how a cluster's centroid (or one customer's features) is named and described.

Pure Python: models/personas.py clusters and assigns; this module only says what a behaviour is
called and what to do about it. Nothing here imports scikit-learn, Streamlit or Plotly.
"""

from __future__ import annotations

import math
from collections.abc import Mapping

# -- Parameters ----------------------------------------------------------------------------------

LOOKBACK_DAYS = 365  # behaviour window: the last 12 months
GRACE_DAYS = 0  # an invoice is late when settled more than this many days after its due date
MIN_TENURE_DAYS = 180  # below: "New / thin history"
MIN_SETTLED_INVOICES = 6  # settled in the window; below: "New / thin history"
MIN_CUSTOMERS_TO_CLUSTER = 20  # fewer established customers: rules per customer, no clustering
K_VALUES = tuple(range(3, 8))
N_BOOTSTRAP = 20
UTILISATION_CAP = 3.0  # exposure ÷ limit is clipped here before scaling

# What the clustering sees: how a customer pays. Volume, size and tenure describe the relationship,
# not the payment behaviour; they are reported beside the personas but do not shape them.
DAY_FEATURES = ("mean_days_late", "sd_days_late", "trend_days_late", "days_since_last_payment")
RATE_FEATURES = ("late_share", "dispute_rate", "broken_promise_rate", "past_due_share")
CLUSTER_FEATURES = (*DAY_FEATURES, "credit_utilisation", *RATE_FEATURES)
PROFILE_FEATURES = (
    "mean_days_late",
    "sd_days_late",
    "late_share",
    "trend_days_late",
    "dispute_rate",
    "broken_promise_rate",
    "credit_utilisation",
    "past_due_share",
    "days_since_last_payment",
    "invoices_per_month",
    "average_invoice",
    "tenure_days",
    "settled_invoices",
)

# -- Personas: names, severity (for "worse"), strategy and credit action --------------------------

PROMPT = "Prompt payers"
ON_TIME = "Mostly on time — occasional slips"
STRETCHER = "Strong but slow — stretching terms"
DISORGANISED = "Disorganised — disputes and errors"
STRAINED = "Late and under strain"
DETERIORATING = "Deteriorating"
NEW = "New / thin history"

# Severity orders the personas from best to worst; a move to a higher severity is "worse".
# New / thin history has none: a customer leaving it is being assessed, not getting worse.
SEVERITY: dict[str, int | None] = {
    PROMPT: 0,
    ON_TIME: 1,
    STRETCHER: 2,
    DISORGANISED: 3,
    STRAINED: 4,
    DETERIORATING: 5,
    NEW: None,
}
PLAYBOOK: dict[str, tuple[str, str]] = {  # persona: (collection strategy, credit action)
    PROMPT: (
        "Light touch: automated statement and a courtesy reminder on the due date; no calls.",
        "Keep or raise the limit at review; fast-track orders.",
    ),
    ON_TIME: (
        "Automated reminder 5 days before due, dunning email at 7 days past due, call at 21.",
        "Keep the limit; review annually.",
    ),
    STRETCHER: (
        "Firm reminders before the due date, call on day 1 past due, escalate to their treasury; "
        "enforce terms and late fees; offer an early-payment discount.",
        "Hold orders once past due beyond terms; no limit increase until they pay to terms.",
    ),
    DISORGANISED: (
        "Fix invoice accuracy first (PO number, pricing, quantities); one named contact on both "
        "sides; statement and copy invoices monthly; resolve disputes within 10 days.",
        "Keep the limit; require a PO on every order; clear disputes and unapplied cash before "
        "any hold.",
    ),
    STRAINED: (
        "Call early and often; agree dated payment plans; escalate at 30 days past due.",
        "Reduce the limit to current exposure; hold orders past 30 days; refresh the credit file.",
    ),
    DETERIORATING: (
        "Escalate now: weekly calls, a senior contact, a payment plan with dated instalments; "
        "stop new exposure.",
        "Reduce the limit and ask for security (deposit, guarantee, letter of credit) or cash in "
        "advance; hold orders; refresh the credit report.",
    ),
    NEW: (
        "Welcome call: confirm the billing contact and PO process; reminder before the first due "
        "dates.",
        "Conservative starting limit; review after 6 months of payments.",
    ),
}

# Naming thresholds, in the features' own units (see name_cluster).
DETERIORATING_TREND = 3.0  # days late rising by ≥ 3 days a month
DISORGANISED_DISPUTES = 0.12  # ≥ 12% of invoices disputed
PROMPT_DAYS = 5.0  # pays ≤ 5 days after due on average
ON_TIME_DAYS = 10.0
STEADY_SPREAD = 15.0  # a stretcher pays late but steadily: spread of days late ≤ 15
KEEPS_PROMISES = 0.25  # broken-promise rate below
HAS_ROOM = 0.8  # credit utilisation below


# -- 2. Names from centroids ---------------------------------------------------------------------


def _number(centroid: Mapping, key: str, default: float = math.nan) -> float:
    value = centroid.get(key, default)
    try:
        value = float(value)
    except (TypeError, ValueError):
        return default
    return default if math.isnan(value) else value


def describe(centroid: Mapping) -> str:
    """The behaviour in one line of numbers."""
    mean = _number(centroid, "mean_days_late")
    parts = []
    if not math.isnan(mean):
        days = round(abs(mean))
        when = f"{days} day{'' if days == 1 else 's'} {'after' if mean >= 0 else 'before'} due"
        parts.append(f"pays {when} (±{_number(centroid, 'sd_days_late', 0):.0f})")
        parts.append(f"{_number(centroid, 'late_share', 0):.0%} of invoices late")
    trend = _number(centroid, "trend_days_late")
    if not math.isnan(trend):
        parts.append(f"lateness {round(trend, 1) + 0.0:+.1f} days a month")  # no "-0.0"
    parts.append(f"{_number(centroid, 'dispute_rate', 0):.0%} disputed")
    parts.append(f"{_number(centroid, 'broken_promise_rate', 0):.0%} of promises broken")
    parts.append(f"{_number(centroid, 'past_due_share', 0):.0%} of AR past due")
    utilisation = _number(centroid, "credit_utilisation")
    if not math.isnan(utilisation):
        parts.append(f"{utilisation:.0%} of limit used")
    tenure = _number(centroid, "tenure_days")
    if not math.isnan(tenure) and tenure < MIN_TENURE_DAYS:
        parts.append(f"{tenure:.0f} days as a customer")
    text = "; ".join(parts)
    return text[:1].upper() + text[1:] + "."


def name_cluster(centroid: Mapping) -> tuple[str, str, str, str]:
    """(name, description, strategy, credit_action) for a centroid in original units.

    The rules, first match wins:
    1. tenure < MIN_TENURE_DAYS or fewer than MIN_SETTLED_INVOICES settled → New / thin history;
    2. days late rising by ≥ DETERIORATING_TREND a month → Deteriorating;
    3. ≥ DISORGANISED_DISPUTES of invoices disputed → Disorganised — disputes and errors;
    4. mean days late ≤ PROMPT_DAYS → Prompt payers; ≤ ON_TIME_DAYS → Mostly on time;
    5. late, but steadily (spread ≤ STEADY_SPREAD), keeping promises (broken < KEEPS_PROMISES)
       and with room under the limit (utilisation < HAS_ROOM or no limit) → Strong but slow —
       stretching terms;
    6. otherwise → Late and under strain.
    Missing values never trigger a rule.
    """
    tenure = _number(centroid, "tenure_days")
    settled = _number(centroid, "settled_invoices")
    mean = _number(centroid, "mean_days_late")
    if tenure < MIN_TENURE_DAYS or settled < MIN_SETTLED_INVOICES or math.isnan(mean):
        name = NEW
    elif _number(centroid, "trend_days_late", 0) >= DETERIORATING_TREND:
        name = DETERIORATING
    elif _number(centroid, "dispute_rate", 0) >= DISORGANISED_DISPUTES:
        name = DISORGANISED
    elif mean <= PROMPT_DAYS:
        name = PROMPT
    elif mean <= ON_TIME_DAYS:
        name = ON_TIME
    elif (
        _number(centroid, "sd_days_late", 0) <= STEADY_SPREAD
        and _number(centroid, "broken_promise_rate", 0) < KEEPS_PROMISES
        and _number(centroid, "credit_utilisation", 0) < HAS_ROOM
    ):
        name = STRETCHER
    else:
        name = STRAINED
    strategy, credit_action = PLAYBOOK[name]
    return name, describe(centroid), strategy, credit_action


def is_worse(from_persona: str, to_persona: str) -> bool:
    """A move up the severity order (New / thin history is outside the order)."""
    before, after = SEVERITY.get(from_persona), SEVERITY.get(to_persona)
    return before is not None and after is not None and after > before


# -- How a reader sees the features ----------------------------------------------------------------

# feature: (label, unit) for pages and cards: never a column name, never a raw float.
FEATURE_LABELS: dict[str, tuple[str, str]] = {
    "mean_days_late": ("Mean days late", "days"),
    "sd_days_late": ("Spread of days late", "days"),
    "late_share": ("Share of invoices paid late", "share"),
    "trend_days_late": ("Trend of days late", "days_per_month"),
    "dispute_rate": ("Share of invoices disputed", "share"),
    "broken_promise_rate": ("Share of promises broken", "share"),
    "credit_utilisation": ("Credit limit used", "share"),
    "past_due_share": ("Share of AR past due", "share"),
    "days_since_last_payment": ("Days since the last payment", "whole_days"),
    "invoices_per_month": ("Invoices per month", "number"),
    "average_invoice": ("Average invoice", "money"),
    "tenure_days": ("Days as a customer", "whole_days"),
    "settled_invoices": ("Invoices settled in the last 12 months", "count"),
}


def feature_value(feature: str, value, currency: str | None = None) -> str:
    """A feature's value as a reader reads it: "48.8 days", "27%", "+1.2 days a month",
    "USD 1,234.50"; "–" when unknown (no limit, no settled invoice yet)."""
    try:
        number = float(value)
    except (TypeError, ValueError):
        return "–"
    if math.isnan(number):
        return "–"
    unit = FEATURE_LABELS.get(feature, (feature, "number"))[1]
    if unit == "days":
        return f"{round(number, 1) + 0.0:,.1f} days"
    if unit == "days_per_month":
        return f"{round(number, 1) + 0.0:+,.1f} days a month"
    if unit == "share":
        return f"{number:.0%}"
    if unit in ("whole_days", "count"):
        return f"{number:,.0f}" + (" days" if unit == "whole_days" else "")
    if unit == "money":
        return f"{currency + ' ' if currency else ''}{number:,.2f}"
    return f"{number:,.1f}"
