"""Simulated test rounds for test-and-learn: creators whose true conversion rate, order value
and clicks per unit of fee are drawn from known populations (a fixed seed), some of them planted
as clearly better, their measured sums as the store would give them
(planning.learn_posteriors.TESTED_SCHEMA)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import polars as pl

from microfluence.planning.learn_posteriors import TESTED_SCHEMA


@dataclass
class Round:
    tested: pl.DataFrame
    conversion: np.ndarray  # the true rates, per creator
    orders_per_click: np.ndarray
    order_value: np.ndarray  # true mean order value
    revenue_per_click: np.ndarray
    clicks_per_post: np.ndarray


def simulate(  # noqa: PLR0913  every knob of the population is a parameter by design
    n: int,
    *,
    seed: int,
    planted: Sequence[int] = (),
    planted_rate: float = 0.08,
    conversion: tuple[float, float] = (4.0, 150.0),
    value: tuple[float, float, float] = (4.0, 6.0, 60.0),  # κ, q, prior mean value
    clicks_per_post: tuple[float, float] = (3.0, 100.0),  # gamma shape, mean
    fee: tuple[float, float] = (40.0, 80.0),  # per post
    zero_clicks: Sequence[int] = (),
) -> Round:
    rng = np.random.default_rng(seed)
    p = rng.beta(*conversion, n)
    p[list(planted)] = planted_rate
    posts = rng.integers(1, 4, n)
    lam = rng.gamma(clicks_per_post[0], clicks_per_post[1] / clicks_per_post[0], n)
    clicks = rng.poisson(lam * posts)
    clicks[list(zero_clicks)] = 0
    orders = rng.binomial(clicks, p)
    kappa, q, mean_value = value
    gamma = mean_value * (q - 1) / kappa
    theta = rng.gamma(q, 1 / gamma, n)
    values = rng.gamma(kappa, 1.0, orders.sum()) / np.repeat(theta, orders)
    owner = np.repeat(np.arange(n), orders)
    revenue = np.bincount(owner, weights=values, minlength=n)
    logs = np.bincount(owner, weights=np.log(values), minlength=n)
    tested = pl.DataFrame(
        {
            "account_id": np.arange(1, n + 1),
            "creator_id": np.arange(1, n + 1),
            "creator_name": [f"creator {i}" for i in range(n)],
            "account": [f"instagram:c{i}" for i in range(n)],
            "deals": np.ones(n, dtype=np.int64),
            "unique_clicks": clicks,
            "orders": orders,
            "paying_orders": orders,
            "revenue": revenue,
            "revenue_log_sum": logs,
            "posts": posts,
            "fixed_cost": (rng.uniform(*fee, n) * posts).round(2),
            "commission_rate": np.full(n, 0.1),
        }
    ).cast(TESTED_SCHEMA)  # type: ignore[arg-type]
    mean_value = kappa / theta
    return Round(tested, p, p, mean_value, p * mean_value, lam)
