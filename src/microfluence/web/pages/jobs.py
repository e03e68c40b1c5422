"""The jobs page: the workspace's recent background jobs of every kind with their status and
progress (polled while they run), a "Re-score now" button, and the schedules — list, add (with
what the cron means in words), remove. The same services as the API's /api/v1/jobs and
/api/v1/schedules and the `microfluence jobs` commands."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Form, Path, Query, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse
from sqlalchemy.orm import Session

from microfluence.access.principal import Principal
from microfluence.catalog.listing import Window
from microfluence.catalog.schemas import ID_MAX
from microfluence.jobs import cron as crons
from microfluence.jobs import imports, schedules
from microfluence.kernel.errors import ConflictError, InputError
from microfluence.kernel.store.tables import utcnow
from microfluence.web.api.jobs import public_job, submit_score
from microfluence.web.deps import CsrfChecked, DbSession, PageOwner, PageReader, PageWriter
from microfluence.web.errors import response_for
from microfluence.web.pages.imports import KINDS as IMPORT_KINDS
from microfluence.web.pages.rendering import render

router = APIRouter(prefix="/jobs", include_in_schema=False)

KINDS = {
    "score": "Re-score the workspace",
    "outreach": "Send due outreach messages",
    "refresh": "Refresh followed accounts",
    **IMPORT_KINDS,
}
SCHEDULE_KINDS = {kind: KINDS[kind] for kind in schedules.KINDS}
RECENT_JOBS = 20
CRON_EXAMPLES = ("0 3 * * *", "30 6 * * 1-5", "0 */6 * * *", "0 0 1 * *")
JobId = Annotated[str, Path(min_length=1, max_length=64)]
ScheduleId = Annotated[int, Path(ge=1, le=ID_MAX)]


def _page(
    request: Request, db: Session, caller: Principal, status_code: int = 200, **extra: object
) -> HTMLResponse:
    jobs, count = imports.list_jobs(db, caller.workspace_id, window=Window(limit=RECENT_JOBS))
    now = utcnow()
    return render(
        request,
        db,
        "jobs.html",
        status_code=status_code,
        title="Jobs",
        jobs=[public_job(request, j) for j in jobs],
        count=count,
        kinds=KINDS,
        import_kinds=IMPORT_KINDS,
        schedule_kinds=SCHEDULE_KINDS,
        schedules=[
            schedules.describe_schedule(s, now)
            for s in schedules.list_schedules(db, caller.workspace_id)
        ],
        has_workers=request.app.state.queue is not None,
        cron_examples=[(c, crons.describe_cron(c)) for c in CRON_EXAMPLES],
        **extra,
    )


@router.get("")
def jobs_page(request: Request, db: DbSession, caller: PageReader) -> HTMLResponse:
    return _page(request, db, caller)


@router.post("/score", dependencies=[CsrfChecked], response_model=None)
def rescore(request: Request, db: DbSession, caller: PageWriter) -> RedirectResponse:
    """The "Re-score now" button: a score job, followed on its own page."""
    job = submit_score(request, db, caller.workspace_id)
    return RedirectResponse(f"/jobs/{job.id}", status_code=303)


@router.get("/cron")
def describe_cron(
    request: Request,
    caller: PageReader,
    cron: Annotated[str, Query(max_length=200)] = "",
) -> JSONResponse:
    """What a cron expression means, for the add-schedule form's hint as one types: its words,
    its next run, or why it is refused."""
    try:
        text = crons.check_cron(cron)
        answer = {
            "cron": text,
            "description": crons.describe_cron(text),
            "next_run_at": _iso(crons.next_run(text, utcnow())),
            "error": None,
        }
    except InputError as exc:
        answer = {"cron": cron, "description": None, "next_run_at": None, "error": exc.message}
    return JSONResponse(answer, headers={"Cache-Control": "no-store"})


def _iso(moment) -> str | None:  # type: ignore[no-untyped-def]
    return moment.strftime("%Y-%m-%d %H:%M") if moment is not None else None


@router.post("/schedules", dependencies=[CsrfChecked], response_model=None)
def add_schedule(
    request: Request,
    db: DbSession,
    caller: PageWriter,
    kind: Annotated[Literal["score", "outreach"], Form()],
    cron: Annotated[str, Form(max_length=200)],
) -> RedirectResponse | HTMLResponse:
    """Add a schedule; a bad cron (or one already there) shows the page again with why, and
    the form as it was sent."""
    try:
        schedules.add_schedule(db, caller.workspace_id, kind, cron)
    except (InputError, ConflictError) as exc:
        status = response_for(request, exc).status_code
        form = {"kind": kind, "cron": cron}
        error = exc.message if isinstance(exc, InputError) else str(exc)
        return _page(request, db, caller, status, schedule_error=error, schedule_form=form)
    return RedirectResponse("/jobs#schedules", status_code=303)


@router.post("/schedules/{schedule_id}/delete", dependencies=[CsrfChecked])
def remove_schedule(db: DbSession, caller: PageWriter, schedule_id: ScheduleId) -> RedirectResponse:
    schedules.remove_schedule(db, caller.workspace_id, schedule_id)  # 404: not this workspace's
    return RedirectResponse("/jobs#schedules", status_code=303)


@router.get("/{job_id}")
def job_page(request: Request, db: DbSession, caller: PageReader, job_id: JobId) -> HTMLResponse:
    job = imports.get_job(db, caller.workspace_id, job_id)  # 404 for other workspaces' jobs
    return render(request, db, "job.html", title="Job", job=public_job(request, job), kinds=KINDS)


@router.get("/{job_id}/status")
def job_status(request: Request, db: DbSession, caller: PageReader, job_id: JobId) -> JSONResponse:
    """The job as JSON for the pages' progress bars (the API's fields)."""
    described = public_job(request, imports.get_job(db, caller.workspace_id, job_id))
    return JSONResponse(described.model_dump(mode="json"), headers={"Cache-Control": "no-store"})


@router.post("/{job_id}/cancel", dependencies=[CsrfChecked], response_model=None)
def cancel_job(
    request: Request, db: DbSession, caller: PageOwner, job_id: JobId
) -> RedirectResponse:
    """The job page's Cancel button (owners): 404 for another workspace's job, 409 when it has
    ended or is a score job already running."""
    imports.cancel_job(db, caller.workspace_id, job_id, signal=request.app.state.jobs.cancel)
    return RedirectResponse(f"/jobs/{job_id}", status_code=303)
