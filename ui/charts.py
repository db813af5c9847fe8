"""Plotly figures with one accessible colour scheme: aging buckets run from green to red.

Builders take a frame and return a figure, one without traces when there is nothing to draw
(None or an empty frame); pages hand it to `show(fig_or_none, empty_message)`, which draws it or
says in one line what is missing (never an empty frame). Date axes put each point on its own date: a month-end series is labelled
at its month-ends ("Oct 2025" under 31 Oct), not at the first of the next month.
"""

from __future__ import annotations

import math
from collections.abc import Iterable

import numpy as np
import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from arlens.metrics import UNAPPLIED

# Colour-blind-safe ramp (ColorBrewer RdYlGn, reversed), current = green, oldest = dark red.
BUCKET_COLOURS = [
    "#1a9850",
    "#91cf60",
    "#d9ef8b",
    "#fee08b",
    "#fc8d59",
    "#d73027",
    "#a50026",
    "#67001f",
]
LINE_COLOURS = ["#2b6cb0", "#d97706", "#6b7280", "#0f766e", "#9333ea"]
UNAPPLIED_COLOUR = "#9ca3af"


def bucket_colours(labels: list[str]) -> dict[str, str]:
    """Spread the ramp over however many buckets there are."""
    n = len(labels)
    ramp = BUCKET_COLOURS
    picked = [ramp[round(i * (len(ramp) - 1) / max(n - 1, 1))] for i in range(n)]
    return {**dict(zip(labels, picked, strict=True)), UNAPPLIED: UNAPPLIED_COLOUR}


# Trace attributes that carry data points, by trace type (the first one present counts).
_POINT_FIELDS = ("x", "y", "z", "values", "lat", "lon", "r")


def _count(values) -> int:
    """Points that would be drawn: NaN and None do not count."""
    if values is None:
        return 0
    if isinstance(values, str):
        return 1
    array = np.asarray(values, dtype=object).ravel()
    return sum(1 for v in array if not (v is None or (isinstance(v, float) and math.isnan(v))))


def has_points(fig: go.Figure | None) -> bool:
    """Whether any trace of `fig` has at least one point to draw."""
    if fig is None:
        return False
    for trace in fig.data:
        counts = [_count(trace[f]) for f in _POINT_FIELDS if f in trace and trace[f] is not None]
        if counts and min(counts) > 0:
            return True
    return False


def show(fig: go.Figure | None, empty_message: str, *, key: str | None = None, where=None,
         **kwargs) -> bool:  # fmt: skip
    """Draw `fig`, or one `st.info` line when it is None or has no data points.

    `where` is a container (a column, a tab; default the page), `kwargs` go to `plotly_chart`.
    Returns whether a chart was drawn.
    """
    target = where if where is not None else st
    if not has_points(fig):
        target.info(empty_message)
        return False
    target.plotly_chart(fig, key=key, **kwargs)
    return True


def _empty(frame: pd.DataFrame | None, columns: Iterable[str] = ()) -> bool:
    return frame is None or len(frame) == 0 or any(c not in frame for c in columns)


def _date_axis(fig: go.Figure, values) -> None:
    """Dates on the x axis sit on their own date; month-ends and month starts are labelled with
    their month at the point itself (Plotly's default ticks fall on the 1st, so a 31 October
    point would read as November)."""
    series = pd.Series(values)
    if not (pd.api.types.is_datetime64_any_dtype(series) or _all_dates(series)):
        return
    dates = pd.to_datetime(series, errors="coerce").dropna().drop_duplicates().sort_values()
    if dates.empty:
        return
    fig.update_xaxes(type="date", hoverformat="%d %b %Y")
    monthly = bool(dates.dt.is_month_end.all() or (dates.dt.day == 1).all())
    if monthly:
        step = max(1, math.ceil(len(dates) / 12))
        ticks = list(dates.iloc[::step])
        fig.update_xaxes(tickvals=ticks, ticktext=[f"{d:%b %Y}" for d in ticks])
    else:
        fig.update_xaxes(tickformat="%d %b %Y")


def _all_dates(series: pd.Series) -> bool:
    import datetime as dt

    return len(series) > 0 and all(isinstance(v, dt.date) for v in series)


def _layout(fig: go.Figure, currency: str | None, height: int = 360) -> go.Figure:
    fig.update_layout(
        height=height,
        margin=dict(l=10, r=10, t=30, b=10),
        legend=dict(orientation="h", yanchor="bottom", y=1.02, x=0),
        hovermode="x unified",
        separators=".,",
    )
    if currency:
        fig.update_yaxes(tickprefix=_prefix(currency), tickformat=",.0f")
    return fig


def _prefix(currency: str | None) -> str:
    from arlens.metrics import CURRENCY_SYMBOLS

    return CURRENCY_SYMBOLS.get(currency or "", f"{currency} " if currency else "")


def stacked_buckets(frame: pd.DataFrame, category: str, labels: list[str], currency: str | None,
                    horizontal: bool = False) -> go.Figure:  # fmt: skip
    """One bar per category, stacked by bucket (no traces when there is nothing to stack)."""
    labels = [label for label in labels if frame is not None and label in frame]
    if _empty(frame, [category]) or not labels:
        return go.Figure()  # no traces: `show` says what is missing
    colours = bucket_colours(labels)
    fig = go.Figure()
    for label in labels:
        values = frame[label]
        kwargs = (
            dict(x=values, y=frame[category], orientation="h")
            if horizontal
            else dict(x=frame[category], y=values)
        )
        fig.add_bar(
            name=label,
            marker_color=colours[label],
            hovertemplate=f"{label}: {_prefix(currency)}%{{{'x' if horizontal else 'y'}:,.0f}}<extra></extra>",
            **kwargs,
        )
    fig.update_layout(barmode="stack")
    fig = _layout(
        fig,
        None if horizontal else currency,
        height=max(320, 28 * len(frame)) if horizontal else 360,
    )
    if horizontal:
        fig.update_xaxes(tickprefix=_prefix(currency), tickformat=",.0f")
        fig.update_layout(hovermode="y unified")
    else:
        _date_axis(fig, frame[category])
    return fig


def lines(frame: pd.DataFrame, x: str, series: dict[str, str], y_title: str, currency: str | None = None,
          suffix: str = "") -> go.Figure:  # fmt: skip
    """Several measures over time; `series` maps column -> legend name (no traces without data)."""
    series = {c: n for c, n in series.items() if frame is not None and c in frame}
    if _empty(frame, [x]) or not series:
        return go.Figure()  # no traces: `show` says what is missing
    fig = go.Figure()
    for i, (column, name) in enumerate(series.items()):
        fig.add_scatter(
            x=frame[x], y=frame[column], name=name, mode="lines+markers",
            line=dict(color=LINE_COLOURS[i % len(LINE_COLOURS)], width=2),
            hovertemplate=f"{name}: %{{y:,.1f}}{suffix}<extra></extra>",
        )  # fmt: skip
    fig.update_yaxes(title=y_title)
    _date_axis(fig, frame[x])
    return _layout(fig, currency)


def heatmap(matrix: pd.DataFrame, title: str) -> go.Figure:
    """Roll rates: rows are buckets at the first month-end, columns where the money went."""
    if _empty(matrix) or len(matrix.columns) == 0:
        return go.Figure()  # no traces: `show` says what is missing
    fig = go.Figure(
        go.Heatmap(
            z=matrix.to_numpy(), x=list(matrix.columns), y=list(matrix.index),
            colorscale="Reds", zmin=0, zmax=1, text=[[f"{v:.0%}" for v in row] for row in matrix.to_numpy()],
            texttemplate="%{text}", hovertemplate="%{y} → %{x}: %{z:.1%}<extra></extra>",
            colorbar=dict(tickformat=".0%"),
        )
    )  # fmt: skip
    fig.update_yaxes(autorange="reversed", title="bucket at month-end")
    fig.update_xaxes(title=title)
    return _layout(fig, None, height=380)


def waterfall(steps: list[tuple[str, float]], total_name: str) -> go.Figure:
    """DSO + DIO − DPO = CCC as a waterfall (no traces when a step is missing)."""
    if not steps or any(v is None or pd.isna(v) for _, v in steps):
        return go.Figure()  # no traces: `show` says what is missing
    fig = go.Figure(
        go.Waterfall(
            x=[name for name, _ in steps] + [total_name],
            y=[value for _, value in steps] + [0],
            measure=["relative"] * len(steps) + ["total"],
            text=[f"{v:+.1f}" for _, v in steps] + [f"{sum(v for _, v in steps):.1f}"],
            textposition="outside",
            increasing=dict(marker_color="#d97706"), decreasing=dict(marker_color="#2b6cb0"),
            totals=dict(marker_color="#374151"),
        )
    )  # fmt: skip
    fig.update_yaxes(title="days")
    return _layout(fig, None)


def histogram(values: pd.Series, title: str, bins: int = 30) -> go.Figure:
    if values is None or values.dropna().empty:
        return go.Figure()  # no traces: `show` says what is missing
    fig = go.Figure(go.Histogram(x=values, nbinsx=bins, marker_color="#2b6cb0"))
    fig.update_xaxes(title=title, tickformat=".0%")
    fig.update_yaxes(title="customers")
    fig.update_layout(hovermode="x")
    return _layout(fig, None, height=300)


def bars(
    frame: pd.DataFrame, x: str, y: str, currency: str | None, colour: str = "#2b6cb0"
) -> go.Figure:
    """One bar per row (no traces without rows)."""
    if _empty(frame, [x, y]):
        return go.Figure()  # no traces: `show` says what is missing
    fig = go.Figure(go.Bar(x=frame[x], y=frame[y], marker_color=colour,
                           hovertemplate=f"%{{x}}: {_prefix(currency)}%{{y:,.0f}}<extra></extra>"))  # fmt: skip
    _date_axis(fig, frame[x])
    return _layout(fig, currency, height=300)
