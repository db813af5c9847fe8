"""Wide exchange-rate files, `Date, USD, GBP, JPY, …` (the ECB's reference rates and most
treasury downloads), read as the long rows the fx_rates table holds.

The ECB quotes each currency per euro: the cell under USD on a day says one EUR is worth that
many USD, so it is stored as written with currency EUR and base USD. A file quoted per another
currency names it: `[format] quoted_per = "USD"` in a mapping file. A cell without a quote (blank, `N/A`, `-`, a
holiday) is not a rate and is skipped, and the import says how many were.
"""

from __future__ import annotations

import re

from arlens.ingest.mapping import fold
from arlens.ingest.source import Batch, Source

DATE_HEADERS = {"date", "ratedate", "timeperiod", "day", "asof", "asofdate", "datum"}
NO_QUOTE = {"", "n/a", "na", "-", "--", "#n/a", "nan", "null"}
LONG_HEADER = ["rate_date", "currency", "base_currency", "rate"]


def _currency_columns(header: list[str]) -> list[int]:
    return [i for i, h in enumerate(header) if re.fullmatch(r"[A-Z]{3}", (h or "").strip())]


def is_wide(header: list[str]) -> bool:
    """A date column and at least one column headed by a currency code (and no `rate` column)."""
    folded = [fold(h or "") for h in header]
    return (
        any(f in DATE_HEADERS for f in folded)
        and len(_currency_columns(header)) >= 1
        and not any(f in ("rate", "exchangerate", "obsvalue") for f in folded)
    )


def split_wide(source: Source, quoted_per: str = "EUR") -> list[Source]:
    """A wide file as one long source per currency column, each row [rate_date, quoted_per, code,
    value] on the file's own line (so a bad cell is reported on its line and column); any other
    file as it is. Rates files are small (the ECB's whole history is ~7,000 rows): read at once."""
    header = source.header
    if not is_wide(header):
        return [source]
    date_at = next(i for i, h in enumerate(header) if fold(h or "") in DATE_HEADERS)
    per = quoted_per.strip().upper()
    codes = [(i, header[i].strip()) for i in _currency_columns(header) if i != date_at]
    codes = [(i, code) for i, code in codes if code != per]
    lines, rows = [], []
    for batch in source.batches:
        batch_rows = batch.rows
        if batch.table is not None and not batch_rows:
            columns = (c.to_pylist() for c in batch.table.columns)
            batch_rows = [list(r) for r in zip(*columns, strict=True)]
        lines += list(batch.lines)
        rows += batch_rows
    sources, skipped = [], 0
    for i, code in codes:
        quoted = [
            (line, row)
            for line, row in zip(lines, rows, strict=True)
            if ((row[i] if i < len(row) else None) or "").strip().lower() not in NO_QUOTE
        ]
        skipped += len(lines) - len(quoted)
        sources.append(
            Source(
                name=f"{source.name} [{code}]",
                header=LONG_HEADER,
                batches=iter(
                    [
                        Batch(
                            [q[0] for q in quoted],
                            [[r[date_at], per, code, r[i]] for _, r in quoted],
                        )
                    ]
                ),
                detected=source.detected,
            )
        )
    if sources:
        sources[0].bad_rows = source.bad_rows
        sources[0].notes = [
            *source.notes,
            f"a wide rates file: each cell read as 1 {per} = <cell> <column's currency> "
            f"({len(codes)} currencies: {', '.join(c for _, c in codes)})",
            *([f"{skipped:,} cells without a quote (blank, N/A) skipped"] if skipped else []),
        ]
    return sources
