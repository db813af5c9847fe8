"""Collections worklist: who to call first, and what to say."""

import pandas as pd
import streamlit as st

from arlens.exports import neutralise_text, to_csv_bytes, to_excel_bytes
from ui.data import query, require_data, risk_query, stop_if_empty
from ui.filters import as_of, currency, filters
from ui.format import money

st.title("Collections worklist")
require_data()
day, cur, where = as_of(), currency(), filters()

work = query(
    "worklist", as_of=day, filters=where, risk_scores=risk_query("customer_risk_scores") or None
)
stop_if_empty(work, "past-due customers")
st.caption(f"{len(work):,} customers with past due on {day:%d %B %Y}, most valuable to collect first "
           "(Σ open amount × days past due).")  # fmt: skip


def call_sheet(row: pd.Series) -> None:
    """The one sentence, the one or two largest past-due invoices, promises: no more."""
    with st.container(border=True):
        st.markdown(f"**{row['name'] or row['customer_id']}** · {row['customer_id']}")
        st.markdown(f"### {row['summary']}")
        if isinstance(row["persona"], str):
            st.caption(f"**{row['persona']}** · {row['strategy']}")
        invoices = [
            f"Invoice **{row[f'invoice_{n}']}** — {money(row[f'invoice_{n}_amount'], cur, 2)}, "
            f"due {row[f'invoice_{n}_due']:%d %b %Y}"
            for n in (1, 2)
            if pd.notna(row[f"invoice_{n}"])
        ]
        st.markdown("\n".join(f"- {line}" for line in invoices))
        notes = []
        if row["open_promises"]:
            notes.append(f"Promised to pay by {row['next_promised_date']:%d %b %Y}")
        if row["broken_promises_90d"]:
            notes.append(f"{row['broken_promises_90d']} broken promise(s) in the last 90 days")
        if notes:
            st.caption(" · ".join(notes))


# Neutralised as shown: the table's own toolbar download writes these cells (DESIGN.md §3).
table = neutralise_text(work[["customer_id", "name", "summary", "persona", "past_due", "max_days_past_due", "open_promises",
              "broken_promises_90d", "priority"]])  # fmt: skip
picked = st.dataframe(
    table, hide_index=True, key="worklist_table", on_select="rerun", selection_mode="single-row",
    column_config={
        "customer_id": "Id", "name": "Customer", "summary": "Summary", "persona": "Persona",
        "past_due": st.column_config.NumberColumn("Past due", format="accounting"),
        "max_days_past_due": "Oldest (days)", "open_promises": "Open promises",
        "broken_promises_90d": "Broken (90 d)",
        "priority": st.column_config.NumberColumn("Priority", format="compact"),
    },
)  # fmt: skip


left, right = st.columns(2)
# Built only when a button is clicked (on 1M invoices it takes a second).
left.download_button("Download CSV", lambda: to_csv_bytes(work), "worklist.csv", "text/csv", key="worklist_csv")  # fmt: skip
right.download_button("Download Excel", lambda: to_excel_bytes(work, "Worklist"), "worklist.xlsx",
                      "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", key="worklist_xlsx")  # fmt: skip

if work["persona"].isna().all():
    st.caption("Run `arlens personas` to show each customer's persona and collection strategy.")
rows = picked.selection.rows if picked else []
st.subheader("Call sheet" if rows else "Call sheets: the first five")
for index in rows or range(min(5, len(work))):
    call_sheet(work.iloc[index])
