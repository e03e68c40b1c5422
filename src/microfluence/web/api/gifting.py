"""A deal's gifts, its creator-portal links, and the submissions to review — under
/api/v1/campaigns/{campaign_id}: the deal is always taken within its campaign and workspace."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query, Request
from pydantic import BaseModel, Field

from microfluence.access.principal import Principal
from microfluence.campaigns.campaigns import find_campaign
from microfluence.campaigns.deals import find_deal
from microfluence.catalog.schemas import Page
from microfluence.relationships import gifting, portal, submissions
from microfluence.web.api.common import ITEM_ERRORS, WRITE_ERRORS
from microfluence.web.api.workspace import base_url
from microfluence.web.deps import ApiReader, ApiWriter, DbSession

router = APIRouter(prefix="/campaigns/{campaign_id}", tags=["gifting and portal"])
Id = Annotated[int, Path(ge=1, le=2**31 - 1)]


def actor(caller: Principal) -> str:
    """Who did it, for the deal's history: the API key."""
    return f"api key {caller.api_key_id}"


class PortalLinkIn(BaseModel):
    days: Annotated[int, Field(ge=1, le=portal.MAX_DAYS)] | None = Field(
        default=None, description="Days the link works (MICROFLUENCE_PORTAL_LINK_DAYS, 30)."
    )


# --- gifts ----------------------------------------------------------------------------------


@router.get("/deals/{deal_id}/gifts", responses=ITEM_ERRORS)
def list_gifts(
    db: DbSession, caller: ApiReader, campaign_id: Id, deal_id: Id
) -> list[gifting.GiftPublic]:
    """The deal's gifts: what, how many, worth, where to, carrier, tracking, status."""
    find_deal(db, caller.workspace_id, campaign_id, deal_id)
    return gifting.list_gifts(db, caller.workspace_id, deal_id)


@router.post("/deals/{deal_id}/gifts", status_code=201, responses=WRITE_ERRORS)
def add_gift(
    db: DbSession, caller: ApiWriter, campaign_id: Id, deal_id: Id, body: gifting.GiftCreate
) -> gifting.GiftPublic:
    """Add a gift: a catalogue product by `sku`, or any item with a `name` and `value`."""
    find_deal(db, caller.workspace_id, campaign_id, deal_id)
    return gifting.add_gift(db, caller.workspace_id, deal_id, body, actor=actor(caller))


@router.patch("/deals/{deal_id}/gifts/{gift_id}", responses=WRITE_ERRORS)
def update_gift(
    db: DbSession,
    caller: ApiWriter,
    campaign_id: Id,
    deal_id: Id,
    gift_id: Id,
    body: gifting.GiftUpdate,
) -> gifting.GiftPublic:
    """Move the gift's `status` (requested → shipped → delivered, cancelled, returned; 422
    otherwise) or change its address, carrier or tracking number. Shipping moves the deal to
    product_shipped."""
    find_deal(db, caller.workspace_id, campaign_id, deal_id)
    return gifting.update_gift(db, caller.workspace_id, deal_id, gift_id, body, actor=actor(caller))


# --- portal links ---------------------------------------------------------------------------


@router.get("/deals/{deal_id}/portal-links", responses=ITEM_ERRORS)
def list_portal_links(
    db: DbSession, caller: ApiReader, campaign_id: Id, deal_id: Id
) -> list[portal.PortalLinkPublic]:
    """The deal's portal links, newest first: active, expired or revoked (never their URL)."""
    find_deal(db, caller.workspace_id, campaign_id, deal_id)
    return portal.list_portal_links(db, caller.workspace_id, deal_id)


@router.post("/deals/{deal_id}/portal-links", status_code=201, responses=WRITE_ERRORS)
def create_portal_link(
    request: Request,
    db: DbSession,
    caller: ApiWriter,
    campaign_id: Id,
    deal_id: Id,
    body: PortalLinkIn,
) -> portal.PortalLinkMade:
    """A new link to the deal's creator portal, valid `days` days: its `url` is in this
    answer only — the store keeps a hash of it."""
    find_deal(db, caller.workspace_id, campaign_id, deal_id)
    return portal.create_portal_link(
        db,
        caller.workspace_id,
        deal_id,
        created_by=actor(caller),
        days=body.days,
        base=base_url(request),
    )


@router.post("/deals/{deal_id}/portal-links/{link_id}/revoke", responses=WRITE_ERRORS)
def revoke_portal_link(
    db: DbSession, caller: ApiWriter, campaign_id: Id, deal_id: Id, link_id: Id
) -> portal.PortalLinkPublic:
    """Stop the link working at once."""
    find_deal(db, caller.workspace_id, campaign_id, deal_id)
    return portal.revoke_portal_link(db, caller.workspace_id, deal_id, link_id)


# --- submissions ----------------------------------------------------------------------------


@router.get("/submissions", responses=ITEM_ERRORS)
def list_submissions(
    db: DbSession,
    caller: ApiReader,
    campaign_id: Id,
    status: Annotated[str | None, Query(pattern="^(pending|approved|changes_requested)$")] = None,
) -> Page[submissions.SubmissionPublic]:
    """Drafts and live posts submitted for approval in the campaign, oldest first."""
    find_campaign(db, caller.workspace_id, campaign_id)
    rows = submissions.list_submissions(
        db, caller.workspace_id, campaign_id=campaign_id, status=status
    )
    return Page(data=rows, count=len(rows))


@router.post("/deals/{deal_id}/submissions", status_code=201, responses=WRITE_ERRORS)
def submit(
    db: DbSession,
    caller: ApiWriter,
    campaign_id: Id,
    deal_id: Id,
    body: submissions.SubmissionCreate,
) -> submissions.SubmissionPublic:
    """Enter a draft or live URL for the creator (as the portal does), for review."""
    find_deal(db, caller.workspace_id, campaign_id, deal_id)
    return submissions.submit(
        db, caller.workspace_id, deal_id, body, actor=actor(caller), actor_kind="user"
    )


@router.post("/submissions/{submission_id}/review", responses=WRITE_ERRORS)
def review(
    db: DbSession,
    caller: ApiWriter,
    campaign_id: Id,
    submission_id: Id,
    body: submissions.Review,
) -> submissions.SubmissionPublic:
    """Approve (`approved`) or ask for changes (`changes_requested`), once (409 after).
    Approving a live post moves the deal to content_live and links the imported post with
    that URL to a deliverable of the deal."""
    return submissions.review(
        db, caller.workspace_id, campaign_id, submission_id, body, reviewer=actor(caller)
    )
