"""Engagement anomaly: an engagement rate, or a likes-to-comments ratio, far from the cohort's.

Bought followers do not engage, so the rate falls far below accounts of the same size; bought
likes or an engagement pod push it far above; a pod or comment bots make comments unusually many
for the likes (a low likes-to-comments ratio), bought likes make them unusually few.

* Per post: ``ER = (likes + comments) / followers at the time of the post`` — the snapshot nearest
  in time, not today's count (the metrics pipeline's definition, docs/metrics.md). Posts with
  hidden likes (NULL) or an unknown follower count are left out.
* Per account, over its ``WINDOW_POSTS`` most recent posts: the median ER, and the
  likes-to-comments ratio ``Σ likes / Σ comments`` (a ratio of sums: single posts with 0 or 1
  comment would make a median of per-post ratios jumpy).
* Cohort: accounts of the same platform and tier in the workspace (the tier from the latest
  follower count). With fewer than ``MIN_COHORT`` accounts the platform as a whole is the cohort;
  with fewer still, the component is "not available". When ``microfluence score`` has run, the
  cohort's per-account values are the stored metrics (``frames.load_stored_engagement``,
  one query) rather than recomputed from every post; see ``engagement_signal``'s ``stored``.
* The modified z-score of ``ln ER`` (and of ``ln ratio``) within the cohort, with the MAD floored
  at 0.05 (Iglewicz & Hoaglin 1993); logs because engagement rates are right-skewed and roughly
  log-normal.
* Score 100 while ``|M| <= 2``, 0 at ``|M| >= 5``, linear between: 3.5 (the outlier cut-off)
  scores 50.
"""

from __future__ import annotations

from typing import Any

import polars as pl

from microfluence.authenticity.signals.scale import linear_score, modified_z

WINDOW_POSTS = 30
MIN_POSTS = 3
MIN_COMMENTED_POSTS = 3
MIN_COHORT = 20
LOG_MAD_FLOOR = 0.05
Z_GOOD, Z_BAD = 2.0, 5.0
# Fallback tiers by followers (used only when the metrics pipeline's tier schemes are absent):
# nano < 10K, micro 10K-100K, macro 100K-1M, mega >= 1M — the commonest bands in the industry.
TIER_EDGES = (10_000, 100_000, 1_000_000)
TIER_NAMES = ("nano", "micro", "macro", "mega")

SUMMARY_SCHEMA = {
    "account_id": pl.Int64,
    "engagement_posts": pl.UInt32,
    "engagement_rate": pl.Float64,
    "likes_comments_ratio": pl.Float64,
    "cohort": pl.String,
    "cohort_size": pl.UInt32,
    "cohort_engagement_rate": pl.Float64,
    "cohort_likes_comments_ratio": pl.Float64,
    "engagement_z": pl.Float64,
    "likes_comments_z": pl.Float64,
    "engagement_available": pl.Boolean,
    "likes_comments_available": pl.Boolean,
    "engagement_score": pl.Float64,
    "likes_comments_score": pl.Float64,
}


def tier_of(followers: pl.Expr) -> pl.Expr:
    """The fallback tier name of a follower count (see ``TIER_EDGES``)."""
    expr = pl.when(followers < TIER_EDGES[0]).then(pl.lit(TIER_NAMES[0]))
    for edge, name in zip(TIER_EDGES[1:], TIER_NAMES[1:-1], strict=True):
        expr = expr.when(followers < edge).then(pl.lit(name))
    return expr.otherwise(pl.lit(TIER_NAMES[-1]))


def post_engagement(posts: pl.DataFrame, snapshots: pl.DataFrame) -> pl.DataFrame:
    """Each post's engagement rate by followers at the time of the post, newest first."""
    snaps = (
        snapshots.filter(
            pl.col("captured_at").is_not_null()
            & pl.col("followers").is_not_null()
            & (pl.col("followers") > 0)
        )
        .select("account_id", pl.col("captured_at").alias("posted_at"), "followers")
        .sort("account_id", "posted_at")
    )
    usable = posts.filter(
        pl.col("posted_at").is_not_null()
        & pl.col("likes").is_not_null()
        & (pl.col("likes") >= 0)
        & (pl.col("comments").fill_null(0) >= 0)
    ).sort("account_id", "posted_at")
    joined = usable.join_asof(
        snaps, on="posted_at", by="account_id", strategy="nearest", check_sortedness=False
    )
    return (
        joined.filter(pl.col("followers").is_not_null())
        .sort("account_id", "posted_at", descending=[False, True])
        .with_columns(
            (pl.col("likes") + pl.col("comments").fill_null(0)).alias("interactions"),
        )
        .with_columns(
            (pl.col("interactions") / pl.col("followers")).alias("engagement_rate"),
            pl.int_range(pl.len()).over("account_id").alias("recency_rank"),
        )
        .select(
            "account_id",
            "post_id",
            "platform_post_id",
            "posted_at",
            "likes",
            "comments",
            "followers",
            "interactions",
            "engagement_rate",
            "recency_rank",
        )
        .sort("account_id", "posted_at", descending=[False, True])
    )


def _cohort_stats(
    values: pl.DataFrame, column: str, available: pl.Expr
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Median and MAD of ln(column) per cohort, falling back to the platform as a whole."""
    logged = values.filter(available).with_columns(pl.col(column).log().alias("_log"))
    stats = []
    for keys, level in ((["platform", "tier"], "tier"), (["platform"], "platform")):
        stats.append(
            logged.group_by(keys)
            .agg(
                pl.len().alias("size"),
                pl.col("_log").median().alias("median"),
                (pl.col("_log") - pl.col("_log").median()).abs().median().alias("mad"),
            )
            .with_columns(pl.lit(level).alias("level"))
        )
    return stats[0], stats[1]


def engagement_signal(
    accounts: pl.DataFrame,
    posts: pl.DataFrame,
    snapshots: pl.DataFrame,
    cohort_accounts: pl.DataFrame | None = None,
    tier_scheme: Any = None,
    stored: pl.DataFrame | None = None,
) -> pl.DataFrame:
    """Per account: ER and likes-to-comments ratio, their cohort z-scores and 0-100 scores.

    ``cohort_accounts`` is the per-account output of :func:`account_engagement` for the whole
    cohort population (the workspace); by default the accounts given are their own cohort.
    ``stored``: the same per-account values as the metrics pipeline stored them
    (:func:`frames.load_stored_engagement`); an account found there is placed in its cohort
    by its stored tier, ER median and ratio — the numbers its cohort is made of — and only the
    count of its posts with comments comes from its own posts.
    """
    mine = account_engagement(accounts, posts, snapshots, tier_scheme)
    if stored is not None:
        mine = with_stored_engagement(mine, stored)
    population = mine if cohort_accounts is None else cohort_accounts
    er_ok = pl.col("engagement_posts") >= MIN_POSTS
    lc_ok = pl.col("commented_posts") >= MIN_COMMENTED_POSTS
    er_tier, er_platform = _cohort_stats(population, "engagement_rate", er_ok)
    lc_tier, lc_platform = _cohort_stats(population, "likes_comments_ratio", lc_ok)

    def attach(frame: pl.DataFrame, tier: pl.DataFrame, plat: pl.DataFrame, p: str):
        tier = tier.rename({"size": f"{p}_ts", "median": f"{p}_tm", "mad": f"{p}_tmad"})
        plat = plat.rename({"size": f"{p}_ps", "median": f"{p}_pm", "mad": f"{p}_pmad"})
        frame = frame.join(tier.drop("level"), on=["platform", "tier"], how="left").join(
            plat.drop("level"), on="platform", how="left"
        )
        use_tier = pl.col(f"{p}_ts").fill_null(0) >= MIN_COHORT
        use_platform = pl.col(f"{p}_ps").fill_null(0) >= MIN_COHORT
        return frame.with_columns(
            pl.when(use_tier)
            .then(pl.col("platform") + pl.lit(" · ") + pl.col("tier"))
            .when(use_platform)
            .then(pl.col("platform") + pl.lit(" · all tiers"))
            .alias(f"{p}_cohort"),
            pl.when(use_tier)
            .then(pl.col(f"{p}_ts"))
            .when(use_platform)
            .then(pl.col(f"{p}_ps"))
            .alias(f"{p}_size"),
            pl.when(use_tier)
            .then(pl.col(f"{p}_tm"))
            .when(use_platform)
            .then(pl.col(f"{p}_pm"))
            .alias(f"{p}_median"),
            pl.when(use_tier)
            .then(pl.col(f"{p}_tmad"))
            .when(use_platform)
            .then(pl.col(f"{p}_pmad"))
            .alias(f"{p}_mad"),
        )

    frame = attach(mine, er_tier, er_platform, "er")
    frame = attach(frame, lc_tier, lc_platform, "lc")
    er_available = er_ok & pl.col("er_median").is_not_null()
    lc_available = lc_ok & pl.col("lc_median").is_not_null()
    frame = frame.with_columns(
        er_available.alias("engagement_available"),
        lc_available.alias("likes_comments_available"),
        pl.when(er_available)
        .then(
            modified_z(
                pl.col("engagement_rate").log(),
                pl.col("er_median"),
                pl.col("er_mad"),
                LOG_MAD_FLOOR,
            )
        )
        .alias("engagement_z"),
        pl.when(lc_available)
        .then(
            modified_z(
                pl.col("likes_comments_ratio").log(),
                pl.col("lc_median"),
                pl.col("lc_mad"),
                LOG_MAD_FLOOR,
            )
        )
        .alias("likes_comments_z"),
    ).with_columns(
        linear_score(pl.col("engagement_z").abs(), Z_GOOD, Z_BAD).alias("engagement_score"),
        linear_score(pl.col("likes_comments_z").abs(), Z_GOOD, Z_BAD).alias("likes_comments_score"),
        pl.coalesce("er_cohort", "lc_cohort").alias("cohort"),
        pl.coalesce("er_size", "lc_size").cast(pl.UInt32).alias("cohort_size"),
        pl.col("er_median").exp().alias("cohort_engagement_rate"),
        pl.col("lc_median").exp().alias("cohort_likes_comments_ratio"),
    )
    return frame.select(list(SUMMARY_SCHEMA)).cast(SUMMARY_SCHEMA).sort("account_id")


STORED_COLUMNS = (
    "tier",
    "latest_followers",
    "engagement_posts",
    "engagement_rate",
    "likes_comments_ratio",
)


def with_stored_engagement(mine: pl.DataFrame, stored: pl.DataFrame) -> pl.DataFrame:
    """``mine`` (from :func:`account_engagement`) with the stored values of the accounts that
    have them (see :func:`engagement_signal`); the others keep their computed values."""
    columns = list(mine.columns)
    found = stored.select("account_id", *STORED_COLUMNS).with_columns(pl.lit(True).alias("_stored"))
    joined = mine.join(found, on="account_id", how="left", suffix="_stored")
    has = pl.col("_stored").fill_null(False)
    return joined.with_columns(
        pl.when(has).then(pl.col(f"{c}_stored")).otherwise(pl.col(c)).alias(c)
        for c in STORED_COLUMNS
    ).select(columns)


def account_engagement(
    accounts: pl.DataFrame,
    posts: pl.DataFrame,
    snapshots: pl.DataFrame,
    tier_scheme: Any = None,
) -> pl.DataFrame:
    """Per account: its tier, median ER and likes-to-comments ratio over its recent posts.

    ``tier_scheme`` is the workspace's tier scheme from the metrics pipeline (anything with a
    vectorised ``classify(followers, platforms)``); without one, ``TIER_EDGES`` decide.
    """
    per_post = post_engagement(posts, snapshots).filter(pl.col("recency_rank") < WINDOW_POSTS)
    latest = (
        snapshots.filter(pl.col("followers").is_not_null() & (pl.col("followers") >= 0))
        .sort("account_id", "captured_at")
        .group_by("account_id")
        .agg(pl.col("followers").last().alias("latest_followers"))
    )
    rates = per_post.group_by("account_id").agg(
        pl.len().cast(pl.UInt32).alias("engagement_posts"),
        pl.col("engagement_rate").median().alias("engagement_rate"),
        (pl.col("comments").fill_null(0) > 0).sum().alias("commented_posts"),
        pl.col("likes").sum().alias("_likes"),
        pl.col("comments").fill_null(0).sum().alias("_comments"),
    )
    frame = accounts.select("account_id", "platform").join(latest, on="account_id", how="left")
    if tier_scheme is not None:
        labels = tier_scheme.classify(
            frame["latest_followers"].cast(pl.Float64).fill_null(float("nan")).to_numpy(),
            frame["platform"].to_numpy(),
        )
        frame = frame.with_columns(pl.Series("tier", list(labels), dtype=pl.String))
    else:
        frame = frame.with_columns(tier_of(pl.col("latest_followers")).alias("tier"))
    return (
        frame.join(rates, on="account_id", how="left")
        .with_columns(
            pl.col("engagement_posts").fill_null(0),
            pl.col("commented_posts").fill_null(0),
            pl.when(pl.col("_comments") > 0)
            .then(pl.col("_likes") / pl.col("_comments"))
            .alias("likes_comments_ratio"),
            # ln(0) is -inf: an account with no interactions at all is left out of the log scale.
            pl.when(pl.col("engagement_rate") > 0).then(pl.col("engagement_rate")),
        )
        .with_columns(
            pl.when(pl.col("likes_comments_ratio") > 0).then(pl.col("likes_comments_ratio")),
            pl.when(pl.col("engagement_rate").is_null())
            .then(0)
            .otherwise(pl.col("engagement_posts"))
            .cast(pl.UInt32)
            .alias("engagement_posts"),
        )
        .drop("_likes", "_comments")
    )
