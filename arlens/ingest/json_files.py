"""JSON exports: one object per line (JSON lines), or one array of objects.

Numbers keep the text they are written with (1234.50 stays "1234.50"); nested values become JSON
text. `encoding` is the one the caller detected or was given.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

from arlens.ingest.source import BATCH_ROWS, BadRow, Batch, ReadError, Source


def _json_text(value) -> str | None:
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (dict, list)):
        return json.dumps(value)
    text = str(value)
    return text if text.strip() else None


def _loads(text: str):
    """Numbers keep their text: 1234.50 stays "1234.50", never a float with noise."""
    return json.loads(text, parse_float=str, parse_constant=str)


def _json_records(f, bad_rows: list[BadRow] | None) -> Iterator[tuple[int, dict]]:
    """(line, object) for each JSON object line; anything else is kept as a bad row."""
    for number, text in enumerate(f, start=1):
        if not text.strip():
            continue
        try:
            record = _loads(text)
            if not isinstance(record, dict):
                raise ValueError("not an object")
        except ValueError as error:
            if bad_rows is not None:
                bad_rows.append(BadRow(number, text.rstrip("\n"), f"not a JSON object: {error}"))
            continue
        yield number, record


def json_lines_source(path: Path, name: str, encoding: str) -> Source:
    """One object per line. The header is every key in the whole file, so a first pass reads
    the keys and a second the rows."""
    bad_rows: list[BadRow] = []
    with path.open(encoding=encoding, errors="replace") as f:
        first = next((text for text in f if text.strip()), "")
        try:
            ok = isinstance(_loads(first), dict)
        except ValueError:
            ok = False
        if not ok:
            raise ReadError(
                f"{name}: neither JSON lines (one object per line) nor a JSON array of objects; "
                "export the records as one of those, or as CSV"
            )
        f.seek(0)
        keys = dict.fromkeys(key for _, record in _json_records(f, bad_rows) for key in record)
    header = list(keys)
    if not header:
        raise ReadError(f"{name}: no JSON objects with fields found")

    def batches() -> Iterator[Batch]:
        batch = Batch([], [])
        with path.open(encoding=encoding, errors="replace") as f:
            for number, record in _json_records(f, None):
                batch.lines.append(number)
                batch.rows.append([_json_text(record.get(key)) for key in header])
                if len(batch.rows) >= BATCH_ROWS:
                    yield batch
                    batch = Batch([], [])
        if batch.rows:
            yield batch

    return Source(
        name=name,
        header=header,
        batches=batches(),
        bad_rows=bad_rows,
        detected={"format": "json lines", "encoding": encoding},
    )


def json_array_source(path: Path, name: str, encoding: str) -> Source:
    """`[ {...}, {...} ]`: each object is a row; its line is the line its `{` is on."""
    text = path.read_text(encoding=encoding, errors="replace")
    decoder = json.JSONDecoder(parse_float=str, parse_constant=str)
    records: list[tuple[int, object]] = []
    at, line, counted = text.index("[") + 1, 1, 0

    def skip(at: int) -> int:
        while at < len(text) and text[at] in " \t\r\n":
            at += 1
        return at

    try:
        at = skip(at)
        while at < len(text) and text[at] != "]":
            line, counted = line + text.count("\n", counted, at), at
            value, at = decoder.raw_decode(text, at)
            records.append((line, value))
            at = skip(at)
            if at < len(text) and text[at] == ",":
                at = skip(at + 1)
            elif at >= len(text) or text[at] != "]":
                raise json.JSONDecodeError("expected ',' or ']'", text, at)
    except json.JSONDecodeError as error:
        raise ReadError(
            f"{name}: not valid JSON at line {error.lineno}, column {error.colno} ({error.msg}); "
            "fix or export it again"
        ) from None
    bad_rows = [
        BadRow(n, json.dumps(v)[:200], "not a JSON object")
        for n, v in records
        if not isinstance(v, dict)
    ]
    objects = [(n, v) for n, v in records if isinstance(v, dict)]
    header = list(dict.fromkeys(key for _, record in objects for key in record))
    if not header:
        raise ReadError(f"{name}: the JSON array holds no objects with fields")
    rows = [[_json_text(record.get(key)) for key in header] for _, record in objects]
    return Source(
        name=name,
        header=header,
        batches=iter([Batch([n for n, _ in objects], rows)]),
        bad_rows=bad_rows,
        detected={"format": "json array", "encoding": encoding},
        notes=["JSON array: each row's line is the line its record starts on"],
    )
