"""The ranking blend over the search columns (discovery.columns), in NumPy: the same parts,
weights and order as the database's query (discovery.ranking, docs/discovery.md "Ranking"), for
every query but a semantic one (whose ranking joins the nearest accounts in the database).

Each part is computed as the SQL computes it — ``coalesce`` to 0, clamped to [0, 1], relevance
divided by the largest raw relevance among the accounts that pass (0 when that is 0), the
wanted tier's by ``ranking.tier_steps`` over the account's tier under the query's scheme — and the
score summed in the SQL's order, ``0.0 + v₁·w₁/Σw + v₂·w₂/Σw + …``, so both give the same
float64. The page is the best ``offset + limit`` by score, then by account id, as the SQL's
``ORDER BY score DESC, account_id``; ``count`` is every account that passes.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from microfluence.discovery import ranking
from microfluence.discovery.columns import Columns


def clamp01(values: np.ndarray) -> np.ndarray:
    """``values`` within [0, 1], NaN (SQL's NULL) → 0."""
    return np.clip(np.nan_to_num(values, nan=0.0), 0.0, 1.0)


@dataclass(frozen=True)
class Wanted:
    """The tier part's question: the wanted tier under ``scheme``, whose tiers are ``order``."""

    tier: str
    scheme: str
    order: list[str]


def part_values(
    cols: Columns,
    rows: np.ndarray,
    parts: dict[str, float],
    raw: np.ndarray | None,
    wanted: Wanted | None = None,
) -> dict[str, np.ndarray]:
    """Each part's value for the accounts at ``rows`` (``raw``: their keyword relevance;
    ``wanted``: the tier part's wanted tier)."""
    values = {
        "engagement": clamp01(cols.numbers["er_percentile"][rows] / 100.0),
        "authenticity": clamp01(cols.numbers["aqs"][rows] / 100.0),
    }
    if "relevance" in parts:
        if raw is None:
            raise ValueError("a query with words needs its relevance")
        top = float(raw.max()) if len(raw) else 0.0
        values["relevance"] = clamp01(raw / top) if top != 0 else np.zeros(len(rows))
    if "tier" in parts:
        if wanted is None:
            raise ValueError("a wanted tier's part needs the wanted tier")
        steps = ranking.tier_steps(wanted.tier, wanted.order)
        labels = cols.labels
        by_code = np.array([steps.get(str(t), 0.0) for t in labels.tier_vocab] + [0.0])
        values["tier"] = by_code[labels.tier_codes(wanted.scheme, len(cols))[rows]]
    unknown = set(parts) - set(values)
    if unknown:
        raise ValueError(f"no column part {sorted(unknown)}")
    return values


def best(ids: np.ndarray, score: np.ndarray, k: int) -> np.ndarray:
    """The positions of the best ``k`` by score, then by lower id, in that order."""
    if k <= 0 or not len(ids):
        return np.array([], dtype=np.int64)
    if len(ids) > k:
        edge = -np.partition(-score, k - 1)[k - 1]  # the k-th best score
        near = np.flatnonzero(score >= edge)  # every tie at the edge too
    else:
        near = np.arange(len(ids))
    order = np.lexsort((ids[near], -score[near]))
    return near[order[:k]]


def ranked(
    cols: Columns,
    rows: np.ndarray,
    parts: dict[str, float],
    *,
    raw: np.ndarray | None,
    wanted: Wanted | None = None,
    limit: int,
    offset: int,
) -> tuple[list[dict[str, Any]], int]:
    """(the page's rows, as the ranking query returns them, and how many passed) for the
    accounts at ``rows`` of ``cols``, which pass the filters."""
    values = part_values(cols, rows, parts, raw, wanted)
    total = sum(parts.values())
    score = np.zeros(len(rows))
    for name, weight in parts.items():
        score = score + values[name] * (weight / total)
    ids = cols.ids[rows]
    page = best(ids, score, offset + limit)[offset:]
    percentile = cols.numbers["er_percentile"][rows[page]]
    quality = cols.numbers["aqs"][rows[page]]
    out = []
    for i, at in enumerate(page.tolist()):
        row: dict[str, Any] = {
            "account_id": int(ids[at]),
            "er_percentile": None if np.isnan(percentile[i]) else float(percentile[i]),
            "quality": None if np.isnan(quality[i]) else float(quality[i]),
            "score": float(score[at]),
        }
        row.update({f"part_{name}": float(values[name][at]) for name in parts})
        out.append(row)
    return out, len(rows)
