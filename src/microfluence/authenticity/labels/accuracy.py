"""Proportions measured on labels, with Wilson score intervals.

Wilson, E. B. (1927), "Probable inference, the law of succession, and statistical inference",
*JASA* 22(158), 209–212; recommended over the normal ("Wald") interval for small n and
proportions near 0 or 1 by Brown, Cai & DasGupta (2001), "Interval estimation for a binomial
proportion", *Statistical Science* 16(2), 101–133. Vectorised: one call for any number of
proportions (the per-account shares of labelled fakes).
"""

from __future__ import annotations

from dataclasses import dataclass
from statistics import NormalDist

import numpy as np


@dataclass(frozen=True)
class Proportion:
    """k of n, as a share with its interval (all None when n is 0)."""

    k: int
    n: int
    value: float | None
    low: float | None
    high: float | None

    def as_dict(self) -> dict[str, float | int | None]:
        return dict(self.__dict__)


def wilson(k: np.ndarray, n: np.ndarray, confidence: float) -> tuple[np.ndarray, np.ndarray]:
    """Wilson score intervals of k/n, element-wise; NaN where n is 0."""
    k = np.asarray(k, dtype=np.float64)
    n = np.asarray(n, dtype=np.float64)
    z = NormalDist().inv_cdf(0.5 + confidence / 2)
    with np.errstate(divide="ignore", invalid="ignore"):
        p = k / n
        denominator = 1 + z * z / n
        centre = (p + z * z / (2 * n)) / denominator
        half = z / denominator * np.sqrt(p * (1 - p) / n + z * z / (4 * n * n))
    return np.clip(centre - half, 0.0, 1.0), np.clip(centre + half, 0.0, 1.0)


def proportion(k: int, n: int, confidence: float) -> Proportion:
    if n == 0:
        return Proportion(k=k, n=n, value=None, low=None, high=None)
    low, high = wilson(np.array([k]), np.array([n]), confidence)
    return Proportion(k=k, n=n, value=k / n, low=float(low[0]), high=float(high[0]))
