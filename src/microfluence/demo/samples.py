"""Comment samples and follower samples of generated accounts — the authenticity raw material.

Authentic audiences already contain a little noise (generic praise, emoji, the odd spam bot,
a few percent of fake followers); the planted accounts add their fingerprints on top:

* engagement pods: the same handful of creators comment on every post, within minutes, with
  interchangeable enthusiastic praise;
* bot comments: generic or emoji-only texts repeated word for word across posts, written within
  minutes by farm accounts (long digit runs in the username) shared between buyers;
* bought followers: the follower sample is rich in farm profiles (no picture, digits in the
  username, few or no posts, following far more than followed).
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

import numpy as np
import polars as pl

from microfluence.demo import names as N
from microfluence.demo import vocabulary as V
from microfluence.demo.model import bought_followers, organic_followers

if TYPE_CHECKING:
    from microfluence.demo.population import Population

SRC_POD, SRC_BOT, SRC_GENUINE, SRC_GENERIC, SRC_EMOJI, SRC_SPAM = range(6)
# What an authentic post's comments look like: mostly specific, some generic, some emoji-only
# and a little spam (docs/demo.md).
NATURAL_MIX = np.array([0.72, 0.13, 0.12, 0.03])
MICROSECONDS_PER_MINUTE = 60_000_000
FAN_POOL = 400  # people who may comment on one account (a few loyal fans comment often)
FARM_SIZE = 20_000  # farm accounts shared by every buyer of bot comments or followers


def _within(counts: np.ndarray) -> np.ndarray:
    """0..k-1 for each group of ``counts`` consecutive rows."""
    return np.arange(counts.sum()) - np.repeat(np.cumsum(counts) - counts, counts)


def comment_samples(
    rng: np.random.Generator,
    pop: Population,
    idx: np.ndarray,
    posts: dict[str, np.ndarray],
    post_frame: pl.DataFrame,
) -> pl.DataFrame:
    """A sample of the comments of each sampled account's latest posts."""
    spec, a = pop.spec, pop._arrays
    acc, counts = posts["acc"], posts["counts"]
    per_account = np.repeat(counts, counts)
    chosen = np.flatnonzero(
        a["sampled"][acc] & (posts["seq"] >= per_account - spec.commented_posts)
    )
    total = posts["comments"][chosen]
    m = np.minimum(total, spec.comments_per_post)
    n_pod = np.minimum(posts["pod_comments"][chosen], m)
    bot_share = posts["bot_comments"][chosen] / np.maximum(
        posts["bot_comments"][chosen] + posts["organic_comments"][chosen], 1
    )
    n_bot = rng.binomial(m - n_pod, bot_share)

    row_post = np.repeat(chosen, m)
    j = _within(m)
    r_acc = acc[row_post]
    n_rows = row_post.size
    pod_cut = np.repeat(n_pod, m)
    bot_cut = pod_cut + np.repeat(n_bot, m)
    natural = np.searchsorted(NATURAL_MIX.cumsum(), rng.random(n_rows) * 0.999999) + SRC_GENUINE
    source = np.where(j < pod_cut, SRC_POD, np.where(j < bot_cut, SRC_BOT, natural))

    # Authors. Pod: the other members of the account's pod, rotated from post to post.
    g = a["pod_size"][r_acc]
    rotation = np.repeat(rng.integers(0, 1 << 20, chosen.size), m)
    step = 1 + (j + rotation) % np.maximum(g - 1, 1)
    member_slot = a["pod_group"][r_acc] * 10 + (a["pod_pos"][r_acc] + step) % np.maximum(g, 1)
    members = a["pod_members"]
    pod_member = (
        members[np.clip(member_slot, 0, max(members.size - 1, 0))] if members.size else r_acc
    )
    # Regular fans comment more often than others: a skewed draw over the account's fan pool.
    fans = np.floor(FAN_POOL * rng.random(n_rows) ** 2.5).astype(np.int64)
    farm = np.where(
        source == SRC_BOT,
        (a["bot_offset"][r_acc] + (rng.random(n_rows) * 60).astype(np.int64)) % FARM_SIZE,
        rng.integers(0, FARM_SIZE, n_rows),
    )
    handles = pop.accounts["handle"]
    authors = pl.DataFrame(
        {
            "fan": N.fan_handles(r_acc.astype(np.int64) * 1000 + fans),
            "bot": N.bot_handles(farm),
            "pod": handles.gather(pod_member) if n_rows else pl.Series([], dtype=pl.String),
            "source": source.astype(np.int8),
        }
    ).select(
        pl.when(pl.col("source") == SRC_POD)
        .then("pod")
        .when(pl.col("source").is_in([SRC_BOT, SRC_SPAM]))
        .then("bot")
        .otherwise("fan")
        .alias("author")
    )["author"]
    # A lone pod account (no partner in the population) is served by a fixed ring of friends.
    lone = (source == SRC_POD) & (g < 2)
    if lone.any():
        ring = N.fan_handles(r_acc[lone].astype(np.int64) * 1000 + 990 + j[lone] % 8)
        authors = authors.scatter(np.flatnonzero(lone), ring)

    # Texts: each bot has a favourite line it repeats; genuine comments name the post's subject.
    bot_line = (N.splitmix(farm, 301) % np.uint64(len(V.BOT_COMMENTS))).astype(np.int64)
    bot_line = np.where(
        rng.random(n_rows) < 0.75, bot_line, rng.integers(0, len(V.BOT_COMMENTS), n_rows)
    )
    niche = a["niche"][r_acc]
    texts = pl.DataFrame(
        {
            "source": source.astype(np.int8),
            "genuine": pl.Series(V.GENUINE_COMMENTS).gather(
                rng.integers(0, len(V.GENUINE_COMMENTS), n_rows)
            ),
            "subject": N.SUBJECTS.take(niche, rng.random(n_rows)).str.to_lowercase(),
            "generic": pl.Series(V.GENERIC_PRAISE).gather(
                rng.integers(0, len(V.GENERIC_PRAISE), n_rows)
            ),
            "emoji": pl.Series(V.EMOJI_ONLY).gather(rng.integers(0, len(V.EMOJI_ONLY), n_rows)),
            "pod": pl.Series(V.POD_COMMENTS).gather(rng.integers(0, len(V.POD_COMMENTS), n_rows)),
            "bot": pl.Series(V.BOT_COMMENTS).gather(bot_line),
        }
    ).select(
        pl.when(pl.col("source") == SRC_POD)
        .then("pod")
        .when(pl.col("source").is_in([SRC_BOT, SRC_SPAM]))
        .then("bot")
        .when(pl.col("source") == SRC_GENERIC)
        .then("generic")
        .when(pl.col("source") == SRC_EMOJI)
        .then("emoji")
        .otherwise(pl.col("genuine").str.replace("{subject}", pl.col("subject"), literal=True))
        .alias("text")
    )["text"]

    # Timing: pods within half an hour, bots within minutes, people over hours and days.
    delay_min = np.select(
        [source == SRC_POD, np.isin(source, (SRC_BOT, SRC_SPAM))],
        [rng.uniform(1, 30, n_rows), np.exp(rng.normal(np.log(4), 0.9, n_rows))],
        np.exp(rng.normal(np.log(180), 1.6, n_rows)),
    )
    end_minutes = spec.days * 1440.0
    at_min = np.minimum(posts["t"][row_post] * 1440.0 + delay_min, end_minutes)
    posted_at = np.datetime64(spec.start_at, "us") + (at_min * MICROSECONDS_PER_MINUTE).astype(
        "timedelta64[us]"
    )
    likes = np.select(
        [source == SRC_POD, np.isin(source, (SRC_BOT, SRC_SPAM))],
        [rng.poisson(2, n_rows), np.zeros(n_rows, dtype=np.int64)],
        np.maximum(np.floor(np.exp(rng.normal(0, 1.2, n_rows))) - 1, 0).astype(np.int64),
    )
    frame = pl.DataFrame(
        {
            "account_key": r_acc,
            "platform_post_id": post_frame["platform_post_id"].gather(row_post),
            "j": j,
            "text": texts,
            "author_handle": authors,
            "author_is_verified": (source == SRC_GENUINE) & (rng.random(n_rows) < 0.002),
            "posted_at": pl.Series(posted_at, dtype=pl.Datetime("us")),
            "likes": likes,
        }
    )
    return frame.with_columns(
        pl.concat_str("platform_post_id", pl.lit("_"), pl.col("j").cast(pl.String)).alias(
            "comment_key"
        ),
        pl.col("posted_at").dt.truncate("1s"),
    ).drop("j")


def follower_samples(rng: np.random.Generator, pop: Population, idx: np.ndarray) -> pl.DataFrame:
    """A sample of each sampled account's followers, with each follower's own profile."""
    spec, a = pop.spec, pop._arrays
    sampled = idx[a["sampled"][idx]]
    k = spec.followers_per_account
    acc = np.repeat(sampled, k)
    n = acc.size
    i = np.tile(np.arange(k), sampled.size)
    t_end = np.full(sampled.size, spec.days - 1.0)
    real = organic_followers(a, sampled, t_end)
    bought = bought_followers(a, sampled, t_end)
    fake_share = (a["natural_fake"][sampled] * real + bought) / np.maximum(real + bought, 1)
    fake = rng.random(n) < np.repeat(fake_share, k)
    bought_share = bought / np.maximum(a["natural_fake"][sampled] * real + bought, 1e-9)
    from_buyer = fake & (rng.random(n) < np.repeat(bought_share, k))
    farm = np.where(
        from_buyer,
        (a["bot_offset"][acc] * 7 + i * 13) % FARM_SIZE,
        rng.integers(0, FARM_SIZE, n),
    )
    person_key = acc.astype(np.int64) * 1000 + (i * 7 + a["bot_offset"][acc]) % 1000

    def lognormal(median: float, sigma: float) -> np.ndarray:
        return np.exp(rng.normal(np.log(median), sigma, n))

    h = N.splitmix(person_key, 401)
    posts = np.where(
        fake,
        np.where(rng.random(n) < 0.6, 0, rng.poisson(3, n)),
        np.round(lognormal(80, 1.2)),
    )
    followers = np.where(fake, np.round(lognormal(30, 1.0)), np.round(lognormal(600, 1.2)))
    following = np.where(fake, np.round(lognormal(900, 0.9)), np.round(lognormal(430, 0.9)))
    frame = pl.DataFrame(
        {
            "account_key": acc,
            "fake": fake,
            "person": N.fan_handles(person_key),
            "farm": N.bot_handles(farm),
            "first": N.gather(N.ALL_FIRST, h),
            "last": N.gather(N.ALL_LAST, h >> np.uint64(17)),
            "has_name": rng.random(n) < np.where(fake, 0.35, 0.92),
            "has_last": ~fake,
            "bio_real": pl.Series(V.BIO_PHRASES).gather(rng.integers(0, len(V.BIO_PHRASES), n)),
            "bio_fake": pl.Series(V.FAKE_BIOS).gather(rng.integers(0, len(V.FAKE_BIOS), n)),
            "has_bio": rng.random(n) < np.where(fake, 0.15, 0.55),
            "posts_count": posts.astype(np.int64),
            "followers": followers.astype(np.int64),
            "following": np.minimum(following, 7500).astype(np.int64),
            "has_profile_pic": rng.random(n) < np.where(fake, 0.35, 0.97),
            "is_private": rng.random(n) < np.where(fake, 0.35, 0.4),
            "is_verified": ~fake & (rng.random(n) < 0.003),
            "has_url": rng.random(n) < np.where(fake, 0.02, 0.08),
        }
    )
    sampled_at = dt.datetime.combine(spec.end, dt.time(12, 0))
    out = frame.select(
        "account_key",
        pl.when("fake").then("farm").otherwise("person").alias("username"),
        pl.when("has_name")
        .then(
            pl.when("has_last")
            .then(pl.concat_str("first", pl.lit(" "), "last"))
            .otherwise(pl.col("first"))
        )
        .alias("full_name"),
        pl.when("has_bio")
        .then(pl.when("fake").then("bio_fake").otherwise("bio_real"))
        .alias("biography"),
        "posts_count",
        "followers",
        "following",
        "has_profile_pic",
        "is_private",
        "is_verified",
        pl.when("has_url")
        .then(
            pl.concat_str(
                pl.lit("https://linktr.ee/"), pl.when("fake").then("farm").otherwise("person")
            )
        )
        .alias("external_url"),
        pl.lit(sampled_at, dtype=pl.Datetime("us")).alias("sampled_at"),
    )
    return out.unique(subset=["account_key", "username"], keep="first", maintain_order=True)
