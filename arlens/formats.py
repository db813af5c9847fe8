"""Money as a reader expects it, shared by the pages (ui/format.py) and the documents AR Lens
writes (statements, letters, emails): one formatter, so a statement shows what the Aging page shows.
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

from arlens.metrics import CURRENCY_SYMBOLS

MISSING = "–"


def is_missing(value) -> bool:
    """None, NaN, NaT or pd.NA."""
    try:
        return value is None or bool(value != value)
    except TypeError:  # pd.NA compares to NA
        return True


def money(amount, currency: str | None, decimals: int = 0) -> str:
    """`$1,234.56`, `-€250.00`, `CHF 1,200.00` (with `decimals=2`); "–" when missing.

    A Decimal (a DECIMAL(18,2) read from the store) is rounded half up exactly; a float as Python
    rounds it. Never "-$0".
    """
    if is_missing(amount):
        return MISSING
    symbol = CURRENCY_SYMBOLS.get(currency or "", f"{currency} " if currency else "")
    if isinstance(amount, Decimal):
        shown = abs(amount).quantize(Decimal(1).scaleb(-decimals), rounding=ROUND_HALF_UP)
    else:
        shown = round(abs(float(amount)), decimals)
    sign = "-" if amount < 0 and shown else ""
    return f"{sign}{symbol}{shown:,.{decimals}f}"
