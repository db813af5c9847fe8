"""The credit manager's actions on the Credit limits page: order holds placed and released, a new
limit set (or asked for, when the policy wants a second credit manager), and the approvals
waiting (arlens.team.actions)."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import streamlit as st

from arlens.team import actions
from arlens.team.roles import AccessError
from ui.access import access, this_user
from ui.actions import record, widget_key
from ui.data import cached
from ui.format import money


def holds(review: pd.DataFrame, day: dt.date) -> None:
    """Holds in force, and a form to place or release one."""
    user = this_user()
    st.subheader("Order holds in force")
    held = cached(actions.holds_in_force)
    if held is None or held.empty:
        st.caption("No customer's orders are on hold.")
    else:
        shown = held.rename(columns={"name": "Customer", "customer_id": "Id", "held_since": "Since",
                                     "reason": "Why", "held_by": "By"})  # fmt: skip
        st.dataframe(shown, hide_index=True, key="holds_in_force",
                     column_config={"Since": st.column_config.DateColumn(format="D MMM YYYY")})  # fmt: skip
    if not user.may("hold"):
        return
    on_hold = set(held["customer_id"]) if held is not None else set()
    names = {r.customer_id: (r.name if r.name == r.customer_id else f"{r.name} · {r.customer_id}")
             for r in review.itertuples()}  # fmt: skip
    candidates = list(review.loc[review["hold"], "customer_id"]) + list(review["customer_id"])
    ordered = list(dict.fromkeys([*on_hold, *candidates]))  # held first, then the hold candidates
    form = "hold"
    with st.form(widget_key(form, "form"), border=True):
        st.markdown("**Place or release a hold**")
        left, mid = st.columns([2, 1])
        customer_id = left.selectbox("Customer", ordered, key=widget_key(form, "customer"),
                                     format_func=lambda c: names.get(c, c) + (" (on hold)" if c in on_hold else ""))  # fmt: skip
        when = mid.date_input("From", value=day, key=widget_key(form, "date"))
        reason = st.text_input("Why", key=widget_key(form, "reason"),
                               placeholder="e.g. 120 days past due, two broken promises")  # fmt: skip
        place, release, _ = st.columns([1, 1, 3])
        if place.form_submit_button("Hold orders", type="primary"):
            record(form, lambda store, key: actions.set_hold(
                store, user, customer_id, True, reason, day=when, key=key),
                f"{names.get(customer_id, customer_id)}'s orders are on hold.")  # fmt: skip
        if release.form_submit_button("Release the hold"):
            record(form, lambda store, key: actions.set_hold(
                store, user, customer_id, False, reason, day=when, key=key),
                f"{names.get(customer_id, customer_id)}'s hold is released.")  # fmt: skip


def set_limit(
    chosen: pd.Series, proposed: float | None, currency: str | None, day: dt.date
) -> None:
    """Under the what-if: make the proposed limit the customer's limit from `day`."""
    user = this_user()
    if not user.may("credit_limit") or proposed is None:
        return
    try:
        policy = access()
    except AccessError as error:
        st.error(
            f"The credit policy cannot be read: {error}. Ask an admin to fix the settings file."
        )
        return
    threshold = policy.limit_approval_above
    needs = threshold is not None and proposed > threshold
    form = f"limit_{chosen['customer_id']}"
    with st.form(widget_key(form, "form"), border=True):
        st.markdown(f"**Set {money(proposed, currency, 2)} as the limit from {day:%d %b %Y}**")
        if needs:
            st.caption(f"Above {money(float(threshold), currency)}: another credit manager approves "
                       "it before it applies (the settings' [credit] limit_approval_above).")  # fmt: skip
        reason = st.text_input("Why", key=widget_key(form, "reason"),
                               placeholder="e.g. annual review, new financial statements")  # fmt: skip
        if st.form_submit_button("Ask for approval" if needs else "Set the limit", type="primary"):
            record(form, lambda store, key: actions.request_limit(
                store, user, policy, chosen["customer_id"], proposed, reason, day=day, key=key),
                f"Limit of {money(proposed, currency, 2)} for {chosen['name']} "
                + ("sent for approval." if needs else "set."))  # fmt: skip


def approvals() -> None:
    """Limits waiting for a second credit manager: approve or decline each."""
    user = this_user()
    pending = cached(actions.pending_limits)
    if pending is None or pending.empty:
        return
    st.subheader("Limits waiting for approval")
    for row in pending.itertuples():
        with st.container(border=True):
            before = "no limit" if pd.isna(row.previous_limit) else f"{row.previous_limit:,.2f}"
            st.markdown(f"**{row.name}**: {before} → **{row.credit_limit:,.2f}** from "
                        f"{row.effective_from:%d %b %Y}, asked by {row.requested_by}: “{row.reason}”")  # fmt: skip
            if not user.may("approve_limit"):
                continue
            if row.requested_by == user.email:
                st.caption("You asked for it: another credit manager decides.")
                continue
            form = f"decide_{row.request_id}"
            yes, no, _ = st.columns([1, 1, 4])
            if yes.button("Approve", key=widget_key(form, "approve"), type="primary"):
                record(form, lambda store, key, r=row: actions.decide_limit(
                    store, user, r.request_id, True, key=key), f"Limit for {row.name} approved.")  # fmt: skip
            if no.button("Decline", key=widget_key(form, "decline")):
                record(form, lambda store, key, r=row: actions.decide_limit(
                    store, user, r.request_id, False, key=key), f"Limit for {row.name} declined.")  # fmt: skip
