"""Forecasts per creator and deliverable: reach, engagements, clicks, conversions, revenue, each
with an interval, by Monte Carlo in arrays (rows × draws), never a loop over rows.

The model (docs/planning.md, "Forecasts"), per deliverable of format ``f``:

* engagement rate ``e`` — the account's median ER by followers (else its reported ER, else the
  published typical ER of its tier), log-normal with the sd its stored interval implies;
* engagements ``= F × e × g_f × ν`` with ``F`` followers, ``g_f`` the format's engagement
  factor and ``ν`` the post-to-post variation (log-normal, mean 1);
* reach ``= engagements / ρ`` for posts (``ρ`` engagement on reach), ``= F × s`` for a story
  (``s`` the story view rate); impressions are counted as reach;
* clicks ``~ Poisson(reach × CTR)``, conversions ``~ Binomial(clicks, CVR)``, revenue
  ``= conversions × AOV``; CTR and CVR are Beta posteriors from the workspace's measured
  campaigns (prior pseudo-counts around the defaults), AOV log-normal around its measured mean.
  A row of a tested account (columns ``tested_cvr_a``/``tested_cvr_b``, planning.tested) takes
  its own test-and-learn posterior ``CVR ~ Beta(tested_cvr_a, tested_cvr_b)`` instead, and, where
  its order value has a posterior mean, ``AOV = tested_aov_scale / θ`` with
  ``θ ~ Gamma(tested_aov_shape, tested_aov_rate)`` (mean ``scale × rate / (shape − 1)``).

Every log-normal factor has mean 1 times its centre (``exp(σZ − σ²/2)``), so the expected
values the planner optimises are the products of the centres, exactly what the draws average.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import polars as pl
from sqlalchemy import select
from sqlalchemy.orm import Session

from microfluence.campaigns.tables import Campaign
from microfluence.kernel.store.tables import Workspace
from microfluence.measurement import kpis as K
from microfluence.measurement import sources
from microfluence.measurement.emv import emv_rates
from microfluence.measurement.sources import Period
from microfluence.planning import rates

OUTCOMES = ("reach", "engagements", "clicks", "conversions", "revenue")
# Tanke, "Benchmark" glossary (2025): Instagram ER by tier (midpoints of 4–8 %, 2–5 %, 1–3 %,
# 0.5–1.5 %); story views 5–15 % of followers; conversion 0.5–3 %.
DEFAULT_ER = {"below nano": 0.06, "nano": 0.06, "micro": 0.035, "macro": 0.02, "mega": 0.01}
STORY_VIEW_RATE = (0.05, 0.15)
DEFAULT_CVR = 0.0175
# Buzzoole, "Influencer marketing performance benchmark": 20–30 % interactions on reach.
ENGAGEMENT_ON_REACH = (0.20, 0.30)
# Our assumptions (no published figure found): see docs/planning.md.
DEFAULT_CTR = 0.005
DEFAULT_AOV = 50.0
ER_LOG_SD = 0.35  # when the account has no stored ER interval
POST_LOG_SD = 0.5  # post-to-post variation of one account's engagements
AOV_LOG_SD = 0.3
CTR_PRIOR_N = 2_000.0  # pseudo-impressions behind the default CTR
CVR_PRIOR_N = 200.0  # pseudo-clicks behind the default CVR
ENGAGEMENT_FACTOR = {"feed_post": 1.0, "reel": 1.0, "video": 1.0, "short": 0.5, "story": 0.0}
Z90 = rates.BAND_Z


@dataclass(frozen=True)
class Rates:
    """The workspace's observed funnel, as Beta / log-normal parameters."""

    ctr_a: float
    ctr_b: float
    cvr_a: float
    cvr_b: float
    aov: float
    aov_log_sd: float
    impressions: float = 0.0
    clicks: float = 0.0
    orders: float = 0.0

    @property
    def ctr(self) -> float:
        return self.ctr_a / (self.ctr_a + self.ctr_b)

    @property
    def cvr(self) -> float:
        return self.cvr_a / (self.cvr_a + self.cvr_b)

    @property
    def basis(self) -> str:
        if self.impressions == 0 and self.clicks == 0:
            return "documented defaults (no measured campaign yet)"
        return (
            f"{self.impressions:,.0f} impressions, {self.clicks:,.0f} clicks and "
            f"{self.orders:,.0f} orders measured in this workspace, over the defaults"
        )


def funnel_rates(
    impressions: float, seen_clicks: float, clicks: float, orders: float, revenue: float
) -> Rates:
    """Beta posteriors of CTR (clicks on seen posts / their impressions) and CVR (orders /
    clicks) from counts, over the defaults; AOV from revenue / orders (else the default)."""
    clicks_in = min(seen_clicks, impressions)
    orders_in = min(orders, clicks)
    aov = revenue / orders if orders > 0 and revenue > 0 else DEFAULT_AOV
    return Rates(
        ctr_a=CTR_PRIOR_N * DEFAULT_CTR + clicks_in,
        ctr_b=CTR_PRIOR_N * (1 - DEFAULT_CTR) + max(impressions - clicks_in, 0.0),
        cvr_a=CVR_PRIOR_N * DEFAULT_CVR + orders_in,
        cvr_b=CVR_PRIOR_N * (1 - DEFAULT_CVR) + max(clicks - orders_in, 0.0),
        aov=aov,
        aov_log_sd=AOV_LOG_SD / np.sqrt(1.0 + orders),
        impressions=impressions,
        clicks=clicks,
        orders=orders,
    )


def workspace_rates(session: Session, workspace: Workspace) -> Rates:
    """The funnel measured over every campaign of the workspace (measurement.sources): CTR from
    the impressions of delivered posts and the unique clicks of the same deals, CVR from all
    unique clicks and orders, AOV from net revenue per order."""
    cpm = emv_rates(workspace)
    impressions = seen_clicks = all_clicks = orders = revenue = 0.0
    ids = session.scalars(select(Campaign.id).where(Campaign.workspace_id == workspace.id))
    for campaign_id in ids.all():  # one group of queries per campaign, never per row
        deal_map = sources.deals(session, workspace.id, campaign_id).select("creator_id", "deal_id")
        clicks = sources.clicks(session, workspace.id, campaign_id, deal_map, Period())
        sold = sources.orders(session, workspace.id, campaign_id, deal_map, Period())
        seen = K.post_sums(
            sources.posts(session, workspace.id, campaign_id, Period()), cpm, ["deal_id"]
        ).filter(pl.col("impressions") > 0)
        impressions += float(seen["impressions"].sum() or 0)
        seen_clicks += float(
            clicks.filter(pl.col("deal_id").is_in(seen["deal_id"].implode()))["unique_clicks"].sum()
            or 0
        )
        all_clicks += float(clicks["unique_clicks"].sum() or 0)
        orders += float(sold.height)
        revenue += float(sold["net_revenue"].sum() or 0)
    return funnel_rates(impressions, seen_clicks, all_clicks, orders, revenue)


@dataclass(frozen=True)
class Centres:
    """Per row (candidate × format) the centres of the model's factors."""

    reach: np.ndarray
    engagements: np.ndarray
    er_log_sd: np.ndarray
    story: np.ndarray  # True where the reach is a story's (views of followers)


def centres(frame: pl.DataFrame) -> Centres:
    """From a frame of followers, er, er_median_lo/hi (optional), platform and format."""
    followers = frame["followers"].to_numpy().astype("float64")
    tier = rates.tier_of(followers)
    default = np.vectorize(DEFAULT_ER.get, otypes=["float64"])(tier)
    er = frame["er"].to_numpy().astype("float64") if "er" in frame.columns else default
    er = np.where(np.isfinite(er) & (er > 0), np.minimum(er, 1.0), default)
    sd = np.full(len(followers), ER_LOG_SD)
    if {"er_median_lo", "er_median_hi"} <= set(frame.columns):
        lo = frame["er_median_lo"].to_numpy().astype("float64")
        hi = frame["er_median_hi"].to_numpy().astype("float64")
        ok = np.isfinite(lo) & np.isfinite(hi) & (lo > 0) & (hi > lo)
        sd = np.where(ok, np.log(np.where(ok, hi / np.where(ok, lo, 1.0), 1.0)) / (2 * 1.96), sd)
    plats = frame["platform"].to_numpy()
    fmts = frame["format"].to_numpy()
    eng_factor, story_pieces = _format_factors(plats, fmts)
    rho = np.sqrt(ENGAGEMENT_ON_REACH[0] * ENGAGEMENT_ON_REACH[1])
    story_rate = np.sqrt(STORY_VIEW_RATE[0] * STORY_VIEW_RATE[1])
    engagements = followers * er * eng_factor
    reach = engagements / rho + followers * story_rate * story_pieces
    return Centres(reach=reach, engagements=engagements, er_log_sd=sd, story=story_pieces > 0)


def _format_factors(plats: np.ndarray, fmts: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Engagement factor and number of stories of each row's package (a bundle sums its
    pieces)."""
    eng = np.zeros(len(fmts))
    stories = np.zeros(len(fmts))
    for fmt, g in ENGAGEMENT_FACTOR.items():
        eng += np.where(fmts == fmt, g, 0.0)
        stories += np.where(fmts == fmt, 1.0 if fmt == "story" else 0.0, 0.0)
    bundles = fmts == "bundle"
    if bundles.any():
        for platform in np.unique(plats[bundles]):
            mask = bundles & (plats == platform)
            package = rates.bundle_package(str(platform))
            eng[mask] = sum(ENGAGEMENT_FACTOR[f] * n for f, n in package.items())
            stories[mask] = package.get("story", 0)
    return eng, stories


TESTED_CVR = ("tested_cvr_a", "tested_cvr_b")  # per-row columns (planning.tested)


def _tested_cvr(frame: pl.DataFrame) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    if not set(TESTED_CVR) <= set(frame.columns):
        nan = np.full(frame.height, np.nan)
        return nan, nan, np.zeros(frame.height, dtype=bool)
    a, b = (frame[c].cast(pl.Float64).fill_null(np.nan).to_numpy() for c in TESTED_CVR)
    return a, b, np.isfinite(a) & np.isfinite(b) & (a > 0) & (b > 0)


def tested_rows(frame: pl.DataFrame) -> np.ndarray:
    """True where the row uses its account's own tested conversion rate."""
    return _tested_cvr(frame)[2]


def cvr_parameters(frame: pl.DataFrame, funnel: Rates) -> tuple[np.ndarray, np.ndarray]:
    """Per row, the Beta parameters of the conversion rate: the account's own tested posterior
    where the frame carries one (``tested_cvr_a``, ``tested_cvr_b``), else the funnel's."""
    a, b, own = _tested_cvr(frame)
    return np.where(own, a, funnel.cvr_a), np.where(own, b, funnel.cvr_b)


TESTED_AOV = ("tested_aov_scale", "tested_aov_shape", "tested_aov_rate")
# No order is worth this much: a posterior whose mean or draw goes beyond it is broken input
# (the workspace's funnel is used instead), and a draw is capped there so revenue stays finite.
MAX_AOV = 1e9


def tested_aov(frame: pl.DataFrame) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Per row the order value's ``scale / θ``, θ ~ Gamma(shape, rate), and where it applies
    (a finite mean: shape > 1); elsewhere safe placeholders (scale 0, shape 2, rate 1)."""
    n = frame.height
    if not set(TESTED_AOV) <= set(frame.columns):
        return np.zeros(n), np.full(n, 2.0), np.ones(n), np.zeros(n, dtype=bool)
    scale, shape, rate = (
        frame[c].cast(pl.Float64).fill_null(np.nan).to_numpy() for c in TESTED_AOV
    )
    own = np.isfinite(scale) & np.isfinite(shape) & np.isfinite(rate)
    own &= (scale > 0) & (shape > 1) & (rate > 0)
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        mean = scale * rate / (shape - 1)
    own &= np.isfinite(mean) & (mean <= MAX_AOV)
    return np.where(own, scale, 0.0), np.where(own, shape, 2.0), np.where(own, rate, 1.0), own


def aov_means(frame: pl.DataFrame, funnel: Rates) -> np.ndarray:
    """Per row the expected order value: the account's own posterior mean where it has one,
    else the funnel's AOV."""
    scale, shape, rate, own = tested_aov(frame)
    return np.where(own, scale * rate / (shape - 1), funnel.aov)


def expected(frame: pl.DataFrame, funnel: Rates) -> pl.DataFrame:
    """Expected reach, engagements, clicks, conversions and revenue per row (analytic); the
    conversion rate is the row's Beta mean a / (a + b) (:func:`cvr_parameters`), the order
    value the row's mean (:func:`aov_means`)."""
    c = centres(frame)
    clicks = c.reach * funnel.ctr
    cvr_a, cvr_b = cvr_parameters(frame, funnel)
    conversions = clicks * cvr_a / (cvr_a + cvr_b)
    return pl.DataFrame(
        {
            "reach": c.reach,
            "engagements": c.engagements,
            "clicks": clicks,
            "conversions": conversions,
            "revenue": conversions * aov_means(frame, funnel),
        }
    )


def _lognormal(rng: np.random.Generator, sd: np.ndarray | float, shape: tuple[int, int]):
    sd = np.broadcast_to(np.asarray(sd, dtype="float64").reshape(-1, 1), shape)
    return np.exp(sd * rng.standard_normal(shape) - sd**2 / 2)


def draw(
    frame: pl.DataFrame, funnel: Rates, *, draws: int = 1000, seed: int = 0
) -> dict[str, np.ndarray]:
    """Monte Carlo draws of every outcome: arrays of shape (rows, draws)."""
    rng = np.random.default_rng(seed)
    c = centres(frame)
    shape = (len(c.reach), draws)
    rho_sd = np.log(ENGAGEMENT_ON_REACH[1] / ENGAGEMENT_ON_REACH[0]) / (2 * Z90)
    story_sd = np.log(STORY_VIEW_RATE[1] / STORY_VIEW_RATE[0]) / (2 * Z90)
    er = _lognormal(rng, c.er_log_sd, shape)
    post = _lognormal(rng, POST_LOG_SD, shape)
    engagements = rng.poisson(c.engagements[:, None] * er * post).astype("float64")
    post_reach = (c.reach - _story_reach(c))[:, None] * er * post * _lognormal(rng, rho_sd, shape)
    story_reach = _story_reach(c)[:, None] * _lognormal(rng, story_sd, shape)
    reach = rng.poisson(post_reach + story_reach).astype("float64")
    ctr = rng.beta(funnel.ctr_a, funnel.ctr_b, size=shape)
    clicks = rng.poisson(reach * ctr).astype("float64")
    cvr_a, cvr_b = cvr_parameters(frame, funnel)
    cvr = rng.beta(cvr_a[:, None], cvr_b[:, None], size=shape)
    conversions = rng.binomial(clicks.astype("int64"), cvr).astype("float64")
    aov = funnel.aov * _lognormal(rng, funnel.aov_log_sd, shape)
    scale, theta_shape, theta_rate, own = tested_aov(frame)
    if own.any():  # the tested accounts' own order values: scale / θ, θ ~ Gamma(shape, rate)
        theta = rng.gamma(theta_shape[:, None], 1 / theta_rate[:, None], size=shape)
        with np.errstate(over="ignore", divide="ignore", invalid="ignore"):
            drawn = np.nan_to_num(scale[:, None] / theta, nan=MAX_AOV, posinf=MAX_AOV)
        aov = np.where(own[:, None], np.minimum(drawn, MAX_AOV), aov)
    return {
        "reach": reach,
        "engagements": engagements,
        "clicks": clicks,
        "conversions": conversions,
        "revenue": conversions * aov,
    }


def _story_reach(c: Centres) -> np.ndarray:
    """The part of the reach centre that comes from stories."""
    posts_reach = c.engagements / np.sqrt(ENGAGEMENT_ON_REACH[0] * ENGAGEMENT_ON_REACH[1])
    return c.reach - posts_reach


def forecast(
    frame: pl.DataFrame, funnel: Rates, *, draws: int = 1000, seed: int = 0, level: float = 0.9
) -> pl.DataFrame:
    """``frame`` with, per outcome, its expected value and the ``level`` interval (the draws'
    quantiles) as ``{outcome}``, ``{outcome}_low`` and ``{outcome}_high``."""
    sims = draw(frame, funnel, draws=draws, seed=seed)
    means = expected(frame, funnel)
    tail = (1 - level) / 2
    columns = {}
    for name in OUTCOMES:
        low, high = np.quantile(sims[name], [tail, 1 - tail], axis=1)
        columns[name] = means[name]
        columns[f"{name}_low"] = pl.Series(low)
        columns[f"{name}_high"] = pl.Series(high)
    return frame.with_columns(**columns)
