"""Read amounts, dates and identifiers as a careful person reads them, or say why not.

The number format of an amount column (decimal mark, thousands separator) is decided once for the
whole column from every value in it, never value by value: `1.234` is one thousand two hundred
and thirty-four euros in a column that also holds `12,50`, and one point two three four dollars
nowhere (a value with more than two decimals is rejected, not rounded). A value that contradicts
its column's format is rejected with both readings in the reason.

Amounts are parsed in SQL (columns can hold millions of distinct values). Dates are parsed in
Python over the distinct texts of a column (a few thousand even in large files), which keeps
month names in seven languages, two-digit years and Excel serial numbers readable.
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from dataclasses import dataclass, field

# Whitespace that exports leave around values: tabs, NBSP, narrow NBSP, zero-width spaces, BOMs.
BLANKS = r"[\s\x{00A0}\x{1680}\x{2000}-\x{200B}\x{2028}\x{2029}\x{202F}\x{205F}\x{3000}\x{FEFF}]"


def clean_text_sql(expr: str) -> str:
    """A cell's text without surrounding whitespace of any kind; empty becomes NULL.

    Most cells begin and end with a visible ASCII character and need only a look at both ends;
    the regular expression runs on the others (a whole-column regex costs seconds per million).
    """
    edges = f"(ord({expr}[1]) NOT BETWEEN 33 AND 126 OR ord({expr}[-1]) NOT BETWEEN 33 AND 126)"
    stripped = f"regexp_replace({expr}, '^{BLANKS}+|{BLANKS}+$', '', 'g')"
    return f"NULLIF(CASE WHEN {edges} THEN {stripped} ELSE {expr} END, '')"


# --- amounts ------------------------------------------------------------------------------------

DECIMAL_POINT, DECIMAL_COMMA = ".", ","
MARK_NAMES = {DECIMAL_POINT: "decimal point", DECIMAL_COMMA: "decimal comma"}
EXAMPLES = {DECIMAL_POINT: "1,234.56", DECIMAL_COMMA: "1.234,56"}

# sign, currency before, sign, digits with separators, currency after, trailing sign or CR/DR.
_AMOUNT_PARTS = (
    r"^(\()?\s*([-+−])?\s*(US\$|[A-Za-z]{3}|[$€£¥])?\s*([-+−])?\s*([0-9][0-9., ']*[0-9]|[0-9])"
    r"\s*([A-Za-z]{3}|[$€£¥])?\s*(-|−|[CcDd][Rr])?\s*(\))?$"
)
_PART_NAMES = ["open", "sign1", "cur1", "sign2", "digits", "cur2", "trail", "close"]
# Digits as written with each decimal mark: plain, or grouped by thousands with one separator.
_SHAPE = {
    # ... and Indian lakh grouping (1,18,000.00), which ERPNext sites in India export.
    DECIMAL_POINT: r"[0-9]+(\.[0-9]+)?|[0-9]{1,3}((,[0-9]{3})+|( [0-9]{3})+|('[0-9]{3})+)(\.[0-9]+)?"
    r"|[0-9]{1,2}(,[0-9]{2})+,[0-9]{3}(\.[0-9]+)?",
    DECIMAL_COMMA: r"[0-9]+(,[0-9]+)?|[0-9]{1,3}((\.[0-9]{3})+|( [0-9]{3})+)(,[0-9]+)?",
}
_SYMBOLS = {"€": "EUR", "£": "GBP", "¥": "JPY", "US$": "USD"}


def _sql_str(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def amount_parts_sql(expr: str) -> str:
    """The pieces of an amount's text as a struct (empty strings where a piece is absent)."""
    spaced = f"regexp_replace({expr}, '{BLANKS}', ' ', 'g')"
    names = "[" + ", ".join(_sql_str(n) for n in _PART_NAMES) + "]"
    return f"regexp_extract({spaced}, {_sql_str(_AMOUNT_PARTS)}, {names})"


def fits_sql(parts: str, mark: str) -> str:
    """Does the amount's digits part read as a number with this decimal mark?"""
    return f"regexp_full_match({parts}.digits, {_sql_str(_SHAPE[mark])})"


def _plain_digits_sql(parts: str, mark: str) -> str:
    """`1.234,56` -> `1234.56` for a decimal comma; thousands separators dropped."""
    if mark == DECIMAL_COMMA:
        return f"replace(regexp_replace({parts}.digits, '[. '']', '', 'g'), ',', '.')"
    return f"regexp_replace({parts}.digits, '[, '']', '', 'g')"


def _negative_sql(parts: str) -> str:
    return (
        f"({parts}.sign1 IN ('-', '−') OR {parts}.sign2 IN ('-', '−') "
        f"OR {parts}.trail IN ('-', '−') OR upper({parts}.trail) = 'CR' "
        f"OR ({parts}.open = '(' AND {parts}.close = ')'))"
    )


def _well_formed_sql(parts: str) -> str:
    """The text matched the amount pattern, with at most one sign and balanced parentheses."""
    signs = (
        f"(({parts}.sign1 <> '')::INT + ({parts}.sign2 <> '')::INT + ({parts}.trail <> '')::INT"
        f" + ({parts}.open <> '')::INT)"
    )
    return (
        f"({parts}.digits <> '' AND ({parts}.open = '') = ({parts}.close = '') AND {signs} <= 1 "
        f"AND NOT ({parts}.cur1 <> '' AND {parts}.cur2 <> ''))"
    )


def _decimals_sql(plain: str) -> str:
    """Significant digits after the decimal mark (`10.500` has 1)."""
    return f"length(rtrim(regexp_extract({plain}, '\\.([0-9]*)$', 1), '0'))"


# Most cells of most exports are plain (`1234.56`, `-12,5`): read them without taking them apart.
_PLAIN = {
    DECIMAL_POINT: r"-?[0-9]{1,16}(\.[0-9]{1,2})?",
    DECIMAL_COMMA: r"-?[0-9]{1,16}(,[0-9]{1,2})?",
}


def amount_parts_or_plain_sql(expr: str, mark: str) -> str:
    """The amount's pieces, or NULL when the text is a plain number in the column's notation."""
    return (
        f"CASE WHEN NOT regexp_full_match({expr}, {_sql_str(_PLAIN[mark])}) "
        f"THEN {amount_parts_sql(expr)} END"
    )


def plain_amount_sql(raw: str) -> str:
    return f"TRY_CAST(replace({raw}, ',', '.') AS DECIMAL(18,2))"


def amount_value_sql(parts: str, mark: str) -> str:
    """DECIMAL(18,2) read exactly with the column's decimal mark, else NULL."""
    plain = _plain_digits_sql(parts, mark)
    value = f"TRY_CAST({plain} AS DECIMAL(18,2))"
    return (
        f"CASE WHEN {_well_formed_sql(parts)} AND {fits_sql(parts, mark)} "
        f"AND {_decimals_sql(plain)} <= 2 "
        f"THEN CASE WHEN {_negative_sql(parts)} THEN -{value} ELSE {value} END END"
    )


def amount_reason_sql(parts: str, mark: str, raw: str) -> str:
    """Why a non-empty amount was not read; names both readings when the other mark fits."""
    other = DECIMAL_COMMA if mark == DECIMAL_POINT else DECIMAL_POINT
    plain, other_plain = _plain_digits_sql(parts, mark), _plain_digits_sql(parts, other)
    this_name, other_name = MARK_NAMES[mark], MARK_NAMES[other]
    other_reading = (
        f"{_sql_str('with a ' + other_name + ' it reads ')} || "
        f"CASE WHEN {_negative_sql(parts)} THEN '-' ELSE '' END || {other_plain}"
    )
    column_rule = f"this column is written with a {this_name} (like {EXAMPLES[mark]})"
    return f"""CASE
        WHEN NOT {_well_formed_sql(parts)} THEN 'not an amount'
        WHEN {fits_sql(parts, mark)} AND {_decimals_sql(plain)} > 2 AND {fits_sql(parts, other)}
            THEN {_sql_str("more than two decimals with a " + this_name + " (")} || {plain}
                 || '), ' || {other_reading} || {_sql_str("; " + column_rule)}
        WHEN {fits_sql(parts, mark)} AND {_decimals_sql(plain)} > 2
            THEN {_sql_str("more than two decimals (")} || {plain}
                 || '): AR Lens keeps cents exactly and does not round'
        WHEN {fits_sql(parts, mark)} THEN 'too large for an amount'
        WHEN {fits_sql(parts, other)}
            THEN {other_reading} || {_sql_str(", but " + column_rule + ", where ")} || {raw}
                 || ' is not a number'
        ELSE 'not an amount' END"""


def amount_currency_sql(parts: str) -> str:
    """The currency written in the amount (`1.234,56 €` -> EUR), NULL when none or only `$`."""
    code = f"upper(coalesce(nullif({parts}.cur1, ''), nullif({parts}.cur2, '')))"
    symbols = " ".join(f"WHEN {_sql_str(s)} THEN {_sql_str(c)}" for s, c in _SYMBOLS.items())
    return f"CASE {code} {symbols} WHEN '$' THEN NULL WHEN '' THEN NULL ELSE {code} END"


def amount_evidence_sql(parts: str) -> str:
    """Per value: does only one decimal mark read it? (counted over the whole column)."""
    point, comma = fits_sql(parts, DECIMAL_POINT), fits_sql(parts, DECIMAL_COMMA)
    return (
        f"count(*) FILTER (WHERE {point} AND NOT {comma}), "
        f"count(*) FILTER (WHERE {comma} AND NOT {point})"
    )


def decide_decimal_mark(
    only_point: int, only_comma: int, hint: str | None
) -> tuple[str | None, bool]:
    """(mark, decided by the column itself). None when the column gives no evidence either way."""
    if only_point > only_comma:
        return DECIMAL_POINT, True
    if only_comma > only_point:
        return DECIMAL_COMMA, True
    return hint, False


# --- dates ----------------------------------------------------------------------------------------

DMY, MDY, YMD = "day-first", "month-first", "year-first"

# Month names and abbreviations (folded: lower case, accents dropped) in English, German, French,
# Spanish, Italian, Dutch and Portuguese.
_MONTH_WORDS = {
    1: "jan january januar janv janvier ene enero gen gennaio januari janeiro",
    2: "feb february februar fev fevr fevrier febrero febbraio februari fevereiro",
    3: "mar march marz maerz mrz mars marzo mrt maart marco",
    4: "apr april avr avril abr abril aprile",
    5: "may mai mayo mag maggio mei maio",
    6: "jun june juni juin junio giu giugno junho",
    7: "jul july juli juil juillet julio lug luglio julho",
    8: "aug august aout ago agosto augustus",
    9: "sep sept september septembre septiembre set sett settembre setembro",
    10: "oct october okt oktober octobre octubre ott ottobre out outubro",
    11: "nov november novembre noviembre novembro",
    12: "dec december dez dezember decembre dic diciembre dicembre dezembro",
}
MONTHS = {word: month for month, words in _MONTH_WORDS.items() for word in words.split()}
_TIME = re.compile(
    r"(?:[ t]+|(?<=\d)t)(\d{1,2}):(\d{2})(?::(\d{2})(?:[.,]\d+)?)?\s*(am|pm)?(?:\s*z|[+-]\d{2}:?\d{2})?$"
)
_ISO = re.compile(r"^(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})$")
_COMPACT = re.compile(r"^(\d{4})(\d{2})(\d{2})$")
_NUMERIC = re.compile(r"^(\d{1,2})([-/.])(\d{1,2})\2(\d{4}|\d{2})$")
_SERIAL = re.compile(r"^\d{5}(\.\d+)?$")
EXCEL_EPOCH = dt.date(1899, 12, 30)


def default_pivot(today: dt.date | None = None) -> int:
    """Two-digit years below the pivot are 20yy, the rest 19yy: 20yy is at most 20 years ahead."""
    today = today or dt.date.today()
    return today.year + 20 - 2000 + 1


def _fold(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text.lower())
    return "".join(c for c in decomposed if not unicodedata.combining(c)).replace("ß", "ss")


@dataclass
class DateColumn:
    """How one column's dates were read: the order, the values, and what to tell the user."""

    order: str | None
    values: dict[str, dt.date | None]
    reasons: dict[str, str] = field(default_factory=dict)
    had_times: bool = False
    serials: bool = False
    two_digit_years: bool = False
    ambiguous: bool = False  # day/month order decided by a hint, not by the column's own values


def _year(text: str, pivot: int) -> int:
    if len(text) == 2:
        yy = int(text)
        return 2000 + yy if yy < pivot else 1900 + yy
    return int(text)


def _strip_time(text: str) -> tuple[str, bool]:
    match = _TIME.search(text)
    if not match:
        return text, False
    return text[: match.start()].strip(), True


def _numeric_order_evidence(text: str) -> str | None:
    """DMY or MDY when a numeric date shows its order (a first part over 12 is a day)."""
    match = _NUMERIC.match(text)
    if not match:
        return None
    first, sep, second, _ = match.groups()
    if int(first) > 12 and int(second) <= 12:
        return DMY
    if int(second) > 12 and int(first) <= 12:
        return MDY
    return None


def _read_one(text: str, order: str, pivot: int) -> tuple[dt.date | None, str | None, bool]:
    """(date, reason when not a date, had a time of day)."""
    folded, had_time = _strip_time(_fold(text).strip())
    try:
        if m := _ISO.match(folded) or _COMPACT.match(folded):
            return dt.date(int(m[1]), int(m[2]), int(m[3])), None, had_time
        if m := _NUMERIC.match(folded):
            first, _, second, year = m.groups()
            day, month = (first, second) if order == DMY else (second, first)
            return dt.date(_year(year, pivot), int(month), int(day)), None, had_time
        words = re.findall(r"[a-z]+", folded)
        numbers = re.findall(r"\d+", folded)
        months = [MONTHS[w] for w in words if w in MONTHS]
        if len(months) == 1 and len(numbers) == 2 and len(words) <= 2:
            first, second = numbers
            if len(first) == 4:
                year, day = first, second
            else:
                day, year = first, second
            if len(year) not in (2, 4) or len(day) > 2:
                return None, "not a date", had_time
            return dt.date(_year(year, pivot), months[0], int(day)), None, had_time
    except ValueError:
        return None, "not a calendar date (no such day)", had_time
    return None, "not a date", had_time


def read_date_column(
    texts: list[str],
    hint_order: str | None = None,
    given_format: str | None = None,
    pivot: int | None = None,
) -> DateColumn:
    """Read the distinct texts of one date column.

    The day/month order is decided for the whole column: a value like 13/04/2024 shows it. When
    none does, `hint_order` (the file's other date columns, a European number format) decides,
    else month-first, and `ambiguous` says so. A value that contradicts the column's order is
    rejected with both readings.
    """
    pivot = default_pivot() if pivot is None else pivot
    if given_format:
        return _read_with_format(texts, given_format, pivot)
    if texts and all(_SERIAL.match(t) for t in texts):
        numbers = [float(t) for t in texts]
        if all(20000 <= n <= 80000 for n in numbers):
            values = {
                t: EXCEL_EPOCH + dt.timedelta(days=int(n))
                for t, n in zip(texts, numbers, strict=True)
            }
            return DateColumn(None, values, serials=True)
    evidence = [_numeric_order_evidence(_strip_time(_fold(t).strip())[0]) for t in texts]
    dmy, mdy = evidence.count(DMY), evidence.count(MDY)
    ambiguous = False
    if dmy or mdy:
        order = DMY if dmy >= mdy else MDY
    elif any(_NUMERIC.match(_strip_time(_fold(t))[0]) for t in texts):
        dotted = any((m := _NUMERIC.match(_strip_time(_fold(t))[0])) and m[2] == "." for t in texts)
        order = DMY if dotted else (hint_order or MDY)
        ambiguous = not dotted and hint_order is None
    else:
        order = hint_order or MDY
    column = DateColumn(order, {}, ambiguous=ambiguous)
    for text, shows in zip(texts, evidence, strict=True):
        if shows is not None and shows != order:
            other, _, _ = _read_one(text, shows, pivot)
            column.values[text] = None
            column.reasons[text] = (
                f"reads as {other} {shows} (not a date {order}), but the rest of this column is "
                f"{order}: check the value"
            )
            continue
        value, reason, had_time = _read_one(text, order, pivot)
        column.values[text] = value
        if reason:
            column.reasons[text] = reason
        column.had_times |= had_time
        column.two_digit_years |= value is not None and _has_short_year(text)
    return column


def _has_short_year(text: str) -> bool:
    folded = _strip_time(_fold(text).strip())[0]
    if _ISO.match(folded) or _COMPACT.match(folded):
        return False
    numbers = re.findall(r"\d+", folded)
    return bool(numbers) and len(numbers[-1]) == 2 and not any(len(n) == 4 for n in numbers)


def _read_with_format(texts: list[str], given_format: str, pivot: int) -> DateColumn:
    column = DateColumn(given_format, {})
    for text in texts:
        value = None
        for candidate in (text, _strip_time(text.lower())[0]):
            try:
                parsed = dt.datetime.strptime(candidate.strip(), given_format)
            except ValueError:
                continue
            if "%y" in given_format:
                parsed = parsed.replace(year=_year(f"{parsed.year % 100:02d}", pivot))
            value = parsed.date()
            column.had_times |= candidate is not text or parsed.time() != dt.time(0)
            break
        column.values[text] = value
        if value is None:
            column.reasons[text] = f"not a date in the format {given_format}"
    return column


def describe(column: DateColumn) -> str:
    """What the import record says about how a date column was read."""
    if column.serials:
        return "Excel serial numbers"
    return column.order or "none"
