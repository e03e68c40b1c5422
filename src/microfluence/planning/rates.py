"""Published rate bands: what a post costs by platform and follower tier, the prices' prior.

Every number here is cited in docs/planning.md ("Prices"). The bands are a vendor's published
ranges for one deliverable of the platform's main format (an Instagram feed post, a TikTok
video, a YouTube video); other formats are priced with a multiplier of that. Between bands the
prior's log price runs linearly in log followers through the bands' geometric centres, so a
creator with 9,900 followers is not priced a tenth of one with 10,100.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

# Tiers of the rate tables (followers, lower bound inclusive): nano 1K-10K, micro 10K-100K,
# macro 100K-1M, mega 1M+ (the bands of the Word on the Block table).
TIER_BOUNDS = (1_000, 10_000, 100_000, 1_000_000, 10_000_000)
TIERS = ("nano", "micro", "macro", "mega")
# Word on the Block, "Influencer Pricing Guide" (2023): USD per post by tier. The mega bands
# are open ("$10,000+"): their upper end is ten times the lower, our assumption.
RATE_SOURCE = "Word on the Block, Influencer Pricing Guide (2023)"
RATE_URL = "https://www.wordontheblock.com/blog/influencer-pricing-guide"
RATE_BANDS: dict[str, tuple[tuple[float, float], ...]] = {
    "instagram": ((10, 100), (100, 500), (500, 10_000), (10_000, 100_000)),
    "tiktok": ((5, 25), (25, 125), (125, 2_500), (2_500, 25_000)),
    "youtube": ((20, 200), (200, 1_000), (1_000, 20_000), (20_000, 200_000)),
}
# Platforms without a published table use Instagram's (docs/planning.md says so).
FALLBACK_PLATFORM = "instagram"

FORMATS = ("feed_post", "reel", "video", "story", "short", "bundle")
PIECE_FORMATS = ("feed_post", "reel", "video", "story", "short")
# Price of a format relative to the platform's main format. Video over photo: $0.20 against
# $0.14 per engagement in the aInfluencer pricing guide (x1.43); a story at half a post and a
# YouTube short at half a video are our assumptions (no published ratio found).
VIDEO_PREMIUM = 0.20 / 0.14
FORMAT_MULTIPLIERS: dict[str, dict[str, float]] = {
    "instagram": {"feed_post": 1.0, "reel": VIDEO_PREMIUM, "story": 0.5},
    "tiktok": {"video": 1.0},
    "youtube": {"video": 1.0, "short": 0.5},
    "other": {"feed_post": 1.0, "video": VIDEO_PREMIUM, "story": 0.5},
}
# A bundle is one piece of each format the platform offers, at this share of their sum (our
# assumption: creators commonly discount packages; docs/planning.md).
BUNDLE_DISCOUNT = 0.85
# The prior band is read as a 90 % interval of a log-normal price: z of its ends.
BAND_Z = 1.6448536269514722


@dataclass(frozen=True)
class PriorPrice:
    low: float
    mid: float
    high: float
    log_sd: float


def formats_for(platform: str) -> dict[str, float]:
    """Format -> multiplier of the main format's price, bundle included, for ``platform``."""
    pieces = FORMAT_MULTIPLIERS.get(platform, FORMAT_MULTIPLIERS["other"])
    return {**pieces, "bundle": BUNDLE_DISCOUNT * sum(pieces.values())}


def bundle_package(platform: str) -> dict[str, int]:
    """The pieces a bundle on ``platform`` asks for (one of each format offered)."""
    return dict.fromkeys(FORMAT_MULTIPLIERS.get(platform, FORMAT_MULTIPLIERS["other"]), 1)


def package_of(platform: str, fmt: str) -> dict[str, int]:
    return bundle_package(platform) if fmt == "bundle" else {fmt: 1}


def _table(platform: str) -> tuple[tuple[float, float], ...]:
    return RATE_BANDS.get(platform, RATE_BANDS[FALLBACK_PLATFORM])


def _anchors(platform: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """log10 followers at each band's geometric centre, and the band's log10 low and high."""
    bounds = np.log10(np.asarray(TIER_BOUNDS, dtype="float64"))
    centres = (bounds[:-1] + bounds[1:]) / 2
    bands = np.log10(np.asarray(_table(platform), dtype="float64"))
    return centres, bands[:, 0], bands[:, 1]


def _interp(x: np.ndarray, xs: np.ndarray, ys: np.ndarray) -> np.ndarray:
    """Piecewise-linear through (xs, ys), extended linearly beyond both ends."""
    inside = np.interp(x, xs, ys)
    lo_slope = (ys[1] - ys[0]) / (xs[1] - xs[0])
    hi_slope = (ys[-1] - ys[-2]) / (xs[-1] - xs[-2])
    return np.where(
        x < xs[0],
        ys[0] + (x - xs[0]) * lo_slope,
        np.where(x > xs[-1], ys[-1] + (x - xs[-1]) * hi_slope, inside),
    )


def prior_log_band(platforms: np.ndarray, followers: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Natural-log low and high of the published band for the platform's main format, per row
    (vectorised; followers below 100 are read as 100)."""
    x = np.log10(np.maximum(np.asarray(followers, dtype="float64"), 100.0))
    low = np.empty_like(x)
    high = np.empty_like(x)
    plats = np.asarray(platforms, dtype=object)
    known = np.isin(plats, list(RATE_BANDS))
    for platform in (*RATE_BANDS, None):
        mask = (plats == platform) if platform else ~known
        if not mask.any():
            continue
        xs, lo, hi = _anchors(platform or FALLBACK_PLATFORM)
        low[mask] = _interp(x[mask], xs, lo)
        high[mask] = _interp(x[mask], xs, hi)
    ln10 = np.log(10.0)
    return low * ln10, high * ln10


def format_multiplier(platforms: np.ndarray, formats: np.ndarray) -> np.ndarray:
    """Per row the multiplier of its format on its platform (NaN where not offered)."""
    plats = np.asarray(platforms, dtype=object)
    fmts = np.asarray(formats, dtype=object)
    out = np.full(len(plats), np.nan)
    for platform in (*FORMAT_MULTIPLIERS, None):
        mask = (plats == platform) if platform else ~np.isin(plats, list(FORMAT_MULTIPLIERS))
        if platform == "other":
            continue
        for fmt, mult in formats_for(platform or "other").items():
            out[mask & (fmts == fmt)] = mult
    return out


def tier_of(followers: np.ndarray) -> np.ndarray:
    """The rate table's tier per row ("below nano" under 1,000 followers)."""
    labels = np.array(("below nano", *TIERS), dtype=object)
    idx = np.searchsorted(np.asarray(TIER_BOUNDS[:-1], dtype="float64"), followers, side="right")
    return labels[idx]
