"""DSO & collections performance: how fast customers pay, and how well collections keep up."""

import datetime as dt

import pandas as pd
import streamlit as st

from ui import charts
from ui.access import guard
from ui.data import query, require_data, stop_if_empty
from ui.filters import as_of, filters
from ui.format import days, table

guard()
st.title("DSO & collections")
require_data()
day, where = as_of(), filters()

left, right = st.columns([1, 1])
window = left.select_slider("DSO window (days)", [30, 60, 90, 180, 365], value=90, key="dso_window")
months = right.select_slider("History (months)", [6, 12, 18, 24, 36], value=12, key="dso_months")
start = day - dt.timedelta(days=round(months * 30.44))

now = query("kpis", as_of=day, window_days=window, filters=where)
stop_if_empty(now, "receivables")
now = now.iloc[0]
cur = now.currency
span = f"the {window} days ending {day.day} {day:%b %Y}"
cols = st.columns(5)
cols[0].metric(
    "DSO", days(now.dso), border=True, help=f"Open AR ÷ credit sales of {span} × {window}"
)
cols[1].metric("Countback DSO", days(now.countback_dso), border=True)
cols[2].metric("Best possible DSO", days(now.best_possible_dso), border=True)
cols[3].metric("ADD", days(now["add"]), border=True)
cols[4].metric("CEI", f"{now.cei:.1f}%" if pd.notna(now.cei) else "–", border=True,
               help=f"Over {span}; the chart below is per calendar month")  # fmt: skip
if pd.isna(now.dso):
    st.caption(f"No credit sales in {span}: DSO, best possible DSO and ADD cannot be measured.")

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
  sales − current AR at end) × 100, over the last {window} days in the tile and per calendar month in the
  chart. 100% means everything collectible was collected.
- The Cash conversion cycle page's DSO is over each financial period's own days, like DIO and DPO.

Full definitions: README, "How numbers are computed".
"""
    )

series = query("kpi_series", start=start, end=day, window_days=window, filters=where)
series = series[series["currency"].fillna("") == (cur or "")] if series is not None else None
st.subheader("DSO at each month-end")
lines = {"dso": "DSO", "countback_dso": "Countback DSO", "best_possible_dso": "Best possible DSO", "add": "ADD"}  # fmt: skip
measured = series is not None and series[list(lines)].notna().to_numpy().any()
charts.show(charts.lines(series, "month_end", lines, "days", suffix=" days") if measured else None,
            f"No month-end in the {months} months to this date has receivables to measure.",
            key="dso_lines")  # fmt: skip
st.subheader("Collection effectiveness (CEI) per calendar month")
st.caption(
    "Each point is the month ending there: (AR at the month-end before + the month's credit "
    f"sales − AR at its end) ÷ (the same − current AR at its end). The CEI tile covers {span}."
)
collected = series is not None and series["cei"].notna().any()
charts.show(charts.lines(series, "month_end", {"cei": "CEI"}, "%", suffix="%") if collected else None,
            f"No calendar month in the {months} months to this date had anything to collect.",
            key="cei_line")  # fmt: skip

st.subheader("By segment")
segments = query("filter_values").get("segment", [])
rows = []
for segment in segments:
    k = query("kpis", as_of=day, window_days=window, filters={**where, "segment": segment})
    k = k[k["currency"].fillna("") == (cur or "")] if k is not None else k
    if k is not None and len(k):
        rows.append({"segment": segment, **k.iloc[0].to_dict()})
if not rows:
    st.caption("No customer segments imported: a customers file with a `segment` column adds this table.")  # fmt: skip
else:
    code = f" ({cur})" if cur else ""
    columns = {"segment": ("Segment", "text"), "open_ar": (f"Open AR{code}", "money"),
               "past_due": (f"Past due{code}", "money"), "dso": ("DSO (days)", "days"),
               "countback_dso": ("Countback DSO (days)", "days"),
               "best_possible_dso": ("Best possible DSO (days)", "days"),
               "add": ("ADD (days)", "days"), "cei": ("CEI (%)", "percent")}  # fmt: skip
    shown = table(pd.DataFrame(rows), columns)
    config = {"Segment": st.column_config.TextColumn(pinned=True)}
    for label, kind in columns.values():
        if kind != "text" and pd.api.types.is_numeric_dtype(shown[label]):  # "–" makes it text
            number = "accounting" if kind == "money" else "%.1f"
            config[label] = st.column_config.NumberColumn(format=number)
    st.dataframe(shown, hide_index=True, key="dso_by_segment", column_config=config)
