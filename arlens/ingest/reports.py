"""Report-style exports: the page an accounting package prints, turned back into a table.

QuickBooks, Xero, Sage, NetSuite and Business Central save their aging and open-invoice reports as
they print them: title rows above the header, the customer as a section row, a subtotal per
customer, a grand total and footers. `choose_header` finds the header row; `ReportRows` keeps the
document rows, carries the customer from its section row into a column, and sets the grand total
aside so that the importer can check what it loaded against it.

Rows are text cells (None or '' when empty) with their physical line numbers, from any reader.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence

from arlens.ingest.mapping import SYNONYMS, fold
from arlens.ingest.source import ReadError

SAMPLE_ROWS = 200  # rows looked at to find the header
LOOKAHEAD = 20  # non-blank rows below a candidate header looked at for data

_NUMBER = re.compile(r"\(?\s*[-+]?\s*(?:[A-Z]{3}\s?|[$€£¥]\s?)?[-+]?\s*\d[\d,.' ]*\s*-?\s*\)?%?")
_DATE = re.compile(
    r"\d{4}-\d{1,2}-\d{1,2}(?:[ T]\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?)?"
    r"|\d{4}/\d{1,2}/\d{1,2}"
    r"|\d{1,2}[/.-]\d{1,2}[/.-]\d{2,4}(?: \d{1,2}:\d{2}(?::\d{2})?(?: ?[AP]M)?)?"
    r"|\d{1,2}[ -][A-Za-z]{3,9}\.?[ -]\d{2,4}"
    r"|[A-Za-z]{3,9}\.? \d{1,2}, \d{4}",
    re.IGNORECASE,
)
# "Total for Acme Corp", "Total - Acme Corp", "Total Acme", "Acme Corp Total", "TOTAL", "Totals:"
_TOTAL = re.compile(r"(?:(?:grand|report)\s+)?totals?\b.*|.*\btotals?\s*:?", re.IGNORECASE)
_GRAND = re.compile(r"(?:grand|report)\b", re.IGNORECASE)
# What is left of a total's label once these words go is the customer it totals, if any.
_TOTAL_WORDS = re.compile(
    r"\b(?:grand|report|totals?|for|of|all|customers?|lcy|accounts?|receivables?|a/r|ar|"
    r"balance|due|outstanding)\b|[\W_]",
    re.IGNORECASE,
)
_CUSTOMER_LABEL = re.compile(
    r"(?:customer|client|debtor|contact|account|a/c)(?: name| no\.?| id| code| number)?\s*:\s*(.*)",
    re.IGNORECASE,
)
_NEXT_LABEL = re.compile(r"\s{2,}[A-Za-z][\w ./]*:.*")  # "ACM001  Name: Acme Ltd" -> "ACM001"
_FOOTER = re.compile(
    r"(?:accrual|cash) basis\b.*|page \d+(?: of \d+)?|(?:printed|generated|run)\b.*\d.*",
    re.IGNORECASE,
)
CUSTOMER_HEADERS = {
    fold("customer_id"),
    *SYNONYMS.get("customer_id", []),
    "customername",
    "client",
    "clientname",
    "contact",
    "contactname",
    "debtorname",
}


def _filled(cells: Sequence[str | None]) -> list[tuple[int, str]]:
    return [(i, cell.strip()) for i, cell in enumerate(cells) if cell and cell.strip()]


def is_value(text: str) -> bool:
    """A number or a date: what data rows carry and column names do not."""
    return bool(_NUMBER.fullmatch(text) or _DATE.fullmatch(text))


def _has_data_below(rows: Sequence[tuple[int, list]], index: int) -> bool:
    """Does a row with numbers or dates (two or more) follow the candidate header, no wider than
    it and with most of its cells under named columns? A title row's few cells do not line up
    with a document's date and amount."""
    filled = _filled(rows[index][1])
    named = {i for i, _ in filled}
    width, need = filled[-1][0] + 1, max(2, -(-len(filled) // 3))
    below = [cells for _, cells in rows[index + 1 :] if _filled(cells)][:LOOKAHEAD]
    for cells in below:
        row = _filled(cells)
        under = sum(1 for i, _ in row if i in named)
        if (
            row[-1][0] < width
            and len(row) >= need
            and 2 * under >= len(row)
            and sum(is_value(c) for _, c in row) >= 2
        ):
            return True
    return False


def find_header(rows: Sequence[tuple[int, list]]) -> int | None:
    """Index of the header: the first row that reads like column names (several cells, mostly
    neither numbers nor dates) with data rows no wider than it below, and only narrower title
    rows above. None when rows of data come first or nothing qualifies: then the first non-blank
    row is the header, as in a plain export."""
    widest = 0  # the most cells filled in a row above
    for index, (_, cells) in enumerate(rows):
        filled = _filled(cells)
        if not filled:
            continue
        values = sum(is_value(cell) for _, cell in filled)
        if len(filled) >= 3 and 2 * values >= len(filled):
            return None
        if len(filled) >= 2 and 4 * values <= len(filled) and _has_data_below(rows, index):
            return index if widest <= max(2, len(filled) // 2) else None
        widest = max(widest, len(filled))
    return None


def choose_header(rows: Sequence[tuple[int, list]], options: dict, name: str) -> tuple[int, bool]:
    """(index of the header among `rows`, whether rows above it were skipped as titles).

    The mapping's [format] `header_row` (its physical line) or `skip_rows` (lines before it)
    wins over detection."""
    nonblank = (i for i, (_, cells) in enumerate(rows) if _filled(cells))
    if options.get("header_row") is not None:
        line = _whole_number(options["header_row"], "header_row", name, minimum=1)
        found = next((i for i in nonblank if rows[i][0] == line), None)
        if found is None:
            raise ReadError(
                f"{name}: header_row = {line} is blank or beyond the first {len(rows):,} rows; "
                "give the line the column names are on"
            )
        return found, True
    if options.get("skip_rows"):
        skip = _whole_number(options["skip_rows"], "skip_rows", name, minimum=0)
        found = next((i for i in nonblank if rows[i][0] > skip), None)
        if found is None:
            raise ReadError(f"{name}: no header row after skip_rows = {skip} lines")
        return found, True
    first = next(nonblank, None)
    if first is None:
        raise ReadError(f"{name}: no header row (the file has no non-blank rows)")
    index = find_header(rows[:SAMPLE_ROWS])
    if index is None:
        return first, False
    return index, index != first


def _whole_number(value, key: str, name: str, minimum: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise ReadError(
            f"{name}: [format] {key} must be a whole number >= {minimum}, not {value!r}"
        )
    return value


def customer_column(header: Sequence[str]) -> int | None:
    return next((i for i, h in enumerate(header) if fold(h) in CUSTOMER_HEADERS), None)


def header_text(cells: Sequence[str | None]) -> list[str]:
    """Column names on one line each: "Open\\nBalance" -> "Open Balance"."""
    return [" ".join((cell or "").split()) for cell in cells]


class ReportRows:
    """Keeps a report's document rows; drops its section, subtotal, total and footer rows.

    A nameless total ("TOTAL", "Totals:", "Grand Total") is followed by footers ("Turnover",
    "Percentage of total") until the next section row or a row with a date.
    """

    def __init__(self, header: list[str], carry_customer: bool):
        self.width = len(header)
        self.plain_header = [h.casefold() for h in header]
        self.customer_column = customer_column(header) if carry_customer else None
        self.add_column = carry_customer and self.customer_column is None
        self.header = [*header, "Customer"] if self.add_column else list(header)
        self.customer: str | None = None
        self.after_total = False
        self.totals: dict[str, str] = {}
        self.totals_line: int | None = None
        self._rank = 0
        self.counts: Counter[str] = Counter()
        self.filled = 0

    def classify(self, cells: Sequence[str | None]) -> tuple[str, object]:
        """('blank'|'total'|'section'|'footer'|'header'|'data', detail) for one row."""
        filled = _filled(cells)
        if not filled:
            return "blank", None
        first = filled[0][1]
        dated = any(_DATE.fullmatch(cell) for _, cell in filled)
        numbers = any(_NUMBER.fullmatch(cell) for _, cell in filled[1:])
        if numbers and not dated and _TOTAL.fullmatch(first):
            rank = 2 if _GRAND.match(first) else 0 if _TOTAL_WORDS.sub("", first) else 1
            if rank == 0 and self.after_total:
                return "footer", None  # "Percentage of total" under the grand total
            return "total", rank
        label = _CUSTOMER_LABEL.fullmatch(first)
        if label and not dated:
            customer = _NEXT_LABEL.sub("", label.group(1)).strip()
            if not customer and len(filled) > 1:
                customer = filled[1][1]
            return "section", customer or None
        if len(filled) == 1 and not is_value(first):
            return ("footer", None) if _FOOTER.fullmatch(first) else ("section", first)
        if [(cell or "").strip().casefold() for cell in cells[: self.width]] == self.plain_header:
            return "header", None
        if self.after_total and not dated:
            return "footer", None
        return "data", None

    def row(self, line: int, cells: Sequence[str | None]) -> list[str | None] | None:
        """The document row, padded to the header and with its customer carried; else None."""
        kind, detail = self.classify(cells)
        self.counts[kind] += 1
        if kind == "section":
            self.customer, self.after_total = detail, False
        elif kind == "total" and detail:
            self.after_total = True
            if detail >= self._rank:
                self._rank, self.totals_line = detail, line
                filled = _filled(cells)[1:]  # the first cell is the label
                self.totals = {
                    self.header[i]: c for i, c in filled if i < self.width and self.header[i]
                }
        if kind != "data":
            return None
        row = list(cells[: self.width]) + [None] * (self.width - len(cells))
        if self.add_column:
            row.append(self.customer)
        elif self.customer and self._empty_customer(row):
            row[self.customer_column] = self.customer
            self.filled += 1
        return row

    def _empty_customer(self, row: list) -> bool:
        return self.customer_column is not None and not (row[self.customer_column] or "").strip()

    def notes(self) -> list[str]:
        counts, notes = self.counts, []
        if counts["section"]:
            sections = _rows(counts["section"], "customer section row")
            if self.add_column:
                notes.append(f"{sections}: the customer is carried into column 'Customer'")
            elif self.filled:
                column = self.header[self.customer_column]
                notes.append(
                    f"{sections}: the customer is carried into the {self.filled:,} empty cells "
                    f"of column {column!r}"
                )
            else:
                notes.append(f"{_rows(counts['section'], 'section row')} skipped")
        if counts["total"]:
            where = f" (the grand total on line {self.totals_line})" if self.totals_line else ""
            notes.append(f"{_rows(counts['total'], 'subtotal and total row')} skipped{where}")
        for kind in ("footer", "header"):
            if counts[kind]:
                what = "footer row" if kind == "footer" else "repeated header row"
                notes.append(f"{_rows(counts[kind], what)} skipped")
        return notes


def _rows(n: int, what: str) -> str:
    return f"{n:,} {what}" + ("" if n == 1 else "s")


def layout_for(
    rows: Sequence[tuple[int, list]], header_index: int, header: list[str], titles: bool
) -> ReportRows | None:
    """A ReportRows when the file reads like a report (title rows above the header, or section
    and total rows among the first rows below it), else None: a plain export is read as is."""
    probe = ReportRows(header, carry_customer=False)
    for _, cells in rows[header_index + 1 :]:
        probe.row(0, cells)
    if not titles and not (probe.counts["total"] and probe.counts["section"]):
        return None
    return ReportRows(header, carry_customer=probe.counts["section"] > 0)


def title_note(rows: Sequence[tuple[int, list]], header_index: int) -> str | None:
    titles = sum(1 for _, cells in rows[:header_index] if _filled(cells))
    if not titles:
        return None
    line = rows[header_index][0]
    return f"{_rows(titles, 'title row')} above the header (line {line}) skipped"
