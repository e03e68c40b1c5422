"""Audience overlap of two accounts, estimated from their sampled followers.

``overlap(a, b) = |S_a ∩ S_b| / min(|S_a|, |S_b|)`` over the follower samples ``S`` (usernames;
the share of the smaller sample also seen in the other). Only accounts with a sample are
compared: without one the overlap is unknown and no pair constraint is made
(docs/planning.md, "Audience overlap")."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import polars as pl
from sqlalchemy import and_, func, select
from sqlalchemy.orm import Session, aliased

from microfluence.kernel.store.tables import Follower

MIN_SAMPLE = 20  # a smaller sample says too little about an audience


def overlap_pairs(
    session: Session, workspace_id: int, account_ids: Sequence[int], limit: float
) -> tuple[np.ndarray, int]:
    """Pairs ``(a, b)`` of account ids whose overlap exceeds ``limit``, and how many pairs
    could be estimated; counted in the database (one self-join on the samples)."""
    ids = list(account_ids)
    sizes = dict(
        session.execute(
            select(Follower.account_id, func.count())
            .where(Follower.workspace_id == workspace_id, Follower.account_id.in_(ids))
            .group_by(Follower.account_id)
        ).all()
    )
    sampled = [a for a, n in sizes.items() if n >= MIN_SAMPLE]
    if len(sampled) < 2:
        return np.zeros((0, 2), dtype="int64"), 0
    a, b = aliased(Follower), aliased(Follower)
    shared = session.execute(
        select(a.account_id, b.account_id, func.count())
        .join(
            b,
            and_(
                b.username == a.username,
                b.workspace_id == workspace_id,
                b.account_id > a.account_id,
                b.account_id.in_(sampled),
            ),
        )
        .where(a.workspace_id == workspace_id, a.account_id.in_(sampled))
        .group_by(a.account_id, b.account_id)
    ).all()
    frame = pl.DataFrame(
        [tuple(r) for r in shared],
        schema={"a": pl.Int64, "b": pl.Int64, "shared": pl.Int64},
        orient="row",
    )
    size = pl.DataFrame(
        {"id": list(sizes), "n": list(sizes.values())}, schema={"id": pl.Int64, "n": pl.Int64}
    )
    frame = (
        frame.join(size.rename({"id": "a", "n": "na"}), on="a")
        .join(size.rename({"id": "b", "n": "nb"}), on="b")
        .with_columns(overlap=pl.col("shared") / pl.min_horizontal("na", "nb"))
        .filter(pl.col("overlap") > limit)
    )
    estimated = len(sampled) * (len(sampled) - 1) // 2
    return frame.select("a", "b").to_numpy().astype("int64"), estimated
