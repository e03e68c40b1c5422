"""The demo population: reproducible, realistic in distribution, planted with what the
authenticity checks must find, and loaded into both stores without duplicates."""

from __future__ import annotations

import datetime as dt
import json

import numpy as np
import polars as pl
import pytest
import sqlalchemy as sa
import typer
from typer.testing import CliRunner

from microfluence.demo.cli import demo
from microfluence.demo.load import build_demo, tier_of, workspace_summary
from microfluence.demo.population import (
    BLOCK,
    PopulationSpec,
    generate_population,
    population_for,
)
from microfluence.kernel.store.tables import (
    Account,
    AccountSnapshot,
    Comment,
    Creator,
    EvaluationLabel,
    Follower,
    Post,
)

# The demo command alone (the root app imports every capability; this test is about one).
app = typer.Typer()
app.command("demo")(demo)
app.command("noop", hidden=True)(lambda: None)  # keeps "demo" a sub-command, as in the root app

SPEC = PopulationSpec(n_creators=2500, seed=5, days=120, end=dt.date(2026, 6, 30))


@pytest.fixture(scope="module")
def population():
    return generate_population(SPEC)


@pytest.fixture(scope="module")
def generated(population):
    blocks = [block for _lo, _hi, block in population.blocks()]
    return {
        "accounts": population.accounts,
        "labels": population.labels(),
        **{k: pl.concat([getattr(b, k) for b in blocks]) for k in ("snapshots", "posts")},
        **{k: pl.concat([getattr(b, k) for b in blocks]) for k in ("comments", "followers")},
    }


def _latest_followers(snapshots: pl.DataFrame) -> pl.DataFrame:
    return snapshots.sort("captured_at").group_by("account_key").agg(pl.col("followers").last())


# -- determinism --------------------------------------------------------------------------------
def test_same_seed_same_population_other_seed_differs():
    spec = PopulationSpec(n_creators=300, seed=11, days=30)
    first, second = generate_population(spec), generate_population(spec)
    assert first.accounts.equals(second.accounts)
    a = next(first.blocks())[2]
    b = next(second.blocks())[2]
    for name in ("snapshots", "posts", "comments", "followers"):
        assert getattr(a, name).equals(getattr(b, name)), name
    other = generate_population(PopulationSpec(n_creators=300, seed=12, days=30))
    assert not other.accounts["handle"].equals(first.accounts["handle"])


def test_output_does_not_depend_on_how_the_accounts_are_sliced():
    population = generate_population(PopulationSpec(n_creators=1200, seed=3, days=20))
    assert population.n_accounts > BLOCK + 100
    whole = pl.concat([b.posts for _lo, _hi, b in population.blocks(samples=False)])
    lo, hi = BLOCK - 50, BLOCK + 70  # straddles two generator blocks
    part = pl.concat([b.posts for _l, _h, b in population.blocks(start=lo, stop=hi)])
    expected = whole.filter(pl.col("account_key").is_between(lo, hi - 1))
    assert part.height > 0 and part.equals(expected)
    chunks = list(population.iter_post_chunks(chunk_posts=5_000))
    assert len(chunks) > 1 and pl.concat(chunks).equals(whole)
    merged = list(population.iter_chunks(chunk_posts=5_000, samples=True))
    snapshots = pl.concat([b.snapshots for _lo, _hi, b in population.blocks(samples=False)])
    assert pl.concat([c.snapshots for c in merged]).equals(snapshots)
    assert all(c.comments is not None and c.followers is not None for c in merged)


def test_population_for_hits_its_targets():
    population = population_for(3000, 150_000, seed=1, days=60, snapshot_every_days=7)
    posts = sum(c.height for c in population.iter_post_chunks(text=False))
    assert abs(population.n_accounts - 3000) / 3000 < 0.05
    assert abs(posts - 150_000) / 150_000 < 0.05


# -- distributions ------------------------------------------------------------------------------
def test_followers_are_heavy_tailed(population):
    big = generate_population(PopulationSpec(n_creators=20_000, seed=2))
    tiers = big.accounts.select(tier_of(pl.col("followers_end")).alias("tier"))["tier"]
    share = tiers.value_counts(normalize=True).to_dict(as_series=False)
    share = dict(zip(share["tier"], share["proportion"], strict=True))
    assert share["nano"] + share["micro"] > 0.85
    assert share["nano"] > share["micro"] > share["mid"] > share["macro"]
    assert 0 < share["mega"] < 0.01
    followers = big.accounts["followers_end"]
    assert followers.max() > 1_000 * followers.median()  # a tail, not a bell


def test_engagement_rate_falls_with_tier_and_differs_by_platform(generated):
    posts = generated["posts"].filter(pl.col("likes").is_not_null())
    er = (
        posts.group_by("account_key", "platform")
        .agg((pl.col("likes") + pl.col("comments")).mean().alias("engagement"))
        .join(_latest_followers(generated["snapshots"]), on="account_key")
        .join(
            generated["accounts"].select("account_key", "planted_pod", "planted_bots"),
            on="account_key",
        )
        .filter(~pl.col("planted_pod") & ~pl.col("planted_bots"))
        .with_columns(
            (pl.col("engagement") / pl.col("followers")).alias("er"),
            tier_of(pl.col("followers")).alias("tier"),
        )
        .group_by("platform", "tier")
        .agg(pl.col("er").median(), pl.len())
    )
    rate = {(r["platform"], r["tier"]): r["er"] for r in er.iter_rows(named=True)}
    for platform in ("instagram", "tiktok", "youtube"):
        assert rate[(platform, "nano")] > rate[(platform, "micro")] > rate[(platform, "mid")]
    assert 0.03 < rate[("instagram", "nano")] < 0.08  # benchmarks: ~4-6% for nano
    assert rate[("tiktok", "nano")] > rate[("instagram", "nano")] > rate[("youtube", "nano")]


def test_likes_to_comments_and_platform_specific_counts(generated):
    posts = generated["posts"]
    ratio = posts.filter(pl.col("comments") > 0, pl.col("likes").is_not_null()).select(
        (pl.col("likes") / pl.col("comments")).median()
    )
    assert 20 <= ratio.item() <= 100
    by_platform = posts.group_by("platform").agg(
        pl.col("views").is_not_null().mean().alias("views"),
        pl.col("shares").is_not_null().mean().alias("shares"),
        pl.col("likes").is_null().mean().alias("hidden"),
    )
    got = {r["platform"]: r for r in by_platform.iter_rows(named=True)}
    assert got["tiktok"]["views"] == 1 and got["tiktok"]["shares"] == 1
    assert got["youtube"]["shares"] == 0 and got["youtube"]["hidden"] == 0
    assert 0 < got["instagram"]["hidden"] < 0.1  # some Instagram creators hide like counts
    images = posts.filter(pl.col("post_type").is_in(["image", "carousel"]))
    assert images["views"].null_count() == images.height


def test_sponsored_posts_at_realistic_rates_with_evidence(generated):
    posts = generated["posts"]
    share = posts["is_sponsored"].mean()
    assert 0.03 < share < 0.15
    evidence = posts.filter("is_sponsored")["sponsor_evidence"]
    assert evidence.null_count() == 0
    assert (evidence == "paid_partnership").any() and evidence.str.starts_with("caption:#").any()
    tagged = posts.filter(pl.col("sponsor_evidence").str.starts_with("caption:#"))
    tag = tagged["sponsor_evidence"].str.strip_prefix("caption:")
    assert tagged["caption"].str.contains(tag, literal=True).all()
    assert tagged["sponsor_handles"].list.len().min() == 1
    # Undisclosed deals: no flag, but a discount code or brand mention in the caption.
    hidden = posts.filter(~pl.col("is_sponsored") & (pl.col("mentions").list.len() > 0))
    assert hidden["caption"].str.contains(r"code [A-Z]+15|@").all()


def test_captions_hashtags_mentions_and_places_agree(generated):
    posts, accounts = generated["posts"], generated["accounts"]
    with_tags = posts.filter(pl.col("hashtags").list.len() > 0).head(2000)
    for caption, tags in with_tags.select("caption", "hashtags").iter_rows():
        assert all(f"#{t}" in caption for t in tags)
    assert posts["hashtags"].list.len().max() <= 12
    countries = accounts.group_by("country").agg(pl.col("language").unique())
    language = dict(zip(countries["country"], countries["language"].to_list(), strict=True))
    assert language["BR"] == ["pt"] and language["DE"] == ["de"] and language["US"] == ["en"]
    assert (
        accounts.filter(pl.col("platform") == "instagram")["url"]
        .str.starts_with("https://www.instagram.com/")
        .all()
    )
    assert (
        accounts.select(pl.col("handle").n_unique().over("platform") == pl.len().over("platform"))
        .to_series()
        .all()
    )
    multi = accounts.group_by("creator_key").agg(pl.col("platform").n_unique(), pl.len())
    assert (multi["platform"] == multi["len"]).all()  # one account per platform per creator
    assert (multi["len"] > 1).mean() > 0.15


# -- consistency --------------------------------------------------------------------------------
def test_counts_times_and_nulls_are_consistent(generated):
    posts, snapshots, comments = generated["posts"], generated["snapshots"], generated["comments"]
    first = snapshots.group_by("account_key").agg(pl.col("captured_at").min().alias("first"))
    early = posts.join(first, on="account_key").filter(pl.col("posted_at") < pl.col("first"))
    assert early.height == 0
    for column in ("likes", "comments", "shares", "saves", "views", "reach", "impressions"):
        assert (posts[column].drop_nulls() >= 0).all(), column
    for column in ("followers", "following", "posts_count"):
        assert (snapshots[column].drop_nulls() >= 0).all(), column
    steps = snapshots.sort("account_key", "captured_at").select(
        pl.col("posts_count").diff().over("account_key").alias("d")
    )
    assert (steps["d"].drop_nulls() >= 0).all()  # posts are never un-published here
    youtube = generated["accounts"].filter(pl.col("platform") == "youtube")["account_key"]
    assert (
        snapshots.filter(pl.col("account_key").is_in(youtube.to_list()))["following"].null_count()
        > 0
    )
    joined = comments.join(
        posts.select("account_key", "platform_post_id", "posted_at"),
        on=["account_key", "platform_post_id"],
        suffix="_post",
    )
    assert joined.height == comments.height
    assert (joined["posted_at"] >= joined["posted_at_post"]).all()
    assert comments.select(pl.struct("account_key", "comment_key").is_unique().all()).item()
    followers = generated["followers"]
    assert followers.select(pl.struct("account_key", "username").is_unique().all()).item()


# -- planted inauthenticity ---------------------------------------------------------------------
def test_planted_share_and_labels(generated):
    accounts, labels = generated["accounts"], generated["labels"]
    planted = accounts.select(
        pl.col("planted_bought") | pl.col("planted_pod") | pl.col("planted_bots")
    ).to_series()
    assert 0.07 < planted.mean() < 0.13
    kinds = set(labels["label"])
    assert kinds == {"authentic", "bought_followers", "engagement_pod", "bot_comments"}
    per_account = labels.group_by("account_key").agg(pl.col("label"))
    assert per_account.height == accounts.height
    assert (
        per_account.filter(pl.col("label").list.len() > 1)["label"].list.contains("authentic").sum()
        == 0
    )
    assert per_account.filter(pl.col("label").list.len() > 1).height > 0  # some combine kinds
    for detail, label in labels.select("detail", "label").head(200).iter_rows():
        assert json.loads(detail)["kind"] == label


def _around(frame, events, column, lo, hi):
    return frame.join(events, on="account_key").filter(
        (pl.col(column) >= pl.col("at") + pl.duration(days=lo))
        & (pl.col(column) < pl.col("at") + pl.duration(days=hi))
    )


def test_bought_followers_jump_without_engagement_but_viral_growth_comes_with_it(generated):
    labels = generated["labels"].with_columns(
        pl.col("detail").str.json_path_match("$.jump_at").alias("jump"),
        pl.col("detail").str.json_path_match("$.viral_surge_at").alias("viral"),
    )
    events = pl.concat(
        [
            labels.filter(pl.col("label") == "bought_followers").select(
                "account_key",
                pl.col("jump").str.to_datetime().alias("at"),
                pl.lit("bought").alias("kind"),
            ),
            labels.filter(pl.col("label") == "authentic", pl.col("viral").is_not_null()).select(
                "account_key",
                pl.col("viral").str.to_datetime().alias("at"),
                pl.lit("viral").alias("kind"),
            ),
        ]
    )
    snaps, posts = generated["snapshots"], generated["posts"]
    engagement = pl.col("comments") + pl.col("likes").fill_null(0)
    ratios = (
        _around(snaps, events, "captured_at", -7, -1)
        .group_by("account_key")
        .agg(pl.col("followers").mean().alias("before"))
        .join(
            _around(snaps, events, "captured_at", 4, 10)
            .group_by("account_key")
            .agg(pl.col("followers").mean().alias("after")),
            on="account_key",
        )
        .join(
            _around(posts, events, "posted_at", -21, -1)
            .group_by("account_key")
            .agg(engagement.median().alias("e_before")),
            on="account_key",
        )
        .join(
            _around(posts, events, "posted_at", 0, 7)
            .group_by("account_key")
            .agg(engagement.median().alias("e_after")),
            on="account_key",
        )
        .join(events, on="account_key")
        .with_columns(
            (pl.col("after") / pl.col("before")).alias("followers"),
            (pl.col("e_after") / pl.col("e_before")).alias("engagement"),
        )
        .group_by("kind")
        .agg(
            (pl.col("followers") > 1.1).mean().alias("jumped"),
            (pl.col("engagement") > 1.5).mean().alias("engaged"),
            pl.len(),
        )
    )
    got = {r["kind"]: r for r in ratios.iter_rows(named=True)}
    assert got["bought"]["len"] > 20 and got["viral"]["len"] > 20
    assert got["bought"]["jumped"] > 0.95 and got["viral"]["jumped"] > 0.95
    assert got["viral"]["engaged"] > 0.85
    assert got["bought"]["engaged"] < 0.3  # only those that also went viral


def test_bought_followers_samples_look_fake(generated):
    accounts = generated["accounts"].select("account_key", "planted_bought")
    looks_fake = (
        (pl.col("username").str.count_matches(r"\d") >= 4).cast(pl.Int8)
        + (~pl.col("has_profile_pic")).cast(pl.Int8)
        + (pl.col("posts_count") <= 1).cast(pl.Int8)
        + (pl.col("following") > 5 * pl.col("followers")).cast(pl.Int8)
    ) >= 2
    shares = (
        generated["followers"]
        .join(accounts, on="account_key")
        .group_by("account_key", "planted_bought")
        .agg(looks_fake.mean().alias("fake"))
        .group_by("planted_bought")
        .agg(pl.col("fake").median())
    )
    got = dict(zip(shares["planted_bought"], shares["fake"], strict=True))
    assert got[True] > 0.2 and got[False] < 0.12 and got[True] > 3 * got[False]


def test_pods_repeat_commenters_and_bots_repeat_texts(generated):
    accounts = generated["accounts"].select("account_key", "planted_pod", "planted_bots")
    comments = generated["comments"].join(accounts, on="account_key")
    per_post = comments.group_by("account_key", "platform_post_id").agg(pl.col("author_handle"))
    top = (
        comments.group_by("account_key", "author_handle")
        .agg(pl.col("platform_post_id").n_unique().alias("posts"))
        .join(per_post.group_by("account_key").len().rename({"len": "all"}), on="account_key")
        .group_by("account_key")
        .agg((pl.col("posts") / pl.col("all")).max().alias("top_share"))
        .join(accounts, on="account_key")
    )
    pods = top.filter("planted_pod")["top_share"].median()
    clean = top.filter(~pl.col("planted_pod") & ~pl.col("planted_bots"))["top_share"].median()
    assert pods > 0.7 and pods > clean + 0.3  # superfans exist, but not on every post
    quick = comments.join(
        generated["posts"].select(
            "account_key", "platform_post_id", pl.col("posted_at").alias("p")
        ),
        on=["account_key", "platform_post_id"],
    ).with_columns(((pl.col("posted_at") - pl.col("p")).dt.total_minutes() <= 30).alias("quick"))
    speed = quick.group_by("planted_pod").agg(pl.col("quick").mean())
    got = dict(zip(speed["planted_pod"], speed["quick"], strict=True))
    assert got[True] > got[False] + 0.2
    duplicates = comments.group_by("account_key", "planted_bots", "planted_pod").agg(
        (1 - pl.col("text").n_unique() / pl.len()).alias("dup"),
        pl.col("author_handle").str.contains(r"\d{5,}").mean().alias("digits"),
    )
    bots = duplicates.filter("planted_bots", ~pl.col("planted_pod"))
    clean = duplicates.filter(~pl.col("planted_bots"), ~pl.col("planted_pod"))
    assert bots["digits"].median() > 3 * max(clean["digits"].median(), 0.01)
    assert bots["dup"].median() > clean["dup"].median()


def test_spec_rejects_nonsense():
    with pytest.raises(ValueError):
        PopulationSpec(n_creators=0)
    with pytest.raises(ValueError):
        PopulationSpec(days=1)
    with pytest.raises(ValueError):
        PopulationSpec(inauthentic_share=1.5)


# -- the store ----------------------------------------------------------------------------------
def _counts(store, workspace="demo"):
    with store.connection() as conn:
        ws = conn.execute(
            sa.text("SELECT id FROM workspaces WHERE name = :n"), {"n": workspace}
        ).scalar()
        return {
            t.__tablename__: conn.execute(
                sa.select(sa.func.count()).select_from(t).where(t.workspace_id == ws)
            ).scalar()
            for t in (Creator, Account, AccountSnapshot, Post, Comment, Follower, EvaluationLabel)
        }


def test_demo_command_loads_and_rerunning_replaces(store, store_url):
    args = ["demo", "--creators", "40", "--days", "20", "--end", "2026-03-31", "--seed", "4"]
    runner = CliRunner()
    result = runner.invoke(app, [*args, "--database-url", store_url])
    assert result.exit_code == 0, result.output
    assert "Planted labels" in result.output and "instagram" in result.output
    first = _counts(store)
    assert first["creators"] == 40  # several accounts of one person share one creator
    assert first["accounts"] > 40 and first["posts"] > 0 and first["comments"] > 0
    assert first["followers"] > 0 and first["account_snapshots"] == first["accounts"] * 20
    assert first["evaluation_labels"] >= first["accounts"]
    again = runner.invoke(app, [*args, "--database-url", store_url])
    assert again.exit_code == 0, again.output
    assert "Replaced the existing workspace demo" in again.output
    assert _counts(store) == first
    with store.connection() as conn:
        orphans = conn.execute(
            sa.text(
                "SELECT count(*) FROM creators c WHERE NOT EXISTS "
                "(SELECT 1 FROM accounts a WHERE a.creator_id = c.id)"
            )
        ).scalar()
        labels = conn.execute(sa.select(EvaluationLabel.label, EvaluationLabel.detail)).all()
        sample = conn.execute(
            sa.select(Post.hashtags, Post.sponsor_handles, Post.likes).where(Post.is_sponsored)
        ).first()
    assert orphans == 0
    assert all(isinstance(detail, dict) and detail["kind"] == label for label, detail in labels)
    assert sample is not None and isinstance(sample.hashtags, list)


def test_build_demo_with_other_workspace_and_summary(store):
    spec = PopulationSpec(n_creators=25, seed=9, days=14, end=dt.date(2026, 2, 1))
    summary = build_demo(store, spec, workspace="demo-b")
    assert summary.replaced == {}
    again = workspace_summary(store, "demo-b")
    assert again.accounts == summary.accounts and again.posts == summary.posts
    table = summary.accounts_by_platform_tier
    assert int(table.drop("platform").sum_horizontal().sum()) == summary.accounts
    assert 0 <= summary.sponsored_share < 0.5
    assert _counts(store, "demo") == {k: 0 for k in _counts(store, "demo")}
    assert np.isfinite(summary.seconds)
