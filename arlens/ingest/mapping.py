"""Which source header is which canonical column, and how each table's columns are typed.

ERP exports name the same thing a dozen ways (`Invoice No`, `Inv #`, `Document Number`, `BELNR`,
`Belegnummer`). Headers are compared after folding case, accents and everything but letters and
digits, so the lists below name each spelling once. A TOML mapping file adds or overrides anything.
"""

from __future__ import annotations

import codecs
import datetime as dt
import difflib
import re
import tomllib
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path

# Re-exported: tests and tools read them here.
from arlens.ingest.synonyms import (  # noqa: F401
    DOCUMENT_CUSTOMER,
    DOCUMENT_SIDE,
    INVOICE_AMOUNTS,
    LOCAL_SIDE,
    PAYMENT_AMOUNTS,
    SYNONYMS,
    TABLE_SYNONYMS,
)

# Column kinds: how the text of a cell becomes a value (see importer.parse_expression).
ID, TEXT, DATE, AMOUNT, INTEGER, BOOLEAN = "id", "text", "date", "amount", "integer", "boolean"
# An exchange rate or a share: a plain decimal number with up to 12 decimals, stored as written.
NUMBER = "number"


@dataclass(frozen=True)
class TableSpec:
    """A table as the user imports it: `credit_memos` lands in `invoices`."""

    name: str
    target: str
    key: str
    required: tuple[str, ...]
    columns: dict[str, str]
    # Columns that help loading but are not stored as such: an invoice file's own payment terms,
    # the open balance of an open-items export, the customer's country.
    helper_columns: tuple[str, ...] = ()
    # A key made of these columns (joined by `|`) when the table's rows are named by several:
    # a rate by currency, base and day; a limit by customer and the day it took effect.
    natural_key: tuple[str, ...] = ()


INVOICE_COLUMNS = {
    "invoice_id": ID,
    "customer_id": ID,
    "invoice_date": DATE,
    "due_date": DATE,
    "amount": AMOUNT,
    "doc_type": TEXT,
    "currency": TEXT,
    "disputed": BOOLEAN,
    "dispute_reason": TEXT,
    "po_number": TEXT,
    "billing_channel": TEXT,
    "paid_date": DATE,
    "written_off_on": DATE,
    "applies_to": ID,
    "payment_terms_days": INTEGER,
    "open_amount": AMOUNT,
    "country": TEXT,
}
INVOICE_HELPERS = ("payment_terms_days", "open_amount", "country")

TABLES: dict[str, TableSpec] = {
    "customers": TableSpec(
        "customers",
        "customers",
        "customer_id",
        ("customer_id",),
        {
            "customer_id": ID,
            "name": TEXT,
            "segment": TEXT,
            "industry": TEXT,
            "country": TEXT,
            "currency": TEXT,
            "payment_terms_days": INTEGER,
            "credit_limit": AMOUNT,
            "credit_limit_reviewed_on": DATE,
            "risk_rating": TEXT,
            "salesperson": TEXT,
            "parent_id": ID,
            "contact_name": TEXT,
            "email": TEXT,
            "phone": TEXT,
            "dunning_blocked": BOOLEAN,
            "collector": TEXT,
        },
    ),
    "invoices": TableSpec(
        "invoices",
        "invoices",
        "invoice_id",
        ("invoice_id", "customer_id", "invoice_date", "amount"),
        INVOICE_COLUMNS,
        helper_columns=INVOICE_HELPERS,
    ),
    "payments": TableSpec(
        "payments",
        "payments",
        "payment_id",
        ("customer_id", "payment_date", "amount"),
        {
            "payment_id": ID,
            "customer_id": ID,
            "payment_date": DATE,
            "amount": AMOUNT,
            "invoice_id": ID,
            "method": TEXT,
            "reference": TEXT,
            "currency": TEXT,
            "payment_type": TEXT,  # payment / refund / reversal: only read, not stored
        },
        helper_columns=("payment_type",),
    ),
    "financials": TableSpec(
        "financials",
        "financials",
        "period_end",
        ("period_end",),
        {
            "period_end": DATE,
            "revenue": AMOUNT,
            "credit_sales": AMOUNT,
            "cogs": AMOUNT,
            "inventory": AMOUNT,
            "accounts_payable": AMOUNT,
            "accounts_receivable": AMOUNT,
        },
    ),
    "activities": TableSpec(
        "activities",
        "activities",
        "activity_id",
        ("customer_id", "activity_date", "kind"),
        {
            "activity_id": ID,
            "customer_id": ID,
            "invoice_id": ID,
            "activity_date": DATE,
            "kind": TEXT,
            "promised_date": DATE,
            "promised_amount": AMOUNT,
            "outcome": TEXT,
            "level": INTEGER,
            "document": TEXT,
        },
    ),
}
# The tables of payment schedules, open orders, credit limit history and exchange rates.
TABLES["invoice_instalments"] = TableSpec(
    "invoice_instalments",
    "invoice_instalments",
    "instalment_key",
    ("invoice_id", "due_date"),
    {
        "instalment_key": ID,
        "invoice_id": ID,
        "due_date": DATE,
        "amount": AMOUNT,
        "share": NUMBER,
        # ERPNext's invoice_portion: a percentage (50 and 50% are both half), stored as `share`
        "portion_percent": NUMBER,
    },
    helper_columns=("portion_percent",),
    natural_key=("invoice_id", "due_date"),
)
TABLES["orders"] = TableSpec(
    "orders",
    "orders",
    "order_id",
    ("order_id", "customer_id", "order_date", "amount"),
    {
        "order_id": ID,
        "customer_id": ID,
        "order_date": DATE,
        "amount": AMOUNT,
        "currency": TEXT,
        "status": TEXT,
    },
)
TABLES["credit_limits"] = TableSpec(
    "credit_limits",
    "credit_limits",
    "limit_key",
    ("customer_id", "effective_from"),
    {
        "limit_key": ID,
        "customer_id": ID,
        "effective_from": DATE,
        "credit_limit": AMOUNT,
        "reviewed_on": DATE,
        "approved_by": TEXT,
    },
    natural_key=("customer_id", "effective_from"),
)
TABLES["fx_rates"] = TableSpec(
    "fx_rates",
    "fx_rates",
    "rate_key",
    ("rate_date", "currency", "rate"),
    {
        "rate_key": ID,
        "rate_date": DATE,
        "currency": TEXT,
        "base_currency": TEXT,
        "rate": NUMBER,
    },
    natural_key=("currency", "base_currency", "rate_date"),
)
TABLES["credit_memos"] = TableSpec(
    "credit_memos",
    "invoices",
    "invoice_id",
    ("invoice_id", "customer_id", "invoice_date", "amount"),
    INVOICE_COLUMNS,
    helper_columns=INVOICE_HELPERS,
)


def fold(header: str) -> str:
    """`Inv #` -> `inv`, `customerID` -> `customerid`, `Nettofälligkeit` -> `nettofalligkeit`."""
    text = unicodedata.normalize("NFKD", header.lower()).replace("ß", "ss")
    return re.sub(r"[^0-9a-z]", "", text)


def synonyms(spec: TableSpec, column: str) -> list[str]:
    """The folded spellings `column` answers to in `spec`, best first."""
    names = TABLE_SYNONYMS.get(spec.name, {}).get(column) or SYNONYMS.get(column, [])
    return names if fold(column) in names else [fold(column), *names]


def payment_amount_problem(header: list[str]) -> str | None:
    """When a payments file's only money column is an invoice's amount, say which one to map.

    Taking an invoice's amount as the payment would settle invoices that were paid in part.
    Returns None when the file has a payment amount or no invoice amount either.
    """
    folded = [fold(h) for h in header]
    if any(name in folded for name in PAYMENT_AMOUNTS):
        return None
    invoice_amount = next(
        (h for h, f in zip(header, folded, strict=True) if f in INVOICE_AMOUNTS), None
    )
    if invoice_amount is None:
        return None
    return (
        f"no payment amount column: the file's only amount, {invoice_amount!r}, is what the "
        "invoice was for, not what was paid; name the payment amount in a mapping file: "
        '[columns] "Your Header" = "amount"'
    )


# -- mapping files ----------------------------------------------------------------------------

SECTIONS = ("columns", "values", "defaults", "format")
FORMAT_KEYS = (
    "date",
    "decimal",
    "delimiter",
    "encoding",
    "sheet",
    "header_row",
    "skip_rows",
    "currency",
    "two_digit_year_pivot",
    "export_date",
    "quoted_per",  # a wide rates file's quotes are per one unit of this currency (default EUR)
)
ALL_COLUMNS = sorted({column for spec in TABLES.values() for column in spec.columns})


class MappingError(Exception):
    """The mapping file is wrong; the message is one line naming the file."""


@dataclass
class Mapping:
    """What a TOML mapping file says; empty when none is given."""

    columns: dict[str, str] = field(default_factory=dict)  # source header -> canonical column
    values: dict[str, dict[str, str]] = field(default_factory=dict)  # column -> {raw: value}
    defaults: dict[str, str] = field(default_factory=dict)  # column -> value when absent
    options: dict = field(default_factory=dict)  # [format]: see FORMAT_KEYS

    @classmethod
    def load(cls, path: Path | None) -> Mapping:
        """Read and check a mapping file; every mistake is one MappingError line naming the key."""
        if path is None:
            return cls()
        try:
            data = tomllib.loads(Path(path).read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as error:
            raise MappingError(f"{path}: {error}") from None
        _check(str(path), data)
        values = {
            col: {str(k): _value_text(v) for k, v in table.items()}
            for col, table in data.get("values", {}).items()
        }
        return cls(
            columns={str(k): str(v) for k, v in data.get("columns", {}).items()},
            values=values,
            defaults={str(k): _value_text(v) for k, v in data.get("defaults", {}).items()},
            options=dict(data.get("format", {})),
        )


def _value_text(value) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _did_you_mean(word: str, choices) -> str:
    close = difflib.get_close_matches(word, list(choices), n=1, cutoff=0.6)
    return f"; did you mean {close[0]}?" if close else ""


def _check(where: str, data: dict) -> None:
    """Raise MappingError for the first thing in the file that cannot be right."""
    for section in data:
        if section not in SECTIONS:
            raise MappingError(
                f"{where}: unknown section [{section}]{_did_you_mean(section, SECTIONS)} "
                "(sections: [columns], [values.<column>], [defaults], [format])"
            )
        if not isinstance(data[section], dict):
            raise MappingError(f"{where}: {section} must be a section: [{section}]")
    for source, column in data.get("columns", {}).items():
        _check_column(f"{where}: [columns] {source!r} = {column!r}", str(column))
    for column, value in data.get("defaults", {}).items():
        _check_column(f"{where}: [defaults] {column}", column)
        if isinstance(value, dict | list):
            raise MappingError(f'{where}: [defaults] {column}: give one value, e.g. {column} = "X"')
    for column, pairs in data.get("values", {}).items():
        _check_column(f"{where}: [values.{column}]", column)
        if not isinstance(pairs, dict):
            raise MappingError(
                f'{where}: [values.{column}] must list "raw value" = value pairs, e.g. "J" = true'
            )
    for key, value in data.get("format", {}).items():
        if key not in FORMAT_KEYS:
            raise MappingError(
                f"{where}: [format] {key}: unknown setting{_did_you_mean(key, FORMAT_KEYS)} "
                f"(settings: {', '.join(FORMAT_KEYS)})"
            )
        problem = _format_problem(key, value)
        if problem:
            raise MappingError(f"{where}: [format] {key} = {value!r}: {problem}")


def _check_column(place: str, column: str) -> None:
    """A mapping entry must name a canonical column some table has."""
    if column not in ALL_COLUMNS:
        raise MappingError(
            f"{place}: no table has that column{_did_you_mean(column, ALL_COLUMNS)} "
            f"(columns: {', '.join(ALL_COLUMNS)})"
        )


def _format_problem(key: str, value) -> str | None:
    """What is wrong with one [format] setting, or None."""
    whole = isinstance(value, int) and not isinstance(value, bool)
    if key == "date":
        return _date_format_problem(value)
    if key == "decimal" and value not in (".", ","):
        return 'use "." or ","'
    if key == "delimiter" and not (
        isinstance(value, str) and (len(value) == 1 or value in ("\\t", "tab"))
    ):
        return 'give exactly one character, e.g. ";" or "|", or "tab"'
    if key == "encoding":
        try:
            codecs.lookup(str(value))
        except LookupError:
            return 'Python knows no such encoding; use e.g. "utf-8", "cp1252" or "latin-1"'
    if key == "sheet" and not (isinstance(value, str) or whole):
        return "give the sheet's name"
    if key == "header_row" and not (whole and value >= 1):
        return "give the line number of the header, a whole number from 1"
    if key == "skip_rows" and not (whole and value >= 0):
        return "give how many lines to skip before the header, a whole number from 0"
    if key == "currency" and not (isinstance(value, str) and re.fullmatch(r"[A-Za-z]{3}", value)):
        return 'give a three-letter currency code, e.g. "EUR"'
    if key == "two_digit_year_pivot" and not whole:
        return "give a whole number, e.g. 50 (00-49 are 20xx, 50-99 are 19xx)"
    if key == "export_date" and not _is_date(value):
        return "give the day the file was exported, e.g. 2026-03-31"
    return None


def _date_format_problem(value) -> str | None:
    """A strptime format that reads a day, a month and a year, or why not."""
    example = 'e.g. "%d.%m.%Y" or "%m/%d/%Y"'
    if not isinstance(value, str):
        return f"give a format as text, {example}"
    try:
        dt.datetime.strptime(dt.date(2026, 1, 31).strftime(value), value)
    except ValueError as error:
        return f"not a strptime format ({error}); {example}"
    parts = {"day": ("%d",), "month": ("%m", "%b", "%B"), "year": ("%Y", "%y")}
    missing = [
        name for name, directives in parts.items() if not any(d in value for d in directives)
    ]
    if missing:
        return (
            f"lacks {' and '.join('a ' + name for name in missing)}; a date format needs a day "
            f"(%d), a month (%m, %b or %B) and a year (%Y or %y), {example}"
        )
    return None


def _is_date(value) -> bool:
    if isinstance(value, dt.date):
        return True
    try:
        dt.date.fromisoformat(str(value))
    except ValueError:
        return False
    return True


# -- resolving a file's header ----------------------------------------------------------------


def resolve_headers(header: list[str], spec: TableSpec, mapping: Mapping) -> tuple[dict, list]:
    """Map each canonical column to one source column index.

    The mapping file wins, then the synonym lists in their order; then an amount and its
    currency are made to come from the same side (document or local currency).
    Returns ({column: index}, [headers left unused]).
    """
    chosen: dict[str, int] = {}
    for source, column in mapping.columns.items():
        if column not in spec.columns:
            raise MappingError(
                f"mapping names column {column!r}, which {spec.name} does not have "
                f"(columns: {', '.join(spec.columns)})"
            )
        matches = [i for i, h in enumerate(header) if h == source or fold(h) == fold(source)]
        if matches:
            chosen[column] = matches[0]
    fixed = set(chosen)
    folded = [fold(h) for h in header]
    for column in spec.columns:
        if column in chosen:
            continue
        for candidate in synonyms(spec, column):
            index = next(
                (i for i, h in enumerate(folded) if h == candidate and i not in chosen.values()),
                None,
            )
            if index is not None:
                chosen[column] = index
                break
    _keep_one_currency_side(chosen, folded, spec, fixed)
    unused = [h for i, h in enumerate(header) if i not in chosen.values() and h]
    return chosen, unused


def _side(folded_header: str) -> str | None:
    """'document' or 'local' when the header names which currency it is in, else None."""
    for side, lists in (("document", DOCUMENT_SIDE), ("local", LOCAL_SIDE)):
        if any(folded_header in names for names in lists.values()):
            return side
    return None


def _keep_one_currency_side(chosen: dict, folded: list[str], spec: TableSpec, fixed: set) -> None:
    """An amount in the local currency beside the document's currency code would be wrong money.

    The money column is the amount, or the open amount of an open-items export. The document
    side is kept when it is whole (money and currency); else the local side when it is; a column
    from the other side is dropped rather than guessed. The mapping file's choices stay.
    """
    money = "amount" if "amount" in chosen else "open_amount"
    if money not in chosen:
        return
    sides = {"document": DOCUMENT_SIDE, "local": LOCAL_SIDE}

    def first(names: list[str]) -> int | None:
        taken = {i for c, i in chosen.items() if c not in ("amount", "open_amount", "currency")}
        return next((i for i, h in enumerate(folded) if h in names and i not in taken), None)

    side = _side(folded[chosen[money]])
    if side == "document" and money not in fixed and first(DOCUMENT_SIDE["currency"]) is None:
        local_money, local_currency = first(LOCAL_SIDE[money]), first(LOCAL_SIDE["currency"])
        if local_money is not None and local_currency is not None:
            chosen[money], side = local_money, "local"
    if side is None:
        return
    for column in ("currency", "open_amount"):
        if column == money or column in fixed or column not in spec.columns:
            continue
        same_side = first(sides[side][column])
        if same_side is not None:
            chosen[column] = same_side
        elif column in chosen and _side(folded[chosen[column]]) not in (None, side):
            del chosen[column]
