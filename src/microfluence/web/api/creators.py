"""/api/v1/creators"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query, Response

from microfluence.catalog import creators
from microfluence.catalog.listing import Window
from microfluence.catalog.schemas import CreatorCreate, CreatorPublic, CreatorUpdate, Page
from microfluence.relationships.audit import actor_of
from microfluence.relationships.records import update_creator_logged
from microfluence.web.api.common import (
    ITEM_ERRORS,
    READ_ERRORS,
    WRITE_ERRORS,
    AudienceFilters,
    _window,
)
from microfluence.web.deps import ApiReader, ApiWriter, DbSession

router = APIRouter(prefix="/creators", tags=["creators"])
CreatorId = Annotated[int, Path(ge=1, le=2**31 - 1)]
Sort = Annotated[
    str,
    Query(
        max_length=20,
        description="One of " + ", ".join(creators.SORT_KEYS) + "; '-' in front: descending.",
    ),
]


@router.get("", responses=READ_ERRORS)
def list_creators(
    db: DbSession,
    caller: ApiReader,
    window: Annotated[Window, Depends(_window)],
    audience: AudienceFilters,
    sort: Sort = "name",
) -> Page[CreatorPublic]:
    """Creators of the workspace, filtered, sorted and paginated; `count` counts all matches.

    `followers` is the sum of the latest follower counts of a creator's accounts."""
    filters = creators.CreatorFilters(**audience)
    return creators.list_creators(db, caller.workspace_id, filters, sort=sort, window=window)


@router.get("/{creator_id}", responses=ITEM_ERRORS)
def get_creator(db: DbSession, caller: ApiReader, creator_id: CreatorId) -> CreatorPublic:
    return creators.get_creator(db, caller.workspace_id, creator_id)


@router.post("", status_code=201, responses=WRITE_ERRORS)
def create_creator(db: DbSession, caller: ApiWriter, body: CreatorCreate) -> CreatorPublic:
    return creators.create_creator(db, caller.workspace_id, body)


@router.patch("/{creator_id}", responses=WRITE_ERRORS)
def update_creator(
    db: DbSession, caller: ApiWriter, creator_id: CreatorId, body: CreatorUpdate
) -> CreatorPublic:
    """Change the fields sent; send `null` to clear one. A change of the name, e-mail or notes
    is logged in the contact audit log (field names only)."""
    actor = actor_of(db, caller, "api")
    return update_creator_logged(db, caller.workspace_id, creator_id, body, actor)


@router.delete("/{creator_id}", status_code=204, responses=WRITE_ERRORS)
def delete_creator(db: DbSession, caller: ApiWriter, creator_id: CreatorId) -> Response:
    """Delete the creator, with their accounts, snapshots and posts."""
    creators.delete_creator(db, caller.workspace_id, creator_id)
    return Response(status_code=204)
