"""The pipeline page's charts (drawn by app.js like every chart, web.pages.charts): the funnel
of deals that reached each main stage, and the median and mean days spent in each stage."""

from __future__ import annotations

import plotly.graph_objects as go

from microfluence.relationships.schemas import Stats
from microfluence.web.pages.charts import ACCENT, LAYOUT


def funnel_figure(stats: Stats) -> go.Figure | None:
    """Deals that reached each main stage, with the share of the first stage."""
    if not stats.deals:
        return None
    stages = list(stats.reached)
    figure = go.Figure(
        go.Funnel(
            y=[s.replace("_", " ") for s in stages],
            x=[stats.reached[s] for s in stages],
            textinfo="value+percent initial",
            marker={"color": ACCENT},
            hovertemplate="%{y}: %{x} deal(s) reached it<extra></extra>",
        )
    )
    figure.update_layout(title="Deals that reached each stage", **LAYOUT)
    return figure


def time_figure(stats: Stats) -> go.Figure | None:
    """Median and mean days in each stage that had a stay."""
    rows = [s for s in stats.stages if s.stays]
    if not rows:
        return None
    names = [s.stage.replace("_", " ") for s in rows]
    figure = go.Figure(
        [
            go.Bar(
                x=names,
                y=[s.median_days for s in rows],
                name="median",
                marker_color=ACCENT,
                customdata=[[s.stays, s.open_stays] for s in rows],
                hovertemplate="%{x}: median %{y:.1f} days over %{customdata[0]} stay(s), "
                "%{customdata[1]} still open<extra></extra>",
            ),
            go.Bar(
                x=names,
                y=[s.mean_days for s in rows],
                name="mean",
                marker_color="#9aa5c9",
                hovertemplate="%{x}: mean %{y:.1f} days<extra></extra>",
            ),
        ]
    )
    figure.update_layout(
        title="Days in stage",
        barmode="group",
        yaxis={"title": "days", "rangemode": "tozero"},
        **LAYOUT,
    )
    return figure
