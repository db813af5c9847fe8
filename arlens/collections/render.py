"""Statements and dunning letters as PDF (fpdf2) and CSV (through arlens/exports.py).

fpdf2 is pure Python (about 3 MB with its fontTools dependency, no system libraries, no browser):
it writes a statement page in milliseconds, embeds a subset of a TrueType font so €, £, ₹ and
accented or Cyrillic names print as they are (its built-in fonts are Latin-1 only), and aligns
table cells right, which money columns need. Typst would need a binary and WeasyPrint Pango.

The font is the TTF named in arlens.toml `[pdf]`, else DejaVu Sans (shipped in fonts/, free
licence). Money is written as the Aging page writes it: "€1,234.56".
"""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Sequence
from pathlib import Path

import pandas as pd
from fpdf import FPDF
from fpdf.enums import XPos, YPos

from arlens.collections.config import Company, Settings
from arlens.collections.statements import ZERO, Statement
from arlens.exports import to_csv_bytes
from arlens.formats import money
from arlens.metrics import UNAPPLIED

FONT_CANDIDATES = [
    ("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf",
     "/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf"),
    ("/usr/share/fonts/dejavu/DejaVuSans.ttf", "/usr/share/fonts/dejavu/DejaVuSans-Bold.ttf"),
    ("/usr/local/share/fonts/DejaVuSans.ttf", "/usr/local/share/fonts/DejaVuSans-Bold.ttf"),
    ("/System/Library/Fonts/Supplemental/Arial Unicode.ttf",
     "/System/Library/Fonts/Supplemental/Arial Bold.ttf"),
    ("C:/Windows/Fonts/arial.ttf", "C:/Windows/Fonts/arialbd.ttf"),
]  # fmt: skip
WIDTH = 180  # mm between the margins of an A4 page
GREY, LINE_GREY, FILL, STRIPE = (90, 90, 90), (200, 200, 200), (232, 236, 242), (247, 248, 250)


class RenderError(ValueError):
    """A document cannot be written (no usable font, a missing logo); one line."""


def find_fonts(settings: Settings | None = None) -> tuple[Path, Path]:
    """(regular, bold) TrueType files: arlens.toml's [pdf] font, else the shipped DejaVu Sans."""
    if settings and settings.font:
        regular = settings.font
        bold = settings.font_bold or regular
        for path in (regular, bold):
            if not path.exists():
                raise RenderError(f"[pdf] font {path} does not exist")
        return regular, bold
    # Shipped with the package (DejaVu Sans, free licence in fonts/LICENSE): a locked-down machine
    # without the Debian package still prints €, £, ₹ and non-Latin names.
    shipped = Path(__file__).parent / "fonts"
    candidates = [(shipped / "DejaVuSans.ttf", shipped / "DejaVuSans-Bold.ttf")]
    candidates += [(Path(r), Path(b)) for r, b in FONT_CANDIDATES]
    for regular, bold in candidates:
        if regular.exists():
            return regular, bold if bold.exists() else regular
    raise RenderError(
        "no Unicode TrueType font found for PDFs: install DejaVu Sans (Debian: apt-get install "
        'fonts-dejavu-core) or name a .ttf in arlens.toml: [pdf] font = "/path/to/font.ttf"'
    )


class _Document(FPDF):
    """An A4 document of sections (a statement, a letter), each with the company's letterhead
    on its first page and a footer naming it with its own page numbers."""

    def __init__(self, settings: Settings):
        super().__init__(format="A4", unit="mm")
        self.company = settings.company
        regular, bold = find_fonts(settings)
        self.add_font("Body", "", str(regular))
        self.add_font("Body", "B", str(bold))
        self.set_margins(15, 15, 15)
        self.set_auto_page_break(True, margin=18)
        self.set_title(self.company.name or "Statement of account")
        self.set_creator("AR Lens")
        self.footer_text = ""
        self.section_start = 1

    def footer(self) -> None:
        self.set_y(-12)
        self.font(7, color=GREY)
        self.cell(WIDTH * 0.8, 4, self.footer_text)
        self.cell(WIDTH * 0.2, 4, f"Page {self.page_no() - self.section_start + 1}", align="R")

    def font(self, size: float, bold: bool = False, color=(0, 0, 0)) -> None:
        self.set_font("Body", "B" if bold else "", size)
        self.set_text_color(*color)

    def section(self, footer: str) -> None:
        self.add_page()  # (writes the previous page's footer: set this section's after it)
        self.footer_text = footer
        self.section_start = self.page_no()
        self.letterhead()

    def letterhead(self) -> None:
        company, top = self.company, self.get_y()
        if company.logo:
            if not company.logo.exists():
                raise RenderError(f"[company] logo {company.logo} does not exist")
            self.image(str(company.logo), x=15 + WIDTH - 40, y=top, h=16, keep_aspect_ratio=True)
        if company.name:
            self.font(13, bold=True)
            self.cell(WIDTH - 45, 6, company.name, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        self.font(8.5, color=GREY)
        contact = "  ·  ".join(x for x in (company.email, company.phone, company.website) if x)
        for line in [*company.address, contact]:
            if line:
                self.cell(WIDTH - 45, 4, line, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        self.set_y(max(self.get_y(), top + 18) + 6)

    def key_values(self, pairs: list[tuple[str, str]], x: float, y: float, width: float) -> float:
        """Label: value lines in a column at (x, y); returns the y below them."""
        self.set_xy(x, y)
        for label, value in pairs:
            self.set_x(x)
            self.font(8.5, color=GREY)
            self.cell(width * 0.42, 5, label)
            self.font(8.5)
            self.cell(width * 0.58, 5, value, align="R", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        return self.get_y()

    def output_bytes(self) -> bytes:
        return bytes(self.output())


# -- statements --------------------------------------------------------------------------------


def _day(day) -> str:
    """31 Oct 2026 (headers and sentences)."""
    if day is None or pd.isna(day):
        return ""
    return pd.Timestamp(day).strftime("%d %b %Y")


def _iso(day) -> str:
    """2026-10-31 (table cells: short and read the same everywhere)."""
    if day is None or pd.isna(day):
        return ""
    return pd.Timestamp(day).date().isoformat()


def _number(amount) -> str:
    """A table's money cell: the Aging page's figure without the symbol (the currency heads the
    page), "-19,750.11"."""
    return money(amount, None, 2)


def _period(statement: Statement) -> str:
    if statement.open_items_only:
        return f"open items at {_day(statement.end)}"
    return f"{_day(statement.start)} – {_day(statement.end)}"


def _statement_section(pdf: _Document, statement: Statement) -> None:
    customer = statement.customer
    title = "Statement of open items" if statement.open_items_only else "Statement of account"
    pdf.section(f"{pdf.company.name + ' · ' if pdf.company.name else ''}{title} · "
                f"{customer.name} · {statement.currency} · {_period(statement)}")  # fmt: skip
    pdf.font(16, bold=True)
    pdf.cell(WIDTH, 8, title, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    top = pdf.get_y() + 2
    pdf.set_xy(15, top)
    pdf.font(10, bold=True)
    _paragraph(pdf, customer.name, 5, 95)
    pdf.font(8.5)
    for line in (customer.contact_name, customer.email, customer.phone):
        if line:
            pdf.cell(95, 4.5, line, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    left_bottom = pdf.get_y()
    pairs = [("Customer no.", customer.customer_id), ("Currency", statement.currency)]
    pairs += [("Open items at" if statement.open_items_only else "Period", _period(statement)
               .removeprefix("open items at ")), ("Statement date", _day(statement.end))]  # fmt: skip
    right_bottom = pdf.key_values(pairs, 15 + WIDTH - 80, top, 80)
    pdf.set_y(max(left_bottom, right_bottom) + 5)
    _summary(pdf, statement)
    if statement.open_items_only:
        _open_items_table(pdf, statement)
    else:
        _movements_table(pdf, statement)
    _aging_table(pdf, statement)
    _remittance(pdf, pdf.company)


def _summary(pdf: _Document, statement: Statement) -> None:
    if statement.open_items_only:
        boxes = [("Open items", str(len(statement.lines))),
                 ("Past due", statement.text(statement.past_due)),
                 ("Unapplied", statement.text(statement.unapplied)),
                 ("Balance due", statement.text(statement.closing))]  # fmt: skip
    else:
        boxes = [("Opening balance", statement.text(statement.opening)),
                 ("Charges", statement.text(statement.charges)),
                 ("Payments and credits", statement.text(statement.credits)),
                 ("Closing balance", statement.text(statement.closing))]  # fmt: skip
    width, y = WIDTH / len(boxes), pdf.get_y()
    pdf.set_fill_color(*FILL)
    for i, (label, value) in enumerate(boxes):
        x = 15 + i * width
        pdf.rect(x + 0.5, y, width - 1, 13, style="F")
        pdf.set_xy(x + 2, y + 1.5)
        pdf.font(7.5, color=GREY)
        pdf.cell(width - 4, 4, label, align="R")
        pdf.set_xy(x + 2, y + 6)
        pdf.font(10.5, bold=True)
        pdf.cell(width - 4, 5, value, align="R")
    pdf.set_y(y + 18)


def _caption(pdf: _Document, text: str) -> None:
    pdf.font(7.5, color=GREY)
    pdf.cell(WIDTH, 4.5, text, align="R", new_x=XPos.LMARGIN, new_y=YPos.NEXT)


PAD, LINE = 1.2, 4.2  # a table cell's side padding and line height (mm)


def _wrap(pdf: _Document, text: str, width: float) -> list[str]:
    """`text` in lines that fit `width` in the current font, broken between words (a word longer
    than the line is broken where it must). fpdf2's multi_cell does this too, but slowly."""
    lines, line = [], ""
    for word in text.split(" "):
        candidate = f"{line} {word}" if line else word
        if pdf.get_string_width(candidate) <= width:
            line = candidate
            continue
        if line:
            lines.append(line)
        while pdf.get_string_width(word) > width and len(word) > 1:
            cut = len(word) - 1
            while cut > 1 and pdf.get_string_width(word[:cut]) > width:
                cut -= 1
            lines.append(word[:cut])
            word = word[cut:]
        line = word
    return [*lines, line]


def _paragraph(pdf: _Document, text: str, height: float, width: float = WIDTH) -> None:
    """Wrapped text from the left margin (or the current x), line by line."""
    x = pdf.get_x()
    for line in _wrap(pdf, text, width):
        pdf.set_x(x)
        pdf.cell(width, height, line, new_x=XPos.LMARGIN, new_y=YPos.NEXT)


def _grid(pdf: _Document, headings, widths, aligns, rows, bold_last=False, size=7.5) -> None:
    """A table drawn cell by cell (fpdf2's `table()` lays out every cell as a paragraph, ten
    times slower): text that does not fit its column wraps onto more lines, rows are striped,
    the headings repeat after a page break."""
    scale = WIDTH / sum(widths)
    widths = [w * scale for w in widths]

    def row(cells, bold: bool, fill) -> None:
        pdf.font(size, bold=bold)
        lines = [
            _wrap(pdf, text, width - 2 * PAD) for text, width in zip(cells, widths, strict=True)
        ]
        height = LINE * max(len(parts) for parts in lines) + 1.4
        if pdf.get_y() + height > pdf.page_break_trigger:
            pdf.add_page()
            row(headings, True, FILL)
            pdf.font(size, bold=bold)
        y, x = pdf.get_y(), pdf.l_margin
        if fill:
            pdf.set_fill_color(*fill)
            pdf.rect(x, y + 0.15, WIDTH, height - 0.15, style="F")  # (keeps the line above)
        for parts, width, align in zip(lines, widths, aligns, strict=True):
            for k, part in enumerate(parts):
                pdf.set_xy(x + PAD, y + 0.7 + k * LINE)
                pdf.cell(width - 2 * PAD, LINE, part, align=align)
            x += width
        pdf.set_draw_color(*LINE_GREY)
        pdf.line(pdf.l_margin, y + height, pdf.l_margin + WIDTH, y + height)
        pdf.set_xy(pdf.l_margin, y + height)

    row(headings, True, FILL)
    for i, cells in enumerate(rows):
        last = i == len(rows) - 1
        row(cells, bold_last and last, FILL if bold_last and last else (STRIPE if i % 2 else None))
    pdf.ln(4)


def _movements_table(pdf: _Document, statement: Statement) -> None:
    _caption(pdf, f"Amounts in {statement.currency}")
    text = _number
    rows = [(_iso(statement.start), "", "Opening balance", "", "", "", text(statement.opening))]
    rows += [(_iso(line.date), line.document, line.description, _iso(line.due_date),
              text(line.charge) if line.charge else "", text(line.credit) if line.credit else "",
              text(line.balance)) for line in statement.lines]  # fmt: skip
    rows.append(("", "", "Closing balance", "", text(statement.charges), text(statement.credits),
                 text(statement.closing)))  # fmt: skip
    _grid(pdf, ("Date", "Document", "Description", "Due", "Charges", "Credits", "Balance"),
          (19, 25, 48, 19, 22, 22, 25), "LLLLRRR", rows, bold_last=True)  # fmt: skip


def _open_items_table(pdf: _Document, statement: Statement) -> None:
    _caption(pdf, f"Amounts in {statement.currency}")
    text = _number
    rows = []
    for line in statement.lines:
        late = line.days_past_due if line.days_past_due and line.days_past_due > 0 else None
        rows.append((_iso(line.date), line.document, line.description, _iso(line.due_date),
                     "" if late is None else f"{late:,}",
                     "" if line.original is None else text(line.original), text(line.amount),
                     text(line.balance)))  # fmt: skip
    rows.append(("", "", "Balance due", "", "", "", "", text(statement.closing)))
    _grid(pdf, ("Date", "Document", "Type", "Due", "Days late", "Original", "Open", "Total"),
          (19, 25, 27, 19, 17, 23, 23, 27), "LLLLRRRR", rows, bold_last=True)  # fmt: skip


def _aging_table(pdf: _Document, statement: Statement) -> None:
    if pdf.will_page_break(30):
        pdf.add_page()
    pdf.font(9.5, bold=True)
    pdf.cell(WIDTH, 6, f"Aging at {_day(statement.end)} (days past due, {statement.currency})",
             new_x=XPos.LMARGIN, new_y=YPos.NEXT)  # fmt: skip
    labels = [*statement.labels, UNAPPLIED, "Total"]
    values = [*(statement.aging[label] for label in [*statement.labels, UNAPPLIED]),
              statement.open_ar]  # fmt: skip
    _grid(pdf, labels, [1] * len(labels), "R" * len(labels), [[_number(v) for v in values]])
    pdf.set_y(pdf.get_y() - 4)
    pdf.font(7.5, color=GREY)
    note = (
        f"Unapplied cash and credits ({statement.text(statement.unapplied)}) are payments and "
        "credit notes not yet matched to an invoice: they reduce the balance and sit apart from "
        "the aging buckets."
        if statement.unapplied != ZERO
        else "No unapplied cash or credits."
    )
    pdf.ln(1.5)
    _paragraph(pdf, note, 3.8)
    pdf.ln(3)


def _remittance(pdf: _Document, company: Company) -> None:
    if not company.remittance:
        return
    if pdf.will_page_break(8 + 4.5 * len(company.remittance)):
        pdf.add_page()
    pdf.font(9.5, bold=True)
    pdf.cell(WIDTH, 6, "How to pay", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.font(8.5)
    for line in company.remittance:
        _paragraph(pdf, line, 4.5)


def statement_pdf(statements: Sequence[Statement], settings: Settings | None = None) -> bytes:
    """One PDF holding `statements` (each from a new page): a customer's, or a combined batch."""
    pdf = _Document(settings or Settings())
    for statement in statements:
        _statement_section(pdf, statement)
    if not statements:
        pdf.section("")
        pdf.font(10)
        pdf.cell(WIDTH, 6, "No statements.")
    return pdf.output_bytes()


def statement_pdfs(
    groups: Sequence[Sequence[Statement]], settings: Settings | None = None
) -> list[bytes]:
    """One PDF per group (e.g. each customer's statements), made as one document and split by
    page: reading and embedding the font once instead of per file is most of the time."""
    pdf, starts = _Document(settings or Settings()), []
    for group in groups:
        starts.append(pdf.page_no() + 1)
        for statement in group:
            _statement_section(pdf, statement)
    return _split(pdf, starts)


# -- letters -----------------------------------------------------------------------------------


def letter_pdf(notice, statements: Sequence[Statement], settings: Settings | None = None) -> bytes:
    """A dunning notice (arlens.collections.dunning.Notice) as a letter page, followed by the
    customer's statements."""
    pdf = _Document(settings or Settings())
    _letter_section(pdf, notice, statements)
    return pdf.output_bytes()


def letter_pdfs(letters: Sequence[tuple], settings: Settings | None = None) -> list[bytes]:
    """`letter_pdf` for each (notice, statements), made as one document and split by page."""
    pdf, starts = _Document(settings or Settings()), []
    for notice, statements in letters:
        starts.append(pdf.page_no() + 1)
        _letter_section(pdf, notice, statements)
    return _split(pdf, starts)


def _letter_section(pdf: _Document, notice, statements: Sequence[Statement]) -> None:
    company, customer = pdf.company, notice.customer
    pdf.section(f"{company.name + ' · ' if company.name else ''}{notice.level.name} · "
                f"{customer.name} · {notice.reference}")  # fmt: skip
    top = pdf.get_y()
    pdf.font(10, bold=True)
    _paragraph(pdf, customer.name, 5, 100)
    pdf.font(9.5)
    for line in (customer.contact_name, customer.email):
        if line:
            pdf.cell(100, 5, line, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    left_bottom = pdf.get_y()
    pairs = [("Date", _day(notice.as_of)), ("Customer no.", customer.customer_id),
             ("Our reference", notice.reference)]  # fmt: skip
    right_bottom = pdf.key_values(pairs, 15 + WIDTH - 80, top, 80)
    pdf.set_y(max(left_bottom, right_bottom) + 10)
    pdf.font(11, bold=True)
    _paragraph(pdf, notice.subject(company), 5.5)
    pdf.ln(4)
    pdf.font(10)
    for line in notice.body(company, statement_attached=bool(statements)).splitlines():
        if not line:
            pdf.ln(3)
        elif line.startswith("- "):
            pdf.set_x(20)
            _paragraph(pdf, "•  " + line[2:], 5, WIDTH - 5)
        else:
            _paragraph(pdf, line, 5)
    for statement in statements:
        _statement_section(pdf, statement)


def _split(pdf: _Document, starts: list[int]) -> list[bytes]:
    """The document's pages from each start to the next as a PDF of its own (pypdf)."""
    if not starts:
        return []
    from pypdf import PdfReader, PdfWriter

    reader = PdfReader(io.BytesIO(pdf.output_bytes()))
    files = []
    for first, after in zip(starts, [*starts[1:], len(reader.pages) + 1], strict=True):
        writer = PdfWriter()
        for number in range(first, after):
            writer.add_page(reader.pages[number - 1])
        writer.add_metadata({"/Title": getattr(pdf, "title", None) or "", "/Creator": "AR Lens"})
        buffer = io.BytesIO()
        writer.write(buffer)
        files.append(buffer.getvalue())
    return files


# -- CSV ---------------------------------------------------------------------------------------

CSV_COLUMNS = ["customer_id", "customer", "currency", "date", "kind", "document", "description",
               "due_date", "days_past_due", "charges", "credits", "unapplied", "balance"]  # fmt: skip


def statement_frame(statements: Sequence[Statement]) -> pd.DataFrame:
    """The statements as one table: an opening row, the lines, a closing row per statement,
    and the aging at the end as rows of kind `aging` (amount in `balance`)."""
    rows = []
    for s in statements:
        base = {"customer_id": s.customer.customer_id, "customer": s.customer.name,
                "currency": s.currency}  # fmt: skip
        if not s.open_items_only:
            rows.append(base | {"date": s.start, "kind": "opening", "description": "Opening balance",
                                "balance": s.opening})  # fmt: skip
        for line in s.lines:
            rows.append(base | {
                "date": line.date, "kind": line.kind, "document": line.document,
                "description": line.description, "due_date": line.due_date,
                "days_past_due": line.days_past_due, "charges": line.charge, "credits": line.credit,
                "unapplied": line.unapplied, "balance": line.balance,
            })  # fmt: skip
        rows.append(base | {"date": s.end, "kind": "closing", "description": "Closing balance",
                            "charges": s.charges, "credits": s.credits, "balance": s.closing})  # fmt: skip
        for label, amount in [*s.aging.items(), ("Total", s.open_ar)]:
            rows.append(base | {"date": s.end, "kind": "aging", "description": label,
                                "balance": amount})  # fmt: skip
    frame = pd.DataFrame(rows, columns=CSV_COLUMNS).astype(object)
    return frame.where(frame.notna(), None)


def statement_csv(statements: Sequence[Statement]) -> bytes:
    """The statements as CSV, every text cell neutralised against formula injection (exports)."""
    return to_csv_bytes(statement_frame(statements))


def file_stem(statement_or_id, day: dt.date) -> str:
    """`statement-0000100005-2026-10-31`: ids are safe in file names only once cleaned."""
    customer_id = getattr(
        getattr(statement_or_id, "customer", None), "customer_id", statement_or_id
    )
    safe = "".join(c if c.isalnum() or c in "-_." else "_" for c in str(customer_id))
    return f"statement-{safe}-{day.isoformat()}"
