"""The vector index semantic search and lookalikes query (docs/discovery.md, "Vector index").

* **Exact** below ``HNSW_FROM`` vectors: the workspace's vectors as one float32 matrix, the
  cosines by one matrix-vector product (NumPy, BLAS), the best k by ``argpartition``.
* **Approximate** from ``HNSW_FROM`` on: an HNSW graph (Malkov & Yashunin 2018) built by
  ``usearch`` over float16 vectors (connectivity 16, expansion 64 when adding, ``EF_SEARCH``
  when searching); recall@10 measured in tests and bench/semantic.py.
* A pool of ``EXACT_SHARE`` (1/64) of the workspace or more (a selective filter) is answered
  by the exact scan whatever the size: the graph walk for that many candidates costs more.
* **Among given accounts** (:meth:`VectorIndex.among`, the pre-filter of a selective search):
  their rows gathered from the matrix (the ids are kept sorted, so one ``searchsorted`` maps
  ids to rows; ids without a vector here are skipped), one product, the best k: exact.

One index per (database, workspace), built on first use and kept in this process; when the
workspace's newest ``account_vectors.updated_at`` moves (one index lookup per query), the rows
written since are loaded and replace their old entries (graph entries removed and added), or,
past ``REFRESH_SHARE`` of the index, it is rebuilt: a recompute is seen by the next search.
Vectors of deleted accounts may linger in the index until a rebuild; search joins its
candidates with the workspace's accounts, so they are never shown.
On PostgreSQL with pgvector, :func:`server_side` says so and search runs in the server instead.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from microfluence.discovery.embedding import DIMENSIONS
from microfluence.discovery.locks import KeyedLocks
from microfluence.discovery.tables import AccountVector
from microfluence.discovery.vectors import from_bytes, has_pgvector_column

HNSW_FROM = 50_000
CONNECTIVITY = 16
EF_ADD = 64
# 512: recall@20 on hard lookalike queries 0.97 at a million vectors (0.80 at 128), p95 24 ms
# (docs/benchmarks.md, "the expansion on search").
EF_SEARCH = 512
LOAD_BATCH = 100_000
# A pool of this share of the index or more is answered by the scan: measured at 200,000
# vectors, a graph search for 6,000 candidates took twice the scan (docs/benchmarks.md).
EXACT_SHARE = 1 / 64
REFRESH_SHARE = 0.2  # up to this share of changed vectors, update the index instead of a rebuild


def _hnsw(ids: np.ndarray, matrix: np.ndarray, threads: int = 0) -> Any:
    from usearch.index import Index

    index = Index(
        ndim=DIMENSIONS,
        metric="cos",
        dtype="f16",
        connectivity=CONNECTIVITY,
        expansion_add=EF_ADD,
        expansion_search=EF_SEARCH,
    )
    index.add(ids, matrix, threads=threads)
    return index


@dataclass
class VectorIndex:
    """Account ids and their unit vectors; :meth:`nearest` answers exactly or by HNSW."""

    ids: np.ndarray  # int64, one per row, ascending (VectorIndex.build and updated sort them)
    matrix: np.ndarray  # float32 (n, DIMENSIONS), unit rows
    approximate: bool = False
    graph: Any = field(default=None, repr=False)

    @classmethod
    def build(
        cls, ids: np.ndarray, matrix: np.ndarray, *, approximate: bool | None = None
    ) -> VectorIndex:
        ids, matrix = _by_id(ids, matrix)
        if approximate is None:
            approximate = len(ids) >= HNSW_FROM
        graph = _hnsw(ids, matrix) if approximate and len(ids) else None
        return cls(ids=ids, matrix=matrix, approximate=graph is not None, graph=graph)

    def __len__(self) -> int:
        return len(self.ids)

    def exact(self, vector: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        """The k rows most similar to ``vector`` by a full scan: (ids, cosines), best first."""
        if not len(self.ids):
            return _best(self.ids, np.zeros(0, dtype=np.float32), k)
        return _best(self.ids, self.matrix @ np.asarray(vector, dtype=np.float32), k)

    def rows_of(self, account_ids: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(rows, ids): the matrix rows of those of ``account_ids`` this index holds, and those
        ids, in the order given; ids it does not hold (no vector, another workspace's) are left
        out."""
        account_ids = np.asarray(account_ids, dtype=np.int64)
        if not len(self.ids):
            return np.zeros(0, dtype=np.intp), np.zeros(0, dtype=np.int64)
        at = np.minimum(np.searchsorted(self.ids, account_ids), len(self.ids) - 1)
        held = self.ids[at] == account_ids
        return at[held], account_ids[held]

    def among(
        self,
        vector: np.ndarray,
        candidates: np.ndarray,
        k: int,
        exclude: np.ndarray | None = None,
    ) -> tuple[np.ndarray, np.ndarray]:
        """The k of ``candidates`` (account ids; not those in ``exclude``) most similar to
        ``vector``, exactly: their rows gathered, one product. (ids, cosines), best first;
        candidates without a vector in this index are skipped."""
        rows, ids = self.rows_of(candidates)
        if exclude is not None and len(exclude):
            keep = ~np.isin(ids, exclude)
            rows, ids = rows[keep], ids[keep]
        gathered = np.take(self.matrix, rows, axis=0)
        # einsum, not BLAS: on the shared 2-core machine a multi-threaded BLAS product waited
        # about 16 ms for its second thread past 2,000 rows, einsum's one core took 0.2 ms
        # for 5,000 (docs/benchmarks.md)
        sims = np.einsum("ij,j->i", gathered, np.asarray(vector, dtype=np.float32))
        return _best(ids, sims, k)

    def nearest(
        self, vector: np.ndarray, k: int, exclude: np.ndarray | None = None
    ) -> tuple[np.ndarray, np.ndarray]:
        """The k accounts most similar to ``vector`` (not those in ``exclude``), best first."""
        extra = 0 if exclude is None else len(exclude)
        want = min(k + extra, len(self.ids))
        if self.graph is None or want >= len(self.ids) * EXACT_SHARE:
            ids, sims = self.exact(vector, want)
        else:
            found = self.graph.search(np.asarray(vector, dtype=np.float32), want)
            ids = np.asarray(found.keys, dtype=np.int64)
            sims = (1.0 - np.asarray(found.distances, dtype=np.float32)).astype(np.float32)
        if extra:
            keep = ~np.isin(ids, exclude)
            ids, sims = ids[keep], sims[keep]
        return ids[:k], sims[:k]

    def updated(self, ids: np.ndarray, matrix: np.ndarray) -> VectorIndex:
        """This index with the rows of ``ids`` replaced or added (the graph changed in place:
        the old entries removed, the new ones added), instead of a rebuild."""
        ids, matrix = _by_id(ids, matrix)
        stale = np.isin(self.ids, ids)
        if self.graph is not None:
            if stale.any():
                self.graph.remove(self.ids[stale])
            self.graph.add(ids, matrix)
        self.ids, self.matrix = _by_id(
            np.concatenate([self.ids[~stale], ids]), np.concatenate([self.matrix[~stale], matrix])
        )
        return self


def _by_id(ids: np.ndarray, matrix: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """ids as int64 and the matrix as contiguous float32, both in ascending id order (the
    order ``rows_of`` searches)."""
    ids = np.asarray(ids, dtype=np.int64)
    matrix = np.ascontiguousarray(matrix, dtype=np.float32)
    if len(ids) > 1 and not np.all(ids[1:] > ids[:-1]):
        order = np.argsort(ids, kind="stable")
        ids, matrix = ids[order], np.ascontiguousarray(matrix[order])
    return ids, matrix


def _best(ids: np.ndarray, sims: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """The k best of ``ids`` by ``sims``: (ids, sims), best first, ties by id."""
    k = min(k, len(ids))
    if k <= 0:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.float32)
    top = np.argpartition(-sims, k - 1)[:k] if k < len(sims) else np.arange(len(sims))
    top = top[np.lexsort((ids[top], -sims[top]))]
    return ids[top], sims[top]


_CACHE: dict[tuple[str, int], tuple[Any, VectorIndex]] = {}
_LOCKS = KeyedLocks()  # one per (database, workspace): a build holds only its own workspace


def _token(session: Session, workspace_id: int) -> Any:
    return session.scalar(
        select(func.max(AccountVector.updated_at)).where(AccountVector.workspace_id == workspace_id)
    )


def load(session: Session, workspace_id: int, since: Any = None) -> tuple[np.ndarray, np.ndarray]:
    """The workspace's stored vectors (those written after ``since``): (account ids,
    float32 matrix), in batches."""
    ids: list[np.ndarray] = []
    parts: list[np.ndarray] = []
    stmt = select(AccountVector.account_id, AccountVector.vector).where(
        AccountVector.workspace_id == workspace_id
    )
    if since is not None:
        stmt = stmt.where(AccountVector.updated_at > since)
    result = session.execute(
        stmt.order_by(AccountVector.account_id).execution_options(yield_per=LOAD_BATCH)
    )
    for rows in result.partitions(LOAD_BATCH):
        ids.append(np.fromiter((r[0] for r in rows), dtype=np.int64, count=len(rows)))
        parts.append(from_bytes([r[1] for r in rows]))
    if not ids:
        return np.zeros(0, dtype=np.int64), np.zeros((0, DIMENSIONS), dtype=np.float32)
    return np.concatenate(ids), np.concatenate(parts)


def index_for(session: Session, workspace_id: int) -> VectorIndex:
    """The workspace's in-process index, rebuilt when its vectors changed (see the module)."""
    key = (session.get_bind().engine.url.render_as_string(hide_password=True), workspace_id)
    token = _token(session, workspace_id)
    with _LOCKS(key):
        cached = _CACHE.get(key)
        if cached is not None and cached[0] == token:
            return cached[1]
        index = _refreshed(session, workspace_id, cached, token)
        _CACHE[key] = (token, index)
        return index


def cached(session: Session, workspace_id: int) -> VectorIndex | None:
    """The index this process holds for the workspace, as it is (no refresh), or None."""
    key = (session.get_bind().engine.url.render_as_string(hide_password=True), workspace_id)
    entry = _CACHE.get(key)
    return None if entry is None else entry[1]


def _refreshed(
    session: Session, workspace_id: int, cached: tuple[Any, VectorIndex] | None, token: Any
) -> VectorIndex:
    """The cached index with the rows written since it was built, when they are few and it
    keeps its kind; else a new build."""
    if cached is not None and cached[0] is not None and token is not None:
        old_token, index = cached
        ids, matrix = load(session, workspace_id, since=old_token)
        grown = len(index) + len(ids)
        same_kind = index.approximate == (grown >= HNSW_FROM)
        if len(ids) <= REFRESH_SHARE * max(len(index), 1) and same_kind:
            return index.updated(ids, matrix)
    ids, matrix = load(session, workspace_id)
    return VectorIndex.build(ids, matrix)


def server_side(session: Session) -> bool:
    """Whether this store searches vectors in the server (PostgreSQL with pgvector)."""
    return has_pgvector_column(session)


def backend(session: Session) -> str:
    """``pgvector``, or ``in-process`` (exact or HNSW by the workspace's size)."""
    return "pgvector" if server_side(session) else "in-process"
