"""The pipeline pages: a campaign's board (columns per stage; cards moved by drag and drop, by
keyboard, or by each card's stage menu without JavaScript; several at once), the same deals as
a sortable list, the pipeline's statistics, and the creators list's "Add to campaign" action.
A deal has one page, ``/campaigns/{id}/deals/{deal_id}`` (web.pages.deal_page): its stage menu,
history, portal links, gifts and submissions; the pipeline's former deal URL redirects there.
Every move is recorded with the signed-in user's e-mail."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Form, Path, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse
from pydantic import Field

from microfluence.campaigns.campaigns import get_campaign
from microfluence.campaigns.tables import PIPELINE_STAGES, SIDE_STAGES
from microfluence.catalog.creators import matching_creator_ids
from microfluence.catalog.schemas import ID_MAX
from microfluence.relationships import pipeline, prospects
from microfluence.relationships.pipeline_stats import pipeline_stats
from microfluence.relationships.schemas import MAX_BULK
from microfluence.web.api.labels import labeller
from microfluence.web.deps import CsrfChecked, DbSession, PageReader, PageWriter
from microfluence.web.pages.charts import to_div
from microfluence.web.pages.creators import creator_filters
from microfluence.web.pages.pipeline_charts import funnel_figure, time_figure
from microfluence.web.pages.rendering import render

router = APIRouter(include_in_schema=False)
Id = Annotated[int, Path(ge=1, le=ID_MAX)]
FormId = Annotated[int, Field(ge=1, le=ID_MAX)]
Ids = Annotated[list[FormId], Form(max_length=MAX_BULK)]
Short = Annotated[str, Form(max_length=200)]
Sort = Annotated[str, Query(max_length=20, pattern=r"^-?(stage|creator|days|fee)$")]
FormSort = Annotated[str, Form(max_length=20, pattern=r"^-?(stage|creator|days|fee)$")]
View = Literal["board", "list", "deal"]
Count = Annotated[int | None, Query(ge=0, le=10**6)]
STAGE_ORDER = (*PIPELINE_STAGES, *SIDE_STAGES)


@router.get("/campaigns/{campaign_id}/pipeline")
def pipeline_page(  # noqa: PLR0913 - one parameter per query field
    request: Request,
    db: DbSession,
    caller: PageReader,
    campaign_id: Id,
    view: Literal["board", "list"] = "board",
    sort: Sort = "stage",
    moved: Count = None,
    unchanged: Count = None,
    added: Count = None,
    already: Count = None,
) -> HTMLResponse:
    campaign = get_campaign(db, caller.workspace_id, campaign_id)
    board = pipeline.board(db, caller.workspace_id, campaign_id)
    stats = pipeline_stats(db, caller.workspace_id, campaign_id)
    cards = (
        pipeline.pipeline_cards(db, caller.workspace_id, campaign_id, sort=sort)
        if view == "list"
        else []
    )
    return render(
        request,
        db,
        "pipeline.html",
        title=f"{campaign.name} · pipeline",
        campaign=campaign,
        board=board,
        cards=cards,
        stats=stats,
        view=view,
        sort=sort,
        stages=STAGE_ORDER,
        funnel=to_div(funnel_figure(stats), "pipeline-funnel"),
        times=to_div(time_figure(stats), "pipeline-times"),
        notice={"moved": moved, "unchanged": unchanged, "added": added, "already": already},
        charts=True,
        scripts=["pipeline.js"],
    )


def deal_url(campaign_id: int, deal_id: int) -> str:
    return f"/campaigns/{campaign_id}/deals/{deal_id}"


@router.get("/campaigns/{campaign_id}/pipeline/deals/{deal_id}")
def deal_page(db: DbSession, caller: PageReader, campaign_id: Id, deal_id: Id) -> RedirectResponse:
    """The pipeline's former deal URL: checked (404 for a deal of another campaign or
    workspace), then a permanent redirect to the deal's one page."""
    pipeline.card(db, caller.workspace_id, campaign_id, deal_id)
    return RedirectResponse(deal_url(campaign_id, deal_id), status_code=308)


@router.post("/campaigns/{campaign_id}/pipeline/move", dependencies=[CsrfChecked])
def move(  # noqa: PLR0913 - one parameter per form field
    db: DbSession,
    caller: PageWriter,
    campaign_id: Id,
    stage: Short,
    deal_id: Ids = [],  # noqa: B006 - FastAPI copies defaults
    view: Annotated[View, Form()] = "board",
    sort: FormSort = "stage",
) -> RedirectResponse:
    """Move the deals sent (one card's form, or the cards ticked for a bulk move)."""
    done = pipeline.move(
        db, caller.workspace_id, campaign_id, stage, deal_ids=deal_id, actor=labeller(db, caller)
    )
    base = f"/campaigns/{campaign_id}/pipeline"
    if view == "deal" and len(deal_id) == 1:
        return RedirectResponse(deal_url(campaign_id, deal_id[0]), status_code=303)
    anchor = f"#deal-{deal_id[0]}" if len(deal_id) == 1 else ""
    return RedirectResponse(
        f"{base}?view={'list' if view == 'list' else 'board'}&sort={sort}"
        f"&moved={len(done.moved)}&unchanged={len(done.unchanged)}{anchor}",
        status_code=303,
    )


@router.post("/creators/add-to-campaign", dependencies=[CsrfChecked])
def add_to_campaign(  # noqa: PLR0913 - one parameter per form field
    db: DbSession,
    caller: PageWriter,
    campaign_id: Annotated[int, Form(ge=1, le=ID_MAX)],
    creator_id: Ids = [],  # noqa: B006 - FastAPI copies defaults
    scope: Annotated[Literal["selected", "matching"], Form()] = "selected",
    q: Short = "",
    platform: Annotated[str, Form(max_length=20)] = "",
    country: Annotated[str, Form(max_length=80)] = "",
    category: Annotated[str, Form(max_length=120)] = "",
    min_followers: Annotated[str, Form(max_length=30)] = "",
    max_followers: Annotated[str, Form(max_length=30)] = "",
    tier: Annotated[str, Form(max_length=120)] = "",
) -> RedirectResponse:
    """Add the ticked creators, or every creator the list's filters find, as prospects."""
    ids = list(creator_id)
    if scope == "matching":
        filters = creator_filters(
            db, caller, q, platform, country, category, min_followers, max_followers, tier
        )
        ids = matching_creator_ids(db, caller.workspace_id, filters, limit=MAX_BULK)
    done = prospects.add_prospects(
        db,
        caller.workspace_id,
        campaign_id,
        creator_ids=ids,
        actor=labeller(db, caller),
        source="creators",
    )
    return RedirectResponse(
        f"/campaigns/{campaign_id}/pipeline?added={len(done.added)}&already={len(done.already)}",
        status_code=303,
    )
