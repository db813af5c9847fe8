"""Every CSV and Excel file AR Lens writes goes through here (DESIGN.md §3).

Exports are opened in spreadsheets, and a spreadsheet runs a cell that starts with `=`, `+`, `-`,
`@`, tab or carriage return as a formula (OWASP "CSV injection"): a customer imported as
`=HYPERLINK("http://x","Click")` would become a link. So every *text* cell that starts with one of
those characters gets a leading single quote, as OWASP recommends, in CSV and Excel alike (one
rule, the same cell in both files). Numbers in numeric columns are not text and stay numbers:
-12.5 is written as -12.5. A text cell "-12.5" (a raw value as read from a file) is text and is
quoted: it shows what the file said, and text such as "-1+2" would otherwise be computed.

The files also read as a person expects: money in cents (not 435974.83999999997), dates without a
midnight time, and None, NaN or NaT as an empty cell. CSV lines end in CRLF (RFC 4180): Python's
csv writer quotes a field holding a carriage return only when the line ending holds one too, and
an unquoted one splits the row.
"""

from __future__ import annotations

import io
import re
from collections.abc import Iterable
from typing import TextIO

import numpy as np
import pandas as pd

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
# What openpyxl refuses to write (a raw value read from a damaged file can hold them).
CONTROL_CHARACTERS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")


def neutralise(value):
    """One cell: text a spreadsheet would read as a formula gets a leading quote."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def neutralise_text(frame: pd.DataFrame) -> pd.DataFrame:
    """A copy with every text cell (and header) neutralised, other columns untouched.

    For tables shown on a page: Streamlit's own toolbar download writes the cells as shown, and
    we cannot intercept it.
    """
    out = frame.copy()
    for name in out.columns:
        column = out[name]
        if isinstance(column.dtype, pd.CategoricalDtype):
            column = column.astype(object)
        if pd.api.types.is_object_dtype(column) or pd.api.types.is_string_dtype(column):
            out[name] = column.map(neutralise)
    out.columns = [neutralise(str(name)) for name in out.columns]
    return out


def for_spreadsheet(frame: pd.DataFrame, money: Iterable[str] = ()) -> pd.DataFrame:
    """The frame as it is written: text neutralised, money in cents, midnight datetimes as dates.

    A float column is rounded to cents when it is named in `money` (money computed with rates,
    such as an allowance) or when all its values are whole cents up to float noise (DuckDB hands
    DECIMAL(18,2) sums over as float64): the second rounding loses nothing, so ratios and rates
    keep their digits.
    """
    money = set(money)
    out = frame.copy()
    for name in out.columns:
        column = out[name]
        if pd.api.types.is_float_dtype(column) and (name in money or _whole_cents(column)):
            out[name] = column.round(2)
        elif pd.api.types.is_datetime64_any_dtype(column) and _all_midnight(column):
            out[name] = column.map(lambda day: None if pd.isna(day) else day.date())
    return neutralise_text(out)


def _whole_cents(column: pd.Series) -> bool:
    cents = column.to_numpy(dtype=float, na_value=np.nan) * 100
    cents = cents[~np.isnan(cents)]
    return bool(np.isclose(cents, np.round(cents), rtol=1e-12, atol=1e-9).all())


def _all_midnight(column: pd.Series) -> bool:
    days = column.dropna()
    return bool((days == days.dt.normalize()).all())


def write_csv(frame: pd.DataFrame, out: TextIO, money: Iterable[str] = ()) -> None:
    """CSV text to a stream (the command line writes to stdout)."""
    for_spreadsheet(frame, money).to_csv(out, index=False, lineterminator="\r\n")


def to_csv_bytes(frame: pd.DataFrame, money: Iterable[str] = ()) -> bytes:
    """A CSV download: UTF-8 with a byte-order mark, so Excel reads accented names correctly."""
    text = io.StringIO()
    write_csv(frame, text, money)
    return text.getvalue().encode("utf-8-sig")


def to_excel_bytes(
    frame: pd.DataFrame, sheet_name: str = "Sheet1", money: Iterable[str] = ()
) -> bytes:
    """An .xlsx download of one sheet: text cells are strings (never formulas), numbers numbers."""
    import openpyxl  # loaded only for an Excel download (it takes a while to import)

    prepared = for_spreadsheet(frame, money)
    book = openpyxl.Workbook(write_only=True)
    sheet = book.create_sheet(sheet_name)
    sheet.append(list(prepared.columns))
    cells = prepared.astype(object).where(prepared.notna(), None)
    for row in cells.itertuples(index=False, name=None):
        sheet.append([_excel_value(value) for value in row])
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def _excel_value(value):
    """A value openpyxl writes as it is: text, number, bool, date or datetime."""
    if isinstance(value, str):
        return CONTROL_CHARACTERS.sub("", value)
    if isinstance(value, pd.Timestamp):  # Excel has no time zones
        return value.tz_localize(None).to_pydatetime() if value.tzinfo else value.to_pydatetime()
    if isinstance(value, np.generic):
        return value.item()
    return value
