"""/api/v1/posts"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query

from microfluence.catalog import posts
from microfluence.catalog.listing import Window
from microfluence.catalog.schemas import Page, PostPublic, StoredDateTime
from microfluence.web.api.common import ITEM_ERRORS, READ_ERRORS, PlatformQ, _window
from microfluence.web.deps import ApiReader, DbSession

router = APIRouter(prefix="/posts", tags=["posts"])
Id = Annotated[int | None, Query(ge=1, le=2**31 - 1)]


@router.get("", responses=READ_ERRORS)
def list_posts(
    db: DbSession,
    caller: ApiReader,
    window: Annotated[Window, Depends(_window)],
    account_id: Id = None,
    creator_id: Id = None,
    platform: PlatformQ = None,
    post_type: Annotated[str | None, Query(max_length=20)] = None,
    is_sponsored: bool | None = None,
    posted_after: Annotated[StoredDateTime | None, Query(description="Inclusive, UTC.")] = None,
    posted_before: Annotated[StoredDateTime | None, Query(description="Exclusive, UTC.")] = None,
    q: Annotated[str | None, Query(max_length=200, description="Text in the caption.")] = None,
    sort: Annotated[
        str,
        Query(max_length=20, description="One of " + ", ".join(posts.SORT_KEYS) + "; '-': desc."),
    ] = "-posted_at",
) -> Page[PostPublic]:
    """Posts of the workspace, newest first by default."""
    filters = posts.PostFilters(
        account_id=account_id,
        creator_id=creator_id,
        platform=platform,
        post_type=post_type,
        is_sponsored=is_sponsored,
        posted_after=posted_after,
        posted_before=posted_before,
        q=q,
    )
    return posts.list_posts(db, caller.workspace_id, filters, sort=sort, window=window)


@router.get("/{post_id}", responses=ITEM_ERRORS)
def get_post(
    db: DbSession, caller: ApiReader, post_id: Annotated[int, Path(ge=1, le=2**62)]
) -> PostPublic:
    return posts.get_post(db, caller.workspace_id, post_id)
