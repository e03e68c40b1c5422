"""Reminders: each kind on crafted data, with a fixed ``today``; thresholds per workspace, the
filters by campaign and assignee, and that a reminder goes away with its cause."""

from __future__ import annotations

import datetime as dt
import itertools

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from campaign_support import campaign, deal, make_world
from microfluence.campaigns.tables import Deliverable, Gift
from microfluence.kernel.errors import InputError, NotFoundError
from microfluence.kernel.store.tables import Workspace
from microfluence.relationships.contact import set_do_not_contact
from microfluence.relationships.reminder_settings import (
    DEFAULTS,
    parse_pairs,
    parse_thresholds,
    set_thresholds,
    thresholds,
)
from microfluence.relationships.reminders import grouped, reminders
from microfluence.relationships.stages import move_deals, record_event
from microfluence.relationships.tables import Submission
from microfluence.relationships.task_schemas import TaskCreate
from microfluence.relationships.tasks import complete_task, create_task

TODAY = dt.date(2026, 7, 10)


def at(days_ago: int, hour: int = 12) -> dt.datetime:
    """Noon ``days_ago`` days before TODAY."""
    return dt.datetime.combine(TODAY - dt.timedelta(days=days_ago), dt.time(hour))


def found(store, world, **options):  # type: ignore[no-untyped-def]
    with store.session() as session:
        return reminders(session, world.workspace_id, today=TODAY, **options)


def by_kind(result, kind: str) -> dict[int, int]:  # type: ignore[no-untyped-def]
    """item id -> days overdue, for one kind."""
    return {r.item_id: r.days_overdue for r in result.items if r.kind == kind}


def test_tasks_past_due_or_due_within_the_horizon(store):
    world = make_world(store)
    cid = campaign(store, world)
    sarah = deal(store, world, cid, "instagram:sarah")
    due = {"yesterday": -1, "today": 0, "in 3 days": 3, "in 5 days": 5}
    with store.transaction() as session:
        ids = {
            title: create_task(
                session,
                world.workspace_id,
                TaskCreate(title=title, due_on=TODAY + dt.timedelta(days=days), deal_id=sarah),
                actor="ann@brand.test",
                today=TODAY,
            ).id
            for title, days in due.items()
        }
        create_task(session, world.workspace_id, TaskCreate(title="someday"), actor=None)
    result = found(store, world)
    # Overdue by one day, due today, due in 3 (horizon 3); not the one in 5 days, nor undated.
    assert by_kind(result, "task") == {ids["yesterday"]: 1, ids["today"]: 0, ids["in 3 days"]: -3}
    first = result.items[0]
    assert (first.item_id, first.overdue, first.campaign_id, first.creator_name) == (
        ids["yesterday"],
        True,
        cid,
        "Sarah",
    )
    assert first.link == f"/tasks#task-{ids['yesterday']}"
    assert result.overdue == 1 and result.counts["task"] == 3
    # A wider horizon reaches the task due in 5 days; a done task is gone.
    with store.transaction() as session:
        set_thresholds(
            session, session.get(Workspace, world.workspace_id), {"task_horizon_days": 5}
        )
        complete_task(session, world.workspace_id, ids["yesterday"], actor="ann@brand.test")
    assert set(by_kind(found(store, world), "task")) == {
        ids["today"],
        ids["in 3 days"],
        ids["in 5 days"],
    }


def test_deliverables_past_due_and_still_pending(store):
    world = make_world(store)
    cid = campaign(store, world)
    late = deal(store, world, cid, "instagram:sarah", package={"feed_post": 1}, due="2026-07-08")
    on_time = deal(store, world, cid, "instagram:tom", package={"story": 1}, due="2026-07-10")
    posted = deal(store, world, cid, "youtube:uma", package={"video": 1}, due="2026-07-01")
    with store.transaction() as session:
        pieces = {
            d.deal_id: d
            for d in session.query(Deliverable).filter_by(workspace_id=world.workspace_id)
        }
        pieces[posted].status = "confirmed"  # its post is in
    result = found(store, world)
    assert by_kind(result, "deliverable") == {pieces[late].id: 2}
    item = result.items[0]
    assert item.title == "Feed post not posted" and item.due_on == dt.date(2026, 7, 8)
    assert item.link == f"/campaigns/{cid}#deliverables" and on_time not in {
        r.deal_id for r in result.items
    }
    # A deal that left the pipeline is not chased.
    with store.transaction() as session:
        move_deals(session, world.workspace_id, [late], "declined", actor="ann")
    assert by_kind(found(store, world), "deliverable") == {}


def _gift(store, world, deal_id: int, name: str, **fields) -> int:  # type: ignore[no-untyped-def]
    with store.transaction() as session:
        gift = Gift(workspace_id=world.workspace_id, deal_id=deal_id, name=name, **fields)
        session.add(gift)
        session.flush()
        return gift.id


def test_gifts_not_shipped_or_not_delivered_in_time(store):
    world = make_world(store)
    cid = campaign(store, world)
    sarah = deal(store, world, cid, "instagram:sarah")
    late = _gift(store, world, sarah, "Serum", status="requested", created_at=at(6))
    fresh = _gift(store, world, sarah, "Cream", status="requested", created_at=at(5))
    lost = _gift(
        store, world, sarah, "Mask", status="shipped", shipped_at=at(15), created_at=at(20)
    )
    moving = _gift(
        store, world, sarah, "Oil", status="shipped", shipped_at=at(14), created_at=at(20)
    )
    _gift(store, world, sarah, "Soap", status="delivered", shipped_at=at(30), created_at=at(40))
    _gift(store, world, sarah, "Gel", status="cancelled", created_at=at(40))
    result = found(store, world)
    # Requested 6 days ago with 5 allowed: late by a day; 5 days ago: due today, not listed.
    assert by_kind(result, "gift_unshipped") == {late: 1}
    assert by_kind(result, "gift_undelivered") == {lost: 1}
    assert fresh not in by_kind(result, "gift_unshipped") and moving not in by_kind(
        result, "gift_undelivered"
    )
    titles = {r.title for r in result.items}
    assert {"Ship Serum", "Check the delivery of Mask"} <= titles
    with store.transaction() as session:
        ws = session.get(Workspace, world.workspace_id)
        set_thresholds(session, ws, {"gift_ship_days": 4, "gift_delivery_days": 20})
    result = found(store, world)
    assert by_kind(result, "gift_unshipped") == {late: 2, fresh: 1}
    assert by_kind(result, "gift_undelivered") == {}


def test_submissions_pending_review_for_more_than_two_days(store):
    world = make_world(store)
    cid = campaign(store, world)
    sarah = deal(store, world, cid, "instagram:sarah")
    rows = {
        "old": ("pending", at(3)),
        "recent": ("pending", at(2)),
        "reviewed": ("approved", at(9)),
    }
    ids = {}
    with store.transaction() as session:
        for label, (status, when) in rows.items():
            sub = Submission(
                workspace_id=world.workspace_id,
                deal_id=sarah,
                url=f"https://example.social/{label}",
                status=status,
                submitted_at=when,
            )
            session.add(sub)
            session.flush()
            ids[label] = sub.id
    assert by_kind(found(store, world), "review") == {ids["old"]: 1}


def test_deals_contacted_without_a_reply_need_a_follow_up(store):
    world = make_world(store)
    cid = campaign(store, world)
    sarah = deal(store, world, cid, "instagram:sarah")
    tom = deal(store, world, cid, "instagram:tom")
    uma = deal(store, world, cid, "youtube:uma")
    with store.transaction() as session:
        move_deals(
            session, world.workspace_id, [sarah, tom, uma], "contacted", actor="ann", at=at(8)
        )
    result = found(store, world)
    assert by_kind(result, "follow_up") == {sarah: 1, tom: 1, uma: 1}
    assert all(r.title == "Follow up: no reply" for r in result.items)
    with store.transaction() as session:
        # Sarah replied (the stage moved on); Tom's reply was recorded without a move; Uma was
        # sent a follow-up message 3 days ago, which restarts her clock.
        move_deals(session, world.workspace_id, [sarah], "replied", actor=None, at=at(2))
        record_event(session, world.workspace_id, tom, "reply", actor=None, at=at(1))
        record_event(session, world.workspace_id, uma, "message", actor="ann", at=at(3))
    assert by_kind(found(store, world), "follow_up") == {}
    with store.transaction() as session:
        ws = session.get(Workspace, world.workspace_id)
        set_thresholds(session, ws, {"follow_up_days": 2})
    assert by_kind(found(store, world), "follow_up") == {uma: 1}
    # Nobody follows up with a creator who must not be contacted.
    with store.transaction() as session:
        set_do_not_contact(session, world.workspace_id, world.creators["Uma"], reason="opt-out")
    assert by_kind(found(store, world), "follow_up") == {}


def test_filters_by_campaign_and_assignee_and_stays_in_its_workspace(store):
    world = make_world(store)
    other = make_world(store, "other", prefix="o_")
    summer = campaign(store, world)
    winter = campaign(store, world, name="Winter")
    in_summer = deal(store, world, summer, "instagram:sarah")
    in_winter = deal(store, world, winter, "instagram:tom")
    theirs = deal(store, other, campaign(store, other), "instagram:o_sarah")
    with store.transaction() as session:
        move_deals(
            session, world.workspace_id, [in_summer, in_winter], "contacted", actor="a", at=at(9)
        )
        move_deals(session, other.workspace_id, [theirs], "contacted", actor="b", at=at(9))
        for deal_id, who in ((in_summer, "ann@brand.test"), (in_winter, "bob@brand.test")):
            create_task(
                session,
                world.workspace_id,
                TaskCreate(title="call", due_on="2026-07-09", deal_id=deal_id, assignee=who),
                actor="ann@brand.test",
            )
    everything = found(store, world)
    assert {r.deal_id for r in everything.items} == {in_summer, in_winter}
    assert {r.deal_id for r in found(store, world, campaign_id=summer).items} == {in_summer}
    mine = found(store, world, assignee="Bob@Brand.test")
    assert [(r.kind, r.deal_id) for r in mine.items] == [("task", in_winter)]
    with store.session() as session:
        with pytest.raises(NotFoundError):
            reminders(session, world.workspace_id, campaign_id=campaign_of(store, other))
        with pytest.raises(InputError, match="assignee"):
            reminders(session, world.workspace_id, assignee="not an email")
    # Grouped for the dashboard: the kinds present, most overdue first.
    groups = grouped(everything)
    assert [kind for kind, _, _ in groups] == ["follow_up", "task"]
    assert [len(rows) for _, _, rows in groups] == [2, 2]


def campaign_of(store, world) -> int:  # type: ignore[no-untyped-def]
    from microfluence.campaigns.tables import Campaign

    with store.session() as session:
        return session.query(Campaign.id).filter_by(workspace_id=world.workspace_id).first()[0]


def test_thresholds_are_checked_and_kept_per_workspace(sqlite_store):
    store = sqlite_store
    world = make_world(store)
    other = make_world(store, "other", prefix="o_")
    with store.transaction() as session:
        ws = session.get(Workspace, world.workspace_id)
        assert thresholds(ws) == DEFAULTS
        assert (
            set_thresholds(session, ws, parse_pairs(["follow_up_days=10"]))["follow_up_days"] == 10
        )
        for bad, field in (
            (["follow_up_days=-1"], "follow_up_days"),
            (["follow_up_days=ten"], "follow_up_days"),
            (["review_days=366"], "review_days"),
            (["bogus=3"], "bogus"),
            (["no equals sign"], "set"),
        ):
            with pytest.raises(InputError, match=f"field '{field}'"):
                set_thresholds(session, ws, parse_pairs(bad))
        assert thresholds(ws)["follow_up_days"] == 10
        assert thresholds(session.get(Workspace, other.workspace_id)) == DEFAULTS
        assert set_thresholds(session, ws, {}, reset=True) == DEFAULTS


NAMES = itertools.count()


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(age=st.integers(min_value=0, max_value=40), limit=st.integers(min_value=0, max_value=30))
def test_a_gift_is_late_exactly_when_older_than_its_threshold(sqlite_store, age, limit):
    """Whatever the threshold and the gift's age (late in its day), it is listed iff it is older
    than the threshold in days, and its days overdue are the difference."""
    world = make_world(sqlite_store, f"ws{next(NAMES)}")
    sarah = deal(sqlite_store, world, campaign(sqlite_store, world), "instagram:sarah")
    gift = _gift(sqlite_store, world, sarah, "Serum", status="requested", created_at=at(age, 23))
    with sqlite_store.transaction() as session:
        ws = session.get(Workspace, world.workspace_id)
        set_thresholds(session, ws, {"gift_ship_days": limit})
    late = by_kind(found(sqlite_store, world), "gift_unshipped")
    assert late == ({gift: age - limit} if age > limit else {})


@given(st.one_of(st.text(max_size=12), st.integers(), st.floats(), st.booleans(), st.none()))
def test_any_threshold_value_is_days_or_an_error_naming_it(value):
    try:
        parsed = parse_thresholds({"review_days": value})
    except InputError as exc:
        assert exc.field == "review_days"
    else:
        assert 0 <= parsed["review_days"] <= 365
