"""Credit limits: who is over their limit, whose limit is stale, whose orders to hold — and what if."""

import streamlit as st

from ui import charts
from ui.data import query, require_data, stop_if_empty
from ui.filters import as_of, currency, filters
from ui.format import money, percent

st.title("Credit limits")
require_data()
day, cur, where = as_of(), currency(), filters()

review = query("credit_review", as_of=day, filters=where)
stop_if_empty(review, "customers with a limit or an open balance")
limited = review[review["credit_limit"].notna()]
holds = review[review["hold"]]
cols = st.columns(4)
cols[0].metric("Customers reviewed", f"{len(review):,}", border=True)
cols[1].metric("Over limit", f"{int(review['over_limit'].sum()):,}", border=True,
               help="Exposure (open AR) strictly greater than the credit limit")  # fmt: skip
cols[2].metric("Stale reviews", f"{int(review['stale_review'].sum()):,}", border=True,
               help="Limit not reviewed in the 24 months before the as-of date, or never")  # fmt: skip
cols[3].metric("Hold candidates", f"{len(holds):,}", border=True,
               help="Over limit, an invoice over 60 days past due, or 2+ broken promises in 90 days")  # fmt: skip

money_cols = {c: st.column_config.NumberColumn(c.replace("_", " ").capitalize(), format="accounting")
              for c in ["exposure", "credit_limit", "past_due"]}  # fmt: skip
st.subheader("Hold candidates")
st.dataframe(
    holds[["name", "customer_id", "hold_reasons", "exposure", "credit_limit", "utilisation", "max_days_past_due",
           "broken_promises_90d", "risk_rating"]],
    hide_index=True, key="holds",
    column_config={"name": "Customer", "customer_id": "Id", "hold_reasons": "Why", **money_cols,
                   "utilisation": st.column_config.ProgressColumn("Utilisation", format="percent", min_value=0, max_value=2)},
)  # fmt: skip

left, right = st.columns(2)
with left:
    st.subheader("Utilisation")
    if len(limited):
        st.plotly_chart(charts.histogram(limited["utilisation"].clip(upper=2.0), "exposure ÷ limit (capped at 200%)"),
                        key="utilisation_histogram")  # fmt: skip
with right:
    st.subheader("Stale reviews")
    stale = review[review["stale_review"]].sort_values("exposure", ascending=False)
    st.dataframe(stale[["name", "customer_id", "credit_limit_reviewed_on", "exposure", "credit_limit"]],
                 hide_index=True, key="stale", column_config={"name": "Customer", "customer_id": "Id", **money_cols, "credit_limit_reviewed_on": st.column_config.DateColumn("Last review")})  # fmt: skip

st.subheader("Over limit")
over = review[review["over_limit"]]
st.dataframe(over[["name", "customer_id", "exposure", "credit_limit", "utilisation", "days_since_last_payment"]],
             hide_index=True, key="over_limit", column_config={"name": "Customer", "customer_id": "Id", **money_cols})  # fmt: skip

st.subheader("What if: change a limit")
names = (review["name"].fillna(review["customer_id"]) + " · " + review["customer_id"]).tolist()
pick = st.selectbox(
    "Customer", range(len(review)), format_func=lambda i: names[i], key="what_if_customer"
)
chosen = review.iloc[pick]
proposed = st.number_input(
    "Proposed limit", min_value=0.0, step=1000.0, key="what_if_limit",
    value=float(chosen["credit_limit"]) if chosen["credit_limit"] == chosen["credit_limit"] else 0.0,
)  # fmt: skip
after = query("credit_review", as_of=day, filters={**where, "customer_id": chosen["customer_id"]},
              proposed_limits={chosen["customer_id"]: proposed}).iloc[0]  # fmt: skip
cols = st.columns(3)
cols[0].metric("Exposure", money(after["exposure"], cur))
cols[1].metric("Utilisation", percent(after["utilisation"]),
               None if chosen["utilisation"] != chosen["utilisation"] else
               f"{(after['utilisation'] - chosen['utilisation']) * 100:+.1f} pts", delta_color="inverse")  # fmt: skip
cols[2].metric("Hold", "Yes" if after["hold"] else "No",
               help=after["hold_reasons"] or "No reason to hold orders")  # fmt: skip
st.caption(
    f"Now: {chosen['hold_reasons'] or 'no hold'} → with {money(proposed, cur)}: {after['hold_reasons'] or 'no hold'}"
)
