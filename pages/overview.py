"""Overview: how much cash is tied up in receivables, and how much of it is late."""

import streamlit as st

from ui.data import query, require_data

st.title("Overview")
require_data()
as_of = st.session_state["as_of_date"]

headline = query("headline", as_of=as_of)
if headline.empty:
    st.info(f"Nothing was open on {as_of:%d %b %Y}.")
    st.stop()

st.caption(f"As of {as_of:%d %B %Y}. Amounts per currency; currencies are never added together.")
for row in headline.itertuples():
    share = row.past_due / row.open_ar if row.open_ar else 0
    st.subheader(row.currency or "No currency")
    open_ar, past_due, count = st.columns(3)
    open_ar.metric("Open AR", f"{row.open_ar:,.2f}")
    past_due.metric(
        "Past due", f"{row.past_due:,.2f}", f"{share:.1%} of open AR", delta_color="off"
    )
    count.metric("Open invoices", f"{row.open_invoices:,}")
