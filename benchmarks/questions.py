"""What is benchmarked: the sizes, the three questions, and how their answers are compared."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

# Sample companies: ~188 invoices per customer over 3 years (sample.generate).
SIZES = {"100k": 530, "1m": 5_300, "10m": 53_000}
SEED = 7
YEARS = 3
AS_OF = dt.date(2026, 10, 31)  # the sample's last day
TREND_START = dt.date(2024, 11, 30)  # the 24 month-ends ending at AS_OF
WINDOW_DAYS = 90
EDGES = (30, 60, 90, 120)
LABELS = ["Current", "1-30", "31-60", "61-90", "91-120", "121+"]
QUESTIONS = ("aging", "kpis", "trend")
TITLES = {
    "aging": f"aging by customer at {AS_OF}",
    "kpis": f"KPI set at {AS_OF}",
    "trend": f"aging trend, 24 month-ends to {AS_OF}",
}


def arlens_answer(store, question: str) -> pd.DataFrame:
    """The question asked the way the pages and the command line ask it."""
    from arlens import metrics

    if question == "aging":
        return metrics.aging(store, AS_OF, group_by="customer")
    if question == "kpis":
        return metrics.kpis(store, AS_OF, window_days=WINDOW_DAYS)
    if question == "trend":
        return metrics.trend(store, TREND_START, AS_OF)
    raise ValueError(question)


@dataclass(frozen=True)
class Spec:
    keys: list[str]
    amounts: list[str]
    ratios: list[str] = field(default_factory=list)
    text: list[str] = field(default_factory=list)


SPECS = {
    "aging": Spec(
        keys=["currency", "customer_id"],
        amounts=[*LABELS, "Unapplied", "past_due", "total"],
        text=["name"],
    ),
    "kpis": Spec(
        keys=["currency"],
        amounts=["open_ar", "current_ar", "past_due", "credit_sales"],
        ratios=["dso", "best_possible_dso", "add", "countback_dso", "cei"],
    ),
    "trend": Spec(keys=["month_end", "currency"], amounts=[*LABELS, "total"]),
}

RATIO_TOLERANCE = 1e-6


def _normalise(frame: pd.DataFrame, spec: Spec) -> pd.DataFrame:
    frame = frame.copy()
    for key in spec.keys:
        if key == "month_end":
            frame[key] = pd.to_datetime(frame[key]).dt.strftime("%Y-%m-%d")
        frame[key] = frame[key].astype("object").where(frame[key].notna(), "<null>")
    return frame


def _same_cents(a: pd.Series, b: pd.Series) -> np.ndarray:
    x = pd.to_numeric(a, errors="coerce").to_numpy(dtype="float64")
    y = pd.to_numeric(b, errors="coerce").to_numpy(dtype="float64")
    both_missing = np.isnan(x) & np.isnan(y)
    with np.errstate(invalid="ignore"):
        equal = np.rint(x * 100) == np.rint(y * 100)
    return both_missing | equal


def _same_ratio(a: pd.Series, b: pd.Series) -> np.ndarray:
    x = pd.to_numeric(a, errors="coerce").to_numpy(dtype="float64")
    y = pd.to_numeric(b, errors="coerce").to_numpy(dtype="float64")
    both_missing = np.isnan(x) & np.isnan(y)
    with np.errstate(invalid="ignore"):
        close = np.abs(x - y) <= RATIO_TOLERANCE * np.maximum(np.abs(x), np.abs(y)) + 1e-12
    return both_missing | close


def _same_text(a: pd.Series, b: pd.Series) -> np.ndarray:
    x, y = a.astype("object"), b.astype("object")
    return ((x == y) | (x.isna() & y.isna())).to_numpy(dtype=bool)


def compare(
    question: str,
    arlens: pd.DataFrame,
    pandas: pd.DataFrame,
    show: int = 5,
    other: str = "pandas",
) -> list[str]:
    """Empty when the answers agree (cents for amounts, 1e-6 relative for ratios); else what
    differs, with the first differing rows. `other` names the second side (pandas, Polars)."""
    spec = SPECS[question]
    problems: list[str] = []
    columns = [*spec.keys, *spec.text, *spec.amounts, *spec.ratios]
    for side, frame in (("AR Lens", arlens), (other, pandas)):
        missing = [c for c in columns if c not in frame.columns]
        if missing:
            problems.append(f"{side} answer lacks column(s) {', '.join(missing)}")
    if problems:
        return problems
    a, b = _normalise(arlens[columns], spec), _normalise(pandas[columns], spec)
    for side, frame in (("AR Lens", a), (other, b)):
        repeated = frame[frame.duplicated(spec.keys, keep=False)]
        if len(repeated):
            problems.append(
                f"{side} answer has {len(repeated):,} rows with a repeated key; first:\n"
                + repeated.head(show).to_string(index=False)
            )
    merged = a.merge(b, on=spec.keys, how="outer", suffixes=("", f" ({other})"), indicator=True)
    for which, side in (("left_only", "AR Lens"), ("right_only", other)):
        extra = merged[merged["_merge"] == which]
        if len(extra):
            suffix = "" if which == "left_only" else f" ({other})"
            shown = extra[[*spec.keys, *(c + suffix for c in columns[len(spec.keys) :])]]
            problems.append(
                f"{len(extra):,} rows only in the {side} answer (of {len(a):,} AR Lens rows, "
                f"{len(b):,} {other} rows); first:\n" + shown.head(show).to_string(index=False)
            )
    both = merged[merged["_merge"] == "both"].reset_index(drop=True)
    bad = np.zeros(len(both), dtype=bool)
    differing: list[str] = []
    checks = (
        [(c, _same_text) for c in spec.text]
        + [(c, _same_cents) for c in spec.amounts]
        + [(c, _same_ratio) for c in spec.ratios]
    )
    for column, same in checks:
        wrong = ~same(both[column], both[column + f" ({other})"])
        if wrong.any():
            differing += [column, column + f" ({other})"]
            bad |= wrong
    if bad.any():
        problems.append(
            f"{int(bad.sum()):,} of {len(both):,} matched rows differ; first:\n"
            + both.loc[bad, [*spec.keys, *differing]].head(show).to_string(index=False)
        )
    return problems
