"""Credit limits: whose orders to hold and why, who is over their limit (alone or as a group),
which open orders would take a customer over it, whose limit is stale, who has none — and what if
a limit changed."""

import pandas as pd
import streamlit as st

from arlens import credit as credit_text
from arlens.metrics import CURRENCY_SYMBOLS, HoldRule
from ui import charts, credit_actions
from ui.access import guard
from ui.actions import show_done
from ui.data import query, require_data, stop_if_empty
from ui.filters import as_of, currency, filters
from ui.format import money

guard()
st.title("Credit limits")
require_data()
day, cur, where = as_of(), currency(), filters()
code = f" ({cur})" if cur else ""
symbol = CURRENCY_SYMBOLS.get(cur or "", f"{cur} " if cur else "")
reporting = where.get("reporting_currency")
grace = query("credit_settings")["grace_days"]

default = HoldRule()
with st.expander("Hold rule", expanded=False):
    c = st.columns(5)
    rule = HoldRule(
        days=int(c[0].number_input("Days past due over", 0, 3650, default.days, step=30, key="hold_days")),
        share=c[1].number_input("Share of exposure (%)", 0, 100, round(default.share * 100), step=5, key="hold_share") / 100,
        min_amount=c[2].number_input(f"Least amount{code}", 0, None, int(default.min_amount), step=1000, key="hold_min_amount"),
        broken_promises=int(c[3].number_input("Broken promises (90 days)", 1, 1000, default.broken_promises, key="hold_broken_promises")),
        utilisation=c[4].number_input("Utilisation above (%)", 0, 10_000, round(default.utilisation * 100), step=10, key="hold_utilisation") / 100,
    )  # fmt: skip
    st.caption(rule.describe(cur, grace))

review = query("credit_review", as_of=day, filters=where, rule=rule)
stop_if_empty(review, "customers with a limit or an open balance")
limited, unlimited, holds = (
    review[~review["no_limit"]],
    review[review["no_limit"]],
    review[review["hold"]],
)
cols = st.columns(5)
cols[0].metric("Customers reviewed", f"{len(review):,}", border=True)
cols[1].metric("With a limit", f"{len(limited):,}", border=True)
cols[2].metric("Over limit", f"{int(review['over_limit'].sum()):,}", border=True,
               help="Exposure (open AR + open orders) strictly greater than the credit limit")  # fmt: skip
cols[3].metric("Stale reviews", f"{int(review['stale_review'].sum()):,}", border=True,
               help="Customers with a limit not reviewed in the 24 months before the as-of date, or never")  # fmt: skip
cols[4].metric("Hold candidates", f"{len(holds):,} ({len(holds) / len(review):.0%})", border=True,
               help=rule.describe(cur, grace))  # fmt: skip
if limited.empty:
    st.info("No credit limits yet: import customers with a credit_limit column.")
st.caption(credit_text.basis_sentence(review, day, grace, reporting))


WORDS = {
    "credit_limit": "no limit",
    "credit_limit_reviewed_on": "never",
    "days_since_last_payment": "no payment",
}
MONEY = (
    "exposure",
    "at_risk",
    "past_due",
    "credit_limit",
    "open_ar",
    "open_orders",
    "pool_exposure",
    "group_exposure",
    "amount",
    "exposure_before",
    "over_by",
)
NUMBER_FORMATS = {**{c: f"{symbol}%,.0f" for c in MONEY}, "utilisation": "%,.0f%%", "max_days_past_due": "%,d",
                  "days_since_last_payment": "%,d", "members": "%,d"}  # fmt: skip


def table(frame: pd.DataFrame, columns: dict[str, str], key: str, **config) -> None:
    """The columns a reader sees under readable headers, customer and id pinned. A column with a
    missing value is shown as words ("no limit", "never"): the grid would show "None"."""
    out, formats = pd.DataFrame(index=frame.index), {}
    for column, label in columns.items():
        values = frame[column] * 100 if column == "utilisation" else frame[column]
        if column in ("credit_limit_reviewed_on", "order_date"):
            out[label] = ["never" if pd.isna(v) else f"{v:%d %b %Y}" for v in values]
        elif values.notna().all():
            out[label] = values
            if column in NUMBER_FORMATS:
                formats[label] = st.column_config.NumberColumn(format=NUMBER_FORMATS[column])
        elif column == "utilisation":
            out[label] = ["no limit" if pd.isna(lim) else "limit 0" if pd.isna(u) else f"{u:,.0f}%"
                          for u, lim in zip(values, frame["credit_limit"], strict=True)]  # fmt: skip
        elif column == "credit_limit":
            out[label] = ["no limit" if pd.isna(v) else money(v, cur) for v in values]
        else:
            word = WORDS.get(column, "–")
            out[label] = [word if pd.isna(v) else f"{v:,}" if isinstance(v, int | float) else str(v)
                          for v in values.astype(object)]  # fmt: skip
    pinned = {
        "Customer": st.column_config.TextColumn(pinned=True),
        "Id": st.column_config.TextColumn(pinned=True),
    }
    st.dataframe(out, hide_index=True, key=key, column_config={**pinned, **formats, **config})


st.subheader("Hold candidates", help="Ranked by exposure at risk: the past due, or the exposure above the limit when that is more")  # fmt: skip
if holds.empty:
    st.caption("No customer meets the hold rule on this date.")
else:
    table(holds, {"name": "Customer", "customer_id": "Id", "hold_reasons": "Why", "at_risk": f"At risk{code}",
                  "exposure": f"Exposure{code}", "open_orders": f"Open orders{code}", "credit_limit": "Limit",
                  "utilisation": "Utilisation",
                  "max_days_past_due": "Oldest (days)", "broken_promises_90d": "Broken promises (90 days)",
                  "risk_rating": "Risk rating"}, "holds", Why=st.column_config.TextColumn(width="large"))  # fmt: skip

left, right = st.columns(2)
with left:
    st.subheader("Utilisation")
    ratios = limited["utilisation"].dropna()
    if ratios.empty:
        st.caption("No customer with a limit above 0 yet: nothing to chart.")
    else:
        st.plotly_chart(charts.histogram(ratios.clip(upper=2.0), "exposure ÷ limit (capped at 200%)"),
                        key="utilisation_histogram")  # fmt: skip
with right:
    st.subheader("Stale reviews")
    stale = limited[limited["stale_review"]].sort_values("exposure", ascending=False)
    if stale.empty:
        st.caption(
            "Every limit was reviewed in the last 24 months."
            if len(limited)
            else "No limits to review."
        )
    else:
        table(stale, {"name": "Customer", "customer_id": "Id", "credit_limit_reviewed_on": "Last review",
                      "exposure": f"Exposure{code}", "credit_limit": "Limit"}, "stale")  # fmt: skip

st.subheader("Over limit")
over = review[review["over_limit"]].sort_values("utilisation", ascending=False)
if over.empty:
    st.caption("No customer is over its limit on this date.")
else:
    table(over.assign(checked=credit_text.checked_against(over)),
          {"name": "Customer", "customer_id": "Id", "open_ar": f"Open AR{code}", "open_orders": f"Open orders{code}",
           "exposure": f"Exposure{code}", "checked": "Limit of", "pool_exposure": f"Exposure under the limit{code}",
           "credit_limit": "Limit", "utilisation": "Utilisation", "days_since_last_payment": "Days since last payment"},
          "over_limit")  # fmt: skip

st.subheader("Orders over the limit", help="Each open order after the open AR and the orders dated before it (Odoo's credit-limit warning)")  # fmt: skip
warnings = query("order_warnings", as_of=day, filters=where)
if warnings.empty:
    st.caption(credit_text.no_order_warnings(review))
else:
    table(warnings, {"name": "Customer", "customer_id": "Id", "order_id": "Order", "order_date": "Order date",
                     "amount": f"Amount{code}", "exposure_before": f"Exposure before it{code}",
                     "credit_limit": "Limit", "over_by": f"Over by{code}"}, "order_warnings")  # fmt: skip

st.subheader("Customer groups", help=credit_text.GROUP_RULE)
groups = query("credit_groups", as_of=day, filters=where, rule=rule)
groups = groups[groups["members"] > 1]
if groups.empty:
    st.caption(
        "No customer groups: customers with a parent_id roll up to their top parent once imported."
    )
else:
    table(groups, {"name": "Group", "group_id": "Id", "members": "Members", "group_exposure": f"Group exposure{code}",
                   "credit_limit": "Limit", "pool_exposure": f"Exposure under the limit{code}",
                   "utilisation": "Utilisation", "hold_summary": "Hold"}, "groups")  # fmt: skip
    if not reporting and groups["members_in_other_currencies"].sum():
        st.caption(credit_text.other_currency_members(groups))
    pick_group = st.selectbox("Members of", range(len(groups)), key="credit_group",
                              format_func=lambda i: f"{groups['name'].iloc[i]} · {groups['group_id'].iloc[i]}")  # fmt: skip
    members = query(
        "credit_review",
        as_of=day,
        filters=where,
        rule=rule,
        group=groups["group_id"].iloc[pick_group],
    )
    table(members.assign(checked=credit_text.checked_against(members)),
          {"name": "Customer", "customer_id": "Id", "exposure": f"Exposure{code}", "checked": "Limit of",
           "credit_limit": "Limit", "utilisation": "Utilisation", "hold_reasons": "Why"}, "group_members")  # fmt: skip
if reporting:
    missing = query("untranslated_items", as_of=day, reporting=reporting, filters=where)
    if not missing.empty:
        st.caption(credit_text.untranslated_sentence(missing, reporting, day))

st.subheader("No limit set")
if unlimited.empty:
    st.caption("Every customer reviewed has a limit.")
else:
    table(unlimited.sort_values("exposure", ascending=False),
          {"name": "Customer", "customer_id": "Id", "exposure": f"Exposure{code}", "past_due": f"Past due{code}",
           "max_days_past_due": "Oldest (days)"}, "no_limit")  # fmt: skip

st.subheader("What if: change a limit")
names = [
    n if n == i else f"{n} · {i}"
    for n, i in zip(review["name"], review["customer_id"], strict=True)
]
pick = st.selectbox(
    "Customer", range(len(review)), format_func=lambda i: names[i], key="what_if_customer"
)
chosen = review.iloc[pick]
has_limit = pd.notna(chosen["credit_limit"])
# One widget per customer: picking another customer starts from that customer's own limit.
proposed = st.number_input(
    f"Proposed limit{code}", min_value=0.0, step=1000.0, key=f"what_if_limit_{chosen['customer_id']}",
    value=float(chosen["credit_limit"]) if has_limit else None, placeholder="no limit set",
)  # fmt: skip
now = chosen["hold_reasons"] or "no hold"
if proposed is None:
    st.caption(f"{names[pick]} has no credit limit (now: {now}). Enter one to see its utilisation and "
               "whether its orders would be held.")  # fmt: skip
else:
    after = query("credit_review", as_of=day, filters={**where, "customer_id": chosen["customer_id"]},
                  proposed_limits={chosen["customer_id"]: proposed}, rule=rule).iloc[0]  # fmt: skip
    both = pd.notna(chosen["utilisation"]) and pd.notna(after["utilisation"])
    cols = st.columns(3)
    cols[0].metric("Exposure", money(after["exposure"], cur))
    cols[1].metric("Utilisation", "limit 0" if pd.isna(after["utilisation"]) else f"{after['utilisation']:.0%}",
                   f"{(after['utilisation'] - chosen['utilisation']) * 100:+,.0f} pts" if both else None,
                   delta_color="inverse", help="A limit of 0 is exceeded by any exposure")  # fmt: skip
    cols[2].metric("Hold", "Yes" if after["hold"] else "No", help=after["hold_reasons"] or "No reason to hold orders")  # fmt: skip
    before = (
        f"limit {money(chosen['credit_limit'], cur)}, {now}"
        if has_limit
        else f"no limit set, {now}"
    )
    st.caption(
        f"Now: {before} → with a limit of {money(proposed, cur)}: {after['hold_reasons'] or 'no hold'}"
    )
show_done()  # what the last action recorded, above the forms
credit_actions.set_limit(chosen, proposed, cur, day)
credit_actions.approvals()
credit_actions.holds(review, day)
