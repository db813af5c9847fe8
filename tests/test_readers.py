"""File readers: every export becomes a header and text rows with their physical line numbers.

Each test writes a small file into tmp_path (or reads a fixture in tests/data/exports/reports) and
compares the rows, lines, bad rows, notes and totals the reader gives, exactly.
"""

from __future__ import annotations

import bz2
import datetime as dt
import decimal
import gzip
import json
import zipfile
from decimal import Decimal
from pathlib import Path

import openpyxl
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from arlens.ingest.importer import import_file
from arlens.ingest.readers import BadRow, ReadError, open_source, sniff

REPORTS = Path(__file__).parent / "data" / "exports" / "reports"
EXPECTED = json.loads((REPORTS / "expected.json").read_text(encoding="utf-8"))
HEADER = "invoice_id,customer_id,invoice_date,amount\n"


def read(path: Path, options: dict | None = None):
    """(source, [(line, row), ...]) for a file that gives one source."""
    [source] = open_source(path, options or {})
    rows = [(line, list(row)) for batch in source.batches for line, row in _rows(batch)]
    return source, rows


def _rows(batch):
    if batch.table is not None:
        columns = [column.to_pylist() for column in batch.table.columns]
        return zip(batch.lines, zip(*columns, strict=True), strict=True)
    return zip(batch.lines, batch.rows, strict=True)


def first_cells(rows) -> list[tuple[int, str]]:
    return [(line, row[0]) for line, row in rows]


def amount(text: str) -> Decimal:
    """Report money as printed: "$1,250.00", "($350.00)", "-96.00"."""
    negative = text.startswith(("(", "-"))
    digits = text.strip("()-$").replace(",", "")
    return -Decimal(digits) if negative else Decimal(digits)


# --- 1. quotes ---------------------------------------------------------------------------------


def test_an_opening_quote_never_closed_rejects_its_line_and_later_rows_load(write):
    """The quote on line 3 would swallow lines 4-6 into one field; only line 3 is lost."""
    path = write(
        "q.csv",
        HEADER
        + "A1,C1,2026-01-01,10\n"
        + 'A2,C1,"2026-01-02,11\n'
        + "A3,C1,2026-01-03,12\n"
        + "A4,C1,2026-01-04,13\n"
        + 'A5,C1,2026-01-05,"1,400.00"\n',
    )
    source, rows = read(path)
    assert first_cells(rows) == [(2, "A1"), (4, "A3"), (5, "A4"), (6, "A5")]
    assert rows[-1][1] == ["A5", "C1", "2026-01-05", "1,400.00"]
    [bad] = source.bad_rows
    assert (bad.line, bad.raw) == (3, 'A2,C1,"2026-01-02,11')
    assert "opening quote never closed" in bad.reason


def test_an_opening_quote_on_the_last_line_is_rejected_as_truncated(write):
    path = write("q.csv", HEADER + "A1,C1,2026-01-01,10\n" + 'A2,C1,2026-01-02,"11\n')
    source, rows = read(path)
    assert first_cells(rows) == [(2, "A1")]
    assert [(b.line, b.raw) for b in source.bad_rows] == [(3, 'A2,C1,2026-01-02,"11')]
    assert "opening quote never closed" in source.bad_rows[0].reason
    assert "truncated" in source.bad_rows[0].reason


def test_quoted_fields_with_line_breaks_keep_the_line_their_record_starts_on(write):
    path = write(
        "q.csv",
        HEADER.replace("amount", "amount,note")
        + 'A1,C1,2026-01-01,10,"two\nlines"\n'
        + 'A2,C1,2026-01-02,11,"three\nshort\nlines"\n'
        + "A3,C1,2026-01-03,12,plain\n",
    )
    source, rows = read(path)
    assert rows == [
        (2, ["A1", "C1", "2026-01-01", "10", "two\nlines"]),
        (4, ["A2", "C1", "2026-01-02", "11", "three\nshort\nlines"]),
        (7, ["A3", "C1", "2026-01-03", "12", "plain"]),
    ]
    assert source.bad_rows == []


# --- 2. long fields ----------------------------------------------------------------------------


@pytest.mark.parametrize("quoted", [True, False], ids=["csv module", "arrow"])
def test_a_field_longer_than_csv_limits_is_read_whole(write, quoted):
    """131,072 characters is the csv module's limit; 2,000,000 (after 50,000 short rows) is more
    than an Arrow block, which Arrow's parser refuses."""
    long = "x" * (200_000 if quoted else 2_000_000)
    note = f'"{long}"' if quoted else long
    short = "".join(f"S{i},C1,2026-01-01,1,n\n" for i in range(50_000))
    path = write(
        "long.csv",
        HEADER.replace("amount", "amount,note")
        + short
        + f"A1,C1,2026-01-01,10,{note}\n"
        + "A2,C1,2026-01-02,11,short\n",
    )
    source, rows = read(path)
    assert len(rows) == 50_002
    assert [(line, row[0], len(row[4])) for line, row in rows[-3:]] == [
        (50_001, "S49999", 1),
        (50_002, "A1", len(long)),
        (50_003, "A2", 5),
    ]
    assert source.bad_rows == []


# --- 3. JSON -----------------------------------------------------------------------------------


def test_json_lines_header_is_every_key_in_the_file(write):
    lines = [json.dumps({"invoice_id": f"J{i}", "amount": 1.5}) for i in range(1, 1201)]
    lines[1100] = json.dumps({"invoice_id": "J1101", "amount": 2, "po_number": "PO-9"})
    source, rows = read(write("j.jsonl", "\n".join(lines) + "\n"))
    assert source.header == ["invoice_id", "amount", "po_number"]
    assert len(rows) == 1200
    assert rows[1100] == (1101, ["J1101", "2", "PO-9"])
    assert rows[0] == (1, ["J1", "1.5", None])


def test_a_json_array_is_read_as_records_on_the_lines_they_start(write):
    text = """[
      {"invoice_id": "A1", "amount": 1234.50, "customer": {"id": "C1"}},

      {"invoice_id": "A2",
       "amount": 0.1, "due": null},
      42, {"invoice_id": "A3", "amount": 1e3}
    ]"""
    source, rows = read(write("array.json", text))
    assert source.header == ["invoice_id", "amount", "customer", "due"]
    assert rows == [
        (2, ["A1", "1234.50", '{"id": "C1"}', None]),
        (4, ["A2", "0.1", None, None]),
        (6, ["A3", "1e3", None, None]),
    ]
    assert [(b.line, b.raw, b.reason) for b in source.bad_rows] == [(6, "42", "not a JSON object")]
    assert any("line its record starts on" in note for note in source.notes)


@pytest.mark.parametrize(
    "text",
    ['{\n  "invoices": [{"invoice_id": "A1"}]\n}\n', '[{"invoice_id": "A1"} {"x": 1}]'],
    ids=["pretty object", "broken array"],
)
def test_json_that_is_neither_lines_nor_an_array_fails_in_one_line(write, text):
    path = write("x.json", text)
    with pytest.raises(ReadError) as failure:
        open_source(path, {})
    message = str(failure.value)
    assert message.startswith(str(path)) and "\n" not in message
    assert "JSON" in message


# --- 4. Parquet --------------------------------------------------------------------------------


def test_parquet_nested_columns_are_ignored_and_values_become_importable_text(tmp_path):
    table = pa.table(
        {
            "invoice_id": ["P1", "P2"],
            "lines": pa.array([[1, 2], []], pa.list_(pa.int32())),
            "invoice_date": pa.array([dt.date(2026, 1, 2), None], pa.date32()),
            "posted_at": pa.array(
                [dt.datetime(2026, 1, 2, 10, 30, 15, 500000), dt.datetime(2026, 1, 3)],
                pa.timestamp("us"),
            ),
            "amount": pa.array([Decimal("1234.50"), Decimal("-0.01")], pa.decimal128(12, 2)),
            "open": pa.array([1234.5, 0.1 + 0.2], pa.float64()),
            "rate": pa.array([0.1, 2.5], pa.float32()),
            "count": pa.array([1002003004, None], pa.int64()),
            "address": pa.array([{"city": "Oslo"}, None], pa.struct([("city", pa.string())])),
            "tags": pa.array([[("k", "v")], None], pa.map_(pa.string(), pa.string())),
        }
    )
    path = tmp_path / "invoices.parquet"
    pq.write_table(table, path)
    source, rows = read(path)
    assert source.header == [
        "invoice_id", "invoice_date", "posted_at", "amount", "open", "rate", "count"
    ]  # fmt: skip
    assert rows == [
        (1, ["P1", "2026-01-02", "2026-01-02 10:30:15", "1234.50", "1234.5", "0.1", "1002003004"]),
        (2, ["P2", None, "2026-01-03 00:00:00", "-0.01", "0.3", "2.5", None]),
    ]
    [note] = source.notes
    assert "lines" in note and "address" in note and "tags" in note and "ignored" in note


# --- 5. compression and kind by content ---------------------------------------------------------

CSV_TEXT = HEADER + "Z1,C1,2026-01-01,10.00\nZ2,C1,2026-01-02,11.00\n"


def test_gzip_and_bz2_are_read_transparently_under_the_users_file_name(tmp_path):
    for suffix, compress in ((".csv.gz", gzip.compress), (".csv.bz2", bz2.compress)):
        path = tmp_path / f"invoices{suffix}"
        path.write_bytes(compress(CSV_TEXT.encode()))
        source, rows = read(path)
        assert source.name == str(path)
        assert first_cells(rows) == [(2, "Z1"), (3, "Z2")]


def test_a_zip_with_one_data_file_is_read_as_that_member(tmp_path):
    path = tmp_path / "export.zip"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("reports/invoices.csv", CSV_TEXT)
        archive.writestr("__MACOSX/reports/._invoices.csv", "resource fork")
    source, rows = read(path)
    assert source.name == f"{path}#reports/invoices.csv"
    assert first_cells(rows) == [(2, "Z1"), (3, "Z2")]


def test_a_zip_with_several_files_fails_in_one_line_listing_them(tmp_path):
    path = tmp_path / "export.zip"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("invoices.csv", CSV_TEXT)
        archive.writestr("payments.csv", CSV_TEXT)
    with pytest.raises(ReadError, match=r"2 files \(invoices.csv, payments.csv\)") as failure:
        open_source(path, {})
    assert "\n" not in str(failure.value)


def test_a_truncated_gzip_fails_in_one_line_never_a_decode_error(tmp_path):
    path = tmp_path / "invoices.csv.gz"
    path.write_bytes(gzip.compress(CSV_TEXT.encode() * 50)[:60])
    with pytest.raises(ReadError) as failure:
        open_source(path, {})
    assert str(failure.value).startswith(f"{path} is a truncated or damaged gzip file")
    assert "\n" not in str(failure.value)


def test_an_excel_file_named_csv_is_read_as_a_workbook(tmp_path):
    book = openpyxl.Workbook()
    book.active.title = "Open"
    book.active.append(["invoice_id", "customer_id", "invoice_date", "amount"])
    book.active.append(["X1", "C1", dt.date(2026, 1, 2), 10.5])
    path = tmp_path / "invoices.csv"
    book.save(path)
    source, rows = read(path)
    assert source.name == f"{path}#Open"
    assert rows == [(2, ["X1", "C1", "2026-01-02", "10.5"])]


def test_parquet_and_json_lines_are_known_by_their_bytes_not_their_names(tmp_path):
    parquet = tmp_path / "data.dat"
    pq.write_table(pa.table({"invoice_id": ["P1"]}), parquet)
    lines = tmp_path / "data.txt"
    lines.write_text('{"invoice_id": "J1"}\n')
    assert read(parquet)[1] == [(1, ["P1"])]
    assert read(lines)[1] == [(1, ["J1"])]


@pytest.mark.parametrize(
    "content, kind",
    [
        (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 504, "excel"),
        (b"PAR1" + b"\0" * 16, "parquet"),
        (gzip.compress(b"a,b\n", mtime=0), "gzip"),
        (bz2.compress(b"a,b\n"), "bz2"),
        (b'\xef\xbb\xbf  [\n {"a": 1}]', "json array"),
        (b'{"a": 1}\n', "json lines"),
        (b"[Customer],[Amount]\n", "text"),
        (b"a;b\n1;2\n", "text"),
    ],
    ids=lambda value: (
        value if isinstance(value, str) else "bytes"
    ),  # the same ids in every xdist worker
)
def test_sniff_reads_the_kind_from_the_first_bytes(tmp_path, content, kind):
    path = tmp_path / "file.bin"
    path.write_bytes(content)
    assert sniff(path) == kind


def test_an_ods_is_known_by_its_mimetype_member(tmp_path):
    path = tmp_path / "book.zip"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("mimetype", "application/vnd.oasis.opendocument.spreadsheet")
        archive.writestr("content.xml", "<not really/>")
    assert sniff(path) == "excel"
    with pytest.raises(ReadError, match="not a readable workbook") as failure:
        open_source(path, {})
    assert "\n" not in str(failure.value)


def test_an_unknown_encoding_fails_in_one_line_naming_it(write):
    path = write("x.csv", CSV_TEXT)
    with pytest.raises(ReadError, match="unknown encoding 'klingon-8'") as failure:
        open_source(path, {"encoding": "klingon-8"})
    assert str(failure.value).startswith(str(path)) and "\n" not in str(failure.value)


def test_a_short_windows_1252_file_is_not_read_as_a_dos_code_page(write):
    """A detector guesses cp775 for these bytes, which turns `€` into `Ć`."""
    text = "invoice_id;amount;note\nA1;1.234,56 €;Müller – Rücksendung\nA2;99,00 €;ok\n"
    source, rows = read(write("eu.csv", text, encoding="cp1252"))
    assert source.detected["encoding"] == "cp1252"
    assert rows == [(2, ["A1", "1.234,56 €", "Müller – Rücksendung"]), (3, ["A2", "99,00 €", "ok"])]


# --- 6. Excel ----------------------------------------------------------------------------------


def _workbook(path: Path, rows: list[list]) -> Path:
    book = openpyxl.Workbook()
    book.active.title = "Sheet1"
    for row in rows:
        book.active.append(row)
    book.save(path)
    return path


def test_excel_numbers_dates_and_line_numbers(tmp_path):
    path = _workbook(
        tmp_path / "x.xlsx",
        [
            [],
            ["invoice_id", "customer_id", "invoice_date", "amount", "paid_at"],
            [1002003004, 42.0, dt.datetime(2026, 1, 2), 1234.5, dt.datetime(2026, 2, 1, 9, 5)],
            [],
            [1002003005, 43, dt.date(2026, 1, 3), 45678.899999999994, dt.datetime(2026, 2, 2)],
        ],
    )
    source, rows = read(path)
    assert source.header == ["invoice_id", "customer_id", "invoice_date", "amount", "paid_at"]
    assert rows == [
        (3, ["1002003004", "42", "2026-01-02", "1234.5", "2026-02-01 09:05:00"]),
        (5, ["1002003005", "43", "2026-01-03", "45678.9", "2026-02-02 00:00:00"]),
    ]


def test_a_column_mixing_dates_and_date_times_imports_every_row(store, tmp_path):
    path = _workbook(
        tmp_path / "mixed.xlsx",
        [
            ["invoice_id", "customer_id", "invoice_date", "amount"],
            ["M1", "C1", dt.datetime(2026, 1, 2), 10],
            ["M2", "C1", dt.datetime(2026, 1, 3, 14, 30), 11],
            ["M3", "C1", dt.date(2026, 1, 4), 12],
        ],
    )
    result = import_file(store, path, "invoices")
    assert (result.rows_loaded, result.rows_rejected) == (3, 0)
    assert store.rows("SELECT invoice_id, invoice_date FROM invoices ORDER BY 1") == [
        ("M1", dt.date(2026, 1, 2)),
        ("M2", dt.date(2026, 1, 3)),
        ("M3", dt.date(2026, 1, 4)),
    ]


# --- 7. report-style exports -------------------------------------------------------------------


@pytest.mark.parametrize("name", list(EXPECTED))
def test_report_fixture_rows_customers_and_totals(name):
    """Header found under the title rows, one row per document with its customer, totals aside."""
    expected = EXPECTED[name]
    source, rows = read(REPORTS / name)
    assert source.header == expected["header"]
    assert source.detected["header_line"] == expected["header_line"]
    columns = [
        source.header.index(expected[key])
        for key in ("customer_column", "invoice_column", "amount_column")
    ]
    got = [[line, *(row[i] for i in columns)] for line, row in rows]
    assert got == expected["rows"]
    assert len(rows) == expected["data_rows"]
    assert source.totals == expected["totals"]
    assert source.bad_rows == []


@pytest.mark.parametrize("name", list(EXPECTED))
def test_report_fixtures_add_up(name):
    """The fixtures are consistent: lines sum to each customer's subtotal and to the grand total."""
    expected = EXPECTED[name]
    by_customer: dict[str, Decimal] = {}
    for _, customer, _, text in expected["rows"]:
        by_customer[customer] = by_customer.get(customer, Decimal(0)) + amount(text)
    assert by_customer == {c: Decimal(v) for c, v in expected["subtotals"].items()}
    grand = Decimal(expected["grand_total"])
    assert sum(by_customer.values()) == grand
    assert amount(expected["totals"][expected["amount_column"]]) == grand


def test_report_notes_say_what_was_skipped():
    source, _ = read(REPORTS / "sage50_aged_debtors_detailed.csv")
    assert source.notes == [
        "6 title rows above the header (line 10) skipped",
        "4 customer section rows: the customer is carried into column 'Customer'",
        "5 subtotal and total rows skipped (the grand total on line 42)",
        "8 footer rows skipped",
    ]


def test_a_customer_column_gets_its_empty_cells_filled():
    source, rows = read(REPORTS / "netsuite_ar_aging_detail.csv")
    assert source.header[0] == "Customer" and len(source.header) == 9
    assert rows[0] == (
        6,
        ["Altima Holdings", "", "Invoice", "1/28/2026", "INV10482", "PO-7781", "2/27/2026", "32",
         "$4,200.00"],
    )  # fmt: skip
    assert "9 empty cells" in source.notes[1]


REPORT = """Acme Widgets Inc.
A/R Aging Detail
"As of March 31, 2026"

,Date,Num,Amount,Open Balance
Customer: Total Logistics Ltd
,2026-03-01,T-1,100.00,100.00
Total Logistics Ltd
,2026-03-02,T-2,50.00,50.00
,Date,Num,Amount,Open Balance
Page 1 of 2
,2026-03-03,T-3,25.00,25.00
Total Logistics Ltd Total,,,175.00,175.00
Bolt & Nut Co
,2026-03-04,B-1,"1,000.00","1,000.00"
,,,,
Total for Bolt & Nut Co,,,"1,000.00","1,000.00"
Grand Total,,,"1,175.00","1,175.00"
"""


def test_report_rows_sections_subtotals_repeated_headers_and_page_footers(write):
    """A customer named "Total ..." is a customer, not a total; a repeated header is dropped."""
    source, rows = read(write("aging.csv", REPORT))
    assert source.header == ["", "Date", "Num", "Amount", "Open Balance", "Customer"]
    assert [(line, row[2], row[5]) for line, row in rows] == [
        (7, "T-1", "Total Logistics Ltd"),
        (9, "T-2", "Total Logistics Ltd"),
        (12, "T-3", "Total Logistics Ltd"),
        (15, "B-1", "Bolt & Nut Co"),
    ]
    assert source.totals == {"Amount": "1,175.00", "Open Balance": "1,175.00"}
    assert "1 repeated header row skipped" in source.notes
    assert "1 footer row skipped" in source.notes


NUMERIC_HEADERS = (
    "Open items by age\nCustomer,Invoice,30,60,90\nAcme,INV1,10.00,0,0\nAcme,INV2,0,5.00,0\n"
)


@pytest.mark.parametrize("options", [{"header_row": 2}, {"skip_rows": 1}])
def test_header_row_and_skip_rows_name_the_header_detection_misses(write, options):
    path = write("buckets.csv", NUMERIC_HEADERS)
    assert read(path)[0].header == ["Open items by age"]  # numbers as column names: not found
    source, rows = read(path, options)
    assert source.header == ["Customer", "Invoice", "30", "60", "90"]
    assert rows == [
        (3, ["Acme", "INV1", "10.00", "0", "0"]),
        (4, ["Acme", "INV2", "0", "5.00", "0"]),
    ]
    assert source.notes == ["1 title row above the header (line 2) skipped"]


def test_header_row_beyond_the_file_fails_in_one_line(write):
    path = write("buckets.csv", NUMERIC_HEADERS)
    with pytest.raises(ReadError, match="header_row = 9") as failure:
        open_source(path, {"header_row": 9})
    assert "\n" not in str(failure.value)


def test_a_plain_export_stays_on_the_arrow_path_with_nothing_dropped(write):
    """Header on line 1: no report handling, even for a row that looks like a section."""
    path = write("plain.csv", HEADER + "P1,C1,2026-01-01,10\nTotal,,,\nP2,C1,2026-01-02,11\n")
    source, rows = read(path)
    [batch] = list(open_source(path, {})[0].batches)
    assert batch.table is not None
    assert first_cells(rows) == [(2, "P1"), (3, "Total"), (4, "P2")]
    assert source.totals == {} and source.notes == [] and "report" not in source.detected


def test_a_plain_export_whose_first_rows_carry_few_numbers_keeps_its_header(write):
    """Rows of data look like column names too; a header is never chosen below a wider row."""
    text = "customer_id,name,segment,credit_limit,terms\n"
    text += "".join(f"C{i},Customer {i},Retail,,30\n" for i in range(30))
    text += "".join(f"D{i},Total Foods {i},Retail,5000,30\n" for i in range(30))
    source, rows = read(write("customers.csv", text))
    assert source.header == ["customer_id", "name", "segment", "credit_limit", "terms"]
    assert len(rows) == 60 and rows[0] == (2, ["C0", "Customer 0", "Retail", "", "30"])
    assert "report" not in source.detected


def test_a_report_with_its_header_on_line_one_is_still_a_report(write):
    """No title rows, but customer sections and totals below the header."""
    text = (
        "Date,Num,Open Balance\nAcme\n2026-03-01,A-1,10.00\nTotal for Acme,,10.00\nTOTAL,,10.00\n"
    )
    source, rows = read(write("aging.csv", text))
    assert source.header == ["Date", "Num", "Open Balance", "Customer"]
    assert rows == [(3, ["2026-03-01", "A-1", "10.00", "Acme"])]
    assert source.totals == {"Open Balance": "10.00"}


def test_a_workbook_inside_a_zip_is_named_by_archive_member_and_sheet(tmp_path):
    book = _workbook(tmp_path / "book.xlsx", [["invoice_id", "amount"], ["W1", 5]])
    path = tmp_path / "mail.zip"
    with zipfile.ZipFile(path, "w") as archive:
        archive.write(book, "book.xlsx")
    source, rows = read(path)
    assert source.name == f"{path}#book.xlsx#Sheet1"
    assert rows == [(2, ["W1", "5"])]


def test_a_report_workbook_keeps_sheet_row_numbers(tmp_path):
    path = _workbook(
        tmp_path / "aging.xlsx",
        [
            ["Aged Debtors"],
            [],
            ["Date", "Ref", "Balance"],
            ["Harbour Ltd"],
            [dt.date(2026, 3, 1), 5001, 120.0],
            [dt.date(2026, 3, 9), 5002, 30.25],
            ["Harbour Ltd Total", None, 150.25],
            ["Grand Total", None, 150.25],
        ],
    )
    source, rows = read(path)
    assert source.header == ["Date", "Ref", "Balance", "Customer"]
    assert rows == [
        (5, ["2026-03-01", "5001", "120", "Harbour Ltd"]),
        (6, ["2026-03-09", "5002", "30.25", "Harbour Ltd"]),
    ]
    assert source.totals == {"Balance": "150.25"}


def test_bad_rows_are_bad_rows_not_tracebacks(write):
    """Every problem the reader meets inside a file is a BadRow with its line."""
    source, rows = read(write("x.csv", HEADER + "A1,C1,2026-01-01\nA2,C1,2026-01-02,5,extra\n"))
    assert rows == []
    assert [(b.line, b.reason.split(" (")[0]) for b in source.bad_rows] == [
        (2, "row has 3 fields, the header has 4"),
        (3, "row has 5 fields, the header has 4"),
    ]
    assert all(isinstance(b, BadRow) for b in source.bad_rows)


def test_the_amount_helper_reads_every_printed_form():
    """amount() reads every printed form used by the fixtures."""
    assert [amount(t) for t in ("$1,250.00", "($350.00)", "-96.00", "4890.2")] == [
        Decimal("1250.00"),
        Decimal("-350.00"),
        Decimal("-96.00"),
        Decimal("4890.2"),
    ]
    with pytest.raises(decimal.InvalidOperation):
        amount("n/a")
