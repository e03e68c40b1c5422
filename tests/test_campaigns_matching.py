"""Matching deliverables to posts on crafted posts: each rule, the dates, the wrong creator, the
format mapping, rejections, re-runs and confirmed pieces (SQLite and PostgreSQL)."""

from __future__ import annotations

import datetime as dt

import polars as pl
import pytest

from campaign_support import add_post, campaign, deal, make_world
from microfluence.campaigns.deliverables import (
    assign_post,
    confirm_deliverable,
    list_deliverables,
    reject_match,
)
from microfluence.kernel.store.tables import Post
from microfluence.tracking.deliverables import assign, host_path, match_deliverables
from microfluence.tracking.tables import DiscountCode, TrackingLink

JUNE = dt.datetime(2026, 6, 10, 12)


def _match(store, world, cid):  # type: ignore[no-untyped-def]
    with store.transaction() as session:
        return match_deliverables(session, world.workspace_id, cid)


def _pieces(store, world, cid):  # type: ignore[no-untyped-def]
    with store.transaction() as session:
        return list_deliverables(session, world.workspace_id, cid)


def test_each_kind_of_evidence_and_its_reason(store):
    world = make_world(store)
    cid = campaign(store, world)
    deal(store, world, cid, "instagram:sarah", package={"feed_post": 5})
    with store.transaction() as session:
        session.add(
            TrackingLink(
                workspace_id=world.workspace_id,
                slug="k7QxZ2",
                destination="https://www.Shop.example/summer?utm_source=ig",
                creator_id=world.creators["Sarah"],
                campaign_id=cid,
                utm={},
            )
        )
        session.add(
            DiscountCode(
                workspace_id=world.workspace_id,
                code="SARAH15-K7Q",
                code_key="SARAH15-K7Q",
                creator_id=world.creators["Sarah"],
            )
        )
    day = dt.timedelta(days=1)
    add_post(store, world, "tag", "instagram:sarah", JUNE, "Loving it #summerglow!")
    add_post(store, world, "mention", "instagram:sarah", JUNE + day, "thanks @GlowBrand.")
    add_post(store, world, "slug", "instagram:sarah", JUNE + 2 * day, "go to mf.io/r/k7QxZ2 now")
    add_post(store, world, "dest", "instagram:sarah", JUNE + 3 * day, "shop.example/summer/ ok")
    add_post(store, world, "code", "instagram:sarah", JUNE + 4 * day, "use sarah15-k7q at checkout")
    # Near misses: a longer hashtag, another handle, a code inside a word, the bare host.
    add_post(store, world, "miss1", "instagram:sarah", JUNE, "#summerglowing @glowbrand_fr")
    add_post(store, world, "miss2", "instagram:sarah", JUNE, "XSARAH15-K7Q shop.example")
    summary = _match(store, world, cid)
    assert summary.matched == 5 and summary.pending == 0 and summary.candidates == 7
    by_post = {p.post_id: p.match_reason for p in _pieces(store, world, cid)}
    posts = world.posts
    assert by_post == {
        posts["tag"]: "#summerglow in caption",
        posts["mention"]: "@glowbrand in caption",
        posts["slug"]: "link /r/k7QxZ2 in caption",
        posts["dest"]: "link to shop.example/summer in caption",
        posts["code"]: "code SARAH15-K7Q in caption",
    }


def test_hashtag_lists_tagged_users_and_precedence(store):
    world = make_world(store)
    cid = campaign(store, world)
    deal(store, world, cid, "instagram:sarah", package={"feed_post": 2})
    add_post(store, world, "list", "instagram:sarah", JUNE, "no tags here", hashtags=["SummerGlow"])
    # Both a mention and a hashtag: the hashtag comes first.
    add_post(
        store,
        world,
        "both",
        "instagram:sarah",
        JUNE + dt.timedelta(hours=1),
        "with @glowbrand #summerglow",
    )
    _match(store, world, cid)
    reasons = {p.post_id: p.match_reason for p in _pieces(store, world, cid)}
    assert reasons[world.posts["list"]] == "#summerglow in hashtags"
    assert reasons[world.posts["both"]] == "#summerglow in caption"


def test_dates_grace_and_the_wrong_creator(store):
    world = make_world(store)
    cid = campaign(store, world)
    deal(store, world, cid, "instagram:sarah", package={"feed_post": 5})
    tag = "#summerglow"
    add_post(store, world, "before", "instagram:sarah", dt.datetime(2026, 5, 31, 23, 59), tag)
    add_post(store, world, "first", "instagram:sarah", dt.datetime(2026, 6, 1), tag)
    add_post(store, world, "grace", "instagram:sarah", dt.datetime(2026, 7, 7, 23, 0), tag)
    add_post(store, world, "late", "instagram:sarah", dt.datetime(2026, 7, 8, 0, 0), tag)
    add_post(store, world, "tom", "instagram:tom", JUNE, tag)  # Tom has no deal
    add_post(store, world, "no-time", "instagram:sarah", None, tag)  # type: ignore[arg-type]
    summary = _match(store, world, cid)
    held = {p.post_id for p in _pieces(store, world, cid)} - {None}
    assert held == {world.posts["first"], world.posts["grace"]}
    assert summary.candidates == 2


def test_format_mapping_fallbacks_and_the_deal_account_first(store):
    world = make_world(store)
    cid = campaign(store, world)
    deal(
        store,
        world,
        cid,
        "tiktok:sarah_tt",
        package={"reel": 1, "story": 1, "feed_post": 1},
        due={"*": "2026-06-20"},
    )
    tag = "#summerglow"
    # Earlier, but on Sarah's other account: the deal's own account comes first for the reel.
    add_post(store, world, "ig-reel", "instagram:sarah", JUNE, tag, post_type="reel")
    add_post(store, world, "tt-video", "tiktok:sarah_tt", JUNE + dt.timedelta(1), tag, "video")
    add_post(store, world, "ig-story", "instagram:sarah", JUNE, tag, post_type="story")
    add_post(store, world, "ig-short", "instagram:sarah", JUNE, tag, post_type="short")
    add_post(store, world, "carousel", "instagram:sarah", JUNE, tag, post_type="carousel")
    _match(store, world, cid)
    pieces = {p.format: p.post_id for p in _pieces(store, world, cid)}
    posts = world.posts
    assert pieces == {
        "reel": posts["tt-video"],  # a video fills a reel, from the deal's account
        "story": posts["ig-story"],
        "feed_post": posts["carousel"],
    }


def test_earliest_post_to_earliest_due_and_rejections(store):
    world = make_world(store)
    cid = campaign(store, world)
    deal(store, world, cid, "instagram:tom", package={"feed_post": 2}, due="2026-06-15")
    with store.transaction() as session:
        from microfluence.campaigns.tables import Deliverable

        pieces = session.query(Deliverable).order_by(Deliverable.id).all()
        pieces[1].due_on = dt.date(2026, 6, 5)  # the second piece is due first
        first_due, second_due = pieces[1].id, pieces[0].id
    tag = "#summerglow"
    add_post(store, world, "p1", "instagram:tom", JUNE, tag)
    add_post(store, world, "p2", "instagram:tom", JUNE + dt.timedelta(days=2), tag)
    _match(store, world, cid)
    held = {p.id: p.post_id for p in _pieces(store, world, cid)}
    assert held == {first_due: world.posts["p1"], second_due: world.posts["p2"]}
    # Rejected: never given back to that piece, the matcher gives it the other free post.
    with store.transaction() as session:
        rejected = reject_match(session, world.workspace_id, cid, first_due)
    assert rejected.status == "pending" and rejected.rejected_post_ids == [world.posts["p1"]]
    add_post(store, world, "p3", "instagram:tom", JUNE + dt.timedelta(days=5), tag)
    _match(store, world, cid)
    held = {p.id: p.post_id for p in _pieces(store, world, cid)}
    assert held == {first_due: world.posts["p3"], second_due: world.posts["p2"]}
    # Rejected again, with no other post free: it stays pending, and a re-run changes nothing.
    with store.transaction() as session:
        reject_match(session, world.workspace_id, cid, first_due)
    for _ in range(2):
        summary = _match(store, world, cid)
        assert (summary.matched, summary.pending) == (0, 1)
    held = {p.id: p.post_id for p in _pieces(store, world, cid)}
    assert held == {first_due: None, second_due: world.posts["p2"]}


def test_rerun_is_idempotent_and_keeps_confirmed_and_user_matches(store):
    world = make_world(store)
    cid = campaign(store, world)
    deal(store, world, cid, "instagram:sarah", package={"feed_post": 3})
    tag = "#summerglow"
    for n in range(3):
        add_post(store, world, f"p{n}", "instagram:sarah", JUNE + dt.timedelta(days=n), tag)
    add_post(store, world, "untagged", "instagram:sarah", JUNE, "a plain post")
    first = _match(store, world, cid)
    assert first.matched == 3
    before = _pieces(store, world, cid)
    again = _match(store, world, cid)
    assert again.matched == 0 and again.pending == 0
    assert _pieces(store, world, cid) == before
    pieces = sorted(before, key=lambda p: p.id)
    with store.transaction() as session:
        confirm_deliverable(session, world.workspace_id, cid, pieces[0].id)
        # Tom's post cannot be assigned to Sarah's piece; her untagged post can (by hand).
        reject_match(session, world.workspace_id, cid, pieces[1].id)
        mine = assign_post(
            session, world.workspace_id, cid, pieces[1].id, "https://example.social/p/untagged/"
        )
    assert (mine.status, mine.matched_by, mine.post_id) == (
        "confirmed",
        "user",
        world.posts["untagged"],
    )
    _match(store, world, cid)
    after = {p.id: p for p in _pieces(store, world, cid)}
    assert after[pieces[0].id].status == "confirmed"
    assert after[pieces[1].id].post_id == world.posts["untagged"]
    assert after[pieces[1].id].matched_by == "user"
    # The post freed by the rejection was p1: no other piece is free, so it stays unused.
    assert world.posts["p1"] not in {p.post_id for p in after.values()}


def test_a_deleted_post_frees_its_piece(store):
    world = make_world(store)
    cid = campaign(store, world)
    deal(store, world, cid, "instagram:sarah", package={"feed_post": 1})
    add_post(store, world, "gone", "instagram:sarah", JUNE, "#summerglow")
    assert _match(store, world, cid).matched == 1
    with store.transaction() as session:
        session.query(Post).filter(Post.id == world.posts["gone"]).delete()
    add_post(store, world, "new", "instagram:sarah", JUNE, "#summerglow again")
    _match(store, world, cid)
    assert [p.post_id for p in _pieces(store, world, cid)] == [world.posts["new"]]


def test_greedy_assignment_takes_edges_in_order():
    edges = pl.DataFrame(
        {
            "order": [0, 1, 2, 3, 4],
            "post_id": [1, 1, 2, 2, 3],
            "piece_id": [10, 11, 10, 11, 11],
            "reason": ["r"] * 5,
        },
        schema_overrides={"order": pl.UInt32},
    )
    chosen = assign(edges).sort("post_id")
    assert chosen.select("post_id", "piece_id").rows() == [(1, 10), (2, 11)]


def test_host_path():
    assert host_path("https://www.Shop.com/summer/?utm_source=x#top") == "shop.com/summer"
    assert host_path("https://shop.com/?utm_source=x") is None
    assert host_path("shop.com/a/b") == "shop.com/a/b"


@pytest.mark.parametrize("store_url", ["postgresql"], indirect=True)
def test_runs_on_one_campaign_wait_for_each_other(store):
    """The matcher locks the campaign's row: a second run waits for the first to end (on
    PostgreSQL; SQLite has one writer at a time anyway)."""
    import threading

    from microfluence.campaigns.campaigns import lock_campaign

    world = make_world(store)
    cid = campaign(store, world)
    deal(store, world, cid, "instagram:sarah", package={"feed_post": 1})
    add_post(store, world, "p", "instagram:sarah", JUNE, "#summerglow")
    results = []
    with store.transaction() as session:
        lock_campaign(session, world.workspace_id, cid)
        second = threading.Thread(target=lambda: results.append(_match(store, world, cid)))
        second.start()
        second.join(timeout=1.0)
        assert second.is_alive() and results == []  # waiting for the lock
        assert match_deliverables(session, world.workspace_id, cid).matched == 1
    second.join(timeout=30)
    assert not second.is_alive()
    assert results[0].matched == 0  # it saw the first run's match, and gave the post to no one


def test_links_and_codes_count_only_for_their_creator_and_campaign(store):
    world = make_world(store)
    cid = campaign(store, world, hashtags=[], mentions=[])
    other = campaign(store, world, name="Winter", hashtags=[], mentions=[])
    deal(store, world, cid, "instagram:sarah", package={"feed_post": 3})
    deal(store, world, cid, "instagram:tom", package={"feed_post": 1})
    with store.transaction() as session:
        for code, creator, campaign_id in (
            ("TOM10", "Tom", None),  # Tom's code
            ("SARAHWINTER", "Sarah", other),  # Sarah's, for another campaign
            ("SARAH5", "Sarah", cid),
        ):
            session.add(
                DiscountCode(
                    workspace_id=world.workspace_id,
                    code=code,
                    code_key=code,
                    creator_id=world.creators[creator],
                    campaign_id=campaign_id,
                )
            )
    add_post(store, world, "toms-code", "instagram:sarah", JUNE, "use TOM10 at checkout")
    add_post(store, world, "winter", "instagram:sarah", JUNE, "code sarahwinter")
    add_post(store, world, "mine", "instagram:sarah", JUNE, "code Sarah5, thanks")
    add_post(store, world, "tom", "instagram:tom", JUNE, "my code: tom10!")
    summary = _match(store, world, cid)
    held = {p.post_id: p.match_reason for p in _pieces(store, world, cid) if p.post_id}
    assert summary.matched == 2
    assert held == {
        world.posts["mine"]: "code SARAH5 in caption",
        world.posts["tom"]: "code TOM10 in caption",
    }
