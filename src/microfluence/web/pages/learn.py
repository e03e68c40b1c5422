"""A campaign's test-and-learn page, ``GET /campaigns/{id}/learn``: the tested creators ranked
by their posteriors with 95 % intervals (charts and a table), the flags and the next round's
split — planning.learn.learn_report, the service of `microfluence learn`; viewers read."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import HTMLResponse

from microfluence.catalog.schemas import ID_MAX
from microfluence.kernel.errors import InputError
from microfluence.planning.learn import learn_report
from microfluence.planning.learn_split import DEFAULT_EXPLORE, DEFAULT_MAX_MULTIPLE
from microfluence.web.deps import DbSession, PageReader
from microfluence.web.pages import charts, learn_charts
from microfluence.web.pages.rendering import render

router = APIRouter(include_in_schema=False)


def _number(text: str, field: str, default: float | None) -> float | None:
    """A form's number (blank: ``default``); a bad one names its field."""
    text = text.strip()
    if not text:
        return default
    try:
        return float(text)
    except ValueError:
        raise InputError(f"expected a number, got {text[:40]!r}", field=field) from None


@router.get("/campaigns/{campaign_id}/learn")
def learn_page(
    request: Request,
    db: DbSession,
    caller: PageReader,
    campaign_id: Annotated[int, Path(ge=1, le=ID_MAX)],
    budget: Annotated[str, Query(max_length=40)] = "",
    explore: Annotated[str, Query(max_length=40)] = "",
    max_multiple: Annotated[str, Query(max_length=40)] = "",
) -> HTMLResponse:
    report = learn_report(
        db,
        caller.workspace_id,
        [campaign_id],
        budget=_number(budget, "budget", None),
        explore=_number(explore, "explore", DEFAULT_EXPLORE),  # type: ignore[arg-type]
        max_multiple=_number(max_multiple, "max_multiple", DEFAULT_MAX_MULTIPLE),  # type: ignore[arg-type]
    )
    pooled = report.pooled
    figures = {
        "revenue-per-click": learn_charts.interval_figure(
            report.creators,
            "revenue_per_click",
            "revenue_flag",
            f"Revenue per click ({report.currency}), posterior with 95 % interval",
            pooled.revenue_per_click,
            ",.2f",
        ),
        "conversion": learn_charts.interval_figure(
            report.creators,
            "conversion",
            "conversion_flag",
            "Conversion rate, posterior with 95 % interval",
            pooled.conversion_rate,
            ".1%",
        ),
    }
    plots = {k: charts.to_div(f, f"chart-{k}") for k, f in figures.items()}
    campaign = report.campaigns[0]
    return render(
        request,
        db,
        "campaign_learn.html",
        title=f"{campaign.name} · test-and-learn",
        report=report,
        campaign=campaign,
        plots=plots,
        charts=any(div is not None for div in plots.values()),
        form={
            "budget": budget.strip(),
            "explore": explore.strip(),
            "max_multiple": max_multiple.strip(),
        },
    )
