"""From the tested creators' measured results to their posteriors, flags and draws
(docs/planning.md, "Test-and-learn"): one frame in, one frame out, no loop over creators.

The input (:data:`TESTED_SCHEMA`, one row per account; ``learn_data.tested_creators`` reads it
from the store) holds sums only: unique clicks, orders, the orders that kept revenue after
refunds (``paying_orders``) with the sum of their values and of their logs, posts, the fixed
cost (fee + product + shipping) and the commission rate.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import polars as pl
import polars.selectors as cs

from microfluence.planning import learn_models as M

TESTED_SCHEMA: dict[str, pl.DataType | type[pl.DataType]] = {
    "account_id": pl.Int64,
    "creator_id": pl.Int64,
    "creator_name": pl.String,
    "account": pl.String,
    "deals": pl.Int64,
    "unique_clicks": pl.Int64,
    "orders": pl.Int64,
    "paying_orders": pl.Int64,
    "revenue": pl.Float64,
    "revenue_log_sum": pl.Float64,
    "posts": pl.Int64,
    "fixed_cost": pl.Float64,
    "commission_rate": pl.Float64,
}
CLEAR = 0.95  # a flag needs this posterior probability
ABOVE, BELOW, AVERAGE, UNSURE = "above", "below", "average", "not enough data"
NO_FEE = "no fixed cost"


@dataclass(frozen=True)
class Priors:
    """The empirical-Bayes priors, fitted over the tested creators (None: nothing to fit)."""

    conversion: M.BetaPrior
    orders_per_click: M.GammaPrior | None
    paying_orders_per_click: M.GammaPrior | None
    order_value: M.ValuePrior | None
    clicks_per_post: M.GammaPrior | None
    clicks_per_fee: M.GammaPrior | None


@dataclass(frozen=True)
class Pooled:
    """The campaign(s)' pooled rates the flags compare with (None: undefined)."""

    conversion_rate: float | None
    revenue_per_click: float | None
    roi: float | None


@dataclass(frozen=True)
class Fit:
    frame: pl.DataFrame
    priors: Priors
    pooled: Pooled
    roi_draws: np.ndarray  # draws × creators, NaN for creators without a fixed cost
    new_roi_draws: np.ndarray | None  # draws of a creator not tested yet (the priors)


def empty_tested() -> pl.DataFrame:
    return pl.DataFrame(schema=TESTED_SCHEMA)


def _ratio(num: float, den: float) -> float | None:
    return num / den if den > 0 else None


def pooled_rates(t: pl.DataFrame) -> Pooled:
    visits = t.select(pl.max_horizontal("unique_clicks", "orders")).to_series().sum()
    paid = t.filter(pl.col("fixed_cost") > 0)
    cost = float((paid["fixed_cost"] + paid["commission_rate"] * paid["revenue"]).sum())
    return Pooled(
        conversion_rate=_ratio(float(t["orders"].sum()), float(visits)),
        revenue_per_click=_ratio(float(t["revenue"].sum()), float(t["unique_clicks"].sum())),
        roi=_ratio(float(paid["revenue"].sum()) - cost, cost),
    )


def fit_priors(t: pl.DataFrame) -> Priors:
    visits = np.maximum(t["unique_clicks"].to_numpy(), t["orders"].to_numpy())
    clicks = t["unique_clicks"].to_numpy()
    return Priors(
        conversion=M.fit_beta_binomial(t["orders"].to_numpy(), visits),
        orders_per_click=M.fit_gamma_poisson(t["orders"].to_numpy(), clicks),
        paying_orders_per_click=M.fit_gamma_poisson(t["paying_orders"].to_numpy(), clicks),
        order_value=M.fit_gamma_gamma(
            t["paying_orders"].to_numpy(), t["revenue"].to_numpy(), t["revenue_log_sum"].to_numpy()
        ),
        clicks_per_post=M.fit_gamma_poisson(clicks, t["posts"].to_numpy()),
        clicks_per_fee=M.fit_gamma_poisson(clicks, t["fixed_cost"].to_numpy()),
    )


def _columns(name: str, post: M.Posterior, first: str, second: str) -> dict[str, np.ndarray]:
    return {
        f"{name}_mean": post.mean,
        f"{name}_low": post.low,
        f"{name}_high": post.high,
        f"{name}_{first}": post.first,
        f"{name}_{second}": post.second,
    }


def _roi(revenue_per_fee: np.ndarray, rate: np.ndarray) -> np.ndarray:
    """ROI when each unit of fixed cost brings ``revenue_per_fee`` of revenue and the
    commission is ``rate`` × revenue: (r − 1 − rate·r) / (1 + rate·r)."""
    return (revenue_per_fee * (1 - rate) - 1) / (1 + rate * revenue_per_fee)


def _flags(p_above: np.ndarray, p_below: np.ndarray, unsure: np.ndarray) -> np.ndarray:
    return np.select(
        [p_above > CLEAR, p_below > CLEAR, unsure], [ABOVE, BELOW, UNSURE], default=AVERAGE
    )


def too_little_data(orders: np.ndarray, visits: np.ndarray, pooled: float | None) -> np.ndarray:
    """True where the creator's own data (Jeffreys' 95 % interval, Beta(k + ½, n − k + ½)) can
    still not tell a rate of half the pooled one from one of twice it."""
    from scipy import stats  # scipy.stats costs about 0.9 s to import: only when used

    if pooled is None or pooled <= 0:
        return np.ones(orders.size, dtype=bool)
    low = stats.beta.ppf(M.LOW, orders + 0.5, visits - orders + 0.5)
    high = stats.beta.ppf(M.HIGH, orders + 0.5, visits - orders + 0.5)
    return (low < pooled / 2) & (high > min(2 * pooled, 1.0))


def fit(tested: pl.DataFrame, *, draws: int = 2000, seed: int = 0) -> Fit:
    """Priors, posteriors, intervals, flags and ROI draws of the ``tested`` creators."""
    from scipy import stats  # scipy.stats costs about 0.9 s to import: only when used

    t = tested.cast(TESTED_SCHEMA)  # type: ignore[arg-type]
    priors, pooled = fit_priors(t), pooled_rates(t)
    rng = np.random.default_rng(seed)
    k = t["orders"].to_numpy().astype(float)
    clicks = t["unique_clicks"].to_numpy().astype(float)
    visits = np.maximum(clicks, k)
    paying = t["paying_orders"].to_numpy().astype(float)
    fee = t["fixed_cost"].to_numpy()
    rate = t["commission_rate"].to_numpy()

    conversion = M.beta_posterior(priors.conversion, k, visits)
    per_click = M.gamma_posterior(priors.orders_per_click, k, clicks)
    paying_rate = M.gamma_posterior(priors.paying_orders_per_click, paying, clicks)
    value = M.value_posterior(priors.order_value, paying, t["revenue"].to_numpy())
    per_post = M.gamma_posterior(priors.clicks_per_post, clicks, t["posts"].to_numpy())
    per_fee = M.gamma_posterior(priors.clicks_per_fee, clicks, fee)

    value_draws = _value_draws(rng, priors.order_value, value, draws)
    rpc = M.gamma_draws(rng, paying_rate, draws) * value_draws
    roi = np.where(fee > 0, _roi(M.gamma_draws(rng, per_fee, draws) * rpc, rate), np.nan)
    rpc_mean, rpc_low, rpc_high = M.interval(rpc)
    roi_mean, roi_low, roi_high = M.interval(roi)

    unsure = too_little_data(k, visits, pooled.conversion_rate)
    # Nothing sold yet (a pooled rate of 0, an ROI of −100 %): every posterior lies above
    # it by construction, which says nothing about who is better — no probability, no flag.
    sold = float(t["revenue"].sum()) > 0 and k.sum() > 0
    nan = np.full(k.size, np.nan)
    p_conv = (
        stats.beta.sf(pooled.conversion_rate, conversion.first, conversion.second)
        if sold and pooled.conversion_rate
        else nan
    )
    p_rpc = (
        M.share_above(rpc, pooled.revenue_per_click) if sold and pooled.revenue_per_click else nan
    )
    p_roi = M.share_above(roi, pooled.roi) if sold and pooled.roi is not None else nan
    frame = t.with_columns(
        pl.Series("visits", visits.astype(np.int64)),
        pl.Series("conversion_rate", np.where(visits > 0, k / np.maximum(visits, 1), np.nan)),
        pl.Series(
            "revenue_per_click",
            np.where(clicks > 0, t["revenue"].to_numpy() / np.maximum(clicks, 1), np.nan),
        ),
        **_as_series(_columns("conversion", conversion, "alpha", "beta")),
        **_as_series(_columns("orders_per_click", per_click, "shape", "rate")),
        **_as_series(_columns("paying_orders_per_click", paying_rate, "shape", "rate")),
        **_as_series(_columns("order_value", value, "theta_shape", "theta_rate")),
        **_as_series(_columns("clicks_per_post", per_post, "shape", "rate")),
        **_as_series(_columns("clicks_per_fee", per_fee, "shape", "rate")),
        **_as_series(
            {
                "revenue_per_click_mean": rpc_mean,
                "revenue_per_click_low": rpc_low,
                "revenue_per_click_high": rpc_high,
                "roi_mean": roi_mean,
                "roi_low": roi_low,
                "roi_high": roi_high,
                "p_conversion_above": p_conv,
                "p_revenue_per_click_above": p_rpc,
                "p_roi_above": p_roi,
                "p_pays_back": M.share_above(roi, 0.0),
            }
        ),
        conversion_flag=pl.Series(_flags(p_conv, 1 - p_conv, unsure)),
        revenue_flag=pl.Series(_flags(p_rpc, 1 - p_rpc, unsure)),
        roi_flag=pl.Series(np.where(fee > 0, _flags(p_roi, 1 - p_roi, unsure), NO_FEE)),
    ).with_columns(  # NaN or infinite (no data, or a value without bound): null
        pl.when(cs.float().is_finite()).then(cs.float()).name.keep()
    )
    new = _new_creator_draws(rng, priors, rate[fee > 0], draws)
    return Fit(frame, priors, pooled, roi, new)


def _as_series(columns: dict[str, np.ndarray]) -> dict[str, pl.Series]:
    return {name: pl.Series(name, np.asarray(v, dtype=float)) for name, v in columns.items()}


def _value_draws(
    rng: np.random.Generator, prior: M.ValuePrior | None, post: M.Posterior, draws: int
) -> np.ndarray:
    """Draws of each creator's mean order value κ/θ, θ from its posterior."""
    if prior is None:
        return np.full((draws, post.mean.size), np.nan)
    return prior.kappa / M.gamma_draws(rng, post, draws)


def _new_creator_draws(
    rng: np.random.Generator, priors: Priors, rates: np.ndarray, draws: int
) -> np.ndarray | None:
    """ROI draws of a creator not tested yet: each rate drawn from its prior (the population
    the tested creators came from), at the tested creators' mean commission rate."""
    fee, paying, value = priors.clicks_per_fee, priors.paying_orders_per_click, priors.order_value
    if fee is None or paying is None or value is None:
        return None
    clicks = rng.gamma(fee.shape, 1 / fee.rate, draws)
    orders = rng.gamma(paying.shape, 1 / paying.rate, draws)
    mean_value = value.kappa / rng.gamma(value.q, 1 / value.gamma, draws)
    rate = float(rates.mean()) if rates.size else 0.0
    return _roi(clicks * orders * mean_value, np.full(draws, rate))
