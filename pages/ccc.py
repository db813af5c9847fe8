"""Cash conversion cycle: days from paying suppliers to collecting from customers."""

import streamlit as st

from ui import charts
from ui.data import query, require_data
from ui.filters import currency
from ui.format import days

st.title("Cash conversion cycle")
require_data()
cur = currency()

ccc = query("cash_conversion_cycle", currency=cur)
if ccc is None or ccc.empty:
    st.info(
        "No financials imported yet. The cash conversion cycle needs a monthly financials file with "
        "`period_end, revenue, credit_sales, cogs, inventory, accounts_payable` — import it on the **Data** "
        "page as table `financials`, or `arlens import financials.csv --table financials`."
    )
    st.stop()

complete = ccc.dropna(subset=["ccc"])
if complete.empty:
    st.warning(
        "The imported invoices do not cover any financial period in full, so DSO (and the CCC) is unknown."
    )
    st.dataframe(ccc, hide_index=True, key="ccc_table")
    st.stop()
last = complete.iloc[-1]
st.caption(
    f"DSO from the {cur} receivables; DIO and DPO from the financials. Latest period ends {last.period_end:%d %B %Y}."
)
cols = st.columns(4)
cols[0].metric("DSO", days(last.dso), border=True)
cols[1].metric("DIO", days(last.dio), border=True)
cols[2].metric("DPO", days(last.dpo), border=True)
cols[3].metric("CCC = DSO + DIO − DPO", days(last.ccc), border=True)

left, right = st.columns([2, 1])
with left:
    st.subheader("Per period")
    st.plotly_chart(
        charts.lines(complete, "period_end", {"ccc": "CCC", "dso": "DSO", "dio": "DIO", "dpo": "DPO"}, "days", suffix=" days"),
        key="ccc_lines",
    )  # fmt: skip
with right:
    st.subheader(f"{last.period_end:%B %Y}")
    st.plotly_chart(
        charts.waterfall([("DSO", last.dso), ("DIO", last.dio), ("DPO", -last.dpo)], "CCC"),
        key="ccc_waterfall",
    )
st.dataframe(ccc, hide_index=True, key="ccc_table")
