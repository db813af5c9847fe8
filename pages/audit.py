"""Audit trail: who imported, retrained, changed a setting or recorded an action, and when."""

import datetime as dt

import streamlit as st

from arlens.team import audit
from ui.access import guard
from ui.data import cached, require_data

guard()
st.title("Audit trail")
require_data()

choices = cached(audit.choices)
today = dt.date.today()
left, mid, right, last = st.columns([1.2, 1.2, 1.4, 1.4])
since = left.date_input("From", value=today - dt.timedelta(days=30), key="audit_from")
until = mid.date_input("To", value=today, key="audit_to")
who = right.selectbox("Who", ["Everyone", *choices["user"]], key="audit_user")
what = last.selectbox("Action", ["Every action", *choices["action"]], key="audit_action")
if since > until:
    st.warning("Choose a From date on or before To.")
    st.stop()
trail = cached(audit.trail, since=since, until=until,
               user=None if who == "Everyone" else who,
               action=None if what == "Every action" else what)  # fmt: skip
st.caption(f"{len(trail):,} entries from {since:%d %b %Y} to {until:%d %b %Y}, newest first. "
           "Times are the server's clock (UTC unless it is set otherwise).")  # fmt: skip
if trail.empty:
    st.info("Nothing recorded in these dates for this choice. Widen the dates or the filters.")
    st.stop()
shown = audit.safe_for_display(trail)
st.dataframe(shown, hide_index=True, key="audit_table",
             column_config={"When": st.column_config.DatetimeColumn(format="D MMM YYYY, HH:mm:ss")})  # fmt: skip
st.download_button("Download CSV", lambda: audit.trail_csv(trail),
                   f"audit_{since.isoformat()}_{until.isoformat()}.csv", "text/csv",
                   key="audit_csv", on_click="ignore")  # fmt: skip
