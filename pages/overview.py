"""Overview: how much cash is tied up in receivables, how late it is, and where it is heading."""

import datetime as dt

import streamlit as st

from arlens.metrics import DEFAULT_WINDOW_DAYS as N
from arlens.metrics import bucket_labels
from ui import charts
from ui.access import guard
from ui.data import query, require_data, risk_query, stop_if_empty
from ui.filters import as_of, filters, reporting
from ui.format import change, days, money, percent, table

guard()
st.title("Overview")
require_data()
day, where = as_of(), filters()
month_end = day.replace(day=1) - dt.timedelta(days=1)  # the previous month-end

kpis = query("kpis", as_of=day, filters=where)
stop_if_empty(kpis, "receivables")
now = kpis.iloc[0]
cur = now.currency  # the row's currency: a document without one is in the home currency


def same_currency(frame):
    return frame[frame["currency"].fillna("") == (cur or "")] if frame is not None else frame


before = same_currency(query("kpis", as_of=month_end, filters=where))
before = before.iloc[0] if len(before) else None
st.caption(
    " · ".join(
        [f"As of {day.day} {day:%B %Y}", *([cur] if cur else []),
         f"changes against the previous month-end, {month_end.day} {month_end:%b %Y}"]
    )
)  # fmt: skip


def delta(column, unit="days"):
    return change(now[column] - before[column], unit) if before is not None else None


def share(row):
    return row.past_due / row.open_ar if row is not None and row.open_ar else None


money_delta = None
if before is not None:
    money_delta = {c: ("+" if now[c] >= before[c] else "") + money(now[c] - before[c], cur)
                   for c in ("open_ar", "past_due")}  # fmt: skip
window = f"the {N} days ending {day.day} {day:%b %Y}"
row = st.columns(4)
row[0].metric("Open AR", money(now.open_ar, cur), money_delta and money_delta["open_ar"],
              delta_color="off", border=True)  # fmt: skip
row[1].metric("Past due", money(now.past_due, cur), money_delta and money_delta["past_due"],
              delta_color="inverse", border=True, help=f"{percent(share(now))} of open AR")  # fmt: skip
pts = None if share(now) is None or share(before) is None else (share(now) - share(before)) * 100
row[2].metric("% past due", percent(share(now)), change(pts, "pts"), delta_color="inverse",
              border=True)  # fmt: skip
row[3].metric(
    "CEI", "–" if now.cei != now.cei else f"{now.cei:.1f}%", delta("cei", "pts"), border=True,
    help=f"Collection effectiveness over {window}: (AR at start + credit sales − AR at end) ÷ "
    "(AR at start + credit sales − current AR at end). The DSO page charts it per calendar month.",
)  # fmt: skip
dso_help = f"Open AR ÷ credit sales of {window} × {N}"
if now.dso != now.dso:
    dso_help = f"No credit sales in {window}: DSO cannot be measured"
row = st.columns(4)
row[0].metric("DSO", days(now.dso), delta("dso"), delta_color="inverse", border=True,
              help=dso_help)  # fmt: skip
row[1].metric("Best possible DSO", days(now.best_possible_dso), delta("best_possible_dso"),
              delta_color="inverse", border=True, help=f"Current (not past due) AR ÷ the same credit sales × {N}")  # fmt: skip
row[2].metric("ADD (days delinquent)", days(now["add"]), delta("add"), delta_color="inverse",
              border=True, help="DSO − best possible DSO")  # fmt: skip
ccc = query(
    "cash_conversion_cycle", currency=None if reporting() else cur, as_of=day, reporting=reporting()
)
complete = ccc.dropna(subset=["ccc"]) if ccc is not None else None
if complete is not None and len(complete):
    last = complete.iloc[-1]
    prior = ccc[ccc["period_end"] < last.period_end]
    step = prior.iloc[-1].ccc if len(prior) else None
    row[3].metric(
        "Cash conversion cycle", days(last.ccc), change(None if step is None else last.ccc - step),
        delta_color="inverse", border=True,
        help=f"DSO + DIO − DPO for the financial period ending {last.period_end.day} "
        f"{last.period_end:%b %Y}, the latest on or before the as-of date; its DSO is over the "
        f"period's {last.days} days (see the Cash conversion cycle page).",
    )  # fmt: skip
else:
    row[3].metric("Cash conversion cycle", "–", border=True,
                  help="Needs a financial period ending on or before the as-of date that the "
                  "invoices cover: import financials on the Data page.")  # fmt: skip

series = same_currency(query("kpi_series", start=day - dt.timedelta(days=365), end=day, filters=where))  # fmt: skip
since = f"the 12 months to {day.day} {day:%b %Y}"
none_yet = (
    f"No month-end in {since} has receivables yet." if series is None or series.empty else None
)
left, right = st.columns(2)
with left:
    st.subheader("DSO trend")
    measured = series is not None and series["dso"].notna().any()
    fig = charts.lines(series, "month_end", {"dso": "DSO", "best_possible_dso": "Best possible DSO"}, "days", suffix=" days")  # fmt: skip
    charts.show(fig if measured else None, none_yet or f"No DSO to chart: no month-end in {since} has credit sales in its {N} days.", key="dso_trend")  # fmt: skip
with right:
    st.subheader("Past due trend")
    late = series is not None and (series["past_due"].fillna(0) != 0).any()
    fig = charts.bars(series, "month_end", "past_due", cur, colour="#d73027") if late else None
    charts.show(
        fig, none_yet or f"Nothing was past due at any month-end in {since}.", key="past_due_trend"
    )

left, right = st.columns(2)
labels = bucket_labels()
with left:
    st.subheader("Aging")
    aging = query("aging", as_of=day, group_by="currency", filters=where)
    aging = same_currency(aging.assign(currency=aging["currency"].astype(object).fillna(cur or "")))
    fig = charts.stacked_buckets(aging, "currency", labels, cur, horizontal=True)
    opened = len(aging) and aging[labels].to_numpy().sum() != 0
    charts.show(fig if opened else None, "Nothing is open at this date.", key="aging_bar")
with right:
    st.subheader("Top 10 past-due customers")
    top = query("top_past_due_customers", as_of=day, limit=10, filters=where)
    if top is None or top.empty:
        st.info("No customer has anything past due at this date.")
    else:
        top = top.assign(name=top["name"].fillna(top["customer_id"]))
        code = f" ({cur})" if cur else ""
        columns = {"name": ("Customer", "text"), "customer_id": ("ID", "text"),
                   "past_due": (f"Past due{code}", "money"), "open_ar": (f"Open AR{code}", "money"),
                   "max_days_past_due": ("Oldest (days past due)", "count")}  # fmt: skip
        if (top["name"] == top["customer_id"]).all():  # no names imported: the id says it all
            columns.pop("name")
            columns["customer_id"] = ("Customer", "text")
        shown = table(top, columns)
        money_format = st.column_config.NumberColumn(format="accounting")
        st.dataframe(shown, hide_index=True, key="top_past_due",
                     column_config={"Customer": st.column_config.TextColumn(pinned=True)}
                     | {label: money_format for label, kind in columns.values() if kind == "money"})  # fmt: skip

st.subheader("Expected collections, next 8 weeks")
scored = risk_query("scores_info")
if scored is None:
    st.caption(
        "Score the open invoices with the late-payment model (`arlens train`, then `arlens score`, "
        "or the Late-payment risk page) to see which weeks the cash is expected in."
    )
elif scored["as_of"] != day:  # older scores would count invoices paid since; newer ones leak
    st.caption(
        f"No forecast for {day.day} {day:%b %Y}: the stored risk scores are as of "
        f"{scored['as_of'].day} {scored['as_of']:%b %Y} (`arlens score --as-of "
        f"{day.isoformat()}` scores this date)."
    )
else:
    forecast = same_currency(
        risk_query(
            "expected_collections",
            as_of=day,
            weeks=8,
            currency=None if reporting() else cur,
            reporting=reporting(),
        )
    )
    scores_date = f"{scored['as_of'].day} {scored['as_of']:%b %Y}"
    if forecast is None or not (forecast["expected_amount"].fillna(0) > 0).any():
        st.caption(f"No open invoice in the risk scores as of {scores_date} is expected to be paid in the 8 weeks after this date.")  # fmt: skip
    else:
        weeks = forecast.assign(week=[f"{d.day} {d:%b}" for d in forecast["week_start"]])
        st.plotly_chart(charts.bars(weeks, "week", "expected_amount", cur), key="cash_forecast")
        st.caption(
            f"Open amounts by the week (from Monday) of their expected payment date, from the risk "
            f"scores as of {scores_date}; items more than 120 days past due are left out."
        )
    checked = None if reporting() else risk_query("forecast_backtest", currency=cur)
    st.caption(
        checked["text"]
        if checked
        else "The forecast is back-tested per currency: pick one in the sidebar to see how it fared."
        if reporting()
        else "The forecast has not been back-tested for this currency yet: retrain the "
        "late-payment model (`arlens train`) with a few months of history after its cut-off."
    )
