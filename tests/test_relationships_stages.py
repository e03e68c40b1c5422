"""The pipeline's core: moving deals between stages, the history of every move, and the
do-not-contact flag of the relationship record."""

from __future__ import annotations

import datetime as dt

import pytest

from campaign_support import campaign, deal, make_world
from microfluence.campaigns.tables import Deal
from microfluence.kernel.errors import InputError, NotFoundError
from microfluence.relationships.contact import do_not_contact_ids, set_do_not_contact
from microfluence.relationships.stages import check_stage, deal_history, move_deals, record_event
from microfluence.relationships.tables import DealEvent
from store_support import table_rows


def test_moves_are_recorded_with_who_when_and_from_where(store):
    world = make_world(store)
    cid = campaign(store, world)
    sarah = deal(store, world, cid, "instagram:sarah")
    tom = deal(store, world, cid, "instagram:tom")
    t0 = dt.datetime(2026, 6, 1, 9, 0)
    with store.transaction() as session:
        assert session.get(Deal, sarah).stage == "prospect"
        moved = move_deals(
            session, world.workspace_id, [sarah, tom], "Contacted", actor="ann@brand.test", at=t0
        )
        assert sorted(moved) == sorted([sarah, tom])
        # Already there: nothing moves and nothing is recorded.
        assert move_deals(session, world.workspace_id, [tom], "contacted", actor="ann") == []
        t1 = t0 + dt.timedelta(days=2)
        move_deals(
            session, world.workspace_id, [sarah], "replied", actor=None, at=t1, actor_kind="creator"
        )
        record_event(
            session,
            world.workspace_id,
            sarah,
            "message",
            actor="ann@brand.test",
            detail={"subject": "Hello"},
        )
    with store.transaction() as session:
        history = deal_history(session, world.workspace_id, sarah)
        assert [(e.kind, e.from_stage, e.to_stage, e.actor_kind) for e in history] == [
            ("stage", "prospect", "contacted", "user"),
            ("stage", "contacted", "replied", "creator"),
            ("message", None, None, "user"),
        ]
        assert history[0].actor == "ann@brand.test" and history[0].at == t0
        row = session.get(Deal, sarah)
        assert (row.stage, row.stage_changed_at) == ("replied", t1)
        assert len(deal_history(session, world.workspace_id, tom)) == 1


def test_a_bulk_move_is_all_or_nothing_and_stays_in_its_workspace(store):
    world = make_world(store)
    other = make_world(store, "other", prefix="o_")
    mine = deal(store, world, campaign(store, world), "instagram:sarah")
    theirs = deal(store, other, campaign(store, other), "instagram:o_sarah")
    before = table_rows(store, [Deal, DealEvent])
    with store.transaction() as session, pytest.raises(NotFoundError, match=str(theirs)):
        move_deals(session, world.workspace_id, [mine, theirs], "agreed", actor="ann")
    with pytest.raises(InputError, match="stage: unknown stage 'signed'"):
        check_stage("signed")
    with store.transaction() as session, pytest.raises(NotFoundError):
        record_event(session, world.workspace_id, theirs, "note", actor="ann")
    assert table_rows(store, [Deal, DealEvent]) == before


def test_do_not_contact_is_kept_once_and_per_workspace(store):
    world = make_world(store)
    other = make_world(store, "other", prefix="o_")
    sarah = world.creators["Sarah"]
    with store.transaction() as session:
        first = set_do_not_contact(session, world.workspace_id, sarah, reason="unsubscribed")
        when = first.do_not_contact_at
        again = set_do_not_contact(session, world.workspace_id, sarah, reason="asked by phone")
        assert (again.do_not_contact_at, again.do_not_contact_reason) == (when, "unsubscribed")
        assert do_not_contact_ids(session, world.workspace_id) == {sarah}
        assert do_not_contact_ids(session, other.workspace_id) == set()
        with pytest.raises(NotFoundError):
            set_do_not_contact(session, other.workspace_id, sarah, reason="x")
