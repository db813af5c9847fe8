"""Statements and dunning for the Statements & dunning page and the worklist.

The library (arlens/collections/) does the work; this module reads it through the app's cache
(`ui.data.cached`: until the data change), shapes it for st.dataframe, builds the downloads, and
records a confirmed run (the page's one write, through the app's own connection as the Data page
imports).
"""

from __future__ import annotations

import datetime as dt
import io
import zipfile

import pandas as pd
import streamlit as st

from arlens.collections import dunning, mail, render
from arlens.collections import statements as library
from arlens.collections.config import Settings, SettingsError, load_settings
from arlens.exports import to_csv_bytes
from arlens.formats import money
from ui import tables
from ui.access import this_user
from ui.data import cached, db_path, write_as

PERIOD_FOR = "statement_period_for"  # the as-of date the period's widgets were set from
FROM, TO = "statement_from", "statement_to"
LINE_MONEY = ["charges", "credits", "unapplied", "balance"]
PROPOSAL_LABELS = {"customer_id": "Customer ID", "level": "Level (now → next)",
                   "notice": "Notice", "past_due": "Past due", "oldest_days": "Oldest (days)",
                   "last_notice": "Last notice", "reason": "Reason"}  # fmt: skip


# -- Settings and policy -----------------------------------------------------------------------


def settings() -> tuple[Settings, str | None]:
    """arlens.toml beside the store (the defaults without one), and the problem with it if any."""
    try:
        return load_settings(None, db_path()), None
    except SettingsError as error:
        return Settings(), str(error)


def policy(chosen: Settings) -> tuple[dunning.Policy | None, str | None]:
    """The settings' dunning policy (else the shipped one), or None and the one-line problem."""
    try:
        return dunning.load_policy(chosen.policy), None
    except dunning.PolicyError as error:
        return None, str(error)


# -- One customer's statement ------------------------------------------------------------------


def customers() -> dict[str, str]:
    """Every customer's picker label by id: "Name · id", the id alone when it is the name."""
    people = cached(library.customers) or {}
    return {i: i if c.name in ("", i) else f"{c.name} · {i}" for i, c in people.items()}


def default_customer(ids: list[str], run: dunning.Run | None) -> int:
    """The picker's start: `?customer=ID` (the worklist's link), else the first customer the
    dunning run writes to, else the first customer."""
    wanted = st.query_params.get("customer")
    if wanted in ids:
        return ids.index(wanted)
    first = next(iter(proposal_order(run)), None) if run else None
    return (
        ids.index(first.customer.customer_id) if first and first.customer.customer_id in ids else 0
    )


def default_period(day: dt.date) -> None:
    """From/To start as the month of the as-of date, and follow it when the sidebar date moves."""
    if st.session_state.get(PERIOD_FOR) != day or FROM not in st.session_state:
        st.session_state[FROM], st.session_state[TO] = day.replace(day=1), day
        st.session_state[PERIOD_FOR] = day


def customer_statements(customer_id: str, start: dt.date, end: dt.date, open_items_only: bool):
    """The customer's statements for [start, end], one per currency (an empty one when it has
    nothing to show). Raises StatementError (one line) for a period ending before it starts."""
    found = cached(library.statements, end=end, start=start, customer_ids=(customer_id,),
                   open_items_only=open_items_only)  # fmt: skip
    if found:
        return found
    return [cached(library.statement, customer_id=customer_id, end=end, start=start,
                   open_items_only=open_items_only)]  # fmt: skip


def lines_frame(statement: library.Statement) -> pd.DataFrame:
    """The statement as the page shows it: opening, each line with its running balance, closing
    (the CSV's rows, render.statement_frame, without the aging). A zero charge, credit or
    unapplied amount is blank, as on a printed statement; the unapplied column is there when a
    line left something unapplied."""
    frame = render.statement_frame([statement])
    frame = frame[frame["kind"] != "aging"].drop(columns=["customer_id", "customer", "currency", "kind"])  # fmt: skip
    for column in LINE_MONEY:
        values = pd.to_numeric(frame[column]).astype(float)
        frame[column] = values.where(values != 0) if column != "balance" else values
    frame["days_past_due"] = pd.to_numeric(frame["days_past_due"]).astype(float)
    if not statement.open_items_only:
        frame = frame.drop(columns="days_past_due")
    if frame["unapplied"].isna().all():  # nothing left on account in the period: no column
        frame = frame.drop(columns="unapplied")
    return frame.reset_index(drop=True)


def aging_frame(statement: library.Statement) -> pd.DataFrame:
    """The aging at the statement's end in one row: the Aging page's buckets, unapplied apart."""
    row = {label: float(amount) for label, amount in statement.aging.items()}
    return pd.DataFrame([row | {"Total": float(statement.open_ar)}])


def statement_csv(statements: list[library.Statement]) -> bytes:
    """The statements' CSV (render.statement_frame) with readable headers, as pages download."""
    return to_csv_bytes(tables.for_download(render.statement_frame(statements)))


# -- The dunning run ---------------------------------------------------------------------------


def proposal(day: dt.date, chosen: dunning.Policy) -> dunning.Run:
    return cached(dunning.propose, as_of=day, policy=chosen)


def proposal_order(run: dunning.Run) -> list:
    """Notices first, highest level first, then the skipped customers, each by id."""
    notices = sorted(run.notices, key=lambda n: (-n.level.level, n.customer.customer_id))
    return notices + sorted(run.skipped, key=lambda s: s.customer.customer_id)


def _why(notice: dunning.Notice) -> str:
    level = notice.level
    text = f"level {level.level} from {level.days_past_due} days past due"
    return text + (f"; then {level.action}" if level.action else "")


def proposal_table(run: dunning.Run, work: pd.DataFrame | None) -> pd.DataFrame:
    """One row per past-due customer: its level now → next, the notice, the past due and why
    (or why not). `work`: the worklist, for the past due of the customers skipped."""
    owed: dict[str, list[str]] = {}
    for row in (work if work is not None else pd.DataFrame()).itertuples():
        owed.setdefault(row.customer_id, []).append(money(row.past_due, row.currency, 2))
    rows = []
    for decision in proposal_order(run):
        customer = decision.customer
        row = {"name": customer.name, "customer_id": customer.customer_id}
        if isinstance(decision, dunning.Notice):
            past_due = " and ".join(money(d.past_due, d.currency, 2) for d in decision.dues)
            row |= {"level": f"{decision.previous_level} → {decision.level.level}",
                    "notice": decision.level.name, "past_due": past_due,
                    "oldest_days": decision.oldest_days, "last_notice": decision.previous_date,
                    "reason": _why(decision)}  # fmt: skip
        else:
            row |= {"level": str(decision.level), "notice": "Not sent",
                    "past_due": " and ".join(owed.get(customer.customer_id, [])) or "–",
                    "oldest_days": decision.oldest_days, "last_notice": decision.previous_date,
                    "reason": decision.reason}  # fmt: skip
        rows.append(row)
    return pd.DataFrame(rows, columns=["name", *PROPOSAL_LABELS])


def decision_for(run: dunning.Run | None, customer_id: str):
    """The run's Notice for the customer, the Skip saying why none, or None (nothing past due)."""
    if run is None:
        return None
    return next((d for d in proposal_order(run) if d.customer.customer_id == customer_id), None)


def letter_statements(run: dunning.Run) -> dict[str, list[library.Statement]]:
    """The open-items statement at the run's date of each customer written to, by customer (what
    a letter attaches, as `arlens dunning run` does)."""
    ids = tuple(n.customer.customer_id for n in run.notices)
    if not ids:
        return {}
    found = cached(library.statements, end=run.as_of, start=None, customer_ids=ids,
                   open_items_only=True)  # fmt: skip
    groups: dict[str, list[library.Statement]] = {}
    for statement in found:
        groups.setdefault(statement.customer.customer_id, []).append(statement)
    return groups


def safe_name(name: str) -> str:
    """A file name from a reference or id (customer ids may hold `/` or spaces)."""
    return "".join(c if c.isalnum() or c in "-_." else "_" for c in name)


def letter_pdf(notice: dunning.Notice, attached: list, chosen: Settings) -> bytes:
    return render.letter_pdf(notice, attached, chosen)


def letter_eml(notice: dunning.Notice, attached: list, chosen: Settings) -> bytes:
    """The notice as an unsent email (a draft in a mail client) with its letter PDF attached."""
    pdf = render.letter_pdf(notice, attached, chosen)
    sender = chosen.smtp.sender if chosen.smtp else None
    return mail.notice_message(notice, chosen.company, pdf, sender).as_bytes()


def letters_zip(run: dunning.Run, attached: dict, table: pd.DataFrame, chosen: Settings) -> bytes:
    """proposal.csv, and each notice's letter (PDF, with its statement) and email (.eml)."""
    letters = [(n, attached.get(n.customer.customer_id, [])) for n in run.notices]
    sender = chosen.smtp.sender if chosen.smtp else None
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("proposal.csv", to_csv_bytes(tables.for_download(table, PROPOSAL_LABELS)))
        for notice, pdf in zip(run.notices, render.letter_pdfs(letters, chosen), strict=True):
            message = mail.notice_message(notice, chosen.company, pdf, sender)
            archive.writestr(f"{safe_name(notice.reference)}.pdf", pdf)
            archive.writestr(f"{safe_name(notice.reference)}.eml", message.as_bytes())
    return buffer.getvalue()


def confirm(run: dunning.Run) -> int:
    """Record the run's notices as dunning activities, as this user (a collector's action);
    returns how many were new. The store is opened read-write for it (StoreError when another
    process holds it); every cached result is dropped so the worklist and the next run see the new
    levels."""
    user = this_user()
    user.require("dunning")
    return write_as(user, lambda store: dunning.confirm(store, run))


# -- The worklist ------------------------------------------------------------------------------


def with_dunning(work: pd.DataFrame, day: dt.date) -> pd.DataFrame:
    """The worklist with each customer's dunning level so far (0: no notice yet) and the date of
    its latest notice (dunning.last_notices: the level the next run starts from)."""
    notices = cached(dunning.last_notices, as_of=day)
    merged = work.merge(notices, on="customer_id", how="left")
    merged["dunning_level"] = merged["dunning_level"].fillna(0).astype(int)
    return merged
