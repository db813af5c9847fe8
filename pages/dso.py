"""DSO & collections performance: how fast customers pay, and how well collections keep up."""

import datetime as dt

import pandas as pd
import streamlit as st

from ui import charts
from ui.data import query, require_data, stop_if_empty
from ui.filters import as_of, filters
from ui.format import days

st.title("DSO & collections performance")
require_data()
day, where = as_of(), filters()

left, right = st.columns([1, 1])
window = left.select_slider("DSO window (days)", [30, 60, 90, 180, 365], value=90, key="dso_window")
months = right.select_slider("History (months)", [6, 12, 18, 24, 36], value=12, key="dso_months")
start = day - dt.timedelta(days=round(months * 30.44))

now = query("kpis", as_of=day, window_days=window, filters=where)
stop_if_empty(now, "receivables")
now = now.iloc[0]
cols = st.columns(5)
cols[0].metric("DSO", days(now.dso), border=True)
cols[1].metric("Countback DSO", days(now.countback_dso), border=True)
cols[2].metric("Best possible DSO", days(now.best_possible_dso), border=True)
cols[3].metric("ADD", days(now["add"]), border=True)
cols[4].metric("CEI", f"{now.cei:.1f}%" if pd.notna(now.cei) else "–", border=True)

with st.popover("How these are computed", icon=":material/help:"):
    st.markdown(
        f"""
- **DSO** = open AR at the date ÷ credit sales of the last {window} days × {window}.
- **Countback DSO**: subtract each month's credit sales from open AR, walking back from the date; the days
  of the months fully consumed plus the share of the last one.
- **Best possible DSO** = current (not past due) AR ÷ the same credit sales × {window}: DSO if every customer
  paid on time.
- **ADD** (average days delinquent) = DSO − best possible DSO: the days lost to late payment.
- **CEI** (collection effectiveness) = (AR at start + credit sales − AR at end) ÷ (AR at start + credit
  sales − current AR at end) × 100, over the last {window} days here and per calendar month in the chart.
  100% means everything collectible was collected.

Full definitions: README, "How numbers are computed".
"""
    )

series = query("kpi_series", start=start, end=day, window_days=window, filters=where)
if series is not None and len(series):
    st.subheader("DSO over time")
    st.plotly_chart(
        charts.lines(series, "month_end", {"dso": "DSO", "countback_dso": "Countback DSO",
                                           "best_possible_dso": "Best possible DSO", "add": "ADD"}, "days",
                     suffix=" days"),
        key="dso_lines",
    )  # fmt: skip
    st.subheader("Collection effectiveness (CEI) per month")
    st.plotly_chart(
        charts.lines(series, "month_end", {"cei": "CEI"}, "%", suffix="%"), key="cei_line"
    )

st.subheader("By segment")
segments = query("filter_values").get("segment", [])
rows = []
for segment in segments:
    k = query("kpis", as_of=day, window_days=window, filters={**where, "segment": segment})
    if k is not None and len(k):
        rows.append({"segment": segment, **k.iloc[0].to_dict()})
if rows:
    table = pd.DataFrame(rows)[
        [
            "segment",
            "open_ar",
            "past_due",
            "dso",
            "countback_dso",
            "best_possible_dso",
            "add",
            "cei",
        ]
    ]
    st.dataframe(
        table, hide_index=True, key="dso_by_segment",
        column_config={c: st.column_config.NumberColumn(format="%.1f") for c in ["dso", "countback_dso", "best_possible_dso", "add", "cei"]}
        | {c: st.column_config.NumberColumn(format="accounting") for c in ["open_ar", "past_due"]},
    )  # fmt: skip
