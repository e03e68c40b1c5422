"""The demo's follower tiers (used until the metrics capability's tier presets are wired in)."""

from __future__ import annotations

import polars as pl

# Follower bands (Later x Fohr / HypeAuditor's five tiers).
TIER_BANDS: tuple[tuple[str, float], ...] = (
    ("nano", 10_000),
    ("micro", 50_000),
    ("mid", 500_000),
    ("macro", 1_000_000),
    ("mega", float("inf")),
)


def tier_of(followers: pl.Expr) -> pl.Expr:
    expr = pl.lit(TIER_BANDS[-1][0])
    for name, upper in reversed(TIER_BANDS[:-1]):
        expr = pl.when(followers < upper).then(pl.lit(name)).otherwise(expr)
    return expr
