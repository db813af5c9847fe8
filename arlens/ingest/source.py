"""What every reader hands the importer: a header and batches of text rows with their lines.

Kept apart from the readers so that each reader module can share these types without importing
the others.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field

BATCH_ROWS = 100_000


class ReadError(Exception):
    """The file cannot be read at all; the message is one line naming the file and what to do."""


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
    """An opened file: its header, how it was read, and an iterator of batches.

    `bad_rows`, `notes` and `totals` are complete once `batches` is exhausted: a streamed file's
    grand total is its last row. `notes` are sentences for the import summary (title rows
    skipped, columns ignored); `totals` maps a source header to the raw text of that column on a
    report's grand total row, so the importer can check what it loaded against it.
    """

    name: str
    header: list[str]
    batches: Iterator[Batch]
    bad_rows: list[BadRow] = field(default_factory=list)
    detected: dict = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    totals: dict[str, str] = field(default_factory=dict)
