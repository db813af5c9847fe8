"""Read any AR export (CSV/TSV, Excel, Parquet, JSON lines) as rows of text with their line numbers.

Everything is read as text first: types are decided later, in SQL, so that a bad value can be
rejected with its file, line, column and raw text instead of failing the whole file.
"""

from __future__ import annotations

import codecs
import csv
import datetime as dt
import itertools
import json
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

BATCH_ROWS = 100_000
DELIMITERS = [",", ";", "\t", "|"]


class ReadError(Exception):
    """The file cannot be read at all; the message is one line naming the file."""


@dataclass
class Batch:
    lines: Sequence[int]
    rows: list[list[str | None]]  # text as read; '' and None both mean empty
    table: object = None  # or the same as an Arrow table of strings (columns in header order)


@dataclass
class BadRow:
    """A row the reader could not split into the header's columns (truncated, stray delimiter)."""

    line: int
    raw: str
    reason: str


@dataclass
class Source:
    """An opened file: its header, how it was read, and an iterator of batches."""

    name: str
    header: list[str]
    batches: Iterator[Batch]
    bad_rows: list[BadRow] = field(default_factory=list)
    detected: dict = field(default_factory=dict)


def open_source(path: Path, options: dict) -> list[Source]:
    """One Source per sheet for Excel, one for any other file."""
    if not path.exists():
        raise ReadError(f"{path}: no such file")
    if path.stat().st_size == 0:
        raise ReadError(f"{path}: the file is empty (no header row)")
    suffix = path.suffix.lower()
    if suffix in (".xlsx", ".xlsm", ".xls", ".xlsb", ".ods"):
        return _excel_sources(path, options.get("sheet"))
    if suffix in (".parquet", ".pq"):
        return [_parquet_source(path)]
    if suffix in (".jsonl", ".ndjson") or (suffix == ".json" and _looks_like_json_lines(path)):
        return [_json_lines_source(path, options.get("encoding"))]
    return [_csv_source(path, options)]


# --- CSV / TSV ---------------------------------------------------------------------------------


def detect_encoding(path: Path, given: str | None = None) -> str:
    """UTF-8 (with or without BOM) and UTF-16 by their marks; anything else by charset detection."""
    if given:
        return given
    with path.open("rb") as f:
        head = f.read(4)
        if head.startswith(codecs.BOM_UTF8):
            return "utf-8-sig"
        if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
            return "utf-16"
        f.seek(0)
        decoder = codecs.getincrementaldecoder("utf-8")()
        sample = b""
        try:
            while chunk := f.read(1 << 22):
                decoder.decode(chunk)
                if len(sample) < (1 << 20):
                    sample += chunk[: (1 << 20)]
            decoder.decode(b"", final=True)
            return "utf-8"
        except UnicodeDecodeError as error:
            start = max(0, error.start - 2000)
            sample = chunk[start : error.end + 2000]
    from charset_normalizer import from_bytes

    best = from_bytes(sample).best()
    encoding = best.encoding if best else "cp1252"
    # Western exports are nearly always Windows-1252; detectors often name a sibling code page.
    if encoding in ("latin_1", "iso8859_15", "cp1250", "iso8859_2", "cp1257", "mac_roman"):
        encoding = "cp1252"
    return encoding


def _detect_delimiter(sample: str, given: str | None) -> str:
    if given:
        return "\t" if given in ("\\t", "tab") else given
    lines = [line for line in sample.splitlines()[:50] if line.strip()]
    best, best_score = ",", -1
    for delimiter in DELIMITERS:
        counts = [len(row) for row in csv.reader(lines, delimiter=delimiter)]
        if not counts or counts[0] < 2:
            continue
        score = sum(1 for c in counts if c == counts[0]) * 1000 + counts[0]
        if score > best_score:
            best, best_score = delimiter, score
    return best


def _csv_source(path: Path, options: dict) -> Source:
    encoding = detect_encoding(path, options.get("encoding"))
    try:
        with path.open(encoding=encoding, errors="strict", newline="") as f:
            sample = f.read(64 * 1024)
    except (UnicodeDecodeError, LookupError) as error:
        raise ReadError(f"{path}: cannot decode as {encoding}: {error}") from None
    delimiter = _detect_delimiter(sample, options.get("delimiter"))
    skip = int(options.get("skip_rows", 0))

    f = path.open(encoding=encoding, errors="replace", newline="")
    reader = csv.reader(f, delimiter=delimiter)
    header: list[str] | None = None
    for _ in range(skip):
        next(reader, None)
    for row in reader:
        if any(cell.strip() for cell in row):
            header = [cell.strip() for cell in row]
            break
    if header is None:
        f.close()
        raise ReadError(f"{path}: no header row")
    source = Source(
        name=str(path),
        header=header,
        batches=iter(()),
        detected={"encoding": encoding, "delimiter": delimiter},
    )
    if (
        encoding in ("utf-8", "utf-8-sig")
        and skip == 0
        and len(header) > 1
        and not _has_quotes(path)
    ):
        header_line = reader.line_num
        f.close()
        source.batches = _plain_csv_batches(
            path, header_line, len(header), source.bad_rows, delimiter
        )
    else:
        source.batches = _csv_batches(f, reader, len(header), source.bad_rows, delimiter)
    return source


def _has_quotes(path: Path) -> bool:
    with path.open("rb") as f:
        while chunk := f.read(1 << 24):
            if b'"' in chunk:
                return True
    return False


def _plain_csv_batches(
    path: Path, header_line: int, width: int, bad_rows: list[BadRow], delimiter: str
) -> Iterator[Batch]:
    """A UTF-8 file without a single quote character has one record per physical line, so its
    bytes can go to Arrow's C++ parser and the line numbers stay exact. A chunk with a blank or
    malformed line goes through the line-by-line path instead."""
    import numpy as np
    import pyarrow as pa
    import pyarrow.csv as pacsv

    names = [f"c{i}" for i in range(width)]
    read = pacsv.ReadOptions(column_names=names)
    convert = pacsv.ConvertOptions(
        column_types=dict.fromkeys(names, pa.string()), strings_can_be_null=False
    )
    with path.open("rb") as f:
        for _ in range(header_line):
            f.readline()
        line, rest = header_line, b""
        while True:
            chunk = f.read(1 << 24)
            data = rest + chunk
            if not data:
                break
            cut = data.rfind(b"\n") + 1 if chunk else len(data)
            if cut == 0:
                rest = data
                continue
            data, rest = data[:cut], data[cut:]
            count = data.count(b"\n") + (0 if data.endswith(b"\n") else 1)
            invalid: list = []
            clean = not (data.startswith((b"\n", b"\r\n")) or b"\n\n" in data or b"\n\r\n" in data)
            if clean:
                parse = pacsv.ParseOptions(
                    delimiter=delimiter,
                    quote_char=False,
                    invalid_row_handler=lambda row, found=invalid: found.append(row) or "skip",
                )
                table = pacsv.read_csv(pa.py_buffer(data), read_options=read, parse_options=parse,
                                       convert_options=convert)  # fmt: skip
            if clean and not invalid and table.num_rows == count:
                yield Batch(np.arange(line + 1, line + 1 + count), [], table)
            else:
                numbers, rows = [], []
                for number, raw in enumerate(data.splitlines(), start=line + 1):
                    cells = raw.decode("utf-8", "replace").split(delimiter)
                    if len(cells) == width:
                        numbers.append(number)
                        rows.append(cells)
                    elif raw.strip():
                        reason = f"row has {len(cells)} fields, the header has {width}" + (
                            " (truncated?)" if len(cells) < width else " (unquoted delimiter?)"
                        )
                        bad_rows.append(BadRow(number, raw.decode("utf-8", "replace"), reason))
                if rows:
                    yield Batch(numbers, rows)
            line += count


def _csv_batches(f, reader, width: int, bad_rows: list[BadRow], delimiter: str) -> Iterator[Batch]:
    lines: list[int] = []
    rows: list[list[str | None]] = []
    with f:
        line = reader.line_num
        try:
            for row in reader:
                start, line = line + 1, reader.line_num
                if len(row) != width:
                    if not any(cell.strip() for cell in row):
                        continue  # blank line
                    reason = f"row has {len(row)} fields, the header has {width}" + (
                        " (truncated?)" if len(row) < width else " (unquoted delimiter?)"
                    )
                    bad_rows.append(BadRow(start, delimiter.join(row), reason))
                    continue
                lines.append(start)
                rows.append(row)  # blanks become NULL in SQL
                if len(rows) >= BATCH_ROWS:
                    yield Batch(lines, rows)
                    lines, rows = [], []
        except csv.Error as error:
            bad_rows.append(BadRow(line + 1, "", f"unreadable from here to the end: {error}"))
    if rows:
        yield Batch(lines, rows)


# --- Excel -------------------------------------------------------------------------------------


def _cell_text(value) -> str | None:
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else repr(value)
    if isinstance(value, dt.datetime):
        if value.time() == dt.time(0):
            return value.date().isoformat()
        return value.isoformat(sep=" ")
    if isinstance(value, dt.date):
        return value.isoformat()
    text = str(value)
    return text if text.strip() else None


def _excel_sources(path: Path, sheet: str | None) -> list[Source]:
    from python_calamine import CalamineWorkbook

    try:
        book = CalamineWorkbook.from_path(str(path))
    except Exception as error:  # calamine raises its own error types per format
        raise ReadError(f"{path}: not a readable workbook: {error}") from None
    names = book.sheet_names
    if sheet is not None:
        if sheet not in names:
            raise ReadError(f"{path}: no sheet named {sheet!r} (sheets: {', '.join(names)})")
        names = [sheet]
    sources = []
    for name in names:
        cells = book.get_sheet_by_name(name).to_python(skip_empty_area=False)
        rows = [[_cell_text(v) for v in row] for row in cells]
        first = next((i for i, row in enumerate(rows) if any(rows[i])), None)
        if first is None:
            continue
        header = [(cell or "").strip() for cell in rows[first]]
        body = [(i + 1, row) for i, row in enumerate(rows) if i > first and any(row)]
        width = len(header)
        padded = [row + [None] * (width - len(row)) for _, row in body]
        batch = Batch([line for line, _ in body], [row[:width] for row in padded])
        sources.append(
            Source(
                name=f"{path}#{name}",
                header=header,
                batches=iter([batch]),
                detected={"sheet": name},
            )
        )
    if not sources:
        raise ReadError(f"{path}: every sheet is empty")
    return sources


# --- Parquet -----------------------------------------------------------------------------------


def _parquet_source(path: Path) -> Source:
    import pyarrow as pa
    import pyarrow.compute as pc
    import pyarrow.parquet as pq

    try:
        parquet = pq.ParquetFile(path)
    except Exception as error:
        raise ReadError(f"{path}: not a readable Parquet file: {error}") from None
    header = parquet.schema_arrow.names

    def batches() -> Iterator[Batch]:
        line = 1
        for record_batch in parquet.iter_batches(batch_size=BATCH_ROWS):
            columns = []
            for column in record_batch.columns:
                if pa.types.is_timestamp(column.type):
                    column = pc.strftime(column, format="%Y-%m-%d %H:%M:%S")
                columns.append(pc.cast(column, pa.string()).to_pylist())
            n = record_batch.num_rows
            rows = [list(values) for values in zip(*columns, strict=False)] if columns else [[]] * n
            yield Batch(list(range(line, line + n)), rows)
            line += n

    return Source(name=str(path), header=header, batches=batches(), detected={"format": "parquet"})


# --- JSON lines --------------------------------------------------------------------------------


def _looks_like_json_lines(path: Path) -> bool:
    with path.open("rb") as f:
        return f.read(1).strip() == b"{"


def _json_text(value) -> str | None:
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (dict, list)):
        return json.dumps(value)
    text = str(value)
    return text if text.strip() else None


def _json_records(f, bad_rows: list[BadRow]) -> Iterator[tuple[int, dict]]:
    """(line, object) for each JSON object line; anything else is kept as a bad row."""
    for number, text in enumerate(f, start=1):
        if not text.strip():
            continue
        try:
            record = json.loads(text)
            if not isinstance(record, dict):
                raise ValueError("not an object")
        except ValueError as error:
            bad_rows.append(BadRow(number, text.rstrip("\n"), f"not a JSON object: {error}"))
            continue
        yield number, record


def _json_lines_source(path: Path, encoding: str | None) -> Source:
    encoding = detect_encoding(path, encoding)
    f = path.open(encoding=encoding, errors="replace")
    bad_rows: list[BadRow] = []
    records = _json_records(f, bad_rows)
    # The header is every key seen in the first 1,000 objects.
    first_records = list(itertools.islice(records, 1000))
    header = list(dict.fromkeys(key for _, record in first_records for key in record))
    if not header:
        f.close()
        raise ReadError(f"{path}: no JSON objects found")

    def batches() -> Iterator[Batch]:
        batch = Batch([], [])
        with f:
            for number, record in itertools.chain(first_records, records):
                batch.lines.append(number)
                batch.rows.append([_json_text(record.get(key)) for key in header])
                if len(batch.rows) >= BATCH_ROWS:
                    yield batch
                    batch = Batch([], [])
        if batch.rows:
            yield batch

    return Source(
        name=str(path),
        header=header,
        batches=batches(),
        bad_rows=bad_rows,
        detected={"format": "json lines", "encoding": encoding},
    )
