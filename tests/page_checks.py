"""What no page may show a reader, checked the same way on an AppTest run and in a browser.

    from page_checks import check_app, check_text, check_download
    check_app(at)                                  # after at.run(): every element of the page
    check_text(page.inner_text("body"), "aging")   # Playwright: the page's visible text
    check_download(data, "worklist.xlsx")          # a CSV or Excel download's bytes

Each fails (AssertionError, one line per problem) on: `NaN`, `nan`, `None`, `NaT` or `undefined`
as a word; an exception element; "Traceback"; a midnight time (` 00:00:00`); and, where it can
see them, an error box, a snake_case or bare lower-case column header (`open_ar`, `segment`), a
dataframe cell that would show "None" (a missing value without a `placeholder`), a date column
shown with its midnight time, and a Plotly chart whose figure has no data points.
`problems_in_app` / `problems_in_text` / `problems_in_download` return the list instead.
"""

from __future__ import annotations

import base64
import csv
import datetime as dt
import io
import json
import math
import re
from collections.abc import Iterable

import numpy as np
import pandas as pd

BAD_WORD = re.compile(r"(?<!\w)(NaN|nan|None|NaT|undefined)(?!\w)")
MIDNIGHT = re.compile(r" 00:00:00")
TRACEBACK = "Traceback"
# A header that is a raw column name: lower case, digits, underscores (`open_ar`, `segment`).
SNAKE_HEADER = re.compile(r"[a-z][a-z0-9]*(_[a-z0-9]+)*")
POINT_FIELDS = ("x", "y", "z", "values", "lat", "lon", "r", "a", "b")


# -- Text ------------------------------------------------------------------------------------------


def problems_in_text(text: str, where: str) -> list[str]:
    """Bad words, tracebacks and midnight times in `text` (named `where` in the messages)."""
    found = []
    if not isinstance(text, str) or not text:
        return found
    for match in BAD_WORD.finditer(text):
        found.append(f"{where}: {match.group(1)!r} in {_around(text, match.start())!r}")
    if TRACEBACK in text:
        found.append(f"{where}: a traceback: {_around(text, text.index(TRACEBACK))!r}")
    for match in MIDNIGHT.finditer(text):
        found.append(f"{where}: a midnight time in {_around(text, match.start())!r}")
    return found


def _around(text: str, at: int, width: int = 40) -> str:
    return text[max(0, at - width) : at + width].replace("\n", " ⏎ ")


def check_text(text: str, where: str = "page") -> None:
    """Playwright: `check_text(page.inner_text("body"), "overview")`."""
    _fail(problems_in_text(text, where))


# -- AppTest -----------------------------------------------------------------------------------


def problems_in_app(at, errors_allowed: bool = False) -> list[str]:
    """Every problem on the page an AppTest run rendered (main area and sidebar)."""
    found = [
        f"exception: {e.value.splitlines()[0] if e.value else e.message}" for e in at.exception
    ]
    for e in at.exception:  # where it was raised: the last frame of its stack
        found += [f"exception at {line.strip().splitlines()[0]}" for line in e.stack_trace[-1:]]
    if not errors_allowed:
        found += [f"error box: {e.value}" for e in at.error]
    for collection in ("title", "header", "subheader", "markdown", "caption", "text", "code",
                       "info", "warning", "success", "error", "latex"):  # fmt: skip
        for element in at.get(collection):
            found += problems_in_text(_text(element.value), f"{collection} {_short(element)}")
    for m in at.metric:
        for part in ("label", "value", "delta"):
            found += problems_in_text(_text(getattr(m, part, "")), f"metric {m.label!r} {part}")
    for collection in ("selectbox", "radio", "multiselect", "select_slider"):
        for w in at.get(collection):
            found += problems_in_text(_text(w.label), f"{collection} label")
            for option in getattr(w, "options", []) or []:
                found += problems_in_text(_text(option), f"{collection} {w.label!r} option")
    for collection in ("expander", "tab", "button", "download_button", "json"):
        for element in at.get(collection):
            value = element.value if collection == "json" else getattr(element, "label", "")
            found += problems_in_text(_text(value), f"{collection} {_short(element)}")
    for n, table in enumerate(at.dataframe):
        found += problems_in_dataframe(table, n)
    for table in at.get("table"):
        found += _frame_problems(table.value, {}, [], "", f"table {_short(table)}")
    for chart in at.get("plotly_chart"):
        if not figure_has_points(json.loads(chart.proto.spec or "{}")):
            found.append(f"plotly chart {chart.key or chart.proto.id!r}: an empty frame (no data)")
    return found


def check_app(at, errors_allowed: bool = False) -> None:
    """After `at.run()`: fail with every problem the page shows."""
    _fail(problems_in_app(at, errors_allowed))


def _text(value) -> str:
    if value is None:
        return ""
    return value if isinstance(value, str) else str(value)


def _short(element) -> str:
    key = getattr(element, "key", None)
    if key:
        return f"[{key}]"
    value = getattr(element, "label", None) or getattr(element, "value", "")
    return repr(_text(value)[:40])


# -- Dataframes --------------------------------------------------------------------------------


def problems_in_dataframe(table, n: int = 0) -> list[str]:
    """An AppTest dataframe element: headers as shown, cells as shown."""
    proto = table.proto
    config = json.loads(proto.columns or "{}")
    order = list(proto.column_order)
    frame = table.value
    name = table.key or f"#{n} ({', '.join(map(str, list(frame.columns)[:3]))}…)"
    return _frame_problems(frame, config, order, proto.placeholder, f"dataframe {name}")


def _frame_problems(frame: pd.DataFrame, config: dict, order: list[str], placeholder: str,
                    where: str) -> list[str]:  # fmt: skip
    found = []
    if not isinstance(frame, pd.DataFrame):
        return found
    found += problems_in_text(placeholder, f"{where} placeholder")
    columns = [c for c in frame.columns if not config.get(str(c), {}).get("hidden")]
    if order:
        columns = [c for c in columns if str(c) in order]
    for column in columns:
        settings = config.get(str(column), {})
        header = settings.get("label") or str(column)
        if SNAKE_HEADER.fullmatch(header):
            found.append(f"{where}: column header {header!r} (a raw column name)")
        values = frame[column]
        missing = values.isna()
        if missing.any() and not placeholder:
            found.append(f"{where}: {int(missing.sum())} cells of {header!r} show None")
        present = values[~missing]
        if pd.api.types.is_datetime64_any_dtype(present) and len(present):
            kind = settings.get("type_config", {}).get("type")
            fmt = str(settings.get("type_config", {}).get("format") or "")
            shows_time = kind != "date" and (not fmt or re.search(r"[Hh]", fmt))
            stamps = pd.to_datetime(present)
            if shows_time and (stamps == stamps.dt.normalize()).all():
                found.append(f"{where}: {header!r} shows dates with a midnight time (00:00:00)")
        elif present.dtype == object or pd.api.types.is_string_dtype(present):
            for value in present.head(2000):
                if isinstance(value, str) and (problem := problems_in_text(value, "")):
                    found.append(f"{where}: {header!r} cell {value[:60]!r}{problem[0][1:]}")
                    break
    return found


# -- Plotly ------------------------------------------------------------------------------------


def figure_has_points(spec: dict) -> bool:
    """A Plotly figure (its JSON: {"data": [...], "layout": ...}) with at least one trace that has
    a point to draw in every coordinate it carries."""
    for trace in spec.get("data", []) or []:
        counts = [_points(trace[f]) for f in POINT_FIELDS if trace.get(f) is not None]
        if counts and min(counts) > 0:
            return True
    return False


def _points(values) -> int:
    """How many drawable values: plain lists, nested lists (heatmaps) or Plotly's typed arrays
    (`{"dtype": "f8", "bdata": "..."}`); NaN and null do not count."""
    if isinstance(values, dict) and "bdata" in values:
        array = np.frombuffer(base64.b64decode(values["bdata"]), dtype=np.dtype(values["dtype"]))
        if array.dtype.kind == "f":
            return int(np.count_nonzero(~np.isnan(array)))
        return int(array.size)
    if isinstance(values, list | tuple):
        return sum(_points(v) for v in values)
    if values is None or (isinstance(values, float) and math.isnan(values)):
        return 0
    return 1


# -- Downloads ---------------------------------------------------------------------------------


def problems_in_download(data: bytes, filename: str) -> list[str]:
    """A CSV (UTF-8, with or without BOM) or Excel (.xlsx) download: headers and every cell."""
    where = f"download {filename}"
    if data[:2] == b"PK" or filename.lower().endswith((".xlsx", ".xlsm")):
        return _excel_problems(data, where)
    text = data.decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(text)))
    return _rows_problems(rows, where)


def check_download(data: bytes, filename: str) -> None:
    _fail(problems_in_download(data, filename))


def _rows_problems(rows: list[list], where: str) -> list[str]:
    found = []
    if not rows:
        return [f"{where}: empty file"]
    for header in rows[0]:
        if isinstance(header, str) and SNAKE_HEADER.fullmatch(header.strip()):
            found.append(f"{where}: column header {header!r} (a raw column name)")
    for n, row in enumerate(rows[1:], start=2):
        for cell in row:
            if isinstance(cell, str) and cell.strip() in ("NaN", "nan", "None", "NaT", "undefined"):
                found.append(f"{where}: row {n} has a cell {cell!r}")
            elif isinstance(cell, str):
                found += problems_in_text(cell, f"{where} row {n}")
        if len(found) > 20:
            break
    return found


def _excel_problems(data: bytes, where: str) -> list[str]:
    from openpyxl import load_workbook

    found = []
    book = load_workbook(io.BytesIO(data))
    for sheet in book.worksheets:
        rows = []
        for row in sheet.iter_rows():
            values = []
            for cell in row:
                value = cell.value
                midnight = isinstance(value, dt.datetime) and value.time() == dt.time(0)
                if midnight and re.search(r"[hH]", str(cell.number_format or "")):
                    found.append(f"{where} [{sheet.title}] {cell.coordinate}: a midnight time")
                values.append(value)
            rows.append(values)
        found += _rows_problems(rows, f"{where} [{sheet.title}]")
    return found


def _fail(problems: Iterable[str]) -> None:
    problems = list(dict.fromkeys(problems))  # each once, in order
    assert not problems, f"{len(problems)} problems:\n" + "\n".join(problems[:40])
