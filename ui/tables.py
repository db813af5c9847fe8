"""Tables as a reader expects them: sentence-case headers, money with its currency, dates without
a time of day, missing values as a dash, key columns pinned.

    from ui import tables
    tables.show(frame, key="top_past_due", currency=cur)                      # everything inferred
    tables.show(frame, key="over", currency=cur, money=["exposure"], percent=["utilisation"],
                labels={"name": "Customer"}, columns=["name", "exposure", "utilisation"])
    config = tables.column_config(frame, currency=cur)   # to pass to st.dataframe yourself
    csv = to_csv_bytes(tables.for_download(frame))        # the same headers in a download

Inference (each can be overridden by naming columns): a column is money when its name is in
MONEY_COLUMNS or ends in `_amount`; a percentage (a share: 0.25 shows as 25%) when in
PERCENT_COLUMNS or starts with `share_` / ends in `_share` or `_rate`; a date column whose times
are all midnight shows as a date; KEY_COLUMNS present in the frame are pinned on the left.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence

import pandas as pd
import streamlit as st

from arlens.metrics import CURRENCY_SYMBOLS

# Words written in capitals in a header (`open_ar` → "Open AR").
ACRONYMS = {
    "ar": "AR", "dso": "DSO", "dio": "DIO", "dpo": "DPO", "ccc": "CCC", "cei": "CEI",
    "add": "ADD", "id": "ID", "ids": "IDs", "po": "PO", "pd": "PD", "lgd": "LGD", "hhi": "HHI",
    "auc": "AUC", "roc": "ROC", "pr": "PR", "sha256": "SHA-256", "csv": "CSV", "pca": "PCA",
}  # fmt: skip
# Headers that read better than their sentence-case spelling.
LABELS = {
    "name": "Customer",
    "target_table": "Table",
    "p_late": "P(late)",
    "max_days_past_due": "Oldest (days past due)",
    "stub_customers": "New customers (stubs)",
    "imported_at": "Imported",
}
MONEY_COLUMNS = frozenset({
    "amount", "open_amount", "open_ar", "current_ar", "past_due", "total_past_due", "total_open",
    "credit_sales", "financial_credit_sales", "exposure", "credit_limit", "proposed_limit",
    "allowance", "expected_loss", "written_off", "unapplied", "open_balance", "promised_amount",
    "revenue", "expected_amount", "amount_at_risk", "cogs", "inventory", "accounts_payable",
    "accounts_receivable", "total", "invoice_amount", "average_invoice", "average_amount",
    "start_ar", "applied", "largest",
})  # fmt: skip
PERCENT_COLUMNS = frozenset({
    "utilisation", "credit_utilisation", "loss_rate", "share", "p_late", "late_share",
    "late_share_recent", "past_due_share", "disputed_share", "dispute_rate", "broken_promise_rate",
})  # fmt: skip
DAYS_COLUMNS = frozenset({
    "days_past_due", "days_outstanding", "days_since_last_payment", "max_days_past_due",
    "tenure_days", "terms_days",
})  # fmt: skip
KEY_COLUMNS = ("name", "customer_id", "invoice_id", "payment_id", "import_id")
DATE_FORMAT = "D MMM YYYY"
DATETIME_FORMAT = "D MMM YYYY, HH:mm"
MISSING = "–"


def label(column: str, labels: dict[str, str] | None = None) -> str:
    """`days_since_last_payment` → "Days since last payment", `open_ar` → "Open AR"; other
    headers ("1-30", "Open AR") are left as they are."""
    column = str(column)
    if labels and column in labels:
        return labels[column]
    if column in LABELS:
        return LABELS[column]
    if not re.fullmatch(r"[a-z][a-z0-9]*(_[a-z0-9]+)*", column):
        return column
    words = [ACRONYMS.get(w, w) for w in column.split("_")]
    first = words[0] if words[0] in ACRONYMS.values() else words[0].capitalize()
    return " ".join([first, *words[1:]])


def money_format(currency: str | None, decimals: int = 2) -> str:
    """A NumberColumn format: `$1,234.56`, `CHF 1,234.56`; thousands only without a currency."""
    if not currency:
        return "accounting" if decimals == 2 else f"%,.{decimals}f"
    symbol = CURRENCY_SYMBOLS.get(currency, f"{currency} ").replace("%", "%%")
    return f"{symbol}%,.{decimals}f"


def _is_money(column: str) -> bool:
    return column in MONEY_COLUMNS or column.endswith("_amount")


def _is_percent(column: str) -> bool:
    return (
        column in PERCENT_COLUMNS
        or column.startswith("share_")
        or column.endswith(("_share", "_rate"))
    )


def _midnight_only(values: pd.Series) -> bool:
    stamps = pd.to_datetime(values, errors="coerce").dropna()
    return bool((stamps == stamps.dt.normalize()).all())


def column_config(
    frame: pd.DataFrame,
    *,
    currency: str | None = None,
    money: Iterable[str] | None = None,
    percent: Iterable[str] | None = None,
    days: Iterable[str] | None = None,
    pinned: Iterable[str] | None = None,
    labels: dict[str, str] | None = None,
    decimals: int = 2,
) -> dict:
    """`st.column_config` for every column of `frame` (see the module docstring).

    money / percent / days / pinned: the columns of each kind; None infers them from the names.
    labels: header overrides (column → label). decimals: of money columns.
    """
    columns = [str(c) for c in frame.columns]
    money = set(money) if money is not None else {c for c in columns if _is_money(c)}
    percent = set(percent) if percent is not None else {c for c in columns if _is_percent(c)}
    days = set(days) if days is not None else {c for c in columns if c in DAYS_COLUMNS}
    pinned = set(pinned) if pinned is not None else {c for c in columns if c in KEY_COLUMNS}
    config = {}
    for column, values in frame.items():
        name = str(column)
        common = dict(label=label(name, labels), pinned=True if name in pinned else None)
        if name in money:
            config[name] = st.column_config.NumberColumn(
                format=money_format(currency, decimals), **common
            )
        elif name in percent:
            config[name] = st.column_config.NumberColumn(format="percent", **common)
        elif name in days:
            config[name] = st.column_config.NumberColumn(format="%,d", **common)
        elif pd.api.types.is_datetime64_any_dtype(values):
            if _midnight_only(values):
                config[name] = st.column_config.DateColumn(format=DATE_FORMAT, **common)
            else:
                config[name] = st.column_config.DatetimeColumn(format=DATETIME_FORMAT, **common)
        elif values.dtype == object and len(values.dropna()) and _all_dates(values):
            config[name] = st.column_config.DateColumn(format=DATE_FORMAT, **common)
        elif pd.api.types.is_integer_dtype(values) and not pd.api.types.is_bool_dtype(values):
            config[name] = st.column_config.NumberColumn(format="%,d", **common)
        else:
            config[name] = st.column_config.Column(**common)
    return config


def _all_dates(values: pd.Series) -> bool:
    import datetime as dt

    return all(isinstance(v, dt.date) for v in values.dropna())


def show(
    frame: pd.DataFrame | None,
    *,
    key: str,
    currency: str | None = None,
    money: Iterable[str] | None = None,
    percent: Iterable[str] | None = None,
    days: Iterable[str] | None = None,
    pinned: Iterable[str] | None = None,
    labels: dict[str, str] | None = None,
    columns: Sequence[str] | None = None,
    decimals: int = 2,
    empty: str | None = None,
    where=None,
    **dataframe_kwargs,
):
    """`st.dataframe` with `column_config(...)`, hide_index=True and missing values as "–".

    columns: which columns to show, in order (default all). empty: when the frame has no rows,
    show this one line (`st.info`) instead of an empty table. where: a container (default the
    page). dataframe_kwargs go to st.dataframe (on_select, selection_mode, height, …); a
    `column_config` given there overrides the inferred one column by column. Returns what
    st.dataframe returns (the selection event when on_select is set), or None when `empty` was
    shown.
    """
    target = where if where is not None else st
    if frame is None or len(frame) == 0:
        if empty is not None:
            target.info(empty)
            return None
        frame = frame if frame is not None else pd.DataFrame()
    if columns is not None:
        frame = frame[list(columns)]
    config = column_config(frame, currency=currency, money=money, percent=percent, days=days,
                           pinned=pinned, labels=labels, decimals=decimals)  # fmt: skip
    config.update(dataframe_kwargs.pop("column_config", None) or {})
    dataframe_kwargs.setdefault("hide_index", True)
    dataframe_kwargs.setdefault("placeholder", MISSING)
    return target.dataframe(frame, key=key, column_config=config, **dataframe_kwargs)


def for_download(frame: pd.DataFrame, labels: dict[str, str] | None = None) -> pd.DataFrame:
    """The frame with the headers `show` gives it and dates without a time of day, for a CSV or
    Excel download (numbers stay numbers; pass it to arlens.exports to neutralise cells)."""
    out = frame.copy()
    for column, values in out.items():
        if pd.api.types.is_datetime64_any_dtype(values) and _midnight_only(values):
            out[column] = values.dt.date
    return out.rename(columns={c: label(str(c), labels) for c in out.columns})
