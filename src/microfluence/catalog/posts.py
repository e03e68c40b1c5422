"""Posts: list (per account, filters, sorting, pagination) and read."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from microfluence.catalog.listing import Text, Window, order_by
from microfluence.catalog.schemas import Page, PostPublic
from microfluence.catalog.validation import naive_utc
from microfluence.kernel.errors import InputError, NotFoundError
from microfluence.kernel.store.tables import Account, Post

SORT_KEYS = ("posted_at", "likes", "comments", "views", "id")


@dataclass(frozen=True)
class PostFilters:
    account_id: int | None = None
    creator_id: int | None = None
    platform: str | None = None
    post_type: str | None = None
    is_sponsored: bool | None = None
    posted_after: dt.datetime | None = None  # inclusive, UTC
    posted_before: dt.datetime | None = None  # exclusive, UTC
    q: str | None = None  # text in the caption

    def __post_init__(self) -> None:
        if self.posted_after and self.posted_before and self.posted_after >= self.posted_before:
            raise InputError("posted_after must come before posted_before", field="posted_after")


def list_posts(
    session: Session,
    workspace_id: int,
    filters: PostFilters | None = None,
    *,
    sort: str = "-posted_at",
    window: Window | None = None,
) -> Page[PostPublic]:
    filters = filters or PostFilters()
    window = window or Window()
    where: list[Any] = [Post.workspace_id == workspace_id]
    if filters.account_id is not None:
        where.append(Post.account_id == filters.account_id)
    if filters.creator_id is not None or filters.platform:
        owners = select(Account.id).where(Account.workspace_id == workspace_id)
        if filters.creator_id is not None:
            owners = owners.where(Account.creator_id == filters.creator_id)
        if filters.platform:
            owners = owners.where(Account.platform == filters.platform.lower())
        where.append(Post.account_id.in_(owners))
    if filters.post_type:
        where.append(Post.post_type == filters.post_type)
    if filters.is_sponsored is not None:
        where.append(Post.is_sponsored.is_(filters.is_sponsored))
    if filters.posted_after is not None:
        where.append(Post.posted_at >= naive_utc(filters.posted_after, field="posted_after"))
    if filters.posted_before is not None:
        where.append(Post.posted_at < naive_utc(filters.posted_before, field="posted_before"))
    if filters.q and filters.q.strip():
        where.append(Text(session).contains(filters.q, Post.caption))
    columns = {key: getattr(Post, key) for key in SORT_KEYS}
    count = session.scalar(select(func.count()).select_from(Post).where(*where)) or 0
    rows = session.scalars(
        select(Post)
        .where(*where)
        .order_by(*order_by(sort, columns, Post.id))
        .limit(window.limit)
        .offset(window.offset)
    )
    data = [PostPublic.model_validate(r, from_attributes=True) for r in rows]
    return Page(data=data, count=count)


def get_post(session: Session, workspace_id: int, post_id: int) -> PostPublic:
    post = session.scalar(select(Post).where(Post.id == post_id, Post.workspace_id == workspace_id))
    if post is None:
        raise NotFoundError(f"no post with id {post_id}")
    return PostPublic.model_validate(post, from_attributes=True)
