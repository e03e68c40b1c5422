"""Every account metric the pipeline stores: its column, unit, the time it is "as of", meaning.

The catalogue is data so the store, the API, exports and docs/metrics.md list the same things.
"""

from __future__ import annotations

from dataclasses import dataclass

from microfluence.metrics.inputs import GROWTH_DAYS


@dataclass(frozen=True)
class Metric:
    name: str
    as_of: str  # the account-frame column holding the time of the newest data it saw
    unit: str  # "fraction", "count", "ratio", "per_week", "days", "percentile"
    label: str


_ER = "as_of_er"
_POSTS = "as_of_posts"
_FOLLOWERS = "followers_t"
_VENDOR = "as_of_vendor"

METRICS: tuple[Metric, ...] = (
    Metric("followers", _FOLLOWERS, "count", "Followers (latest snapshot)"),
    Metric("n_posts", _POSTS, "count", "Posts in the window"),
    Metric("n_er", _ER, "count", "Posts in the window with an engagement rate"),
    Metric("er_mean", _ER, "fraction", "Engagement rate by followers, mean"),
    Metric("er_mean_lo", _ER, "fraction", "Mean ER, 95% t-interval, low"),
    Metric("er_mean_hi", _ER, "fraction", "Mean ER, 95% t-interval, high"),
    Metric("er_median", _ER, "fraction", "Engagement rate by followers, median"),
    Metric("er_median_lo", _ER, "fraction", "Median ER, 95% order-statistic interval, low"),
    Metric("er_median_hi", _ER, "fraction", "Median ER, 95% order-statistic interval, high"),
    Metric("er_views_mean", _POSTS, "fraction", "Engagement rate by views, mean"),
    Metric("er_views_median", _POSTS, "fraction", "Engagement rate by views, median"),
    Metric("er_reach_mean", _POSTS, "fraction", "Engagement rate by reach, mean"),
    Metric("er_reach_median", _POSTS, "fraction", "Engagement rate by reach, median"),
    Metric("posts_per_week", _POSTS, "per_week", "Posting frequency"),
    Metric("likes_to_comments", _POSTS, "ratio", "Likes per comment"),
    Metric("views_to_followers", _ER, "ratio", "Views per follower (video), mean"),
    *(
        m
        for k in GROWTH_DAYS
        for m in (
            Metric(f"growth_{k}d", _FOLLOWERS, "count", f"Follower growth, {k} days"),
            Metric(f"growth_{k}d_pct", _FOLLOWERS, "fraction", f"Follower growth, {k} days, %"),
        )
    ),
    Metric("sponsored_share", _POSTS, "fraction", "Share of posts that are sponsored"),
    Metric("er_sponsored_median", _ER, "fraction", "Median ER of sponsored posts"),
    Metric("er_organic_median", _ER, "fraction", "Median ER of organic posts"),
    Metric("days_since_last_post", "last_post_t", "days", "Days since the last post"),
    Metric("er_hypeauditor", _VENDOR, "fraction", "ER as HypeAuditor defines it"),
    Metric("er_modash", _VENDOR, "fraction", "ER as Modash defines it"),
    Metric("er_upfluence", _VENDOR, "fraction", "ER as Upfluence defines it"),
    Metric("er_grin", _VENDOR, "fraction", "ER as GRIN defines it"),
    Metric("cohort_percentile", _ER, "percentile", "Percentile of median ER in its cohort"),
    Metric("cohort_size", _ER, "count", "Accounts in its (platform, tier) cohort"),
    Metric("reference_low", _ER, "fraction", "Published typical ER for its tier, low"),
    Metric("reference_high", _ER, "fraction", "Published typical ER for its tier, high"),
    Metric("reference_position", _ER, "position", "-1 below, 0 within, +1 above the band"),
)
BY_NAME = {m.name: m for m in METRICS}
VENDOR_METRICS = ("er_hypeauditor", "er_modash", "er_upfluence", "er_grin")
