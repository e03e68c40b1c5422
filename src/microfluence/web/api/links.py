"""/api/v1/links: creators' short links, their click counts, and disabling them."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from fastapi import APIRouter, Path, Query, Request
from pydantic import BaseModel

from microfluence.catalog.schemas import Page
from microfluence.tracking import links
from microfluence.web.api.common import ITEM_ERRORS, READ_ERRORS, WRITE_ERRORS
from microfluence.web.api.workspace import base_url
from microfluence.web.deps import ApiReader, ApiWriter, DbSession

router = APIRouter(prefix="/links", tags=["links"])
LinkId = Annotated[int, Path(ge=1, le=2**31 - 1)]
Id = Annotated[int | None, Query(ge=1, le=2**31 - 1)]


class DayCounts(BaseModel):
    day: dt.date
    clicks: int
    unique_clicks: int
    bot_clicks: int


@router.get("", responses=READ_ERRORS)
def list_links(
    request: Request,
    db: DbSession,
    caller: ApiReader,
    creator_id: Id = None,
    campaign_id: Id = None,
    include_disabled: bool = True,
) -> Page[links.LinkPublic]:
    """The workspace's links, newest first, with clicks (people), unique and bot clicks."""
    rows = links.list_links(
        db,
        caller.workspace_id,
        creator_id=creator_id,
        campaign_id=campaign_id,
        include_disabled=include_disabled,
        base=base_url(request),
    )
    return Page(data=rows, count=len(rows))


@router.post("", status_code=201, responses=WRITE_ERRORS)
def create_link(
    request: Request, db: DbSession, caller: ApiWriter, body: links.LinkCreate
) -> links.LinkPublic:
    """A creator's short link to a UTM-tagged destination (docs/tracking.md)."""
    return links.create_link(db, caller.workspace_id, body, base=base_url(request))


@router.get("/{link_id}", responses=ITEM_ERRORS)
def get_link(
    request: Request, db: DbSession, caller: ApiReader, link_id: LinkId
) -> links.LinkPublic:
    return links.get_link(db, caller.workspace_id, link_id, base=base_url(request))


@router.get("/{link_id}/days", responses=ITEM_ERRORS)
def link_days(db: DbSession, caller: ApiReader, link_id: LinkId) -> list[DayCounts]:
    """The link's counts per UTC day (days without clicks left out)."""
    frame = links.daily_counts(db, caller.workspace_id, link_id)
    return [DayCounts(**row) for row in frame.drop("link_id").to_dicts()]


@router.post("/{link_id}/disable", responses=WRITE_ERRORS)
def disable_link(
    request: Request, db: DbSession, caller: ApiWriter, link_id: LinkId
) -> links.LinkPublic:
    """Stop the link redirecting: /r/SLUG answers 404; its clicks are kept."""
    return links.disable_link(db, caller.workspace_id, link_id, base=base_url(request))
