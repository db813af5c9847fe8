"""Reading the audit trail (Store.audit writes it): the page's table and its export."""

from __future__ import annotations

import datetime as dt

import pandas as pd

from arlens import queries
from arlens.exports import neutralise_text, to_csv_bytes
from arlens.store import Store

LABELS = {"logged_at": "When", "user_name": "Who", "action": "Action", "target": "Concerning",
          "details": "What changed"}  # fmt: skip


def trail(
    store: Store,
    since: dt.date,
    until: dt.date,
    user: str | None = None,
    action: str | None = None,
) -> pd.DataFrame:
    params = {"since": since, "until": until, "user": user, "action": action}
    return store.df(queries.sql("team", "audit_trail"), params)


def choices(store: Store) -> dict[str, list[str]]:
    """The users and actions in the trail (the page's filters)."""
    found: dict[str, list[str]] = {"user": [], "action": []}
    for kind, value in store.rows(queries.sql("team", "audit_choices")):
        found[kind].append(value)
    return found


def safe_for_display(frame: pd.DataFrame) -> pd.DataFrame:
    """Readable headers, text neutralised as shown (the table's own toolbar download writes the
    cells as they are on the page)."""
    return neutralise_text(frame.rename(columns=LABELS))


def trail_csv(frame: pd.DataFrame) -> bytes:
    """The trail as CSV a spreadsheet opens safely: a cell a user typed that starts with =, +, -,
    @ or a tab (a note "=HYPERLINK(...)", a file named "+cmd.csv") is text, never a formula."""
    return to_csv_bytes(safe_for_display(frame))
