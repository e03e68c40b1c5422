"""/api/v1/reminders and /api/v1/tasks: what needs attention, its thresholds, and the workspace's
tasks (docs/relationships.md). Viewers read; members change tasks; owners set thresholds."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from fastapi import APIRouter, Path, Query, Response
from pydantic import BaseModel, ConfigDict, Field

from microfluence.catalog.schemas import ID_MAX, Page
from microfluence.kernel.store.tables import Workspace
from microfluence.relationships import reminder_settings
from microfluence.relationships.reminders import Reminders, reminders
from microfluence.relationships.task_schemas import (
    TaskCreate,
    TaskKind,
    TaskPublic,
    TaskStatus,
    TaskUpdate,
)
from microfluence.relationships.tasks import (
    complete_task,
    create_task,
    delete_task,
    get_task,
    list_tasks,
    reopen_task,
    update_task,
)
from microfluence.web.api.common import ITEM_ERRORS, READ_ERRORS, WRITE_ERRORS, responses
from microfluence.web.api.labels import labeller
from microfluence.web.deps import ApiOwner, ApiReader, ApiWriter, DbSession

router = APIRouter(tags=["reminders"])
TaskId = Annotated[int, Path(ge=1, le=ID_MAX)]
IdQ = Annotated[int | None, Query(ge=1, le=ID_MAX)]
AssigneeQ = Annotated[
    str | None, Query(max_length=320, description="Only tasks assigned to this e-mail address.")
]


@router.get("/reminders", responses=ITEM_ERRORS)
def get_reminders(
    db: DbSession,
    caller: ApiReader,
    campaign_id: IdQ = None,
    assignee: AssigneeQ = None,
    today: Annotated[
        dt.date | None, Query(description="As of this day (default: today in UTC).")
    ] = None,
) -> Reminders:
    """What needs attention, most overdue first: open tasks due (or due within the horizon),
    late deliverables, gifts not shipped or not delivered, submissions waiting for review, and
    contacted creators without a reply. With ``assignee``, only the tasks assigned to them."""
    return reminders(
        db, caller.workspace_id, today=today, campaign_id=campaign_id, assignee=assignee
    )


class Thresholds(BaseModel):
    thresholds: dict[str, int] = Field(description="Every threshold in effect, in days.")
    own: dict[str, int] = Field(description="Those the workspace set itself.")


class ThresholdsIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    thresholds: dict[Annotated[str, Field(max_length=40)], int] = Field(
        default_factory=dict, max_length=len(reminder_settings.THRESHOLDS)
    )
    reset: bool = Field(default=False, description="Forget the workspace's own first.")


def _thresholds(workspace: Workspace) -> Thresholds:
    return Thresholds(
        thresholds=reminder_settings.thresholds(workspace),
        own=reminder_settings.own_thresholds(workspace),
    )


@router.get("/reminders/settings", responses=READ_ERRORS)
def get_thresholds(db: DbSession, caller: ApiReader) -> Thresholds:
    """The reminders' thresholds in days: the workspace's own over the defaults."""
    return _thresholds(db.get_one(Workspace, caller.workspace_id))


@router.put("/reminders/settings", responses=responses(400, 401, 403, 413, 422))
def put_thresholds(db: DbSession, caller: ApiOwner, body: ThresholdsIn) -> Thresholds:
    """Set some thresholds (owners); the others keep theirs."""
    workspace = db.get_one(Workspace, caller.workspace_id)
    reminder_settings.set_thresholds(db, workspace, body.thresholds, reset=body.reset)
    return _thresholds(workspace)


@router.get("/tasks", responses=READ_ERRORS)
def get_tasks(  # noqa: PLR0913  each query parameter is a parameter
    db: DbSession,
    caller: ApiReader,
    status: TaskStatus = "open",
    campaign_id: IdQ = None,
    deal_id: IdQ = None,
    creator_id: IdQ = None,
    kind: TaskKind | None = None,
    assignee: AssigneeQ = None,
) -> Page[TaskPublic]:
    """The workspace's tasks, open ones first, soonest due first."""
    rows = list_tasks(
        db,
        caller.workspace_id,
        status=status,
        campaign_id=campaign_id,
        deal_id=deal_id,
        creator_id=creator_id,
        kind=kind,
        assignee=assignee,
    )
    return Page(data=rows, count=len(rows))


@router.post("/tasks", status_code=201, responses=WRITE_ERRORS)
def post_task(db: DbSession, caller: ApiWriter, body: TaskCreate) -> TaskPublic:
    """A new task, about a deal (``deal_id``), a creator (``creator_id``) or neither."""
    return create_task(db, caller.workspace_id, body, actor=labeller(db, caller))


@router.get("/tasks/{task_id}", responses=ITEM_ERRORS)
def get_one_task(db: DbSession, caller: ApiReader, task_id: TaskId) -> TaskPublic:
    return get_task(db, caller.workspace_id, task_id)


@router.patch("/tasks/{task_id}", responses=WRITE_ERRORS)
def patch_task(db: DbSession, caller: ApiWriter, task_id: TaskId, body: TaskUpdate) -> TaskPublic:
    """Change the fields sent."""
    return update_task(db, caller.workspace_id, task_id, body, actor=labeller(db, caller))


@router.post("/tasks/{task_id}/done", responses=WRITE_ERRORS)
def post_task_done(db: DbSession, caller: ApiWriter, task_id: TaskId) -> TaskPublic:
    """Mark the task done (a task already done keeps its first completion)."""
    return complete_task(db, caller.workspace_id, task_id, actor=labeller(db, caller))


@router.post("/tasks/{task_id}/reopen", responses=WRITE_ERRORS)
def post_task_reopen(db: DbSession, caller: ApiWriter, task_id: TaskId) -> TaskPublic:
    return reopen_task(db, caller.workspace_id, task_id, actor=labeller(db, caller))


@router.delete("/tasks/{task_id}", status_code=204, responses=WRITE_ERRORS)
def remove_task(db: DbSession, caller: ApiWriter, task_id: TaskId) -> Response:
    delete_task(db, caller.workspace_id, task_id, actor=labeller(db, caller))
    return Response(status_code=204)
