"""The ranking blend (docs/discovery.md, "Ranking"), computed in the database.

``score = Σ wᵢ · pᵢ / Σ wⱼ`` over the parts that apply to the query, each part in [0, 1]:

* ``relevance`` = raw keyword relevance / the largest raw relevance among the query's matches
  (only with words);
* ``semantic`` = the cosine of the account's vector and the query's (a brief's embedding, or
  the mean of the lookalike accounts'), below 0 counted 0 (only for semantic queries;
  discovery.semantic);
* ``engagement`` = the account's ER percentile in its (platform, tier) cohort / 100
  (``cohort_percentile``, metrics pipeline);
* ``authenticity`` = Audience Quality Score / 100;
* ``tier`` = 1 for the wanted tier, ``1 − 0.5·d`` for a tier ``d`` steps away in the scheme's
  order, 0 from two steps on and for labels outside the scheme's bands (only with a wanted tier).

An unknown part (no stored percentile or score yet) counts 0: no evidence, no credit. Each
part's *contribution* is ``wᵢ · pᵢ / Σ wⱼ``; the contributions add up to the score.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, fields
from typing import Any

from sqlalchemy import case, func, literal

from microfluence.discovery.query import Weights
from microfluence.kernel.errors import InputError

PARTS = ("relevance", "semantic", "engagement", "authenticity", "tier")


@dataclass(frozen=True)
class Part:
    name: str
    value: float  # in [0, 1]
    weight: float  # as given
    contribution: float  # weight / Σ weights of the parts in use · value


def active_parts(weights: Weights, *, words: bool, semantic: bool, tier: bool) -> dict[str, float]:
    """The parts this query ranks by, with their weights; InputError when they all weigh 0."""
    use = {
        "relevance": words,
        "semantic": semantic,
        "engagement": True,
        "authenticity": True,
        "tier": tier,
    }
    parts = {f.name: getattr(weights, f.name) for f in fields(weights) if use[f.name]}
    if sum(parts.values()) <= 0:
        raise InputError(
            "the ranking's weights in use add up to 0: give one a weight", field="weights"
        )
    return parts


def tier_steps(wanted: str, order: Sequence[str]) -> dict[str, float]:
    """The tier part's value of each tier that scores: 1 for ``wanted``, 1 − 0.5·d for a tier d
    steps away in ``order`` (d < 2); every other tier, and none, scores 0."""
    if wanted not in order:
        raise InputError(
            f"tier {wanted!r} is not in this scheme: use one of {', '.join(order)}",
            field="prefer_tier",
        )
    at = order.index(wanted)
    return {name: 1.0 - 0.5 * abs(i - at) for i, name in enumerate(order) if abs(i - at) < 2}


def tier_preference(tier: Any, wanted: str, order: Sequence[str]) -> Any:
    """SQL: ``tier_steps`` as a ``CASE``."""
    whens = [(tier == name, literal(value)) for name, value in tier_steps(wanted, order).items()]
    return case(*whens, else_=literal(0.0))


def blend(parts: dict[str, float], values: dict[str, Any]) -> Any:
    """SQL: the score from the parts' value expressions (each already coalesced to [0, 1])."""
    total = sum(parts.values())
    return sum(
        (values[name] * literal(weight / total) for name, weight in parts.items()),
        start=literal(0.0),
    )


def explain(parts: dict[str, float], values: dict[str, float | None]) -> list[Part]:
    total = sum(parts.values())
    out = []
    for name, weight in parts.items():
        value = float(values.get(name) or 0.0)
        out.append(Part(name, value, weight, weight / total * value))
    return out


def clamp01(expression: Any) -> Any:
    """SQL: ``expression`` within [0, 1], NULL → 0."""
    value = func.coalesce(expression, 0.0)
    return case((value < 0, 0.0), (value > 1, 1.0), else_=value)
