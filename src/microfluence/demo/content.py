"""Snapshots and posts of a block of accounts (samples come from samples.py, text from text.py).

Everything is computed per column over all the block's posts at once.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import polars as pl

from microfluence.demo import vocabulary as V
from microfluence.demo.model import (
    BLOCK,
    LIKES_PER_VIEW,
    P_TT,
    PLATFORMS,
    POST_TYPES,
    POSTING_HOURS,
    T_REEL,
    T_SHORT,
    T_VIDEO,
    TYPE_ENGAGEMENT,
    TYPE_MIX,
    UTC_OFFSET,
    bought_followers,
    organic_followers,
)
from microfluence.demo.samples import comment_samples, follower_samples
from microfluence.demo.text import captions

if TYPE_CHECKING:
    from microfluence.demo.population import Block, Population


def generate_block(
    pop: Population, block: int, lo: int, hi: int, *, text: bool = True, samples: bool = True
) -> Block:
    """Snapshots, posts (and samples) of accounts [lo, hi) — all inside block ``block``."""
    spec = pop.spec
    rng = np.random.default_rng([spec.seed, 1, block])
    full = np.arange(block * BLOCK, min((block + 1) * BLOCK, pop.n_accounts))
    posts, post_arrays = _posts(rng, pop, full, text=text)
    snapshots = _snapshots(rng, pop, full, post_arrays)
    comments = followers = None
    if samples:
        comments = comment_samples(rng, pop, full, post_arrays, posts)
        followers = follower_samples(rng, pop, full)
    if lo > full[0] or hi < full[-1] + 1:  # a partial block: keep only the asked accounts
        keep = pl.col("account_key").is_between(lo, hi - 1)
        snapshots, posts = snapshots.filter(keep), posts.filter(keep)
        comments = comments.filter(keep) if comments is not None else None
        followers = followers.filter(keep) if followers is not None else None
    from microfluence.demo.population import Block

    return Block(snapshots=snapshots, posts=posts, comments=comments, followers=followers)


def _posts(
    rng: np.random.Generator, pop: Population, idx: np.ndarray, *, text: bool
) -> tuple[pl.DataFrame, dict[str, np.ndarray]]:
    # Every step draws from ``rng`` in a fixed order: the same block always gives the same posts.
    spec, a = pop.spec, pop._arrays
    counts, acc, t, seq = _post_times(rng, pop, idx)
    n = acc.size
    platform = a["platform"][acc]

    cum = TYPE_MIX.cumsum(axis=1)[platform]
    ptype = (rng.random(n)[:, None] > cum).sum(axis=1)
    organic = organic_followers(a, acc, t)
    since_viral = t - a["viral_day"][acc]
    viral_boost = np.where(
        since_viral >= -0.5, 1 + a["viral_boost"][acc] * np.exp(-np.maximum(since_viral, 0) / 3), 1
    )
    sponsored = rng.random(n) < a["sponsored_share"][acc]
    expected = (
        a["er"][acc]
        * organic
        * TYPE_ENGAGEMENT[ptype]
        * viral_boost
        * np.where(sponsored, 0.85, 1.0)
        * np.exp(rng.normal(0, 1, n) * a["noise"][acc] - a["noise"][acc] ** 2 / 2)
    )
    lpc = a["likes_per_comment"][acc]
    organic_comments = rng.poisson(expected / (lpc + 1))
    likes = rng.poisson(expected * lpc / (lpc + 1))
    pod_size = a["pod_size"][acc]
    pod_comments = np.where(
        a["pod"][acc], rng.binomial(np.maximum(pod_size - 1, 0), a["pod_reach"][acc]), 0
    )
    bot_comments = np.where(
        a["bots"][acc], rng.poisson(organic_comments * a["bot_ratio"][acc] + 3), 0
    )
    likes = likes + pod_comments  # pod members like what they comment on
    comments = organic_comments + pod_comments + bot_comments
    followers_now = organic + bought_followers(a, acc, t)
    views, shares, saves, reach, impressions = _reach_counts(
        rng, pop, acc, ptype, likes, expected, followers_now
    )
    hidden = a["hide_likes"][acc] & (rng.random(n) < 0.7)
    likes = np.where(hidden, np.nan, likes)

    disclosure = rng.random(n)  # paid-partnership label / caption tag only / undisclosed
    flag = sponsored & (disclosure < 0.45)
    tag_only = sponsored & (disclosure >= 0.45) & (disclosure < 0.85)
    hidden_ad = sponsored & (disclosure >= 0.85)

    post_number = (acc.astype(np.int64) * 1_000_000 + seq).astype(np.int64)
    media_id = np.int64(3_100_000_000_000_000_000) + post_number * 97
    posted_at = np.datetime64(spec.start_at, "us") + (t * 86_400_000_000).astype("timedelta64[us]")
    frame = (
        pl.DataFrame(
            {
                "account_key": acc,
                "platform": pl.Series(PLATFORMS).gather(platform),
                "platform_post_id": pl.Series(media_id).cast(pl.String),
                "post_type": pl.Series(POST_TYPES).gather(ptype),
                "posted_at": pl.Series(posted_at, dtype=pl.Datetime("us")),
                "likes": pl.Series(likes, dtype=pl.Float64).fill_nan(None).cast(pl.Int64),
                "comments": comments.astype(np.int64),
                "shares": pl.Series(shares).fill_nan(None).cast(pl.Int64),
                "saves": pl.Series(saves).fill_nan(None).cast(pl.Int64),
                "views": pl.Series(views).fill_nan(None).cast(pl.Int64),
                "reach": pl.Series(reach).fill_nan(None).cast(pl.Int64),
                "impressions": pl.Series(impressions).fill_nan(None).cast(pl.Int64),
                "is_sponsored": flag | tag_only,
                "flag": flag,
                "tag_only": tag_only,
            }
        )
        .with_columns(
            pl.when("flag")
            .then(pl.lit("paid_partnership"))
            .when("tag_only")
            .then(pl.lit("caption"))
            .alias("sponsor_evidence")
        )
        .drop("flag", "tag_only")
    )
    if text:
        frame = captions(rng, pop, frame, acc, media_id, flag, tag_only, hidden_ad)
    arrays = {
        "acc": acc,
        "t": t,
        "seq": seq,
        "counts": counts,
        "organic_comments": organic_comments,
        "pod_comments": pod_comments,
        "bot_comments": bot_comments,
        "comments": comments,
        "media_id": media_id,
    }
    return frame, arrays


def _post_times(
    rng: np.random.Generator, pop: Population, idx: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """How many posts each account makes and when: (counts, account, day as float, sequence).

    Posts fall at the local hours people post at, after the day's snapshot, sorted by account
    and time; ``seq`` is a post's position in its account's history, oldest first.
    """
    spec, a = pop.spec, pop._arrays
    days = spec.days
    weeks = days / 7
    counts = rng.poisson(a["cadence"][idx] * weeks * spec.posts_scale)
    acc = np.repeat(idx, counts)
    n = acc.size
    day = rng.integers(0, days, n)
    local_hour = rng.choice(24, size=n, p=POSTING_HOURS / POSTING_HOURS.sum())
    offset = np.array([UTC_OFFSET[c[0]] for c in V.COUNTRIES])[a["country"][acc]]
    hour = (local_hour - offset) % 24
    hour = np.where(hour == 0, 1, hour)  # after the day's snapshot (taken just after midnight)
    t = day + (hour + rng.random(n)) / 24.0
    order = np.lexsort((t, acc))
    acc, t = acc[order], t[order]
    starts = np.repeat(np.cumsum(counts) - counts, counts)
    seq = np.arange(n) - starts
    return counts, acc, t, seq


def _reach_counts(
    rng: np.random.Generator,
    pop: Population,
    acc: np.ndarray,
    ptype: np.ndarray,
    likes: np.ndarray,
    expected: np.ndarray,
    followers_now: np.ndarray,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Views (videos only), shares and saves (TikTok, or accounts that share insights), reach
    and impressions (insights only); NaN where the platform does not show the number."""
    a = pop._arrays
    n = acc.size
    platform = a["platform"][acc]
    video = np.isin(ptype, (T_VIDEO, T_REEL, T_SHORT))
    lpv = LIKES_PER_VIEW[platform] * np.exp(rng.normal(0, 0.3, n))
    views = np.where(video, np.round(np.maximum(likes, 1) / lpv), np.nan)
    tiktok = platform == P_TT
    insights = a["insights"][acc]
    shares = np.where(
        tiktok | insights, np.round(likes * np.exp(rng.normal(np.log(0.02), 0.5, n))), np.nan
    )
    saves = np.where(
        tiktok | insights, np.round(likes * np.exp(rng.normal(np.log(0.03), 0.5, n))), np.nan
    )
    reach = np.where(
        insights,
        np.round(
            np.maximum(
                followers_now * np.clip(np.exp(rng.normal(np.log(0.25), 0.4, n)), 0, 1.5),
                expected * 3,
            )
        ),
        np.nan,
    )
    impressions = np.where(insights, np.round(reach * rng.uniform(1.1, 1.6, n)), np.nan)
    return views, shares, saves, reach, impressions


def _snapshots(
    rng: np.random.Generator, pop: Population, idx: np.ndarray, posts: dict[str, np.ndarray]
) -> pl.DataFrame:
    spec, a = pop.spec, pop._arrays
    grid = np.arange(0, spec.days, spec.snapshot_every_days)
    if grid[-1] != spec.days - 1:
        grid = np.append(grid, spec.days - 1)
    k = grid.size
    acc = np.repeat(idx, k)
    day = np.tile(grid, idx.size)
    t = day + a["snapshot_minute"][acc] / 1440.0
    followers = organic_followers(a, acc, t) + bought_followers(a, acc, t)
    followers = np.maximum(np.round(followers * (1 + rng.normal(0, 0.0008, acc.size))), 0)
    following = a["following"][acc] * (1 + 0.02 * t / spec.days)
    # Posts published before each snapshot: binary search on (account, time) keys.
    span = spec.days + 1.0
    post_key = (posts["acc"] - idx[0]) * span + posts["t"]
    snap_key = (acc - idx[0]) * span + t
    before = np.searchsorted(post_key, snap_key, side="left")
    first = np.concatenate([[0], np.cumsum(posts["counts"])[:-1]])
    in_window = before - np.repeat(first, k)
    minutes = day.astype(np.int64) * 1440 + a["snapshot_minute"][acc]
    captured = np.datetime64(spec.start_at, "us") + (minutes * 60_000_000).astype("timedelta64[us]")
    return pl.DataFrame(
        {
            "account_key": acc,
            "captured_at": pl.Series(captured, dtype=pl.Datetime("us")),
            "followers": followers.astype(np.int64),
            "following": pl.Series(np.round(following)).fill_nan(None).cast(pl.Int64),
            "posts_count": (a["posts_before"][acc] + in_window).astype(np.int64),
        }
    )
