"""The links pages: a workspace's short links with their counts (``/links``, by creator or
campaign), a creator's links on their profile, and the forms that create and disable them."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Path, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse
from sqlalchemy import select
from sqlalchemy.orm import Session

from microfluence.campaigns.tables import Campaign
from microfluence.catalog.creators import get_creator
from microfluence.catalog.schemas import ID_MAX
from microfluence.kernel.errors import InputError
from microfluence.tracking import links
from microfluence.web.api.workspace import base_url
from microfluence.web.deps import CsrfChecked, DbSession, PageReader, PageWriter
from microfluence.web.pages.rendering import render

router = APIRouter(tags=["pages"], include_in_schema=False)
Id = Annotated[int, Path(ge=1, le=ID_MAX)]
MaybeId = Annotated[int | None, Query(ge=1, le=ID_MAX)]


def campaigns_of(session: Session, workspace_id: int) -> list[tuple[int, str]]:
    rows = session.execute(
        select(Campaign.id, Campaign.name)
        .where(Campaign.workspace_id == workspace_id)
        .order_by(Campaign.name)
    )
    return [(row.id, row.name) for row in rows]


def creator_links(request: Request, db: Session, workspace_id: int, creator_id: int) -> dict:
    """What the profile's links section shows: the creator's links and the campaigns to pick."""
    return {
        "links": links.list_links(db, workspace_id, creator_id=creator_id, base=base_url(request)),
        "campaigns": campaigns_of(db, workspace_id),
    }


@router.get("/links")
def links_page(
    request: Request,
    db: DbSession,
    caller: PageReader,
    creator_id: MaybeId = None,
    campaign_id: MaybeId = None,
) -> HTMLResponse:
    rows = links.list_links(
        db,
        caller.workspace_id,
        creator_id=creator_id,
        campaign_id=campaign_id,
        base=base_url(request),
    )
    return render(
        request,
        db,
        "links.html",
        title="Tracking links",
        links=rows,
        campaigns=campaigns_of(db, caller.workspace_id),
        campaign_id=campaign_id,
        creator_id=creator_id,
    )


@router.post("/creators/{creator_id}/links", dependencies=[CsrfChecked])
def create_link(
    db: DbSession,
    caller: PageWriter,
    creator_id: Id,
    account: Annotated[str, Form(max_length=200)],
    url: Annotated[str, Form(max_length=4000)],
    campaign: Annotated[str, Form(max_length=200)] = "",
) -> RedirectResponse:
    """A short link for one of the creator's accounts (the account must be theirs)."""
    creator = get_creator(db, caller.workspace_id, creator_id)
    if account not in {f"{a.platform}:{a.handle}" for a in creator.accounts}:
        raise InputError("is not an account of this creator", field="account")
    data = links.LinkCreate(creator=account, url=url, campaign=campaign.strip() or None)
    links.create_link(db, caller.workspace_id, data)
    return RedirectResponse(f"/creators/{creator_id}#links", status_code=303)


@router.post("/links/{link_id}/disable", dependencies=[CsrfChecked])
def disable_link(db: DbSession, caller: PageWriter, link_id: Id) -> RedirectResponse:
    link = links.disable_link(db, caller.workspace_id, link_id)
    back = f"/creators/{link.creator_id}#links" if link.creator_id else "/links"
    return RedirectResponse(back, status_code=303)
