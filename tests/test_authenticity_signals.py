"""Every authenticity signal on crafted series, posts and comments, and on hostile input."""

from __future__ import annotations

import datetime as dt
import json

import numpy as np
import polars as pl
import pytest

from microfluence.authenticity.signals import brand_safety
from microfluence.authenticity.signals.comments import comment_signal, flag_comments, pod_members
from microfluence.authenticity.signals.engagement import engagement_signal, post_engagement
from microfluence.authenticity.signals.following_ratio import following_ratio_signal
from microfluence.authenticity.signals.frames import (
    ACCOUNT_SCHEMA,
    COMMENT_SCHEMA,
    POST_SCHEMA,
    SNAPSHOT_SCHEMA,
)
from microfluence.authenticity.signals.growth import growth_anomalies, growth_signal
from microfluence.authenticity.signals.sponsored import classify_posts, sponsored_signal
from microfluence.kernel.errors import InputError

T0 = dt.datetime(2025, 3, 1)


def snapshots(account_id: int, followers, following=None, step_days: float = 1.0):
    n = len(followers)
    return pl.DataFrame(
        {
            "account_id": [account_id] * n,
            "captured_at": [T0 + dt.timedelta(days=step_days * i) for i in range(n)],
            "followers": list(followers),
            "following": list(following) if following is not None else [300] * n,
            "posts_count": [None] * n,
        },
        schema=SNAPSHOT_SCHEMA,
    )


def posts(account_id: int, rows: list[dict]) -> pl.DataFrame:
    base = {name: None for name in POST_SCHEMA}
    data = [
        base
        | {"account_id": account_id, "post_id": account_id * 1000 + i, "platform_post_id": f"p{i}"}
        | row
        for i, row in enumerate(rows)
    ]
    return pl.DataFrame(data, schema=POST_SCHEMA)


def steady(days: int = 60, start: int = 10_000, rate: float = 0.002, seed: int = 1) -> np.ndarray:
    noise = np.random.default_rng(seed).normal(0, 4, days)
    return (start * np.exp(rate * np.arange(days)) + noise).astype(int)


def regular_posts(account_id: int, days: int = 60, likes: int = 400, spike: dict | None = None):
    rows = []
    for i in range(days // 3):
        day = 3 * i
        boost = (spike or {}).get(day, 1)
        rows.append(
            {
                "posted_at": T0 + dt.timedelta(days=day, hours=9),
                "likes": likes * boost,
                "comments": 12 * boost,
            }
        )
    return posts(account_id, rows)


# -- growth ------------------------------------------------------------------------------------


def test_a_planted_jump_is_found_with_its_date():
    series = steady()
    series[30:] += 2_500  # bought: +25 % overnight, nothing else changes
    found = growth_anomalies(snapshots(1, series), regular_posts(1))
    assert found.height == 1
    jump = found.row(0, named=True)
    assert jump["anomaly"] == "jump" and not jump["explained_by_engagement"]
    assert jump["end_at"] == T0 + dt.timedelta(days=30)
    assert 2_400 < jump["excess"] < 2_600
    summary = growth_signal(snapshots(1, series), regular_posts(1)).row(0, named=True)
    assert summary["growth_jumps"] == 1 and summary["growth_available"]
    assert summary["growth_score"] < 20


def test_a_viral_jump_with_an_engagement_spike_is_not_flagged():
    series = steady()
    series[30:] += 2_500
    viral = regular_posts(1, spike={27: 8})  # a post 3 days before the jump took off
    found = growth_anomalies(snapshots(1, series), viral)
    assert found.height == 1 and found["explained_by_engagement"][0]
    summary = growth_signal(snapshots(1, series), viral).row(0, named=True)
    assert summary["growth_jumps"] == 0 and summary["growth_viral_jumps"] == 1
    assert summary["growth_score"] == 100


def test_a_drop_is_flagged_and_never_explained():
    series = steady()
    series[40:] -= 2_000  # a purge of fake followers
    summary = growth_signal(snapshots(1, series), regular_posts(1, spike={39: 10})).row(
        0, named=True
    )
    assert summary["growth_drops"] == 1 and summary["growth_score"] < 100


def test_steady_and_uneven_growth_is_clean():
    # Snapshots every 7 days growing 1 %/day are no more suspicious than daily ones.
    series = steady(days=20, rate=0.01)
    summary = growth_signal(snapshots(1, series, step_days=7), regular_posts(1)).row(0, named=True)
    assert summary["growth_jumps"] == 0 and summary["growth_drops"] == 0
    assert summary["growth_score"] == 100


def test_small_noise_on_a_flat_account_is_not_an_anomaly():
    series = [5_000, 5_001, 5_000, 5_002, 5_001, 5_030, 5_001, 5_002]  # +29 is under 2 %
    assert growth_anomalies(snapshots(1, series), regular_posts(1)).height == 0


def test_too_few_snapshots_is_not_available():
    for series in ([1_000], [1_000, 1_100], [1_000, 1_100, 1_200, 9_000]):
        row = growth_signal(snapshots(1, series), regular_posts(1)).row(0, named=True)
        assert not row["growth_available"] and row["growth_score"] is None


def test_negative_absurd_and_missing_counts_are_ignored_and_counted():
    series = steady(days=30).tolist()
    series[5] = -40
    series[9] = 10**13
    series[12] = None
    row = growth_signal(snapshots(1, series), regular_posts(1)).row(0, named=True)
    assert row["growth_invalid_snapshots"] == 3
    assert row["growth_jumps"] == 0 and row["growth_drops"] == 0 and row["growth_available"]


def test_duplicate_snapshot_times_and_empty_frames():
    frame = pl.concat([snapshots(1, steady(days=10)), snapshots(1, steady(days=10))])
    assert growth_signal(frame, regular_posts(1))["growth_intervals"][0] == 9
    empty = growth_signal(pl.DataFrame(schema=SNAPSHOT_SCHEMA), pl.DataFrame(schema=POST_SCHEMA))
    assert empty.height == 0


# -- engagement --------------------------------------------------------------------------------


def cohort_world(n: int = 30, special: dict | None = None):
    """``n`` accounts of 20K-60K followers, ER ~3 % with noise, 20 likes per comment."""
    rng = np.random.default_rng(3)
    special = special or {}
    accounts = pl.DataFrame(
        {"account_id": list(range(1, n + 1)), "platform": ["instagram"] * n},
        schema={"account_id": pl.Int64, "platform": pl.String},
    ).with_columns(
        [
            pl.lit(None, dtype=t).alias(c)
            for c, t in ACCOUNT_SCHEMA.items()
            if c not in ("account_id", "platform")
        ]
    )
    snaps, frames = [], []
    for a in range(1, n + 1):
        followers = int(rng.integers(20_000, 60_000))
        snaps.append(snapshots(a, [followers]))
        er, per_comment = special.get(a, (0.03 * float(np.exp(rng.normal(0, 0.2))), 20.0))
        interactions = followers * er
        comments = interactions / (per_comment + 1)
        frames.append(
            posts(
                a,
                [
                    {
                        "posted_at": T0 + dt.timedelta(days=2 * i),
                        "likes": int(interactions - comments),
                        "comments": int(comments),
                    }
                    for i in range(12)
                ],
            )
        )
    return accounts.select(list(ACCOUNT_SCHEMA)), pl.concat(frames), pl.concat(snaps)


def test_engagement_far_from_the_cohort_is_flagged_both_ways():
    accounts, post_frame, snaps = cohort_world(special={1: (0.003, 20.0), 2: (0.3, 20.0)})
    out = engagement_signal(accounts, post_frame, snaps)
    low, high, normal = (
        out.filter(pl.col("account_id") == i).row(0, named=True) for i in (1, 2, 3)
    )
    assert low["engagement_z"] < -3.5 and low["engagement_score"] == 0
    assert high["engagement_z"] > 3.5 and high["engagement_score"] == 0
    assert normal["engagement_score"] == 100 and normal["cohort"] == "instagram · micro"
    assert normal["cohort_size"] == 30


def test_likes_to_comments_out_of_pattern():
    accounts, post_frame, snaps = cohort_world(special={1: (0.03, 1.0), 2: (0.03, 300.0)})
    out = engagement_signal(accounts, post_frame, snaps)
    pod, bought_likes = (out.filter(pl.col("account_id") == i).row(0, named=True) for i in (1, 2))
    assert pod["likes_comments_z"] < -3.5 and pod["likes_comments_score"] == 0
    assert bought_likes["likes_comments_z"] > 3.5
    assert pod["engagement_score"] == 100  # the rate itself is ordinary


def test_a_small_cohort_is_not_available():
    accounts, post_frame, snaps = cohort_world(n=8)
    out = engagement_signal(accounts, post_frame, snaps)
    assert not out["engagement_available"].any() and out["engagement_score"].is_null().all()
    assert out["engagement_rate"].is_not_null().all()


def test_engagement_uses_followers_at_the_time_and_skips_hidden_likes():
    snaps = snapshots(1, [1_000, 2_000], step_days=30)
    frame = posts(
        1,
        [
            {"posted_at": T0 + dt.timedelta(days=1), "likes": 90, "comments": 10},
            {"posted_at": T0 + dt.timedelta(days=29), "likes": 190, "comments": 10},
            {"posted_at": T0 + dt.timedelta(days=20), "likes": None, "comments": 10},
            {"posted_at": T0 + dt.timedelta(days=21), "likes": -5, "comments": 10},
        ],
    )
    per_post = post_engagement(frame, snaps).sort("posted_at")
    assert per_post["engagement_rate"].to_list() == [0.1, 0.1]
    assert post_engagement(frame, snapshots(1, [0])).height == 0  # zero followers: no rate


# -- comments ----------------------------------------------------------------------------------


def comments_frame(rows: list[tuple[int, str, str | None]], account_id: int = 1):
    return pl.DataFrame(
        [
            {
                "account_id": account_id,
                "post_id": post,
                "comment_id": i,
                "text": text,
                "author_handle": author,
                "posted_at": None,
            }
            for i, (post, text, author) in enumerate(rows)
        ],
        schema=COMMENT_SCHEMA,
    )


def test_comment_flags():
    frame = comments_frame(
        [
            (1, "😍😍🔥", "ana"),
            (1, "Nice pic!!", "bo"),
            (1, "so beautiful ✨", "cy"),
            (1, "Where did you buy that lamp? It would fit my kitchen", "dee"),
            (1, "Promote it on @growthpage, DM us", "ed"),
            (2, "Great content, keep it up!", "fay"),
            (2, "Love this, sending this to my sister now", "gus"),
            (3, "Love this, sending this to my sister now", "hal"),
            (3, "cool", "xk_38472910"),
            (3, "   ", "ivy"),
            (3, None, "jo"),
            (3, "Como você fez isso? Receita por favor", "kim"),
            (1, "Following your journey every day", "zed"),
            (2, "following your journey  every day!", "ZED"),
        ]
    )
    flagged = flag_comments(frame)
    assert flagged.height == 12  # empty comments are not comments
    by_text = {r["text"]: r for r in flagged.to_dicts()}
    assert by_text["😍😍🔥"]["emoji_only"] and not by_text["😍😍🔥"]["generic"]
    assert by_text["Nice pic!!"]["generic"] and by_text["so beautiful ✨"]["generic"]
    assert by_text["Great content, keep it up!"]["generic"]
    assert by_text["Promote it on @growthpage, DM us"]["spam"]
    assert by_text["cool"]["fake_author"] and by_text["cool"]["generic"]
    # two people writing the same line is not copy-paste; one author repeating it is
    sister = flagged.filter(pl.col("text").str.starts_with("Love this"))
    assert not sister["duplicate"].any() and not sister["flagged"].any()
    journey = flagged.filter(pl.col("author_handle").str.to_lowercase() == "zed")
    assert journey["duplicate"].all() and journey["strong"].all()
    assert by_text["Nice pic!!"]["low_effort"] and not by_text["Nice pic!!"]["strong"]
    for genuine in (
        "Where did you buy that lamp? It would fit my kitchen",
        "Como você fez isso? Receita por favor",
    ):
        assert not by_text[genuine]["flagged"]


def test_the_same_short_praise_twice_is_generic_not_duplicate():
    flagged = flag_comments(comments_frame([(1, "nice", "a"), (2, "nice", "b")]))
    assert not flagged["duplicate"].any() and flagged["generic"].all()


def pod_comments(members: int, posts_n: int = 8, extra_fans: int = 6):
    rows = []
    for post in range(posts_n):
        rows += [
            (post, f"Gorgeous light in this one, member {m}", f"pod_{m}") for m in range(members)
        ]
        rows += [
            (post, f"first time here, question {post}-{f}", f"fan_{post}_{f}")
            for f in range(extra_fans)
        ]
    return comments_frame(rows)


def test_pods_are_found_and_a_few_loyal_fans_are_not():
    pod = comment_signal(pod_comments(members=8)).row(0, named=True)
    assert pod["pod_recurrent_commenters"] == 8 and pod["pod_available"]
    assert pod["pod_share"] == pytest.approx(8 / 14)
    assert pod["pod_score"] == 0
    assert set(pod_members(pod_comments(members=8))["author_handle"]) == {
        f"pod_{m}" for m in range(8)
    }
    friends = comment_signal(pod_comments(members=3)).row(0, named=True)
    assert friends["pod_recurrent_commenters"] == 3 and friends["pod_share"] == 0
    assert friends["pod_score"] == 100


def test_comment_quality_needs_enough_comments():
    few = comment_signal(comments_frame([(1, "nice", "a"), (2, "wow", "b")])).row(0, named=True)
    assert not few["comment_quality_available"] and few["comment_quality_score"] is None
    assert not few["pod_available"]
    bots = comment_signal(
        comments_frame(
            [
                (p, t, f"farm{p}{i}0000")
                for p in range(5)
                for i, t in enumerate(["nice", "🔥🔥", "great post", "wow", "😍"])
            ]
        )
    ).row(0, named=True)
    assert bots["comment_flagged_share"] == 1.0 and bots["comment_quality_score"] == 0
    assert comment_signal(pl.DataFrame(schema=COMMENT_SCHEMA)).height == 0


# -- following ratio ---------------------------------------------------------------------------


def test_following_ratio():
    frame = pl.concat(
        [
            snapshots(1, [10_000, 12_000], following=[500, 600]),
            snapshots(2, [1_000, 1_000], following=[4_000, 5_000]),
            snapshots(3, [0], following=[50]),
            snapshots(4, [1_000], following=[None]),
        ]
    )
    out = {r["account_id"]: r for r in following_ratio_signal(frame).to_dicts()}
    assert out[1]["following_ratio"] == 0.05 and out[1]["following_ratio_score"] == 100
    assert out[2]["following_ratio"] == 5.0 and out[2]["following_ratio_score"] == 0
    assert out[3]["following_ratio"] == 50.0  # zero followers: divided by 1, not by 0
    assert 4 not in out


# -- sponsored ---------------------------------------------------------------------------------


def test_sponsored_detection_from_captions_flags_and_hashtags():
    rows = [
        {"caption": "Morning routine with my new serum #ad"},
        {"caption": "Use code ANNA20 for 20% off at checkout!"},
        {"caption": "Get 15 % off with my discount code below"},
        {"caption": "Paid partnership with @nike"},
        {"caption": "Neue Schuhe #Werbung"},
        {"caption": "Obrigada @marca #publi"},
        {"caption": "Sunset walk #adventure #adidasoriginals"},
        {"caption": "Thanks to @brand for sponsoring this trip"},
        {"caption": "just me", "hashtags": ["sponsored"]},
        {"caption": "no tag here", "is_sponsored": True, "sponsor_evidence": "paid_partnership"},
        {"caption": None},
        {"caption": "I read the ad code of conduct today"},
    ]
    rows = [r | {"posted_at": T0 + dt.timedelta(days=i)} for i, r in enumerate(rows)]
    out = classify_posts(posts(1, rows)).sort("posted_at")
    evidence = out["ad_evidence"].to_list()
    assert evidence[0] == "hashtag #ad"
    assert evidence[1].startswith("discount code") and "ANNA20" in evidence[1]
    assert evidence[2].startswith("discount code")
    assert evidence[3].startswith("caption: Paid partnership")
    assert evidence[4] == "hashtag #werbung" and evidence[5] == "hashtag #publi"
    assert evidence[6] is None  # #adventure is not #ad
    assert evidence[7].startswith("caption: Thanks to @brand")
    assert evidence[8] == "hashtag #sponsored"
    assert evidence[9] == "paid_partnership"
    assert evidence[10] is None and evidence[11] is None
    summary = sponsored_signal(posts(1, rows)).row(0, named=True)
    assert summary["sponsored_posts"] == 9 and summary["sponsored_posts_seen"] == 12
    assert summary["sponsored_score"] == 0  # 75 % ads


def test_sponsored_needs_a_few_posts_and_counts_only_recent_ones():
    few = sponsored_signal(posts(1, [{"caption": "#ad", "posted_at": T0}])).row(0, named=True)
    assert not few["sponsored_available"] and few["sponsored_score"] is None
    old_ads = [{"caption": "#ad", "posted_at": T0 + dt.timedelta(days=i)} for i in range(40)]
    new = [{"caption": "hello", "posted_at": T0 + dt.timedelta(days=100 + i)} for i in range(30)]
    recent = sponsored_signal(posts(1, old_ads + new)).row(0, named=True)
    assert recent["sponsored_posts_seen"] == 30 and recent["sponsored_posts"] == 0


# -- brand safety ------------------------------------------------------------------------------


def accounts_frame(bios: list[str | None]) -> pl.DataFrame:
    return (
        pl.DataFrame(
            [
                {"account_id": i + 1, "platform": "instagram", "handle": f"h{i}", "bio": b}
                for i, b in enumerate(bios)
            ]
        )
        .with_columns(
            [
                pl.lit(None, dtype=t).alias(c)
                for c, t in ACCOUNT_SCHEMA.items()
                if c in ("display_name", "is_verified", "is_private")
            ]
        )
        .select(list(ACCOUNT_SCHEMA))
        .cast(ACCOUNT_SCHEMA)
    )


def test_brand_safety_default_lists_match_whole_words():
    lists = brand_safety.word_lists()
    rows = [
        {"caption": "Big night at the CASINO!", "posted_at": T0},
        {"caption": "My class on Shitake mushrooms and scunthorpe", "posted_at": T0},
        {"caption": "wtf was that game, vote for me", "posted_at": T0},
        {"caption": "Quiet day", "posted_at": T0},
    ]
    screened = brand_safety.screen_posts(posts(1, rows), lists).sort("post_id")
    assert screened["brand_safety_matches"].to_list() == [
        ["gambling:casino"],
        [],
        ["profanity:wtf", "politics:vote for"],
        [],
    ]
    out = brand_safety.brand_safety_signal(
        accounts_frame(["poker pro, dm for collabs"]), posts(1, rows), lists
    )
    row = out.row(0, named=True)
    assert row["brand_safety_posts_flagged"] == 2 and row["brand_safety_bio_matches"] == [
        "gambling:poker"
    ]
    assert row["brand_safety_score"] == 0


def test_brand_safety_lists_can_be_overridden(tmp_path):
    custom = brand_safety.word_lists({"categories": {"alcohol": ["Vodka"], "gambling": None}})
    assert "gambling" not in custom and custom["alcohol"] == ("vodka",) and "profanity" in custom
    only = brand_safety.word_lists({"categories": {"alcohol": ["vodka"]}, "replace_defaults": True})
    assert list(only) == ["alcohol"]
    rows = [{"caption": "Vodka tonic at the casino", "posted_at": T0}]
    screened = brand_safety.screen_posts(posts(1, rows), only)
    assert screened["brand_safety_matches"][0].to_list() == ["alcohol:vodka"]
    assert brand_safety.screen_posts(posts(1, rows), {})["brand_safety_matches"][0].to_list() == []
    path = tmp_path / "lists.json"
    path.write_text(json.dumps({"categories": {"alcohol": ["gin"]}}))
    assert brand_safety.word_lists(brand_safety.read_word_lists_file(path))["alcohol"] == ("gin",)


@pytest.mark.parametrize(
    "bad",
    [
        ["not", "an", "object"],
        {"categories": ["profanity"]},
        {"categories": {"profanity": "damn"}},
        {"categories": {"profanity": [1, 2]}},
    ],
)
def test_bad_brand_safety_settings_are_clear_errors(bad):
    with pytest.raises(InputError):
        brand_safety.word_lists(bad)


def test_bad_brand_safety_files(tmp_path):
    with pytest.raises(InputError, match="no such file"):
        brand_safety.read_word_lists_file(tmp_path / "missing.json")
    broken = tmp_path / "broken.json"
    broken.write_text("{not json")
    with pytest.raises(InputError, match="broken.json"):
        brand_safety.read_word_lists_file(broken)
