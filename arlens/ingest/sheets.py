"""Workbooks (xlsx, xlsm, xlsb, xls, ods) and Parquet files, read as text rows like any export.

Typed cells become the text the importer reads: dates as YYYY-MM-DD (with HH:MM:SS in a column
that holds times of day), whole numbers without ".0", other numbers as a person reads them
(15 significant digits, what Excel shows), decimals exactly.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Callable, Iterator
from decimal import Decimal
from pathlib import Path

from arlens.ingest import reports
from arlens.ingest.source import BATCH_ROWS, BadRow, Batch, ReadError, Source


def float_text(value: float, digits: int = 15) -> str | None:
    """1234.5 -> "1234.5", 1002003004.0 -> "1002003004", 0.1 + 0.2 -> "0.3"."""
    if math.isnan(value):
        return None
    if value.is_integer() and abs(value) < 1e15:
        return str(int(value))
    text = f"{value:.{digits}g}"
    return format(Decimal(text), "f") if "e" in text and math.isfinite(value) else text


# --- Excel -------------------------------------------------------------------------------------


def _cell_text(value, with_time: bool) -> str | None:
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return float_text(value)
    if isinstance(value, dt.datetime):
        return value.strftime("%Y-%m-%d %H:%M:%S" if with_time else "%Y-%m-%d")
    if isinstance(value, dt.date):
        return value.isoformat() + (" 00:00:00" if with_time else "")
    if isinstance(value, dt.time):
        return value.strftime("%H:%M:%S")
    text = str(value)
    return text if text.strip() else None


def _sheet_rows(cells: list[list]) -> list[tuple[int, list[str | None]]]:
    """(sheet row number, text cells). A column holding any time of day gives every date in it
    a time too, so that the column has one format (the importer reads one per column)."""
    timed = {
        j
        for row in cells
        for j, value in enumerate(row)
        if isinstance(value, dt.datetime) and value.time() != dt.time(0)
    }
    return [
        (i + 1, [_cell_text(value, j in timed) for j, value in enumerate(row)])
        for i, row in enumerate(cells)
    ]


def excel_sources(path: Path, name: str, options: dict) -> list[Source]:
    """One Source per sheet (or the named one); line numbers are the sheet's row numbers."""
    from python_calamine import CalamineWorkbook

    try:
        book = CalamineWorkbook.from_path(str(path))
    except Exception as error:  # calamine raises its own error types per format
        raise ReadError(
            f"{name}: not a readable workbook ({error}); open it in Excel and save it as .xlsx"
        ) from None
    names = book.sheet_names
    sheet = options.get("sheet")
    if sheet is not None:
        if sheet not in names:
            raise ReadError(f"{name}: no sheet named {sheet!r} (sheets: {', '.join(names)})")
        names = [sheet]
    sources = []
    for sheet_name in names:
        try:
            cells = book.get_sheet_by_name(sheet_name).to_python(skip_empty_area=False)
        except Exception as error:
            raise ReadError(f"{name}: sheet {sheet_name!r} cannot be read ({error})") from None
        rows = _sheet_rows(cells)
        if not any(any(row) for _, row in rows):
            continue
        sources.append(_sheet_source(f"{name}#{sheet_name}", sheet_name, rows, options))
    if not sources:
        raise ReadError(f"{name}: every sheet is empty")
    return sources


def _sheet_source(name: str, sheet: str, rows: list, options: dict) -> Source:
    index, titles = reports.choose_header(rows, options, name)
    used = max(max((j for j, cell in enumerate(row) if cell), default=-1) for _, row in rows) + 1
    header = reports.header_text(rows[index][1][:used])
    layout = reports.layout_for(rows[: index + reports.SAMPLE_ROWS], index, header, titles)
    lines, body = [], []
    for line, row in rows[index + 1 :]:
        if layout:
            row = layout.row(line, row[:used])
        elif any(row):
            row = row[:used]
        else:
            row = None
        if row is not None:
            lines.append(line)
            body.append(row)
    source = Source(
        name=name,
        header=layout.header if layout else header,
        batches=iter([Batch(lines, body)]),
        detected={"sheet": sheet, "header_line": rows[index][0]},
    )
    if titles and (note := reports.title_note(rows, index)):
        source.notes.append(note)
    if layout:
        source.detected["report"] = True
        source.totals.update(layout.totals)
        source.notes.extend(layout.notes())
    return source


# --- Parquet -----------------------------------------------------------------------------------


def _parquet_text(kind) -> Callable | None:
    """How a column of this Arrow type becomes a list of text, or None when it cannot."""
    import pyarrow as pa
    import pyarrow.compute as pc

    types = pa.types
    if types.is_nested(kind):
        return None
    if types.is_timestamp(kind):
        seconds = pa.timestamp("s", kind.tz)
        return lambda column: pc.strftime(
            pc.cast(column, seconds, safe=False), format="%Y-%m-%d %H:%M:%S"
        ).to_pylist()
    if types.is_floating(kind):
        digits = 15 if types.is_float64(kind) else 7
        return lambda column: [
            None if v is None else float_text(v, digits) for v in column.to_pylist()
        ]
    if types.is_binary(kind) or types.is_large_binary(kind) or types.is_fixed_size_binary(kind):
        return lambda column: [
            None if v is None else v.decode("utf-8", "replace") for v in column.to_pylist()
        ]
    try:
        pc.cast(pa.array([], kind), pa.string())
    except (pa.ArrowNotImplementedError, pa.ArrowInvalid):
        return None
    return lambda column: pc.cast(column, pa.string()).to_pylist()


def parquet_source(path: Path, name: str) -> Source:
    """Row numbers are the line numbers; list, struct and map columns are left out, with a note."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    try:
        parquet = pq.ParquetFile(path)
    except Exception as error:  # pyarrow raises ArrowInvalid, OSError and others
        raise ReadError(f"{name}: not a readable Parquet file ({error}); export it again") from None
    fields = list(parquet.schema_arrow)
    converters = {f.name: _parquet_text(f.type) for f in fields}
    header = [f.name for f in fields if converters[f.name]]
    ignored = [f"{f.name} ({f.type})" for f in fields if not converters[f.name]]
    if not header:
        raise ReadError(f"{name}: no column holds plain values (only {', '.join(ignored)})")
    bad_rows: list[BadRow] = []

    def batches() -> Iterator[Batch]:
        line = 1
        try:
            for record_batch in parquet.iter_batches(batch_size=BATCH_ROWS, columns=header):
                columns = [converters[h](record_batch.column(h)) for h in header]
                n = record_batch.num_rows
                yield Batch(
                    list(range(line, line + n)), [list(r) for r in zip(*columns, strict=True)]
                )
                line += n
        except (pa.ArrowException, OSError) as error:
            bad_rows.append(BadRow(line, "", f"unreadable from here to the end: {error}"))

    source = Source(
        name=name,
        header=header,
        batches=batches(),
        bad_rows=bad_rows,
        detected={"format": "parquet"},
    )
    if ignored:
        source.notes.append(
            f"columns ignored (lists, structs and maps cannot be imported): {', '.join(ignored)}"
        )
    return source
