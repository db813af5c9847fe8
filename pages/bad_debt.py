"""Bad-debt exposure: the expected credit loss (the allowance), where it sits, and what was written off."""

import streamlit as st

from arlens.metrics import fallback_rates_text, loss_rate_note
from ui import charts
from ui.access import guard
from ui.data import query, require_data, risk_query, stop_if_empty
from ui.filters import as_of, currency, filters
from ui.format import money, percent, table

ECL = "Expected credit loss"

guard()
st.title("Bad-debt exposure")
require_data()
day, cur, where = as_of(), currency(), filters()

history = st.slider("Months of roll-rate history", 3, 24, 12, key="allowance_history")
# The roll rates are the slow part (13 month-ends of open items): read once for the page's three
# loss views instead of once per view.
rates = query("roll_rates", as_of=day, months=history, filters=where)
allowance = query("allowance", as_of=day, history_months=history, filters=where, rates=rates)
stop_if_empty(allowance, "open balances")
cur = cur or allowance["currency"].iloc[0]  # one currency per view: sums never mix them
allowance = allowance[allowance["currency"] == cur]
total, balance = allowance["allowance"].sum(), allowance["balance"].sum()
cols = st.columns(3)
cols[0].metric(f"{ECL} (allowance)", money(total, cur), border=True,
               help="Σ bucket balance × the bucket's loss rate")  # fmt: skip
cols[1].metric("Open AR", money(balance, cur), border=True)
cols[2].metric(f"{ECL} / open AR", percent(total / balance if balance else None), border=True)

st.subheader("Allowance by bucket")
by_bucket = table(allowance.assign(rate=allowance["loss_rate"] * 100), {
    "bucket": ("Bucket", "text"), "balance": ("Balance", "money"),
    "rate": ("Loss rate (%)", "percent"), "note": ("Rate from", "text"),
    "allowance": (ECL, "money"),
})  # fmt: skip
st.dataframe(
    by_bucket, hide_index=True, key="allowance_table",
    column_config={
        "Bucket": st.column_config.TextColumn(pinned=True),
        "Balance": st.column_config.NumberColumn(format="accounting"),
        "Loss rate (%)": st.column_config.NumberColumn(format="%.1f%%"),
        ECL: st.column_config.NumberColumn(format="accounting"),
    },
)  # fmt: skip
note = loss_rate_note(allowance)
if (allowance["source"] == "fallback").any():
    note += f" Fallback rates: {fallback_rates_text()}."
st.caption(f"{note} Loss rates read the roll rates of up to {history} months before this date as "
           "a chain that ends paid or written off.")  # fmt: skip

left, right = st.columns(2)
with left:
    st.subheader(f"{ECL} by customer")
    customers = query(
        "expected_credit_loss_by", as_of=day, group_by="customer", history_months=history,
        filters=where, rates=rates,
    )  # fmt: skip
    customers = customers[customers["currency"] == cur].head(50)
    scores = risk_query("customer_risk_scores", as_of=day) or {}
    customers = customers.assign(
        name=customers["name"]
        .astype(object)
        .where(customers["name"].notna(), customers["customer_id"]),
        risk_score=customers["customer_id"].map(scores) * 100,
    )
    columns = {"name": ("Customer", "text"), "customer_id": ("Customer id", "text"),
               "total": ("Open AR", "money"), "expected_credit_loss": (ECL, "money")}  # fmt: skip
    if scores:
        columns["risk_score"] = ("P(late), next invoice (%)", "percent")
    st.dataframe(
        table(customers, columns), hide_index=True, key="loss_by_customer",
        column_config={
            "Customer": st.column_config.TextColumn(pinned=True),
            "Open AR": st.column_config.NumberColumn(format="accounting"),
            ECL: st.column_config.NumberColumn(format="accounting"),
            "P(late), next invoice (%)": st.column_config.NumberColumn(
                format="%.1f%%", help="From the late-payment model (arlens score)"),
        },
    )  # fmt: skip
    st.caption(
        f"{ECL}: each bucket's balance × its loss rate."
        + (" Beside it, the risk model's chance that the customer's next invoice is paid late "
           "(scores as of this date or earlier): a warning sign, not a loss rate." if scores
           else " No late-payment scores as of this date or earlier (arlens score).")
    )  # fmt: skip
with right:
    st.subheader(f"{ECL} by segment")
    segments = query(
        "expected_credit_loss_by", as_of=day, group_by="segment", history_months=history,
        filters=where, rates=rates,
    )  # fmt: skip
    segments = segments[segments["currency"] == cur]
    if segments["segment"].notna().any():
        segments = segments.assign(segment=segments["segment"].fillna("No segment"))
        charts.show(charts.bars(segments, "segment", "expected_credit_loss", cur, colour="#d73027"),
                    "No open balances by segment.", key="loss_by_segment")  # fmt: skip
    else:
        st.info("No customer has a segment: import a customers file with a segment column.")

st.subheader("Concentration")
conc = query("concentration", as_of=day, filters=where)
conc = conc[conc["currency"] == cur] if conc is not None else conc
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
else:
    st.info("No open AR in this currency at this date.")

st.subheader("Write-offs per month")
written = query("write_off_history", as_of=day, filters=where)
written = written[written["currency"] == cur] if written is not None else written
charts.show(charts.bars(written, "month", "written_off", cur, colour="#67001f"),
            "Nothing written off up to this date.", key="write_offs")  # fmt: skip
