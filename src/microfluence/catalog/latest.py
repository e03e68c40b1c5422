"""The latest snapshot of each account: the numbers lists show, filter and sort by.

* ``latest_followers(account_id)``: a correlated scalar subquery, "the followers of this
  account's newest snapshot". With the index ``(account_id, captured_at, followers)`` of
  migration 0002 each evaluation is one index seek that never reads the table, on SQLite and
  PostgreSQL alike; a list only evaluates it for the rows it filters or sorts by it (measured in
  bench/api_load.py: about twice as fast as a grouped ``max(captured_at)`` per account joined
  back to its row, which must visit every snapshot).
* ``creator_followers(creator_id)``: the sum of that over a creator's accounts.
* ``latest_for_accounts(session, ids)``: all the latest numbers for the few accounts of a page.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy import ColumnElement, func, select
from sqlalchemy.orm import Session, aliased

from microfluence.kernel.store.tables import Account, AccountSnapshot

# Aliases made once: making them per query costs more than running the query.
_SNAP = aliased(AccountSnapshot, name="latest_snap")
_OWNED = aliased(Account, name="owned_account")
_NEWER = aliased(AccountSnapshot, name="newer_snap")


def latest_followers(account_id: Any) -> ColumnElement[Any]:
    snap = _SNAP
    return (
        select(snap.followers)
        .where(snap.account_id == account_id)
        .order_by(snap.captured_at.desc())
        .limit(1)
        .scalar_subquery()
    )


def creator_followers(creator_id: Any) -> ColumnElement[Any]:
    owned = _OWNED
    return (
        select(func.sum(latest_followers(owned.id)))
        .where(owned.creator_id == creator_id)
        .scalar_subquery()
    )


def latest_for_accounts(session: Session, account_ids: Iterable[int]) -> dict[int, dict[str, Any]]:
    ids = list(account_ids)
    if not ids:
        return {}
    newer = _NEWER
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
