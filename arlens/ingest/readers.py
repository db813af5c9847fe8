"""Read any AR export (CSV/TSV, Excel, Parquet, JSON) as rows of text with their line numbers.

Everything is read as text first: types are decided later, in SQL, so that a bad value can be
rejected with its file, line, column and raw text instead of failing the whole file. The kind of
file is read from its bytes, not its name (an Excel file saved as .csv is still a workbook), and
.gz, .bz2 and .zip files are opened transparently. Report-style exports (title rows, customer
sections, subtotals) are handled in `reports`; workbooks and Parquet in `sheets`.
"""

from __future__ import annotations

import bz2
import codecs
import csv
import gzip
import itertools
import shutil
import tempfile
import zipfile
import zlib
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

from arlens.ingest import reports
from arlens.ingest.source import BATCH_ROWS, BadRow, Batch, ReadError, Source

__all__ = ["BATCH_ROWS", "Batch", "BadRow", "ReadError", "Source", "detect_encoding", "open_source"]

DELIMITERS = [",", ";", "\t", "|"]
SAMPLE_BYTES = 64 * 1024
MAX_RECORD_LINES = 1000  # a quoted field spanning more lines than this was never closed
FIELD_LIMIT = 2**31 - 1  # csv's own limit (131,072 characters) would end the import


def open_source(path: Path, options: dict) -> list[Source]:
    """One Source per sheet for a workbook, one for any other file."""
    path = Path(path)
    name = str(path)
    encoding = options.get("encoding")
    if encoding:
        try:
            codecs.lookup(encoding)
        except LookupError:
            raise ReadError(
                f"{name}: unknown encoding {encoding!r} in the mapping's [format] section; "
                "use a name such as utf-8, cp1252, latin-1 or utf-16"
            ) from None
    return _open(path, name, options, depth=0)


def _open(path: Path, name: str, options: dict, depth: int) -> list[Source]:
    if not path.exists():
        raise ReadError(f"{name}: no such file")
    if path.stat().st_size == 0:
        raise ReadError(f"{name}: the file is empty (no header row)")
    kind = sniff(path)
    if kind in ("gzip", "bz2", "zip"):
        if depth >= 2:
            raise ReadError(f"{name}: archives nested too deep; unpack it and import the data file")
        keep = tempfile.TemporaryDirectory(prefix="arlens-")
        inner, inner_name = _unpack(path, name, kind, Path(keep.name))
        sources = _open(inner, inner_name, options, depth + 1)
        for source in sources:
            source.batches = _holding(source.batches, keep)
            source.detected["compression"] = kind
        return sources
    if kind == "pdf":
        raise ReadError(f"{name} is a PDF; export the report as CSV or Excel and import that")
    if kind in ("excel", "parquet"):
        from arlens.ingest import sheets

        if kind == "excel":
            return sheets.excel_sources(path, name, options)
        return [sheets.parquet_source(path, name)]
    if kind in ("json array", "json lines"):
        from arlens.ingest import json_files

        encoding = detect_encoding(path, options.get("encoding"))
        if kind == "json array":
            return [json_files.json_array_source(path, name, encoding)]
        return [json_files.json_lines_source(path, name, encoding)]
    return [_csv_source(path, name, options)]


def sniff(path: Path) -> str:
    """The kind of file from its first bytes: gzip, bz2, zip, excel, parquet, pdf, json array,
    json lines, or text (delimited)."""
    with path.open("rb") as f:
        head = f.read(4096)
    if head.startswith(b"\x1f\x8b"):
        return "gzip"
    if head[:3] == b"BZh" and head[4:10] in (b"1AY&SY", b"\x17rE8P\x90"):
        return "bz2"
    if head.startswith(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"):
        return "excel"  # OLE2: .xls
    if head.startswith(b"PAR1"):
        return "parquet"
    if head.startswith(b"%PDF"):
        return "pdf"
    if head.startswith((b"PK\x03\x04", b"PK\x05\x06")):
        return _zip_kind(path)
    text = head.removeprefix(codecs.BOM_UTF8).lstrip()
    if text.startswith(b"[") and text[1:].lstrip()[:1] in (b"{", b"]"):
        return "json array"
    if text.startswith(b"{"):
        return "json lines"
    return "text"


def _zip_kind(path: Path) -> str:
    """A workbook (xlsx, xlsm, xlsb: [Content_Types].xml; ods: mimetype) or an archive."""
    try:
        with zipfile.ZipFile(path) as archive:
            names = set(archive.namelist())
            if "[Content_Types].xml" in names:
                return "excel"
            if "mimetype" in names and archive.read("mimetype").startswith(
                b"application/vnd.oasis.opendocument.spreadsheet"
            ):
                return "excel"
    except (zipfile.BadZipFile, OSError, EOFError, zlib.error):
        pass  # _unpack says it is damaged
    return "zip"


def _unpack(path: Path, name: str, kind: str, into: Path) -> tuple[Path, str]:
    """Decompress into `into`; (the data file, its name as the user sees it)."""
    if kind == "zip":
        return _unzip(path, name, into)
    inner = Path(path.name).stem or "data"
    target = into / inner
    try:
        with (
            (gzip.open if kind == "gzip" else bz2.open)(path, "rb") as src,
            target.open("wb") as out,
        ):
            shutil.copyfileobj(src, out, 1 << 20)
    except (EOFError, zlib.error, OSError) as error:
        if getattr(error, "errno", None):
            raise  # a real I/O error (disk full), not damaged data
        raise ReadError(
            f"{name} is a truncated or damaged {kind} file ({error}); download or export it again"
        ) from None
    return target, name


def _unzip(path: Path, name: str, into: Path) -> tuple[Path, str]:
    try:
        with zipfile.ZipFile(path) as archive:
            members = [
                m
                for m in archive.infolist()
                if not m.is_dir()
                and not m.filename.startswith("__MACOSX/")
                and not Path(m.filename).name.startswith(".")
            ]
            if not members:
                raise ReadError(f"{name}: the zip archive holds no data file")
            if len(members) > 1:
                listed = ", ".join(m.filename for m in members[:10])
                more = f" and {len(members) - 10} more" if len(members) > 10 else ""
                raise ReadError(
                    f"{name}: the zip archive holds {len(members)} files ({listed}{more}); "
                    "import them one at a time"
                )
            member = members[0]
            target = into / (Path(member.filename).name or "data")
            with archive.open(member) as src, target.open("wb") as out:
                shutil.copyfileobj(src, out, 1 << 20)
    except (zipfile.BadZipFile, EOFError, zlib.error) as error:
        raise ReadError(
            f"{name} is a truncated or damaged zip file ({error}); download or export it again"
        ) from None
    except (RuntimeError, NotImplementedError) as error:  # encrypted, unknown compression
        raise ReadError(f"{name}: cannot open the zip archive ({error}); unzip it first") from None
    return target, f"{name}#{member.filename}"


def _holding(batches: Iterator[Batch], keep: tempfile.TemporaryDirectory) -> Iterator[Batch]:
    """The unpacked copy lives while its batches are read, and goes when they are done."""
    try:
        yield from batches
    finally:
        keep.cleanup()


# --- delimited text ----------------------------------------------------------------------------


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
    # Western exports are nearly always Windows-1252; detectors often name a sibling code page
    # (on a short file even a DOS one: `1.234,56 €` read as cp775 gives `1.234,56 Ć`).
    siblings = ("latin_1", "iso8859_15", "cp1250", "iso8859_2", "cp1257", "mac_roman")
    dos = ("cp437", "cp775", "cp850", "cp852", "cp858")
    if encoding in siblings or (encoding in dos and _decodes(sample, "cp1252")):
        encoding = "cp1252"
    return encoding


def _decodes(data: bytes, encoding: str) -> bool:
    try:
        data.decode(encoding)
    except UnicodeDecodeError:
        return False
    return True


def _detect_delimiter(sample: str, given: str | None) -> str:
    """The delimiter giving the most lines the same number (two or more) of fields: title rows
    above a report's header have one field whatever the delimiter."""
    if given:
        return "\t" if given in ("\\t", "tab") else given
    lines = [line for line in sample.splitlines()[:200] if line.strip()][:60]
    best, best_score = ",", (0, 0)
    for delimiter in DELIMITERS:
        counts = Counter(len(row) for row in csv.reader(lines, delimiter=delimiter))
        wide = [(n, width) for width, n in counts.items() if width >= 2]
        score = max(wide, default=(0, 0))
        if score > best_score:
            best, best_score = delimiter, score
    return best


def _records(lines, delimiter: str, width: int | None = None) -> Iterator[tuple[int, object]]:
    """(first physical line, fields) for each CSV record, or (line, BadRow).

    A quoted field may hold line breaks. An opening quote that is never closed would swallow every
    later row, so a record that runs to the end of the file, spans more than MAX_RECORD_LINES, or
    spans several lines without being one whole record (`_whole`) is rejected on its first line,
    and reading resumes on the next physical line.
    """
    source = iter(lines)
    taken: list[str] = []  # the physical lines of the record being read
    state = [1, False]  # the record's first line number; whether the file ended inside it

    def feed(texts: Iterator[str]) -> Iterator[str]:
        for text in texts:
            taken.append(text)
            if len(taken) > MAX_RECORD_LINES:
                raise _Runaway
            yield text
        state[1] = True

    texts: Iterator[str] = source
    while True:
        try:
            for row in csv.reader(feed(texts), delimiter=delimiter):
                if state[1] or (len(taken) > 1 and not _whole(taken, row, delimiter, width)):
                    raise _Runaway
                yield state[0], row
                state[0] += len(taken)
                taken.clear()
            return
        except (_Runaway, csv.Error) as error:
            if not taken:
                return
            line, raw, rest = state[0], taken[0], taken[1:]
            taken.clear()
            state[0], state[1] = line + 1, False
            texts = itertools.chain(rest, source)
            reason = "opening quote never closed: " + (
                "the next lines were read as rows"
                if rest
                else "the file ends inside it (truncated?)"
            )
            if isinstance(error, csv.Error):
                reason = f"unreadable: {error}"
            yield line, BadRow(line, raw.rstrip("\r\n"), reason)


def _whole(texts: list[str], row: list[str], delimiter: str, width: int | None) -> bool:
    """Is a record spanning several lines one whole record? It must split into the header's
    fields, and its quotes must close where a field ends: a quote never closed is instead ended by
    some later row's quote, followed by that row's text (`"...,"1,400.00"`)."""
    if width is not None and (len(row) < width or any(cell.strip() for cell in row[width:])):
        return False
    try:
        return len(list(csv.reader(texts, delimiter=delimiter, strict=True))) == 1
    except csv.Error:
        return False


class _Runaway(Exception):
    """A quoted field that does not end where a record can."""


def _csv_source(path: Path, name: str, options: dict) -> Source:
    encoding = detect_encoding(path, options.get("encoding"))
    try:
        with path.open(encoding=encoding, errors="strict", newline="") as f:
            sample = f.read(SAMPLE_BYTES)
            complete = not f.read(1)
    except UnicodeDecodeError as error:
        raise ReadError(
            f"{name}: cannot decode as {encoding} ({error.reason} at byte {error.start}); "
            'name the encoding in the mapping file: [format] encoding = "cp1252"'
        ) from None
    delimiter = _detect_delimiter(sample, options.get("delimiter"))
    csv.field_size_limit(max(csv.field_size_limit(), FIELD_LIMIT))

    lines = sample.splitlines(keepends=True)
    if not complete and len(lines) > 1:
        lines.pop()  # cut by the sample
    rows = [
        (line, row)
        for line, row in itertools.islice(_records(lines, delimiter), reports.SAMPLE_ROWS)
        if not isinstance(row, BadRow)
    ]
    index, titles = reports.choose_header(rows, options, name)
    header_line, header = rows[index][0], reports.header_text(rows[index][1])
    layout = reports.layout_for(rows, index, header, titles)
    source = Source(
        name=name,
        header=layout.header if layout else header,
        batches=iter(()),
        detected={"encoding": encoding, "delimiter": delimiter, "header_line": header_line},
    )
    if titles and (note := reports.title_note(rows, index)):
        source.notes.append(note)
    if layout:
        source.detected["report"] = True
    plain = encoding in ("utf-8", "utf-8-sig") and not layout and len(header) > 1
    if plain and not _has_quotes(path):
        source.batches = _plain_csv_batches(
            path, header_line, len(header), source.bad_rows, delimiter
        )
    else:
        source.batches = _csv_batches(
            path, encoding, delimiter, header_line, header, layout, source
        )
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
    malformed line, or a line longer than Arrow's block, goes through the line-by-line path."""
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
                try:
                    table = pacsv.read_csv(pa.py_buffer(data), read_options=read,
                                           parse_options=parse, convert_options=convert)  # fmt: skip
                except pa.ArrowInvalid:  # a row longer than a block
                    clean = False
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
                        bad_rows.append(
                            BadRow(
                                number, raw.decode("utf-8", "replace"), _width_reason(cells, width)
                            )
                        )
                    if len(rows) >= BATCH_ROWS:
                        yield Batch(numbers, rows)
                        numbers, rows = [], []
                if rows:
                    yield Batch(numbers, rows)
            line += count


def _width_reason(row: list, width: int) -> str:
    return f"row has {len(row)} fields, the header has {width}" + (
        " (truncated?)" if len(row) < width else " (unquoted delimiter?)"
    )


def _csv_batches(
    path: Path,
    encoding: str,
    delimiter: str,
    header_line: int,
    header: list[str],
    layout: reports.ReportRows | None,
    source: Source,
) -> Iterator[Batch]:
    """Python's csv module, record by record; a report's layout drops its non-document rows."""
    width, bad_rows = len(header), source.bad_rows
    lines: list[int] = []
    rows: list[list[str | None]] = []
    with path.open(encoding=encoding, errors="replace", newline="") as f:
        for line, row in _records(f, delimiter, width):
            if line <= header_line:
                continue
            if isinstance(row, BadRow):
                bad_rows.append(row)
                continue
            if len(row) != width:
                if not any(cell.strip() for cell in row):
                    continue  # blank line
                if not layout or any(cell.strip() for cell in row[width:]):
                    bad_rows.append(BadRow(line, delimiter.join(row), _width_reason(row, width)))
                    continue
            if layout:
                row = layout.row(line, row)
                if row is None:
                    continue
            lines.append(line)
            rows.append(row)  # blanks become NULL in SQL
            if len(rows) >= BATCH_ROWS:
                yield Batch(lines, rows)
                lines, rows = [], []
    if rows:
        yield Batch(lines, rows)
    if layout:
        source.totals.update(layout.totals)
        source.notes.extend(layout.notes())
