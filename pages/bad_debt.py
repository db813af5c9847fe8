"""Bad-debt exposure: the allowance for expected losses, where the risk sits, and what was written off."""

import streamlit as st

from ui import charts
from ui.data import query, require_data, risk_query, stop_if_empty
from ui.filters import as_of, currency, filters
from ui.format import money, percent

st.title("Bad-debt exposure")
require_data()
day, cur, where = as_of(), currency(), filters()

history = st.slider("Months of roll-rate history", 3, 24, 12, key="allowance_history")
allowance = query("allowance", as_of=day, history_months=history, filters=where)
stop_if_empty(allowance, "open balances")
total, balance = allowance["allowance"].sum(), allowance["balance"].sum()
cols = st.columns(3)
cols[0].metric("Allowance (expected loss)", money(total, cur), border=True)
cols[1].metric("Open AR", money(balance, cur), border=True)
cols[2].metric("Allowance / open AR", percent(total / balance if balance else None), border=True)

st.subheader("Allowance by bucket")
st.dataframe(
    allowance.drop(columns="currency"), hide_index=True, key="allowance_table",
    column_config={
        "balance": st.column_config.NumberColumn("Balance", format="accounting"),
        "loss_rate": st.column_config.NumberColumn("Loss rate", format="percent"),
        "source": st.column_config.TextColumn("Rate from", help="history: roll rates; fallback: stated default"),
        "allowance": st.column_config.NumberColumn("Allowance", format="accounting"),
    },
)  # fmt: skip
if (allowance["source"] == "fallback").any():
    st.caption("Fallback rates (Current 1%, 1-30 3%, 31-60 10%, 61-90 25%, 91-120 50%, 121+ 75%) stand in "
               "where the history is shorter than 3 months.")  # fmt: skip

left, right = st.columns(2)
with left:
    st.subheader("Expected loss by customer")
    customers = query(
        "expected_loss_by", as_of=day, group_by="customer", history_months=history, filters=where
    )
    scores = risk_query("customer_risk_scores") or {}
    customers = customers.assign(risk_score=customers["customer_id"].map(scores))
    st.dataframe(
        customers[["name", "customer_id", "total", "expected_loss", "risk_score"]].head(50),
        hide_index=True, key="loss_by_customer",
        column_config={
            "name": "Customer", "customer_id": "Id",
            "total": st.column_config.NumberColumn("Open AR", format="accounting"),
            "expected_loss": st.column_config.NumberColumn("Expected loss", format="accounting"),
            "risk_score": st.column_config.NumberColumn(
                "P(late), next invoice", format="percent",
                help="From the late-payment model (arlens score); empty until it has run"),
        },
    )  # fmt: skip
    st.caption("Expected loss: each bucket's balance × its loss rate. Beside it, the risk model's chance that "
               "the customer's next invoice is paid late: a warning sign, not a loss rate.")  # fmt: skip
with right:
    st.subheader("Expected loss by segment")
    segments = query(
        "expected_loss_by", as_of=day, group_by="segment", history_months=history, filters=where
    )
    st.plotly_chart(
        charts.bars(segments, "segment", "expected_loss", cur, colour="#d73027"),
        key="loss_by_segment",
    )

st.subheader("Concentration")
conc = query("concentration", as_of=day, filters=where)
if conc is not None and len(conc):
    c = conc.iloc[0]
    cols = st.columns(3)
    cols[0].metric("Top-10 share of open AR", percent(c.top10_share_open))
    cols[1].metric("Top-10 share of past due", percent(c.top10_share_past_due))
    cols[2].metric(
        "HHI",
        f"{c.hhi:,.0f}",
        help="Σ (customer share × 100)²: below 1,500 spread, above 2,500 concentrated",
    )

st.subheader("Write-offs per month")
written = query("write_off_history", as_of=day, filters=where)
if written is not None and len(written):
    st.plotly_chart(
        charts.bars(written, "month", "written_off", cur, colour="#67001f"), key="write_offs"
    )
else:
    st.caption("Nothing written off up to this date.")
