"""Roles: who may open which page and take which action.

Sign-in is Streamlit's OpenID Connect (ui/access.py); who is who comes from the settings file
(`arlens.toml` beside the store, or `--config`):

    [roles]                     # an email, "group:NAME" (an identity-provider group) or "*@domain"
    admin = ["ana@example.com"]
    credit_manager = ["group:ar-credit"]
    collector = ["group:ar-collectors", "cara@example.com"]
    viewer = ["*@example.com"]

    [access]
    groups_claim = "groups"     # the ID token claim that lists the user's groups
    collectors_see = "assigned" # "assigned": only customers whose `collector` names them; "all"

    [credit]
    limit_approval_above = 50000  # a new limit above this waits for a second credit manager

A person listed under several roles has all of them. With sign-in off, the one local user has
every role (the single-user app `make run` starts).
"""

from __future__ import annotations

import fnmatch
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from pathlib import Path

from arlens.collections.config import SettingsError, read_settings_file, settings_path
from arlens.store import command_line_user

VIEWER, COLLECTOR, CREDIT_MANAGER, ADMIN = "viewer", "collector", "credit_manager", "admin"
ROLES = (VIEWER, COLLECTOR, CREDIT_MANAGER, ADMIN)
ROLE_NAMES = {
    VIEWER: "viewer",
    COLLECTOR: "collector",
    CREDIT_MANAGER: "credit manager",
    ADMIN: "admin",
}
READERS = frozenset({VIEWER, CREDIT_MANAGER, ADMIN})

# Which roles open each page (the file under pages/). The read pages are every role's but the
# collector's, who works the worklist and statements (only their own customers when assigned).
PAGE_ROLES = {
    "overview": READERS,
    "dso": READERS,
    "ccc": READERS,
    "aging": READERS,
    "worklist": READERS | {COLLECTOR},
    "statements": READERS | {COLLECTOR},
    "credit": READERS,
    "limits": READERS,
    "bad_debt": READERS,
    "risk": READERS,
    "personas": READERS,
    "data": frozenset({ADMIN}),
    "audit": frozenset({ADMIN}),
}

# Which role takes each action. Separate duties: an admin imports and configures but does not
# log calls or change limits unless also listed as a collector or credit manager.
ACTION_ROLES = {
    "call": COLLECTOR,
    "email": COLLECTOR,
    "promise": COLLECTOR,
    "dispute": COLLECTOR,
    "note": COLLECTOR,
    "dunning": COLLECTOR,
    "hold": CREDIT_MANAGER,
    "release": CREDIT_MANAGER,
    "credit_limit": CREDIT_MANAGER,
    "approve_limit": CREDIT_MANAGER,
    "decline_limit": CREDIT_MANAGER,
    "import": ADMIN,
    "retrain": ADMIN,
    "setting": ADMIN,
}


class AccessError(SettingsError):
    """The settings file's roles are wrong; one line naming the file and the key."""


class Refused(PermissionError):
    """This user may not do that; the message says who may."""


@dataclass(frozen=True)
class Access:
    """The [roles], [access] and [credit] settings of the settings file."""

    members: dict[str, tuple[str, ...]] = field(default_factory=dict)
    groups_claim: str = "groups"
    collectors_see_assigned: bool = True
    limit_approval_above: Decimal | None = None

    def roles_of(self, email: str | None, groups: tuple[str, ...] = ()) -> frozenset[str]:
        """The roles an email and its groups hold (none: signed in but not let in)."""
        email = (email or "").strip().lower()
        groups_lower = {g.strip().lower() for g in groups}
        held = set()
        for role, entries in self.members.items():
            for entry in entries:
                entry = entry.strip().lower()
                if entry.startswith("group:"):
                    hit = entry.removeprefix("group:") in groups_lower
                elif "*" in entry:
                    hit = bool(email) and fnmatch.fnmatchcase(email, entry)
                else:
                    hit = bool(email) and email == entry
                if hit:
                    held.add(role)
                    break
        return frozenset(held)


@dataclass(frozen=True)
class User:
    """Who is using the app: `email` is what the audit trail and `collector` assignments name."""

    email: str
    name: str
    roles: frozenset[str]
    assigned_only: bool = False  # a collector who sees only the customers assigned to them
    signed_in: bool = True

    @classmethod
    def local(cls) -> User:
        """Sign-in off: the one user of a local app, with every role and every customer."""
        login = command_line_user().replace("(command line)", "(dashboard without sign-in)")
        return cls(email=login, name=login, roles=frozenset(ROLES), signed_in=False)

    def may_open(self, page: str) -> bool:
        return bool(self.roles & PAGE_ROLES.get(Path(page).stem, frozenset()))

    def may(self, action: str) -> bool:
        return ACTION_ROLES[action] in self.roles

    def require(self, action: str) -> None:
        """Refuse an action this user's roles do not allow (the server's check, not the menu's)."""
        if not self.may(action):
            raise Refused(
                f"{self.email} ({self.role_names() or 'no role'}) may not {ACTION_WORDS[action]}: "
                f"that is for a {ROLE_NAMES[ACTION_ROLES[action]]}"
            )

    def role_names(self) -> str:
        return ", ".join(ROLE_NAMES[r] for r in ROLES if r in self.roles)

    def scope(self) -> str | None:
        """The collector whose customers this user sees, or None for every customer."""
        if self.assigned_only and COLLECTOR in self.roles and not (self.roles & READERS):
            return self.email
        return None


ACTION_WORDS = {
    "call": "log a call",
    "email": "log an email",
    "promise": "log a promise to pay",
    "dispute": "log a dispute",
    "note": "add a note",
    "dunning": "record dunning notices",
    "hold": "place an order hold",
    "release": "release an order hold",
    "credit_limit": "set a credit limit",
    "approve_limit": "approve a credit limit",
    "decline_limit": "decline a credit limit",
    "import": "import files",
    "retrain": "retrain the models",
    "setting": "change settings",
}


def user_for(access: Access, email: str | None, name: str | None, groups) -> User:
    """The signed-in user with the roles the settings give their email and groups."""
    if isinstance(groups, str):  # one group, or a provider that joins them with commas
        groups = groups.split(",")
    groups = tuple(str(g).strip() for g in (groups or ()) if str(g).strip())
    roles = access.roles_of(email, groups)
    return User(
        email=(email or "").strip().lower() or "(no email)",
        name=(name or email or "").strip(),
        roles=roles,
        assigned_only=access.collectors_see_assigned,
    )


def load_access(config: str | Path | None = None, db_path: str | Path | None = None) -> Access:
    """The roles from `--config` or arlens.toml beside the store (no file: nobody is let in when
    sign-in is on; with sign-in off they do not matter)."""
    path = settings_path(config, db_path)
    if path is None:
        return Access()
    return parse_access(path, read_settings_file(path))


def parse_access(where: Path | str, data: dict) -> Access:
    """[roles], [access] and [credit] from a settings file's parsed TOML."""
    roles = data.get("roles", {})
    members = {}
    for role, entries in roles.items():
        if role not in ROLES:
            raise AccessError(f"{where}: [roles] {role}: unknown role (roles: {', '.join(ROLES)})")
        if isinstance(entries, str):
            entries = [entries]
        if not isinstance(entries, list) or not all(isinstance(e, str) for e in entries):
            raise AccessError(f"{where}: [roles] {role} must be a list of emails or groups")
        members[role] = tuple(entries)
    access = data.get("access", {})
    claim = str(access.get("groups_claim", "groups"))
    sees = str(access.get("collectors_see", "assigned"))
    if sees not in ("assigned", "all"):
        raise AccessError(f'{where}: [access] collectors_see = {sees!r}: use "assigned" or "all"')
    above = data.get("credit", {}).get("limit_approval_above")
    threshold = None
    if above is not None:
        try:
            threshold = Decimal(str(above))
        except InvalidOperation:
            threshold = None
        if threshold is None or threshold < 0 or isinstance(above, bool):
            raise AccessError(
                f"{where}: [credit] limit_approval_above = {above!r}: give an amount, e.g. 50000"
            )
    return Access(members, claim, sees == "assigned", threshold)
