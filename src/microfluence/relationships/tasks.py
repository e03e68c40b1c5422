"""Tasks: what someone in the workspace has to do, and by when — follow up with a creator, ship a
gift, review a draft, chase a deliverable. A task is about a deal (and so its creator and
campaign), about a creator only, or about neither. A task on a deal leaves its trace in the
deal's history (``deal_events`` of kind ``task``: created, edited, done, reopened, deleted), so
the pipeline shows it beside the stage moves and messages.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import case, select
from sqlalchemy.orm import Session

from microfluence.campaigns.tables import Campaign, Deal
from microfluence.kernel.errors import InputError, NotFoundError
from microfluence.kernel.store.tables import Creator, utcnow
from microfluence.relationships.stages import record_event
from microfluence.relationships.tables import Task
from microfluence.relationships.task_schemas import (
    TaskCreate,
    TaskPublic,
    TaskUpdate,
    parse_assignee,
    parse_due_on,
    parse_kind,
    parse_title,
)


def today_utc() -> dt.date:
    return utcnow().date()


def _subject(
    session: Session, workspace_id: int, deal_id: int | None, creator_id: int | None
) -> tuple[int | None, int | None]:
    """The deal and creator a task is about, checked to be the workspace's; a deal brings its
    creator, and a creator named with a deal must be the deal's."""
    if deal_id is not None:
        owner = session.scalar(
            select(Deal.creator_id).where(Deal.workspace_id == workspace_id, Deal.id == deal_id)
        )
        if owner is None:
            raise InputError(
                f"no deal with id {deal_id} in this workspace", field="deal_id", value=deal_id
            )
        if creator_id is not None and creator_id != owner:
            raise InputError(
                f"creator {creator_id} is not the creator of deal {deal_id}",
                field="creator_id",
                value=creator_id,
            )
        return deal_id, owner
    if creator_id is not None:
        found = session.scalar(
            select(Creator.id).where(Creator.workspace_id == workspace_id, Creator.id == creator_id)
        )
        if found is None:
            raise InputError(
                f"no creator with id {creator_id} in this workspace",
                field="creator_id",
                value=creator_id,
            )
    return None, creator_id


def _trace(session: Session, workspace_id: int, task: Task, action: str, actor: str | None) -> None:
    """The task's event in its deal's history, when it is about a deal."""
    if task.deal_id is None:
        return
    record_event(
        session,
        workspace_id,
        task.deal_id,
        "task",
        actor=actor,
        detail={
            "action": action,
            "task_id": task.id,
            "kind": task.kind,
            "title": task.title,
            "due_on": task.due_on.isoformat() if task.due_on else None,
            "assignee": task.assignee,
        },
    )


def _find(session: Session, workspace_id: int, task_id: int) -> Task:
    task = session.scalar(select(Task).where(Task.workspace_id == workspace_id, Task.id == task_id))
    if task is None:
        raise NotFoundError(f"no task with id {task_id} in this workspace")
    return task


def create_task(
    session: Session,
    workspace_id: int,
    data: TaskCreate,
    *,
    actor: str | None,
    today: dt.date | None = None,
) -> TaskPublic:
    """A new open task; ``due_on`` may be relative (``+3d``) to ``today`` (UTC by default)."""
    title = parse_title(data.title)
    kind = parse_kind(data.kind)
    due_on = parse_due_on(data.due_on, today=today or today_utc())
    assignee = parse_assignee(data.assignee)
    deal_id, creator_id = _subject(session, workspace_id, data.deal_id, data.creator_id)
    now = utcnow()
    task = Task(
        workspace_id=workspace_id,
        deal_id=deal_id,
        creator_id=creator_id,
        kind=kind,
        title=title,
        due_on=due_on,
        assignee=assignee,
        created_by=actor,
        created_at=now,
        updated_at=now,
    )
    session.add(task)
    session.flush()
    _trace(session, workspace_id, task, "created", actor)
    return get_task(session, workspace_id, task.id)


def _changes(
    session: Session, workspace_id: int, task: Task, data: TaskUpdate, today: dt.date
) -> dict[str, Any]:
    sent = data.model_fields_set
    changes: dict[str, Any] = {}
    if "title" in sent:
        changes["title"] = parse_title(data.title)
    if "kind" in sent:
        changes["kind"] = parse_kind(data.kind)
    if "due_on" in sent:
        changes["due_on"] = parse_due_on(data.due_on, today=today)
    if "assignee" in sent:
        changes["assignee"] = parse_assignee(data.assignee)
    if "deal_id" in sent or "creator_id" in sent:
        deal_id = data.deal_id if "deal_id" in sent else task.deal_id
        # A new deal brings its own creator unless one is named with it.
        creator_id = data.creator_id if "creator_id" in sent else None
        if deal_id is None and "creator_id" not in sent:
            creator_id = task.creator_id
        changes["deal_id"], changes["creator_id"] = _subject(
            session, workspace_id, deal_id, creator_id
        )
    return changes


def update_task(
    session: Session,
    workspace_id: int,
    task_id: int,
    data: TaskUpdate,
    *,
    actor: str | None,
    today: dt.date | None = None,
) -> TaskPublic:
    """Change the fields sent; every value is checked before anything is written."""
    task = _find(session, workspace_id, task_id)
    changes = _changes(session, workspace_id, task, data, today or today_utc())
    changed = {k: v for k, v in changes.items() if getattr(task, k) != v}
    if changed:
        if "deal_id" in changed and task.deal_id is not None:
            _trace(session, workspace_id, task, "moved away", actor)
        for key, value in changed.items():
            setattr(task, key, value)
        task.updated_at = utcnow()
        session.flush()
        _trace(session, workspace_id, task, "edited", actor)
    return get_task(session, workspace_id, task_id)


def complete_task(
    session: Session,
    workspace_id: int,
    task_id: int,
    *,
    actor: str | None,
    at: dt.datetime | None = None,
) -> TaskPublic:
    """Mark the task done, by ``actor``; a task already done keeps its first completion."""
    task = _find(session, workspace_id, task_id)
    if task.done_at is None:
        task.done_at = at or utcnow()
        task.done_by = actor
        task.updated_at = utcnow()
        session.flush()
        _trace(session, workspace_id, task, "done", actor)
    return get_task(session, workspace_id, task_id)


def reopen_task(
    session: Session, workspace_id: int, task_id: int, *, actor: str | None
) -> TaskPublic:
    """Open a done task again (its completion is forgotten; the deal's history keeps it)."""
    task = _find(session, workspace_id, task_id)
    if task.done_at is not None:
        task.done_at = None
        task.done_by = None
        task.updated_at = utcnow()
        session.flush()
        _trace(session, workspace_id, task, "reopened", actor)
    return get_task(session, workspace_id, task_id)


def delete_task(session: Session, workspace_id: int, task_id: int, *, actor: str | None) -> None:
    task = _find(session, workspace_id, task_id)
    _trace(session, workspace_id, task, "deleted", actor)
    session.delete(task)
    session.flush()


def get_task(session: Session, workspace_id: int, task_id: int) -> TaskPublic:
    found = list_tasks(session, workspace_id, status="all", task_id=task_id)
    if not found:
        raise NotFoundError(f"no task with id {task_id} in this workspace")
    return found[0]


def list_tasks(  # noqa: PLR0913  every filter is a keyword of its own, as the faces offer them
    session: Session,
    workspace_id: int,
    *,
    status: str = "open",
    campaign_id: int | None = None,
    assignee: str | None = None,
    deal_id: int | None = None,
    creator_id: int | None = None,
    kind: str | None = None,
    task_id: int | None = None,
) -> list[TaskPublic]:
    """The workspace's tasks, open ones first, soonest due first (undated last)."""
    if status not in ("open", "done", "all"):
        raise InputError(f"one of open, done, all, not {status!r}", field="status")
    query = (
        select(Task, Creator.name, Deal.campaign_id, Campaign.name.label("campaign_name"))
        .outerjoin(Deal, Deal.id == Task.deal_id)
        .outerjoin(Campaign, Campaign.id == Deal.campaign_id)
        .outerjoin(Creator, Creator.id == Task.creator_id)
        .where(Task.workspace_id == workspace_id)
    )
    filters = {
        Task.id: task_id,
        Deal.campaign_id: campaign_id,
        Task.deal_id: deal_id,
        Task.creator_id: creator_id,
        Task.kind: parse_kind(kind) if kind else None,
        Task.assignee: parse_assignee(assignee),
    }
    query = query.where(*(column == value for column, value in filters.items() if value))
    if status != "all":
        query = query.where(
            Task.done_at.is_(None) if status == "open" else Task.done_at.is_not(None)
        )
    query = query.order_by(
        case((Task.done_at.is_(None), 0), else_=1),
        case((Task.due_on.is_(None), 1), else_=0),
        Task.due_on,
        Task.id,
    )
    return [
        TaskPublic(
            id=task.id,
            kind=task.kind,
            title=task.title,
            due_on=task.due_on,
            status="open" if task.done_at is None else "done",
            done_at=task.done_at,
            done_by=task.done_by,
            assignee=task.assignee,
            deal_id=task.deal_id,
            creator_id=task.creator_id,
            creator_name=creator_name,
            campaign_id=campaign,
            campaign_name=campaign_name,
            created_by=task.created_by,
            created_at=task.created_at,
        )
        for task, creator_name, campaign, campaign_name in session.execute(query)
    ]


def deal_choices(session: Session, workspace_id: int) -> list[tuple[int, str, str | None]]:
    """Every deal a task may be about, as (deal id, campaign name, creator name), by campaign
    then creator: what the pages' task form offers."""
    rows = session.execute(
        select(Deal.id, Campaign.name, Creator.name)
        .join(Campaign, Campaign.id == Deal.campaign_id)
        .join(Creator, Creator.id == Deal.creator_id)
        .where(Deal.workspace_id == workspace_id)
        .order_by(Campaign.name, Creator.name, Deal.id)
    )
    return [(deal_id, campaign, creator) for deal_id, campaign, creator in rows]


def days_overdue(tasks: list[TaskPublic], today: dt.date) -> dict[int, int]:
    """Task id -> days past due (negative: due in that many days), for the open dated tasks;
    as reminders count them."""
    return {t.id: (today - t.due_on).days for t in tasks if t.due_on and t.status == "open"}
