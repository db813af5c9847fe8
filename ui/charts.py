"""Plotly figures with one accessible colour scheme: aging buckets run from green to red."""

from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go

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
    """One bar per category, stacked by bucket."""
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
    return fig


def lines(frame: pd.DataFrame, x: str, series: dict[str, str], y_title: str, currency: str | None = None,
          suffix: str = "") -> go.Figure:  # fmt: skip
    """Several measures over time; `series` maps column -> legend name."""
    fig = go.Figure()
    for i, (column, name) in enumerate(series.items()):
        fig.add_scatter(
            x=frame[x], y=frame[column], name=name, mode="lines+markers",
            line=dict(color=LINE_COLOURS[i % len(LINE_COLOURS)], width=2),
            hovertemplate=f"{name}: %{{y:,.1f}}{suffix}<extra></extra>",
        )  # fmt: skip
    fig.update_yaxes(title=y_title)
    return _layout(fig, currency)


def heatmap(matrix: pd.DataFrame, title: str) -> go.Figure:
    """Roll rates: rows are buckets at the first month-end, columns where the money went."""
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
    """DSO + DIO − DPO = CCC as a waterfall."""
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
    fig = go.Figure(go.Histogram(x=values, nbinsx=bins, marker_color="#2b6cb0"))
    fig.update_xaxes(title=title, tickformat=".0%")
    fig.update_yaxes(title="customers")
    fig.update_layout(hovermode="x")
    return _layout(fig, None, height=300)


def bars(
    frame: pd.DataFrame, x: str, y: str, currency: str | None, colour: str = "#2b6cb0"
) -> go.Figure:
    fig = go.Figure(go.Bar(x=frame[x], y=frame[y], marker_color=colour,
                           hovertemplate=f"%{{x}}: {_prefix(currency)}%{{y:,.0f}}<extra></extra>"))  # fmt: skip
    return _layout(fig, currency, height=300)
