"""What collectors and credit managers record from the pages: calls, emails, promises to pay,
disputes and notes (rows of `activities`), order holds, and new credit limits.

Every action checks the user's role and, for a collector who sees only their own customers, the
customer's assignment, here on the server, whatever the page showed. Each runs in one transaction
with its audit line; the audit line's id is the submission's idempotency key, so a form sent twice
(a double click, a retry after "the file is busy") is recorded once: the second call returns False.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

import pandas as pd

from arlens import queries
from arlens.store import Store
from arlens.team.roles import Access, Refused, User

CONTACT_OUTCOMES = (
    "reached",
    "left a message",
    "no answer",
    "wrong contact",
    "will pay",
    "refused to pay",
    "asked for a copy",
)
DISPUTE_REASONS = (
    "pricing",
    "quantity or damage",
    "not received",
    "duplicate billing",
    "already paid",
    "other",
)
ACTIVITY_KINDS = ("call", "email", "promise", "dispute", "note")
MAX_TEXT = 2000  # characters of a note or reason


class ActionError(ValueError):
    """The action cannot be recorded as given; one line saying what to change."""


@dataclass(frozen=True)
class Customer:
    customer_id: str
    name: str
    collector: str | None
    credit_limit: Decimal | None
    reviewed_on: dt.date | None


def customer(store: Store, user: User, customer_id: str) -> Customer:
    """The customer an action concerns; refused when a collector may not act on it."""
    row = store.rows(
        "SELECT customer_id, coalesce(nullif(trim(name), ''), customer_id), collector, "
        "credit_limit, credit_limit_reviewed_on FROM customers WHERE customer_id = ?",
        [customer_id],
    )
    if not row:
        raise ActionError(f"no customer {customer_id!r} in the store")
    found = Customer(*row[0])
    scope = user.scope()
    if scope is not None and (found.collector or "").strip().lower() != scope:
        raise Refused(f"{found.name} is not assigned to {user.email}")
    return found


def _text(value: str | None, what: str, required: bool) -> str | None:
    value = (value or "").strip()
    if not value:
        if required:
            raise ActionError(f"give the {what}")
        return None
    if len(value) > MAX_TEXT:
        raise ActionError(f"the {what} is {len(value):,} characters; keep it under {MAX_TEXT:,}")
    return value


def _amount(value, what: str) -> Decimal:
    try:
        amount = Decimal(str(value)).quantize(Decimal("0.01"))
    except (InvalidOperation, ValueError):
        raise ActionError(f"the {what} {value!r} is not an amount") from None
    if amount < 0 or not amount.is_finite() or amount >= Decimal("1e16"):
        raise ActionError(f"the {what} must be zero or more (got {value})")
    return amount


def log_activity(
    store: Store,
    user: User,
    kind: str,
    customer_id: str,
    *,
    day: dt.date,
    key: str,
    outcome: str | None = None,
    note: str | None = None,
    invoice_id: str | None = None,
    promised_date: dt.date | None = None,
    promised_amount=None,
) -> bool:
    """Record a call, email, promise to pay, dispute or note dated `day`; False when `key` was
    recorded before (nothing written twice)."""
    if kind not in ACTIVITY_KINDS:
        raise ActionError(f"unknown activity {kind!r} (one of {', '.join(ACTIVITY_KINDS)})")
    user.require(kind)
    who = customer(store, user, customer_id)
    if day > dt.date.today():
        raise ActionError(
            f"the {kind} is dated {day:%d %b %Y}, after today: log it when it happens"
        )
    note = _text(note, "reason" if kind == "dispute" else "note", kind in ("note", "dispute"))
    amount = None
    if kind in ("call", "email"):
        if outcome not in CONTACT_OUTCOMES:
            raise ActionError(f"choose the {kind}'s outcome ({', '.join(CONTACT_OUTCOMES)})")
    elif kind == "promise":
        if promised_date is None or promised_date < day:
            raise ActionError(f"the promised date must be on or after {day:%d %b %Y}")
        amount = _amount(promised_amount, "promised amount")
        if amount == 0:
            raise ActionError("the promised amount must be more than zero")
        outcome = None  # open: kept or broken is read from the payments after the date
    elif kind == "dispute":
        if outcome not in DISPUTE_REASONS:
            raise ActionError(f"choose the dispute's reason ({', '.join(DISPUTE_REASONS)})")
    else:
        outcome = None
    if invoice_id:
        owner = store.value("SELECT customer_id FROM invoices WHERE invoice_id = ?", [invoice_id])
        if owner != who.customer_id:
            raise ActionError(f"invoice {invoice_id} is not {who.name}'s")
    elif kind == "dispute":
        raise ActionError("choose the invoice in dispute")
    details = {
        "customer": who.name,
        "date": day.isoformat(),
        "invoice": invoice_id,
        "outcome": outcome,
        "promised_date": promised_date.isoformat() if promised_date else None,
        "promised_amount": str(amount) if amount is not None else None,
        "note": note,
    }
    with store.transaction():
        if not store.audit(kind, who.customer_id, {k: v for k, v in details.items() if v}, key):
            return False
        store.execute(
            "INSERT INTO activities (activity_id, customer_id, invoice_id, activity_date, kind, "
            "promised_date, promised_amount, outcome, note, created_by, created_at) "
            "VALUES ($id, $customer, $invoice, $day, $kind, $promised_date, $amount, $outcome, "
            "$note, $user, now()::TIMESTAMP)",
            {
                "id": key,
                "customer": who.customer_id,
                "invoice": invoice_id or None,
                "day": day,
                "kind": kind,
                "promised_date": promised_date if kind == "promise" else None,
                "amount": amount,
                "outcome": outcome,
                "note": note,
                "user": user.email,
            },
        )
    return True


def current_hold(store: Store, customer_id: str):
    """The customer's hold in force (held_since, reason, held_by), or None."""
    held = holds_in_force(store)
    row = held[held["customer_id"] == customer_id]
    return None if row.empty else row.iloc[0]


def set_hold(
    store: Store, user: User, customer_id: str, hold: bool, reason: str, *, day: dt.date, key: str
) -> bool:
    """Place (hold=True) or release an order hold, with the reason; False when `key` was
    recorded before."""
    action = "hold" if hold else "release"
    user.require(action)
    who = customer(store, user, customer_id)
    reason = _text(reason, "reason", True)
    with store.transaction():  # (the refusal below rolls the audit line back)
        details = {"customer": who.name, "date": day.isoformat(), "reason": reason}
        if not store.audit(action, who.customer_id, details, key):
            return False
        now = current_hold(store, who.customer_id)
        held = now is not None
        if hold == held:
            state = (
                f"on hold since {now['held_since']:%d %b %Y} ({now['held_by']})"
                if held
                else "not on hold"
            )
            raise ActionError(f"{who.name} is already {state}")
        store.execute(
            "INSERT INTO order_holds VALUES (?, ?, ?, ?, ?, ?, now()::TIMESTAMP)",
            [key, who.customer_id, action, day, reason, user.email],
        )
    return True


def request_limit(
    store: Store,
    user: User,
    access: Access,
    customer_id: str,
    new_limit,
    reason: str,
    *,
    day: dt.date,
    key: str,
) -> str | None:
    """Set a new credit limit from `day`: "applied" at once, or "pending" when the policy asks
    for a second credit manager's approval; None when `key` was recorded before."""
    user.require("credit_limit")
    who = customer(store, user, customer_id)
    limit = _amount(new_limit, "credit limit")
    reason = _text(reason, "reason", True)
    needs_approval = access.limit_approval_above is not None and limit > access.limit_approval_above
    status = "pending" if needs_approval else "applied"
    with store.transaction():
        details = {"customer": who.name, "before": who.credit_limit, "after": str(limit),
                   "effective_from": day.isoformat(), "reason": reason, "status": status}  # fmt: skip
        if not store.audit("credit_limit", who.customer_id, details, key):
            return None
        store.execute(
            "INSERT INTO limit_requests VALUES (?, ?, ?, ?, ?, ?, ?, now()::TIMESTAMP, ?, NULL, "
            "NULL)",
            [key, who.customer_id, limit, who.credit_limit, day, reason, user.email, status],
        )
        if not needs_approval:
            _apply_limit(store, who, limit, day, reason, user.email, approved_by=None)
    return status


def decide_limit(store: Store, user: User, request_id: str, approve: bool, *, key: str) -> bool:
    """Approve or decline a pending limit; the one who asked cannot decide it (four eyes)."""
    action = "approve_limit" if approve else "decline_limit"
    user.require(action)
    rows = store.rows(
        "SELECT customer_id, credit_limit, effective_from, reason, requested_by, status "
        "FROM limit_requests WHERE request_id = ?",
        [request_id],
    )
    if not rows:
        raise ActionError(f"no limit request {request_id!r}")
    customer_id, limit, effective_from, reason, requested_by, status = rows[0]
    who = customer(store, user, customer_id)
    if requested_by == user.email:
        raise Refused(f"{user.email} asked for this limit; another credit manager must decide it")
    with store.transaction():
        if not store.audit(action, customer_id, {"customer": who.name, "request": request_id,
                                                 "limit": str(limit), "asked_by": requested_by}, key):  # fmt: skip
            return False
        current = store.value(
            "SELECT status FROM limit_requests WHERE request_id = ?", [request_id]
        )
        if current != "pending":
            raise ActionError(f"this limit request is already {current}")
        store.execute(
            "UPDATE limit_requests SET status = ?, decided_by = ?, decided_at = now()::TIMESTAMP "
            "WHERE request_id = ?",
            ["applied" if approve else "declined", user.email, request_id],
        )
        if approve:
            _apply_limit(store, who, limit, effective_from, reason, requested_by, user.email)
    return True


def _apply_limit(store, who: Customer, limit, day, reason, set_by, approved_by) -> None:
    """The limit in force from `day`: a limit-history row, and the customer's current limit.
    A customer with no history yet gets one for the limit it had, so dates before `day` still
    read the old limit (credit_limits_at falls back to the current limit only without history)."""
    history = store.value(
        "SELECT count(*) FROM credit_limits WHERE customer_id = ?", [who.customer_id]
    )
    if not history and who.credit_limit is not None:
        early = who.reviewed_on is not None and who.reviewed_on < day
        since = who.reviewed_on if early else dt.date(1900, 1, 1)
        store.execute(
            "INSERT INTO credit_limits (limit_key, customer_id, effective_from, credit_limit, "
            "reviewed_on, reason) VALUES (?, ?, ?, ?, ?, 'the limit before its first change in "
            "AR Lens')",
            [f"{who.customer_id}|{since}", who.customer_id, since, who.credit_limit, who.reviewed_on],
        )  # fmt: skip
    store.execute(
        "INSERT INTO credit_limits (limit_key, customer_id, effective_from, credit_limit, "
        "reviewed_on, approved_by, set_by, set_at, reason) "
        "VALUES ($key, $customer, $day, $limit, $day, $approver, $by, now()::TIMESTAMP, $reason) "
        "ON CONFLICT (limit_key) DO UPDATE SET credit_limit = excluded.credit_limit, "
        "reviewed_on = excluded.reviewed_on, approved_by = excluded.approved_by, "
        "set_by = excluded.set_by, set_at = excluded.set_at, reason = excluded.reason",
        {"key": f"{who.customer_id}|{day}", "customer": who.customer_id, "day": day,
         "limit": limit, "approver": approved_by, "by": set_by, "reason": reason},
    )  # fmt: skip
    # the current limit is the latest in the history (a change dated before a later one is not it)
    store.execute(
        "UPDATE customers SET credit_limit = h.credit_limit, credit_limit_reviewed_on = h.reviewed_on "
        "FROM (SELECT credit_limit, reviewed_on FROM credit_limits WHERE customer_id = $c "
        "ORDER BY effective_from DESC LIMIT 1) h WHERE customer_id = $c",
        {"c": who.customer_id},
    )


def pending_limits(store: Store) -> pd.DataFrame:
    return store.df(queries.sql("team", "pending_limits"))


def holds_in_force(store: Store) -> pd.DataFrame:
    return store.df(queries.sql("team", "holds_in_force"))


def customer_activities(store: Store, customer_id: str, limit: int = 5) -> pd.DataFrame:
    return store.df(
        queries.sql("team", "customer_activities"), {"customer": customer_id, "limit": limit}
    )


def assigned_customers(store: Store, collector: str) -> list[str]:
    return [
        c
        for (c,) in store.rows(queries.sql("team", "assigned_customers"), {"collector": collector})
    ]
