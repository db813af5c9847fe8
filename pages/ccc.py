"""Cash conversion cycle: days from paying suppliers to collecting from customers."""

import pandas as pd
import streamlit as st

from arlens.metrics import DEFAULT_WINDOW_DAYS as N
from ui import charts
from ui.access import guard
from ui.data import query, require_data
from ui.filters import as_of, currency, reporting
from ui.format import days, table

guard()
st.title("Cash conversion cycle")
require_data()
day, cur = as_of(), currency()
per_currency = None if reporting() else cur
on = f"{day.day} {day:%b %Y}"

ccc = query("cash_conversion_cycle", currency=per_currency, as_of=day, reporting=reporting())
if ccc is None or ccc.empty:
    st.info(
        f"No financial period ends on or before {on}. The cash conversion cycle needs a monthly "
        "financials file with `period_end, revenue, credit_sales, cogs, inventory, "
        "accounts_payable`: import it on the **Data** page as table `financials`, or "
        "`arlens import financials.csv --table financials`."
    )
    st.stop()
cur = ccc["currency"].iloc[0]
SOURCES = {
    "receivables": f"{cur} receivables" if cur else "receivables",
    "financials": "financials",
}
COLUMNS = {
    "period_end": ("Period end", "date"), "days": ("Days", "count"),
    "revenue": ("Revenue", "money"), "financial_credit_sales": ("Credit sales (financials)", "money"),
    "cogs": ("COGS", "money"), "inventory": ("Inventory", "money"),
    "accounts_payable": ("Accounts payable", "money"), "dso": ("DSO over the period (days)", "days"),
    "dso_from": ("DSO from", "text"), "dio": ("DIO (days)", "days"), "dpo": ("DPO (days)", "days"),
    "ccc": ("CCC (days)", "days"),
}  # fmt: skip


def period_table(frame):
    shown = table(frame.assign(dso_from=frame["dso_source"].map(SOURCES)), COLUMNS)
    config = {"Period end": st.column_config.DateColumn(pinned=True, format="D MMM YYYY")}
    for label, kind in COLUMNS.values():
        if kind in ("money", "days") and pd.api.types.is_numeric_dtype(shown[label]):
            config[label] = st.column_config.NumberColumn(format="accounting" if kind == "money" else "%.1f")  # fmt: skip
    st.dataframe(shown.iloc[::-1], hide_index=True, key="ccc_table", column_config=config)


complete = ccc.dropna(subset=["ccc"])
if complete.empty:
    st.warning(
        f"The imported invoices do not cover any financial period ending on or before {on} in full, "
        "so DSO (and the CCC) is unknown."
    )
    period_table(ccc)
    st.stop()
last = complete.iloc[-1]
end = f"{last.period_end.day} {last.period_end:%B %Y}"
same_view = {"reporting_currency": reporting()} if reporting() else {"currency": cur} if cur else {}
standard = query("kpis", as_of=last.period_end.date(), filters=same_view)
standard = standard.iloc[0].dso if standard is not None and len(standard) else None
st.caption(
    f"The financial period ending {end}, the latest on or before {on}. DIO and DPO come from the "
    f"financials; DSO from the {SOURCES.get(last.dso_source, 'financials')}, over the period's "
    f"{last.days} days like DIO and DPO (open AR at the period end ÷ the period's credit sales × "
    f"{last.days}). The {N}-day DSO of the Overview and DSO pages at {end} is {days(standard)}."
)
cols = st.columns(4)
cols[0].metric(f"DSO over the period's {last.days} days", days(last.dso), border=True,
               help=f"{N}-day DSO at the same date: {days(standard)}")  # fmt: skip
cols[1].metric("DIO", days(last.dio), border=True, help="Inventory ÷ COGS × the period's days")
cols[2].metric("DPO", days(last.dpo), border=True, help="Accounts payable ÷ COGS × the period's days")  # fmt: skip
cols[3].metric("CCC = DSO + DIO − DPO", days(last.ccc), border=True)

left, right = st.columns([2, 1])
with left:
    st.subheader("Per period")
    fig = charts.lines(complete, "period_end", {"ccc": "CCC", "dso": "DSO over the period", "dio": "DIO", "dpo": "DPO"}, "days", suffix=" days")  # fmt: skip
    charts.show(fig, "No complete period to chart.", key="ccc_lines")
with right:
    st.subheader(f"{last.period_end:%B %Y}")
    st.plotly_chart(
        charts.waterfall([("DSO", last.dso), ("DIO", last.dio), ("DPO", -last.dpo)], "CCC"),
        key="ccc_waterfall",
    )
period_table(ccc)
