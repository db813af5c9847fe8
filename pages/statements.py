"""Statements & dunning: a customer's statement of account and letter, and the reminders due."""

from functools import partial

import streamlit as st

from arlens.collections.dunning import Notice
from arlens.collections.render import file_stem, statement_pdf
from arlens.collections.statements import StatementError
from arlens.store import StoreError
from arlens.team.actions import assigned_customers
from ui import statements as docs
from ui import tables
from ui.access import guard
from ui.data import cached, query, require_data
from ui.filters import as_of

RECORDED = "dunning_recorded"  # the confirmation's message, shown after the rerun
MIME = {"pdf": "application/pdf", "csv": "text/csv", "eml": "message/rfc822",
        "zip": "application/zip"}  # fmt: skip


def download(where, label: str, build, file_name: str, key: str, **options) -> None:
    """A download built only when clicked (`build()`), without rerunning the page: a rerun would
    replace the button's file while the browser still asks for the old one."""
    where.download_button(label, build, file_name, MIME[file_name.rsplit(".", 1)[1]], key=key,
                          on_click="ignore", **options)  # fmt: skip


user = guard()
st.title("Statements & dunning")
require_data()
day = as_of()
settings, problem = docs.settings()
if problem:
    st.warning(f"{problem}. Documents carry no letterhead until it is fixed.")
policy, policy_problem = docs.policy(settings)
run = docs.proposal(day, policy) if policy else None

# -- One customer's statement and letter --------------------------------------------------------
people = docs.customers()
if user.scope() is not None:  # a collector sees only their own customers
    mine = set(cached(assigned_customers, collector=user.scope()))
    people = {k: v for k, v in people.items() if k in mine}
    if not people:
        st.info(f"No customer names {user.scope()} as its collector yet: ask an admin to import "
                "customers with a collector column.")  # fmt: skip
        st.stop()
ids = list(people)
docs.default_period(day)
pick, first, last, toggle = st.columns([2.6, 1, 1, 1.4], vertical_alignment="bottom")
customer = pick.selectbox("Customer", ids, index=docs.default_customer(ids, run),
                          format_func=people.get, key="statement_customer")  # fmt: skip
st.query_params["customer"] = customer
start = first.date_input("From", key=docs.FROM)
end = last.date_input("To", key=docs.TO)
open_only = toggle.toggle("Open items only", key="statement_open_items",
                          help="Only what is outstanding at To, instead of the period's movements.")  # fmt: skip

try:
    found = docs.customer_statements(customer, start, end, open_only)
except StatementError as error:
    st.warning(f"{error}: choose a From date on or before To.")
    found = []

for statement in found:
    text = statement.text
    st.subheader(f"Statement in {statement.currency}" if len(found) > 1 else "Statement of account")
    tiles = [("Closing balance", statement.closing), ("Past due", statement.past_due),
             ("Unapplied", statement.unapplied)]  # fmt: skip
    if not statement.open_items_only:  # charges and credits: in the closing line below
        tiles.insert(0, ("Opening balance", statement.opening))
    for cell, (label, amount) in zip(st.columns(len(tiles)), tiles, strict=True):
        cell.metric(label, text(amount))
    for line in statement.problems():
        st.warning(f"Does not reconcile: {line}")
    tables.show(docs.lines_frame(statement), key=f"statement_lines_{statement.currency}",
                currency=statement.currency, money=docs.LINE_MONEY)  # fmt: skip
    st.caption(
        f"Aging at {statement.end:%d %b %Y} (days past due; unapplied cash and credits apart)"
    )
    aging = docs.aging_frame(statement)
    tables.show(aging, key=f"statement_aging_{statement.currency}", currency=statement.currency,
                money=list(aging.columns))  # fmt: skip

if found:
    stem = file_stem(customer, end)
    left, right, _ = st.columns([1, 1, 4])
    download(left, "Statement (PDF)", partial(statement_pdf, found, settings), f"{stem}.pdf",
             "statement_pdf", icon=":material/picture_as_pdf:")  # fmt: skip
    download(right, "Statement (CSV)", partial(docs.statement_csv, found), f"{stem}.csv",
             "statement_csv", icon=":material/table:")  # fmt: skip

decision = docs.decision_for(run, customer)
with st.container(border=True):
    if isinstance(decision, Notice):
        attached = docs.letter_statements(run).get(customer, [])
        st.markdown(f"**{decision.level.name}** (level {decision.level.level}) is due on "
                    f"{day:%d %b %Y}: {'; '.join(d.sentence for d in decision.dues)}.")  # fmt: skip
        st.caption(f"The letter attaches the open items at {day:%d %b %Y}. "
                   + (f"Email to {decision.customer.email}." if decision.customer.email
                      else "No email address on file: a letter to post."))  # fmt: skip
        left, right, _ = st.columns([1, 1, 4])
        stem = docs.safe_name(decision.reference)
        download(left, "Letter (PDF)", partial(docs.letter_pdf, decision, attached, settings),
                 f"{stem}.pdf", "letter_pdf", type="primary", icon=":material/mail:")  # fmt: skip
        download(right, "Email (.eml)", partial(docs.letter_eml, decision, attached, settings),
                 f"{stem}.eml", "letter_eml", icon=":material/forward_to_inbox:")  # fmt: skip
    elif decision is not None:
        st.markdown(f"**No letter due on {day:%d %b %Y}**: {decision.reason}.")
    else:
        st.markdown(f"**No letter due on {day:%d %b %Y}**: nothing past due.")

# -- The dunning run ----------------------------------------------------------------------------
st.subheader(f"Dunning run on {day:%d %b %Y}")
if message := st.session_state.pop(RECORDED, None):
    st.success(message)
if policy_problem:
    st.error(policy_problem)
    st.stop()
if user.scope() is not None:
    st.caption("The dunning run covers every customer: a collector who sees every customer "
               "confirms it.")  # fmt: skip
    st.stop()
table = docs.proposal_table(run, query("worklist", as_of=day))
if table.empty:
    st.info(f"Nothing past due on {day:%d %b %Y}: no reminders to propose.")
    st.stop()
count = len(run.notices)
st.caption(f"{policy.name}: {count:,} notices proposed, {len(run.skipped):,} customers skipped. "
           "Every customer with past due (the sidebar's other filters do not apply).")  # fmt: skip
st.caption(f"Past due: more than {run.grace_days} grace days after the due date; the levels count days from the due date." if run.grace_days else "Past due: any day after the due date (no grace days: `arlens config grace-days N` sets some).")  # fmt: skip
tables.show(table, key="dunning_table", labels=docs.PROPOSAL_LABELS, money=[], days=["oldest_days"],
            column_config={"reason": st.column_config.TextColumn("Reason", width="large")})  # fmt: skip
left, right, _ = st.columns([1.4, 1.4, 3])
letters = partial(docs.letters_zip, run, docs.letter_statements(run), table, settings)
download(left, "Letters and emails (zip)", letters, f"dunning-{day.isoformat()}.zip", "dunning_zip",
         disabled=not count, icon=":material/folder_zip:")  # fmt: skip
if right.button(f"Confirm: record {count:,} notices", key="dunning_confirm", type="primary",
                disabled=not count or not user.may("dunning"), help="Records each notice as a dunning activity (level and "
                "letter), so the worklist and the next run start from it. Nothing is emailed."):  # fmt: skip
    try:
        recorded = docs.confirm(run)
    except (StoreError, PermissionError) as error:
        st.error(str(error))
    else:
        st.session_state[RECORDED] = (
            f"Recorded {recorded:,} notices as dunning activities on {day:%d %b %Y}."
        )
        st.rerun()
