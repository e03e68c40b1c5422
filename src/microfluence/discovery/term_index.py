"""The in-process keyword index: per (database, workspace), a sparse matrix of accounts × words
holding each account's weighted term frequency (discovery.terms), scored with BM25 at query
time (docs/discovery.md, "Keyword relevance" and "Index choices").

For a query word q and an account a, with ``tf`` its weighted frequency, ``dl`` its weighted
length, ``avgdl`` the mean length, ``N`` the accounts and ``n`` the accounts that contain q:

    idf(q)  = ln(1 + (N − n + 0.5) / (n + 0.5))
    w(q, a) = tf · (k1 + 1) / (tf + k1 · (1 − b + b · dl / avgdl)),   k1 = 1.2, b = 0.75
    raw(a)  = Σ_q idf(q) · w(q, a)

(Robertson & Zaragoza, *The Probabilistic Relevance Framework: BM25 and Beyond*, 2009; the
weighted fields as BM25F, Robertson, Zaragoza & Taylor 2004). A handle also matches a word it
starts with (words of ``MIN_PREFIX`` letters or more): the handle's weighted count of such
words adds to ``tf``, and the accounts with such a handle to ``n``.

Kept current: the database's triggers (revision "0031") stamp every account whose handle,
name, bio, posts, captions or hashtags changed in ``account_text_changes``; each search reads
the stamps newer than its mark (one index range, usually empty), re-reads those accounts'
text into a small **overlay** block (their older rows are masked), and past ``REFRESH_SHARE``
of the workspace rebuilds the whole index. Deleted accounts come back with
no document and drop out.
"""

from __future__ import annotations

import copy
import functools
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np
from sqlalchemy.orm import Session

from microfluence.discovery import stamps, terms
from microfluence.discovery.keyword import MIN_PREFIX

if TYPE_CHECKING:
    import scipy.sparse as sp

K1 = 1.2
B = 0.75
REFRESH_SHARE = 0.05  # past this share of changed accounts, rebuild instead of overlays
OVERLAY_FLOOR = 1_000  # … or up to this many accounts, whichever is more
MAX_OVERLAYS = 8

# (rows, weighted tf, distinct rows, whether no row repeats: one column of a CSC matrix, its
# rows sorted and each once)
Postings = tuple[np.ndarray, np.ndarray, int, bool]


def _merged(
    parts: list[terms.Counts], n_rows: int, *, handle: bool
) -> tuple[np.ndarray, sp.csc_matrix]:
    """(sorted vocabulary, CSC matrix rows × vocabulary) of the batches' counts: each batch's
    own vocabulary mapped into the union by ``searchsorted``."""
    import scipy.sparse as sp  # on first use: SciPy and scikit-learn cost 0.2–1 s to import

    prefix = "handle_" if handle else ""
    used = [c.vocab[np.unique(getattr(c, f"{prefix}col"))] for c in parts]
    vocab = np.unique(np.concatenate(used)) if used else np.array([], dtype=object)
    rows, cols, tfs = [], [], []
    offset = 0
    for c in parts:  # one step per batch of accounts
        rows.append(getattr(c, f"{prefix}row") + offset)
        cols.append(np.searchsorted(vocab, c.vocab)[getattr(c, f"{prefix}col")])
        tfs.append(getattr(c, f"{prefix}tf"))
        offset += len(c.ids)
    if not sum(len(r) for r in rows):
        return vocab, sp.csc_matrix((n_rows, len(vocab)), dtype=np.float32)
    matrix = sp.csc_matrix(
        (np.concatenate(tfs), (np.concatenate(rows), np.concatenate(cols))),
        shape=(n_rows, len(vocab)),
        dtype=np.float32,
    )
    matrix.sum_duplicates()
    return vocab, matrix


@dataclass
class Block:
    """Accounts' rows: ids, weighted lengths, the words matrix and the handles' one."""

    ids: np.ndarray  # int64
    length: np.ndarray  # float32 weighted length per row
    vocab: np.ndarray  # sorted words
    tf: sp.csc_matrix  # rows × vocab, weighted term frequencies
    handle_vocab: np.ndarray  # sorted handle words
    handle_tf: sp.csc_matrix  # rows × handle_vocab, the handle's part alone
    alive: np.ndarray = field(init=False)
    _col: dict[str, int] = field(init=False, repr=False)
    _sorted_ids: np.ndarray = field(init=False, repr=False)
    _order: np.ndarray = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self.alive = np.ones(len(self.ids), dtype=bool)
        self._col = {w: i for i, w in enumerate(self.vocab.tolist())}
        self._order = np.argsort(self.ids, kind="stable")
        self._sorted_ids = self.ids[self._order]

    @classmethod
    def from_counts(cls, parts: list[terms.Counts]) -> Block:
        n = sum(len(c.ids) for c in parts)
        ids = np.concatenate([c.ids for c in parts]) if parts else np.zeros(0, np.int64)
        length = np.concatenate([c.length for c in parts]) if parts else np.zeros(0, np.float32)
        vocab, tf = _merged(parts, n, handle=False)
        handle_vocab, handle_tf = _merged(parts, n, handle=True)
        return cls(ids, length, vocab, tf, handle_vocab, handle_tf)

    def __len__(self) -> int:
        return len(self.ids)

    def nbytes(self) -> int:
        """Memory held by the arrays (the vocabularies' strings not counted)."""
        arrays = (self.ids, self.length, self.alive, self._order, self._sorted_ids)
        matrices = (self.tf, self.handle_tf)
        return sum(a.nbytes for a in arrays) + sum(
            m.data.nbytes + m.indices.nbytes + m.indptr.nbytes for m in matrices
        )

    def rows_of(self, account_ids: np.ndarray) -> np.ndarray:
        """The rows of the accounts ``account_ids`` that this block holds alive."""
        if not len(self.ids) or not len(account_ids):
            return np.zeros(0, dtype=np.int64)
        at = np.searchsorted(self._sorted_ids, account_ids)
        at = np.clip(at, 0, len(self._sorted_ids) - 1)
        found = self._sorted_ids[at] == account_ids
        rows = self._order[at[found]]
        return rows[self.alive[rows]]

    def masked(self, account_ids: np.ndarray) -> Block:
        """This block with the rows of ``account_ids`` masked (their text changed: an overlay
        holds them now); a copy, so a search reading the old one is not disturbed."""
        rows = self.rows_of(account_ids)
        if not len(rows):
            return self
        out = copy.copy(self)
        out.alive = self.alive.copy()
        out.alive[rows] = False
        return out

    def postings(self, word: str) -> Postings:
        """(rows, weighted tf) of the alive rows that contain ``word`` — or whose handle has a
        word starting with it — how many distinct rows, and whether no row repeats (a row may
        repeat when they come from several columns: summed later)."""
        rows, tfs = [], []
        columns = 0
        col = self._col.get(word)
        if col is not None:
            lo, hi = self.tf.indptr[col], self.tf.indptr[col + 1]
            rows.append(self.tf.indices[lo:hi])
            tfs.append(self.tf.data[lo:hi])
            columns += 1
        if len(word) >= MIN_PREFIX and len(self.handle_vocab):
            first = np.searchsorted(self.handle_vocab, word, side="right")
            last = np.searchsorted(self.handle_vocab, word + "\U0010ffff", side="left")
            if last > first:
                lo, hi = self.handle_tf.indptr[first], self.handle_tf.indptr[last]
                rows.append(self.handle_tf.indices[lo:hi])
                tfs.append(self.handle_tf.data[lo:hi])
                columns += int(last - first)
        if not rows:
            return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.float32), 0, True
        r, t = np.concatenate(rows), np.concatenate(tfs)
        keep = self.alive[r]
        r, t = r[keep], t[keep]
        if len(rows) == 1:
            return r, t, len(r), columns == 1
        seen = np.zeros(len(self.ids), dtype=bool)  # O(rows), not a sort of the postings
        seen[r] = True
        return r, t, int(np.count_nonzero(seen)), False


DENSE_SHARE = 1 / 32  # postings longer than this share of a block's rows are summed densely


def _summed(rows: np.ndarray, values: np.ndarray, n_rows: int) -> tuple[np.ndarray, np.ndarray]:
    """(distinct rows, the sum of ``values`` per row): a sort for a few rows, a dense
    ``bincount`` over the block for many (a word in a fifth of a million accounts)."""
    if len(rows) > DENSE_SHARE * n_rows:
        dense = np.bincount(rows, weights=values, minlength=n_rows)
        hit = np.flatnonzero(dense)
        return hit, dense[hit]
    distinct, inverse = np.unique(rows, return_inverse=True)
    return distinct, np.bincount(inverse, weights=values)


TABLE_SPAN = 1 << 24  # ids spanning up to this many are looked up in a table (16 MB at most)


def _among(ids: np.ndarray, wanted: np.ndarray) -> np.ndarray:
    """Which of ``ids`` are in ``wanted`` (sorted, distinct): a lookup table over ``wanted``'s
    span when it is small (a million accounts: 1 MB, one pass over each), else a sort."""
    if not len(wanted) or not len(ids):
        return np.zeros(len(ids), dtype=bool)
    lo, hi = int(wanted[0]), int(wanted[-1])
    if hi - lo >= TABLE_SPAN:
        return np.isin(ids, wanted)  # not assume_unique: that needs both sides distinct
    table = np.zeros(hi - lo + 1, dtype=bool)
    table[wanted - lo] = True
    inside = (ids >= lo) & (ids <= hi)
    out = np.zeros(len(ids), dtype=bool)
    out[inside] = table[ids[inside] - lo]
    return out


def _block_scores(
    block: Block,
    postings: dict[str, Postings],
    idf: dict[str, float],
    only: np.ndarray | None,
    avgdl: float,
) -> tuple[np.ndarray, np.ndarray]:
    """One block's (account ids, raw) from the query words' postings, of the accounts ``only``
    (sorted, distinct ids) when given: each word's rows kept by their ids, not a search of
    every wanted id among the block's (20,000 ids in a million: 2 ms)."""
    none = np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.float64)
    if only is not None and not len(only):
        return none
    rows_all, w_all = [], []
    for word, (rows, tf, _n, distinct) in postings.items():  # at most keyword.MAX_TERMS words
        if only is not None:
            keep = _among(block.ids[rows], only)
            rows, tf = rows[keep], tf[keep]
        if not len(rows):
            continue
        if distinct:  # one column: already one sorted row each, nothing to sum (a dense
            summed = tf.astype(np.float64)  # bincount over the block cost more than the rest)
        else:
            rows, summed = _summed(rows, tf, len(block))
        norm = K1 * (1 - B + B * block.length[rows] / avgdl)
        rows_all.append(rows)
        w_all.append(idf[word] * summed * (K1 + 1) / (summed + norm))
    if not rows_all:
        return none
    if len(rows_all) == 1:
        rows, raw = rows_all[0], w_all[0]
    else:
        rows, raw = _summed(np.concatenate(rows_all), np.concatenate(w_all), len(block))
    keep = raw > 0
    return block.ids[rows[keep]], raw[keep]


def build(session: Session, workspace_id: int, ids: np.ndarray | None = None) -> Block:
    """A block of the workspace's accounts (only ``ids`` when given), read in batches."""
    parts = [terms.count(frame) for frame in terms.documents(session, workspace_id, ids)]
    return Block.from_counts(parts)


@dataclass
class TermIndex:
    """The main block and the overlays: blocks of accounts changed since the main one was built
    (a changed account's older rows are masked; at most ``MAX_OVERLAYS``, then merged)."""

    blocks: list[Block]  # never changed in place: a change makes a new TermIndex

    def __len__(self) -> int:
        return self._stats[0]

    @functools.cached_property
    def _stats(self) -> tuple[int, float]:
        """(alive accounts, their mean weighted length), once per index: two passes over a
        million rows cost ~5 ms, which every query paid."""
        n = int(sum(b.alive.sum() for b in self.blocks))
        total = sum(float(b.length[b.alive].sum()) for b in self.blocks)
        return n, total / max(n, 1) or 1.0

    def overlaid(self) -> int:
        """Accounts held by the overlays."""
        return int(sum(b.alive.sum() for b in self.blocks[1:]))

    def nbytes(self) -> int:
        return sum(b.nbytes() for b in self.blocks)

    def _avgdl(self) -> float:
        return self._stats[1]

    def scores(
        self, words: list[str], account_ids: np.ndarray | None = None
    ) -> tuple[np.ndarray, np.ndarray]:
        """(account ids, raw BM25 relevance > 0) of the accounts matching any of ``words``
        (index words, terms.query_terms), among ``account_ids`` when given; unordered."""
        n_docs, avgdl = len(self), self._avgdl()
        postings = [{w: b.postings(w) for w in words} for b in self.blocks]
        idf = {}
        for w in words:
            n = sum(p[w][2] for p in postings)
            idf[w] = float(np.log1p((n_docs - n + 0.5) / (n + 0.5)))
        only = None
        if account_ids is not None:
            only = np.asarray(account_ids, dtype=np.int64)
            if len(only) > 1 and not np.all(only[1:] > only[:-1]):
                only = np.unique(only)
        found_ids, found_raw = [], []
        for block, posted in zip(self.blocks, postings, strict=True):
            ids, raw = _block_scores(block, posted, idf, only, avgdl)
            found_ids.append(ids)
            found_raw.append(raw)
        return np.concatenate(found_ids), np.concatenate(found_raw)

    def with_changes(self, session: Session, workspace_id: int, changed: np.ndarray) -> TermIndex:
        """This index with the accounts ``changed`` re-read into a new overlay (their older
        rows masked); past ``MAX_OVERLAYS`` the overlays are merged into one, re-read."""
        blocks = [b.masked(changed) for b in self.blocks]
        blocks.append(build(session, workspace_id, changed))
        if len(blocks) > 1 + MAX_OVERLAYS:
            held = np.concatenate([b.ids[b.alive] for b in blocks[1:]])
            blocks = [blocks[0], build(session, workspace_id, held)]
        return TermIndex(blocks)


# --- the per-process cache, kept current by the change stamps --------------------------------

TABLE = "account_text_changes"


def _updated(
    session: Session, workspace_id: int, index: TermIndex, changed: np.ndarray
) -> TermIndex | None:
    """``index`` with the accounts ``changed`` in an overlay, or None (rebuild) past
    ``REFRESH_SHARE`` of the workspace or ``OVERLAY_FLOOR`` accounts."""
    room = max(REFRESH_SHARE * len(index.blocks[0]), OVERLAY_FLOOR)
    if index.overlaid() + len(changed) > room:
        return None
    return index.with_changes(session, workspace_id, changed)


def _made(session: Session, workspace_id: int) -> TermIndex:
    return TermIndex([build(session, workspace_id)])


_COPIES = stamps.Copies(TABLE, _made, _updated)


def index_for(session: Session, workspace_id: int) -> TermIndex:
    """The workspace's in-process keyword index, current with the store (see the module)."""
    return _COPIES.get(session, workspace_id)


def forget(workspace_id: int | None = None) -> None:
    """Drop the cached indexes (of one workspace, or all): the next search rebuilds."""
    _COPIES.forget(workspace_id)


def cached(session: Session, workspace_id: int) -> TermIndex | None:
    """The index this process holds for the workspace, as it is (no refresh), or None."""
    return _COPIES.cached(session, workspace_id)
