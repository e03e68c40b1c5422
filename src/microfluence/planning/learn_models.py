"""Test-and-learn's statistics (docs/planning.md, "Test-and-learn"): empirical-Bayes priors
fitted by marginal likelihood over the tested creators, their conjugate posteriors, credible
intervals and Monte Carlo draws — every step over all creators at once (NumPy, SciPy).

* Rates out of trials (conversion: orders out of visits): **beta-binomial**.
* Counts per exposure (orders per visit, clicks per post, clicks per unit of fee):
  **gamma-Poisson**.
* Order values: **gamma-gamma** (each creator's order values Gamma(κ, θᵢ), θᵢ ~ Gamma(q, γ);
  Fader, Hardie & Lee 2005), so a creator's mean order value κ/θᵢ is shrunk towards the
  population's.

A prior is fitted when at least :data:`MIN_GROUPS` creators have data and at least one event
happened; otherwise a weak prior centred on the pooled (Jeffreys-smoothed) value is used, and
``method`` says which.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np

LOW, HIGH = 0.025, 0.975  # the quantiles of a 95 % equal-tailed credible interval
MIN_GROUPS = 3
FITTED = "marginal likelihood"
WEAK = "weak (too few creators with data to fit)"
# Bounds of the fitted hyperparameters (log scale): a prior worth between half a trial and
# 100,000 trials, a mean rate strictly inside (0, 1).
STRENGTH = (np.log(0.5), np.log(1e5))
SHAPE = (np.log(0.05), np.log(1e5))
KAPPA = (np.log(0.05), np.log(1e3))
Q_MINUS_ONE = (np.log(0.5), np.log(1e5))
EPS = 1e-9
MIN_EXPOSURE = 1e-6  # less exposure than this (a millionth of a post or of a unit of fee): none


@dataclass(frozen=True)
class BetaPrior:
    """p ~ Beta(alpha, beta)."""

    alpha: float
    beta: float
    method: str

    @property
    def mean(self) -> float:
        return self.alpha / (self.alpha + self.beta)


@dataclass(frozen=True)
class GammaPrior:
    """λ ~ Gamma(shape, rate): mean shape / rate."""

    shape: float
    rate: float
    method: str

    @property
    def mean(self) -> float:
        return self.shape / self.rate


@dataclass(frozen=True)
class ValuePrior:
    """Order values x ~ Gamma(kappa, θ) (mean κ/θ), θ ~ Gamma(q, gamma): a creator's mean
    order value κ/θ has prior mean κγ/(q − 1)."""

    kappa: float
    q: float
    gamma: float
    method: str

    @property
    def mean(self) -> float:
        return self.kappa * self.gamma / (self.q - 1)


def _arrays(*values: object) -> list[np.ndarray]:
    return [np.asarray(v, dtype=float) for v in values]


def _best_start(objective, grid: np.ndarray) -> np.ndarray:  # type: ignore[no-untyped-def]
    with np.errstate(all="ignore"):
        scores = np.array([objective(x) for x in grid])
    return grid[int(np.nanargmin(np.where(np.isfinite(scores), scores, np.inf)))]


# --- beta-binomial ---------------------------------------------------------------------------


def beta_binomial_loglik(k: np.ndarray, n: np.ndarray, a: float, b: float) -> float:
    """Σ log P(kᵢ | nᵢ, a, b) up to the binomial coefficients (which do not depend on a, b)."""
    from scipy import special

    return float(np.sum(special.betaln(k + a, n - k + b) - special.betaln(a, b)))


def fit_beta_binomial(successes: object, trials: object) -> BetaPrior:
    """The Beta(a, b) maximising the beta-binomial marginal likelihood of ``successes`` out of
    ``trials`` (rows with no trial carry no information); parameterised by the mean
    μ = a/(a+b) and the strength a + b. Weak prior Beta(2μ, 2(1−μ)) around the pooled rate
    μ = (Σk + ½)/(Σn + 1) when too few rows have trials or no success was seen."""
    from scipy import optimize, special

    k, n = _arrays(successes, trials)
    keep = n > 0
    k, n = k[keep], n[keep]
    pooled = (k.sum() + 0.5) / (n.sum() + 1.0)
    if keep.sum() < MIN_GROUPS or k.sum() == 0 or k.sum() == n.sum():
        return BetaPrior(2 * pooled, 2 * (1 - pooled), WEAK)

    def negative(x: np.ndarray) -> float:
        mean, strength = special.expit(x[0]), np.exp(x[1])
        return -beta_binomial_loglik(k, n, mean * strength, (1 - mean) * strength)

    logit = float(special.logit(np.clip(pooled, 1e-6, 1 - 1e-6)))
    grid = np.array([[logit, s] for s in np.linspace(*STRENGTH, 14)])
    with np.errstate(all="ignore"):  # the optimiser tries the bounds: log(0) is -inf there
        found = optimize.minimize(
            negative,
            _best_start(negative, grid),
            method="L-BFGS-B",
            bounds=[(special.logit(1e-6), special.logit(1 - 1e-6)), STRENGTH],
        )
    mean, strength = special.expit(found.x[0]), np.exp(found.x[1])
    return BetaPrior(float(mean * strength), float((1 - mean) * strength), FITTED)


# --- gamma-Poisson ---------------------------------------------------------------------------


def gamma_poisson_loglik(k: np.ndarray, t: np.ndarray, shape: float, rate: float) -> float:
    """Σ log P(kᵢ | exposure tᵢ) under the negative binomial (Poisson mixed over a gamma), up
    to the terms free of the hyperparameters."""
    from scipy import special

    return float(
        np.sum(
            special.gammaln(k + shape)
            - special.gammaln(shape)
            + shape * np.log(rate / (rate + t))
            + k * np.log(t / (rate + t))
        )
    )


def fit_gamma_poisson(counts: object, exposure: object) -> GammaPrior | None:
    """The Gamma(shape, rate) maximising the negative-binomial marginal likelihood of
    ``counts`` over ``exposure`` (mean and shape as parameters). None when nothing was exposed;
    a weak prior (shape 1, mean the pooled rate (Σk + ½)/Σt) when too few rows are exposed or
    no event was seen."""
    from scipy import optimize

    k, t = _arrays(counts, exposure)
    keep = t > MIN_EXPOSURE
    k, t = k[keep], t[keep]
    if not keep.any():
        return None
    pooled = (k.sum() + 0.5) / t.sum()
    if keep.sum() < MIN_GROUPS or k.sum() == 0:
        return GammaPrior(1.0, 1.0 / pooled, WEAK)

    def negative(x: np.ndarray) -> float:
        mean, shape = np.exp(x[0]), np.exp(x[1])
        return -gamma_poisson_loglik(k, t, shape, shape / mean)

    log_mean = float(np.log(pooled))
    grid = np.array([[log_mean, s] for s in np.linspace(*SHAPE, 14)])
    with np.errstate(all="ignore"):  # the optimiser tries the bounds: log(0) is -inf there
        found = optimize.minimize(
            negative,
            _best_start(negative, grid),
            method="L-BFGS-B",
            bounds=[(log_mean - 12, log_mean + 12), SHAPE],
        )
    mean, shape = np.exp(found.x[0]), np.exp(found.x[1])
    return GammaPrior(float(shape), float(shape / mean), FITTED)


# --- gamma-gamma order values ---------------------------------------------------------------


def gamma_gamma_loglik(
    m: np.ndarray, total: np.ndarray, log_total: np.ndarray, kappa: float, q: float, gamma: float
) -> float:
    """Σ over creators of log p(their order values) with θ integrated out: m orders summing to
    ``total``, their logs summing to ``log_total``."""
    from scipy import special

    return float(
        np.sum(
            (kappa - 1) * log_total
            - m * special.gammaln(kappa)
            + special.gammaln(q + kappa * m)
            - special.gammaln(q)
            + q * np.log(gamma)
            - (q + kappa * m) * np.log(gamma + total)
        )
    )


def fit_gamma_gamma(orders: object, total: object, log_total: object) -> ValuePrior | None:
    """κ, q, γ maximising the gamma-gamma marginal likelihood of the creators' order values
    (``orders`` counts, ``total`` Σ values, ``log_total`` Σ log values; values > 0). None
    without an order; with too few (under 3 orders or :data:`MIN_GROUPS` creators), κ from
    the pooled values' moments (mean²/variance, 1 — exponential — under 2 orders), q = 2 and
    the pooled mean value as the prior mean."""
    from scipy import optimize

    m, s, logs = _arrays(orders, total, log_total)
    keep = (m > 0) & (s > MIN_EXPOSURE)
    m, s, logs = m[keep], s[keep], logs[keep]
    if not keep.any():
        return None
    mean_value = s.sum() / m.sum()
    if keep.sum() < MIN_GROUPS or m.sum() < MIN_GROUPS:
        return _weak_value_prior(m, s, mean_value)

    def negative(x: np.ndarray) -> float:
        kappa, q = np.exp(x[0]), 1 + np.exp(x[1])
        gamma = np.exp(x[2]) * (q - 1) / kappa
        return -gamma_gamma_loglik(m, s, logs, kappa, q, gamma)

    log_mean = float(np.log(mean_value))
    grid = np.array(
        [[a, b, log_mean] for a in np.linspace(*KAPPA, 6) for b in np.linspace(*Q_MINUS_ONE, 6)]
    )
    with np.errstate(all="ignore"):  # the optimiser tries the bounds: log(0) is -inf there
        found = optimize.minimize(
            negative,
            _best_start(negative, grid),
            method="L-BFGS-B",
            bounds=[KAPPA, Q_MINUS_ONE, (log_mean - 10, log_mean + 10)],
        )
    kappa, q = float(np.exp(found.x[0])), float(1 + np.exp(found.x[1]))
    return ValuePrior(kappa, q, float(np.exp(found.x[2]) * (q - 1) / kappa), FITTED)


def _weak_value_prior(m: np.ndarray, s: np.ndarray, mean_value: float) -> ValuePrior:
    means = s / m
    spread = np.average((means - mean_value) ** 2, weights=m) if m.sum() >= 2 else 0.0
    kappa = float(np.clip(mean_value**2 / spread, 0.05, 1e3)) if spread > 0 else 1.0
    return ValuePrior(kappa, 2.0, mean_value / kappa, WEAK)


# --- posteriors -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Posterior:
    """Per creator: the posterior's two parameters, mean and 95 % interval (arrays)."""

    first: np.ndarray
    second: np.ndarray
    mean: np.ndarray
    low: np.ndarray
    high: np.ndarray


def _nan(size: int) -> Posterior:
    empty = np.full(size, np.nan)
    return Posterior(empty, empty, empty, empty, empty)


def beta_posterior(prior: BetaPrior, successes: object, trials: object) -> Posterior:
    from scipy import stats

    k, n = _arrays(successes, trials)
    a, b = prior.alpha + k, prior.beta + n - k
    return Posterior(a, b, a / (a + b), stats.beta.ppf(LOW, a, b), stats.beta.ppf(HIGH, a, b))


def gamma_posterior(prior: GammaPrior | None, counts: object, exposure: object) -> Posterior:
    from scipy import stats

    k, t = _arrays(counts, exposure)
    if prior is None:
        return _nan(k.size)
    shape, rate = prior.shape + k, prior.rate + t
    return Posterior(
        shape,
        rate,
        shape / rate,
        stats.gamma.ppf(LOW, shape, scale=1 / rate),
        stats.gamma.ppf(HIGH, shape, scale=1 / rate),
    )


def value_posterior(prior: ValuePrior | None, orders: object, total: object) -> Posterior:
    """θ's posterior Gamma(q + κm, γ + Σx) and the mean order value κ/θ: its mean
    κ(γ + Σx)/(q + κm − 1) and 95 % interval (κ over θ's upper and lower quantiles)."""
    from scipy import stats

    m, s = _arrays(orders, total)
    if prior is None:
        return _nan(m.size)
    shape, rate = prior.q + prior.kappa * m, prior.gamma + s
    kappa = prior.kappa
    with np.errstate(divide="ignore", over="ignore"):  # a quantile of 0: an unbounded value
        return Posterior(
            shape,
            rate,
            kappa * rate / (shape - 1),
            kappa / stats.gamma.ppf(HIGH, shape, scale=1 / rate),
            kappa / stats.gamma.ppf(LOW, shape, scale=1 / rate),
        )


def gamma_draws(rng: np.random.Generator, post: Posterior, draws: int) -> np.ndarray:
    """``draws`` × creators samples of a gamma posterior (NaN where it is undefined)."""
    shape = np.nan_to_num(post.first, nan=1.0)
    rate = np.nan_to_num(post.second, nan=1.0)
    with np.errstate(divide="ignore", over="ignore"):
        sample = rng.gamma(shape, 1 / rate, size=(draws, shape.size))
    return np.where(np.isnan(post.first), np.nan, sample)


def interval(sample: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Mean and 95 % equal-tailed interval of each column of ``sample`` (draws × creators);
    a column of NaN (no posterior) gives NaN."""
    if sample.shape[1] == 0:
        empty = np.empty(0)
        return empty, empty, empty
    missing = np.isnan(sample)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        if (missing.all(axis=0) | ~missing.any(axis=0)).all():  # whole columns: the fast path
            filled = np.where(missing, 0.0, sample)
            low, high = np.quantile(filled, [LOW, HIGH], axis=0)
            gone = missing[0]
            return (
                np.where(gone, np.nan, filled.mean(axis=0)),
                np.where(gone, np.nan, low),
                np.where(gone, np.nan, high),
            )
        low, high = np.nanquantile(sample, [LOW, HIGH], axis=0)
        return np.nanmean(sample, axis=0), low, high


def share_above(sample: np.ndarray, threshold: float) -> np.ndarray:
    """Per column, the share of draws above ``threshold`` (NaN where the draws are NaN)."""
    above = (sample > threshold).mean(axis=0)
    return np.where(np.isnan(sample).all(axis=0), np.nan, above)
