"""Growth anomalies: follower jumps and drops against the account's own history.

Bought followers arrive in batches: the follower series jumps in one interval while the posts
around that date get no more engagement than usual. A real viral moment also makes the series
jump, but the posts around it are engaged with far more than usual. So:

1. Between consecutive snapshots, the daily log growth rate
   ``r = (ln(1 + f_t) - ln(1 + f_{t-1})) / Δdays`` (log growth: a doubling reads the same at any
   size; per day: snapshots need not be evenly spaced).
2. Against the account's own history, the modified z-score of each interval
   ``M = 0.6745 (r - median(r)) / max(MAD(r), 0.0005)`` (Iglewicz & Hoaglin 1993); the floor on
   the MAD (0.05 %/day) keeps a perfectly steady account from flagging noise.
3. An interval is an anomaly when ``|M| > 3.5`` and its excess change over the account's typical
   growth, ``excess = Δf - f_{t-1} (exp(median(r) Δdays) - 1)``, is material: at least 2 % of
   the followers before it and at least 20 followers.
4. Consecutive anomalous intervals of one kind form an *episode* (a surge, or a delivery of
   bought followers, often spans a few days). A jump episode is *explained* (viral) when a post
   published from 3 days before the episode to its end got at least 2x the *baseline*
   interactions (likes + comments): the median of the account's posts before that window (of
   all its posts when fewer than 3 came before). A viral post typically draws several times its
   account's usual engagement; bought followers bring none, so their ratio stays near 1.
5. The component: ``suspicious share = (Σ excess of unexplained jumps + Σ |excess| of drops) /
   latest followers``; score 100 at 0, 0 at 20 % or more. Drops are never "explained": a sudden
   loss is what a platform purge of fake followers looks like.

Needs at least 4 intervals (5 snapshots) with valid counts; otherwise "not available".
"""

from __future__ import annotations

import datetime as dt

import polars as pl

from microfluence.authenticity.signals.scale import MODIFIED_Z_OUTLIER, linear_score, modified_z

MIN_INTERVALS = 4
MAD_FLOOR = 0.0005  # per day
MIN_EXCESS_SHARE = 0.02
MIN_EXCESS_ABS = 20
VIRAL_WINDOW_BEFORE = dt.timedelta(days=3)
VIRAL_FACTOR = 2.0
MIN_BASELINE_POSTS = 3
SCORE_GOOD, SCORE_BAD = 0.0, 0.20
# No account has ever had more than a few hundred million followers; counts beyond this are errors.
MAX_PLAUSIBLE_COUNT = 5_000_000_000

SUMMARY_SCHEMA = {
    "account_id": pl.Int64,
    "growth_intervals": pl.UInt32,
    "growth_invalid_snapshots": pl.UInt32,
    "growth_first_at": pl.Datetime("us"),
    "growth_last_at": pl.Datetime("us"),
    "latest_followers": pl.Int64,
    "latest_following": pl.Int64,
    "growth_median_daily_rate": pl.Float64,
    "growth_jumps": pl.UInt32,
    "growth_viral_jumps": pl.UInt32,
    "growth_drops": pl.UInt32,
    "growth_suspicious_change": pl.Float64,
    "growth_suspicious_share": pl.Float64,
    "growth_available": pl.Boolean,
    "growth_score": pl.Float64,
}


def valid_snapshots(snapshots: pl.DataFrame) -> pl.DataFrame:
    """Snapshots with a usable follower count, one per (account, time), in time order."""
    return (
        snapshots.filter(
            pl.col("captured_at").is_not_null()
            & pl.col("followers").is_not_null()
            & pl.col("followers").is_between(0, MAX_PLAUSIBLE_COUNT)
        )
        .unique(subset=["account_id", "captured_at"], keep="last")
        .sort("account_id", "captured_at")
    )


def growth_intervals(snapshots: pl.DataFrame) -> pl.DataFrame:
    """One row per interval between consecutive valid snapshots, with its modified z-score."""
    snaps = valid_snapshots(snapshots)
    by_account = pl.col("account_id")
    intervals = (
        snaps.with_columns(
            pl.col("captured_at").shift(1).over(by_account).alias("start_at"),
            pl.col("followers").shift(1).over(by_account).alias("start_followers"),
        )
        .filter(pl.col("start_at").is_not_null())
        .rename({"captured_at": "end_at", "followers": "end_followers"})
        .with_columns(
            ((pl.col("end_at") - pl.col("start_at")).dt.total_seconds() / 86_400.0).alias("days")
        )
        .filter(pl.col("days") > 0)
        .with_columns(
            (pl.col("end_followers") - pl.col("start_followers")).alias("change"),
            (
                (pl.col("end_followers").log1p() - pl.col("start_followers").log1p())
                / pl.col("days")
            ).alias("daily_rate"),
        )
    )
    median = pl.col("daily_rate").median().over(by_account)
    mad = (pl.col("daily_rate") - median).abs().median().over(by_account)
    intervals = intervals.with_columns(
        median.alias("median_daily_rate"),
        modified_z(pl.col("daily_rate"), median, mad, MAD_FLOOR).alias("modified_z"),
        pl.len().over(by_account).alias("n_intervals"),
    ).with_columns(
        (
            pl.col("change")
            - pl.col("start_followers")
            * ((pl.col("median_daily_rate") * pl.col("days")).exp() - 1.0)
        ).alias("excess")
    )
    material = pl.col("excess").abs() >= pl.max_horizontal(
        pl.col("start_followers") * MIN_EXCESS_SHARE, pl.lit(MIN_EXCESS_ABS)
    )
    enough = pl.col("n_intervals") >= MIN_INTERVALS
    return intervals.with_columns(
        pl.when(enough & material & (pl.col("modified_z") > MODIFIED_Z_OUTLIER))
        .then(pl.lit("jump"))
        .when(enough & material & (pl.col("modified_z") < -MODIFIED_Z_OUTLIER))
        .then(pl.lit("drop"))
        .otherwise(None)
        .alias("anomaly")
    )


def _interactions(posts: pl.DataFrame) -> pl.DataFrame:
    return posts.filter(pl.col("posted_at").is_not_null()).with_columns(
        (
            pl.col("likes").clip(lower_bound=0).fill_null(0)
            + pl.col("comments").clip(lower_bound=0).fill_null(0)
        ).alias("interactions")
    )


def growth_anomalies(snapshots: pl.DataFrame, posts: pl.DataFrame) -> pl.DataFrame:
    """The anomalous intervals, each with the engagement around its episode and whether that
    engagement explains it.

    Consecutive anomalous intervals of the same kind form one *episode* (a surge or a delivery of
    bought followers often spans a few days); each interval carries its episode's verdict.
    """
    intervals = growth_intervals(snapshots).filter(pl.col("anomaly").is_not_null())
    intervals = intervals.sort("account_id", "start_at").with_columns(
        (
            (pl.col("start_at") != pl.col("end_at").shift(1).over("account_id"))
            | (pl.col("anomaly") != pl.col("anomaly").shift(1).over("account_id"))
        )
        .fill_null(True)
        .cum_sum()
        .over("account_id")
        .alias("episode")
    )
    episodes = intervals.group_by("account_id", "episode").agg(
        pl.col("start_at").min().alias("episode_start"),
        pl.col("end_at").max().alias("episode_end"),
    )
    scored = _interactions(posts).select("account_id", "post_id", "posted_at", "interactions")
    joined = episodes.join(scored, on="account_id").with_columns(
        (pl.col("episode_start") - VIRAL_WINDOW_BEFORE).alias("_from")
    )
    around = (
        joined.sort("interactions", descending=True)
        .group_by("account_id", "episode")
        .agg(
            pl.col("post_id")
            .filter(pl.col("posted_at").is_between(pl.col("_from"), pl.col("episode_end")))
            .first()
            .alias("peak_post_id"),
            pl.col("interactions")
            .filter(pl.col("posted_at").is_between(pl.col("_from"), pl.col("episode_end")))
            .first()
            .alias("peak_interactions"),
            pl.col("interactions")
            .filter(pl.col("posted_at") < pl.col("_from"))
            .median()
            .alias("_before"),
            pl.col("interactions").filter(pl.col("posted_at") < pl.col("_from")).len().alias("_n"),
            pl.col("interactions").median().alias("_all"),
        )
        .with_columns(
            pl.when(pl.col("_n") >= MIN_BASELINE_POSTS)
            .then(pl.col("_before"))
            .otherwise(pl.col("_all"))
            .alias("baseline_interactions")
        )
    )
    anomalies = (
        intervals.join(around, on=["account_id", "episode"], how="left")
        .with_columns(
            (
                pl.col("peak_interactions")
                / pl.max_horizontal(pl.col("baseline_interactions"), pl.lit(1.0))
            ).alias("engagement_ratio")
        )
        .with_columns(
            (
                (pl.col("anomaly") == "jump")
                & (pl.col("engagement_ratio") >= VIRAL_FACTOR).fill_null(False)
            ).alias("explained_by_engagement")
        )
    )
    return anomalies.select(
        "account_id",
        "anomaly",
        "episode",
        "start_at",
        "end_at",
        "start_followers",
        "end_followers",
        "change",
        "excess",
        "daily_rate",
        "modified_z",
        "explained_by_engagement",
        "peak_post_id",
        "engagement_ratio",
    ).sort("account_id", "start_at")


def growth_signal(snapshots: pl.DataFrame, posts: pl.DataFrame) -> pl.DataFrame:
    """Per account: intervals seen, anomalies found, the suspicious share and the 0-100 score."""
    valid = valid_snapshots(snapshots)
    invalid = (
        snapshots.group_by("account_id")
        .agg(pl.len().alias("rows"))
        .join(valid.group_by("account_id").agg(pl.len().alias("kept")), on="account_id", how="left")
        .select(
            "account_id",
            (pl.col("rows") - pl.col("kept").fill_null(0))
            .cast(pl.UInt32)
            .alias("growth_invalid_snapshots"),
        )
    )
    latest = valid.group_by("account_id").agg(
        pl.col("captured_at").min().alias("growth_first_at"),
        pl.col("captured_at").max().alias("growth_last_at"),
        pl.col("followers").last().alias("latest_followers"),
        pl.col("following")
        .filter(pl.col("following").is_between(0, MAX_PLAUSIBLE_COUNT))
        .last()
        .alias("latest_following"),
    )
    intervals = (
        growth_intervals(snapshots)
        .group_by("account_id")
        .agg(
            pl.len().cast(pl.UInt32).alias("growth_intervals"),
            pl.col("median_daily_rate").first().alias("growth_median_daily_rate"),
        )
    )
    anomalies = (
        growth_anomalies(snapshots, posts)
        .group_by("account_id")
        .agg(
            # counted in episodes: a three-day delivery of bought followers is one jump
            pl.col("episode")
            .filter((pl.col("anomaly") == "jump") & ~pl.col("explained_by_engagement"))
            .n_unique()
            .cast(pl.UInt32)
            .alias("growth_jumps"),
            pl.col("episode")
            .filter(pl.col("explained_by_engagement"))
            .n_unique()
            .cast(pl.UInt32)
            .alias("growth_viral_jumps"),
            pl.col("episode")
            .filter(pl.col("anomaly") == "drop")
            .n_unique()
            .cast(pl.UInt32)
            .alias("growth_drops"),
            pl.col("excess")
            .filter(~pl.col("explained_by_engagement"))
            .abs()
            .sum()
            .alias("growth_suspicious_change"),
        )
    )
    summary = (
        invalid.join(latest, on="account_id", how="left")
        .join(intervals, on="account_id", how="left")
        .join(anomalies, on="account_id", how="left")
        .with_columns(
            pl.col("growth_intervals").fill_null(0),
            pl.col("growth_jumps").fill_null(0),
            pl.col("growth_viral_jumps").fill_null(0),
            pl.col("growth_drops").fill_null(0),
            pl.col("growth_suspicious_change").fill_null(0.0),
        )
        .with_columns(
            (
                pl.col("growth_suspicious_change")
                / pl.max_horizontal(pl.col("latest_followers"), pl.lit(1)).cast(pl.Float64)
            ).alias("growth_suspicious_share"),
            (pl.col("growth_intervals") >= MIN_INTERVALS).alias("growth_available"),
        )
        .with_columns(
            pl.when(pl.col("growth_available"))
            .then(linear_score(pl.col("growth_suspicious_share"), SCORE_GOOD, SCORE_BAD))
            .otherwise(None)
            .alias("growth_score")
        )
    )
    return summary.select(list(SUMMARY_SCHEMA)).cast(SUMMARY_SCHEMA)
