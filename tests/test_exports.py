"""Every CSV and Excel file AR Lens writes is safe to open in a spreadsheet (DESIGN.md §3)."""

from __future__ import annotations

import csv
import datetime as dt
import io

import numpy as np
import openpyxl
import pandas as pd
import pytest

from arlens.cli import main
from arlens.exports import neutralise_text, to_csv_bytes, to_excel_bytes, write_csv

HYPERLINK = '=HYPERLINK("http://x","y")'


@pytest.fixture
def hostile() -> pd.DataFrame:
    """Text that a spreadsheet would run, beside real numbers, gaps and a midnight date."""
    return pd.DataFrame(
        {
            "name": [HYPERLINK, "+1", "-2", "@SUM(A1)", "\tx", "\rx", "Acme", None],
            "amount": [-12.5, 435974.83999999997, np.nan, 0.1 + 0.2, 1.0, 2.0, 3.0, 4.0],
            "rate": [0.749553] * 8,
            "due": pd.to_datetime(["2026-01-31"] * 7 + [None]),
            "count": pd.array([1, None, 3, 4, 5, 6, 7, 8], dtype="Int64"),
        }
    )


EXPECTED_NAMES = [f"'{HYPERLINK}", "'+1", "'-2", "'@SUM(A1)", "'\tx", "'\rx", "Acme", None]
EXPECTED_AMOUNTS = [-12.5, 435974.84, None, 0.3, 1.0, 2.0, 3.0, 4.0]


def test_csv_cells_are_neutralised_numbers_numbers_and_gaps_empty(hostile):
    data = to_csv_bytes(hostile)
    assert data.startswith(b"\xef\xbb\xbf")  # Excel reads a BOM as UTF-8
    header, *rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig"), newline="")))
    assert header == ["name", "amount", "rate", "due", "count"]
    assert len(rows) == 8
    assert [r[0] for r in rows] == [n or "" for n in EXPECTED_NAMES]
    assert [r[1] for r in rows] == ["-12.5", "435974.84", "", "0.3", "1.0", "2.0", "3.0", "4.0"]
    assert {r[2] for r in rows} == {"0.749553"}  # a rate keeps its digits
    assert [r[3] for r in rows] == ["2026-01-31"] * 7 + [""]
    assert [r[4] for r in rows] == ["1", "", "3", "4", "5", "6", "7", "8"]


def test_write_csv_to_a_stream_matches_the_download(hostile):
    out = io.StringIO()
    write_csv(hostile, out)
    assert out.getvalue().encode() == to_csv_bytes(hostile)[3:]


def test_excel_has_no_formula_cells_and_numbers_stay_numbers(hostile):
    book = openpyxl.load_workbook(io.BytesIO(to_excel_bytes(hostile, "Worklist")))
    sheet = book["Worklist"]
    cells = list(sheet.iter_rows(min_row=2))
    assert all(c.data_type != "f" for row in sheet.iter_rows() for c in row)
    assert [c.value for c in next(sheet.iter_rows(max_row=1))] == [
        "name", "amount", "rate", "due", "count",
    ]  # fmt: skip
    names = [row[0].value for row in cells]
    # XML reads a carriage return back as a line feed; what matters is the leading quote.
    assert names == [*EXPECTED_NAMES[:5], "'\nx", *EXPECTED_NAMES[6:]]
    assert all(row[0].data_type == "s" for row in cells[:7])
    assert [row[1].value for row in cells] == EXPECTED_AMOUNTS
    assert all(row[1].data_type == "n" for row in cells)
    assert cells[0][1].value == -12.5  # a real negative amount is a number, not quoted text
    assert {row[2].value for row in cells} == {0.749553}
    assert [row[3].value for row in cells] == [dt.datetime(2026, 1, 31)] * 7 + [None]
    assert {row[3].number_format for row in cells[:7]} == {"yyyy-mm-dd"}  # a date, no time
    assert [row[4].value for row in cells] == [1, None, 3, 4, 5, 6, 7, 8]


def test_text_that_looks_like_a_number_is_text():
    """A raw value "-12.5" in a text column is what the file said: quoted, like any text."""
    frame = pd.DataFrame({"raw_value": ["-12.5", "12.5"], "mixed": ["-1+2", -3.0]})
    [_, first, second] = list(csv.reader(io.StringIO(to_csv_bytes(frame).decode("utf-8-sig"))))
    assert first == ["'-12.5", "'-1+2"] and second == ["12.5", "-3.0"]


def test_computed_money_is_rounded_to_cents_and_times_are_kept():
    frame = pd.DataFrame(
        {
            "allowance": [224.865832],
            "at": pd.to_datetime(["2026-03-31 14:05:00"]),
            "bad": ["a\x01b"],  # a control character openpyxl would refuse
        }
    )
    [_, row] = list(csv.reader(io.StringIO(to_csv_bytes(frame, money=["allowance"]).decode())))
    assert row[:2] == ["224.87", "2026-03-31 14:05:00"]
    sheet = openpyxl.load_workbook(io.BytesIO(to_excel_bytes(frame, money=["allowance"]))).active
    assert [c.value for c in list(sheet.iter_rows())[1]] == [
        224.87, dt.datetime(2026, 3, 31, 14, 5), "ab",
    ]  # fmt: skip


def test_the_shown_table_is_neutralised_and_keeps_its_types(hostile):
    shown = neutralise_text(hostile)
    assert shown["name"].tolist()[:7] == EXPECTED_NAMES[:7] and pd.isna(shown["name"].iloc[7])
    assert shown["amount"].iloc[1] == hostile["amount"].iloc[1]  # display formats it
    assert shown["due"].dtype == hostile["due"].dtype
    assert hostile["name"].iloc[0] == HYPERLINK  # the caller's frame is untouched


def test_worklist_csv_from_the_shell_neutralises_an_imported_name(tmp_path, capsys):
    """End to end: a customer named like a formula comes out of `arlens worklist` quoted."""
    db = str(tmp_path / "hostile.duckdb")
    customers = tmp_path / "customers.csv"
    customers.write_text(f'customer_id,name\nC1,"{HYPERLINK.replace(chr(34), chr(34) * 2)}"\n')
    invoices = tmp_path / "invoices.csv"
    invoices.write_text(
        "invoice_id,customer_id,invoice_date,due_date,amount\nI1,C1,2026-01-01,2026-01-31,1234.56\n"
    )
    for path, table in ((customers, "customers"), (invoices, "invoices")):
        assert main(["import", str(path), "--table", table, "--db", db]) == 0
    capsys.readouterr()
    assert main(["worklist", "--db", db, "--as-of", "2026-03-31", "--format", "csv"]) == 0
    [row] = list(csv.DictReader(io.StringIO(capsys.readouterr().out, newline="")))
    assert row["customer_id"] == "C1"
    assert row["name"] == f"'{HYPERLINK}"
    assert row["past_due"] == "1234.56"
    assert row["invoice_1_due"] == "2026-01-31"
