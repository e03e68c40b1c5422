"""The latest snapshot of each account: the numbers lists show, filter and sort by.

Two forms, for two situations:

* ``latest_snapshots(workspace_id)``: a grouped ``max(captured_at)`` per account joined back to
  its row, for filtering or sorting a whole list by followers. Both SQLite and PostgreSQL answer
  the grouped max from the covering index ``(account_id, captured_at, followers)``.
* ``latest_for_accounts(session, ids)``: the same for the few accounts of one page, by index
  seeks, when the list is neither filtered nor sorted by followers.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy import Subquery, and_, func, select
from sqlalchemy.orm import Session, aliased

from microfluence.kernel.store.tables import Account, AccountSnapshot


def latest_snapshots(workspace_id: int) -> Subquery:
    newest = (
        select(
            AccountSnapshot.account_id,
            func.max(AccountSnapshot.captured_at).label("captured_at"),
        )
        .where(AccountSnapshot.workspace_id == workspace_id)
        .group_by(AccountSnapshot.account_id)
        .subquery("newest")
    )
    snap = aliased(AccountSnapshot)
    return (
        select(
            snap.account_id,
            snap.followers,
            snap.following,
            snap.posts_count,
            snap.captured_at,
        )
        .join(
            newest,
            and_(snap.account_id == newest.c.account_id, snap.captured_at == newest.c.captured_at),
        )
        .subquery("latest")
    )


def creator_followers(workspace_id: int) -> Subquery:
    """Per creator: the sum of their accounts' latest follower counts."""
    latest = latest_snapshots(workspace_id)
    return (
        select(Account.creator_id, func.sum(latest.c.followers).label("followers"))
        .join(latest, latest.c.account_id == Account.id)
        .where(Account.workspace_id == workspace_id)
        .group_by(Account.creator_id)
        .subquery("creator_followers")
    )


def latest_for_accounts(session: Session, account_ids: Iterable[int]) -> dict[int, dict[str, Any]]:
    ids = list(account_ids)
    if not ids:
        return {}
    newer = aliased(AccountSnapshot)
    newest = (
        select(func.max(newer.captured_at))
        .where(newer.account_id == AccountSnapshot.account_id)
        .scalar_subquery()
    )
    rows = session.execute(
        select(
            AccountSnapshot.account_id,
            AccountSnapshot.followers,
            AccountSnapshot.following,
            AccountSnapshot.posts_count,
            AccountSnapshot.captured_at,
        ).where(AccountSnapshot.account_id.in_(ids), AccountSnapshot.captured_at == newest)
    )
    return {row.account_id: row._asdict() for row in rows}
