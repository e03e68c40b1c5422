"""The search columns' labels (discovery.columns): each account's tier under every scheme
(``account_tiers``) and its niches (``account_niches``), held in the process beside the search
rows and kept current by the same stamps (revision 0034 stamps a change of either table), so
that the tier and niche filters and the wanted tier's ranking part are masks too
(docs/discovery.md, "Index choices").

* tiers: per scheme, one code per row of the columns into a sorted vocabulary of the
  workspace's tier labels (−1: no tier under that scheme), as ``filters.tier_value`` reads one
  row per (account, scheme);
* niches: one entry per ``account_niches`` row — the account, the niche's code, the
  confidence, the source (1 user, 0 model, −1 anything else) — sorted by account (a page's
  accounts' niches are ranges: ``niches_of``); a niche filter
  keeps an account by its user rows when it has any, else by its model rows at or above the
  query's confidence, as ``filters.niche_condition``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import polars as pl
import sqlalchemy as sa
from sqlalchemy.orm import Session

from microfluence.discovery import keyword_plan, scored
from microfluence.discovery.tables import AccountNiche
from microfluence.metrics.tables import AccountTier

SOURCES = {"user": 1, "model": 0}


@dataclass(frozen=True, eq=False)
class Labels:
    tier_vocab: np.ndarray  # str, sorted
    tiers: dict[str, np.ndarray]  # scheme → int32 code per row of the columns, −1 none
    niche_vocab: np.ndarray  # str, sorted
    niche_ids: np.ndarray  # int64: the account of each entry
    niche_codes: np.ndarray  # int32
    niche_confidence: np.ndarray  # float64
    niche_source: np.ndarray  # int8

    @property
    def nbytes(self) -> int:
        arrays = [self.niche_ids, self.niche_codes, self.niche_confidence, self.niche_source]
        return sum(a.nbytes for a in [*arrays, *self.tiers.values()])

    def tier_codes(self, scheme: str, n_rows: int) -> np.ndarray:
        codes = self.tiers.get(scheme)
        return np.full(n_rows, -1, dtype=np.int32) if codes is None else codes

    def tier_code(self, tier: str) -> int:
        return _code(self.tier_vocab, tier)

    def niches_of(self, account_ids: list[int]) -> dict[int, list[str]]:
        """account → its niches, best first (confidence, then name): its user rows when it has
        any, else its model rows (a page's, as ``search._results`` shows them)."""
        ids = np.asarray(account_ids, dtype=np.int64)
        starts = np.searchsorted(self.niche_ids, ids, side="left")
        ends = np.searchsorted(self.niche_ids, ids, side="right")
        out: dict[int, list[str]] = {}
        for account, start, end in zip(ids.tolist(), starts.tolist(), ends.tolist(), strict=True):
            if start == end:
                continue
            source = self.niche_source[start:end]
            use = source == 1 if (source == 1).any() else source == 0
            at = np.arange(start, end)[use]
            names = self.niche_vocab[self.niche_codes[at]]
            order = np.lexsort((names, -self.niche_confidence[at]))
            out[account] = [str(n) for n in names[order]]
        return out

    def counts(self, confidence: float) -> np.ndarray:
        """Which entries count for their account (a niche filter's reading): a user row, or a
        model row at or above ``confidence`` of an account without user rows."""
        memo = self.__dict__.setdefault("_memos", {})  # frozen: the instance's own dict
        if "corrected" not in memo:  # entries whose account has a user row
            users = np.unique(self.niche_ids[self.niche_source == 1])
            memo["corrected"] = np.isin(self.niche_ids, users)
        by_model = (self.niche_source == 0) & (self.niche_confidence >= confidence)
        return (self.niche_source == 1) | (by_model & ~memo["corrected"])

    def niche_accounts(self, niche: str, confidence: float) -> np.ndarray:
        """The accounts (ids, unique) that have ``niche``: among their user rows when they have
        any, else among their model rows at or above ``confidence``."""
        own = self.niche_codes == _code(self.niche_vocab, niche)
        ids = self.niche_ids[own & self.counts(confidence)]  # sorted: the entries are
        return ids[np.concatenate([[True], ids[1:] != ids[:-1]])] if len(ids) else ids


def _code(vocab: np.ndarray, value: str) -> int:
    at = int(np.searchsorted(vocab, value))
    return at if at < len(vocab) and vocab[at] == value else -2


def of_accounts(
    session: Session, stmt: Any, table: Any, workspace_id: int, ids: np.ndarray | None
) -> Any:
    """``stmt`` over ``table``'s rows of the workspace, or of its accounts ``ids`` only: then
    the ids drive, one seek each by ``account_id`` (``keyword_plan.driving_join``), and the
    workspace is tested on the rows found (``workspace_id + 0``, which no index serves:
    without statistics SQLite took each table's workspace index and read every row of it —
    2.2 s to re-read 100 accounts of a million, now 6 ms)."""
    if ids is None:
        return stmt.where(table.workspace_id == workspace_id)
    asked = scored.ids_only(session, ids, name="asked")
    source = keyword_plan.driving_join(asked, table, asked.c.account_id == table.account_id)
    return stmt.select_from(source).where((table.workspace_id + 0) == workspace_id)


def read(
    session: Session, workspace_id: int, ids: np.ndarray | None, row_ids: np.ndarray
) -> Labels:
    """The labels of the workspace (or of the accounts ``ids``), tiers aligned with the
    columns' rows ``row_ids`` (sorted account ids)."""
    t, n = AccountTier, AccountNiche
    tiers_of = sa.select(t.account_id, t.scheme, t.tier).where(t.tier.is_not(None))
    tier_rows = session.execute(of_accounts(session, tiers_of, t, workspace_id, ids)).all()
    niches_of = sa.select(n.account_id, n.niche, n.confidence, n.source)
    niche_rows = session.execute(of_accounts(session, niches_of, n, workspace_id, ids)).all()
    tiers = pl.DataFrame(
        tier_rows, schema={"id": pl.Int64, "scheme": pl.Utf8, "tier": pl.Utf8}, orient="row"
    )
    tier_vocab = np.asarray(tiers["tier"].unique().sort(), dtype=str)
    by_scheme = {}
    for (scheme,), part in tiers.group_by("scheme"):
        codes = np.full(len(row_ids), -1, dtype=np.int32)
        account = part["id"].to_numpy()
        at = np.searchsorted(row_ids, account)
        inside = at < len(row_ids)
        inside[inside] = row_ids[at[inside]] == account[inside]
        labels = np.searchsorted(tier_vocab, part["tier"].to_numpy().astype(str))
        codes[at[inside]] = labels[inside]
        by_scheme[str(scheme)] = codes
    niches = pl.DataFrame(
        niche_rows,
        schema={"id": pl.Int64, "niche": pl.Utf8, "confidence": pl.Float64, "source": pl.Utf8},
        orient="row",
    ).sort("id", maintain_order=True)
    niche_vocab = np.asarray(niches["niche"].unique().sort(), dtype=str)
    return Labels(
        tier_vocab,
        by_scheme,
        niche_vocab,
        niches["id"].to_numpy().astype(np.int64),
        np.searchsorted(niche_vocab, niches["niche"].to_numpy().astype(str)).astype(np.int32),
        niches["confidence"].to_numpy().astype(np.float64),
        niches["source"].replace_strict(SOURCES, default=-1, return_dtype=pl.Int8).to_numpy(),
    )


def merged(
    old: Labels,
    keep: np.ndarray,
    changed: np.ndarray,
    fresh: Labels,
    order: np.ndarray,
) -> Labels:
    """``old``'s labels of its rows ``keep`` and ``fresh``'s of the re-read rows, tiers in the
    merged rows' ``order`` (as discovery.columns' ``_merged`` orders the rows); the niches of
    the accounts ``changed`` are ``fresh``'s."""
    tier_vocab = np.union1d(old.tier_vocab, fresh.tier_vocab)
    niche_vocab = np.union1d(old.niche_vocab, fresh.niche_vocab)

    def recoded(vocab: np.ndarray, own: np.ndarray, codes: np.ndarray) -> np.ndarray:
        mapped = np.append(np.searchsorted(vocab, own).astype(np.int32), np.int32(-1))
        return mapped[codes]  # −1 (none) picks the appended −1

    n_old, n_fresh = int(keep.sum()), len(order) - int(keep.sum())
    tiers = {}
    for scheme in sorted(set(old.tiers) | set(fresh.tiers)):
        a = old.tiers.get(scheme)
        b = fresh.tiers.get(scheme)
        a = (
            np.full(n_old, -1, np.int32)
            if a is None
            else recoded(tier_vocab, old.tier_vocab, a[keep])
        )
        b = (
            np.full(n_fresh, -1, np.int32)
            if b is None
            else recoded(tier_vocab, fresh.tier_vocab, b)
        )
        tiers[scheme] = np.concatenate([a, b])[order]
    stay = ~np.isin(old.niche_ids, changed)
    ids = np.concatenate([old.niche_ids[stay], fresh.niche_ids])
    by_id = np.argsort(ids, kind="stable")  # sorted by account again
    codes = np.concatenate(
        [
            recoded(niche_vocab, old.niche_vocab, old.niche_codes[stay]),
            recoded(niche_vocab, fresh.niche_vocab, fresh.niche_codes),
        ]
    )
    return Labels(
        tier_vocab,
        tiers,
        niche_vocab,
        ids[by_id],
        codes[by_id],
        np.concatenate([old.niche_confidence[stay], fresh.niche_confidence])[by_id],
        np.concatenate([old.niche_source[stay], fresh.niche_source])[by_id],
    )
