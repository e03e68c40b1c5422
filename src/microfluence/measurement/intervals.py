"""Intervals where counts are small (docs/measurement.md, "Intervals"), vectorised.

* **Conversion rate**: the Wilson score interval (Wilson 1927; recommended over the normal
  approximation for small counts by Brown, Cai & DasGupta 2001).
* **ROI per creator**: the exact Poisson interval (Garwood 1936) for the expected number of
  orders, each bound times the creator's mean net revenue per order, the costs at each bound
  recomputed (the commission follows the revenue); ROI is then read at both bounds.
"""

from __future__ import annotations

import numpy as np
import polars as pl

Z95 = 1.959963984540054  # the standard normal's 97.5 % quantile: a 95 % two-sided interval
ALPHA = 0.05


def wilson(successes: str, trials: str, z: float = Z95) -> tuple[pl.Expr, pl.Expr]:
    """Wilson's 95 % interval for ``successes / trials``: null where ``trials`` is 0 or fewer
    than ``successes`` (then the ratio is not a proportion: code orders without clicks)."""
    k, n = pl.col(successes).cast(pl.Float64), pl.col(trials).cast(pl.Float64)
    p = k / n
    z2 = z * z
    centre = (p + z2 / (2 * n)) / (1 + z2 / n)
    half = z / (1 + z2 / n) * ((p * (1 - p) / n + z2 / (4 * n * n)).sqrt())
    defined = (n > 0) & (k <= n)
    # At k = 0 (k = n) the bound is exactly 0 (1); computed, it is off by rounding.
    low = pl.when(defined & (k == 0)).then(0.0).when(defined).then(centre - half)
    high = pl.when(defined & (k == n)).then(1.0).when(defined).then(centre + half)
    return low, high


def poisson_bounds(counts: np.ndarray, alpha: float = ALPHA) -> tuple[np.ndarray, np.ndarray]:
    """Garwood's exact interval for a Poisson mean, given the observed ``counts``:
    ``[χ²(α/2; 2k)/2, χ²(1−α/2; 2k+2)/2]``, the lower bound 0 when k = 0."""
    from scipy.stats import chi2  # scipy.stats costs about 0.9 s to import: only when used

    k = np.asarray(counts, dtype=float)
    with np.errstate(invalid="ignore"):
        low = np.where(k > 0, chi2.ppf(alpha / 2, 2 * k) / 2, 0.0)
    high = chi2.ppf(1 - alpha / 2, 2 * k + 2) / 2
    return low, high


def roi_bounds(frame: pl.DataFrame) -> pl.DataFrame:
    """``roi_low`` and ``roi_high`` for each row of ``frame`` (columns ``orders``,
    ``net_revenue``, ``fixed_cost`` and ``rate``, the commission on revenue): ROI at revenue
    = each Poisson bound of the orders × the mean net revenue per order; null without orders
    or where the cost at a bound is 0."""
    n = frame["orders"].to_numpy().astype(float)
    low, high = poisson_bounds(n)
    with np.errstate(divide="ignore", invalid="ignore"):
        mean = np.where(n > 0, frame["net_revenue"].to_numpy() / n, np.nan)
        fixed = frame["fixed_cost"].to_numpy().astype(float)
        rate = frame["rate"].fill_null(0.0).to_numpy().astype(float)

        def roi(revenue: np.ndarray) -> np.ndarray:
            cost = fixed + rate * revenue
            return np.where(cost > 0, (revenue - cost) / cost, np.nan)

        a, b = roi(low * mean), roi(high * mean)
    lo, hi = np.minimum(a, b), np.maximum(a, b)
    return pl.DataFrame({"roi_low": lo, "roi_high": hi}).with_columns(pl.all().fill_nan(None))
