"""/api/v1/campaigns: campaigns, their deals and deliverables, and matching them to posts."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query, Response

from microfluence.campaigns import campaigns, deals, deliverables
from microfluence.campaigns.schemas import (
    AssignPost,
    CampaignCreate,
    CampaignPublic,
    CampaignUpdate,
    DealCreate,
    DealPublic,
    DealUpdate,
    DeliverablePublic,
    MatchSummary,
    Status,
)
from microfluence.catalog.listing import Window
from microfluence.catalog.schemas import Page
from microfluence.tracking.deliverables import match_deliverables
from microfluence.web.api.common import ITEM_ERRORS, READ_ERRORS, WRITE_ERRORS, _window
from microfluence.web.deps import ApiReader, ApiWriter, DbSession

router = APIRouter(prefix="/campaigns", tags=["campaigns"])
CampaignId = Annotated[int, Path(ge=1, le=2**31 - 1)]
DealId = Annotated[int, Path(ge=1, le=2**31 - 1)]
PieceId = Annotated[int, Path(ge=1, le=2**31 - 1)]


@router.get("", responses=READ_ERRORS)
def list_campaigns(
    db: DbSession,
    caller: ApiReader,
    window: Annotated[Window, Depends(_window)],
    status: Annotated[Status | None, Query()] = None,
) -> Page[CampaignPublic]:
    """The workspace's campaigns, the latest start first, with their deal and piece counts;
    `count` counts them all."""
    return campaigns.page_of_campaigns(db, caller.workspace_id, status=status, window=window)


@router.post("", status_code=201, responses=WRITE_ERRORS)
def create_campaign(db: DbSession, caller: ApiWriter, body: CampaignCreate) -> CampaignPublic:
    """Create a campaign, as a draft; its name is unique in the workspace (409)."""
    return campaigns.create_campaign(db, caller.workspace_id, body)


@router.get("/{campaign_id}", responses=ITEM_ERRORS)
def get_campaign(db: DbSession, caller: ApiReader, campaign_id: CampaignId) -> CampaignPublic:
    return campaigns.get_campaign(db, caller.workspace_id, campaign_id)


@router.patch("/{campaign_id}", responses=WRITE_ERRORS)
def update_campaign(
    db: DbSession, caller: ApiWriter, campaign_id: CampaignId, body: CampaignUpdate
) -> CampaignPublic:
    """Change the fields sent; `status` moves draft → active ↔ paused → ended (422 otherwise)."""
    return campaigns.update_campaign(db, caller.workspace_id, campaign_id, body)


@router.delete("/{campaign_id}", status_code=204, responses=WRITE_ERRORS)
def delete_campaign(db: DbSession, caller: ApiWriter, campaign_id: CampaignId) -> Response:
    """Delete the campaign with its deals and deliverables."""
    campaigns.delete_campaign(db, caller.workspace_id, campaign_id)
    return Response(status_code=204)


# --- deals ----------------------------------------------------------------------------------


@router.get("/{campaign_id}/deals", responses=ITEM_ERRORS)
def list_deals(db: DbSession, caller: ApiReader, campaign_id: CampaignId) -> list[DealPublic]:
    """The campaign's deals, with their package and pieces pending, matched and confirmed."""
    return deals.list_deals(db, caller.workspace_id, campaign_id)


@router.post("/{campaign_id}/deals", status_code=201, responses=WRITE_ERRORS)
def add_deal(
    db: DbSession, caller: ApiWriter, campaign_id: CampaignId, body: DealCreate
) -> DealPublic:
    """Add the creator of account `creator` (PLATFORM:HANDLE) with a deal; a creator is in a
    campaign at most once (409)."""
    return deals.add_deal(db, caller.workspace_id, campaign_id, body)


@router.get("/{campaign_id}/deals/{deal_id}", responses=ITEM_ERRORS)
def get_deal(
    db: DbSession, caller: ApiReader, campaign_id: CampaignId, deal_id: DealId
) -> DealPublic:
    return deals.get_deal(db, caller.workspace_id, campaign_id, deal_id)


@router.patch("/{campaign_id}/deals/{deal_id}", responses=WRITE_ERRORS)
def update_deal(
    db: DbSession, caller: ApiWriter, campaign_id: CampaignId, deal_id: DealId, body: DealUpdate
) -> DealPublic:
    """Change the fields sent; a new `package` adds or removes pending pieces only."""
    return deals.update_deal(db, caller.workspace_id, campaign_id, deal_id, body)


@router.delete("/{campaign_id}/deals/{deal_id}", status_code=204, responses=WRITE_ERRORS)
def remove_deal(
    db: DbSession, caller: ApiWriter, campaign_id: CampaignId, deal_id: DealId
) -> Response:
    """Take the creator out of the campaign, with the deal's deliverables."""
    deals.remove_deal(db, caller.workspace_id, campaign_id, deal_id)
    return Response(status_code=204)


# --- deliverables ---------------------------------------------------------------------------


@router.get("/{campaign_id}/deliverables", responses=ITEM_ERRORS)
def list_deliverables(
    db: DbSession, caller: ApiReader, campaign_id: CampaignId
) -> list[DeliverablePublic]:
    """Every piece of the campaign: status, post, why it was matched."""
    return deliverables.list_deliverables(db, caller.workspace_id, campaign_id)


@router.post("/{campaign_id}/deliverables/match", responses=WRITE_ERRORS)
def match(db: DbSession, caller: ApiWriter, campaign_id: CampaignId) -> MatchSummary:
    """Match the pending pieces to the creators' posts (docs/campaigns.md); idempotent."""
    return match_deliverables(db, caller.workspace_id, campaign_id)


@router.post("/{campaign_id}/deliverables/{deliverable_id}/confirm", responses=WRITE_ERRORS)
def confirm(
    db: DbSession, caller: ApiWriter, campaign_id: CampaignId, deliverable_id: PieceId
) -> DeliverablePublic:
    """Confirm the piece's matched post (422 when it has none)."""
    return deliverables.confirm_deliverable(db, caller.workspace_id, campaign_id, deliverable_id)


@router.post("/{campaign_id}/deliverables/{deliverable_id}/assign", responses=WRITE_ERRORS)
def assign(
    db: DbSession,
    caller: ApiWriter,
    campaign_id: CampaignId,
    deliverable_id: PieceId,
    body: AssignPost,
) -> DeliverablePublic:
    """Give the piece a post of the deal's creator, by id or URL (a confirmed, user match)."""
    return deliverables.assign_post(db, caller.workspace_id, campaign_id, deliverable_id, body.post)


@router.post("/{campaign_id}/deliverables/{deliverable_id}/reject", responses=WRITE_ERRORS)
def reject(
    db: DbSession, caller: ApiWriter, campaign_id: CampaignId, deliverable_id: PieceId
) -> DeliverablePublic:
    """Unlink the piece's post; it is never matched to this piece again."""
    return deliverables.reject_match(db, caller.workspace_id, campaign_id, deliverable_id)
