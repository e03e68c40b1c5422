"""Test-and-learn's charts (planning.learn): each tested creator's posterior mean with its
95 % credible interval, ranked, and the pooled rate as a dashed line. Drawn as the dashboard's
charts are (web.pages.charts.to_div)."""

from __future__ import annotations

from collections.abc import Sequence

import plotly.graph_objects as go

from microfluence.planning.learn_schemas import CreatorPosterior
from microfluence.web.pages.charts import ACCENT, LAYOUT, MUTED

FLAG_COLOURS = {"above": "#2e7d32", "below": "#c62828"}


def label(c: CreatorPosterior) -> str:
    name = c.creator_name or f"creator {c.creator_id}"
    return f"{c.rank}. {name} ({c.account})" if c.account else f"{c.rank}. {name}"


def interval_figure(
    creators: Sequence[CreatorPosterior],
    key: str,
    flag: str,
    title: str,
    pooled: float | None,
    tick: str,
) -> go.Figure | None:
    """Creators in rank order, the posterior mean of ``key`` with error bars to its 95 %
    interval, coloured by ``flag`` (green above, red below the pooled rate)."""
    rows = [c for c in creators if getattr(c, f"{key}_mean") is not None]
    if not rows:
        return None
    mean = [getattr(c, f"{key}_mean") for c in rows]
    low = [getattr(c, f"{key}_low") for c in rows]
    high = [getattr(c, f"{key}_high") for c in rows]
    flags = [getattr(c, flag) for c in rows]
    figure = go.Figure(
        go.Scatter(
            x=[label(c) for c in rows],
            y=mean,
            mode="markers",
            name="posterior mean (95 % interval)",
            marker={"size": 10, "color": [FLAG_COLOURS.get(f, ACCENT) for f in flags]},
            error_y={
                "type": "data",
                "symmetric": False,
                "array": [(h - m) if h is not None else 0 for h, m in zip(high, mean, strict=True)],
                "arrayminus": [
                    (m - lo) if lo is not None else 0 for lo, m in zip(low, mean, strict=True)
                ],
                "color": MUTED,
                "thickness": 1.5,
                "width": 6,
            },
            customdata=[[lo, h, f] for lo, h, f in zip(low, high, flags, strict=True)],
            hovertemplate="%{x}: %{y:" + tick + "} (95 %: %{customdata[0]:" + tick + "} to "
            "%{customdata[1]:" + tick + "}) · %{customdata[2]}<extra></extra>",
        )
    )
    if pooled is not None:
        figure.add_hline(y=pooled, line={"color": "#e07a1f", "width": 1, "dash": "dash"})
    figure.update_layout(
        title=title,
        yaxis={"title": title.split(",")[0], "tickformat": tick, "rangemode": "tozero"},
        xaxis={"type": "category"},
        showlegend=False,
        **LAYOUT,
    )
    return figure
