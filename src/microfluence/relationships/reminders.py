"""Reminders: what needs attention in a workspace today, computed from what is stored — no
reminder is stored itself, so one goes away as soon as its cause does (the task done, the gift
shipped, the reply recorded).

Six kinds, one SQL query each (never a query per deal):

* ``task``: an open task past its due date, or due within ``task_horizon_days``;
* ``deliverable``: a deliverable past its ``due_on`` still pending (no post matched);
* ``gift_unshipped``: a gift requested more than ``gift_ship_days`` ago and not shipped;
* ``gift_undelivered``: a gift shipped more than ``gift_delivery_days`` ago, not delivered;
* ``review``: a draft or live post pending review for more than ``review_days``;
* ``follow_up``: a deal in ``contacted`` whose last touch (the move to ``contacted`` or a later
  message) is more than ``follow_up_days`` old, without a reply since — and whose creator is
  not do-not-contact.

Each item's due date is the day its clock ran out (a gift requested on the 1st with
``gift_ship_days`` 5 is due the 6th) and ``days_overdue`` is ``today - due_on`` in days: positive
when late, 0 on the day, negative for a task due in the coming days. An item is overdue from
``days_overdue`` 1. Deals that left the pipeline (declined, no reply, on hold) raise none but
their tasks'.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from typing import Any, Literal

from pydantic import BaseModel
from sqlalchemy import Select, and_, case, exists, func, select
from sqlalchemy.orm import Session, aliased

from microfluence.campaigns.campaigns import find_campaign
from microfluence.campaigns.tables import Campaign, Deal, Deliverable, Gift
from microfluence.kernel.store.tables import Creator, Workspace
from microfluence.relationships.reminder_settings import DEFAULTS, thresholds
from microfluence.relationships.tables import CreatorRelation, DealEvent, Submission, Task
from microfluence.relationships.task_schemas import parse_assignee
from microfluence.relationships.tasks import today_utc

REMINDER_KINDS = (
    "task",
    "deliverable",
    "gift_unshipped",
    "gift_undelivered",
    "review",
    "follow_up",
)
KIND_LABELS = {
    "task": "Tasks",
    "deliverable": "Deliverables late",
    "gift_unshipped": "Gifts to ship",
    "gift_undelivered": "Gifts not delivered",
    "review": "Submissions to review",
    "follow_up": "Follow-ups",
}
# Deals that left the pipeline: nothing about them needs chasing.
CLOSED_STAGES = ("declined", "no_reply", "on_hold")
# The events that restart a follow-up's clock (an outreach message) or stop it (a reply).
TOUCH_EVENTS = ("message",)
REPLY_EVENTS = ("reply",)

ReminderKind = Literal[
    "task", "deliverable", "gift_unshipped", "gift_undelivered", "review", "follow_up"
]


class Reminder(BaseModel):
    kind: ReminderKind
    title: str
    due_on: dt.date
    days_overdue: int
    overdue: bool
    item_id: int
    deal_id: int | None
    campaign_id: int | None
    campaign_name: str | None
    creator_id: int | None
    creator_name: str | None
    assignee: str | None
    link: str


class Reminders(BaseModel):
    today: dt.date
    thresholds: dict[str, int]
    counts: dict[str, int]
    overdue: int
    items: list[Reminder]


def _midnight(day: dt.date) -> dt.datetime:
    return dt.datetime.combine(day, dt.time())


def _deal_columns() -> tuple[Any, ...]:
    return (
        Deal.id.label("deal_id"),
        Deal.campaign_id,
        Campaign.name.label("campaign_name"),
        Deal.creator_id,
        Creator.name.label("creator_name"),
    )


def deal_link(row: dict[str, Any], section: str) -> str:
    """The deal's page (pipeline stage, portal, gifts, submissions, history), at a section."""
    return f"/campaigns/{row['campaign_id']}/deals/{row['deal_id']}#{section}"


def _on_live_deals(query: Select[Any], workspace_id: int, campaign_id: int | None) -> Select[Any]:
    query = (
        query.join(Campaign, Campaign.id == Deal.campaign_id)
        .join(Creator, Creator.id == Deal.creator_id)
        .where(Deal.workspace_id == workspace_id, Deal.stage.not_in(CLOSED_STAGES))
    )
    return query if campaign_id is None else query.where(Deal.campaign_id == campaign_id)


def _tasks(
    session: Session,
    workspace_id: int,
    today: dt.date,
    days: int,
    campaign_id: int | None,
    assignee: str | None,
) -> list[dict[str, Any]]:
    query = (
        select(
            Task.id.label("item_id"),
            Task.title,
            Task.due_on,
            Task.assignee,
            Task.deal_id,
            Deal.campaign_id,
            Campaign.name.label("campaign_name"),
            Task.creator_id,
            Creator.name.label("creator_name"),
        )
        .outerjoin(Deal, Deal.id == Task.deal_id)
        .outerjoin(Campaign, Campaign.id == Deal.campaign_id)
        .outerjoin(Creator, Creator.id == Task.creator_id)
        .where(
            Task.workspace_id == workspace_id,
            Task.done_at.is_(None),
            Task.due_on <= today + dt.timedelta(days=days),
        )
    )
    if campaign_id is not None:
        query = query.where(Deal.campaign_id == campaign_id)
    if assignee is not None:
        query = query.where(Task.assignee == assignee)
    rows = [dict(row._mapping) for row in session.execute(query)]
    for row in rows:
        row["link"] = f"/tasks#task-{row['item_id']}"
    return rows


def _deliverables(
    session: Session, workspace_id: int, today: dt.date, campaign_id: int | None
) -> list[dict[str, Any]]:
    query = select(
        Deliverable.id.label("item_id"), Deliverable.format, Deliverable.due_on, *_deal_columns()
    ).join(Deal, Deal.id == Deliverable.deal_id)
    query = _on_live_deals(query, workspace_id, campaign_id).where(
        Deliverable.status == "pending", Deliverable.post_id.is_(None), Deliverable.due_on < today
    )
    rows = [dict(row._mapping) for row in session.execute(query)]
    for row in rows:
        row["title"] = f"{row.pop('format').replace('_', ' ').capitalize()} not posted"
        row["link"] = f"/campaigns/{row['campaign_id']}#deliverables"
    return rows


def _gifts(
    session: Session,
    workspace_id: int,
    cutoff: dt.date,
    days: int,
    campaign_id: int | None,
    status: str,
) -> list[dict[str, Any]]:
    """Gifts at ``status`` since before ``cutoff`` (requested: since created; shipped: since
    shipped, or last changed when the shipping time was not kept)."""
    since = (
        Gift.created_at
        if status == "requested"
        else func.coalesce(Gift.shipped_at, Gift.updated_at)
    )
    query = select(Gift.id.label("item_id"), Gift.name, since.label("since"), *_deal_columns())
    query = query.join(Deal, Deal.id == Gift.deal_id)
    query = _on_live_deals(query, workspace_id, campaign_id).where(
        Gift.workspace_id == workspace_id, Gift.status == status, since < _midnight(cutoff)
    )
    verb = "Ship" if status == "requested" else "Check the delivery of"
    rows = [dict(row._mapping) for row in session.execute(query)]
    for row in rows:
        row["due_on"] = row.pop("since").date() + dt.timedelta(days=days)
        row["title"] = f"{verb} {row.pop('name')}"
        row["link"] = deal_link(row, "gifts")
    return rows


def _reviews(
    session: Session, workspace_id: int, cutoff: dt.date, days: int, campaign_id: int | None
) -> list[dict[str, Any]]:
    query = select(
        Submission.id.label("item_id"),
        Submission.kind,
        Submission.submitted_at,
        *_deal_columns(),
    ).join(Deal, Deal.id == Submission.deal_id)
    query = _on_live_deals(query, workspace_id, campaign_id).where(
        Submission.workspace_id == workspace_id,
        Submission.status == "pending",
        Submission.submitted_at < _midnight(cutoff),
    )
    rows = [dict(row._mapping) for row in session.execute(query)]
    for row in rows:
        row["due_on"] = row.pop("submitted_at").date() + dt.timedelta(days=days)
        row["title"] = "Review the draft" if row.pop("kind") == "draft" else "Review the live post"
        row["link"] = deal_link(row, "submissions")
    return rows


def _follow_ups(
    session: Session, workspace_id: int, cutoff: dt.date, days: int, campaign_id: int | None
) -> list[dict[str, Any]]:
    messages = (
        select(DealEvent.deal_id, func.max(DealEvent.at).label("at"))
        .where(DealEvent.workspace_id == workspace_id, DealEvent.kind.in_(TOUCH_EVENTS))
        .group_by(DealEvent.deal_id)
        .subquery()
    )
    reply = aliased(DealEvent)
    touched = case(
        (and_(messages.c.at.is_not(None), messages.c.at > Deal.stage_changed_at), messages.c.at),
        else_=Deal.stage_changed_at,
    )
    query = (
        select(Deal.id.label("item_id"), touched.label("touched"), *_deal_columns())
        .outerjoin(messages, messages.c.deal_id == Deal.id)
        .outerjoin(
            CreatorRelation,
            and_(
                CreatorRelation.workspace_id == workspace_id,
                CreatorRelation.creator_id == Deal.creator_id,
            ),
        )
    )
    replied = exists().where(
        reply.deal_id == Deal.id,
        reply.kind.in_(REPLY_EVENTS),
        reply.at >= Deal.stage_changed_at,
    )
    query = _on_live_deals(query, workspace_id, campaign_id).where(
        Deal.stage == "contacted",
        touched < _midnight(cutoff),
        ~replied,
        func.coalesce(CreatorRelation.do_not_contact, False).is_(False),
    )
    rows = [dict(row._mapping) for row in session.execute(query)]
    for row in rows:
        row["due_on"] = row.pop("touched").date() + dt.timedelta(days=days)
        row["title"] = "Follow up: no reply"
        row["link"] = deal_link(row, "history")
    return rows


def _collect(
    session: Session,
    workspace_id: int,
    today: dt.date,
    limits: dict[str, int],
    campaign_id: int | None,
    assignee: str | None,
) -> dict[str, list[dict[str, Any]]]:
    found = {
        "task": _tasks(
            session, workspace_id, today, limits["task_horizon_days"], campaign_id, assignee
        )
    }
    if assignee is not None:  # only tasks have someone assigned
        return found

    def cutoff(name: str) -> tuple[dt.date, int]:
        return today - dt.timedelta(days=limits[name]), limits[name]

    found["deliverable"] = _deliverables(session, workspace_id, today, campaign_id)
    ship, ship_days = cutoff("gift_ship_days")
    found["gift_unshipped"] = _gifts(
        session, workspace_id, ship, ship_days, campaign_id, "requested"
    )
    deliver, deliver_days = cutoff("gift_delivery_days")
    found["gift_undelivered"] = _gifts(
        session, workspace_id, deliver, deliver_days, campaign_id, "shipped"
    )
    found["review"] = _reviews(session, workspace_id, *cutoff("review_days"), campaign_id)
    found["follow_up"] = _follow_ups(session, workspace_id, *cutoff("follow_up_days"), campaign_id)
    return found


def reminders(
    session: Session,
    workspace_id: int,
    *,
    today: dt.date | None = None,
    campaign_id: int | None = None,
    assignee: str | None = None,
) -> Reminders:
    """What needs attention on ``today`` (UTC by default), most overdue first; only the
    campaign's with ``campaign_id``; only the tasks assigned to ``assignee`` with that."""
    today = today or today_utc()
    if campaign_id is not None:
        find_campaign(session, workspace_id, campaign_id)
    who = parse_assignee(assignee)
    workspace = session.get(Workspace, workspace_id)
    limits = thresholds(workspace) if workspace is not None else dict(DEFAULTS)
    found = _collect(session, workspace_id, today, limits, campaign_id, who)
    items = [
        Reminder(
            kind=kind,
            days_overdue=(today - row["due_on"]).days,
            overdue=(today - row["due_on"]).days > 0,
            assignee=row.pop("assignee", None),
            **row,
        )
        for kind, rows in found.items()
        for row in rows
    ]
    order = {kind: n for n, kind in enumerate(REMINDER_KINDS)}
    items.sort(key=lambda r: (-r.days_overdue, order[r.kind], r.campaign_name or "", r.item_id))
    counts = Counter(item.kind for item in items)
    return Reminders(
        today=today,
        thresholds=limits,
        counts={kind: counts.get(kind, 0) for kind in REMINDER_KINDS},
        overdue=sum(item.overdue for item in items),
        items=items,
    )


def grouped(found: Reminders) -> list[tuple[str, str, list[Reminder]]]:
    """The items by kind (kinds with the most overdue item first), for the home dashboard:
    (kind, label, items), kinds without items left out."""
    groups: dict[str, list[Reminder]] = {}
    for item in found.items:  # already most overdue first
        groups.setdefault(item.kind, []).append(item)
    return [(kind, KIND_LABELS[kind], rows) for kind, rows in groups.items()]
