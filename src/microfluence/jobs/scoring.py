"""Re-scoring a workspace as a background job (``score``): queued by a schedule or a face, run
by a worker. The record is an ``import_jobs`` row like an import's (status, attempts, outcome),
so the same list, cancel and recovery apply. The metrics are replaced in one transaction
(metrics.service.compute_metrics), so a run cut short and retried writes them once.

The API's ``POST /api/v1/jobs``, the jobs page's "Re-score now" and the schedules all start one
with :func:`start_score_job` or :func:`create_score_job`; its progress is the step of the
pipeline it is in (metrics.service.STEPS), written to its row as each step begins."""

from __future__ import annotations

import logging
import secrets
from collections.abc import Callable
from dataclasses import asdict
from typing import Any

from sqlalchemy import update
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from microfluence.jobs.imports import _set, _start
from microfluence.jobs.tables import ImportJob
from microfluence.kernel.errors import InputError, MicrofluenceError, StoreError
from microfluence.kernel.store import Store
from microfluence.kernel.store.tables import utcnow
from microfluence.metrics.engines import ENGINES
from microfluence.metrics.service import STEPS, compute_metrics, step_number

log = logging.getLogger("microfluence.jobs")

SCORE = "score"
UNAVAILABLE = "the job queue is unavailable: try again in a moment"


class JobNotQueuedError(StoreError):
    """The job could not be handed to whatever runs jobs (the queue is down, the server is
    stopping): the faces answer 503, retry."""

    code = "busy"


def create_score_job(
    session: Session,
    workspace_id: int,
    *,
    engine: str = "duckdb",
    source: str = "requested",
    owner: str | None = None,
) -> ImportJob:
    """Record a queued re-scoring of the workspace; ``source`` says who asked (shown as its
    file name in job lists: ``requested`` or ``schedule 3``); ``owner``: the process that will
    run it (an app's in-process runner), None when a worker of the queue will."""
    if engine not in ENGINES:
        raise InputError(
            f"unknown engine {engine!r}: use one of {', '.join(ENGINES)}", field="engine"
        )
    job = ImportJob(
        id=secrets.token_hex(16),
        workspace_id=workspace_id,
        kind=SCORE,
        filename=source[:500],
        options={"engine": engine},
        status="queued",
        progress_done=0,
        summary={},
        errors=[],
        attempts=0,
        owner=owner,
        progress_total=len(STEPS),
    )
    session.add(job)
    session.flush()
    return job


def start_score_job(
    session: Session,
    workspace_id: int,
    submit: Callable[[str], None],
    *,
    owner: str | None = None,
    source: str = "requested",
) -> ImportJob:
    """Record a re-scoring of the workspace, commit it (whoever runs it reads it from its own
    connection) and hand its id to ``submit`` — the app's in-process runner or the durable
    queue. If that fails, the job is recorded failed and the runner's own error (the server is
    stopping) or :class:`JobNotQueuedError` raised: both answer 503."""
    job = create_score_job(session, workspace_id, source=source, owner=owner)
    session.commit()
    try:
        submit(job.id)
    except Exception as exc:
        log.exception("score job %s could not be queued", job.id)
        ours = isinstance(exc, MicrofluenceError)  # the server is stopping, say
        # A transaction of its own: the session's ended with the commit above.
        with session.get_bind().connect() as conn, conn.begin():
            conn.execute(
                update(ImportJob)
                .where(ImportJob.id == job.id, ImportJob.status == "queued")
                .values(
                    status="failed",
                    error=str(exc) if ours else UNAVAILABLE,
                    finished_at=utcnow(),
                    updated_at=utcnow(),
                )
            )
        if ours:
            raise
        raise JobNotQueuedError(UNAVAILABLE) from exc
    return job


def _step_writer(store: Store, job_id: str) -> Callable[[str], None]:
    """compute_metrics' progress, written to the job's row as each step begins: six short
    writes per run, made before the pipeline's one write transaction begins, so they never wait
    on the job's own lock. A write that fails (on SQLite, another job's write transaction held
    past the busy timeout) is skipped: the next step writes again, and the outcome in the end."""

    def step(message: str) -> None:
        try:
            with store.transaction() as session:
                session.execute(
                    update(ImportJob)
                    .where(ImportJob.id == job_id, ImportJob.status == "running")
                    .values(progress_done=step_number(message), updated_at=utcnow())
                )
        except SQLAlchemyError as exc:
            log.debug("progress of %s not written: %s", job_id, exc)

    return step


def run_score_job(store: Store, job_id: str, owner: str | None = None) -> None:
    """Run a queued score job and record its outcome (never raises but for a stopped process):
    the same function as ``microfluence score``."""
    started = _start(store, job_id, owner)
    if started is None:
        return
    _kind, options, workspace = started
    outcome: dict[str, Any]
    try:
        summary = compute_metrics(
            store,
            workspace,
            engine=str(options.get("engine", "duckdb")),
            progress=_step_writer(store, job_id),
        )
        outcome = {"status": "succeeded", "summary": asdict(summary)}
        outcome.update(progress_done=len(STEPS), progress_total=len(STEPS))
    except MicrofluenceError as exc:
        outcome = {"status": "failed", "error": str(exc), "errors": [{"message": str(exc)}]}
    except Exception:
        log.exception("score job %s failed", job_id)
        outcome = {"status": "failed", "error": "internal error: the error was logged"}
    _set(store, job_id, **outcome, finished_at=utcnow())
