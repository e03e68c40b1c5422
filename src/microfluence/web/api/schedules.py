"""/api/v1/schedules: jobs the workspace wants run on a cron schedule (``score`` nightly, say),
fired by the `microfluence worker` processes."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Response

from microfluence.catalog.schemas import ID_MAX, Page
from microfluence.jobs import schedules
from microfluence.jobs.schemas import ScheduleCreate, SchedulePublic
from microfluence.web.api.common import READ_ERRORS, WRITE_ERRORS, responses
from microfluence.web.deps import ApiReader, ApiWriter, DbSession

router = APIRouter(prefix="/schedules", tags=["jobs"])

ScheduleId = Annotated[int, Path(ge=1, le=ID_MAX)]


@router.get("", responses=READ_ERRORS)
def list_schedules(db: DbSession, caller: ApiReader) -> Page[SchedulePublic]:
    """The workspace's schedules, oldest first, each with its next run."""
    found = schedules.list_schedules(db, caller.workspace_id)
    return Page(data=[schedules.describe_schedule(s) for s in found], count=len(found))


@router.post("", status_code=201, responses=WRITE_ERRORS)
def create_schedule(db: DbSession, caller: ApiWriter, body: ScheduleCreate) -> SchedulePublic:
    """Run a job on a cron schedule (UTC). 422 naming ``cron`` for an expression that does not
    parse or never fires; 409 when the same job is already scheduled on the same cron. Stored
    either way, it fires only while a `microfluence worker` runs."""
    made = schedules.add_schedule(db, caller.workspace_id, body.kind, body.cron)
    return schedules.describe_schedule(made)


@router.delete("/{schedule_id}", status_code=204, responses=responses(401, 403, 404, 422))
def delete_schedule(db: DbSession, caller: ApiWriter, schedule_id: ScheduleId) -> Response:
    """Remove a schedule (jobs it started keep running)."""
    schedules.remove_schedule(db, caller.workspace_id, schedule_id)
    return Response(status_code=204)
