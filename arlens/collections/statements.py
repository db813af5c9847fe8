"""A customer's statement of account as plain data (queries in arlens/sql/statements.sql).

A statement covers one customer in one currency for a period [start, end]: the opening balance
(everything before `start`), every movement in the period in date order with a running balance,
the closing balance, and the aging at `end` in the Aging page's buckets. The balance is open AR
net of unapplied cash and credits, so a statement reconciles line by line: opening + movements =
closing = the open items at `end` (`Statement.problems()` says where it would not). The
open-items variant lists only what is outstanding at `end` ("only the outstanding invoices").

Amounts are Decimal, to the cent, as the store keeps them.
"""

from __future__ import annotations

import datetime as dt
import difflib
from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal

from arlens import queries
from arlens.formats import money
from arlens.metrics import DEFAULT_EDGES, UNAPPLIED, bucket_labels
from arlens.store import Store

ZERO = Decimal("0.00")
KIND_NAMES = {
    "opening": "Opening balance",
    "invoice": "Invoice",
    "debit_memo": "Debit memo",
    "credit_memo": "Credit memo",
    "payment": "Payment",
    "paid_date": "Paid",
    "open_balance": "Paid",
    "write_off": "Write-off",
    "unapplied_cash": "Unapplied cash",
    "unapplied_credit": "Unapplied credit",
}
DUE_KINDS = ("invoice", "debit_memo")  # the lines that fall due
SHOWN_APPLIED = 3  # invoices named in a payment's description; the rest are counted


class StatementError(ValueError):
    """A statement cannot be made as asked (unknown customer, a period ending before it starts);
    the message is one line."""


@dataclass(frozen=True)
class Customer:
    """Whom a statement or notice is addressed to."""

    customer_id: str
    name: str
    currency: str | None = None
    contact_name: str | None = None
    email: str | None = None
    phone: str | None = None
    country: str | None = None
    dunning_blocked: bool = False


@dataclass(frozen=True)
class Line:
    """One row of a statement. `amount` is signed (+ charges, − payments, credits, write-offs);
    `balance` is the running balance after it. Payments and credit memos carry the part of them
    left `unapplied`; open items carry their `original` amount and `days_past_due`."""

    date: dt.date
    kind: str
    document: str
    description: str
    amount: Decimal
    balance: Decimal
    due_date: dt.date | None = None
    unapplied: Decimal = ZERO
    reference: str | None = None
    original: Decimal | None = None
    days_past_due: int | None = None

    @property
    def charge(self) -> Decimal:
        return self.amount if self.amount > 0 else ZERO

    @property
    def credit(self) -> Decimal:
        return -self.amount if self.amount < 0 else ZERO


@dataclass
class Statement:
    """One customer's account in one currency. `aging` maps the Aging page's bucket labels (and
    "Unapplied") to amounts at `end`; `open_ar` is their sum (open items net of unapplied)."""

    customer: Customer
    currency: str
    start: dt.date | None
    end: dt.date
    opening: Decimal
    lines: list[Line]
    closing: Decimal
    aging: dict[str, Decimal]
    open_ar: Decimal
    past_due: Decimal
    open_items_only: bool = False
    labels: list[str] = field(default_factory=list)

    @property
    def unapplied(self) -> Decimal:
        """Unapplied cash and credits at `end` (negative): in the balance, apart from the buckets."""
        return self.aging.get(UNAPPLIED, ZERO)

    @property
    def charges(self) -> Decimal:
        return sum((line.charge for line in self.lines), ZERO)

    @property
    def credits(self) -> Decimal:
        return sum((line.credit for line in self.lines), ZERO)

    def problems(self) -> list[str]:
        """Where the statement does not reconcile, in words (empty when it does)."""
        found = []
        balance = self.opening
        for line in self.lines:
            balance += line.amount
            if line.balance != balance:
                found.append(f"{line.document} on {line.date}: balance {line.balance} != {balance}")
        if self.opening + self.charges - self.credits != self.closing:
            found.append(
                f"opening {self.opening} + charges {self.charges} - credits {self.credits} "
                f"!= closing {self.closing}"
            )
        if self.closing != self.open_ar:
            found.append(f"closing {self.closing} != open items at {self.end} {self.open_ar}")
        if sum(self.aging.values(), ZERO) != self.open_ar:
            found.append(f"aging {sum(self.aging.values(), ZERO)} != open items {self.open_ar}")
        return found

    @property
    def reconciles(self) -> bool:
        return not self.problems()

    def text(self, amount) -> str:
        """An amount in this statement's currency, as the Aging page writes it ("€1,234.56")."""
        return money(amount, self.currency, 2)


def default_start(end: dt.date) -> dt.date:
    """A monthly statement: the first day of `end`'s month."""
    return end.replace(day=1)


def _records(store: Store, domain: str, name: str, params: dict) -> list[dict]:
    """A named query's rows as dicts, read to the end (DESIGN.md §5), Decimals kept."""
    query = queries.load(domain)[name]
    cursor = store.con.execute(
        query.sql, {k: v for k, v in params.items() if k in query.parameters}
    )
    columns = [column[0] for column in cursor.description]
    return [dict(zip(columns, row, strict=True)) for row in cursor.fetchall()]


def customers(store: Store, ids: Sequence[str] | None = None) -> dict[str, Customer]:
    """The addressees of `ids` (None: every customer), by id."""
    params = {"customers": None if ids is None else list(ids)}
    return {
        r["customer_id"]: Customer(**r) for r in _records(store, "statements", "customers", params)
    }


def check_customer(store: Store, customer_id: str) -> Customer:
    """The customer, or a StatementError naming the closest ids (and the id of a name given)."""
    found = customers(store, [customer_id])
    if customer_id in found:
        return found[customer_id]
    known = _records(store, "statements", "customer_ids", {})
    by_name = [r["customer_id"] for r in known if (r["name"] or "").lower() == customer_id.lower()]
    if by_name:
        raise StatementError(f"no customer {customer_id!r}: that is the name of {by_name[0]}")
    close = difflib.get_close_matches(customer_id, [r["customer_id"] for r in known], 3, 0.5)
    hint = f"; did you mean {' or '.join(close)}?" if close else ""
    raise StatementError(f"no customer {customer_id!r} in the store{hint}")


def past_due_customers(store: Store, as_of: dt.date) -> list[str]:
    """The customers with anything past due at `as_of`."""
    return [
        r["customer_id"]
        for r in _records(store, "statements", "past_due_customers", {"as_of": as_of})
    ]


def statements(
    store: Store,
    end: dt.date,
    start: dt.date | None = None,
    customer_ids: Sequence[str] | None = None,
    open_items_only: bool = False,
    edges: Sequence[int] = DEFAULT_EDGES,
) -> list[Statement]:
    """The statements of `customer_ids` (None: every customer) for [start, end] (start: the first
    of end's month), one per customer and currency with anything to show, by customer id.

    Two queries for all of them: the movements and the open items at `end`."""
    start = start or default_start(end)
    if start > end:
        raise StatementError(f"the period starts on {start} after it ends on {end}")
    ids = None if customer_ids is None else list(dict.fromkeys(customer_ids))
    params = {"customers": ids, "start": start, "end": end, "edges": list(edges)}
    entries = _group(_records(store, "statements", "entries", params))
    items = _group(_records(store, "statements", "open_items", params))
    people = customers(store, ids)
    labels = bucket_labels("due", edges)
    result = []
    for key in sorted(set(entries) | set(items)):
        customer_id, currency = key
        if customer_id not in people:
            continue  # a document of a customer the store does not have (never: stubs exist)
        result.append(
            _statement(
                people[customer_id],
                currency,
                start,
                end,
                entries.get(key, []),
                items.get(key, []),
                labels,
                open_items_only,
            )  # fmt: skip
        )
    return result


def statement(
    store: Store,
    customer_id: str,
    end: dt.date,
    start: dt.date | None = None,
    currency: str | None = None,
    open_items_only: bool = False,
    edges: Sequence[int] = DEFAULT_EDGES,
) -> Statement:
    """One customer's statement in `currency` (default: the customer's own, else the one its
    documents are in). A customer with nothing in the period gets an empty statement."""
    customer = check_customer(store, customer_id)
    found = statements(store, end, start, [customer_id], open_items_only, edges)
    wanted = currency or customer.currency
    for candidate in found:
        if wanted is None or candidate.currency == wanted:
            return candidate
    if currency is None and found:
        return found[0]
    labels = bucket_labels("due", edges)
    return _statement(customer, wanted or store.home_currency() or "", start or default_start(end),
                      end, [], [], labels, open_items_only)  # fmt: skip


def _group(rows: list[dict]) -> dict[tuple[str, str], list[dict]]:
    grouped: dict[tuple[str, str], list[dict]] = {}
    for row in rows:
        grouped.setdefault((row["customer_id"], row["currency"]), []).append(row)
    return grouped


def _statement(
    customer, currency, start, end, entries, items, labels, open_items_only
) -> Statement:
    aging = {label: ZERO for label in [*labels, UNAPPLIED]}
    past_due = ZERO
    for item in items:
        label = UNAPPLIED if item["bucket_index"] == -1 else labels[item["bucket_index"]]
        aging[label] += item["open_amount"]
        if (item["days_past_due"] or 0) > 0:
            past_due += item["open_amount"]
    open_ar = sum(aging.values(), ZERO)
    if open_items_only:
        opening, start, lines = ZERO, None, _open_item_lines(items, currency)
    else:
        opening = sum((e["amount"] for e in entries if e["kind"] == "opening"), ZERO)
        lines = _movement_lines([e for e in entries if e["kind"] != "opening"], opening, currency)
    closing = lines[-1].balance if lines else opening
    return Statement(customer, currency, start, end, opening, lines, closing, aging, open_ar,
                     past_due, open_items_only, labels)  # fmt: skip


def _movement_lines(entries: list[dict], opening: Decimal, currency: str) -> list[Line]:
    lines, balance = [], opening
    for e in entries:
        balance += e["amount"]
        lines.append(
            Line(
                e["entry_date"],
                e["kind"],
                e["document_id"],
                _describe(e, currency),
                e["amount"],
                balance,
                e["due_date"] if e["kind"] in DUE_KINDS else None,
                e["unapplied"],
                e["reference"] or None,
            )  # fmt: skip
        )
    return lines


def _open_item_lines(items: list[dict], currency: str) -> list[Line]:
    lines, balance = [], ZERO
    for item in items:
        balance += item["open_amount"]
        kind = item["kind"]
        lines.append(
            Line(
                item["document_date"],
                kind,
                item["document_id"],
                f"Instalment {item['instalment']}"
                if item.get("instalment")
                else KIND_NAMES.get(kind, kind),
                item["open_amount"],
                balance,
                item["due_date"],
                item["open_amount"] if kind.startswith("unapplied") else ZERO,
                original=item["amount"],
                days_past_due=item["days_past_due"],
            )  # fmt: skip
        )
    return lines


def _describe(entry: dict, currency: str) -> str:
    """What a movement is, in a few words: "Payment (ACH 1234), applied to INV1; $20.00 unapplied"."""
    kind, applied, unapplied = entry["kind"], entry["applied_to"] or [], entry["unapplied"]
    if kind in ("invoice", "debit_memo"):
        reference = entry["reference"]
        return KIND_NAMES[kind] + (f", PO {reference}" if reference else "")
    if kind == "paid_date":
        return "Paid (the invoice's paid date)"
    if kind == "open_balance":
        return "Paid before the open-items export"
    if kind == "write_off":
        return "Written off"
    text = KIND_NAMES.get(kind, kind)
    if kind == "payment" and entry["reference"]:
        text += f" ({entry['reference']})"
    parts = []
    if applied:
        shown = ", ".join(applied[:SHOWN_APPLIED])
        more = len(applied) - SHOWN_APPLIED
        parts.append(f"applied to {shown}" + (f" and {more} more" if more > 0 else ""))
    if unapplied:
        parts.append(
            f"{money(-unapplied, currency, 2)} unapplied" if applied else "unapplied (on account)"
        )
    return text + (", " + "; ".join(parts) if parts else "")
