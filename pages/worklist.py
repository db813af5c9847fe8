"""Collections worklist: who to call first, and what to say."""

import pandas as pd
import streamlit as st

from arlens.exports import neutralise_text, to_csv_bytes, to_excel_bytes
from arlens.metrics import CURRENCY_SYMBOLS, worklist_sheet
from arlens.team.actions import assigned_customers
from ui import collector
from ui.access import guard
from ui.data import cached, query, require_data, risk_query, stop_if_empty
from ui.filters import as_of, currency, filters
from ui.format import money
from ui.statements import with_dunning

user = guard()
st.title("Collections worklist")
require_data()
day, cur, where = as_of(), currency(), filters()

work = query(
    "worklist", as_of=day, filters=where, risk_scores=risk_query("customer_risk_scores") or None
)
if user.scope() is not None and work is not None:  # a collector sees only their own customers
    mine = set(cached(assigned_customers, collector=user.scope()))
    work = work[work["customer_id"].isin(mine)].reset_index(drop=True)
    st.caption(f"Your customers: those whose collector is {user.scope()}.")
stop_if_empty(work, "past-due customers")
work = with_dunning(work, day)
grace = query("grace_days")
st.caption(f"{len(work):,} customers with past due on {day:%d %B %Y}, most valuable to collect first "
           "(Σ open amount × days past due). "
           + (f"Past due: more than {grace} grace days after the due date (days still count from it)."
              if grace else "No grace days: past due from the day after the due date "
              "(`arlens config grace-days N` sets some)."))  # fmt: skip


def plural(n, noun: str) -> str:
    return f"{int(n):,} {noun}{'' if int(n) == 1 else 's'}"


def call_sheet(row: pd.Series) -> None:
    """The one sentence, the one or two largest past-due invoices, promises: no more."""
    with st.container(border=True):
        named = row["name"] != row["customer_id"]  # a missing name is the id (worklist query)
        st.markdown(f"**{row['name']}** · {row['customer_id']}" if named else f"**{row['name']}**")
        st.markdown(f"### {row['summary']}")
        if isinstance(row["persona"], str):
            strategy = row["strategy"] if isinstance(row["strategy"], str) else ""
            st.caption(" · ".join(part for part in (f"**{row['persona']}**", strategy) if part))
        invoices = [
            f"Invoice **{row[f'invoice_{n}']}** — {money(row[f'invoice_{n}_amount'], row['currency'], 2)}, "
            f"due {row[f'invoice_{n}_due']:%d %b %Y}"
            for n in (1, 2)
            if pd.notna(row[f"invoice_{n}"])
        ]  # fmt: skip
        st.markdown("\n".join(f"- {line}" for line in invoices))
        notes = []
        if isinstance(row["follow_up"], str):
            notes.append(f"**{row['follow_up'].capitalize()}**")
        if row["open_promises"] and pd.notna(row["next_promised_date"]):
            notes.append(f"Promised to pay by {row['next_promised_date']:%d %b %Y}")
        if row["broken_promises_90d"]:
            notes.append(
                f"{plural(row['broken_promises_90d'], 'broken promise')} in the last 90 days"
            )
        if row["dunning_level"]:
            notes.append(f"Dunning level {int(row['dunning_level'])}, last notice "
                         f"{row['last_notice_date']:%d %b %Y}")  # fmt: skip
        else:
            notes.append("No dunning notice yet")
        st.caption(" · ".join(notes))
        st.page_link("pages/statements.py", label="Statement and letter",
                     icon=":material/description:",
                     query_params=st.query_params.to_dict() | {"customer": row["customer_id"]})  # fmt: skip


# Readable headers for the table and the downloads (the optional columns only when filled).
export = worklist_sheet(work)
code = f" ({cur})" if cur else ""
symbol = CURRENCY_SYMBOLS.get(cur or "", f"{cur} " if cur else "")
shown = ["Customer", "Id", "Follow up", "What to say", "Persona", "Past due", "Oldest (days)", "Dunning level",
         "Last notice", "Open promises", "Broken promises (90 days)", "Risk score", "Priority"]  # fmt: skip
grid = export[[c for c in shown if c in export]].rename(columns={"Past due": f"Past due{code}"})
for label in grid.columns:  # the grid shows a missing cell as "None": say "–" instead
    if grid[label].isna().any():
        grid[label] = ["–" if pd.isna(v) else f"{v:,.2f}" if isinstance(v, float) else str(v)
                       for v in grid[label].astype(object)]  # fmt: skip
# Neutralised as shown: the table's own toolbar download writes these cells (DESIGN.md §3).
picked = st.dataframe(
    neutralise_text(grid), hide_index=True, key="worklist_table", on_select="rerun",
    selection_mode="single-row",
    column_config={
        "Customer": st.column_config.TextColumn(pinned=True), "Id": st.column_config.TextColumn(pinned=True),
        "What to say": st.column_config.TextColumn(width="large"),
        f"Past due{code}": st.column_config.NumberColumn(format=f"{symbol}%,.0f"),
        "Risk score": st.column_config.NumberColumn(format="%.2f"),
        "Priority": st.column_config.NumberColumn(format="compact"),
    },
)  # fmt: skip

left, right = st.columns(2)
# Built only when a button is clicked (on 1M invoices it takes a second).
left.download_button("Download CSV", lambda: to_csv_bytes(export), "worklist.csv", "text/csv", key="worklist_csv")  # fmt: skip
right.download_button("Download Excel", lambda: to_excel_bytes(export, "Worklist"), "worklist.xlsx",
                      "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", key="worklist_xlsx")  # fmt: skip

if work["persona"].isna().all():
    st.caption("Run `arlens personas` to show each customer's persona and collection strategy.")
rows = picked.selection.rows if picked else []
st.subheader("Call sheet" if rows else "Call sheets: the first five")
for index in rows or range(min(5, len(work))):
    call_sheet(work.iloc[index])
collector.panel(work, day, rows[0] if rows else 0)
