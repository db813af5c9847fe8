"""Numbers as a reader expects them: currency with separators, percentages, days."""

from __future__ import annotations

import math

from arlens.metrics import CURRENCY_SYMBOLS


def money(amount, currency: str | None, decimals: int = 0) -> str:
    if amount is None or (isinstance(amount, float) and math.isnan(amount)):
        return "–"
    symbol = CURRENCY_SYMBOLS.get(currency or "", f"{currency} " if currency else "")
    sign = "-" if amount < 0 else ""
    return f"{sign}{symbol}{abs(amount):,.{decimals}f}"


def days(value) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "–"
    return f"{value:,.1f} days"


def percent(value) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "–"
    return f"{value:.1%}"


def compact_money(amount, currency: str | None) -> str:
    """`$32.0M`, `€491K`: for metric tiles where a full figure would be cut off."""
    if amount is None or (isinstance(amount, float) and math.isnan(amount)):
        return "–"
    symbol = CURRENCY_SYMBOLS.get(currency or "", f"{currency} " if currency else "")
    sign = "-" if amount < 0 else ""
    value = abs(amount)
    for threshold, suffix in ((1e9, "B"), (1e6, "M"), (1e3, "K")):
        if value >= threshold:
            return f"{sign}{symbol}{value / threshold:,.1f}{suffix}"
    return f"{sign}{symbol}{value:,.0f}"
