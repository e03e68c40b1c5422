"""Tasks: create, edit, complete, reopen, delete; every value checked (naming its field) before
anything is written; a task on a deal leaves its trace in the deal's history."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from campaign_support import campaign, deal, make_world
from microfluence.kernel.errors import InputError, NotFoundError
from microfluence.relationships.stages import deal_history
from microfluence.relationships.tables import DealEvent, Task
from microfluence.relationships.task_schemas import TaskCreate, TaskUpdate, parse_due_on
from microfluence.relationships.tasks import (
    complete_task,
    create_task,
    delete_task,
    get_task,
    list_tasks,
    reopen_task,
    update_task,
)
from store_support import table_rows

TODAY = dt.date(2026, 7, 10)
ANN = "ann@brand.test"


def test_a_task_lives_and_leaves_its_trace_on_the_deal(store):
    world = make_world(store)
    cid = campaign(store, world)
    sarah = deal(store, world, cid, "instagram:sarah")
    ws = world.workspace_id
    with store.transaction() as session:
        task = create_task(
            session,
            ws,
            TaskCreate(
                title=" Ship the serum ", kind="shipment", due_on="+3d", deal_id=sarah,
                assignee="Bob@Brand.TEST",
            ),
            actor=ANN,
            today=TODAY,
        )  # fmt: skip
        assert (task.title, task.kind, task.due_on, task.assignee) == (
            "Ship the serum",
            "shipment",
            dt.date(2026, 7, 13),
            "bob@brand.test",
        )
        # The deal brings its creator and campaign.
        assert (task.creator_id, task.campaign_id, task.creator_name, task.campaign_name) == (
            world.creators["Sarah"],
            cid,
            "Sarah",
            "Summer glow",
        )
        assert task.status == "open" and task.created_by == ANN
        edited = update_task(
            session, ws, task.id, TaskUpdate(due_on="2026-07-20", assignee=None), actor=ANN
        )
        assert (edited.due_on, edited.assignee, edited.title) == (
            dt.date(2026, 7, 20),
            None,
            "Ship the serum",
        )
        when = dt.datetime(2026, 7, 12, 9, 30)
        done = complete_task(session, ws, task.id, actor="bob@brand.test", at=when)
        assert (done.status, done.done_at, done.done_by) == (
            "done",
            when.replace(tzinfo=dt.UTC),
            "bob@brand.test",
        )
        # Completing again keeps the first completion.
        assert complete_task(session, ws, task.id, actor=ANN).done_by == "bob@brand.test"
        assert [t.id for t in list_tasks(session, ws)] == []
        assert [t.id for t in list_tasks(session, ws, status="done")] == [task.id]
        reopened = reopen_task(session, ws, task.id, actor=ANN)
        assert (reopened.status, reopened.done_at, reopened.done_by) == ("open", None, None)
        delete_task(session, ws, task.id, actor=ANN)
        with pytest.raises(NotFoundError):
            get_task(session, ws, task.id)
        history = deal_history(session, ws, sarah)
    assert [(e.kind, e.detail["action"]) for e in history] == [
        ("task", "created"),
        ("task", "edited"),
        ("task", "done"),
        ("task", "reopened"),
        ("task", "deleted"),
    ]
    assert history[2].actor == "bob@brand.test" and history[0].detail["title"] == "Ship the serum"


def test_listing_orders_and_filters(store):
    world = make_world(store)
    summer = campaign(store, world)
    winter = campaign(store, world, name="Winter")
    sarah = deal(store, world, summer, "instagram:sarah")
    tom = deal(store, world, winter, "instagram:tom")
    ws = world.workspace_id
    specs = [
        ("later", "2026-07-20", sarah, None, "ann@brand.test"),
        ("undated", None, None, world.creators["Uma"], None),
        ("sooner", "2026-07-11", tom, None, "bob@brand.test"),
        ("general", "2026-07-15", None, None, None),
    ]
    with store.transaction() as session:
        ids = {
            title: create_task(
                session,
                ws,
                TaskCreate(
                    title=title, due_on=due, deal_id=d, creator_id=c, assignee=who, kind="follow_up"
                ),
                actor=ANN,
            ).id
            for title, due, d, c, who in specs
        }
        done = create_task(session, ws, TaskCreate(title="done", due_on="2026-07-01"), actor=ANN)
        complete_task(session, ws, done.id, actor=ANN)
    with store.session() as session:
        titles = [t.title for t in list_tasks(session, ws, status="all")]
        assert titles == ["sooner", "general", "later", "undated", "done"]
        assert [t.title for t in list_tasks(session, ws, campaign_id=summer)] == ["later"]
        assert [t.title for t in list_tasks(session, ws, assignee="BOB@brand.test")] == ["sooner"]
        assert [t.title for t in list_tasks(session, ws, creator_id=world.creators["Uma"])] == [
            "undated"
        ]
        assert len(list_tasks(session, ws, kind="follow-up")) == 4
        assert list_tasks(session, ws, kind="other") == []
        with pytest.raises(InputError, match="field 'status'"):
            list_tasks(session, ws, status="closed")
        with pytest.raises(InputError, match="field 'kind'"):
            list_tasks(session, ws, kind="chore")
    assert set(ids) == {"later", "undated", "sooner", "general"}


def test_bad_input_names_its_field_and_writes_nothing(store):
    world = make_world(store)
    other = make_world(store, "other", prefix="o_")
    cid = campaign(store, world)
    sarah = deal(store, world, cid, "instagram:sarah")
    theirs = deal(store, other, campaign(store, other), "instagram:o_sarah")
    ws = world.workspace_id
    with store.transaction() as session:
        kept = create_task(session, ws, TaskCreate(title="keep", deal_id=sarah), actor=ANN)
    before = table_rows(store, [Task, DealEvent])
    cases = [
        ({"title": "x", "due_on": "10/07/2026"}, "due_on", "not a date"),
        ({"title": "x", "due_on": "next week"}, "due_on", "not a date"),
        ({"title": "x", "due_on": "2040-01-01"}, "due_on", "ten years"),
        ({"title": "x", "due_on": "2026-02-30"}, "due_on", "not a date"),
        ({"title": "   "}, "title", "needs a title"),
        ({"title": "a\x00b"}, "title", "control"),
        ({"title": "x", "assignee": "bob"}, "assignee", "e-mail"),
        ({"title": "x", "deal_id": theirs}, "deal_id", f"no deal with id {theirs}"),
        ({"title": "x", "deal_id": 2**31 - 1}, "deal_id", "no deal"),
        ({"title": "x", "creator_id": other.creators["Sarah"]}, "creator_id", "no creator"),
        (
            {"title": "x", "deal_id": sarah, "creator_id": world.creators["Tom"]},
            "creator_id",
            "is not the creator of deal",
        ),
    ]
    for data, field, message in cases:
        with store.transaction() as session, pytest.raises(InputError) as caught:
            create_task(session, ws, TaskCreate(**data), actor=ANN, today=TODAY)
        assert caught.value.field == field and message in caught.value.message, data
    with store.transaction() as session, pytest.raises(InputError, match="deal_id"):
        update_task(session, ws, kept.id, TaskUpdate(title="new", deal_id=theirs), actor=ANN)
    # Another workspace's task is not found, whatever is asked of it.
    for act in (
        lambda s: get_task(s, other.workspace_id, kept.id),
        lambda s: complete_task(s, other.workspace_id, kept.id, actor="x"),
        lambda s: reopen_task(s, other.workspace_id, kept.id, actor="x"),
        lambda s: delete_task(s, other.workspace_id, kept.id, actor="x"),
        lambda s: update_task(s, other.workspace_id, kept.id, TaskUpdate(title="x"), actor="x"),
    ):
        with store.transaction() as session, pytest.raises(NotFoundError):
            act(session)
    assert table_rows(store, [Task, DealEvent]) == before


def test_due_date_forms():
    assert parse_due_on("today", today=TODAY) == TODAY
    assert parse_due_on("Tomorrow", today=TODAY) == dt.date(2026, 7, 11)
    assert parse_due_on("+3d", today=TODAY) == dt.date(2026, 7, 13)
    assert parse_due_on("3 days", today=TODAY) == dt.date(2026, 7, 13)
    assert parse_due_on("2w", today=TODAY) == dt.date(2026, 7, 24)
    assert parse_due_on(" 2026-08-01 ", today=TODAY) == dt.date(2026, 8, 1)
    assert parse_due_on("", today=TODAY) is None
    assert parse_due_on(dt.datetime(2026, 8, 1, 10), today=TODAY) == dt.date(2026, 8, 1)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.one_of(st.text(max_size=30), st.integers(), st.floats(), st.none()))
def test_any_due_date_text_is_a_date_or_an_error_naming_the_field(value):
    try:
        day = parse_due_on(value, today=TODAY)
    except InputError as exc:
        assert exc.field == "due_on"
    else:
        assert day is None or abs((day - TODAY).days) <= 3660
