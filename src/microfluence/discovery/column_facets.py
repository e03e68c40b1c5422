"""The search page's facets over the search columns (discovery.columns): per niche, tier and
country, how many of the accounts a query finds have it, each the largest ``size`` first, ties
by value (docs/discovery.md, "Search").

* niche: each account's niches as the niche filter reads them (its user rows when it has any,
  else its model rows at or above the query's confidence), so an account counts once per niche;
* tier: its tier under the query's scheme;
* country: its own, else its creator's, upper case (the stored lower-case value upper-cased by
  the database's ``upper()``, one round trip for the few distinct values).

At a million accounts the same counts grouped in the database took 0.3–1 s for a country and a
follower range and 14 s for a niche and a tier on SQLite (docs/benchmarks.md); here they are
``bincount``s over the accounts found.
"""

from __future__ import annotations

import numpy as np
import sqlalchemy as sa
from sqlalchemy.orm import Session

from microfluence.discovery.columns import Columns

Facet = list[tuple[str, int]]
UPPER_BATCH = 500  # values upper-cased per statement (SQLite allows 2,000 result columns)


def _largest(counts: dict[str, int], size: int) -> Facet:
    ranked = sorted(((v, n) for v, n in counts.items() if n > 0), key=lambda p: (-p[1], p[0]))
    return ranked[:size]


def _by_code(vocab: np.ndarray, codes: np.ndarray) -> dict[str, int]:
    counts = np.bincount(codes[codes >= 0], minlength=len(vocab))
    return {str(vocab[i]): int(counts[i]) for i in np.flatnonzero(counts)}


def tiers(cols: Columns, rows: np.ndarray, scheme: str, size: int) -> Facet:
    labels = cols.labels
    return _largest(_by_code(labels.tier_vocab, labels.tier_codes(scheme, len(cols))[rows]), size)


def niches(cols: Columns, rows: np.ndarray, confidence: float, size: int) -> Facet:
    labels = cols.labels
    if not len(cols):
        return []
    found = np.zeros(len(cols), dtype=bool)
    found[rows] = True
    entry_rows, known = cols.niche_entry_rows
    counted = known & found[entry_rows] & labels.counts(confidence)
    return _largest(_by_code(labels.niche_vocab, labels.niche_codes[counted]), size)


def countries(session: Session, cols: Columns, rows: np.ndarray, size: int) -> Facet:
    own, creator = cols.codes["country"][rows], cols.codes["creator_country"][rows]
    counts = _by_code(cols.vocab, np.where(own >= 0, own, creator))
    if not counts:
        return []
    values = list(counts)
    upper: list[str] = []
    for at in range(0, len(values), UPPER_BATCH):  # imported countries can be free text
        batch = values[at : at + UPPER_BATCH]
        upper += session.execute(sa.select(*(sa.func.upper(sa.literal(v)) for v in batch))).one()
    merged: dict[str, int] = {}
    for value, shown in zip(values, upper, strict=True):
        merged[shown] = merged.get(shown, 0) + counts[value]
    return _largest(merged, size)
