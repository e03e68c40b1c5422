"""The numbers of the demo model and its follower curves (docs/demo.md gives their sources)."""

from __future__ import annotations

import datetime as dt

import numpy as np

BLOCK = 1024
"""Accounts per generator block: the unit of reproducibility and of chunking."""

DEFAULT_END = dt.date(2026, 9, 30)
DEFAULT_DAYS = 180

# -- platforms ---------------------------------------------------------------------------------
PLATFORMS = ("instagram", "tiktok", "youtube", "facebook", "x", "pinterest")
P_IG, P_TT, P_YT, P_FB, P_X, P_PIN = range(len(PLATFORMS))
# Share of creators whose main account is on each platform, and weights for their other accounts.
PRIMARY_SHARE = np.array([0.56, 0.28, 0.16, 0.0, 0.0, 0.0])
SECONDARY_WEIGHT = np.array([0.34, 0.30, 0.20, 0.07, 0.05, 0.04])
# Median posts per week (Later, Rival IQ and HypeAuditor cadence studies; docs/demo.md).
CADENCE = np.array([3.0, 4.5, 1.5, 3.0, 6.0, 5.0])
# Median likes per comment, per platform (spread log-normally around it, clipped to 8..250).
LIKES_PER_COMMENT = np.array([45.0, 70.0, 30.0, 25.0, 15.0, 60.0])
# Median following count (YouTube does not show whom a channel follows: NULL).
FOLLOWING = np.array([650.0, 350.0, np.nan, 400.0, 800.0, 250.0])

POST_TYPES = ("image", "carousel", "video", "reel", "story", "short")
T_IMAGE, T_CAROUSEL, T_VIDEO, T_REEL, T_STORY, T_SHORT = range(len(POST_TYPES))
# Post-type mix per platform (rows: platforms, columns: POST_TYPES).
TYPE_MIX = np.array(
    [
        [0.38, 0.27, 0.0, 0.35, 0.0, 0.0],
        [0.0, 0.0, 1.0, 0.0, 0.0, 0.0],
        [0.0, 0.0, 0.55, 0.0, 0.0, 0.45],
        [0.5, 0.0, 0.5, 0.0, 0.0, 0.0],
        [0.6, 0.0, 0.4, 0.0, 0.0, 0.0],
        [1.0, 0.0, 0.0, 0.0, 0.0, 0.0],
    ]
)
# Engagement of a type relative to a single image (Socialinsider benchmarks: carousels lead
# feed posts on Instagram; reels reach further; Shorts gather fewer likes per subscriber).
TYPE_ENGAGEMENT = np.array([1.0, 1.25, 1.0, 1.1, 1.0, 0.75])
# Likes per view for video types, by platform (views = likes / rate).
LIKES_PER_VIEW = np.array([0.055, 0.08, 0.035, 0.02, 0.02, 0.02])

# Engagement rate (likes + comments per follower, per post) against log10(followers): anchors
# from the tier benchmarks cited in docs/demo.md, interpolated linearly in log10(followers).
ER_ANCHORS: dict[int, tuple[tuple[float, ...], tuple[float, ...]]] = {
    P_IG: ((3.0, 4.0, 4.7, 5.7, 6.0, 7.0), (0.055, 0.032, 0.022, 0.015, 0.012, 0.009)),
    P_TT: ((3.0, 4.0, 5.0, 6.0, 7.0), (0.10, 0.075, 0.055, 0.04, 0.03)),
    P_YT: ((3.0, 4.0, 5.0, 6.0, 7.0), (0.022, 0.017, 0.011, 0.006, 0.0037)),
    P_FB: ((3.0, 5.0, 7.0), (0.015, 0.006, 0.002)),
    P_X: ((3.0, 5.0, 7.0), (0.012, 0.004, 0.0015)),
    P_PIN: ((3.0, 5.0, 7.0), (0.010, 0.004, 0.0015)),
}
# Niche effect on engagement (Statista/HypeAuditor 2023: travel and beauty above average,
# fashion and tech below).
NICHE_ENGAGEMENT = {
    "fitness": 0.9,
    "beauty": 1.05,
    "food": 1.05,
    "travel": 1.2,
    "home": 1.0,
    "fashion": 0.85,
    "parenting": 1.1,
    "tech": 0.85,
    "gaming": 0.95,
    "pets": 1.2,
    "wellness": 1.0,
}
# Hours of the day (local) people post at: late morning and evening peaks (Later, Sprout Social).
POSTING_HOURS = np.array(
    [1, 0.5, 0.3, 0.2, 0.2, 0.4, 1, 2, 3, 3.5, 4, 5, 6, 5, 4, 4, 4.5, 5.5, 7, 8, 7.5, 6, 4, 2]
)
UTC_OFFSET = {
    "US": -5,
    "CA": -5,
    "MX": -6,
    "AR": -3,
    "BR": -3,
    "GB": 0,
    "IE": 0,
    "PT": 0,
    "ES": 1,
    "FR": 1,
    "DE": 1,
    "IT": 1,
    "NL": 1,
    "NG": 1,
    "ZA": 2,
    "TR": 3,
    "IN": 5,
    "ID": 7,
    "PH": 8,
    "AU": 10,
}

# Inauthentic kinds and their labels in ``evaluation_labels``.
BOUGHT, POD, BOTS = "bought_followers", "engagement_pod", "bot_comments"
AUTHENTIC = "authentic"


# -- follower curves ---------------------------------------------------------------------------
def _ramp(t: np.ndarray | float, a: dict[str, np.ndarray], kind: str) -> np.ndarray:
    return np.clip((t - a[f"{kind}_day"]) / a[f"{kind}_len"], 0.0, 1.0)


def organic_followers(a: dict[str, np.ndarray], idx: np.ndarray, t: np.ndarray) -> np.ndarray:
    """Real followers of accounts ``idx`` at day ``t``: growth plus any viral surge."""
    sub = {k: a[k][idx] for k in ("growth", "viral_day", "viral_len", "viral_size", "f0")}
    return sub["f0"] * np.exp(sub["growth"] * t) * (1 + sub["viral_size"] * _ramp(t, sub, "viral"))


def bought_followers(a: dict[str, np.ndarray], idx: np.ndarray, t: np.ndarray) -> np.ndarray:
    """Fake followers delivered by t: a step over 1-3 days, then a slow partial purge."""
    sub = {k: a[k][idx] for k in ("bought_day", "bought_len", "bought_frac", "purge", "f0")}
    sub.update({k: a[k][idx] for k in ("growth", "viral_day", "viral_len", "viral_size")})
    planted = np.isfinite(sub["bought_day"])
    base = organic_followers(a, idx, np.where(planted, sub["bought_day"], 0.0))
    delivered = sub["bought_frac"] * base * _ramp(t, sub, "bought")
    purged = sub["purge"] * np.clip((t - sub["bought_day"] - sub["bought_len"]) / 30, 0, 1)
    return np.where(planted, delivered * (1 - purged), 0.0)
