"""Overview: how much cash is tied up in receivables, how late it is, and where it is heading."""

import datetime as dt

import streamlit as st

from arlens.metrics import bucket_labels
from ui import charts
from ui.data import query, require_data, risk_query, stop_if_empty
from ui.filters import as_of, currency, filters
from ui.format import days, money, percent

st.title("Overview")
require_data()
day, cur, where = as_of(), currency(), filters()
month_ago = (day.replace(day=1) - dt.timedelta(days=1)).replace(day=min(day.day, 28))

now = query("kpis", as_of=day, filters=where)
stop_if_empty(now, "open receivables")
now = now.iloc[0]
before = query("kpis", as_of=month_ago, filters=where)
before = before.iloc[0] if len(before) else None
ccc = query("cash_conversion_cycle", currency=cur)
ccc = ccc.dropna(subset=["ccc"]) if ccc is not None else ccc

st.caption(f"As of {day:%d %B %Y} · {cur} · changes against {month_ago:%d %b %Y}")


def change(column, fmt):
    if before is None or before[column] is None:
        return None
    return fmt(now[column] - before[column])


row = st.columns(4)
row[0].metric("Open AR", money(now.open_ar, cur), change("open_ar", lambda d: money(d, cur)),
              delta_color="off", border=True)  # fmt: skip
row[1].metric(
    "Past due", money(now.past_due, cur), change("past_due", lambda d: money(d, cur)),
    delta_color="inverse", border=True, help=f"{percent(now.past_due / now.open_ar)} of open AR",
)  # fmt: skip
share_before = before.past_due / before.open_ar if before is not None and before.open_ar else None
row[2].metric(
    "% past due", percent(now.past_due / now.open_ar),
    f"{(now.past_due / now.open_ar - share_before) * 100:+.1f} pts" if share_before is not None else None,
    delta_color="inverse", border=True,
)  # fmt: skip
row[3].metric("CEI", f"{now.cei:.1f}%" if now.cei == now.cei else "–", change("cei", lambda d: f"{d:+.1f} pts"),
              border=True, help="Collection effectiveness over the last 90 days")  # fmt: skip
row = st.columns(4)
row[0].metric(
    "DSO",
    days(now.dso),
    change("dso", lambda d: f"{d:+.1f} days"),
    delta_color="inverse",
    border=True,
)
row[1].metric("Best possible DSO", days(now.best_possible_dso), change("best_possible_dso", lambda d: f"{d:+.1f} days"),
              delta_color="inverse", border=True)  # fmt: skip
row[2].metric("ADD (days delinquent)", days(now["add"]), change("add", lambda d: f"{d:+.1f} days"),
              delta_color="inverse", border=True)  # fmt: skip
if ccc is not None and len(ccc):
    last = ccc.iloc[-1]
    previous = ccc.iloc[-2] if len(ccc) > 1 else None
    row[3].metric(
        "Cash conversion cycle", days(last.ccc),
        f"{last.ccc - previous.ccc:+.1f} days" if previous is not None else None,
        delta_color="inverse", border=True, help=f"Financial period ending {last.period_end:%d %b %Y}",
    )  # fmt: skip
else:
    row[3].metric(
        "Cash conversion cycle", "–", border=True, help="Import financials to see the CCC"
    )

series = query("kpi_series", start=day - dt.timedelta(days=365), end=day, filters=where)
left, right = st.columns(2)
with left:
    st.subheader("DSO trend")
    if series is not None and len(series):
        st.plotly_chart(
            charts.lines(series, "month_end", {"dso": "DSO", "best_possible_dso": "Best possible DSO"}, "days", suffix=" days"),
            key="dso_trend",
        )  # fmt: skip
with right:
    st.subheader("Past due trend")
    if series is not None and len(series):
        st.plotly_chart(
            charts.bars(series, "month_end", "past_due", cur, colour="#d73027"),
            key="past_due_trend",
        )

left, right = st.columns(2)
labels = bucket_labels()
with left:
    st.subheader("Aging")
    aging = query("aging", as_of=day, group_by="currency", filters=where)
    if aging is not None and len(aging):
        st.plotly_chart(charts.stacked_buckets(aging.assign(currency=cur), "currency", labels, cur, horizontal=True),
                        key="aging_bar")  # fmt: skip
with right:
    st.subheader("Top 10 past-due customers")
    top = query("top_past_due_customers", as_of=day, limit=10, filters=where)
    st.dataframe(
        top[["name", "customer_id", "past_due", "open_ar", "max_days_past_due"]],
        hide_index=True, key="top_past_due",
        column_config={
            "name": "Customer", "customer_id": "Id",
            "past_due": st.column_config.NumberColumn("Past due", format="accounting"),
            "open_ar": st.column_config.NumberColumn("Open AR", format="accounting"),
            "max_days_past_due": st.column_config.NumberColumn("Oldest (days)"),
        },
    )  # fmt: skip

st.subheader("Expected collections, next 8 weeks")
forecast = risk_query("expected_collections", as_of=day, weeks=8, currency=cur)
if forecast is None or forecast.empty:
    st.caption(
        "Score the open invoices with the late-payment model (`arlens train`, then `arlens score`, "
        "or the Late-payment risk page) to see which weeks the cash is expected in."
    )
else:
    scored = risk_query("scores_info")
    weeks = forecast.assign(week=[f"{d:%d %b}" for d in forecast["week_start"]])
    st.plotly_chart(charts.bars(weeks, "week", "expected_amount", cur), key="cash_forecast")
    st.caption(
        f"Open amounts by the week (from Monday) of their expected payment date, from the risk "
        f"scores as of {scored['as_of']:%d %b %Y}; items more than 120 days past due are left out."
    )
