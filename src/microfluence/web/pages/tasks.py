"""The tasks page (``/tasks``: list, filters, add, complete, reopen, delete) over the same
services as `microfluence tasks`."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Path, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse

from microfluence.campaigns.schemas import parse_model
from microfluence.catalog.schemas import ID_MAX
from microfluence.relationships.tables import TASK_KINDS
from microfluence.relationships.task_schemas import TaskCreate
from microfluence.relationships.tasks import (
    complete_task,
    create_task,
    days_overdue,
    deal_choices,
    delete_task,
    list_tasks,
    reopen_task,
    today_utc,
)
from microfluence.web.api.labels import labeller
from microfluence.web.deps import CsrfChecked, DbSession, PageReader, PageWriter
from microfluence.web.pages.links import campaigns_of
from microfluence.web.pages.rendering import render

router = APIRouter(include_in_schema=False)
Id = Annotated[int, Path(ge=1, le=ID_MAX)]
MaybeId = Annotated[int | None, Query(ge=1, le=ID_MAX)]
Short = Annotated[str, Form(max_length=400)]
STATUSES = ("open", "done", "all")


@router.get("/tasks")
def tasks_page(  # noqa: PLR0913  each filter is a query parameter
    request: Request,
    db: DbSession,
    caller: PageReader,
    status: Annotated[str, Query(max_length=10)] = "open",
    campaign_id: MaybeId = None,
    assignee: Annotated[str, Query(max_length=320)] = "",
    kind: Annotated[str, Query(max_length=20)] = "",
) -> HTMLResponse:
    tasks = list_tasks(
        db,
        caller.workspace_id,
        status=status,
        campaign_id=campaign_id,
        assignee=assignee.strip() or None,
        kind=kind or None,
    )
    return render(
        request,
        db,
        "tasks.html",
        title="Tasks",
        tasks=tasks,
        late=days_overdue(tasks, today_utc()),
        status=status,
        statuses=STATUSES,
        campaign_id=campaign_id,
        assignee=assignee,
        kind=kind,
        kinds=TASK_KINDS,
        campaigns=campaigns_of(db, caller.workspace_id),
        deals=deal_choices(db, caller.workspace_id),
    )


@router.post("/tasks", dependencies=[CsrfChecked])
def add_task(  # noqa: PLR0913  one parameter per form field
    db: DbSession,
    caller: PageWriter,
    title: Short,
    kind: Short = "other",
    due_on: Short = "",
    deal_id: Short = "",
    assignee: Short = "",
) -> RedirectResponse:
    data = {"title": title, "kind": kind, "due_on": due_on, "assignee": assignee}
    if deal_id.strip():
        data["deal_id"] = deal_id.strip()
    task = create_task(
        db, caller.workspace_id, parse_model(TaskCreate, data), actor=labeller(db, caller)
    )
    return RedirectResponse(f"/tasks#task-{task.id}", status_code=303)


@router.post("/tasks/{task_id}/done", dependencies=[CsrfChecked])
def done(db: DbSession, caller: PageWriter, task_id: Id) -> RedirectResponse:
    complete_task(db, caller.workspace_id, task_id, actor=labeller(db, caller))
    return RedirectResponse("/tasks", status_code=303)


@router.post("/tasks/{task_id}/reopen", dependencies=[CsrfChecked])
def reopen(db: DbSession, caller: PageWriter, task_id: Id) -> RedirectResponse:
    reopen_task(db, caller.workspace_id, task_id, actor=labeller(db, caller))
    return RedirectResponse(f"/tasks#task-{task_id}", status_code=303)


@router.post("/tasks/{task_id}/delete", dependencies=[CsrfChecked])
def remove(db: DbSession, caller: PageWriter, task_id: Id) -> RedirectResponse:
    delete_task(db, caller.workspace_id, task_id, actor=labeller(db, caller))
    return RedirectResponse("/tasks", status_code=303)
