"""The forms through which users record actions: one idempotency key per submission, the write
in the app's write turn, and one line when it cannot land (what was typed stays in the form).

A form's widgets carry its generation in their keys; a recorded submission moves to the next
generation, so the form comes back empty and the next submission has a new key. A submission
sent again (a double click, a retry after "the file is busy") keeps its key and is recorded once.
"""

from __future__ import annotations

import uuid

import streamlit as st

from arlens.store import StoreError
from arlens.team.actions import ActionError
from arlens.team.roles import Refused
from ui.access import this_user
from ui.data import write_as

DONE = "action_done"  # the last recorded action's message, shown after the rerun


def generation(form: str) -> int:
    return st.session_state.setdefault("action_generations", {}).get(form, 0)


def widget_key(form: str, name: str) -> str:
    return f"{form}_{generation(form)}_{name}"


def submission_key(form: str) -> str:
    session = st.session_state.setdefault("action_session", uuid.uuid4().hex)
    return f"{session}-{form}-{generation(form)}"


def record(form: str, work, done: str) -> None:
    """Run `work(store, key)` as this user; on success the form starts over and `done` shows."""
    key = submission_key(form)
    try:
        result = write_as(this_user(), lambda store: work(store, key))
    except StoreError as error:
        st.warning(f"Not saved yet: {error}. What you typed is kept; send it again in a moment.",
                   icon=":material/hourglass_top:")  # fmt: skip
        return
    except (ActionError, Refused) as error:
        st.error(f"Not saved: {error}.")
        return
    gens = st.session_state.setdefault("action_generations", {})
    gens[form] = gens.get(form, 0) + 1
    st.session_state[DONE] = done if result not in (False, None) else f"{done} (already saved)"
    st.rerun()


def show_done() -> None:
    """The confirmation of the action recorded before this rerun, once."""
    message = st.session_state.pop(DONE, None)
    if message:
        st.success(message, icon=":material/check_circle:")
