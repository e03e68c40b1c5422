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
import polars as pl
from markupsafe import Markup

from microfluence.measurement.dashboard import OTHERS
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


# --- the campaign dashboard (frames of measurement.dashboard) ---------------------------------

PALETTE = ("#3553d1", "#e07a1f", "#2e9d6a", "#b8428c", "#6b5bd6", "#c9a227", "#2a9bb5", "#8c564b")
MUTED = "#9aa5c9"
# Days as ISO text on a category axis: every day of the series is a row (zeros included), so
# the bars are evenly spaced, and a single day is not drawn as a range of milliseconds.
DAY_AXIS = {"type": "category", "title": "UTC day"}


def _days(column: pl.Series) -> list[str]:
    return column.dt.strftime("%Y-%m-%d").to_list()


def revenue_clicks_figure(days: pl.DataFrame, currency: str, title: str) -> go.Figure | None:
    """The campaign's net revenue per day (bars, left axis) and its clicks and unique clicks
    (lines, right axis)."""
    if days.is_empty():
        return None
    figure = go.Figure()
    figure.add_trace(
        go.Bar(
            x=_days(days["day"]),
            y=days["net_revenue"].to_list(),
            name=f"net revenue ({currency})",
            marker_color=ACCENT,
            customdata=days.select("revenue", "orders").rows(),
            hovertemplate="%{x}: %{y:,.2f} net, %{customdata[0]:,.2f} gross, "
            "%{customdata[1]} order(s)<extra></extra>",
        )
    )
    for column, name, dash in (("clicks", "clicks", "solid"), ("unique_clicks", "unique", "dot")):
        figure.add_trace(
            go.Scatter(
                x=_days(days["day"]),
                y=days[column].to_list(),
                name=name,
                yaxis="y2",
                mode="lines+markers" if days.height < 60 else "lines",
                line={"color": "#e07a1f", "width": 2, "dash": dash},
                hovertemplate="%{x}: %{y:,} " + name + "<extra></extra>",
            )
        )
    figure.update_layout(
        title=title,
        yaxis={"title": currency, "rangemode": "tozero"},
        yaxis2={"title": "clicks", "overlaying": "y", "side": "right", "rangemode": "tozero"},
        xaxis=DAY_AXIS,
        showlegend=True,
        **{**LAYOUT, "margin": {**LAYOUT["margin"], "r": 56}},
    )
    return figure


def creator_days_figure(
    series: pl.DataFrame, column: str, title: str, axis: str, *, stacked: bool, digits: int = 0
) -> go.Figure | None:
    """One trace per creator of ``series`` (measurement.dashboard.series_by_creator): stacked
    bars (money) or lines (counts) of ``column`` per day."""
    if series.is_empty():
        return None
    figure = go.Figure()
    for index, ((creator,), rows) in enumerate(series.group_by("creator", maintain_order=True)):
        colour = PALETTE[index % len(PALETTE)] if creator != OTHERS else MUTED
        common = {
            "x": _days(rows["day"]),
            "y": rows[column].to_list(),
            "name": str(creator),
            "hovertemplate": "%{x} · %{fullData.name}: %{y:,." + f"{digits}f" + "}<extra></extra>",
        }
        if stacked:
            figure.add_trace(go.Bar(marker_color=colour, **common))
        else:
            figure.add_trace(
                go.Scatter(mode="lines+markers", line={"color": colour, "width": 2}, **common)
            )
    figure.update_layout(
        title=title,
        barmode="stack",
        xaxis=DAY_AXIS,
        yaxis={"title": axis, "rangemode": "tozero"},
        showlegend=True,
        **LAYOUT,
    )
    return figure


def roi_figure(roi: pl.DataFrame, title: str) -> go.Figure | None:
    """Each creator's ROI with its 95 % interval as error bars (measurement.dashboard.roi_bars);
    creators without orders have no interval and are drawn hollow."""
    if roi.is_empty():
        return None
    figure = go.Figure()
    for has_interval, name, colour in (
        (True, "ROI (95 % interval)", ACCENT),
        (False, "no orders: no interval", MUTED),
    ):
        rows = roi.filter(pl.col("has_interval") == has_interval)
        if rows.is_empty():
            continue
        figure.add_trace(
            go.Scatter(
                x=rows["creator"].to_list(),
                y=rows["roi"].to_list(),
                mode="markers",
                name=name,
                marker={
                    "color": colour if has_interval else "#fff",
                    "size": 10,
                    "line": {"width": 2, "color": colour},
                },
                error_y={
                    "type": "data",
                    "symmetric": False,
                    "array": rows["plus"].to_list(),
                    "arrayminus": rows["minus"].to_list(),
                    "color": colour,
                    "thickness": 1.5,
                    "width": 6,
                },
                customdata=rows.select("roi_low", "roi_high", "orders").rows(),
                hovertemplate="%{x}: ROI %{y:.1%}"
                + (" (95 %: %{customdata[0]:.1%} to %{customdata[1]:.1%})" if has_interval else "")
                + ", %{customdata[2]} order(s)<extra></extra>",
            )
        )
    figure.add_hline(y=0, line={"color": "#c62828", "width": 1, "dash": "dash"})
    figure.update_layout(
        title=title,
        yaxis={"title": "ROI", "tickformat": ".0%", "zeroline": False},
        xaxis={"type": "category"},
        showlegend=True,
        **LAYOUT,
    )
    return figure
