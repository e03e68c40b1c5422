"""Accounts: list (filters, sorting, pagination), read, create, change, delete."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from sqlalchemy import String, cast, delete, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from microfluence.catalog.creators import find_creator
from microfluence.catalog.listing import Text, Window, order_by, page_of
from microfluence.catalog.schemas import AccountCreate, AccountPublic, AccountUpdate, Page
from microfluence.catalog.validation import parse_account_reference
from microfluence.kernel.errors import ConflictError, InputError, NotFoundError
from microfluence.kernel.store.tables import Account, Creator, utcnow

SORT_KEYS = ("handle", "platform", "country", "followers", "created_at", "updated_at", "id")


@dataclass(frozen=True)
class AccountFilters:
    """Filters of the accounts list; each one given narrows it (they combine with AND)."""

    platform: str | None = None
    country: str | None = None  # any case
    category: str | None = None  # any case
    q: str | None = None  # text in the handle, display name or bio
    creator_id: int | None = None
    min_followers: int | None = None  # from the latest snapshot
    max_followers: int | None = None

    def __post_init__(self) -> None:
        low, high = self.min_followers, self.max_followers
        if low is not None and high is not None and low > high:
            raise InputError("min_followers is larger than max_followers", field="min_followers")


def _where(session: Session, workspace_id: int, filters: AccountFilters) -> list[Any]:
    text = Text(session)
    where: list[Any] = [Account.workspace_id == workspace_id]
    if filters.platform:
        where.append(Account.platform == filters.platform.strip().lower())
    if filters.country and filters.country.strip():
        where.append(text.equals(Account.country, filters.country))
    if filters.category and filters.category.strip():
        where.append(text.equals(Account.category, filters.category))
    if filters.creator_id is not None:
        where.append(Account.creator_id == filters.creator_id)
    if filters.q and filters.q.strip():
        where.append(text.contains(filters.q, Account.handle, Account.display_name, Account.bio))
    if filters.min_followers is not None:
        where.append(Account.followers >= filters.min_followers)
    if filters.max_followers is not None:
        where.append(Account.followers <= filters.max_followers)
    return where


def list_accounts(
    session: Session,
    workspace_id: int,
    filters: AccountFilters | None = None,
    *,
    sort: str = "handle",
    window: Window | None = None,
) -> Page[AccountPublic]:
    filters = filters or AccountFilters()
    window = window or Window()
    where = _where(session, workspace_id, filters)
    # The latest numbers are columns of the account row (migration 0006): no snapshot lookups.
    columns: dict[str, Any] = {k: getattr(Account, k) for k in SORT_KEYS}
    ordering = order_by(sort, columns, Account.id, allowed=SORT_KEYS)
    # Every filter but the text search is an index range here, so a separate count is cheap and
    # lets the page stop after ``limit`` rows; the text search must read every row (see page_of).
    costly = bool(filters.q and filters.q.strip())
    ids, count = page_of(session, select(Account.id).where(*where), ordering, window, costly=costly)
    return Page(data=_public_many(session, ids), count=count)


def _public_many(session: Session, ids: list[int]) -> list[AccountPublic]:
    if not ids:
        return []
    accounts = {a.id: a for a in session.scalars(select(Account).where(Account.id.in_(ids)))}
    return [_public(accounts[i]) for i in ids if i in accounts]


def _public(account: Account) -> AccountPublic:
    return AccountPublic(
        id=account.id,
        creator_id=account.creator_id,
        platform=account.platform,
        handle=account.handle,
        external_id=account.external_id,
        previous_handles=account.previous_handles or [],
        url=account.url,
        display_name=account.display_name,
        bio=account.bio,
        country=account.country,
        language=account.language,
        category=account.category,
        email=account.email,
        is_verified=account.is_verified,
        is_business=account.is_business,
        is_private=account.is_private,
        followers=account.followers,
        following=account.following,
        posts_count=account.posts_count,
        captured_at=account.snapshot_at,
        reported_engagement_rate=account.reported_engagement_rate,
        source=account.source,
        imported_at=account.imported_at,
        created_at=account.created_at,
        updated_at=account.updated_at,
    )


def find_account(session: Session, workspace_id: int, account_id: int) -> Account:
    """The account with this id in this workspace; NotFoundError otherwise, also when it
    belongs to another workspace."""
    account = session.scalar(
        select(Account).where(Account.id == account_id, Account.workspace_id == workspace_id)
    )
    if account is None:
        raise NotFoundError(f"no account with id {account_id}")
    return account


def find_account_by_handle(
    session: Session, workspace_id: int, platform: str, handle: str
) -> Account:
    """The account ``platform:handle`` in this workspace — or, when no account has that handle
    now, the one that had it before it renamed itself (``previous_handles``; the most recently
    updated when several did); NotFoundError otherwise."""
    account = session.scalar(
        select(Account).where(
            Account.workspace_id == workspace_id,
            Account.platform == platform,
            Account.handle == handle,
        )
    ) or _renamed_from(session, workspace_id, platform, handle)
    if account is None:
        raise NotFoundError(f"no account {platform}:{handle} in this workspace")
    return account


def _like(text: str) -> str:
    return "%" + text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


def _renamed_from(
    session: Session, workspace_id: int, platform: str, handle: str
) -> Account | None:
    """The account that had ``handle`` before a rename. The JSON list is matched as text — the
    same on SQLite and PostgreSQL, with non-ASCII letters written as they are or escaped — then
    checked exactly; only when no account has the handle now, so no hot path pays for it."""
    as_json = {json.dumps(handle, ensure_ascii=False), json.dumps(handle)}
    text = cast(Account.previous_handles, String)
    candidates = session.scalars(
        select(Account)
        .where(
            Account.workspace_id == workspace_id,
            Account.platform == platform,
            Account.previous_handles.is_not(None),
            or_(*(text.like(_like(j), escape="\\") for j in sorted(as_json))),
        )
        .order_by(Account.updated_at.desc(), Account.id.desc())
    )
    return next((a for a in candidates if handle in (a.previous_handles or [])), None)


def find_account_by_reference(session: Session, workspace_id: int, reference: str) -> Account:
    """The account a ``PLATFORM:HANDLE`` reference names, parsed by the one rule of every face
    (:func:`catalog.validation.parse_account_reference`)."""
    return find_account_by_handle(session, workspace_id, *parse_account_reference(reference))


def get_account(session: Session, workspace_id: int, account_id: int) -> AccountPublic:
    find_account(session, workspace_id, account_id)
    return _public_many(session, [account_id])[0]


def _check_unique(session: Session, workspace_id: int, platform: str, handle: str) -> None:
    clash = session.scalar(
        select(Account.id).where(
            Account.workspace_id == workspace_id,
            Account.platform == platform,
            Account.handle == handle,
        )
    )
    if clash is not None:
        raise ConflictError(f"the {platform} account @{handle} already exists (id {clash})")


def create_account(
    session: Session, workspace_id: int, data: AccountCreate, *, source: str = "api"
) -> AccountPublic:
    fields = data.model_dump(exclude={"creator_id"})
    _check_unique(session, workspace_id, data.platform, data.handle)
    now = utcnow()
    if data.creator_id is None:
        creator = Creator(
            workspace_id=workspace_id,
            name=data.display_name or data.handle,
            country=data.country,
            language=data.language,
            category=data.category,
            source=source,
            created_at=now,
            updated_at=now,
        )
        session.add(creator)
        session.flush()
    else:
        # A creator of another workspace is "not found", like any id that is not ours.
        creator = find_creator(session, workspace_id, data.creator_id)
    account = Account(
        workspace_id=workspace_id,
        creator_id=creator.id,
        **fields,
        source=source,
        created_at=now,
        updated_at=now,
    )
    session.add(account)
    try:
        session.flush()
    except IntegrityError as exc:  # a concurrent create of the same handle won
        raise ConflictError(f"the {data.platform} account @{data.handle} already exists") from exc
    return _public(account)


def update_account(
    session: Session, workspace_id: int, account_id: int, data: AccountUpdate
) -> AccountPublic:
    account = find_account(session, workspace_id, account_id)
    changes = data.model_dump(exclude_unset=True)
    if "creator_id" in changes:
        if changes["creator_id"] is None:
            raise InputError("an account always belongs to a creator", field="creator_id")
        find_creator(session, workspace_id, changes["creator_id"])
    for name, value in changes.items():
        setattr(account, name, value)
    account.updated_at = utcnow()
    session.flush()
    return get_account(session, workspace_id, account_id)


def delete_account(session: Session, workspace_id: int, account_id: int) -> None:
    """Delete an account with its snapshots and posts (the store cascades)."""
    find_account(session, workspace_id, account_id)
    session.execute(
        delete(Account).where(Account.id == account_id, Account.workspace_id == workspace_id)
    )
