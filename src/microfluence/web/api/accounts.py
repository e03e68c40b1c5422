"""/api/v1/accounts, with each account's snapshots and posts."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query, Response

from microfluence.catalog import accounts, posts, snapshots
from microfluence.catalog.listing import Window
from microfluence.catalog.schemas import (
    AccountCreate,
    AccountPublic,
    AccountUpdate,
    Page,
    PostPublic,
    SnapshotCreate,
    SnapshotPublic,
)
from microfluence.web.api.common import (
    ITEM_ERRORS,
    READ_ERRORS,
    WRITE_ERRORS,
    AudienceFilters,
    _window,
)
from microfluence.web.deps import ApiReader, ApiWriter, DbSession

router = APIRouter(prefix="/accounts", tags=["accounts"])
AccountId = Annotated[int, Path(ge=1, le=2**31 - 1)]
Sort = Annotated[
    str,
    Query(
        max_length=20,
        description="One of " + ", ".join(accounts.SORT_KEYS) + "; '-' in front: descending.",
    ),
]


@router.get("", responses=READ_ERRORS)
def list_accounts(
    db: DbSession,
    caller: ApiReader,
    window: Annotated[Window, Depends(_window)],
    audience: AudienceFilters,
    creator_id: Annotated[int | None, Query(ge=1, le=2**31 - 1)] = None,
    sort: Sort = "handle",
) -> Page[AccountPublic]:
    """Accounts of the workspace with their latest numbers, filtered, sorted and paginated."""
    filters = accounts.AccountFilters(**audience, creator_id=creator_id)
    return accounts.list_accounts(db, caller.workspace_id, filters, sort=sort, window=window)


@router.get("/{account_id}", responses=ITEM_ERRORS)
def get_account(db: DbSession, caller: ApiReader, account_id: AccountId) -> AccountPublic:
    return accounts.get_account(db, caller.workspace_id, account_id)


@router.post("", status_code=201, responses=WRITE_ERRORS)
def create_account(db: DbSession, caller: ApiWriter, body: AccountCreate) -> AccountPublic:
    """Add an account; without `creator_id`, a new creator is made for it."""
    return accounts.create_account(db, caller.workspace_id, body)


@router.patch("/{account_id}", responses=WRITE_ERRORS)
def update_account(
    db: DbSession, caller: ApiWriter, account_id: AccountId, body: AccountUpdate
) -> AccountPublic:
    """Change the fields sent; send `null` to clear one."""
    return accounts.update_account(db, caller.workspace_id, account_id, body)


@router.delete("/{account_id}", status_code=204, responses=WRITE_ERRORS)
def delete_account(db: DbSession, caller: ApiWriter, account_id: AccountId) -> Response:
    """Delete the account with its snapshots and posts."""
    accounts.delete_account(db, caller.workspace_id, account_id)
    return Response(status_code=204)


@router.get("/{account_id}/snapshots", responses=ITEM_ERRORS)
def list_snapshots(
    db: DbSession,
    caller: ApiReader,
    account_id: AccountId,
    window: Annotated[Window, Depends(_window)],
) -> Page[SnapshotPublic]:
    """The account's snapshots, oldest first."""
    return snapshots.list_snapshots(db, caller.workspace_id, account_id, window=window)


@router.post("/{account_id}/snapshots", status_code=201, responses=WRITE_ERRORS)
def create_snapshot(
    db: DbSession, caller: ApiWriter, account_id: AccountId, body: SnapshotCreate
) -> SnapshotPublic:
    """Record the account's numbers at one moment."""
    return snapshots.create_snapshot(db, caller.workspace_id, account_id, body)


@router.get("/{account_id}/posts", responses=ITEM_ERRORS)
def list_account_posts(
    db: DbSession,
    caller: ApiReader,
    account_id: AccountId,
    window: Annotated[Window, Depends(_window)],
    sort: Annotated[str, Query(max_length=20)] = "-posted_at",
) -> Page[PostPublic]:
    """The account's posts, newest first by default."""
    accounts.find_account(db, caller.workspace_id, account_id)
    filters = posts.PostFilters(account_id=account_id)
    return posts.list_posts(db, caller.workspace_id, filters, sort=sort, window=window)
