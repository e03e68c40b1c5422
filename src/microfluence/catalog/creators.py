"""Creators: list (filters, sorting, pagination), read, create, change, delete."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from microfluence.catalog.latest import creator_followers
from microfluence.catalog.listing import Text, Window, order_by, page_of
from microfluence.catalog.schemas import (
    AccountSummary,
    CreatorCreate,
    CreatorPublic,
    CreatorUpdate,
    Page,
)
from microfluence.kernel.errors import InputError, NotFoundError
from microfluence.kernel.store.tables import Account, Creator, utcnow
from microfluence.metrics.tables import AccountTier

SORT_KEYS = ("name", "country", "category", "followers", "created_at", "updated_at", "id")


@dataclass(frozen=True)
class CreatorFilters:
    """Filters of the creators list; each one given narrows it (they combine with AND)."""

    platform: str | None = None  # has an account on this platform
    country: str | None = None  # the creator's or one of their accounts' (any case)
    category: str | None = None  # likewise
    q: str | None = None  # text in the name, or in an account's handle, name or bio
    min_followers: int | None = None  # sum of the accounts' latest follower counts
    max_followers: int | None = None
    tier: str | None = None  # has an account in this tier under ``tier_scheme`` (as scored)
    tier_scheme: str | None = None

    def __post_init__(self) -> None:
        low, high = self.min_followers, self.max_followers
        if low is not None and high is not None and low > high:
            raise InputError("min_followers is larger than max_followers", field="min_followers")
        if self.tier and not self.tier_scheme:
            raise InputError("a tier filter needs the tier scheme it belongs to", field="tier")


def _where(session: Session, workspace_id: int, filters: CreatorFilters) -> list[Any]:
    text = Text(session)
    where: list[Any] = [Creator.workspace_id == workspace_id]

    def with_accounts(*conditions: Any) -> Any:
        # A non-correlated IN: the accounts are scanned once, not once per creator.
        return Creator.id.in_(
            select(Account.creator_id).where(Account.workspace_id == workspace_id, *conditions)
        )

    if filters.platform:
        where.append(with_accounts(Account.platform == filters.platform.strip().lower()))
    for name in ("country", "category"):
        value = getattr(filters, name)
        if value and value.strip():
            where.append(
                text.equals(getattr(Creator, name), value)
                | with_accounts(text.equals(getattr(Account, name), value))
            )
    if filters.tier:
        # Tiers as last stored by `microfluence score` (metrics.tables), not recomputed here.
        in_tier = select(AccountTier.account_id).where(
            AccountTier.workspace_id == workspace_id,
            AccountTier.scheme == filters.tier_scheme,
            AccountTier.tier == filters.tier,
        )
        where.append(with_accounts(Account.id.in_(in_tier)))
    if filters.q and filters.q.strip():
        in_accounts = text.contains(filters.q, Account.handle, Account.display_name, Account.bio)
        where.append(text.contains(filters.q, Creator.name) | with_accounts(in_accounts))
    return where


def list_creators(
    session: Session,
    workspace_id: int,
    filters: CreatorFilters | None = None,
    *,
    sort: str = "name",
    window: Window | None = None,
) -> Page[CreatorPublic]:
    filters = filters or CreatorFilters()
    window = window or Window()
    where = _where(session, workspace_id, filters)
    filtered = len(where) > 1
    by_followers = sort.lstrip("-") == "followers"
    columns: dict[str, Any] = {k: getattr(Creator, k) for k in SORT_KEYS if k != "followers"}
    if by_followers or filters.min_followers is not None or filters.max_followers is not None:
        followers = creator_followers(Creator.id)
        columns["followers"] = followers
        if filters.min_followers is not None:
            where.append(followers >= filters.min_followers)
        if filters.max_followers is not None:
            where.append(followers <= filters.max_followers)
    ordering = order_by(sort, columns, Creator.id, allowed=SORT_KEYS)
    # Filters through the accounts run once, with the total on the page's rows; a follower
    # filter or sort alone is cheaper with a separate count (the page stops after ``limit``).
    costly = filtered
    query = select(Creator.id).where(*where)
    ids, count = page_of(session, query, ordering, window, costly=costly)
    return Page(data=_public_many(session, ids), count=count)


def _public_many(session: Session, ids: list[int]) -> list[CreatorPublic]:
    if not ids:
        return []
    creators = {c.id: c for c in session.scalars(select(Creator).where(Creator.id.in_(ids)))}
    accounts = session.execute(
        select(Account.id, Account.creator_id, Account.platform, Account.handle, Account.followers)
        .where(Account.creator_id.in_(ids))
        .order_by(Account.platform, Account.handle)
    ).all()
    per_creator: dict[int, list[AccountSummary]] = defaultdict(list)
    for a in accounts:
        per_creator[a.creator_id].append(
            AccountSummary(id=a.id, platform=a.platform, handle=a.handle, followers=a.followers)
        )
    return [_public(creators[i], per_creator.get(i, [])) for i in ids if i in creators]


def _public(creator: Creator, accounts: list[AccountSummary]) -> CreatorPublic:
    known = [a.followers for a in accounts if a.followers is not None]
    return CreatorPublic(
        id=creator.id,
        name=creator.name,
        country=creator.country,
        language=creator.language,
        category=creator.category,
        email=creator.email,
        notes=creator.notes,
        followers=sum(known) if known else None,
        accounts=accounts,
        source=creator.source,
        imported_at=creator.imported_at,
        created_at=creator.created_at,
        updated_at=creator.updated_at,
    )


def find_creator(session: Session, workspace_id: int, creator_id: int) -> Creator:
    """The creator with this id in this workspace; NotFoundError otherwise, also when it
    belongs to another workspace (so ids do not reveal other workspaces' data)."""
    creator = session.scalar(
        select(Creator).where(Creator.id == creator_id, Creator.workspace_id == workspace_id)
    )
    if creator is None:
        raise NotFoundError(f"no creator with id {creator_id}")
    return creator


def get_creator(session: Session, workspace_id: int, creator_id: int) -> CreatorPublic:
    find_creator(session, workspace_id, creator_id)
    return _public_many(session, [creator_id])[0]


def create_creator(
    session: Session, workspace_id: int, data: CreatorCreate, *, source: str = "api"
) -> CreatorPublic:
    now = utcnow()
    creator = Creator(
        workspace_id=workspace_id,
        **data.model_dump(),
        source=source,
        created_at=now,
        updated_at=now,
    )
    session.add(creator)
    session.flush()
    return _public(creator, [])


def update_creator(
    session: Session, workspace_id: int, creator_id: int, data: CreatorUpdate
) -> CreatorPublic:
    creator = find_creator(session, workspace_id, creator_id)
    for name, value in data.model_dump(exclude_unset=True).items():
        setattr(creator, name, value)
    creator.updated_at = utcnow()
    session.flush()
    return _public_many(session, [creator_id])[0]


def delete_creator(session: Session, workspace_id: int, creator_id: int) -> None:
    """Delete a creator with their accounts, snapshots and posts (the store cascades)."""
    find_creator(session, workspace_id, creator_id)
    session.execute(
        delete(Creator).where(Creator.id == creator_id, Creator.workspace_id == workspace_id)
    )


def matching_creator_ids(
    session: Session, workspace_id: int, filters: CreatorFilters, *, limit: int
) -> list[int]:
    """The ids of every creator the filters find (the whole result, not one page), by id; an
    InputError when more than ``limit`` match, so a bulk action never runs on a surprise."""
    where = _where(session, workspace_id, filters)
    if filters.min_followers is not None or filters.max_followers is not None:
        followers = creator_followers(Creator.id)
        if filters.min_followers is not None:
            where.append(followers >= filters.min_followers)
        if filters.max_followers is not None:
            where.append(followers <= filters.max_followers)
    ids = list(
        session.scalars(select(Creator.id).where(*where).order_by(Creator.id).limit(limit + 1))
    )
    if len(ids) > limit:
        raise InputError(
            f"more than {limit:,} creators match: narrow the filters first", field="filters"
        )
    return ids
