"""Credit review: exposure (open AR + open orders) against the limit in force, customer groups,
hold candidates with their reasons in words, and the orders that would take a customer over its
limit. The SQL is `arlens/sql/credit.sql`; README "Credit review" states the rules.

`arlens.metrics` re-exports the public names (`metrics.credit_review`, `metrics.HoldRule`), so the
pages, the command line and the tests call them as before.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import pandas as pd

from arlens import queries
from arlens.metrics import _count, _params, _percent_of, _whole_percent, money
from arlens.store import Store

REPORTING_FILTER = "reporting_currency"  # the sidebar's reporting view, when it offers one


@dataclass(frozen=True)
class HoldRule:
    """When to hold a customer's orders (README, "Credit review"); every threshold a parameter.

    A customer is a hold candidate when the exposure of its pool (itself and the customers its
    limit covers) is above `utilisation` × the limit, or when the amount more than `days` days
    past due (counted after the store's grace days) is at least `min_amount` (in the customer's
    currency) and at least `share` of its exposure, or half that share when it broke
    `broken_promises` or more promises in the last 90 days. The defaults flag 14.5% of the
    sample's customers at its newest date (DESIGN.md §4's "any invoice over 60 days" flagged 57%).
    """

    days: int = 90
    share: float = 0.5
    min_amount: float = 5_000
    broken_promises: int = 3
    utilisation: float = 1.0

    def params(self) -> dict:
        return {
            "hold_days": int(self.days),
            "hold_share": float(self.share),
            "hold_min_amount": float(self.min_amount),
            "hold_broken_promises": int(self.broken_promises),
            "hold_utilisation": float(self.utilisation),
        }

    def describe(self, currency: str | None = None, grace_days: int = 0) -> str:
        """The rule in one sentence, e.g. for the page's caption and the CLI's help."""
        return (
            f"Hold when exposure is above {_whole_percent(self.utilisation)} of the limit, or when "
            f"at least {money(self.min_amount, currency)} and {_whole_percent(self.share)} of the "
            f"exposure is more than {self.days} days past due{_after_grace(grace_days)} "
            f"({_whole_percent(self.share / 2)} after {_count(self.broken_promises, 'broken promise')}"
            " in 90 days)."
        )


def _after_grace(grace_days: int) -> str:
    """ " after 5 grace days" (nothing without grace days)."""
    grace_days = int(grace_days or 0)
    return f" after {_count(grace_days, 'grace day')}" if grace_days else ""


def credit_settings(store: Store) -> dict:
    """The store settings the credit review reads: grace days and the reporting currency."""
    return {"grace_days": store.grace_days(), "reporting_currency": store.reporting_currency()}


def _ensure_macros(store: Store) -> None:
    """credit.sql's building blocks, created once per connection (TEMP: fine when read-only)."""
    store.add_macros(queries.sql("credit", "credit_macros"))


def _credit_params(
    store: Store,
    as_of: dt.date,
    filters: dict | None,
    proposed_limits: dict[str, float] | None,
    rule: HoldRule | None,
    grace_days: int | None,
    reporting: str | None,
) -> dict:
    filters = dict(filters or {})
    reporting = reporting or filters.pop(REPORTING_FILTER, None) or None
    filters.pop(REPORTING_FILTER, None)
    proposed_limits = proposed_limits or {}
    return _params(
        filters,
        as_of=as_of,
        reporting=reporting,
        grace_days=store.grace_days() if grace_days is None else int(grace_days),
        limit_customers=[str(k) for k in proposed_limits],
        limit_values=[float(v) for v in proposed_limits.values()],
        group=None,
        **(rule or HoldRule()).params(),
    )


def _run(store: Store, name: str, params: dict) -> pd.DataFrame:
    """A credit.sql query with its own parameters (it translates currencies itself: the generic
    reporting-currency rewrite of arlens.metrics does not apply to it)."""
    _ensure_macros(store)
    query = queries.load("credit")[name]
    return store.df(query.sql, {k: v for k, v in params.items() if k in query.parameters})


def credit_review(
    store: Store,
    as_of: dt.date,
    filters: dict | None = None,
    proposed_limits: dict[str, float] | None = None,
    rule: HoldRule | None = None,
    grace_days: int | None = None,
    reporting: str | None = None,
    group: str | None = None,
) -> pd.DataFrame:
    """Per customer: open AR, open orders, exposure, the limit it is checked against (its own or
    a parent's, in force at `as_of`), utilisation of that limit's pool, over limit, stale review,
    no limit, exposure at risk, hold candidate and its reasons in words; hold candidates first,
    by exposure at risk.

    `proposed_limits` ({customer_id: limit}) answers the what-if with the same rules; `rule` sets
    the hold thresholds (default `HoldRule()`); `grace_days` defaults to the store's setting;
    `reporting` (or the filter `reporting_currency`) translates every amount into that currency at
    the closing rate on or before `as_of`; `group` lists one group's members, whatever the
    filters."""
    rule = rule or HoldRule()
    params = _credit_params(store, as_of, filters, proposed_limits, rule, grace_days, reporting)
    params["group"] = group
    frame = _run(store, "credit_review", params)
    names = dict(zip(frame["customer_id"], frame["name"], strict=True))
    frame["hold_reasons"] = [_hold_reasons(r, rule, names) for r in frame.itertuples()]
    return frame


def credit_groups(
    store: Store,
    as_of: dt.date,
    filters: dict | None = None,
    rule: HoldRule | None = None,
    grace_days: int | None = None,
    reporting: str | None = None,
) -> pd.DataFrame:
    """One row per group (a top parent and everyone below it) with a member passing the filters:
    members, the group's exposure, the top's limit against its pool's exposure, utilisation, over
    limit, members with their own limit, members on hold; groups on hold first."""
    params = _credit_params(store, as_of, filters, None, rule, grace_days, reporting)
    frame = _run(store, "credit_groups", params)
    frame["hold_summary"] = [_group_summary(r) for r in frame.itertuples()]
    return frame


def order_warnings(
    store: Store,
    as_of: dt.date,
    filters: dict | None = None,
    proposed_limits: dict[str, float] | None = None,
    reporting: str | None = None,
) -> pd.DataFrame:
    """The open orders that take a customer over its limit (exposure before the order + the
    order > the limit), in order_date order: order, customer, amount, exposure before it, the
    limit and by how much it goes over."""
    params = _credit_params(store, as_of, filters, proposed_limits, None, 0, reporting)
    return _run(store, "order_warnings", params)


def untranslated_items(
    store: Store, as_of: dt.date, reporting: str, filters: dict | None = None
) -> pd.DataFrame:
    """With a reporting currency: the open items, orders and limits left out of the credit
    review for want of a closing rate (each in its own currency)."""
    params = _credit_params(store, as_of, filters, None, None, 0, reporting)
    return _run(store, "untranslated_items", params)


def _hold_reasons(row, rule: HoldRule, names: dict | None = None) -> str:
    """Why a hold candidate is one, in words: "exposure 539% of the limit; $10,245 over 90 days
    past due (100% of exposure); 3 broken promises in 90 days". Empty when it is not one."""
    if not row.hold:
        return ""
    reasons = []
    if row.hold_for_limit:
        others = int(row.pool_members) - 1
        if others and row.limit_holder == row.customer_id:
            whose, suffix = "pool exposure", f" (with {_count(others, 'customer')} it covers)"
        elif others:
            holder = (names or {}).get(row.limit_holder, row.limit_holder)
            whose, suffix = f"{holder}'s pool", ""
        else:
            whose, suffix = "exposure", ""
        if float(row.credit_limit) == 0:
            amount = money(row.pool_exposure, row.currency)
            reasons.append(f"{whose} {amount} on a limit of 0{suffix}")
        else:
            share = _percent_of(row.pool_exposure, row.credit_limit)
            reasons.append(f"{whose} {share} of the limit{suffix}")
    if row.hold_for_lateness:
        reasons.append(
            f"{money(row.seriously_late, row.currency)} over {rule.days} days past due"
            f"{_after_grace(row.grace_days)} "
            f"({_percent_of(row.seriously_late, row.exposure)} of exposure)"
        )
    if row.broken_promises_90d >= rule.broken_promises:
        reasons.append(f"{_count(row.broken_promises_90d, 'broken promise')} in 90 days")
    return "; ".join(reasons)


def _group_summary(row) -> str:
    """A group's state in words: "limit exceeded (120%); 2 of 3 members on hold"."""
    parts = []
    if row.over_limit:
        parts.append(
            "over the group limit"
            if pd.isna(row.utilisation)
            else f"group exposure {_percent_of(row.pool_exposure, row.credit_limit)} of the limit"
        )
    if row.limits_exceeded > int(bool(row.over_limit)):
        extra = int(row.limits_exceeded) - int(bool(row.over_limit))
        parts.append(f"{_count(extra, 'member')} over {'its' if extra == 1 else 'their'} own limit")
    if row.members_on_hold:
        parts.append(f"{int(row.members_on_hold):,} of {int(row.members):,} members on hold")
    return "; ".join(parts) or "no hold"


# -- The page's sentences (pure text from the query results; the page only lays them out) ---------

GROUP_RULE = (
    "A customer with a parent_id belongs to its top parent's group (chains of any depth; a loop "
    "is one group). The top's limit covers it and every member without a limit of its own; a "
    "member with its own limit is checked against that limit, with the members below it that "
    "have none. Group exposure is every member's exposure."
)


def basis_sentence(
    review: pd.DataFrame, as_of: dt.date, grace_days: int, reporting: str | None
) -> str:
    """What exposure and past due mean on this page, and what data they need."""
    day = f"{as_of.day} {as_of:%b %Y}"
    parts = [
        f"Exposure = open AR + open orders (status open or shipped, dated on or before {day})."
    ]
    if not len(review) or not int(review["orders_counted"].sum()):
        parts.append(
            "No open orders on this date: the Open orders column shows 0; orders count once "
            "imported (`arlens import orders.csv --table orders`)."
        )
    if grace_days:
        parts.append(
            f"Grace days: {grace_days}. For holds an item is past due only when it is more than "
            f"{_count(grace_days, 'day')} past its due date, and the hold rule's days past due are "
            "counted after the grace days; aging stays on the due date."
        )
    else:
        parts.append("Grace days: 0 (for holds an item is past due the day after its due date).")
    others = int(
        review["open_in_other_currencies"].sum() + review["orders_in_other_currencies"].sum()
    )
    if others and not reporting:
        parts.append(
            f"{_count(others, 'open item')} in another currency than the limit's are not in the "
            "exposure (choose a reporting currency to translate them)."
        )
    if reporting:
        parts.append(
            f"All amounts and limits in {reporting} at the closing rate on or before {day}."
        )
    return " ".join(parts)


def checked_against(frame: pd.DataFrame) -> list[str]:
    """Whose limit each customer is checked against, in words: "own", a parent's name, "none"."""
    names = dict(zip(frame["customer_id"], frame["name"], strict=True))
    return [
        "none" if pd.isna(holder) else "own" if holder == cid else names.get(holder, holder)
        for cid, holder in zip(frame["customer_id"], frame["limit_holder"], strict=True)
    ]


def other_currency_members(groups: pd.DataFrame) -> str:
    n = int(groups["members_in_other_currencies"].sum())
    return (
        f"{_count(n, 'member')} measured in another currency than {'its' if n == 1 else 'their'} "
        "group's top: not in the group exposure (choose a reporting currency to add them)."
    )


def no_order_warnings(review: pd.DataFrame) -> str:
    if len(review) and int(review["orders_counted"].sum()):
        return "No open order takes a customer over its limit on this date."
    return "No open orders on this date: orders are checked against limits once imported."


def untranslated_sentence(frame: pd.DataFrame, reporting: str, as_of: dt.date) -> str:
    """ "Not in the EUR exposure: 1 invoice (CHF 1,000, customer M); …: no rate on or before …"."""
    words = {"invoice": "open item", "order": "open order", "limit": "credit limit"}
    parts = [
        f"{words.get(r.kind, r.kind)} {r.item_id} of {r.customer_id} "
        f"({money(r.amount, r.currency)})"
        for r in frame.itertuples()
    ]
    codes = ", ".join(sorted(set(frame["currency"])))
    return (
        f"Not in the {reporting} credit review: {'; '.join(parts)}: no {codes} rate on or before "
        f"{as_of.day} {as_of:%b %Y}."
    )
