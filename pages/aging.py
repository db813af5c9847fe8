"""Aging: how old is what customers owe, who owes it, and how balances roll from bucket to bucket."""

import datetime as dt

import streamlit as st

from arlens.metrics import UNAPPLIED, bucket_labels, roll_rate_matrix
from ui import charts
from ui.data import query, require_data, stop_if_empty
from ui.filters import as_of, currency, filters
from ui.format import compact_money, money

st.title("Aging")
require_data()
day, cur, where = as_of(), currency(), filters()

left, right, net_col = st.columns([1, 2, 1])
basis = left.segmented_control(
    "Basis", ["due", "invoice"], default="due", key="aging_basis",
    format_func=lambda b: "Due date" if b == "due" else "Invoice date",
)  # fmt: skip
edges_text = right.text_input("Bucket edges (days)", "30,60,90,120", key="aging_edges",
                              help="Upper bounds of the buckets, inclusive")  # fmt: skip
net = net_col.toggle("Net unapplied cash into totals", key="aging_net")
try:
    edges = tuple(int(part) for part in edges_text.split(","))
    labels = bucket_labels(basis or "due", edges)
except ValueError:
    st.error("Bucket edges are increasing whole days separated by commas, e.g. 30,60,90,120.")
    st.stop()

by_customer = query("aging", as_of=day, basis=basis or "due", edges=edges, group_by="customer",
                    net_unapplied=net, filters=where)  # fmt: skip
stop_if_empty(by_customer, "open items")
totals = by_customer[[*labels, UNAPPLIED, "total"]].sum()
cols = st.columns(len(labels) + 1)
for col, label in zip(cols, [*labels, "total"], strict=True):
    col.metric(label if label != "total" else "Total open AR", compact_money(totals[label], cur),
               help=money(totals[label], cur, 2))  # fmt: skip
st.caption(
    f"As of {day:%d %B %Y}. Unapplied cash and credits {money(totals[UNAPPLIED], cur, 2)} are shown apart"
    + (" and netted into the totals." if net else " and not netted into the buckets.")
)

st.subheader("By customer")
search = st.text_input("Search customers", key="aging_search", placeholder="name or id")
table = by_customer.drop(columns="currency")
if search:
    hit = table["name"].fillna("").str.contains(search, case=False) | table[
        "customer_id"
    ].str.contains(search, case=False)
    table = table[hit]
money_columns = {
    c: st.column_config.NumberColumn(c, format="accounting")
    for c in [*labels, UNAPPLIED, "past_due", "total"]
}
picked = st.dataframe(
    table, hide_index=True, key="aging_table", on_select="rerun", selection_mode="single-row",
    column_config={"name": "Customer", "customer_id": "Id", **money_columns},
)  # fmt: skip
st.caption(
    f"{len(table):,} customers · totals reconcile: buckets sum to {money(totals[labels].sum(), cur, 2)}"
)

rows = picked.selection.rows if picked else []
if rows:
    customer = table.iloc[rows[0]]
    st.subheader(f"Open invoices of {customer['name'] or customer['customer_id']}")
    invoices = query("customer_open_invoices", as_of=day, customer_id=customer["customer_id"])
    st.dataframe(invoices, hide_index=True, key="customer_invoices")
else:
    st.caption("Select a customer's row to see its open invoices.")

left, right = st.columns(2)
with left:
    st.subheader("By segment")
    segments = query(
        "aging", as_of=day, basis=basis or "due", edges=edges, group_by="segment", filters=where
    )
    st.plotly_chart(charts.stacked_buckets(segments, "segment", labels, cur), key="segment_bars")
with right:
    st.subheader("Aging trend (month-ends)")
    trend = query("trend", start=day - dt.timedelta(days=730), end=day, basis=basis or "due", edges=edges,
                  filters=where)  # fmt: skip
    if trend is not None and len(trend):
        st.plotly_chart(charts.stacked_buckets(trend, "month_end", labels, cur), key="trend_bars")

st.subheader("Roll rates")
months = st.slider("Month pairs pooled", 1, 12, 3, key="roll_months")
rates = query("roll_rates", as_of=day, months=months, edges=edges, filters=where)
if rates is not None and len(rates):
    due_labels = bucket_labels("due", edges)
    st.plotly_chart(charts.heatmap(roll_rate_matrix(rates, due_labels), "where it was at the next month-end"),
                    key="roll_heatmap")  # fmt: skip
    st.caption("Each row shows where a bucket's open amount at one month-end sat at the next: in a bucket, paid, "
               "or written off. Rows add to 100%. Always on the due-date basis.")  # fmt: skip
else:
    st.info("Roll rates need at least two month-ends of history before the as-of date.")
