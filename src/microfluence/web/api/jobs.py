"""/api/v1/jobs: the workspace's background jobs of every kind (imports, scoring) — list, poll,
cancel — and starting a re-score of the workspace as one."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Path, Query, Request

from microfluence.catalog.listing import Window
from microfluence.catalog.schemas import Page
from microfluence.jobs import imports, scoring
from microfluence.jobs.schemas import ImportJobPublic, JobStart
from microfluence.jobs.tables import ImportJob
from microfluence.web.api.common import ITEM_ERRORS, READ_ERRORS, _window, responses
from microfluence.web.deps import ApiOwner, ApiReader, ApiWriter, DbSession

router = APIRouter(prefix="/jobs", tags=["jobs"])

Kind = Literal["score", "creators", "posts", "instagram", "followers"]
JobId = Annotated[str, Path(min_length=1, max_length=64)]


def public_job(request: Request, job: ImportJob) -> ImportJobPublic:
    """A job with the live progress the app's runner knows of (a running import)."""
    return imports.describe_job(job, request.app.state.jobs.progress(job.id))


def submit_score(request: Request, db: DbSession, workspace_id: int) -> ImportJob:
    """Start a re-score of the workspace where this app runs jobs: on the durable queue when
    one is configured (``MICROFLUENCE_JOB_QUEUE``: a worker runs it), else in this process's
    runner — the one way the API and the jobs page start one."""
    runner = request.app.state.jobs  # the queue's runner, or the in-process one
    return scoring.start_score_job(db, workspace_id, runner.submit_score, owner=runner.owner)


@router.get("", responses=READ_ERRORS)
def list_jobs(
    request: Request,
    db: DbSession,
    caller: ApiReader,
    window: Annotated[Window, Depends(_window)],
    kind: Annotated[Kind | None, Query(description="Only jobs of this kind.")] = None,
) -> Page[ImportJobPublic]:
    """The workspace's jobs of every kind (imports and scoring), newest first."""
    kinds = [kind] if kind is not None else None
    jobs, count = imports.list_jobs(db, caller.workspace_id, window=window, kinds=kinds)
    return Page(data=[public_job(request, j) for j in jobs], count=count)


@router.post("", status_code=202, responses=responses(400, 401, 403, 413, 422, 503))
def start_job(
    request: Request, db: DbSession, caller: ApiWriter, body: JobStart
) -> ImportJobPublic:
    """Start a job (``{"kind": "score"}``: recompute the workspace's metrics) in the
    background; answers 202 with the job to poll at ``GET /api/v1/jobs/{job_id}``."""
    job = submit_score(request, db, caller.workspace_id)
    return public_job(request, job)


@router.get("/{job_id}", responses=ITEM_ERRORS)
def get_job(request: Request, db: DbSession, caller: ApiReader, job_id: JobId) -> ImportJobPublic:
    """A job of any kind: status, progress, and at the end its summary or error."""
    return public_job(request, imports.get_job(db, caller.workspace_id, job_id))


@router.post("/{job_id}/cancel", responses=responses(401, 403, 404, 409, 422))
def cancel_job(request: Request, db: DbSession, caller: ApiOwner, job_id: JobId) -> ImportJobPublic:
    """Cancel a queued or running job (owners), as ``POST /api/v1/imports/{job_id}/cancel``:
    a queued job ends ``cancelled`` at once; a running import stops at its next batch; a
    running score job cannot be stopped (409), nor can a job that has ended."""
    job = imports.cancel_job(db, caller.workspace_id, job_id, signal=request.app.state.jobs.cancel)
    return public_job(request, job)
