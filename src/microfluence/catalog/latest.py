"""The latest snapshot of each account: the numbers lists show, filter and sort by.

Every account row carries a copy of its newest snapshot (``accounts.followers``, ``following``,
``posts_count``, ``snapshot_at``; migration 0006), so a list filters and sorts by plain indexed
columns instead of finding each account's newest snapshot on every request.

* ``refresh_latest(conn, ids)``: recompute that copy for some accounts, set-based — one UPDATE
  per chunk of ids, each account one seek in the ``(account_id, captured_at)`` unique index.
  Every write of snapshots calls it: the end of each import run (``ingest.write.writer.import_run``,
  over the accounts the run wrote snapshots of) and the API's snapshot creation. Recomputing
  from the table (not copying the written row) keeps it right whatever was written: a snapshot
  older than the newest one changes nothing, and an account left without snapshots gets NULLs.
* ``creator_followers(creator_id)``: the sum of a creator's accounts' latest followers (a
  covering seek in ``(creator_id, followers)``).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import sqlalchemy as sa
from sqlalchemy import ColumnElement, Connection, func, select
from sqlalchemy.orm import aliased

from microfluence.kernel.store.tables import Account

LATEST_COLUMNS = ("followers", "following", "posts_count", "snapshot_at")
_CHUNK = 5000

# Row values (SQLite >= 3.15, PostgreSQL): the four numbers of the newest snapshot in one seek;
# an account without any snapshot gets NULLs.
_REFRESH = sa.text(
    """
    UPDATE accounts SET (followers, following, posts_count, snapshot_at) = (
        SELECT s.followers, s.following, s.posts_count, s.captured_at
        FROM account_snapshots AS s
        WHERE s.account_id = accounts.id
        ORDER BY s.captured_at DESC
        LIMIT 1
    )
    WHERE accounts.id IN :ids
    """
).bindparams(sa.bindparam("ids", expanding=True))

# Aliases made once: making them per query costs more than running the query.
_OWNED = aliased(Account, name="owned_account")


def refresh_latest(conn: Connection, account_ids: Iterable[int]) -> int:
    """Copy each given account's newest snapshot onto its row; returns how many were given."""
    ids = sorted({int(i) for i in account_ids})
    for start in range(0, len(ids), _CHUNK):
        conn.execute(_REFRESH, {"ids": ids[start : start + _CHUNK]})
    return len(ids)


def creator_followers(creator_id: Any) -> ColumnElement[Any]:
    owned = _OWNED
    return select(func.sum(owned.followers)).where(owned.creator_id == creator_id).scalar_subquery()
