"""The ``refresh`` job kind: a refresh of the workspace's followed accounts run on the job queue
(a schedule per workspace, ``0 4 * * *`` say, or "refresh now" on the connections page), by the
same function as `microfluence refresh` (connectors.refresh). Its record is an ``import_jobs``
row like a score job's (status, progress, outcome), so the jobs list, cancel and recovery apply;
the refresh's own log is its ``refresh_runs`` row. Importing this module registers the kind
(jobs.kinds)."""

from __future__ import annotations

import logging
import secrets
from collections.abc import Callable
from typing import Any

from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from microfluence.connectors.refresh import refresh_workspace
from microfluence.jobs.imports import _set, _start
from microfluence.jobs.kinds import JobKind, register
from microfluence.jobs.tables import ImportJob
from microfluence.kernel.errors import MicrofluenceError
from microfluence.kernel.store import Store
from microfluence.kernel.store.tables import utcnow

log = logging.getLogger("microfluence.jobs")

REFRESH = "refresh"


def create_refresh_job(
    session: Session, workspace_id: int, source: str = "requested", owner: str | None = None
) -> ImportJob:
    job = ImportJob(
        id=secrets.token_hex(16),
        workspace_id=workspace_id,
        kind=REFRESH,
        filename=source[:500],
        options={},
        status="queued",
        progress_done=0,
        summary={},
        errors=[],
        attempts=0,
        owner=owner,
        progress_total=None,
    )
    session.add(job)
    session.flush()
    return job


def start_refresh_job(
    session: Session, workspace_id: int, submit: Callable[[str], None], owner: str | None
) -> ImportJob:
    """Record a refresh job, commit it, and hand it to whoever runs jobs (``submit``)."""
    job = create_refresh_job(session, workspace_id, owner=owner)
    session.commit()
    submit(job.id)
    return job


def _progress(store: Store, job_id: str) -> Callable[[int, int], None]:
    def write(done: int, total: int) -> None:
        try:
            _set(store, job_id, progress_done=done, progress_total=total)
        except SQLAlchemyError as exc:  # a busy store: the next account writes it again
            log.debug("progress of %s not written: %s", job_id, exc)

    return write


def run_refresh_job(store: Store, job_id: str, owner: str | None = None) -> None:
    """Run a queued refresh job and record its outcome (never raises)."""
    started = _start(store, job_id, owner)
    if started is None:
        return
    _kind, _options, workspace = started
    outcome: dict[str, Any]
    try:
        result = refresh_workspace(
            store, workspace, source=f"job {job_id}", progress=_progress(store, job_id)
        )
        outcome = {"status": "succeeded", "summary": result.as_dict()}
    except MicrofluenceError as exc:
        outcome = {"status": "failed", "error": str(exc), "errors": [{"message": str(exc)}]}
    except Exception:
        log.exception("refresh job %s failed", job_id)
        outcome = {"status": "failed", "error": "internal error: the error was logged"}
    _set(store, job_id, **outcome, finished_at=utcnow())


register(
    JobKind(
        name=REFRESH,
        label="Refresh followed accounts",
        create=lambda session, workspace_id, source: create_refresh_job(
            session, workspace_id, source
        ),
        run=run_refresh_job,
    )
)
