"""Semantic search and lookalikes: the query's vector, and the nearest accounts as the
candidate subquery that search ranks and filters (docs/discovery.md, "Semantic search and
lookalikes").

* A **brief** (``q`` with ``semantic``) is embedded with the model the accounts are
  (discovery.embedding), so "vegan pastry in Lyon" meets a caption in French.
* **Lookalikes** (``like``: ``PLATFORM:HANDLE`` references of this workspace) use the mean of
  those accounts' vectors, normalised, and leave them out of the results. With a brief too, the
  query is the normalised sum of the two unit vectors: half brief, half lookalike.
* **Filters** are applied after the vector search, with oversampling: the nearest ``pool``
  accounts are joined with the filters in the database (search.py, ``_semantic``). When fewer
  than the page needs pass the first pool, and the filters pass at most ``PREFILTER_CAP``
  accounts of the workspace (``filters.candidate_ids``), exactly those are ranked by cosine
  (``prefiltered``; ``VectorIndex.among``: their rows gathered from the index's matrix, one
  product) and the first pool's worth of them, the nearest, goes to the ranking: the nearest of
  the filters' accounts, exactly, whatever their share of the workspace. Past the cap (or on
  PostgreSQL with pgvector, whose search runs in the server) the pool grows to what the pass
  rate seen says the page needs (``next_pool``), up to the whole workspace.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import sqlalchemy as sa
from sqlalchemy import select
from sqlalchemy.orm import Session

from microfluence.catalog.accounts import find_account_by_reference
from microfluence.discovery import filters, scored
from microfluence.discovery.embedding import embed_texts
from microfluence.discovery.query import SearchQuery
from microfluence.discovery.tables import AccountVector
from microfluence.discovery.vector_index import VectorIndex, index_for, server_side
from microfluence.discovery.vectors import from_bytes
from microfluence.kernel.errors import InputError

OVERSAMPLE = 5  # the first pool: this many times the accounts the page needs, at least MIN_POOL
MIN_POOL = 100
GROWTH = 8  # the pool's growth when no candidate passed the filters
# Filters that pass at most this many accounts are searched exactly among those accounts
# (prefiltered); the figures that chose it are in docs/benchmarks.md ("the vector index").
PREFILTER_CAP = 20_000


def wanted(query: SearchQuery) -> bool:
    return bool(query.semantic or query.like)


def _unit(vector: np.ndarray) -> np.ndarray:
    norm = float(np.linalg.norm(vector))
    return vector / norm if norm > 0 else vector


def _like_vector(
    session: Session, workspace_id: int, references: Sequence[str]
) -> tuple[np.ndarray, list[int]]:
    ids = [find_account_by_reference(session, workspace_id, ref).id for ref in references]
    rows = dict(
        session.execute(
            select(AccountVector.account_id, AccountVector.vector).where(
                AccountVector.workspace_id == workspace_id, AccountVector.account_id.in_(ids)
            )
        ).all()
    )
    missing = [ref for ref, i in zip(references, ids, strict=True) if i not in rows]
    if missing:
        raise InputError(
            f"like: {missing[0]} has no vector yet; run `microfluence niches` first",
            field="like",
        )
    return _unit(from_bytes([rows[i] for i in ids]).mean(axis=0)), ids


@dataclass
class Probe:
    """What a semantic query looks for: its unit vector and the accounts left out."""

    vector: np.ndarray
    exclude: list[int]

    def first_pool(self, needed: int) -> int:
        return max(MIN_POOL, OVERSAMPLE * needed)


def next_pool(pool: int, passed: int, needed: int) -> int:
    """The pool to try when only ``passed`` of ``pool`` candidates passed the filters: enough
    for ``needed`` at the pass rate seen, with half again for luck, and at least twice the last
    (``GROWTH`` times when none passed)."""
    if passed <= 0:
        return pool * GROWTH
    return max(2 * pool, math.ceil(1.5 * needed * pool / passed))


def probe(session: Session, workspace_id: int, query: SearchQuery) -> Probe:
    parts: list[np.ndarray] = []
    exclude: list[int] = []
    if query.semantic and query.q and query.q.strip():
        brief = embed_texts([query.q])[0]
        if not np.any(brief):
            raise InputError("the brief has no words the model knows", field="q")
        parts.append(brief)
    if query.like:
        vector, exclude = _like_vector(session, workspace_id, query.like)
        parts.append(vector)
    if not parts:
        raise InputError("semantic search needs a brief (q) or accounts to look like", field="q")
    return Probe(vector=_unit(np.sum(parts, axis=0)).astype(np.float32), exclude=exclude)


def _subquery(session: Session, ids: np.ndarray, sims: np.ndarray) -> sa.Subquery:
    return scored.rows(session, ids, sims, value="similarity", name="semantic")


_PG_NEAREST = """
SELECT account_id, 1 - (embedding <=> CAST(:q AS vector)) AS similarity FROM account_vectors
WHERE workspace_id = :ws AND embedding IS NOT NULL AND NOT (account_id = ANY(:exclude))
ORDER BY embedding <=> CAST(:q AS vector) LIMIT :pool
"""


def _pg_nearest(
    session: Session, workspace_id: int, p: Probe, pool: int
) -> tuple[np.ndarray, np.ndarray]:
    q = "[" + ",".join(f"{x:.6f}" for x in p.vector.tolist()) + "]"
    rows = session.execute(
        sa.text(_PG_NEAREST), {"q": q, "ws": workspace_id, "exclude": p.exclude, "pool": pool}
    ).all()
    return (
        np.array([r[0] for r in rows], dtype=np.int64),
        np.array([r[1] for r in rows], dtype=np.float32),
    )


def nearest(
    session: Session, workspace_id: int, p: Probe, pool: int
) -> tuple[sa.Subquery, dict[int, float], bool]:
    """The ``pool`` nearest accounts as a subquery (account_id, similarity), their similarities,
    and whether that was every account with a vector (the pool cannot grow further)."""
    if server_side(session):
        ids, sims = _pg_nearest(session, workspace_id, p, pool)
    else:
        index: VectorIndex = index_for(session, workspace_id)
        exclude = np.asarray(p.exclude, dtype=np.int64)
        ids, sims = index.nearest(p.vector, pool, exclude)
    exhausted = len(ids) < pool
    return (
        _subquery(session, ids, sims),
        dict(zip(ids.tolist(), sims.tolist(), strict=True)),
        exhausted,
    )


def _filters_given(workspace_id: int, query: SearchQuery, scheme: str, now: dt.datetime) -> bool:
    """Whether ``query`` filters at all (more than its workspace's condition, or a country)."""
    where = filters.conditions(workspace_id, query, scheme, now)
    return len(where) > 1 or len(filters.branches(query)) > 1


def prefiltered(
    session: Session,
    workspace_id: int,
    p: Probe,
    query: SearchQuery,
    scheme: str,
    now: dt.datetime,
    needed: int,
) -> tuple[sa.Subquery, dict[int, float], bool] | None:
    """Pre-filtering, as :func:`nearest` returns: when ``query``'s filters pass at most
    ``PREFILTER_CAP`` accounts, the first pool's worth of those accounts nearest the probe,
    exactly (every account that passes was weighed: the pool cannot grow); ``None`` when the
    query has no filter, more accounts pass, or vectors are searched in the server (pgvector),
    for the pool path instead. Search asks only when the first pool left the page short, so a
    filter most accounts pass never pays for reading its ids."""
    if server_side(session) or not _filters_given(workspace_id, query, scheme, now):
        return None
    candidates = filters.candidate_ids(session, workspace_id, query, scheme, now, cap=PREFILTER_CAP)
    if candidates is None:
        return None
    index: VectorIndex = index_for(session, workspace_id)
    exclude = np.asarray(p.exclude, dtype=np.int64)
    ids, sims = index.among(p.vector, candidates, p.first_pool(needed), exclude)
    return _subquery(session, ids, sims), dict(zip(ids.tolist(), sims.tolist(), strict=True)), True
