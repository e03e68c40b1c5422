"""Shared arithmetic of the signals: robust z-scores and the 0-100 scales of the components."""

from __future__ import annotations

import polars as pl

# Iglewicz & Hoaglin (1993), "How to Detect and Handle Outliers": the modified z-score
# M = 0.6745 (x - median) / MAD, an outlier when |M| > 3.5. 0.6745 is the 0.75 quantile of the
# standard normal, so M is comparable to an ordinary z-score for normal data.
MAD_TO_Z = 0.6745
MODIFIED_Z_OUTLIER = 3.5


def linear_score(value: pl.Expr, good: float, bad: float) -> pl.Expr:
    """100 at ``good`` or better, 0 at ``bad`` or worse, linear between (NULL stays NULL)."""
    fraction = (value - good) / (bad - good)
    return (100.0 * (1.0 - fraction.clip(0.0, 1.0))).cast(pl.Float64)


def modified_z(value: pl.Expr, median: pl.Expr, mad: pl.Expr, mad_floor: float) -> pl.Expr:
    """The modified z-score with the MAD floored, so a perfectly flat history cannot divide by 0."""
    return MAD_TO_Z * (value - median) / pl.max_horizontal(mad, pl.lit(mad_floor))


def ascii_boundaries(pattern: str) -> str:
    r"""``\b`` as an ASCII word boundary: our keywords are ASCII, and a Unicode ``\b`` makes the
    regex engine fall back to its slow path on non-ASCII text (40x slower, same matches)."""
    return pattern.replace(r"\b", r"(?-u:\b)")
