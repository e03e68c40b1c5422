"""Every formula pinned on a hand-made workspace (tests/metrics_data.py), on DuckDB.

The numbers in the comments are worked out by hand from the rows in metrics_data.py.
"""

from __future__ import annotations

import statistics

import pyarrow as pa
import pytest
from scipy import stats

from metrics_data import DAY, NOW_DAY, inputs
from microfluence.metrics.engines import PipelineInputs, run_pipeline
from microfluence.metrics.settings import MetricsSettings

NOW = NOW_DAY * DAY


def run(settings: MetricsSettings | None = None, data: PipelineInputs | None = None):
    result = run_pipeline(data or inputs(), settings or MetricsSettings(), now=NOW)
    posts = {r["post_id"]: r for r in result.posts.to_pylist()}
    accounts = {r["account_id"]: r for r in result.accounts.to_pylist()}
    return posts, accounts


@pytest.fixture(scope="module")
def default():
    return run()


def test_followers_at_the_time_of_the_post_come_from_the_nearest_snapshot(default):
    posts, _ = default
    # account 1 snapshots: day 100 → 1000, day 170 → 1100, day 195 → 1200
    assert posts[11]["followers_at_post"] == 1000  # day 20: none before; first after (day 100)
    assert posts[11]["snapshot_t"] == 100 * DAY
    assert posts[12]["followers_at_post"] == 1000  # day 120: 20 days after 100, 50 before 170
    assert posts[13]["followers_at_post"] == 1100  # day 180: 10 after 170, 15 before 195
    assert posts[14]["followers_at_post"] == 1200  # day 190: 5 before 195 beats 20 after 170
    assert posts[15]["followers_at_post"] == 1200  # day 199: after the last snapshot
    assert posts[41]["followers_at_post"] == 50_000  # no snapshot before the post
    assert posts[31]["followers_at_post"] is None  # account without snapshots


def test_nearest_snapshot_tie_goes_to_the_earlier_one():
    data = inputs()
    snaps = pa.table({"account_id": [1, 1], "t": [100 * DAY, 120 * DAY], "followers": [10, 20]})
    # a post at day 110 is 10 days from both snapshots
    mid = data.posts.to_pylist()[:1]
    mid[0].update(post_id=99, t=110 * DAY)
    extra = pa.concat_tables([data.posts, pa.Table.from_pylist(mid, schema=data.posts.schema)])
    posts, _ = run(data=PipelineInputs(data.accounts, snaps, extra))
    assert posts[99]["followers_at_post"] == 10
    assert posts[12]["followers_at_post"] == 20  # a snapshot at the post's own time


def test_interactions_and_rates_per_post(default):
    posts, _ = default
    assert posts[12]["interactions"] == 50 + 5 + 3  # likes + comments + saves (shares unknown)
    assert posts[12]["er_followers"] == pytest.approx(58 / 1000)
    assert posts[12]["er_reach"] == pytest.approx(58 / 500)
    assert posts[12]["er_views"] is None  # an image has no views
    assert posts[14]["interactions"] == 60 + 4 + 2
    assert posts[15]["er_views"] == pytest.approx(33 / 600)
    # hidden likes: interactions unknown, not 0, and no rate at all
    assert posts[13]["interactions"] is None
    assert posts[13]["er_followers"] is None and posts[13]["er_views"] is None
    # zero followers: no rate (not infinity); by views it still has one
    assert posts[21]["followers_at_post"] == 0
    assert posts[21]["er_followers"] is None
    assert posts[21]["er_views"] == pytest.approx((100 + 10 + 5) / 2000)
    # a video without views has no rate by views
    assert posts[22]["er_views"] is None


def test_interaction_components_are_configurable():
    posts, _ = run(MetricsSettings(components=("likes", "comments")))
    assert posts[12]["interactions"] == 55
    assert posts[21]["interactions"] == 110
    posts, _ = run(MetricsSettings(components=("comments", "shares")))
    assert posts[13]["interactions"] == 7  # likes hidden no longer matter
    posts, _ = run(MetricsSettings(components=("shares", "saves")))
    assert posts[11]["interactions"] is None  # neither counted: unknown, not 0
    assert posts[12]["interactions"] == 3


def test_account_engagement_mean_median_and_interval(default):
    _, acc = default
    a = acc[1]
    ers = [42 / 1000, 58 / 1000, 66 / 1200, 33 / 1200]  # post 13 has no rate
    assert a["n_posts"] == 5 and a["n_er"] == 4
    assert a["er_mean"] == pytest.approx(statistics.mean(ers))
    assert a["er_median"] == pytest.approx(statistics.median(ers))
    half = stats.t.ppf(0.975, 3) * statistics.stdev(ers) / 2
    assert a["er_mean_lo"] == pytest.approx(statistics.mean(ers) - half)
    assert a["er_mean_hi"] == pytest.approx(statistics.mean(ers) + half)
    # 4 rates are too few for a distribution-free 95% interval of the median
    assert a["er_median_lo"] is None and a["er_median_hi"] is None


def test_median_interval_uses_order_statistics():
    # one instagram account, 10 posts with ER 1%..10% at 1000 followers
    n = 10
    data = PipelineInputs(
        accounts=pa.table({"account_id": [7], "platform": ["instagram"]}),
        snapshots=pa.table({"account_id": [7], "t": [0], "followers": [1000]}),
        posts=pa.table(
            {
                "post_id": list(range(n)),
                "account_id": [7] * n,
                "t": [(i + 1) * DAY for i in range(n)],
                "post_type": ["image"] * n,
                "likes": [10 * (i + 1) - 1 for i in range(n)],
                "comments": [1] * n,
                "shares": [None] * n,
                "saves": [None] * n,
                "views": [None] * n,
                "reach": [None] * n,
                "is_sponsored": pa.array([None] * n, pa.bool_()),
            }
        ),
    )
    _, acc = run(data=data)
    # ranks round(10/2 − 1.96·√10/2) = round(1.90) = 2 and round(1 + 5 + 3.10) = 9
    assert acc[7]["er_median_lo"] == pytest.approx(0.02)
    assert acc[7]["er_median_hi"] == pytest.approx(0.09)
    assert acc[7]["er_median"] == pytest.approx(0.055)


def test_one_post_and_no_snapshot(default):
    _, acc = default
    a = acc[3]
    assert a["n_posts"] == 1 and a["n_er"] == 0
    assert a["er_mean"] is None and a["er_mean_lo"] is None and a["er_median"] is None
    assert a["followers"] is None and a["tier__mediakix"] is None
    assert a["posts_per_week"] == pytest.approx(7 / 50)  # 1 post in the 50 days since it
    assert a["likes_to_comments"] == pytest.approx(9.0)
    assert a["days_since_last_post"] == pytest.approx(50.0)
    assert a["cohort_percentile"] is None


def test_ratios_frequency_sponsorship_and_recency(default):
    _, acc = default
    a = acc[1]
    assert a["posts_per_week"] == pytest.approx(5 * 7 / 180)  # 5 posts since day 20
    assert a["likes_to_comments"] == pytest.approx((40 + 50 + 60 + 30) / (2 + 5 + 4 + 3))
    assert a["views_to_followers"] == pytest.approx((900 / 1100 + 600 / 1200) / 2)
    assert a["er_views_median"] == pytest.approx(33 / 600)
    assert a["er_reach_median"] == pytest.approx(58 / 500)
    assert a["sponsored_share"] == pytest.approx(1 / 3)  # one of three posts that say
    assert a["er_sponsored_median"] == pytest.approx(58 / 1000)
    assert a["er_organic_median"] == pytest.approx(66 / 1200)  # post 13 has no rate
    assert a["days_since_last_post"] == pytest.approx(1.0)
    assert acc[2]["sponsored_share"] is None  # nothing known either way


def test_follower_growth(default):
    _, acc = default
    a = acc[1]
    assert a["followers"] == 1200 and a["followers_t"] == 195 * DAY
    # 90 days: the latest snapshot 90–180 days before day 195 is day 100 (1000)
    assert a["growth_90d"] == 200 and a["growth_90d_pct"] == pytest.approx(0.2)
    # 30 days: nothing between day 135 and day 165 — unknown, not 0
    assert a["growth_30d"] is None and a["growth_30d_pct"] is None
    assert a["growth_7d"] is None
    assert acc[2]["growth_90d"] is None  # a single snapshot


def test_growth_percentage_from_zero_followers_is_unknown():
    data = inputs()
    snaps = pa.table({"account_id": [2, 2], "t": [150 * DAY, 160 * DAY], "followers": [0, 50]})
    _, acc = run(data=PipelineInputs(data.accounts, snaps, data.posts))
    assert acc[2]["growth_7d"] == 50 and acc[2]["growth_7d_pct"] is None


def test_vendor_definitions_side_by_side(default):
    _, acc = default
    a = acc[1]
    # HypeAuditor: median (likes+comments) of the 12 latest posts / followers
    assert a["er_hypeauditor"] == pytest.approx(statistics.median([42, 55, 64, 33]) / 1200)
    # Modash, Instagram: median likes of the last 60 days (posts 13 hidden, 14, 15) / followers
    assert a["er_modash"] == pytest.approx(statistics.median([60, 30]) / 1200)
    # Upfluence: mean (likes+comments) of the last 90 days (posts 12, 14, 15) / followers
    assert a["er_upfluence"] == pytest.approx(statistics.mean([55, 64, 33]) / 1200)
    # GRIN: mean (likes+comments) over the window / followers
    assert a["er_grin"] == pytest.approx(statistics.mean([42, 55, 64, 33]) / 1200)
    # Modash, TikTok and YouTube: mean likes / mean views, posts with both
    assert acc[2]["er_modash"] == pytest.approx(100 / 2000)
    assert acc[4]["er_modash"] == pytest.approx(1000 / 20_000)
    # zero followers: every follower-based definition is unknown
    assert acc[2]["er_hypeauditor"] is None and acc[2]["er_grin"] is None


def test_posts_older_than_the_window():
    _, acc = run(MetricsSettings(window_posts=2))
    a = acc[1]
    assert a["n_posts"] == 2  # posts 14 and 15
    assert a["er_mean"] == pytest.approx((66 / 1200 + 33 / 1200) / 2)
    assert a["posts_per_week"] == pytest.approx(2 * 7 / 10)  # oldest in window: day 190
    posts, acc = run(MetricsSettings(window_posts=None, window_days=30))
    # after day 170: posts 13 (day 180), 14 and 15
    in_window = [p for p, r in posts.items() if r["in_window"] and r["account_id"] == 1]
    assert sorted(in_window) == [13, 14, 15]
    assert acc[1]["posts_per_week"] == pytest.approx(3 * 7 / 30)
    assert acc[3]["n_posts"] == 0 and acc[3]["posts_per_week"] is None
    assert acc[3]["days_since_last_post"] == pytest.approx(50.0)  # recency ignores the window


def test_undated_and_future_posts_never_enter_a_window():
    data = inputs()
    rows = data.posts.to_pylist()[:2]
    rows[0].update(post_id=98, t=None)
    rows[1].update(post_id=99, t=(NOW_DAY + 5) * DAY)
    extra = pa.concat_tables([data.posts, pa.Table.from_pylist(rows, schema=data.posts.schema)])
    posts, acc = run(data=PipelineInputs(data.accounts, data.snapshots, extra))
    assert posts[98]["in_window"] is False and posts[98]["followers_at_post"] is None
    assert posts[98]["interactions"] == 42  # still counted, just not placed in time
    assert posts[99]["in_window"] is False
    assert acc[1]["n_posts"] == 5 and acc[1]["days_since_last_post"] == pytest.approx(1.0)


def test_tiers_cohorts_and_reference_bands(default):
    _, acc = default
    assert acc[1]["tier__mediakix"] == "nano"
    assert acc[2]["tier__mediakix"] == "below nano"  # zero followers
    assert acc[4]["tier__mediakix"] == "mid"  # 50,000 starts "mid" (bands are [min, max))
    assert acc[1]["cohort_tier"] == "nano"
    assert acc[1]["cohort_percentile"] == pytest.approx(100.0) and acc[1]["cohort_size"] == 1
    # Instagram nano: typical 3–5%; a median of 4.85% is within
    assert (acc[1]["reference_low"], acc[1]["reference_high"]) == (0.03, 0.05)
    assert acc[1]["reference_position"] == 0
    assert acc[4]["reference_low"] is None  # no published band for YouTube


def test_cohort_percentile_is_the_share_at_or_below():
    medians = {1: 0.01, 2: 0.02, 3: 0.02, 4: 0.04, 5: 0.03}
    platform = {1: "instagram", 2: "instagram", 3: "instagram", 4: "instagram", 5: "tiktok"}
    ids = list(medians)
    data = PipelineInputs(
        accounts=pa.table({"account_id": ids, "platform": [platform[i] for i in ids]}),
        snapshots=pa.table({"account_id": ids, "t": [0] * 5, "followers": [2000] * 5}),
        posts=pa.table(
            {
                "post_id": ids,
                "account_id": ids,
                "t": [DAY] * 5,
                "post_type": ["image"] * 5,
                "likes": [int(medians[i] * 2000) for i in ids],
                "comments": [0] * 5,
                "shares": [None] * 5,
                "saves": [None] * 5,
                "views": [None] * 5,
                "reach": [None] * 5,
                "is_sponsored": pa.array([None] * 5, pa.bool_()),
            }
        ),
    )
    _, acc = run(data=data)
    assert [acc[i]["cohort_percentile"] for i in ids] == pytest.approx([25, 75, 75, 100, 100])
    assert [acc[i]["cohort_size"] for i in ids] == [4, 4, 4, 4, 1]


def test_as_of_is_the_time_of_the_newest_data_seen(default):
    _, acc = default
    a = acc[1]
    assert a["as_of_posts"] == 199 * DAY
    assert a["as_of_er"] == 199 * DAY  # newest post (199) is later than its snapshot (195)
    assert a["followers_t"] == 195 * DAY
    assert a["last_post_t"] == 199 * DAY
    assert acc[4]["as_of_er"] == 190 * DAY  # the snapshot after the post is the newest datum
