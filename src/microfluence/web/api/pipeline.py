"""/api/v1/campaigns/{id}/pipeline: a campaign's deals by stage, moving them (one or many, all
or nothing), a deal's history, the pipeline's statistics, and adding creators as prospects.
Viewers read; members move and add. Moves are recorded with the caller (the signed-in user's
e-mail address, or the API key's name)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query

from microfluence.relationships import pipeline, prospects
from microfluence.relationships.pipeline_stats import pipeline_stats
from microfluence.relationships.schemas import (
    Board,
    Card,
    Event,
    MoveIn,
    MoveResult,
    ProspectsIn,
    ProspectsResult,
    Stats,
)
from microfluence.web.api.common import ITEM_ERRORS, WRITE_ERRORS
from microfluence.web.api.labels import labeller
from microfluence.web.deps import ApiReader, ApiWriter, DbSession

router = APIRouter(prefix="/campaigns/{campaign_id}/pipeline", tags=["pipeline"])
CampaignId = Annotated[int, Path(ge=1, le=2**31 - 1)]
DealId = Annotated[int, Path(ge=1, le=2**31 - 1)]
Sort = Annotated[
    str | None,
    Query(
        max_length=20,
        description="List instead of columns, sorted by stage, creator, days or fee ('-' in "
        "front: descending).",
    ),
]


@router.get("", responses=ITEM_ERRORS)
def get_board(db: DbSession, caller: ApiReader, campaign_id: CampaignId) -> Board:
    """The board: a column per stage (the main path, then declined, no_reply, on_hold), each
    deal with its creator, account, days in the stage and fee."""
    return pipeline.board(db, caller.workspace_id, campaign_id)


@router.get("/deals", responses=ITEM_ERRORS)
def list_cards(
    db: DbSession, caller: ApiReader, campaign_id: CampaignId, sort: Sort = None
) -> list[Card]:
    """The same deals as one list, sorted (`sort`: stage, creator, days, fee; `-` descending)."""
    return pipeline.pipeline_cards(db, caller.workspace_id, campaign_id, sort=sort or "stage")


@router.post("/moves", responses=WRITE_ERRORS)
def move_deals(
    db: DbSession, caller: ApiWriter, campaign_id: CampaignId, body: MoveIn
) -> MoveResult:
    """Move deals of the campaign (by `deal_ids` and/or `creators`: PLATFORM:HANDLE) to
    `stage`: all or none (404 names the first deal that is not in the campaign)."""
    return pipeline.move(
        db,
        caller.workspace_id,
        campaign_id,
        body.stage,
        deal_ids=body.deal_ids,
        creators=body.creators,
        actor=labeller(db, caller),
    )


@router.get("/deals/{deal_id}/history", responses=ITEM_ERRORS)
def deal_history(
    db: DbSession, caller: ApiReader, campaign_id: CampaignId, deal_id: DealId
) -> list[Event]:
    """The deal's events, oldest first: stage moves (who, when, from, to) and the rest."""
    return pipeline.history(db, caller.workspace_id, campaign_id, deal_id)


@router.get("/stats", responses=ITEM_ERRORS)
def stats(db: DbSession, caller: ApiReader, campaign_id: CampaignId) -> Stats:
    """Deals per stage, time in stage (median, mean) and conversion between the main stages
    (docs/relationships.md, "Pipeline statistics")."""
    return pipeline_stats(db, caller.workspace_id, campaign_id)


@router.post("/prospects", status_code=201, responses=WRITE_ERRORS)
def add_prospects(
    db: DbSession, caller: ApiWriter, campaign_id: CampaignId, body: ProspectsIn
) -> ProspectsResult:
    """Add creators (`creator_ids` and/or `creators`: PLATFORM:HANDLE) as prospects: deals at
    stage prospect without a fee. Creators already in the campaign come back in `already`."""
    return prospects.add_prospects(
        db,
        caller.workspace_id,
        campaign_id,
        creator_ids=body.creator_ids,
        creators=body.creators,
        actor=labeller(db, caller),
        source="api",
    )
