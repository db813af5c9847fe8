"""Who is using the app, and whether they may open this page (the server's check, every rerun).

Sign-in is on when the Streamlit secrets have an [auth] section (README "Team use"); then every
page asks for it, and the roles come from the settings file (arlens/team/roles.py). Off, the app
is the single-user local dashboard `make run` starts: one user with every role.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import streamlit as st

from arlens.team.roles import PAGE_ROLES, ROLE_NAMES, AccessError, User, load_access, user_for
from ui.data import db_path

USER = "signed_in_user"  # st.session_state: this rerun's User (server side, never from the browser)


def sign_in_configured() -> bool:
    """Whether the secrets configure OpenID Connect (their values are never read here)."""
    try:
        return "auth" in st.secrets
    except (FileNotFoundError, OSError, ValueError):  # no secrets file, or an unreadable one
        return False


def config_path() -> str | None:
    """`streamlit run dashboard.py -- --config PATH`, else arlens.toml beside the store."""
    parser = argparse.ArgumentParser(add_help=False)
    parser.add_argument("--config")
    args, _ = parser.parse_known_args(sys.argv[1:])
    return args.config


@st.cache_resource(show_spinner=False, ttl=30)
def _access(config: str | None, db: str):
    """The roles, re-read at most every 30 s (an admin's edit takes effect without a restart)."""
    return load_access(config, db)


def access():
    """The roles and policies of the settings file (the defaults when there is none)."""
    return _access(config_path(), str(db_path()))


def current_user() -> User:
    """The user of this rerun; shows the sign-in screen (and stops) when no one is signed in."""
    if not sign_in_configured():
        user = User.local()
    else:
        if not st.user.is_logged_in:
            st.title("AR Lens")
            st.write("Sign in with your company account to see the receivables.")
            st.button("Sign in", type="primary", on_click=st.login, key="sign_in")
            st.stop()
        try:
            policy = access()
        except AccessError as error:
            st.error(f"The roles cannot be read: {error}. Ask an admin to fix the settings file.")
            st.stop()
        info = st.user.to_dict()
        user = user_for(policy, info.get("email"), info.get("name"), info.get(policy.groups_claim))
        with st.sidebar:
            st.caption(
                f"Signed in as **{user.name or user.email}** · {user.role_names() or 'no role'}"
            )
            st.button("Sign out", on_click=st.logout, key="sign_out")
        if not user.roles:
            st.error(f"You are signed in as {user.email}, but AR Lens gives this account no role. "
                     "Ask an admin to add you to the settings file's [roles].")  # fmt: skip
            st.stop()
    st.session_state[USER] = user
    return user


def refuse(user: User, page: str) -> None:
    """The one line a user sees on a page their roles do not open; nothing of the page runs."""
    allowed = " or ".join(ROLE_NAMES[r] for r in sorted(PAGE_ROLES.get(Path(page).stem, ())))
    st.error(f"{user.email} ({user.role_names() or 'no role'}) may not open this page: it is for "
             f"the {allowed or 'no'} role.", icon=":material/block:")  # fmt: skip
    st.stop()


def guard() -> User:
    """A page's first line: refuse it to a user whose roles do not open it. The frame checks too;
    this covers a fresh server running a page file alone before the frame (ui/filters.py)."""
    from ui.filters import frame_ran, running_page

    frame_ran()
    page = running_page()
    user = st.session_state.get(USER)
    if user is None or not user.may_open(page.name):
        refuse(user or User("(not signed in)", "", frozenset()), page.name)
    return user


def this_user() -> User:
    return st.session_state[USER]
