"""The profile page's charts: Plotly figures rendered on the server to HTML divs.

plotly.js itself is not embedded in each div: the layout loads it once from this server
(``/static/plotly.min.js``, the file the installed plotly package ships), so pages work offline.
A chart is a ``<div>`` carrying its figure as JSON in a data attribute, drawn by ``app.js``: the
pages' Content-Security-Policy allows no inline script (web.headers).
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Sequence

import plotly.graph_objects as go
import plotly.io as pio
from markupsafe import Markup

from microfluence.metrics.service import AccountMetrics, PostEngagement

LAYOUT = {
    "margin": {"l": 56, "r": 16, "t": 44, "b": 40},
    "height": 300,
    "template": "plotly_white",
    "font": {"family": "system-ui, -apple-system, Segoe UI, sans-serif", "size": 12},
    "legend": {"orientation": "h", "y": -0.2},
}
CONFIG = {"displaylogo": False, "responsive": True}
ACCENT = "#3553d1"


def to_div(figure: go.Figure | None, div_id: str) -> Markup | None:
    """The figure as a <div> that app.js draws: its JSON in an attribute, HTML-escaped (user
    text in titles and labels is data, never markup)."""
    if figure is None:
        return None
    return Markup(
        '<div class="chart-plot" id="{id}" data-plotly-figure="{figure}" '
        'data-plotly-config="{config}"></div>'
    ).format(id=div_id, figure=pio.to_json(figure, validate=False), config=json.dumps(CONFIG))


def follower_history_figure(
    history: Sequence[tuple[dt.datetime, int | None]], title: str
) -> go.Figure | None:
    points = [(at, n) for at, n in history if n is not None]
    if not points:
        return None
    figure = go.Figure(
        go.Scatter(
            x=[at for at, _ in points],
            y=[n for _, n in points],
            mode="lines+markers" if len(points) < 60 else "lines",
            line={"color": ACCENT, "width": 2},
            marker={"size": 5},
            name="followers",
            hovertemplate="%{x|%Y-%m-%d}: %{y:,} followers<extra></extra>",
        )
    )
    figure.update_layout(title=title, yaxis={"title": "followers", "rangemode": "tozero"}, **LAYOUT)
    return figure


def growth_figure(metrics: AccountMetrics, days: Sequence[int], title: str) -> go.Figure | None:
    """Follower growth over each window the metrics pipeline computes (7, 30, 90 days), in %."""
    labels, values, counts = [], [], []
    for k in days:
        pct = metrics.value(f"growth_{k}d_pct")
        if pct is None:
            continue
        labels.append(f"{k} days")
        values.append(100 * pct)
        counts.append(metrics.value(f"growth_{k}d"))
    if not values:
        return None
    figure = go.Figure(
        go.Bar(
            x=labels,
            y=values,
            marker_color=["#2e7d32" if v >= 0 else "#c62828" for v in values],
            customdata=[[c if c is not None else 0] for c in counts],
            hovertemplate="%{x}: %{y:.2f} % (%{customdata[0]:+,.0f} followers)<extra></extra>",
            name="growth",
        )
    )
    figure.update_layout(title=title, yaxis={"title": "% change", "ticksuffix": " %"}, **LAYOUT)
    return figure


def engagement_figure(posts: Sequence[PostEngagement], title: str) -> go.Figure | None:
    """Engagement rate by followers of each post, in time order; posts outside the window that
    the account-level numbers use are drawn fainter."""
    rows = [p for p in posts if p.er_followers is not None and p.posted_at is not None]
    if not rows:
        return None
    rows.sort(key=lambda p: p.posted_at)  # type: ignore[arg-type, return-value]
    figure = go.Figure()
    for in_window, name, colour in ((True, "in the window", ACCENT), (False, "older", "#9aa5c9")):
        chosen = [p for p in rows if p.in_window is in_window]
        if not chosen:
            continue
        # Markers, not bars: posts hours apart would make bars on a date axis hairline-thin.
        figure.add_trace(
            go.Scatter(
                x=[p.posted_at for p in chosen],
                y=[100 * p.er_followers for p in chosen],  # type: ignore[operator]
                mode="markers",
                marker={"color": colour, "size": 8, "line": {"width": 1, "color": "#fff"}},
                name=name,
                customdata=[[p.interactions or 0, p.post_type or "post"] for p in chosen],
                hovertemplate="%{x|%Y-%m-%d} %{customdata[1]}: %{y:.2f} % "
                "(%{customdata[0]:,} interactions)<extra></extra>",
            )
        )
    figure.update_layout(
        title=title,
        yaxis={"title": "ER by followers", "ticksuffix": " %", "rangemode": "tozero"},
        **LAYOUT,
    )
    return figure
