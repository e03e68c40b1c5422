"""A campaign's dashboard, ``GET /campaigns/{id}/dashboard``: the KPI tiles, the charts and the
per-creator table of measurement.dashboard.campaign_dashboard (the numbers of `microfluence report
campaign`), over an optional period (``from``, ``to``: UTC days)."""

from __future__ import annotations

import html
from typing import Annotated

from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import HTMLResponse

from microfluence.catalog.schemas import ID_MAX
from microfluence.kernel.store.tables import Workspace
from microfluence.measurement.dashboard import campaign_dashboard, period_label
from microfluence.measurement.sources import Period
from microfluence.web.deps import DbSession, PageReader
from microfluence.web.pages import charts
from microfluence.web.pages.rendering import render

router = APIRouter(include_in_schema=False)
Id = Annotated[int, Path(ge=1, le=ID_MAX)]


@router.get("/campaigns/{campaign_id}/dashboard")
def dashboard_page(
    request: Request,
    db: DbSession,
    caller: PageReader,
    campaign_id: Id,
    from_: Annotated[str, Query(alias="from", max_length=40)] = "",
    to: Annotated[str, Query(max_length=40)] = "",
) -> HTMLResponse:
    period = Period.parse(from_.strip() or None, to.strip() or None)
    workspace = db.get(Workspace, caller.workspace_id)
    assert workspace is not None
    board = campaign_dashboard(db, workspace, campaign_id, period)
    report = board.report
    name = html.escape(report.campaign)  # Plotly reads a few tags in titles: the name is data
    figures = {
        "revenue-clicks": charts.revenue_clicks_figure(
            board.days, report.currency, f"Revenue and clicks per day · {name}"
        ),
        "creator-revenue": charts.creator_days_figure(
            board.creator_days,
            "net_revenue",
            "Net revenue per day by creator",
            report.currency,
            stacked=True,
            digits=2,
        ),
        "creator-clicks": charts.creator_days_figure(
            board.creator_days, "clicks", "Clicks per day by creator", "clicks", stacked=False
        ),
        "roi": charts.roi_figure(board.roi, "Creators by ROI, with 95 % intervals"),
    }
    # Nothing measured: the explanation instead of charts of zeros (or of a lone ROI of −100 %).
    drawn = {} if board.empty else {k: charts.to_div(f, f"chart-{k}") for k, f in figures.items()}
    return render(
        request,
        db,
        "campaign_dashboard.html",
        title=f"{report.campaign} · dashboard",
        board=board,
        report=report,
        period=period_label(report),
        period_from=from_.strip(),
        period_to=to.strip(),
        plots=drawn,
        charts=any(div is not None for div in drawn.values()),  # the layout loads plotly.js
    )
