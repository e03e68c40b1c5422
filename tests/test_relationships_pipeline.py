"""The pipeline services: the board and the sorted list, moves (one or many, all or nothing,
who and when), a deal's history, adding prospects, and the statistics — on a crafted history
with hand-computed answers, and on random move sequences (hypothesis)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import polars as pl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import update

from campaign_support import campaign, deal, make_world
from microfluence.campaigns.tables import PIPELINE_STAGES, SIDE_STAGES, STAGES, Deal
from microfluence.catalog.creators import CreatorFilters, matching_creator_ids
from microfluence.kernel.errors import InputError, NotFoundError
from microfluence.relationships.pipeline import board, history, move, pipeline_cards
from microfluence.relationships.pipeline_stats import (
    conversions,
    pipeline_stats,
    reached_counts,
    stays,
)
from microfluence.relationships.prospects import add_prospects
from microfluence.relationships.tables import DealEvent
from store_support import table_rows

T0 = dt.datetime(2026, 6, 1)


def day(n: float) -> dt.datetime:
    return T0 + dt.timedelta(days=n)


def _created_at_t0(store, *deal_ids: int) -> None:  # type: ignore[no-untyped-def]
    with store.transaction() as session:
        session.execute(
            update(Deal).where(Deal.id.in_(deal_ids)).values(created_at=T0, stage_changed_at=T0)
        )


def test_the_board_groups_deals_by_stage_main_path_first(store):
    world = make_world(store)
    cid = campaign(store, world, currency="EUR")
    sarah = deal(store, world, cid, "instagram:sarah", flat_fee="250")
    tom = deal(store, world, cid, "instagram:tom")
    uma = deal(store, world, cid, "youtube:uma")
    _created_at_t0(store, sarah, tom, uma)
    with store.transaction() as session:
        move(session, world.workspace_id, cid, "contacted", deal_ids=[sarah], actor="a", at=day(1))
        move(session, world.workspace_id, cid, "on hold", deal_ids=[uma], actor="a", at=day(3))
    with store.transaction() as session:
        shown = board(session, world.workspace_id, cid, now=day(5))
    assert [c.stage for c in shown.columns] == [*PIPELINE_STAGES, *SIDE_STAGES]
    assert [c.main for c in shown.columns] == [True] * 8 + [False] * 3
    where = {
        card.deal_id: (column.stage, card.days_in_stage)
        for column in shown.columns
        for card in column.cards
    }
    assert where == {sarah: ("contacted", 4.0), tom: ("prospect", 5.0), uma: ("on_hold", 2.0)}
    card = next(c for c in shown.cards if c.deal_id == sarah)
    assert (card.creator_name, card.account, str(card.flat_fee), card.has_fee) == (
        "Sarah",
        "instagram:sarah",
        "250.00",
        True,
    )
    assert shown.currency == "EUR"
    # The list view, sorted in the database.
    with store.transaction() as session:

        def order(sort: str) -> list[int]:
            cards = pipeline_cards(session, world.workspace_id, cid, sort=sort, now=day(5))
            return [c.deal_id for c in cards]

        assert order("stage") == [tom, sarah, uma]
        assert order("-stage") == [uma, sarah, tom]
        assert order("days") == [uma, sarah, tom]
        assert order("-days") == [tom, sarah, uma]  # the longest in its stage first
        assert order("creator") == [sarah, tom, uma]
        assert order("-fee")[0] == sarah
        with pytest.raises(InputError, match="cannot sort by 'email'"):
            order("email")


def test_moves_by_id_or_account_are_all_or_nothing_and_leave_history(store):
    world = make_world(store)
    other = make_world(store, "other", prefix="o_")
    cid = campaign(store, world)
    second = campaign(store, world, name="Winter")
    sarah = deal(store, world, cid, "instagram:sarah")
    tom = deal(store, world, cid, "instagram:tom")
    elsewhere = deal(store, world, second, "youtube:uma")
    theirs = deal(store, other, campaign(store, other), "instagram:o_sarah")
    ws = world.workspace_id
    with store.transaction() as session:
        done = move(
            session,
            ws,
            cid,
            "Contacted",
            creators=["tiktok:sarah_tt"],
            deal_ids=[tom],
            actor="ann@brand.test",
            at=day(1),
        )
        assert (done.stage, done.moved, done.unchanged) == ("contacted", sorted([sarah, tom]), [])
        again = move(session, ws, cid, "contacted", deal_ids=[tom], actor="bob@brand.test")
        assert (again.moved, again.unchanged) == ([], [tom])
    before = table_rows(store, [Deal, DealEvent])
    refusals = [
        ({"deal_ids": [sarah, elsewhere]}, NotFoundError, f"no deal with id {elsewhere}"),
        ({"deal_ids": [sarah, theirs]}, NotFoundError, f"no deal with id {theirs}"),
        (
            {"creators": ["instagram:tom", "youtube:uma"]},
            NotFoundError,
            r"creators\[1\]: youtube:uma has no deal in this campaign",
        ),
        ({"creators": ["instagram:o_sarah"]}, NotFoundError, r"creators\[0\]"),
        ({"creators": ["no colon"]}, InputError, r"creators\[0\]"),
        ({"deal_ids": []}, InputError, "name at least one deal"),
    ]
    for named, error, message in refusals:
        with store.transaction() as session, pytest.raises(error, match=message):
            move(session, ws, cid, "agreed", actor="ann", **named)
    with store.transaction() as session, pytest.raises(InputError, match="unknown stage"):
        move(session, ws, cid, "signed", deal_ids=[sarah], actor="ann")
    with store.transaction() as session, pytest.raises(NotFoundError):
        move(session, ws, second + 100, "agreed", deal_ids=[sarah], actor="ann")
    assert table_rows(store, [Deal, DealEvent]) == before
    with store.transaction() as session:
        events = history(session, ws, cid, sarah)
        assert [(e.kind, e.from_stage, e.to_stage, e.actor, e.at) for e in events] == [
            ("stage", "prospect", "contacted", "ann@brand.test", day(1).replace(tzinfo=dt.UTC))
        ]
        with pytest.raises(NotFoundError):
            history(session, ws, second, sarah)  # a deal of another campaign
        with pytest.raises(NotFoundError):
            history(session, other.workspace_id, cid, sarah)


def test_adding_prospects_reports_the_creators_already_in(store):
    world = make_world(store)
    other = make_world(store, "other", prefix="o_")
    cid = campaign(store, world)
    ws = world.workspace_id
    tom = deal(store, world, cid, "instagram:tom", flat_fee="90")
    with store.transaction() as session:
        move(session, ws, cid, "negotiating", deal_ids=[tom], actor="ann")
        done = add_prospects(
            session,
            ws,
            cid,
            creator_ids=[world.creators["Sarah"], world.creators["Tom"]],
            creators=["youtube:uma", "tiktok:sarah_tt"],
            actor="ann@brand.test",
            source="creators",
        )
    assert [p.creator_name for p in done.added] == ["Sarah", "Uma"]
    assert [(p.creator_name, p.deal_id) for p in done.already] == [("Tom", tom)]
    with store.transaction() as session:
        rows = {d.creator_id: d for d in session.query(Deal).filter(Deal.campaign_id == cid)}
        sarah, uma = rows[world.creators["Sarah"]], rows[world.creators["Uma"]]
        # Named by id and by her TikTok account: the deal is about that account.
        assert (sarah.stage, sarah.flat_fee) == ("prospect", 0)
        assert sarah.account_id == world.accounts["tiktok:sarah_tt"]
        assert uma.account_id == world.accounts["youtube:uma"]
        assert rows[world.creators["Tom"]].stage == "negotiating"  # left as it was
        (added,) = history(session, ws, cid, sarah.id)
        assert (added.kind, added.actor, added.detail) == (
            "added",
            "ann@brand.test",
            {"source": "creators"},
        )
        again = add_prospects(session, ws, cid, creator_ids=[sarah.creator_id], actor="ann")
        assert again.added == [] and [p.deal_id for p in again.already] == [sarah.id]
    before = table_rows(store, [Deal, DealEvent])
    for named, error in (
        ({"creator_ids": [world.creators["Sarah"], other.creators["Tom"]]}, NotFoundError),
        ({"creators": ["instagram:o_tom"]}, NotFoundError),
        ({"creators": ["bad reference"]}, InputError),
        ({}, InputError),
    ):
        with store.transaction() as session, pytest.raises(error):
            add_prospects(session, ws, cid, actor="ann", **named)
    assert table_rows(store, [Deal, DealEvent]) == before


def test_every_creator_matching_the_filters_can_be_selected(store):
    world = make_world(store)
    make_world(store, "other", prefix="o_")
    with store.transaction() as session:
        ws = world.workspace_id
        assert matching_creator_ids(session, ws, CreatorFilters(q="sarah"), limit=10) == [
            world.creators["Sarah"]
        ]
        assert matching_creator_ids(
            session, ws, CreatorFilters(platform="instagram"), limit=10
        ) == sorted([world.creators["Sarah"], world.creators["Tom"]])
        with pytest.raises(InputError, match="more than 2 creators match"):
            matching_creator_ids(session, ws, CreatorFilters(), limit=2)


def test_stats_on_a_crafted_history(store):
    """Sarah: prospect 2 d, contacted 3 d, replied 1 d, agreed 4 d (negotiating skipped), paid
    since day 10. Tom: prospect 4 d, contacted 4 d, no reply since day 8. Uma: a prospect since
    day 0. Now is day 20."""
    world = make_world(store)
    cid = campaign(store, world)
    ws = world.workspace_id
    sarah = deal(store, world, cid, "instagram:sarah")
    tom = deal(store, world, cid, "instagram:tom")
    uma = deal(store, world, cid, "youtube:uma")
    _created_at_t0(store, sarah, tom, uma)
    with store.transaction() as session:
        for deal_id, stage, at in (
            (sarah, "contacted", 2),
            (sarah, "replied", 5),
            (sarah, "agreed", 6),
            (sarah, "paid", 10),
            (tom, "contacted", 4),
            (tom, "no_reply", 8),
        ):
            move(session, ws, cid, stage, deal_ids=[deal_id], actor="ann", at=day(at))
    with store.transaction() as session:
        stats = pipeline_stats(session, ws, cid, now=day(20))
    assert stats.deals == 3
    times = {s.stage: s for s in stats.stages}
    assert [s.stage for s in stats.stages] == list(STAGES)
    assert (times["prospect"].median_days, times["prospect"].mean_days) == (
        4.0,
        pytest.approx(26 / 3),
    )
    assert (times["prospect"].stays, times["prospect"].open_stays, times["prospect"].deals) == (
        3,
        1,
        1,
    )
    assert (times["contacted"].median_days, times["contacted"].mean_days) == (3.5, 3.5)
    assert times["contacted"].deals == 0
    assert (times["replied"].mean_days, times["agreed"].mean_days) == (1.0, 4.0)
    assert (times["paid"].median_days, times["paid"].open_stays, times["paid"].deals) == (
        10.0,
        1,
        1,
    )
    assert (times["no_reply"].median_days, times["no_reply"].deals) == (12.0, 1)
    assert times["negotiating"].stays == 0 and times["negotiating"].median_days is None
    assert sum(s.deals for s in stats.stages) == 3
    assert stats.reached == {
        "prospect": 3,
        "contacted": 2,
        "replied": 1,
        "negotiating": 1,
        "agreed": 1,
        "product_shipped": 1,
        "content_live": 1,
        "paid": 1,
    }
    rates = {(c.from_stage, c.to_stage): c.rate for c in stats.conversions}
    assert rates[("prospect", "contacted")] == pytest.approx(2 / 3)
    assert rates[("contacted", "replied")] == 0.5
    assert rates[("replied", "negotiating")] == 1.0
    assert len(rates) == len(PIPELINE_STAGES) - 1
    assert stats.reached_paid == pytest.approx(1 / 3)


def test_stats_of_an_empty_campaign_and_of_another_workspace(store):
    world = make_world(store)
    other = make_world(store, "other", prefix="o_")
    cid = campaign(store, world)
    with store.transaction() as session:
        stats = pipeline_stats(session, world.workspace_id, cid)
        assert stats.deals == 0 and stats.reached_paid is None
        assert all(c.rate is None for c in stats.conversions)
        with pytest.raises(NotFoundError):
            pipeline_stats(session, other.workspace_id, cid)
        with pytest.raises(NotFoundError):
            board(session, other.workspace_id, cid)


# --- random histories ------------------------------------------------------------------------

stage_moves = st.lists(
    st.tuples(st.integers(0, 4), st.sampled_from(STAGES), st.integers(0, 30 * 24)),
    max_size=40,
)


def _frames(moves: list[tuple[int, str, int]], deals: int) -> tuple[pl.DataFrame, pl.DataFrame]:
    """The deals (all created at T0, at prospect unless moved) and the moves, as the store would
    hold them after ``move_deals`` (a move to the current stage records nothing)."""
    current = {d: "prospect" for d in range(deals)}
    rows = []
    for index, (d, stage, hours) in enumerate(
        sorted(((d % deals, s, h) for d, s, h in moves), key=lambda m: m[2])
    ):
        if current[d] == stage:
            continue
        rows.append((d, index + 1, T0 + dt.timedelta(hours=hours), current[d], stage))
        current[d] = stage
    deal_frame = pl.DataFrame(
        [(d, T0, current[d]) for d in range(deals)],
        schema={"deal_id": pl.Int64, "created_at": pl.Datetime("us"), "stage": pl.String},
        orient="row",
    )
    move_frame = pl.DataFrame(
        rows,
        schema={
            "deal_id": pl.Int64,
            "id": pl.Int64,
            "at": pl.Datetime("us"),
            "from_stage": pl.String,
            "to_stage": pl.String,
        },
        orient="row",
    )
    return deal_frame, move_frame


@settings(max_examples=150, deadline=None)
@given(moves=stage_moves, deals=st.integers(1, 5))
def test_random_histories_give_sound_statistics(moves, deals):
    deal_frame, move_frame = _frames(moves, deals)
    now = T0 + dt.timedelta(days=31)
    all_stays = stays(deal_frame, move_frame, now)
    # One stay per deal plus one per move; each deal's stays tile [T0, now] exactly.
    assert all_stays.height == deals + move_frame.height
    assert (all_stays["days"] >= 0).all()
    total = all_stays.group_by("deal_id").agg(pl.col("days").sum())["days"].to_list()
    assert total == pytest.approx([31.0] * deals)
    assert all_stays["open"].sum() == deals
    reached = reached_counts(all_stays, deals)
    counts = [reached[s] for s in PIPELINE_STAGES]
    assert counts[0] == deals and counts == sorted(counts, reverse=True)
    for conversion in conversions(reached):
        assert conversion.rate is None or 0.0 <= conversion.rate <= 1.0
    # The furthest main stage per deal, computed the slow way.
    rank = {s: i for i, s in enumerate(PIPELINE_STAGES)}
    furthest = dict.fromkeys(range(deals), 0)
    for d, _id, _at, _from, to in move_frame.iter_rows():
        furthest[d] = max(furthest[d], rank.get(to, 0))
    assert counts == [sum(f >= k for f in furthest.values()) for k in range(len(counts))]


@settings(
    max_examples=30,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    moves=st.lists(
        st.tuples(
            st.lists(st.integers(0, 2), min_size=1, max_size=3),  # which deals, in bulk
            st.sampled_from(STAGES),
            st.integers(0, 10 * 24),  # hours after T0
        ),
        max_size=15,
    )
)
def test_random_moves_through_the_store_keep_the_statistics_sound(sqlite_store, moves):
    """Random bulk moves made by the service itself: the deals now add up to the campaign's,
    each move that changed a stage is one stay more, every conversion lies in [0, 1]."""
    store = sqlite_store
    # Hypothesis runs every example on the one store of the test: one world, a campaign each.
    world = _WORLDS.get(store.url) or _WORLDS.setdefault(store.url, make_world(store))
    ws = world.workspace_id
    cid = campaign(store, world, name=f"random {len(_CAMPAIGNS)}")
    _CAMPAIGNS.append(cid)
    names = ["instagram:sarah", "instagram:tom", "youtube:uma"]
    with store.transaction() as session:
        added = add_prospects(session, ws, cid, creators=names, actor="t", at=T0)
    ids = [p.deal_id for p in added.added]
    changed = 0
    with store.transaction() as session:
        for picks, stage, hours in sorted(moves, key=lambda m: m[2]):
            done = move(
                session,
                ws,
                cid,
                stage,
                deal_ids=[ids[i] for i in picks],
                actor="t",
                at=T0 + dt.timedelta(hours=hours),
            )
            changed += len(done.moved)
    with store.transaction() as session:
        stats = pipeline_stats(session, ws, cid, now=day(11))
    assert sum(s.deals for s in stats.stages) == stats.deals == 3
    assert sum(s.stays for s in stats.stages) == 3 + changed
    assert sum(s.open_stays for s in stats.stages) == 3
    assert all(c.rate is None or 0 <= c.rate <= 1 for c in stats.conversions)
    assert 0 <= stats.reached_paid <= 1
    assert all(s.median_days is None or s.median_days >= 0 for s in stats.stages)


_CAMPAIGNS: list[int] = []
_WORLDS: dict[str, Any] = {}
