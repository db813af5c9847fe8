"""The collector's panel under the call sheets: log a call or email, a promise to pay, a dispute
or a note against the customer (arlens.team.actions), and see what was logged before."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import streamlit as st

from arlens.team import actions
from ui.access import this_user
from ui.actions import record, show_done, widget_key
from ui.data import cached
from ui.format import money

KIND_WORDS = {"call": "Call", "email": "Email", "promise": "Promise to pay", "dispute": "Dispute",
              "note": "Note"}  # fmt: skip


def _history(customer_id: str) -> None:
    done = cached(actions.customer_activities, customer_id=customer_id, limit=5)
    if done is None or done.empty:
        st.caption("Nothing logged for this customer yet.")
        return
    lines = []
    for row in done.itertuples():
        what = KIND_WORDS.get(row.kind, str(row.kind).capitalize())
        parts = [f"{row.activity_date:%d %b %Y}", what]
        if isinstance(row.outcome, str):
            parts.append(row.outcome)
        if pd.notna(row.promised_date):
            amount = f"{row.promised_amount:,.2f} " if pd.notna(row.promised_amount) else ""
            parts.append(f"{amount}by {row.promised_date:%d %b %Y}")
        if isinstance(row.invoice_id, str):
            parts.append(f"invoice {row.invoice_id}")
        if isinstance(row.note, str):
            parts.append(f"“{row.note}”")
        if isinstance(row.created_by, str):
            parts.append(f"by {row.created_by}")
        lines.append("- " + " · ".join(parts))
    st.markdown("\n".join(lines))


def panel(work: pd.DataFrame, day: dt.date, chosen: int) -> None:
    """The forms for the customer picked in the worklist (the selected row, else the first)."""
    user = this_user()
    st.subheader("Log what the customer said")
    show_done()
    if not user.may("call"):
        st.caption(f"{user.role_names().capitalize()}: collectors log calls, promises and disputes "
                   "here.")  # fmt: skip
        return
    labels = [f"{r.name} · {r.customer_id}" if r.name != r.customer_id else r.name
              for r in work.itertuples()]  # fmt: skip
    index = st.selectbox("Customer", range(len(work)), index=chosen, format_func=labels.__getitem__,
                         key="action_customer")  # fmt: skip
    row = work.iloc[index]
    customer_id, currency = row["customer_id"], row["currency"]
    invoices = [row[f"invoice_{n}"] for n in (1, 2) if pd.notna(row[f"invoice_{n}"])]
    _history(customer_id)
    # keyed: the tab chosen stays chosen through a rerun (a "file busy" line above shifts the page)
    contact, promise, dispute, note = st.tabs(["Call or email", "Promise to pay", "Dispute", "Note"],
                                              key="action_tab")  # fmt: skip

    with contact:
        form = f"contact_{customer_id}"
        with st.form(widget_key(form, "form"), clear_on_submit=False, border=False):
            left, mid, right = st.columns(3)
            kind = left.radio("How", ["call", "email"], format_func=KIND_WORDS.get, horizontal=True,
                              key=widget_key(form, "kind"))  # fmt: skip
            when = mid.date_input("Date", value=day, key=widget_key(form, "date"))
            outcome = right.selectbox("Outcome", actions.CONTACT_OUTCOMES, index=None,
                                      key=widget_key(form, "outcome"))  # fmt: skip
            text = st.text_input("Note (optional)", key=widget_key(form, "note"))
            if st.form_submit_button("Log it", type="primary"):
                record(form, lambda store, key: actions.log_activity(
                    store, user, kind, customer_id, day=when, key=key, outcome=outcome, note=text),
                    f"{KIND_WORDS[kind]} with {row['name']} logged.")  # fmt: skip

    with promise:
        form = f"promise_{customer_id}"
        with st.form(widget_key(form, "form"), clear_on_submit=False, border=False):
            left, mid, right = st.columns(3)
            when = left.date_input("Promised on", value=day, key=widget_key(form, "date"))
            by = mid.date_input("To pay by", value=day + dt.timedelta(days=7),
                                key=widget_key(form, "by"))  # fmt: skip
            amount = right.number_input(f"Amount ({currency})", min_value=0.0, step=100.0,
                                        value=float(row["past_due"]), key=widget_key(form, "amount"))  # fmt: skip
            text = st.text_input("Note (optional)", key=widget_key(form, "note"))
            if st.form_submit_button("Log the promise", type="primary"):
                record(form, lambda store, key: actions.log_activity(
                    store, user, "promise", customer_id, day=when, key=key, promised_date=by,
                    promised_amount=amount, note=text),
                    f"Promise to pay {money(amount, currency, 2)} by {by:%d %b %Y} logged for "
                    f"{row['name']}.")  # fmt: skip

    with dispute:
        form = f"dispute_{customer_id}"
        with st.form(widget_key(form, "form"), clear_on_submit=False, border=False):
            left, mid, right = st.columns(3)
            invoice = left.selectbox("Invoice", invoices, key=widget_key(form, "invoice"),
                                     accept_new_options=True,
                                     help="The largest past-due ones; type another invoice number.")  # fmt: skip
            reason = mid.selectbox("Reason", actions.DISPUTE_REASONS, index=None,
                                   key=widget_key(form, "reason"))  # fmt: skip
            when = right.date_input("Raised on", value=day, key=widget_key(form, "date"))
            text = st.text_input("What the customer says", key=widget_key(form, "note"))
            if st.form_submit_button("Log the dispute", type="primary"):
                record(form, lambda store, key: actions.log_activity(
                    store, user, "dispute", customer_id, day=when, key=key, invoice_id=invoice,
                    outcome=reason, note=text),
                    f"Dispute on invoice {invoice} logged for {row['name']}.")  # fmt: skip

    with note:
        form = f"note_{customer_id}"
        with st.form(widget_key(form, "form"), clear_on_submit=False, border=False):
            when = st.date_input("Date", value=day, key=widget_key(form, "date"))
            text = st.text_area("Note", key=widget_key(form, "note"), max_chars=actions.MAX_TEXT)
            if st.form_submit_button("Save the note", type="primary"):
                record(form, lambda store, key: actions.log_activity(
                    store, user, "note", customer_id, day=when, key=key, note=text),
                    f"Note saved for {row['name']}.")  # fmt: skip
