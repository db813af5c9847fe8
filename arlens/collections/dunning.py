"""Dunning: which past-due customers are due for which reminder, by a policy, one step at a time.

A policy (TOML; the shipped one is default_dunning.toml, which documents the rules and the
template fields) has levels, each with a days-past-due threshold on the oldest past-due item, a
minimum past due, a minimum number of days since the previous notice and a letter template. A run
as of D is a proposal (`propose`); confirming it (`confirm`) records each notice as an activity of
kind `dunning` with its level and letter, so the next run starts from there. The customer's level
so far is its latest notice dated after its oldest past-due item fell due (older notices were
about something since paid). Customers with a past-due invoice in dispute, an unexpired promise
to pay or a dunning block are skipped with the reason, as is one that had a notice on D already:
running twice on a day proposes nothing new. An item counts as past due when it is more than the
store's grace days past its due date (`arlens config grace-days`, default 0); the policy's
day thresholds still count from the due date.
"""

from __future__ import annotations

import datetime as dt
import string
import tomllib
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from importlib import resources
from pathlib import Path

import pandas as pd

from arlens import metrics, queries
from arlens.collections.config import Company
from arlens.collections.statements import Customer, customers
from arlens.formats import money
from arlens.store import Store

ZERO = Decimal("0.00")
CENT = Decimal("0.01")
LEVEL_KEYS = {"level", "name", "days_past_due", "min_past_due", "min_days_since_previous",
              "subject", "body", "fee", "interest_rate", "action"}  # fmt: skip
FIELDS = ("customer", "customer_id", "contact", "company", "company_email", "company_phone",
          "remittance", "as_of", "level", "level_name", "total_past_due", "sentence",
          "largest_invoices", "oldest_days", "previous_notice", "statement", "charges",
          "total_due")  # fmt: skip
NO_CONTACT = "Accounts Payable team"


class PolicyError(ValueError):
    """The policy file is wrong; the message is one line naming the file and the key."""


@dataclass(frozen=True)
class Level:
    level: int
    name: str
    days_past_due: int
    min_past_due: Decimal
    min_days_since_previous: int
    subject: str
    body: str
    fee: Decimal = ZERO
    interest_rate: Decimal = ZERO  # percent a year
    action: str | None = None


@dataclass(frozen=True)
class Policy:
    name: str
    levels: tuple[Level, ...]
    source: str = "default"

    def level(self, number: int) -> Level | None:
        return self.levels[number - 1] if 1 <= number <= len(self.levels) else None

    @property
    def top(self) -> int:
        return len(self.levels)


def default_policy_text() -> str:
    return resources.files("arlens.collections").joinpath("default_dunning.toml").read_text("utf-8")


def load_policy(path: str | Path | None = None) -> Policy:
    """The policy in `path`, or the shipped default; every mistake is one PolicyError line."""
    where = str(path) if path else "default policy"
    try:
        text = Path(path).read_text(encoding="utf-8") if path else default_policy_text()
        data = tomllib.loads(text)
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as error:
        raise PolicyError(f"{where}: {error}") from None
    unknown = set(data) - {"name", "levels"}
    if unknown:
        raise PolicyError(f"{where}: unknown key {sorted(unknown)[0]!r} (keys: name, [[levels]])")
    raw = data.get("levels")
    if not isinstance(raw, list) or not raw:
        raise PolicyError(f"{where}: no levels: add [[levels]] tables (level = 1, 2, ...)")
    levels = tuple(_level(where, i, entry) for i, entry in enumerate(raw, start=1))
    for before, after in zip(levels, levels[1:], strict=False):
        if after.days_past_due < before.days_past_due:
            raise PolicyError(
                f"{where}: level {after.level} days_past_due {after.days_past_due} is below "
                f"level {before.level}'s {before.days_past_due}"
            )
    return Policy(str(data.get("name", "Dunning policy")), levels, where)


def _level(where: str, number: int, entry: dict) -> Level:
    place = f"{where}: level {number}"
    if not isinstance(entry, dict):
        raise PolicyError(f"{place}: each level is a [[levels]] table")
    unknown = set(entry) - LEVEL_KEYS
    if unknown:
        raise PolicyError(
            f"{place}: unknown key {sorted(unknown)[0]!r} (keys: {', '.join(sorted(LEVEL_KEYS))})"
        )
    if entry.get("level", number) != number:
        raise PolicyError(
            f"{place}: levels are numbered 1, 2, 3, ... in order; got {entry['level']}"
        )
    for key in ("name", "days_past_due", "subject", "body"):
        if key not in entry:
            raise PolicyError(f"{place}: missing {key}")
    for key in ("subject", "body"):
        _check_template(f"{place} {key}", entry[key])
    return Level(
        level=number,
        name=str(entry["name"]),
        days_past_due=_whole(place, "days_past_due", entry["days_past_due"]),
        min_past_due=_amount(place, "min_past_due", entry.get("min_past_due", 0)),
        min_days_since_previous=_whole(
            place, "min_days_since_previous", entry.get("min_days_since_previous", 0)
        ),
        subject=" ".join(str(entry["subject"]).split()),
        body=str(entry["body"]).strip("\n"),
        fee=_amount(place, "fee", entry.get("fee", 0)),
        interest_rate=_amount(place, "interest_rate", entry.get("interest_rate", 0)),
        action=entry.get("action"),
    )


def _whole(place: str, key: str, value) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or value < 0:
        raise PolicyError(f"{place}: {key} = {value!r}: give a whole number of days, 0 or more")
    return value


def _amount(place: str, key: str, value) -> Decimal:
    try:
        amount = Decimal(str(value))
    except InvalidOperation:
        amount = Decimal(-1)
    if isinstance(value, bool) or not amount.is_finite() or amount < 0:
        raise PolicyError(f"{place}: {key} = {value!r}: give a number, 0 or more")
    return amount


def _check_template(place: str, text) -> None:
    """Only the documented fields, plainly: no attributes, indexes, conversions or formats."""
    if not isinstance(text, str):
        raise PolicyError(f"{place}: give the template as text")
    try:
        parsed = list(string.Formatter().parse(text))
    except ValueError as error:
        raise PolicyError(f"{place}: {error} (write {{{{ and }}}} for a brace)") from None
    for _, name, spec, conversion in parsed:
        if name is None:
            continue
        if name not in FIELDS or spec or conversion:
            raise PolicyError(f"{place}: unknown field {{{name}}} (fields: {', '.join(FIELDS)})")


# -- the run ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Due:
    """What a customer owes past due in one currency at the run's date."""

    currency: str
    past_due: Decimal
    oldest_days: int
    oldest_invoice: str
    sentence: str
    largest: tuple[tuple[str, Decimal, dt.date], ...]  # (invoice, open amount, due date)
    fee: Decimal = ZERO
    interest: Decimal = ZERO

    @property
    def total_due(self) -> Decimal:
        return self.past_due + self.fee + self.interest


@dataclass(frozen=True)
class Notice:
    """A proposed (or, once confirmed, recorded) notice: the customer's next level and letter."""

    customer: Customer
    level: Level
    as_of: dt.date
    dues: tuple[Due, ...]
    previous_level: int
    previous_date: dt.date | None

    @property
    def reference(self) -> str:
        """The activity id and file name stem: one notice per customer and day."""
        return f"DUN-{self.as_of:%Y%m%d}-{self.customer.customer_id}-L{self.level.level}"

    @property
    def oldest_days(self) -> int:
        return max(due.oldest_days for due in self.dues)

    @property
    def oldest_invoice(self) -> str:
        return max(self.dues, key=lambda due: due.oldest_days).oldest_invoice

    def fields(self, company: Company, statement_attached: bool = True) -> dict[str, str]:
        """The template fields (FIELDS) of this notice."""

        def amounts(attribute: str) -> str:
            return " and ".join(money(getattr(d, attribute), d.currency, 2) for d in self.dues)

        largest = [
            (invoice, amount, due_date, d.currency)
            for d in self.dues
            for invoice, amount, due_date in d.largest
        ][:2]
        fees = [money(d.fee, d.currency, 2) for d in self.dues if d.fee]
        interest = [money(d.interest, d.currency, 2) for d in self.dues if d.interest]
        charges = ""
        if fees or interest:
            parts = ([f"a reminder fee of {' and '.join(fees)}"] if fees else []) + (
                [f"interest of {' and '.join(interest)} ({_rate(self.level.interest_rate)} a year)"]
                if interest
                else []
            )
            text = " and ".join(parts)
            charges = (
                text[0].upper() + text[1:] + (" are" if len(parts) > 1 else " is") + " added. "
            )
        previous = (
            f"We wrote to you about it on {_day(self.previous_date)}." if self.previous_date else ""
        )
        contact = self.customer.contact_name or NO_CONTACT
        return {
            "customer": self.customer.name,
            "customer_id": self.customer.customer_id,
            "contact": contact,
            "company": company.name,
            "company_email": company.email or "",
            "company_phone": company.phone or "",
            "remittance": "\n".join(company.remittance),
            "as_of": _day(self.as_of),
            "level": str(self.level.level),
            "level_name": self.level.name,
            "total_past_due": amounts("past_due"),
            "sentence": "; ".join(d.sentence for d in self.dues),
            "largest_invoices": "\n".join(
                f"- {invoice}: {money(amount, currency, 2)}, due {_day(due_date)}"
                for invoice, amount, due_date, currency in largest
            ),
            "oldest_days": str(self.oldest_days),
            "previous_notice": previous,
            "statement": (
                f"A statement of your account at {_day(self.as_of)} is attached."
                if statement_attached
                else ""
            ),
            "charges": charges,
            "total_due": amounts("total_due"),
        }

    def subject(self, company: Company) -> str:
        return self.level.subject.format_map(self.fields(company))

    def body(self, company: Company, statement_attached: bool = True) -> str:
        """The letter's text; blank lines left by empty fields are closed up."""
        text = self.level.body.format_map(self.fields(company, statement_attached))
        out: list[str] = []
        for line in (line.strip() for line in text.splitlines()):
            if line or (out and out[-1]):
                out.append(line)
        return "\n".join(out).strip()


@dataclass(frozen=True)
class Skip:
    """A past-due customer the run sends nothing: why, in words, and its level so far."""

    customer: Customer
    reason: str
    kind: str  # blocked | dispute | promise | today | final | wait | threshold
    level: int
    previous_date: dt.date | None
    oldest_days: int


@dataclass
class Run:
    as_of: dt.date
    policy: Policy
    notices: list[Notice] = field(default_factory=list)
    skipped: list[Skip] = field(default_factory=list)
    grace_days: int = 0  # items count as past due when more than this many days past due

    def table(self) -> pd.DataFrame:
        """One row per past-due customer: the proposed level, or why nothing is sent."""
        rows = [
            {"customer_id": n.customer.customer_id, "name": n.customer.name,
             "proposed_level": n.level.level, "level_name": n.level.name,
             "previous_level": n.previous_level, "previous_date": n.previous_date,
             "oldest_days": n.oldest_days,
             "past_due": " and ".join(money(d.past_due, d.currency, 2) for d in n.dues),
             "action": n.level.action or "", "email": n.customer.email or "",
             "reference": n.reference, "reason": ""}
            for n in self.notices
        ] + [
            {"customer_id": s.customer.customer_id, "name": s.customer.name,
             "proposed_level": None, "level_name": "", "previous_level": s.level,
             "previous_date": s.previous_date, "oldest_days": s.oldest_days, "past_due": "",
             "action": "", "email": s.customer.email or "", "reference": "", "reason": s.reason}
            for s in self.skipped
        ]  # fmt: skip
        frame = pd.DataFrame(rows, columns=RUN_COLUMNS)
        frame["proposed_level"] = frame["proposed_level"].astype("Int64")
        return frame.sort_values(["proposed_level", "customer_id"], ascending=[False, True],
                                 na_position="last", ignore_index=True)  # fmt: skip


RUN_COLUMNS = ["customer_id", "name", "proposed_level", "level_name", "previous_level",
               "previous_date", "oldest_days", "past_due", "action", "email", "reference",
               "reason"]  # fmt: skip


def propose(
    store: Store, as_of: dt.date, policy: Policy | None = None, grace_days: int | None = None
) -> Run:
    """The notices due at `as_of` by `policy` (default: the shipped one), and who is skipped.
    Only items more than `grace_days` past their due date count as past due (None: the store
    setting, `arlens config grace-days`, default 0); the policy's thresholds still count the days
    from the due date."""
    policy = policy or load_policy()
    grace = metrics.grace_in_force(store, grace_days)
    state = _state(store, as_of, grace)
    if not state:
        return Run(as_of, policy, grace_days=grace)
    work = metrics.worklist(store, as_of, grace_days=grace)
    sheets = {(r.customer_id, r.currency): r for r in work.itertuples()}
    people = customers(store, list(state))
    run = Run(as_of, policy, grace_days=grace)
    for customer_id, rows in state.items():
        customer = people[customer_id]
        sheet = [sheets.get((customer_id, r["currency"])) for r in rows]
        decision = _decide(customer, rows, sheet, as_of, policy)
        (run.notices if isinstance(decision, Notice) else run.skipped).append(decision)
    return run


def _state(store: Store, as_of: dt.date, grace: int) -> dict[str, list[dict]]:
    query = queries.load("dunning")["state"]
    cursor = store.con.execute(query.sql, {"as_of": as_of, "grace_days": grace})
    columns = [c[0] for c in cursor.description]
    state: dict[str, list[dict]] = {}
    for row in cursor.fetchall():
        record = dict(zip(columns, row, strict=True))
        state.setdefault(record["customer_id"], []).append(record)
    return state


def _decide(customer: Customer, rows: list[dict], sheets: list, as_of: dt.date, policy: Policy):
    """The customer's next notice, or a Skip saying why not (checks in the order a collector
    would: a block, a dispute, a promise, then the policy's thresholds)."""
    last_level = int(rows[0]["last_level"])
    last_date = rows[0]["last_notice_date"]
    oldest_days = max(int(r["oldest_days"]) for r in rows)

    def skip(kind: str, reason: str) -> Skip:
        return Skip(customer, reason, kind, last_level, last_date, oldest_days)

    if customer.dunning_blocked:
        return skip("blocked", "dunning blocked for this customer")
    disputed = [invoice for r in rows for invoice in r["disputed"]]
    if disputed:
        more = f" and {len(disputed) - 2} more" if len(disputed) > 2 else ""
        return skip("dispute", f"open dispute on {', '.join(disputed[:2])}{more}")
    promised = [s.next_promised_date for s in sheets if s is not None and s.open_promises]
    if promised:
        return skip("promise", f"promised to pay by {_day(min(promised))}")
    if last_date == as_of:
        return skip("today", f"level {last_level} notice already sent on {_day(as_of)}")
    level = policy.level(last_level + 1)
    if level is None:
        return skip("final", f"at the last level ({last_level}) since {_day(last_date)}")
    if oldest_days < level.days_past_due:
        return skip("threshold", f"oldest item {oldest_days} days past due; level {level.level} "
                                 f"needs {level.days_past_due}")  # fmt: skip
    if not any(r["past_due"] >= level.min_past_due for r in rows):
        return skip("threshold", f"past due below level {level.level}'s minimum of "
                                 f"{level.min_past_due:,.2f}")  # fmt: skip
    if last_date is not None and (as_of - last_date).days < level.min_days_since_previous:
        return skip("wait", f"level {last_level} sent {(as_of - last_date).days} days ago; level "
                            f"{level.level} needs {level.min_days_since_previous}")  # fmt: skip
    dues = tuple(_due(r, s, level) for r, s in zip(rows, sheets, strict=True))
    return Notice(customer, level, as_of, dues, last_level, last_date)


def _due(row: dict, sheet, level: Level) -> Due:
    currency = row["currency"]
    if sheet is not None:
        sentence = metrics.call_summary(sheet.past_due, sheet.sentence_amount, sheet.sentence_days,
                                        currency)  # fmt: skip
        largest = tuple(
            (invoice, Decimal(str(round(amount, 2))), pd.Timestamp(due).date())
            for invoice, amount, due in (
                (sheet.invoice_1, sheet.invoice_1_amount, sheet.invoice_1_due),
                (sheet.invoice_2, sheet.invoice_2_amount, sheet.invoice_2_due),
            )
            if isinstance(invoice, str)
        )
    else:  # never: the worklist has every (customer, currency) with past due
        sentence, largest = f"{money(row['past_due'], currency)} is past due", ()
    interest = ZERO
    if level.interest_rate:
        interest = (row["amount_days"] * level.interest_rate / Decimal(36500)).quantize(
            CENT, rounding=ROUND_HALF_UP
        )
    return Due(currency, row["past_due"], int(row["oldest_days"]), row["oldest_invoice"],
               sentence, largest, level.fee, interest)  # fmt: skip


def confirm(store: Store, run: Run, notices: list[Notice] | None = None) -> int:
    """Record the run's notices (or those of them given: e.g. the ones sent) as activities of kind
    `dunning`, in one transaction; returns how many were new."""
    notices = run.notices if notices is None else notices
    if not notices:
        return 0
    params = {
        "ids": [n.reference for n in notices],
        "customers": [n.customer.customer_id for n in notices],
        "invoices": [n.oldest_invoice for n in notices],
        "levels": [n.level.level for n in notices],
        "documents": [f"{n.reference}.pdf" for n in notices],
        "outcomes": [f"level {n.level.level} {n.level.name.lower()}" for n in notices],
        "as_of": run.as_of,
    }
    with store.transaction():
        before = int(store.value("SELECT count(*) FROM activities WHERE kind = 'dunning'"))
        store.execute(queries.sql("dunning", "record_notices"), params)
        after = int(store.value("SELECT count(*) FROM activities WHERE kind = 'dunning'"))
        if after > before:
            store.audit("dunning", None, {"as_of": run.as_of, "notices_recorded": after - before,
                                          "references": params["ids"][:50]})  # fmt: skip
            store.bump_data_version()
    return after - before


def history(
    store: Store, customer_id: str | None = None, as_of: dt.date | None = None
) -> pd.DataFrame:
    """Every dunning notice (of one customer), newest first, with its level and letter."""
    return store.df(queries.sql("dunning", "history"), {"customer": customer_id, "as_of": as_of})


def last_notices(store: Store, as_of: dt.date, grace_days: int | None = None) -> pd.DataFrame:
    """Each past-due customer's level so far and its date (for the worklist): customer_id,
    dunning_level, last_notice_date. `grace_days` as in `propose`."""
    state = _state(store, as_of, metrics.grace_in_force(store, grace_days))
    rows = [(c, int(r[0]["last_level"]), r[0]["last_notice_date"]) for c, r in state.items()]
    return pd.DataFrame(rows, columns=["customer_id", "dunning_level", "last_notice_date"])


def _day(day: dt.date | None) -> str:
    """31 October 2026 (no leading zero)."""
    return f"{day.day} {day:%B %Y}" if day else ""


def _rate(rate: Decimal) -> str:
    text = f"{rate:f}"
    return (text.rstrip("0").rstrip(".") if "." in text else text) + "%"


def notice_for(
    store: Store,
    customer_id: str,
    as_of: dt.date,
    policy: Policy | None = None,
    grace_days: int | None = None,
):
    """One customer's decision at `as_of` (a page's "letter for this customer"): its Notice, the
    Skip saying why none is due, or None when it has nothing past due."""
    run = propose(store, as_of, policy, grace_days)
    found = [d for d in [*run.notices, *run.skipped] if d.customer.customer_id == customer_id]
    return found[0] if found else None
