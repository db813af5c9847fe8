"""The bad-input cases for `arlens import`: each a small file with its expected outcome beside it.

Every case is data: the file's exact content (text, or bytes built here deterministically), the
table it goes to, the exit code `arlens import` must return, the values each key must be stored
with, and the physical lines that must be rejected with a fragment of their reason. Expected
values are written by hand, to the rules of DESIGN.md §3 and the importer brief, never computed by
AR Lens code. `tests/test_bad_input.py` runs every case through the command line in-process.

Fragments (`reason`, `message`, `notes`) are regular expressions searched case-insensitively.
Line numbers are physical: the header is line 1, a blank line still counts, Excel rows are the
sheet's row numbers.

Write every case's files into a folder (to look at them, or open them in a spreadsheet):

    python tests/bad_input/make_cases.py /tmp/bad_input
"""

from __future__ import annotations

import bz2
import datetime as dt
import gzip
import io
import json
import re
import sys
import zipfile
from dataclasses import dataclass, field
from decimal import Decimal as D
from pathlib import Path

import pyarrow as pa

day = dt.date


# --- the shape of a case -------------------------------------------------------------------------


@dataclass(frozen=True)
class Rej:
    """One rejected physical line: a regex its reason must match, and what it must name.

    `amount` is the line's true amount (what the writer of the file meant), when it has one: the
    loaded amounts plus these add up to the file's total.
    """

    reason: str
    column: str | None = None
    raw: str | None = None
    amount: D | None = None


@dataclass(frozen=True)
class Setup:
    """A valid import run before the case (after the seed): a store that already holds data."""

    file: str
    data: str | bytes
    table: str
    extra: tuple[str, ...] = ()


@dataclass(frozen=True)
class Case:
    name: str  # the test id; also the case's folder name
    cls: str  # the case class (see CLASSES)
    about: str  # one line: what the case is about
    table: str  # --table
    file: str  # the file's name (its suffix matters)
    data: str | bytes  # str is written in `encoding`
    rows: dict = field(default_factory=dict)  # key -> {column: stored value}, every key loaded
    rejected: dict[int, Rej] = field(default_factory=dict)  # physical line -> rejection
    exit: int = 0  # expected exit code of `arlens import`
    message: str | None = None  # exit 1: regex for the one-line message
    notes: tuple[str, ...] = ()  # regexes the import's output must match
    mapping: str | None = None  # TOML text, passed with --mapping
    extra: tuple[str, ...] = ()  # more arguments for this import
    setup: tuple[Setup, ...] = ()
    seed: bool = True  # start from the seeded store (else from no database at all)
    seed_extra: tuple[str, ...] = ()  # more arguments for the seed import
    applied: dict[str, D] = field(default_factory=dict)  # source id -> total applied
    encoding: str = "utf-8"


CLASSES = {
    "amounts": "number formats decided per column: separators, signs, currency marks",
    "dates": "date formats: two-digit years, times, month names, serials, day/month order",
    "due_dates": "a due date before the invoice date is kept and counted",
    "ids": "identifiers: padding stripped, leading zeros kept, float ids, case-only differences",
    "currency": "the store's home currency, and payments in another currency than their invoice",
    "payments": "payment amount columns and negative payments",
    "partial": "partial re-exports never overwrite stored values with NULL",
    "parsing": "file formats, compression, encodings, broken rows, duplicates",
    "mapping": "mapping files: errors fail in one line naming the key; valid ones apply",
    "required": "required values, negative amounts and document types",
}


# --- building file contents -----------------------------------------------------------------------

FIXED_TIME = (2024, 1, 1, 0, 0, 0)


def text(*lines: str, newline: str = "\n") -> str:
    """A text file: the lines joined, with a final newline (the header is line 1)."""
    return newline.join(lines) + newline


def gz(data: str) -> bytes:
    return gzip.compress(data.encode(), mtime=0)


def bz(data: str) -> bytes:
    return bz2.compress(data.encode())


def zipped(name: str, data: str | bytes) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        content = data.encode() if isinstance(data, str) else data
        archive.writestr(zipfile.ZipInfo(name, FIXED_TIME), content, zipfile.ZIP_DEFLATED)
    return out.getvalue()


def xlsx(sheets: dict[str, list[list]]) -> bytes:
    """A workbook, one sheet per entry (rows as lists); the same bytes on every run."""
    import openpyxl

    book = openpyxl.Workbook()
    book.remove(book.active)
    for title, rows in sheets.items():
        sheet = book.create_sheet(title)
        for row in rows:
            sheet.append(row)
    book.properties.created = book.properties.modified = dt.datetime(2024, 1, 1)
    raw = io.BytesIO()
    book.save(raw)
    source = zipfile.ZipFile(io.BytesIO(raw.getvalue()))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for info in source.infolist():
            content = source.read(info.filename)
            if info.filename == "docProps/core.xml":  # openpyxl stamps the save time here
                content = re.sub(
                    rb"<dcterms:modified([^>]*)>[^<]*<",
                    rb"<dcterms:modified\1>2024-01-01T00:00:00Z<",
                    content,
                )
            archive.writestr(
                zipfile.ZipInfo(info.filename, FIXED_TIME), content, zipfile.ZIP_DEFLATED
            )
    return out.getvalue()


def parquet(columns: dict, types: dict) -> bytes:
    """A Parquet file from {column: values} with {column: pyarrow type}."""
    import pyarrow.parquet as pq

    table = pa.table({name: pa.array(values, type=types[name]) for name, values in columns.items()})
    out = io.BytesIO()
    pq.write_table(table, out)
    return out.getvalue()


def utf16(data: str) -> bytes:
    """UTF-16 little-endian with its byte-order mark (Excel's "Unicode Text")."""
    return b"\xff\xfe" + data.encode("utf-16-le")


# --- shared content ----------------------------------------------------------------------------

# The seed: one small valid import every case starts from, so "changes nothing" means something.
SEED = text(
    "invoice_id,customer_id,invoice_date,due_date,amount,paid_date",
    "SEED-1,SEEDC,2024-01-02,2024-02-01,100.00,2024-01-20",
    "SEED-2,SEEDC,2024-01-03,2024-02-02,250.00,",
)

# Two open invoices of C1 that payment cases apply to.
OPEN_INVOICES = Setup(
    "open.csv",
    text(
        "invoice_id,customer_id,invoice_date,due_date,amount",
        "I1,C1,2024-01-05,2024-02-04,500.00",
        "I2,C1,2024-01-06,2024-02-05,300.00",
    ),
    "invoices",
)

HEAD = "invoice_id,customer_id,invoice_date,amount"
HEAD_SEMI = "invoice_id;customer_id;invoice_date;amount"
HEAD_DUE = "invoice_id,customer_id,invoice_date,due_date,amount"

HUGE = ("lorem, ipsum " * 16_000)[:200_000]  # 200,000 characters, commas inside
assert len(HUGE) == 200_000 and HUGE.strip() == HUGE


def _late_keys_jsonl() -> tuple[str, dict]:
    """1,200 JSON lines; `due_date` and `po_number` appear only from line 1,001 on."""
    lines, rows = [], {}
    for n in range(1, 1201):
        record = {"invoice_id": f"J{n:04d}", "customer_id": "C1", "invoice_date": "2024-01-12"}
        record["amount"] = f"{n}.25"
        expected = {"amount": D(f"{n}.25"), "invoice_date": day(2024, 1, 12)}
        if n > 1000:
            record |= {"due_date": "2024-03-01", "po_number": f"PO-{n}"}
            expected |= {"due_date": day(2024, 3, 1), "po_number": f"PO-{n}"}
        lines.append(json.dumps(record))
        rows[f"J{n:04d}"] = expected
    return text(*lines), rows


LATE_KEYS, LATE_KEYS_ROWS = _late_keys_jsonl()

TRUNCATED_GZIP = gz(
    text(HEAD, *(f"T{n},C1,2024-01-{1 + n % 28:02d},{n}.00" for n in range(1, 401)))
)
TRUNCATED_GZIP = TRUNCATED_GZIP[: len(TRUNCATED_GZIP) // 2]

PLAIN_ROWS = [
    ["invoice_id", "customer_id", "invoice_date", "amount"],
    ["X1", "C1", day(2024, 1, 12), 1234.56],
    ["X2", "C1", day(2024, 1, 13), 12.5],
]
PLAIN_EXPECTED = {
    "X1": {"amount": D("1234.56"), "invoice_date": day(2024, 1, 12)},
    "X2": {"amount": D("12.50"), "invoice_date": day(2024, 1, 13)},
}
PLAIN_CSV = text(HEAD, "X1,C1,2024-01-12,1234.56", "X2,C1,2024-01-13,12.50")

NOT_A_CALENDAR_DATE = r"not a (calendar |valid )?date"  # the shape of a date, but no such day
D_DUE = (
    r"\b{n}\b[^\n]*due date before the invoice date|due date before the invoice date[^\n]*\b{n}\b"
)


# --- the cases ---------------------------------------------------------------------------------

CASES: list[Case] = [
    # ---------------------------------------------------------------- amounts
    Case(
        "amt_euro_sign_suffix",
        "amounts",
        "`1.234,56 €` and `12,00 €` in a ;-file: decimal comma",
        "invoices",
        "inv.csv",
        text(
            HEAD_SEMI + ";currency",
            "A1;C1;2024-01-12;1.234,56 €;EUR",
            "A2;C1;2024-01-13;12,00 €;EUR",
            "A3;C1;2024-01-14;0,99 €;EUR",
        ),
        rows={
            "A1": {"amount": D("1234.56"), "currency": "EUR"},
            "A2": {"amount": D("12.00"), "currency": "EUR"},
            "A3": {"amount": D("0.99"), "currency": "EUR"},
        },
    ),
    Case(
        "amt_eur_code_suffix",
        "amounts",
        "`1.234,56 EUR` with the code after the number",
        "invoices",
        "inv.csv",
        text(
            HEAD_SEMI + ";currency",
            "A1;C1;2024-01-12;1.234,56 EUR;EUR",
            "A2;C1;2024-01-13;99,90 EUR;EUR",
        ),
        rows={
            "A1": {"amount": D("1234.56"), "currency": "EUR"},
            "A2": {"amount": D("99.90"), "currency": "EUR"},
        },
    ),
    Case(
        "amt_eur_code_prefix",
        "amounts",
        "`EUR 1.234,56` with the code before the number",
        "invoices",
        "inv.csv",
        text(
            HEAD_SEMI + ";currency",
            "A1;C1;2024-01-12;EUR 1.234,56;EUR",
            "A2;C1;2024-01-13;EUR 5,00;EUR",
            "A3;C1;2024-01-14;EUR 10.000,00;EUR",
        ),
        rows={
            "A1": {"amount": D("1234.56")},
            "A2": {"amount": D("5.00")},
            "A3": {"amount": D("10000.00")},
        },
    ),
    Case(
        "amt_euro_sign_prefix_point",
        "amounts",
        "`€12.00` and `€1,500.00`: decimal point",
        "invoices",
        "inv.csv",
        text(
            HEAD + ",currency",
            "A1,C1,2024-01-12,€12.00,EUR",
            'A2,C1,2024-01-13,"€1,500.00",EUR',
            "A3,C1,2024-01-14,€0.50,EUR",
        ),
        rows={
            "A1": {"amount": D("12.00")},
            "A2": {"amount": D("1500.00")},
            "A3": {"amount": D("0.50")},
        },
    ),
    Case(
        "amt_dollar_thousands",
        "amounts",
        "`$1,234.56` with comma thousands",
        "invoices",
        "inv.csv",
        text(
            HEAD + ",currency",
            'A1,C1,2024-01-12,"$1,234.56",USD',
            "A2,C1,2024-01-13,$12.00,USD",
            'A3,C1,2024-01-14,"$10,000.00",USD',
        ),
        rows={
            "A1": {"amount": D("1234.56")},
            "A2": {"amount": D("12.00")},
            "A3": {"amount": D("10000.00")},
        },
    ),
    Case(
        "amt_space_thousands",
        "amounts",
        "`1 234,56` with a space as thousands separator",
        "invoices",
        "inv.csv",
        text(
            HEAD_SEMI,
            "A1;C1;2024-01-12;1 234,56",
            "A2;C1;2024-01-13;12,00",
            "A3;C1;2024-01-14;10 000,00",
        ),
        rows={
            "A1": {"amount": D("1234.56")},
            "A2": {"amount": D("12.00")},
            "A3": {"amount": D("10000.00")},
        },
    ),
    Case(
        "amt_nbsp_thousands",
        "amounts",
        "`1\u00a0234,56` with a no-break space (U+00A0)",
        "invoices",
        "inv.csv",
        text(
            HEAD_SEMI,
            "A1;C1;2024-01-12;1\u00a0234,56",
            "A2;C1;2024-01-13;7\u00a0000,00",
            "A3;C1;2024-01-14;3,10",
        ),
        rows={
            "A1": {"amount": D("1234.56")},
            "A2": {"amount": D("7000.00")},
            "A3": {"amount": D("3.10")},
        },
    ),
    Case(
        "amt_narrow_nbsp_thousands",
        "amounts",
        "`1\u202f234,56` with a narrow no-break space",
        "invoices",
        "inv.csv",
        text(
            HEAD_SEMI,
            "A1;C1;2024-01-12;1\u202f234,56",
            "A2;C1;2024-01-13;25\u202f000,00",
            "A3;C1;2024-01-14;3,10",
        ),
        rows={
            "A1": {"amount": D("1234.56")},
            "A2": {"amount": D("25000.00")},
            "A3": {"amount": D("3.10")},
        },
    ),
    Case(
        "amt_french_nnbsp_and_euro",
        "amounts",
        "French `1\u202f234,56\u00a0€`: narrow thousands, NBSP before €",
        "invoices",
        "inv.csv",
        text(
            HEAD_SEMI + ";currency",
            "A1;C1;2024-01-12;1\u202f234,56\u00a0€;EUR",
            "A2;C1;2024-01-13;99,00\u00a0€;EUR",
        ),
        rows={"A1": {"amount": D("1234.56")}, "A2": {"amount": D("99.00")}},
    ),
    Case(
        "amt_swiss_apostrophe",
        "amounts",
        "Swiss `1'234.56` with an apostrophe for thousands",
        "invoices",
        "inv.csv",
        text(
            HEAD,
            "A1,C1,2024-01-12,1'234.56",
            "A2,C1,2024-01-13,12'500.00",
            "A3,C1,2024-01-14,3.40",
        ),
        rows={
            "A1": {"amount": D("1234.56")},
            "A2": {"amount": D("12500.00")},
            "A3": {"amount": D("3.40")},
        },
    ),
    Case(
        "amt_accounting_negative",
        "amounts",
        "accounting negatives `(1,234.56)` on credit memos",
        "invoices",
        "inv.csv",
        text(
            HEAD + ",doc_type",
            'A1,C1,2024-01-12,"2,000.00",invoice',
            'M1,C1,2024-01-20,"(1,234.56)",credit_memo',
            "M2,C1,2024-01-21,(45.00),credit_memo",
        ),
        rows={
            "A1": {"amount": D("2000.00"), "doc_type": "invoice"},
            "M1": {"amount": D("-1234.56"), "doc_type": "credit_memo"},
            "M2": {"amount": D("-45.00"), "doc_type": "credit_memo"},
        },
    ),
    Case(
        "amt_trailing_minus_sap",
        "amounts",
        "SAP's trailing minus `1.234,56-`",
        "invoices",
        "inv.csv",
        text(
            HEAD_SEMI + ";doc_type",
            "A1;C1;2024-01-12;500,00;invoice",
            "M1;C1;2024-01-15;1.234,56-;credit_memo",
            "M2;C1;2024-01-16;3,50-;credit_memo",
        ),
        rows={
            "A1": {"amount": D("500.00")},
            "M1": {"amount": D("-1234.56")},
            "M2": {"amount": D("-3.50")},
        },
    ),
    Case(
        "amt_cr_dr_suffix",
        "amounts",
        "`100.00 CR` is a credit (negative), `100.00 DR` a debit",
        "invoices",
        "inv.csv",
        text(
            HEAD + ",doc_type",
            "A1,C1,2024-01-12,100.00 DR,invoice",
            "M1,C1,2024-01-13,100.00 CR,credit_memo",
            "A2,C1,2024-01-14,250.00 DR,invoice",
        ),
        rows={
            "A1": {"amount": D("100.00")},
            "M1": {"amount": D("-100.00")},
            "A2": {"amount": D("250.00")},
        },
    ),
    Case(
        "amt_unicode_minus",
        "amounts",
        "the Unicode minus sign `−12.00` (U+2212)",
        "invoices",
        "inv.csv",
        text(
            HEAD + ",doc_type",
            "A1,C1,2024-01-12,30.00,invoice",
            "M1,C1,2024-01-13,\u221212.00,credit_memo",
        ),
        rows={"A1": {"amount": D("30.00")}, "M1": {"amount": D("-12.00")}},
    ),
    Case(
        "amt_minus_and_dollar",
        "amounts",
        "`-$45.00` and `$-5.00`: the sign either side of the $",
        "invoices",
        "inv.csv",
        text(
            HEAD + ",doc_type",
            'A1,C1,2024-01-12,"$1,000.00",invoice',
            "M1,C1,2024-01-13,-$45.00,credit_memo",
            "M2,C1,2024-01-14,$-5.00,credit_memo",
        ),
        rows={
            "A1": {"amount": D("1000.00")},
            "M1": {"amount": D("-45.00")},
            "M2": {"amount": D("-5.00")},
        },
    ),
    Case(
        "amt_dot_thousands_whole_euros",
        "amounts",
        "`1.234` among `12,50`, `1.234,56` means 1234",
        "invoices",
        "inv.csv",
        text(
            HEAD_SEMI,
            "A1;C1;2024-01-12;12,50",
            "A2;C1;2024-01-13;1.234,56",
            "A3;C1;2024-01-14;1.234",
        ),
        rows={
            "A1": {"amount": D("12.50")},
            "A2": {"amount": D("1234.56")},
            "A3": {"amount": D("1234.00")},
        },
    ),
    Case(
        "amt_dot_thousands_only_column",
        "amounts",
        "a column of only `1.234`, `2.500` in a ;-file with decimal commas elsewhere: 1234, 2500",
        "financials",
        "fin.csv",
        text(
            "period_end;revenue;cogs",
            "2024-01-31;1.234;1.000,50",
            "2024-02-29;2.500;800,25",
        ),
        rows={
            day(2024, 1, 31): {"revenue": D("1234.00"), "cogs": D("1000.50")},
            day(2024, 2, 29): {"revenue": D("2500.00"), "cogs": D("800.25")},
        },
    ),
    Case(
        "amt_comma_thousands_whole_dollars",
        "amounts",
        "`1,234` among `12.50`, `2,345.67` means 1234",
        "invoices",
        "inv.csv",
        text(
            HEAD,
            "A1,C1,2024-01-12,12.50",
            'A2,C1,2024-01-13,"2,345.67"',
            'A3,C1,2024-01-14,"1,234"',
        ),
        rows={
            "A1": {"amount": D("12.50")},
            "A2": {"amount": D("2345.67")},
            "A3": {"amount": D("1234.00")},
        },
    ),
    Case(
        "amt_each_column_its_own_format",
        "amounts",
        "two amount columns, one decimal point and one decimal comma, in one TSV",
        "financials",
        "fin.tsv",
        text(
            "period_end\trevenue\tcogs",
            "2024-01-31\t1,234.56\t1.234,56",
            "2024-02-29\t2,000.00\t950,10",
        ),
        rows={
            day(2024, 1, 31): {"revenue": D("1234.56"), "cogs": D("1234.56")},
            day(2024, 2, 29): {"revenue": D("2000.00"), "cogs": D("950.10")},
        },
    ),
    Case(
        "amt_comma_reading_in_point_column",
        "amounts",
        "`1.234,56` in a column of `1,234.56`, `12.50` contradicts the column: rejected",
        "invoices",
        "inv.csv",
        text(
            HEAD,
            'A1,C1,2024-01-12,"1,234.56"',
            "A2,C1,2024-01-13,12.50",
            'A3,C1,2024-01-14,"1.234,56"',
            "A4,C1,2024-01-15,7.25",
        ),
        rows={
            "A1": {"amount": D("1234.56")},
            "A2": {"amount": D("12.50")},
            "A4": {"amount": D("7.25")},
        },
        rejected={4: Rej("decimal (comma|point)", "amount", "1.234,56", D("1234.56"))},
    ),
    Case(
        "amt_point_reading_in_comma_column",
        "amounts",
        "`1,234.56` in a column of `1.234,56`, `12,50` contradicts the column: rejected",
        "invoices",
        "inv.csv",
        text(
            HEAD_SEMI,
            "A1;C1;2024-01-12;1.234,56",
            "A2;C1;2024-01-13;12,50",
            "A3;C1;2024-01-14;1,234.56",
            "A4;C1;2024-01-15;8,00",
        ),
        rows={
            "A1": {"amount": D("1234.56")},
            "A2": {"amount": D("12.50")},
            "A4": {"amount": D("8.00")},
        },
        rejected={4: Rej("decimal (comma|point)", "amount", "1,234.56", D("1234.56"))},
    ),
    Case(
        "amt_more_than_two_decimals",
        "amounts",
        "`10.005` is rejected, `10.500` is 10.50",
        "invoices",
        "inv.csv",
        text(
            HEAD,
            "A1,C1,2024-01-12,10.005",
            "A2,C1,2024-01-13,10.500",
            "A3,C1,2024-01-14,3.25",
        ),
        rows={"A2": {"amount": D("10.50")}, "A3": {"amount": D("3.25")}},
        rejected={2: Rej("more than two decimals", "amount", "10.005", D("10.005"))},
    ),
    Case(
        "amt_not_an_amount",
        "amounts",
        "`abc` and `12.3.4` are not amounts",
        "invoices",
        "inv.csv",
        text(
            HEAD,
            "A1,C1,2024-01-12,abc",
            "A2,C1,2024-01-13,12.3.4",
            "A3,C1,2024-01-14,7.00",
            'A4,C1,2024-01-15,"1,000.00"',
        ),
        rows={"A3": {"amount": D("7.00")}, "A4": {"amount": D("1000.00")}},
        rejected={
            2: Rej("not an amount", "amount", "abc"),
            3: Rej("not an amount", "amount", "12.3.4"),
        },
    ),
    Case(
        "amt_currency_code_contradicts_row",
        "amounts",
        "`50.00 EUR` on a row whose currency column says USD is rejected",
        "invoices",
        "inv.csv",
        text(
            HEAD + ",currency",
            "A1,C1,2024-01-12,100.00 USD,USD",
            "A2,C1,2024-01-13,50.00 EUR,USD",
            "A3,C1,2024-01-14,EUR 20.00,EUR",
        ),
        rows={
            "A1": {"amount": D("100.00"), "currency": "USD"},
            "A3": {"amount": D("20.00"), "currency": "EUR"},
        },
        rejected={3: Rej("currency", "amount", "50.00 EUR", D("50.00"))},
    ),
    Case(
        "amt_tsv_dollar_and_parentheses",
        "amounts",
        "a TSV with `$1,234.56` and `($34.50)`",
        "invoices",
        "inv.tsv",
        text(
            "invoice_id\tcustomer_id\tinvoice_date\tamount\tdoc_type",
            "A1\tC1\t2024-01-12\t$1,234.56\tinvoice",
            "M1\tC1\t2024-01-13\t($34.50)\tcredit_memo",
        ),
        rows={"A1": {"amount": D("1234.56")}, "M1": {"amount": D("-34.50")}},
    ),
    Case(
        "amt_credit_memo_table_parentheses",
        "amounts",
        "--table credit_memos: `(25.00)` and `1,250.00` both stored negative",
        "credit_memos",
        "cm.csv",
        text(
            "Credit Memo No,Customer,Credit Memo Date,Credit Amount",
            "X1,C1,2024-02-01,(25.00)",
            'X2,C1,2024-02-02,"1,250.00"',
        ),
        rows={
            "X1": {"amount": D("-25.00"), "doc_type": "credit_memo"},
            "X2": {"amount": D("-1250.00"), "doc_type": "credit_memo"},
        },
    ),
    Case(
        "amt_credit_limit_decimal_comma",
        "amounts",
        "customers' credit limits `5.000,00` in a ;-file",
        "customers",
        "cust.csv",
        text(
            "customer_id;name;credit_limit",
            "K1;Müller GmbH;5.000,00",
            "K2;Dupont SA;12.500,00",
            "K3;Rossi Srl;750,00",
        ),
        rows={
            "K1": {"credit_limit": D("5000.00"), "name": "Müller GmbH"},
            "K2": {"credit_limit": D("12500.00")},
            "K3": {"credit_limit": D("750.00")},
        },
    ),
    # ---------------------------------------------------------------- dates
    Case(
        "date_two_digit_year_slash",
        "dates",
        "`01/02/24` reads 2024-01-02 (24 -> 2024)",
        "invoices",
        "inv.csv",
        text(
            HEAD_DUE,
            "I1,C1,01/02/24,02/01/24,10.00",
            "I2,C1,01/15/24,02/14/24,20.00",
        ),
        rows={
            "I1": {
                "amount": D("10.00"),
                "invoice_date": day(2024, 1, 2),
                "due_date": day(2024, 2, 1),
            },
            "I2": {
                "amount": D("20.00"),
                "invoice_date": day(2024, 1, 15),
                "due_date": day(2024, 2, 14),
            },
        },
    ),
    Case(
        "date_two_digit_year_month_abbr",
        "dates",
        "`12-Jan-24` is 2024, `03-Feb-95` is 1995",
        "invoices",
        "inv.csv",
        text(
            HEAD_DUE,
            "I1,C1,12-Jan-24,11-Feb-24,10.00",
            "I2,C1,03-Feb-95,05-Mar-95,20.00",
        ),
        rows={
            "I1": {
                "amount": D("10.00"),
                "invoice_date": day(2024, 1, 12),
                "due_date": day(2024, 2, 11),
            },
            "I2": {
                "amount": D("20.00"),
                "invoice_date": day(1995, 2, 3),
                "due_date": day(1995, 3, 5),
            },
        },
    ),
    Case(
        "date_two_digit_year_dot",
        "dates",
        "`12.01.24` is day-first and 2024",
        "invoices",
        "inv.csv",
        text(
            HEAD_SEMI,
            "I1;C1;12.01.24;10,00",
            "I2;C1;05.02.24;20,00",
        ),
        rows={
            "I1": {"amount": D("10.00"), "invoice_date": day(2024, 1, 12)},
            "I2": {"amount": D("20.00"), "invoice_date": day(2024, 2, 5)},
        },
    ),
    Case(
        "date_datetime_midnight",
        "dates",
        "`2024-01-12 00:00:00` is the date, with a note on the time",
        "invoices",
        "inv.csv",
        text(
            HEAD_DUE,
            "I1,C1,2024-01-12 00:00:00,2024-02-11 00:00:00,10.00",
            "I2,C1,2024-01-13 00:00:00,2024-02-12 00:00:00,20.00",
        ),
        rows={
            "I1": {
                "amount": D("10.00"),
                "invoice_date": day(2024, 1, 12),
                "due_date": day(2024, 2, 11),
            },
            "I2": {
                "amount": D("20.00"),
                "invoice_date": day(2024, 1, 13),
                "due_date": day(2024, 2, 12),
            },
        },
        notes=(r"\btimes?\b",),
    ),
    Case(
        "date_datetime_iso_t",
        "dates",
        "`2024-01-12T09:30` is the date, with a note on the time",
        "invoices",
        "inv.csv",
        text(
            HEAD,
            "I1,C1,2024-01-12T09:30,10.00",
            "I2,C1,2024-01-13T17:05,20.00",
        ),
        rows={
            "I1": {"amount": D("10.00"), "invoice_date": day(2024, 1, 12)},
            "I2": {"amount": D("20.00"), "invoice_date": day(2024, 1, 13)},
        },
        notes=(r"\btimes?\b",),
    ),
    Case(
        "date_datetime_us_ampm",
        "dates",
        "`01/12/2024 9:30 AM` is the date, with a note on the time",
        "invoices",
        "inv.csv",
        text(
            HEAD,
            "I1,C1,01/12/2024 9:30 AM,10.00",
            "I2,C1,01/25/2024 4:15 PM,20.00",
        ),
        rows={
            "I1": {"amount": D("10.00"), "invoice_date": day(2024, 1, 12)},
            "I2": {"amount": D("20.00"), "invoice_date": day(2024, 1, 25)},
        },
        notes=(r"\btimes?\b",),
    ),
    Case(
        "date_month_name_two_styles",
        "dates",
        "`Jan 12, 2024` beside `13-Jan-2024` in one column",
        "invoices",
        "inv.csv",
        text(
            HEAD,
            'I1,C1,"Jan 12, 2024",10.00',
            "I2,C1,13-Jan-2024,20.00",
            'I3,C1,"Feb 3, 2024",30.00',
        ),
        rows={
            "I1": {"amount": D("10.00"), "invoice_date": day(2024, 1, 12)},
            "I2": {"amount": D("20.00"), "invoice_date": day(2024, 1, 13)},
            "I3": {"amount": D("30.00"), "invoice_date": day(2024, 2, 3)},
        },
    ),
    Case(
        "date_german_months",
        "dates",
        "German month names: `12. März 2024`, `12.Okt.2024`",
        "invoices",
        "inv.csv",
        text(
            HEAD_SEMI,
            "I1;C1;12. März 2024;10,00",
            "I2;C1;12.Okt.2024;20,00",
            "I3;C1;3. Mai 2024;30,00",
            "I4;C1;1. Dez. 2024;40,00",
        ),
        rows={
            "I1": {"amount": D("10.00"), "invoice_date": day(2024, 3, 12)},
            "I2": {"amount": D("20.00"), "invoice_date": day(2024, 10, 12)},
            "I3": {"amount": D("30.00"), "invoice_date": day(2024, 5, 3)},
            "I4": {"amount": D("40.00"), "invoice_date": day(2024, 12, 1)},
        },
    ),
    Case(
        "date_french_months",
        "dates",
        "French month names: `12 févr. 2024`, `3 août 2024`",
        "invoices",
        "inv.csv",
        text(
            HEAD,
            "I1,C1,12 févr. 2024,10.00",
            "I2,C1,3 août 2024,20.00",
            "I3,C1,1 déc. 2024,30.00",
            "I4,C1,5 janv. 2024,40.00",
        ),
        rows={
            "I1": {"amount": D("10.00"), "invoice_date": day(2024, 2, 12)},
            "I2": {"amount": D("20.00"), "invoice_date": day(2024, 8, 3)},
            "I3": {"amount": D("30.00"), "invoice_date": day(2024, 12, 1)},
            "I4": {"amount": D("40.00"), "invoice_date": day(2024, 1, 5)},
        },
    ),
    Case(
        "date_spanish_months",
        "dates",
        "Spanish month names: `12-ene-2024`, `5 dic 2024`",
        "invoices",
        "inv.csv",
        text(
            HEAD,
            "I1,C1,12-ene-2024,10.00",
            "I2,C1,5 dic 2024,20.00",
            "I3,C1,20-ago-2024,30.00",
        ),
        rows={
            "I1": {"amount": D("10.00"), "invoice_date": day(2024, 1, 12)},
            "I2": {"amount": D("20.00"), "invoice_date": day(2024, 12, 5)},
            "I3": {"amount": D("30.00"), "invoice_date": day(2024, 8, 20)},
        },
    ),
    Case(
        "date_italian_months",
        "dates",
        "Italian month names: `12 gen 2024`, `1 ott 2024`",
        "invoices",
        "inv.csv",
        text(
            HEAD,
            "I1,C1,12 gen 2024,10.00",
            "I2,C1,1 ott 2024,20.00",
            "I3,C1,30 giu 2024,30.00",
        ),
        rows={
            "I1": {"amount": D("10.00"), "invoice_date": day(2024, 1, 12)},
            "I2": {"amount": D("20.00"), "invoice_date": day(2024, 10, 1)},
            "I3": {"amount": D("30.00"), "invoice_date": day(2024, 6, 30)},
        },
    ),
    Case(
        "date_dutch_months",
        "dates",
        "Dutch month names: `12 mrt 2024`, `1 mei 2024`",
        "invoices",
        "inv.csv",
        text(
            HEAD,
            "I1,C1,12 mrt 2024,10.00",
            "I2,C1,1 mei 2024,20.00",
            "I3,C1,15 okt 2024,30.00",
        ),
        rows={
            "I1": {"amount": D("10.00"), "invoice_date": day(2024, 3, 12)},
            "I2": {"amount": D("20.00"), "invoice_date": day(2024, 5, 1)},
            "I3": {"amount": D("30.00"), "invoice_date": day(2024, 10, 15)},
        },
    ),
    Case(
        "date_portuguese_months",
        "dates",
        "Portuguese month names: `12 fev 2024`, `1 out 2024`",
        "invoices",
        "inv.csv",
        text(
            HEAD,
            "I1,C1,12 fev 2024,10.00",
            "I2,C1,1 out 2024,20.00",
            "I3,C1,24 dez 2024,30.00",
        ),
        rows={
            "I1": {"amount": D("10.00"), "invoice_date": day(2024, 2, 12)},
            "I2": {"amount": D("20.00"), "invoice_date": day(2024, 10, 1)},
            "I3": {"amount": D("30.00"), "invoice_date": day(2024, 12, 24)},
        },
    ),
    Case(
        "date_excel_serials_whole_column",
        "dates",
        "Excel serials in a CSV: 45292 is 2024-01-01",
        "invoices",
        "inv.csv",
        text(
            HEAD_DUE,
            "I1,C1,45292,45322,10.00",
            "I2,C1,45306,45336,20.00",
        ),
        rows={
            "I1": {
                "amount": D("10.00"),
                "invoice_date": day(2024, 1, 1),
                "due_date": day(2024, 1, 31),
            },
            "I2": {
                "amount": D("20.00"),
                "invoice_date": day(2024, 1, 15),
                "due_date": day(2024, 2, 14),
            },
        },
    ),
    Case(
        "date_serial_in_a_date_column",
        "dates",
        "one serial among ISO dates is not a date (serials only when the whole column is)",
        "invoices",
        "inv.csv",
        text(
            HEAD,
            "I1,C1,2024-01-15,10.00",
            "I2,C1,45292,20.00",
            "I3,C1,2024-01-17,30.00",
        ),
        rows={
            "I1": {"amount": D("10.00"), "invoice_date": day(2024, 1, 15)},
            "I3": {"amount": D("30.00"), "invoice_date": day(2024, 1, 17)},
        },
        rejected={3: Rej("not a date", "invoice_date", "45292", D("20.00"))},
    ),
    Case(
        "date_day_first_by_column",
        "dates",
        "`13/04/2024` makes `03/04/2024` day-first too",
        "invoices",
        "inv.csv",
        text(
            HEAD,
            "I1,C1,03/04/2024,10.00",
            "I2,C1,13/04/2024,20.00",
        ),
        rows={
            "I1": {"amount": D("10.00"), "invoice_date": day(2024, 4, 3)},
            "I2": {"amount": D("20.00"), "invoice_date": day(2024, 4, 13)},
        },
    ),
    Case(
        "date_day_first_evidence_last",
        "dates",
        "the only day > 12 is in the last row: the whole column is day-first",
        "invoices",
        "inv.csv",
        text(
            HEAD,
            "I1,C1,03/04/2024,10.00",
            "I2,C1,05/06/2024,20.00",
            "I3,C1,11/12/2024,30.00",
            "I4,C1,25/01/2024,40.00",
        ),
        rows={
            "I1": {"amount": D("10.00"), "invoice_date": day(2024, 4, 3)},
            "I2": {"amount": D("20.00"), "invoice_date": day(2024, 6, 5)},
            "I3": {"amount": D("30.00"), "invoice_date": day(2024, 12, 11)},
            "I4": {"amount": D("40.00"), "invoice_date": day(2024, 1, 25)},
        },
    ),
    Case(
        "date_ambiguous_month_first",
        "dates",
        "when both orders fit every date, month-first is taken and the import says so",
        "invoices",
        "inv.csv",
        text(
            HEAD,
            "I1,C1,03/04/2024,10.00",
            "I2,C1,05/06/2024,20.00",
        ),
        rows={
            "I1": {"amount": D("10.00"), "invoice_date": day(2024, 3, 4)},
            "I2": {"amount": D("20.00"), "invoice_date": day(2024, 5, 6)},
        },
        notes=("month",),
    ),
    Case(
        "date_dot_day_first",
        "dates",
        "`.`-separated dates are day-first: `03.04.2024` is 3 April",
        "invoices",
        "inv.csv",
        text(
            "invoice_id;customer_id;invoice_date;due_date;amount",
            "I1;C1;03.04.2024;03.05.2024;10,00",
            "I2;C1;05.06.2024;05.07.2024;20,00",
        ),
        rows={
            "I1": {
                "amount": D("10.00"),
                "invoice_date": day(2024, 4, 3),
                "due_date": day(2024, 5, 3),
            },
            "I2": {
                "amount": D("20.00"),
                "invoice_date": day(2024, 6, 5),
                "due_date": day(2024, 7, 5),
            },
        },
    ),
    Case(
        "date_unparseable",
        "dates",
        "`not-a-date` and `2024-13-45` are rejected",
        "invoices",
        "inv.csv",
        text(
            HEAD,
            "I1,C1,2024-01-12,10.00",
            "I2,C1,not-a-date,20.00",
            "I3,C1,2024-13-45,30.00",
            "I4,C1,2024-01-15,40.00",
        ),
        rows={"I1": {"amount": D("10.00")}, "I4": {"amount": D("40.00")}},
        rejected={
            3: Rej("not a date", "invoice_date", "not-a-date", D("20.00")),
            4: Rej(NOT_A_CALENDAR_DATE, "invoice_date", "2024-13-45", D("30.00")),
        },
    ),
    Case(
        "date_feb_30",
        "dates",
        "`2024-02-30` is rejected; 2024-02-29 (leap year) loads",
        "invoices",
        "inv.csv",
        text(
            HEAD,
            "I1,C1,2024-02-28,10.00",
            "I2,C1,2024-02-30,20.00",
            "I3,C1,2024-02-29,30.00",
        ),
        rows={
            "I1": {"amount": D("10.00"), "invoice_date": day(2024, 2, 28)},
            "I3": {"amount": D("30.00"), "invoice_date": day(2024, 2, 29)},
        },
        rejected={3: Rej(NOT_A_CALENDAR_DATE, "invoice_date", "2024-02-30", D("20.00"))},
    ),
    Case(
        "date_feb_30_day_first",
        "dates",
        "`30/02/2024` in a day-first column is rejected",
        "invoices",
        "inv.csv",
        text(
            HEAD,
            "I1,C1,28/02/2024,10.00",
            "I2,C1,30/02/2024,20.00",
            "I3,C1,15/03/2024,30.00",
        ),
        rows={
            "I1": {"amount": D("10.00"), "invoice_date": day(2024, 2, 28)},
            "I3": {"amount": D("30.00"), "invoice_date": day(2024, 3, 15)},
        },
        rejected={3: Rej(NOT_A_CALENDAR_DATE, "invoice_date", "30/02/2024", D("20.00"))},
    ),
    Case(
        "date_bad_due_date",
        "dates",
        "an unparseable due date rejects the row, naming due_date",
        "invoices",
        "inv.csv",
        text(
            HEAD_DUE,
            "I1,C1,2024-01-12,2024-02-11,10.00",
            "I2,C1,2024-01-13,soon,20.00",
        ),
        rows={"I1": {"amount": D("10.00"), "due_date": day(2024, 2, 11)}},
        rejected={3: Rej("not a date", "due_date", "soon", D("20.00"))},
    ),
    Case(
        "date_payments_day_first",
        "dates",
        "payment dates `13/01/2024`, `02/03/2024`: day-first",
        "payments",
        "pay.csv",
        text(
            "payment_id,customer_id,payment_date,amount",
            "P1,C1,13/01/2024,10.00",
            "P2,C1,02/03/2024,20.00",
        ),
        rows={
            "P1": {"payment_date": day(2024, 1, 13), "amount": D("10.00")},
            "P2": {"payment_date": day(2024, 3, 2), "amount": D("20.00")},
        },
    ),
    # ---------------------------------------------------------------- due dates
    Case(
        "due_before_invoice_kept",
        "due_dates",
        "two due dates before their invoice date are kept, and counted in a note",
        "invoices",
        "inv.csv",
        text(
            HEAD_DUE,
            "I1,C1,2024-01-20,2024-01-15,10.00",
            "I2,C1,2024-01-20,2024-02-19,20.00",
            "I3,C1,2024-02-10,2024-02-01,30.00",
        ),
        rows={
            "I1": {"due_date": day(2024, 1, 15), "amount": D("10.00")},
            "I2": {"due_date": day(2024, 2, 19), "amount": D("20.00")},
            "I3": {"due_date": day(2024, 2, 1), "amount": D("30.00")},
        },
        notes=(D_DUE.format(n=2),),
    ),
    Case(
        "due_before_invoice_sap_export",
        "due_dates",
        "an SAP-style ;-export whose baseline due date precedes posting: kept, counted",
        "invoices",
        "inv.csv",
        text(
            "Belegnummer;Kunde;Belegdatum;Nettofälligkeit;Betrag",
            "90001;0000101093;15.01.2024;10.01.2024;1.500,00",
            "90002;0000101093;16.01.2024;15.02.2024;250,00",
        ),
        mapping=text(
            "[columns]",
            '"Belegnummer" = "invoice_id"',
            '"Kunde" = "customer_id"',
            '"Belegdatum" = "invoice_date"',
            '"Nettofälligkeit" = "due_date"',
            '"Betrag" = "amount"',
        ),
        rows={
            "90001": {"due_date": day(2024, 1, 10), "amount": D("1500.00")},
            "90002": {"due_date": day(2024, 2, 15), "amount": D("250.00")},
        },
        notes=(D_DUE.format(n=1),),
    ),
    Case(
        "due_before_invoice_beside_bad_row",
        "due_dates",
        "a due date before the invoice date is kept while a bad amount beside it is rejected",
        "invoices",
        "inv.csv",
        text(
            HEAD_DUE,
            "I1,C1,2024-01-20,2024-01-19,10.00",
            "I2,C1,2024-01-21,2024-02-20,abc",
        ),
        rows={"I1": {"due_date": day(2024, 1, 19), "amount": D("10.00")}},
        rejected={3: Rej("not an amount", "amount", "abc")},
        notes=(D_DUE.format(n=1),),
    ),
    # ---------------------------------------------------------------- ids
    Case(
        "id_tab_padded",
        "ids",
        "`0000101093\\t`: tabs around ids are stripped",
        "invoices",
        "inv.csv",
        text(
            HEAD,
            "INV-1\t,0000101093\t,2024-01-12,10.00",
            "INV-2,\t0000101094,2024-01-13,20.00",
        ),
        rows={
            "INV-1": {"customer_id": "0000101093", "amount": D("10.00")},
            "INV-2": {"customer_id": "0000101094", "amount": D("20.00")},
        },
    ),
    Case(
        "id_nbsp_padded",
        "ids",
        "no-break spaces around ids are stripped",
        "invoices",
        "inv.csv",
        text(
            HEAD,
            "\u00a0INV-1\u00a0,0000101093\u00a0,2024-01-12,10.00",
            "INV-2,\u00a00000101094,2024-01-13,20.00",
        ),
        rows={
            "INV-1": {"amount": D("10.00"), "customer_id": "0000101093"},
            "INV-2": {"amount": D("20.00"), "customer_id": "0000101094"},
        },
    ),
    Case(
        "id_zero_width_padded",
        "ids",
        "zero-width spaces (U+200B) around ids are stripped",
        "invoices",
        "inv.csv",
        text(
            HEAD,
            "\u200bINV-1,0000101093\u200b,2024-01-12,10.00",
            "INV-2\u200b,\u200b0000101094,2024-01-13,20.00",
        ),
        rows={
            "INV-1": {"amount": D("10.00"), "customer_id": "0000101093"},
            "INV-2": {"amount": D("20.00"), "customer_id": "0000101094"},
        },
    ),
    Case(
        "id_leading_zeros_kept",
        "ids",
        "`0001001` and `0000611365` keep their leading zeros",
        "invoices",
        "inv.csv",
        text(
            HEAD,
            "0001001,0000611365,2024-01-12,10.00",
            "0001002,0000611365,2024-01-13,20.00",
            "000,0000000001,2024-01-14,30.00",
        ),
        rows={
            "0001001": {"amount": D("10.00"), "customer_id": "0000611365"},
            "0001002": {"amount": D("20.00"), "customer_id": "0000611365"},
            "000": {"amount": D("30.00"), "customer_id": "0000000001"},
        },
    ),
    Case(
        "id_float_every_row",
        "ids",
        "a key column of `1002003004.0` in every row reads 1002003004",
        "invoices",
        "inv.csv",
        text(
            HEAD,
            "1002003004.0,5001.0,2024-01-12,10.00",
            "1002003005.0,5002.0,2024-01-13,20.00",
        ),
        rows={
            "1002003004": {"customer_id": "5001", "amount": D("10.00")},
            "1002003005": {"customer_id": "5002", "amount": D("20.00")},
        },
    ),
    Case(
        "id_float_not_every_row",
        "ids",
        "ids that are not all whole floats stay exactly as written",
        "invoices",
        "inv.csv",
        text(
            HEAD,
            "1.5,C1,2024-01-12,10.00",
            "2.0,C1,2024-01-13,20.00",
            "X-3,C1,2024-01-14,30.00",
        ),
        rows={
            "1.5": {"amount": D("10.00")},
            "2.0": {"amount": D("20.00")},
            "X-3": {"amount": D("30.00")},
        },
    ),
    Case(
        "id_float_parquet",
        "ids",
        "a Parquet float64 invoice_id column of whole numbers reads as text",
        "invoices",
        "inv.parquet",
        parquet(
            {
                "invoice_id": [1002003004.0, 1002003005.0],
                "customer_id": ["0000101093", "0000101093"],
                "invoice_date": [day(2024, 1, 12), day(2024, 1, 13)],
                "amount": [D("10.00"), D("20.00")],
            },
            {
                "invoice_id": pa.float64(),
                "customer_id": pa.string(),
                "invoice_date": pa.date32(),
                "amount": pa.decimal128(18, 2),
            },
        ),
        rows={
            "1002003004": {"customer_id": "0000101093", "amount": D("10.00")},
            "1002003005": {"customer_id": "0000101093", "amount": D("20.00")},
        },
    ),
    Case(
        "id_numbers_in_excel",
        "ids",
        "numeric Excel ids read as text; a text id keeps its zeros",
        "invoices",
        "inv.xlsx",
        xlsx(
            {
                "AR": [
                    ["invoice_id", "customer_id", "invoice_date", "amount"],
                    [1002003004, "0000101093", day(2024, 1, 12), 10],
                    [1002003005, "0000101093", day(2024, 1, 13), 20.5],
                ]
            }
        ),
        rows={
            "1002003004": {"customer_id": "0000101093", "amount": D("10.00")},
            "1002003005": {"customer_id": "0000101093", "amount": D("20.50")},
        },
    ),
    Case(
        "id_case_differs_from_stored",
        "ids",
        "`inv-a1` beside a stored `INV-A1` is kept as its own invoice, and a note says so",
        "invoices",
        "inv.csv",
        text(HEAD, "inv-a1,C1,2024-01-20,50.00"),
        setup=(Setup("first.csv", text(HEAD, "INV-A1,C1,2024-01-12,100.00"), "invoices"),),
        rows={"inv-a1": {"amount": D("50.00"), "customer_id": "C1"}},
        notes=("case",),
    ),
    Case(
        "id_customer_case_differs",
        "ids",
        "an invoice naming `acme01` when `ACME01` is stored keeps `acme01`, and a note says so",
        "invoices",
        "inv.csv",
        text(HEAD, "N1,acme01,2024-01-20,50.00"),
        setup=(Setup("cust.csv", text("customer_id,name", "ACME01,Acme"), "customers"),),
        rows={"N1": {"amount": D("50.00"), "customer_id": "acme01"}},
        notes=("case",),
    ),
    Case(
        "id_padded_payment_applies",
        "ids",
        "a payment naming `\\u00a0I1\\t` applies to invoice I1",
        "payments",
        "pay.csv",
        text(
            "payment_id,customer_id,payment_date,amount,invoice_id",
            "\tP-1 ,C1,2024-02-01,500.00,\u00a0I1\t",
        ),
        setup=(OPEN_INVOICES,),
        rows={"P-1": {"invoice_id": "I1", "amount": D("500.00")}},
        applied={"P-1": D("500.00")},
    ),
    # ---------------------------------------------------------------- currency
    Case(
        "cur_home_from_first_import",
        "currency",
        "`--currency EUR` on the first import: a later register without currency is EUR",
        "invoices",
        "inv.csv",
        text(HEAD, "E1,C1,2024-01-12,10.00"),
        seed_extra=("--currency", "EUR"),
        rows={"E1": {"currency": "EUR", "amount": D("10.00")}},
    ),
    Case(
        "cur_home_default_usd",
        "currency",
        "nothing says otherwise: a register without currency is in USD",
        "invoices",
        "inv.csv",
        text(HEAD, "U1,C1,2024-01-12,10.00"),
        rows={"U1": {"currency": "USD", "amount": D("10.00")}},
    ),
    Case(
        "cur_home_set_by_this_import",
        "currency",
        "a fresh store's first import with `--currency CHF` stores CHF",
        "invoices",
        "inv.csv",
        text(HEAD, "F1,C1,2024-01-12,10.00"),
        seed=False,
        extra=("--currency", "CHF"),
        rows={"F1": {"currency": "CHF", "amount": D("10.00")}},
    ),
    Case(
        "cur_customers_get_home_currency",
        "currency",
        "customers imported without a currency get the store's home currency",
        "customers",
        "cust.csv",
        text("customer_id,name", "K1,Acme", "K2,Beta"),
        seed_extra=("--currency", "EUR"),
        rows={"K1": {"currency": "EUR"}, "K2": {"currency": "EUR"}},
    ),
    Case(
        "cur_payments_get_home_currency",
        "currency",
        "payments without a currency are in the home currency and apply to its invoices",
        "payments",
        "pay.csv",
        text(
            "payment_id,customer_id,payment_date,amount,invoice_id",
            "P1,C1,2024-02-01,100.00,I1",
        ),
        seed_extra=("--currency", "EUR"),
        setup=(OPEN_INVOICES,),
        rows={"P1": {"currency": "EUR", "amount": D("100.00")}},
        applied={"P1": D("100.00")},
    ),
    Case(
        "cur_payment_other_currency_not_applied",
        "currency",
        "a USD payment on an EUR invoice stays unapplied cash, and the import says so",
        "payments",
        "pay.csv",
        text(
            "payment_id,customer_id,payment_date,amount,invoice_id,currency",
            "P1,C1,2024-02-01,100.00,I1,USD",
            "P2,C1,2024-02-02,200.00,I2,EUR",
        ),
        setup=(
            Setup(
                "eur.csv",
                text(
                    HEAD_DUE + ",currency",
                    "I1,C1,2024-01-05,2024-02-04,100.00,EUR",
                    "I2,C1,2024-01-06,2024-02-05,200.00,EUR",
                ),
                "invoices",
            ),
        ),
        rows={
            "P1": {"amount": D("100.00"), "currency": "USD"},
            "P2": {"amount": D("200.00"), "currency": "EUR"},
        },
        applied={"P1": D("0.00"), "P2": D("200.00")},
        notes=(r"currenc[^\n]*appl|appl[^\n]*currenc",),
    ),
    Case(
        "cur_mapping_default",
        "currency",
        '`[defaults] currency = "CHF"` fills the currency',
        "invoices",
        "inv.csv",
        text(HEAD, "M1,C1,2024-01-12,10.00"),
        mapping=text("[defaults]", 'currency = "CHF"'),
        rows={"M1": {"amount": D("10.00"), "currency": "CHF"}},
    ),
    # ---------------------------------------------------------------- payments
    Case(
        "pay_payment_amount_beside_invoice_amount",
        "payments",
        "a file with `Invoice Amount` and `Payment Amount` stores the payment amount",
        "payments",
        "pay.csv",
        text(
            "Payment ID,Customer,Payment Date,Invoice No,Invoice Amount,Payment Amount",
            "P1,C1,2024-02-01,I1,500.00,200.00",
            "P2,C1,2024-02-02,I2,300.00,300.00",
        ),
        setup=(OPEN_INVOICES,),
        rows={
            "P1": {"amount": D("200.00"), "invoice_id": "I1"},
            "P2": {"amount": D("300.00"), "invoice_id": "I2"},
        },
        applied={"P1": D("200.00"), "P2": D("300.00")},
    ),
    Case(
        "pay_only_invoice_amount_refused",
        "payments",
        "a payments file whose only amount is `Invoice Amount` is refused",
        "payments",
        "pay.csv",
        text(
            "Payment ID,Customer,Payment Date,Invoice No,Invoice Amount",
            "P1,C1,2024-02-01,I1,500.00",
        ),
        setup=(OPEN_INVOICES,),
        exit=1,
        message="payment amount",
    ),
    Case(
        "pay_negative_rejected",
        "payments",
        "a negative payment is rejected",
        "payments",
        "pay.csv",
        text(
            "payment_id,customer_id,payment_date,amount,invoice_id",
            "P1,C1,2024-02-01,-50.00,I1",
            "P2,C1,2024-02-02,80.00,I1",
        ),
        setup=(OPEN_INVOICES,),
        rows={"P2": {"amount": D("80.00")}},
        rejected={2: Rej("negative payment", "amount", "-50.00", D("-50.00"))},
        applied={"P2": D("80.00")},
    ),
    Case(
        "pay_negative_refund_method",
        "payments",
        "a negative payment whose method is Refund loads",
        "payments",
        "pay.csv",
        text(
            "payment_id,customer_id,payment_date,amount,method",
            "P1,C1,2024-02-01,-50.00,Refund",
            "P2,C1,2024-02-02,80.00,Wire",
        ),
        rows={"P1": {"amount": D("-50.00")}, "P2": {"amount": D("80.00")}},
    ),
    Case(
        "pay_negative_refund_doc_type",
        "payments",
        "a negative payment with doc_type refund loads",
        "payments",
        "pay.csv",
        text(
            "payment_id,customer_id,payment_date,amount,doc_type",
            "P1,C1,2024-02-01,-50.00,refund",
            "P2,C1,2024-02-02,80.00,payment",
        ),
        rows={"P1": {"amount": D("-50.00")}, "P2": {"amount": D("80.00")}},
    ),
    Case(
        "pay_parenthesised_refund",
        "payments",
        "`(25.00)` with method refund is a refund of 25.00",
        "payments",
        "pay.csv",
        text(
            "payment_id,customer_id,payment_date,amount,method",
            "P1,C1,2024-02-01,(25.00),refund",
        ),
        rows={"P1": {"amount": D("-25.00")}},
    ),
    Case(
        "pay_decimal_comma",
        "payments",
        "a ;-payments file with `1.234,56`",
        "payments",
        "pay.csv",
        text(
            "payment_id;customer_id;payment_date;amount",
            "P1;C1;2024-02-01;1.234,56",
            "P2;C1;2024-02-02;300,00",
        ),
        rows={"P1": {"amount": D("1234.56")}, "P2": {"amount": D("300.00")}},
    ),
    Case(
        "pay_all_negative_fails",
        "payments",
        "every payment negative: nothing loads, exit 1, and the rejected rows are kept",
        "payments",
        "pay.csv",
        text(
            "payment_id,customer_id,payment_date,amount",
            "P1,C1,2024-02-01,-50.00",
            "P2,C1,2024-02-02,-10.00",
        ),
        exit=1,
        message="reject",
        rejected={
            2: Rej("negative payment", "amount", "-50.00", D("-50.00")),
            3: Rej("negative payment", "amount", "-10.00", D("-10.00")),
        },
    ),
    # ---------------------------------------------------------------- partial re-exports
    Case(
        "partial_invoices_keep_due_dates",
        "partial",
        "a re-export without a due-date column keeps the stored due dates",
        "invoices",
        "inv.csv",
        text(
            "invoice_id,customer_id,invoice_date,amount,paid_date",
            "I1,C1,2024-01-05,100.00,2024-02-10",
            "I2,C1,2024-01-06,200.00,",
        ),
        setup=(
            Setup(
                "first.csv",
                text(
                    HEAD_DUE,
                    "I1,C1,2024-01-05,2024-03-05,100.00",
                    "I2,C1,2024-01-06,2024-01-20,200.00",
                ),
                "invoices",
            ),
        ),
        rows={
            "I1": {
                "due_date": day(2024, 3, 5),
                "paid_date": day(2024, 2, 10),
                "amount": D("100.00"),
            },
            "I2": {"due_date": day(2024, 1, 20), "paid_date": None, "amount": D("200.00")},
        },
        applied={"I1": D("100.00")},
    ),
    Case(
        "partial_invoices_keep_currency",
        "partial",
        "a re-export without a currency column keeps the stored GBP",
        "invoices",
        "inv.csv",
        text(HEAD, "I1,C1,2024-01-05,100.00"),
        setup=(
            Setup("first.csv", text(HEAD + ",currency", "I1,C1,2024-01-05,100.00,GBP"), "invoices"),
        ),
        rows={"I1": {"currency": "GBP", "amount": D("100.00")}},
    ),
    Case(
        "partial_invoices_keep_dispute",
        "partial",
        "a re-export without dispute columns keeps the stored dispute and its reason",
        "invoices",
        "inv.csv",
        text(HEAD, "I1,C1,2024-01-05,100.00"),
        setup=(
            Setup(
                "first.csv",
                text(HEAD + ",disputed,dispute_reason", "I1,C1,2024-01-05,100.00,yes,pricing"),
                "invoices",
            ),
        ),
        rows={"I1": {"amount": D("100.00"), "disputed": True, "dispute_reason": "pricing"}},
    ),
    Case(
        "partial_customers_keep_names",
        "partial",
        "a customers file with only id + credit limit keeps the stored names and segments",
        "customers",
        "limits.csv",
        text("Cust No,Credit Limit", "C1,7500.00", "C2,1500.00"),
        setup=(
            Setup(
                "first.csv",
                text(
                    "customer_id,name,segment,credit_limit",
                    "C1,Acme Corp,Enterprise,5000.00",
                    "C2,Beta Ltd,SMB,1000.00",
                ),
                "customers",
            ),
        ),
        rows={
            "C1": {"name": "Acme Corp", "segment": "Enterprise", "credit_limit": D("7500.00")},
            "C2": {"name": "Beta Ltd", "segment": "SMB", "credit_limit": D("1500.00")},
        },
    ),
    Case(
        "partial_customers_blank_cell_keeps",
        "partial",
        "a blank name cell in a re-export never overwrites the stored name with NULL",
        "customers",
        "cust.csv",
        text("customer_id,name,credit_limit", "C1,,7500.00"),
        setup=(Setup("first.csv", text("customer_id,name", "C1,Acme Corp"), "customers"),),
        rows={"C1": {"name": "Acme Corp", "credit_limit": D("7500.00")}},
    ),
    # ---------------------------------------------------------------- parsing
    Case(
        "parse_unterminated_quote",
        "parsing",
        "an unterminated quote rejects its row and the later rows load",
        "invoices",
        "inv.csv",
        text(
            HEAD,
            "I1,C1,2024-01-12,10.00",
            'I2,"C1,2024-01-13,11.00',
            "I3,C1,2024-01-14,12.00",
            "I4,C1,2024-01-15,13.00",
        ),
        rows={
            "I1": {"amount": D("10.00")},
            "I3": {"amount": D("12.00")},
            "I4": {"amount": D("13.00")},
        },
        rejected={3: Rej("quote", amount=D("11.00"))},
    ),
    Case(
        "parse_huge_field",
        "parsing",
        "a 200,000-character field loses no row",
        "invoices",
        "inv.csv",
        text(
            HEAD + ",dispute_reason",
            f'I1,C1,2024-01-12,10.00,"{HUGE}"',
            "I2,C1,2024-01-13,20.00,short",
            "I3,C1,2024-01-14,30.00,",
        ),
        rows={
            "I1": {"amount": D("10.00"), "dispute_reason": HUGE},
            "I2": {"amount": D("20.00"), "dispute_reason": "short"},
            "I3": {"amount": D("30.00")},
        },
    ),
    Case(
        "parse_quoted_newline",
        "parsing",
        "a quoted field spanning two lines: later rows keep their physical line numbers",
        "invoices",
        "inv.csv",
        text(
            HEAD + ",dispute_reason",
            'I1,C1,2024-01-12,10.00,"short',
            'paid on the 5th"',
            "I2,C1,2024-01-13,20.00,none",
            "I3,C1,2024-01-14,abc,none",
        ),
        rows={
            "I1": {"amount": D("10.00"), "dispute_reason": "short\npaid on the 5th"},
            "I2": {"amount": D("20.00")},
        },
        rejected={5: Rej("not an amount", "amount", "abc")},
    ),
    Case(
        "parse_too_many_fields",
        "parsing",
        "a row with an extra field is rejected with its line",
        "invoices",
        "inv.csv",
        text(
            HEAD,
            "I1,C1,2024-01-12,10.00",
            "I2,C1,2024-01-13,20.00,extra",
            "I3,C1,2024-01-14,30.00",
        ),
        rows={"I1": {"amount": D("10.00")}, "I3": {"amount": D("30.00")}},
        rejected={3: Rej("field", amount=D("20.00"))},
    ),
    Case(
        "parse_too_few_fields",
        "parsing",
        "a row missing a field is rejected with its line",
        "invoices",
        "inv.csv",
        text(
            HEAD,
            "I1,C1,2024-01-12,10.00",
            "I2,C1,2024-01-13",
            "I3,C1,2024-01-14,30.00",
        ),
        rows={"I1": {"amount": D("10.00")}, "I3": {"amount": D("30.00")}},
        rejected={3: Rej("field")},
    ),
    Case(
        "parse_blank_lines",
        "parsing",
        "blank lines are skipped and still counted in line numbers",
        "invoices",
        "inv.csv",
        text(
            HEAD,
            "I1,C1,2024-01-12,10.00",
            "",
            "I2,C1,2024-01-13,20.00",
            "",
            "I3,C1,2024-01-14,abc",
            "I4,C1,2024-01-15,40.00",
            "",
        ),
        rows={
            "I1": {"amount": D("10.00")},
            "I2": {"amount": D("20.00")},
            "I4": {"amount": D("40.00")},
        },
        rejected={6: Rej("not an amount", "amount", "abc")},
    ),
    Case(
        "parse_crlf_line_numbers",
        "parsing",
        "Windows line endings: a bad row names its line",
        "invoices",
        "inv.csv",
        text(
            HEAD,
            "I1,C1,2024-01-12,10.00",
            "I2,C1,2024-01-13,20.00",
            "I3,C1,13/13/2024,30.00",
            newline="\r\n",
        ),
        rows={"I1": {"amount": D("10.00")}, "I2": {"amount": D("20.00")}},
        rejected={4: Rej(NOT_A_CALENDAR_DATE, "invoice_date", "13/13/2024", D("30.00"))},
    ),
    Case(
        "parse_header_only",
        "parsing",
        "a file with a header and no rows fails in one line",
        "invoices",
        "inv.csv",
        text(HEAD),
        exit=1,
        message=r"no (data )?rows|header",
    ),
    Case(
        "parse_empty_file",
        "parsing",
        "an empty file fails in one line",
        "invoices",
        "inv.csv",
        "",
        exit=1,
        message="empty",
    ),
    Case(
        "parse_blank_file",
        "parsing",
        "a file of blank lines fails in one line",
        "invoices",
        "inv.csv",
        "\n\n  \n",
        exit=1,
        message=r"empty|no header|no rows",
    ),
    Case(
        "parse_duplicate_identical",
        "parsing",
        "an identical repeat of a row is rejected as repeating the first",
        "invoices",
        "inv.csv",
        text(
            HEAD,
            "I1,C1,2024-01-12,10.00",
            "I1,C1,2024-01-12,10.00",
            "I2,C1,2024-01-13,20.00",
        ),
        rows={"I1": {"amount": D("10.00")}, "I2": {"amount": D("20.00")}},
        rejected={3: Rej("repeats line 2", "invoice_id", "I1")},
    ),
    Case(
        "parse_duplicate_differing",
        "parsing",
        "two different rows with one key: both rejected",
        "invoices",
        "inv.csv",
        text(
            HEAD,
            "I1,C1,2024-01-12,10.00",
            "I2,C1,2024-01-13,20.00",
            "I1,C1,2024-01-12,11.00",
        ),
        rows={"I2": {"amount": D("20.00")}},
        rejected={
            2: Rej("differ", "invoice_id", "I1", D("10.00")),
            4: Rej("differ", "invoice_id", "I1", D("11.00")),
        },
    ),
    Case(
        "parse_tsv",
        "parsing",
        "a tab-separated file",
        "invoices",
        "inv.tsv",
        text(
            "invoice_id\tcustomer_id\tinvoice_date\tamount",
            "X1\tC1\t2024-01-12\t1234.56",
            "X2\tC1\t2024-01-13\t12.50",
        ),
        rows=PLAIN_EXPECTED,
    ),
    Case(
        "parse_semicolon_quoted",
        "parsing",
        "a ;-file with `;` inside quoted names",
        "customers",
        "cust.csv",
        text(
            "customer_id;name;credit_limit",
            'K1;"Müller; Söhne KG";1.000,00',
            "K2;Dupont SA;250,50",
        ),
        rows={
            "K1": {"name": "Müller; Söhne KG", "credit_limit": D("1000.00")},
            "K2": {"name": "Dupont SA", "credit_limit": D("250.50")},
        },
    ),
    Case(
        "parse_utf8_bom",
        "parsing",
        "a UTF-8 byte-order mark before the header",
        "invoices",
        "inv.csv",
        "\ufeff" + PLAIN_CSV,
        rows=PLAIN_EXPECTED,
    ),
    Case(
        "parse_utf16_tsv",
        "parsing",
        "UTF-16 tab-separated (Excel's Unicode Text): `Müller`, `€`",
        "customers",
        "cust.txt",
        utf16(
            text(
                "customer_id\tname\tcountry",
                "0001\tMüller Stahlbau GmbH\tDE",
                "0002\tCafé Crème SARL €\tFR",
            )
        ),
        rows={
            "0001": {"name": "Müller Stahlbau GmbH", "country": "DE"},
            "0002": {"name": "Café Crème SARL €", "country": "FR"},
        },
    ),
    Case(
        "parse_utf16_csv",
        "parsing",
        "UTF-16 comma-separated invoices",
        "invoices",
        "inv.csv",
        utf16(PLAIN_CSV),
        rows=PLAIN_EXPECTED,
    ),
    Case(
        "parse_cp1252_names",
        "parsing",
        "Windows-1252 customers: `Müller`, `€` read right",
        "customers",
        "cust.csv",
        text(
            "customer_id,name,country",
            "0001,Müller Stahlbau GmbH,DE",
            "0002,Café Crème SARL €,FR",
        ),
        encoding="cp1252",
        rows={
            "0001": {"name": "Müller Stahlbau GmbH"},
            "0002": {"name": "Café Crème SARL €"},
        },
    ),
    Case(
        "parse_cp1252_euro_amounts",
        "parsing",
        "Windows-1252 invoices with `1.234,56 €` amounts",
        "invoices",
        "inv.csv",
        text(
            HEAD_SEMI + ";currency;dispute_reason",
            "A1;Müller;2024-01-12;1.234,56 €;EUR;Preis zu hoch",
            "A2;Müller;2024-01-13;99,00 €;EUR;Menge falsch – Rücksendung",
        ),
        encoding="cp1252",
        rows={
            "A1": {"amount": D("1234.56"), "customer_id": "Müller"},
            "A2": {"amount": D("99.00"), "dispute_reason": "Menge falsch – Rücksendung"},
        },
    ),
    Case(
        "parse_gzip",
        "parsing",
        "a gzip-compressed CSV (`.csv.gz`)",
        "invoices",
        "inv.csv.gz",
        gz(PLAIN_CSV),
        rows=PLAIN_EXPECTED,
    ),
    Case(
        "parse_bz2",
        "parsing",
        "a bzip2-compressed CSV (`.csv.bz2`)",
        "invoices",
        "inv.csv.bz2",
        bz(PLAIN_CSV),
        rows=PLAIN_EXPECTED,
    ),
    Case(
        "parse_zip_one_csv",
        "parsing",
        "a `.zip` holding one CSV",
        "invoices",
        "inv.zip",
        zipped("inv.csv", PLAIN_CSV),
        rows=PLAIN_EXPECTED,
    ),
    Case(
        "parse_truncated_gzip",
        "parsing",
        "a truncated gzip fails in one line naming gzip",
        "invoices",
        "inv.csv.gz",
        TRUNCATED_GZIP,
        exit=1,
        message="gzip",
    ),
    Case(
        "parse_xlsx_named_csv",
        "parsing",
        "an .xlsx renamed `.csv` reads as Excel",
        "invoices",
        "inv.csv",
        xlsx({"AR": PLAIN_ROWS}),
        rows=PLAIN_EXPECTED,
    ),
    Case(
        "parse_xlsx_bad_cell",
        "parsing",
        "an Excel text cell `n/a` in the amounts: rejected at its row",
        "invoices",
        "inv.xlsx",
        xlsx(
            {
                "AR": [
                    ["invoice_id", "customer_id", "invoice_date", "amount"],
                    ["X1", "C1", day(2024, 1, 12), 10],
                    ["X2", "C1", day(2024, 1, 13), "n/a"],
                    ["X3", "C1", day(2024, 1, 14), 30.5],
                ]
            }
        ),
        rows={
            "X1": {"amount": D("10.00"), "invoice_date": day(2024, 1, 12)},
            "X3": {"amount": D("30.50"), "invoice_date": day(2024, 1, 14)},
        },
        rejected={3: Rej("not an amount", "amount", "n/a")},
    ),
    Case(
        "parse_parquet_list_column",
        "parsing",
        "a Parquet file with a list column loads the other columns; a note names it",
        "invoices",
        "inv.parquet",
        parquet(
            {
                "invoice_id": ["Q1", "Q2"],
                "customer_id": ["C1", "C1"],
                "invoice_date": [day(2024, 1, 12), day(2024, 1, 13)],
                "amount": [D("1234.56"), D("0.10")],
                "tags": [["a", "b"], []],
            },
            {
                "invoice_id": pa.string(),
                "customer_id": pa.string(),
                "invoice_date": pa.date32(),
                "amount": pa.decimal128(18, 2),
                "tags": pa.list_(pa.string()),
            },
        ),
        rows={
            "Q1": {"amount": D("1234.56"), "invoice_date": day(2024, 1, 12)},
            "Q2": {"amount": D("0.10"), "invoice_date": day(2024, 1, 13)},
        },
        notes=("tags",),
    ),
    Case(
        "parse_json_array",
        "parsing",
        "a JSON array of objects reads like JSON lines",
        "invoices",
        "inv.json",
        json.dumps(
            [
                {
                    "invoice_id": "J1",
                    "customer_id": "C1",
                    "invoice_date": "2024-01-12",
                    "amount": 12.5,
                },
                {
                    "invoice_id": "J2",
                    "customer_id": "C1",
                    "invoice_date": "2024-01-13",
                    "amount": "7.00",
                },
            ],
            indent=1,
        ),
        rows={"J1": {"amount": D("12.50")}, "J2": {"amount": D("7.00")}},
    ),
    Case(
        "parse_jsonl_late_keys",
        "parsing",
        "JSON lines whose `due_date`, `po_number` first appear after line 1,000 keep them",
        "invoices",
        "inv.jsonl",
        LATE_KEYS,
        rows=LATE_KEYS_ROWS,
    ),
    Case(
        "parse_jsonl_bad_value",
        "parsing",
        "a JSON line with a bad amount is rejected at its line",
        "invoices",
        "inv.jsonl",
        text(
            '{"invoice_id": "J1", "customer_id": "C1", "invoice_date": "2024-01-12", "amount": 5}',
            '{"invoice_id": "J2", "customer_id": "C1", "invoice_date": "2024-01-13", "amount": "x"}',
            '{"invoice_id": "J3", "customer_id": "C1", "invoice_date": "2024-01-14", "amount": 6.5}',
        ),
        rows={"J1": {"amount": D("5.00")}, "J3": {"amount": D("6.50")}},
        rejected={2: Rej("not an amount", "amount", "x")},
    ),
    # ---------------------------------------------------------------- mapping files
    Case(
        "map_bad_delimiter",
        "mapping",
        '`delimiter = ";;"` fails in one line naming delimiter',
        "invoices",
        "inv.csv",
        PLAIN_CSV,
        mapping=text("[format]", 'delimiter = ";;"'),
        exit=1,
        message="delimiter",
    ),
    Case(
        "map_bad_date_format",
        "mapping",
        '`date = "%Q"` fails in one line naming the format',
        "invoices",
        "inv.csv",
        PLAIN_CSV,
        mapping=text("[format]", 'date = "%Q"'),
        exit=1,
        message="%Q",
    ),
    Case(
        "map_bad_encoding",
        "mapping",
        '`encoding = "klingon"` fails in one line naming it',
        "invoices",
        "inv.csv",
        PLAIN_CSV,
        mapping=text("[format]", 'encoding = "klingon"'),
        exit=1,
        message="klingon",
    ),
    Case(
        "map_unknown_format_key",
        "mapping",
        "`[format] delimeter` (a typo) fails naming the key",
        "invoices",
        "inv.csv",
        PLAIN_CSV,
        mapping=text("[format]", 'delimeter = ";"'),
        exit=1,
        message="delimeter",
    ),
    Case(
        "map_unknown_default_column",
        "mapping",
        "`[defaults] curency` fails naming the key",
        "invoices",
        "inv.csv",
        PLAIN_CSV,
        mapping=text("[defaults]", 'curency = "EUR"'),
        exit=1,
        message="curency",
    ),
    Case(
        "map_bad_decimal",
        "mapping",
        '`decimal = ":"` fails in one line naming decimal',
        "invoices",
        "inv.csv",
        PLAIN_CSV,
        mapping=text("[format]", 'decimal = ":"'),
        exit=1,
        message="decimal",
    ),
    Case(
        "map_unknown_target_column",
        "mapping",
        '`"X" = "nosuchcolumn"` fails naming the column',
        "invoices",
        "inv.csv",
        text(HEAD + ",X", "X1,C1,2024-01-12,10.00,x"),
        mapping=text("[columns]", '"X" = "nosuchcolumn"'),
        exit=1,
        message="nosuchcolumn",
    ),
    Case(
        "map_unknown_section",
        "mapping",
        "`[colums]` (a typo) fails naming the section",
        "invoices",
        "inv.csv",
        PLAIN_CSV,
        mapping=text("[colums]", '"Kunde" = "customer_id"'),
        exit=1,
        message="colums",
    ),
    Case(
        "map_toml_syntax_error",
        "mapping",
        "a mapping file that is not TOML fails in one line",
        "invoices",
        "inv.csv",
        PLAIN_CSV,
        mapping=text("[format", 'date = "%d.%m.%Y"'),
        exit=1,
        message=r"toml|line 1\b|syntax|invalid",
    ),
    Case(
        "map_german_erp",
        "mapping",
        "headers, a value map and formats from a mapping file",
        "invoices",
        "inv.csv",
        text(
            "Belegnr;Kunde;Belegdatum;Betrag;Strittig",
            "RE-1;00042;05.01.2024;1.234,56;J",
            "RE-2;00042;10.01.2024;99,90;N",
        ),
        mapping=text(
            "[columns]",
            '"Belegnr" = "invoice_id"',
            '"Kunde" = "customer_id"',
            '"Belegdatum" = "invoice_date"',
            '"Betrag" = "amount"',
            '"Strittig" = "disputed"',
            "[values.disputed]",
            '"J" = true',
            '"N" = false',
            "[format]",
            'date = "%d.%m.%Y"',
            'decimal = ","',
            'delimiter = ";"',
        ),
        rows={
            "RE-1": {
                "amount": D("1234.56"),
                "invoice_date": day(2024, 1, 5),
                "disputed": True,
                "customer_id": "00042",
            },
            "RE-2": {"amount": D("99.90"), "invoice_date": day(2024, 1, 10), "disputed": False},
        },
    ),
    Case(
        "map_date_format_rejects_others",
        "mapping",
        'with `date = "%d.%m.%Y"`, an ISO date is not a date in that format',
        "invoices",
        "inv.csv",
        text(HEAD, "I1,C1,12.01.2024,10.00", "I2,C1,2024-01-13,20.00"),
        mapping=text("[format]", 'date = "%d.%m.%Y"'),
        rows={"I1": {"amount": D("10.00"), "invoice_date": day(2024, 1, 12)}},
        rejected={3: Rej("not a date", "invoice_date", "2024-01-13", D("20.00"))},
    ),
    Case(
        "map_tab_delimiter_txt",
        "mapping",
        '`delimiter = "\\t"` reads a tab-separated .txt',
        "invoices",
        "inv.txt",
        text(
            "invoice_id\tcustomer_id\tinvoice_date\tamount",
            "X1\tC1\t2024-01-12\t1234.56",
            "X2\tC1\t2024-01-13\t12.50",
        ),
        mapping=text("[format]", 'delimiter = "\\t"'),
        rows=PLAIN_EXPECTED,
    ),
    Case(
        "map_doc_type_values",
        "mapping",
        "`[values.doc_type]` maps `GS` to credit_memo",
        "invoices",
        "inv.csv",
        text(
            HEAD + ",doc_type",
            "RE-1,C1,2024-01-12,100.00,RE",
            "GS-1,C1,2024-01-13,-34.56,GS",
        ),
        mapping=text("[values.doc_type]", '"RE" = "invoice"', '"GS" = "credit_memo"'),
        rows={
            "RE-1": {"amount": D("100.00"), "doc_type": "invoice"},
            "GS-1": {"amount": D("-34.56"), "doc_type": "credit_memo"},
        },
    ),
    # ---------------------------------------------------------------- required values, doc types
    Case(
        "req_missing_customer_id",
        "required",
        "an empty customer_id is a missing required value",
        "invoices",
        "inv.csv",
        text(HEAD, "I1,C1,2024-01-12,10.00", "I2,,2024-01-13,20.00", "I3,C1,2024-01-14,30.00"),
        rows={"I1": {"amount": D("10.00")}, "I3": {"amount": D("30.00")}},
        rejected={3: Rej("missing required value", "customer_id", amount=D("20.00"))},
    ),
    Case(
        "req_missing_amount",
        "required",
        "an empty amount is a missing required value",
        "invoices",
        "inv.csv",
        text(HEAD, "I1,C1,2024-01-12,10.00", "I2,C1,2024-01-13,"),
        rows={"I1": {"amount": D("10.00")}},
        rejected={3: Rej("missing required value", "amount")},
    ),
    Case(
        "req_missing_invoice_date",
        "required",
        "an empty invoice date is a missing required value",
        "invoices",
        "inv.csv",
        text(HEAD, "I1,C1,,10.00", "I2,C1,2024-01-13,20.00"),
        rows={"I2": {"amount": D("20.00")}},
        rejected={2: Rej("missing required value", "invoice_date", amount=D("10.00"))},
    ),
    Case(
        "req_whitespace_only_id",
        "required",
        "an invoice_id of only a no-break space is missing",
        "invoices",
        "inv.csv",
        text(HEAD, "\u00a0,C1,2024-01-12,10.00", "I2,C1,2024-01-13,20.00"),
        rows={"I2": {"amount": D("20.00")}},
        rejected={2: Rej("missing required value", "invoice_id", amount=D("10.00"))},
    ),
    Case(
        "req_missing_payment_date",
        "required",
        "a payment without a date is rejected",
        "payments",
        "pay.csv",
        text(
            "payment_id,customer_id,payment_date,amount", "P1,C1,,10.00", "P2,C1,2024-02-02,20.00"
        ),
        rows={"P2": {"amount": D("20.00")}},
        rejected={2: Rej("missing required value", "payment_date", amount=D("10.00"))},
    ),
    Case(
        "req_missing_period_end",
        "required",
        "a financials row without period_end is rejected",
        "financials",
        "fin.csv",
        text("period_end,revenue,cogs", "2024-01-31,1000.00,600.00", ",2000.00,1200.00"),
        rows={day(2024, 1, 31): {"revenue": D("1000.00"), "cogs": D("600.00")}},
        rejected={3: Rej("missing required value", "period_end", amount=D("2000.00"))},
    ),
    Case(
        "req_no_amount_column",
        "required",
        "a register without an amount column fails naming it",
        "invoices",
        "inv.csv",
        text("invoice_id,customer_id,invoice_date", "I1,C1,2024-01-12"),
        exit=1,
        message="amount",
    ),
    Case(
        "req_negative_without_doc_type",
        "required",
        "a negative invoice amount in a file without doc_type is rejected",
        "invoices",
        "inv.csv",
        text(HEAD, "I1,C1,2024-01-12,10.00", "I2,C1,2024-01-13,-20.00"),
        rows={"I1": {"amount": D("10.00")}},
        rejected={3: Rej("negative", "amount", "-20.00", D("-20.00"))},
    ),
    Case(
        "req_negative_blank_doc_type",
        "required",
        "a negative amount whose doc_type cell is blank is rejected",
        "invoices",
        "inv.csv",
        text(HEAD + ",doc_type", "I1,C1,2024-01-12,10.00,invoice", "I2,C1,2024-01-13,-20.00,"),
        rows={"I1": {"amount": D("10.00")}},
        rejected={3: Rej("negative", "amount", "-20.00", D("-20.00"))},
    ),
    Case(
        "req_negative_on_invoice_type",
        "required",
        "a negative amount typed `invoice` is rejected (credit memos need their type)",
        "invoices",
        "inv.csv",
        text(
            HEAD + ",doc_type",
            "I1,C1,2024-01-12,-10.00,invoice",
            "M1,C1,2024-01-13,-20.00,credit_memo",
        ),
        rows={"M1": {"amount": D("-20.00")}},
        rejected={2: Rej("negative", "amount", "-10.00", D("-10.00"))},
    ),
    Case(
        "req_unknown_doc_type",
        "required",
        "an unknown doc_type `ZZ` is rejected",
        "invoices",
        "inv.csv",
        text(HEAD + ",doc_type", "I1,C1,2024-01-12,10.00,invoice", "I2,C1,2024-01-13,20.00,ZZ"),
        rows={"I1": {"amount": D("10.00")}},
        rejected={3: Rej(r"doc(ument)?[ _]?type", "doc_type", "ZZ", D("20.00"))},
    ),
]


# --- writing the files ---------------------------------------------------------------------------


@dataclass(frozen=True)
class CaseFiles:
    """Where a case's files were written."""

    folder: Path
    data: Path
    mapping: Path | None
    setup: tuple[Path, ...]


def _write(path: Path, data: str | bytes, encoding: str = "utf-8") -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data.encode(encoding) if isinstance(data, str) else data)
    return path


def write_case(case: Case, folder: Path) -> CaseFiles:
    """Write one case's data file, mapping and setup files into folder/<case name>/."""
    here = folder / case.name
    data = _write(here / case.file, case.data, case.encoding)
    mapping = _write(here / "m.toml", case.mapping) if case.mapping is not None else None
    setup = tuple(_write(here / "setup" / s.file, s.data) for s in case.setup)
    return CaseFiles(here, data, mapping, setup)


def write_all(folder: Path) -> dict[str, CaseFiles]:
    return {case.name: write_case(case, folder) for case in CASES}


def write_seed(folder: Path) -> Path:
    return _write(folder / "seed.csv", SEED)


def _check_cases() -> None:
    names = [c.name for c in CASES]
    assert len(names) == len(set(names)), "case names must be unique"
    for c in CASES:
        assert c.cls in CLASSES, c.name
        assert (c.exit == 1) == (c.message is not None), f"{c.name}: exit 1 needs a message"
        if c.table in ("invoices", "credit_memos", "payments"):  # invariant 4 needs every amount
            assert all("amount" in row for row in c.rows.values()), f"{c.name}: state each amount"


_check_cases()


if __name__ == "__main__":
    out = Path(sys.argv[1] if len(sys.argv) > 1 else "bad_input_cases")
    written = write_all(out)
    write_seed(out)
    for files in written.values():
        print(files.data)
    print(f"{len(written)} cases in {out}")
