"""The planner page's charts: each plan's simulated outcome as a distribution (the share of
draws at or below each value, from the answer's quantiles), drawn like the other charts
(web/pages/charts.py)."""

from __future__ import annotations

import plotly.graph_objects as go
from markupsafe import Markup

from microfluence.planning.schemas import PlanResult
from microfluence.web.pages.charts import LAYOUT, to_div

COLOURS = {"plan": "#3553d1", "best single creator": "#d1683a", "without constraints": "#3aa17e"}
SHARES = [round(5 * (i + 1)) for i in range(19)]


def _figure(result: PlanResult, key: str, title: str, axis: str) -> go.Figure | None:
    outcomes = [o for o in (result.plan, result.single_creator, result.unconstrained) if o]
    traces = [
        go.Scatter(
            x=o.quantiles[key],
            y=SHARES,
            mode="lines+markers",
            name=o.name,
            line={"color": COLOURS.get(o.name, "#555"), "width": 2},
            marker={"size": 4},
            hovertemplate=f"{o.name}: %{{y}} % of draws at or below %{{x:,.2f}}<extra></extra>",
        )
        for o in outcomes
        if key in o.quantiles
    ]
    if not traces:
        return None
    figure = go.Figure(traces)
    figure.update_layout(
        title=title,
        xaxis={"title": axis},
        yaxis={"title": "% of simulated campaigns", "range": [0, 100]},
        **LAYOUT,
    )
    return figure


def outcome_figures(result: PlanResult) -> list[Markup]:
    key = "revenue" if result.request.objective == "roi" else result.request.objective
    figures = [
        (_figure(result, key, f"{key.capitalize()}: the plans' distributions", key), "plan-total"),
        (_figure(result, "roi", "ROI: the plans' distributions", "ROI"), "plan-roi"),
    ]
    return [div for fig, name in figures if (div := to_div(fig, name)) is not None]
