"""Numbers as a reader expects them: currency with separators, percentages, days."""

from __future__ import annotations

import math

import pandas as pd

from arlens.formats import is_missing as _missing
from arlens.formats import money  # noqa: F401 (pages import it from here)
from arlens.metrics import CURRENCY_SYMBOLS


def days(value) -> str:
    if _missing(value):
        return "–"
    return f"{round(float(value), 1) + 0.0:,.1f} days"  # + 0.0: never "-0.0 days"


def change(value, unit: str = "days") -> str | None:
    """A metric's delta, "+1.2 days" / "-0.5 pts" (never "-0.0"); None when unknown."""
    if _missing(value):
        return None
    return f"{round(float(value), 1) + 0.0:+,.1f} {unit}"


def table(frame: pd.DataFrame, columns: dict[str, tuple[str, str]]) -> pd.DataFrame:
    """A frame as a reader (and a download) reads it: `columns` maps column -> (label, kind),
    in display order; kinds: text, count, money (rounded to cents), days and percent (one
    decimal), date (no time). A missing value is "–", which makes that column text."""
    out = {}
    for column, (label, kind) in columns.items():
        raw = list(frame[column])
        if kind == "date":
            values = [None if _missing(v) else pd.Timestamp(v).date() for v in raw]
            text = ["–" if v is None else v.isoformat() for v in values]
        elif kind in ("money", "days", "percent", "count"):
            digits = {"money": 2, "count": 0}.get(kind, 1)
            values = [None if _missing(v) else round(float(v), digits) + 0.0 for v in raw]
            if kind == "count":
                values = [None if v is None else int(v) for v in values]
            text = ["–" if v is None else f"{v:,.{digits}f}" for v in values]
        else:
            values = text = ["–" if _missing(v) else str(v) for v in raw]
        out[label] = text if any(v is None for v in values) else values
    return pd.DataFrame(out, columns=[label for label, _ in columns.values()])


def percent(value) -> str:
    if _missing(value):
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
