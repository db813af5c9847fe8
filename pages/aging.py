"""Aging: how old is what customers owe, who owes it, and how balances roll from bucket to bucket."""

import datetime as dt

import pandas as pd
import streamlit as st

from arlens.metrics import UNAPPLIED, bucket_labels, roll_rate_matrix
from ui import charts
from ui.access import guard
from ui.data import query, require_data, stop_if_empty
from ui.filters import as_of, currency, filters
from ui.format import compact_money, money, table

guard()
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
cur = cur or by_customer["currency"].iloc[0]  # one currency per view: sums never mix them
by_customer = by_customer[by_customer["currency"] == cur]
totals = by_customer[[*labels, UNAPPLIED, "total"]].sum()
cols = st.columns(len(labels) + 1)
for col, label in zip(cols, [*labels, "total"], strict=True):
    col.metric(label if label != "total" else "Total open AR", compact_money(totals[label], cur),
               help=money(totals[label], cur, 2))  # fmt: skip
st.caption(
    f"As of {day:%d %B %Y}, in {cur}. Unapplied cash and credits {money(totals[UNAPPLIED], cur, 2)} are shown apart"
    + (" and netted into the totals." if net else " and not netted into the buckets.")
)

st.subheader("By customer")
search = st.text_input("Search customers", key="aging_search", placeholder="name or id")
names = by_customer["name"].astype(object)
found = by_customer.assign(name=names.where(names.notna(), by_customer["customer_id"]))
if search:
    hit = found["name"].str.contains(search, case=False, regex=False) | found[
        "customer_id"
    ].str.contains(search, case=False, regex=False)
    found = found[hit]
columns = {"name": ("Customer", "text"), "customer_id": ("Customer id", "text")}
columns |= {c: (c, "money") for c in [*labels, UNAPPLIED]}
columns |= {"past_due": ("Past due", "money"), "total": ("Total", "money")}
money_columns = {
    label: st.column_config.NumberColumn(label, format="accounting")
    for column, (label, kind) in columns.items()
    if kind == "money"
}
picked = st.dataframe(
    table(found, columns), hide_index=True, key="aging_table", on_select="rerun",
    selection_mode="single-row",
    column_config={"Customer": st.column_config.TextColumn(pinned=True),
                   "Customer id": st.column_config.TextColumn(pinned=True), **money_columns},
)  # fmt: skip
st.caption(
    f"{len(found):,} customers · totals reconcile: buckets sum to {money(totals[labels].sum(), cur, 2)}"
)

rows = picked.selection.rows if picked else []
if rows:
    customer = found.iloc[rows[0]]
    st.subheader(f"Open invoices of {customer['name']}")
    invoices = query("customer_open_invoices", as_of=day, customer_id=customer["customer_id"])
    invoices["invoice_id"] = [  # one row per open instalment of a payment schedule
        i if pd.isna(n) else f"{i} · instalment {int(n)}"
        for i, n in zip(invoices["invoice_id"], invoices["instalment"], strict=True)
    ]
    shown = table(invoices, {
        "invoice_id": ("Invoice", "text"), "doc_type": ("Type", "text"),
        "currency": ("Currency", "text"), "invoice_date": ("Invoice date", "date"),
        "due_date": ("Due", "date"), "amount": ("Amount", "money"),
        "open_amount": ("Open", "money"), "days_past_due": ("Days past due", "count"),
    })  # fmt: skip
    st.dataframe(shown, hide_index=True, key="customer_invoices",
                 column_config={"Invoice": st.column_config.TextColumn(pinned=True),
                                "Amount": st.column_config.NumberColumn(format="accounting"),
                                "Open": st.column_config.NumberColumn(format="accounting")})  # fmt: skip
else:
    st.caption("Select a customer's row to see its open invoices.")

left, right = st.columns(2)
with left:
    st.subheader("By segment")
    segments = query(
        "aging", as_of=day, basis=basis or "due", edges=edges, group_by="segment", filters=where
    )
    segments = segments[segments["currency"] == cur]
    if segments["segment"].notna().any():
        segments = segments.assign(segment=segments["segment"].fillna("No segment"))
        charts.show(charts.stacked_buckets(segments, "segment", labels, cur),
                    "No open items by segment for these filters.", key="segment_bars")  # fmt: skip
    else:
        st.info("No customer has a segment: import a customers file with a segment column.")
with right:
    st.subheader("Aging trend (month-ends)")
    trend = query("trend", start=day - dt.timedelta(days=730), end=day, basis=basis or "due", edges=edges,
                  filters=where)  # fmt: skip
    trend = trend[trend["currency"] == cur] if trend is not None else None
    charts.show(charts.stacked_buckets(trend, "month_end", labels, cur),
                "The trend needs a month-end on or before the as-of date with open items.",
                key="trend_bars")  # fmt: skip

st.subheader("Roll rates")
months = st.slider("Month pairs pooled", 1, 12, 3, key="roll_months")
rates = query("roll_rates", as_of=day, months=months, edges=edges, filters=where)
rates = rates[rates["currency"] == cur]
due_labels = bucket_labels("due", edges)
matrix = roll_rate_matrix(rates, due_labels, seen_only=True)
if charts.show(charts.heatmap(matrix, "where it was at the next month-end"),
               "Roll rates need open items at two consecutive month-ends before the as-of date.",
               key="roll_heatmap"):  # fmt: skip
    missing = [label for label in due_labels if label not in matrix.index]
    st.caption(
        f"Each row shows where a bucket's open {cur} at one month-end sat at the next: in a bucket, "
        f"paid, or written off, pooled over {rates['month_pairs'].max()} month-ends. Every row shown "
        "adds to 100%. Always on the due-date basis."
        + (
            f" No balance sat in {', '.join(missing)} at these month-ends: no row."
            if missing
            else ""
        )
    )
    if not (rates["to_bucket"] == "Written off").any():
        st.caption("Nothing was written off in these months (the data may record no write-offs).")
