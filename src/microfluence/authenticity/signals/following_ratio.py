"""Following-to-followers ratio of the account itself.

Follow-for-follow schemes and bot-grown accounts follow about as many accounts as follow them
back, or more; established creators follow far fewer than follow them. The ratio is a classic
feature of fake-account detection (Cresci et al. 2015, "Fame for sale: efficient detection of
fake Twitter followers", Decision Support Systems 80). Measured on the latest snapshot that has
both counts: ``ratio = following / max(followers, 1)``; score 100 at ``ratio <= 1``, 0 at
``ratio >= 3`` (our band: at 1 the account follows as many as follow it).
"""

from __future__ import annotations

import polars as pl

from microfluence.authenticity.signals.growth import MAX_PLAUSIBLE_COUNT
from microfluence.authenticity.signals.scale import linear_score

SCORE_GOOD, SCORE_BAD = 1.0, 3.0


def following_ratio_signal(snapshots: pl.DataFrame) -> pl.DataFrame:
    """Per account: the latest following and followers counts, their ratio and the score."""
    both = (
        snapshots.filter(
            pl.col("captured_at").is_not_null()
            & pl.col("followers").is_between(0, MAX_PLAUSIBLE_COUNT)
            & pl.col("following").is_between(0, MAX_PLAUSIBLE_COUNT)
        )
        .sort("account_id", "captured_at")
        .group_by("account_id")
        .agg(
            pl.col("captured_at").last().alias("following_ratio_at"),
            pl.col("followers").last().alias("following_ratio_followers"),
            pl.col("following").last().alias("following_ratio_following"),
        )
    )
    return (
        both.with_columns(
            (
                pl.col("following_ratio_following")
                / pl.max_horizontal(pl.col("following_ratio_followers"), pl.lit(1))
            ).alias("following_ratio"),
            pl.lit(True).alias("following_ratio_available"),
        )
        .with_columns(
            linear_score(pl.col("following_ratio"), SCORE_GOOD, SCORE_BAD).alias(
                "following_ratio_score"
            )
        )
        .sort("account_id")
    )
