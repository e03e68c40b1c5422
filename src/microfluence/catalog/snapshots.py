"""Snapshots: an account's numbers over time. Writing one refreshes the copy of the newest
snapshot on its account row (catalog.latest)."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from microfluence.catalog.accounts import find_account
from microfluence.catalog.latest import refresh_latest
from microfluence.catalog.listing import Window
from microfluence.catalog.schemas import Page, SnapshotCreate, SnapshotPublic
from microfluence.kernel.errors import ConflictError
from microfluence.kernel.store.tables import AccountSnapshot, utcnow


def _public(row: AccountSnapshot) -> SnapshotPublic:
    return SnapshotPublic(
        id=row.id,
        account_id=row.account_id,
        captured_at=row.captured_at,
        followers=row.followers,
        following=row.following,
        posts_count=row.posts_count,
        source=row.source,
    )


def list_snapshots(
    session: Session, workspace_id: int, account_id: int, *, window: Window | None = None
) -> Page[SnapshotPublic]:
    """An account's snapshots, oldest first (the order a follower chart reads them in)."""
    window = window or Window(limit=500)
    find_account(session, workspace_id, account_id)
    where = (AccountSnapshot.account_id == account_id,)
    count = session.scalar(select(func.count()).select_from(AccountSnapshot).where(*where)) or 0
    rows = session.scalars(
        select(AccountSnapshot)
        .where(*where)
        .order_by(AccountSnapshot.captured_at)
        .limit(window.limit)
        .offset(window.offset)
    )
    return Page(data=[_public(r) for r in rows], count=count)


def create_snapshot(
    session: Session, workspace_id: int, account_id: int, data: SnapshotCreate, *, source="api"
) -> SnapshotPublic:
    account = find_account(session, workspace_id, account_id)
    clash = session.scalar(
        select(AccountSnapshot.id).where(
            AccountSnapshot.account_id == account_id,
            AccountSnapshot.captured_at == data.captured_at,
        )
    )
    if clash is not None:
        raise ConflictError(f"this account already has a snapshot taken at {data.captured_at}")
    row = AccountSnapshot(
        workspace_id=workspace_id,
        account_id=account_id,
        **data.model_dump(),
        source=source,
        imported_at=utcnow(),
    )
    session.add(row)
    try:
        session.flush()
    except IntegrityError as exc:
        raise ConflictError("this account already has a snapshot taken at that time") from exc
    refresh_latest(session.connection(), [account_id])  # the account row's latest numbers
    session.expire(account)  # written behind the ORM's back: reload it when next read
    return _public(row)
