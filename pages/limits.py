"""Suggested limits: what each customer's recent buying and paying says its credit limit should
be, beside the limit it has, with the reasoning; the largest gaps and the stale limits first."""

import streamlit as st

from arlens.credit_limits import BASES, LimitRule, suggested_limits
from arlens.exports import to_csv_bytes
from ui import charts, tables
from ui.access import guard
from ui.data import cached, require_data, risk_query, stop_if_empty
from ui.filters import as_of, currency, filters

guard()
st.title("Suggested limits")
require_data()
day, cur, where = as_of(), currency(), filters()

default = LimitRule()
with st.expander("Rule", expanded=False):
    c = st.columns(4)
    rule = LimitRule(
        basis=c[0].selectbox("Monthly sales", BASES, index=BASES.index(default.basis), key="limit_basis",
                             format_func=lambda b: {"peak": "Peak month", "average": "Average month"}[b]),
        months=int(c[1].number_input("Months of sales", 1, 36, default.months, key="limit_months")),
        max_days_late=int(c[2].number_input("Days late at most", 0, 365, default.max_days_late, step=10, key="limit_max_days_late")),
        step=c[3].number_input("Round up to", 1, 1_000_000, int(default.step), step=500, key="limit_step"),
    )  # fmt: skip
    st.caption(rule.describe(cur))

scores = risk_query("customer_risk_scores", as_of=day) or {}
limits = cached(suggested_limits, as_of=day, filters=where, risk_scores=scores, rule=rule)
stop_if_empty(limits, "customers with a credit limit or credit sales")

suggested = limits[limits["suggested_limit"].notna()]
cols = st.columns(4)
cols[0].metric("Customers", f"{len(limits):,}", border=True,
               help="With a credit limit or a credit sale in the window")  # fmt: skip
cols[1].metric("Suggest a higher limit", f"{int((suggested['difference'] > 0).sum()):,}", border=True,
               help="Including customers without a limit")  # fmt: skip
cols[2].metric(
    "Suggest a lower limit", f"{int((suggested['difference'] < 0).sum()):,}", border=True
)
cols[3].metric("Stale limits", f"{int(limits['stale'].sum()):,}", border=True,
               help=f"A limit not reviewed in the {rule.stale_months} months before the as-of date, or never")  # fmt: skip
missing = [
    text
    for text, absent in (
        ("risk scores (`arlens score`)", not scores),
        ("personas (`arlens personas`)", limits["persona"].isna().all()),
    )
    if absent
]
if missing:
    st.caption(f"No {' and no '.join(missing)} yet: the suggestions carry no adjustment for them.")

stale_only = st.toggle("Stale limits only", key="limit_stale_only")
shown = limits[limits["stale"]] if stale_only else limits
table = shown.assign(stale=["Stale" if s else "" for s in shown["stale"]])
columns = ["name", "customer_id", "currency", "credit_limit", "suggested_limit", "difference",
           "stale", "reviewed_on", "reasoning"]  # fmt: skip
labels = {"credit_limit": "Current limit", "suggested_limit": "Suggested limit",
          "stale": "Review", "reviewed_on": "Last review", "reasoning": "Why"}  # fmt: skip
st.caption(f"In each customer's currency (column Currency), largest gap first (difference ÷ the larger of the two limits); "
           f"{len(table):,} customers.")  # fmt: skip
tables.show(table, key="limits_table", currency=None, labels=labels, columns=columns, decimals=0,
            money=["credit_limit", "suggested_limit", "difference"], empty="No stale limits.",
            column_config={"reasoning": st.column_config.TextColumn("Why", width="large")})  # fmt: skip
st.download_button("Download CSV", lambda: to_csv_bytes(tables.for_download(limits.drop(columns="factor"), labels)),
                   f"suggested_limits_{day.isoformat()}.csv", "text/csv", key="limits_csv",
                   on_click="ignore", icon=":material/table:")  # fmt: skip

st.subheader("Suggested against current")
gaps = (
    suggested["difference"] / suggested[["credit_limit", "suggested_limit"]].max(axis=1)
).dropna()
charts.show(charts.histogram(gaps, "suggested − current, as a share of the larger (− lower, + higher)"),
            "No customer with both a current and a suggested limit.", key="limits_histogram")  # fmt: skip
