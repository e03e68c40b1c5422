"""Stored follower samples as third parties' data: which accounts have one, and deleting one.

A follower sample holds other people's profiles (names, bios, counts) who never dealt with the
workspace. An owner must be able to see what is held, take it out (``microfluence.export.privacy``)
and delete it, account by account. Deleting a sample removes its rows in one statement; the
account, its snapshots and posts stay, and a later audit of that account reports that no sample
is stored.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from microfluence.catalog.accounts import find_account
from microfluence.kernel.store.tables import Account, Follower


@dataclass(frozen=True)
class SampleSummary:
    """One account's stored follower sample."""

    account_id: int
    creator_id: int
    platform: str
    handle: str
    followers: int  # rows in the sample
    first_sampled_at: dt.datetime | None
    last_sampled_at: dt.datetime | None
    last_imported_at: dt.datetime | None


def list_samples(session: Session, workspace_id: int) -> list[SampleSummary]:
    """Every account of the workspace with a stored follower sample, by platform and handle;
    one grouped query."""
    rows = session.execute(
        select(
            Account.id,
            Account.creator_id,
            Account.platform,
            Account.handle,
            func.count(Follower.id),
            func.min(Follower.sampled_at),
            func.max(Follower.sampled_at),
            func.max(Follower.imported_at),
        )
        .join(Follower, Follower.account_id == Account.id)
        .where(Account.workspace_id == workspace_id, Follower.workspace_id == workspace_id)
        .group_by(Account.id, Account.creator_id, Account.platform, Account.handle)
        .order_by(Account.platform, Account.handle)
    )
    return [SampleSummary(*row) for row in rows]


def sample_size(session: Session, workspace_id: int, account_id: int) -> int:
    """Rows in one account's sample (NotFoundError for an account of another workspace)."""
    find_account(session, workspace_id, account_id)
    return int(
        session.scalar(
            select(func.count())
            .select_from(Follower)
            .where(Follower.workspace_id == workspace_id, Follower.account_id == account_id)
        )
        or 0
    )


def delete_sample(session: Session, workspace_id: int, account_id: int) -> int:
    """Delete one account's follower sample; how many rows went (0 when it had none)."""
    find_account(session, workspace_id, account_id)
    result = session.execute(
        delete(Follower).where(
            Follower.workspace_id == workspace_id, Follower.account_id == account_id
        )
    )
    return int(result.rowcount or 0)  # type: ignore[attr-defined]
