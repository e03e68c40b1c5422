"""Re-scoring a workspace as a background job (``score``): queued by a schedule or a face, run
by a worker. The record is an ``import_jobs`` row like an import's (status, attempts, outcome),
so the same list, cancel and recovery apply. The metrics are replaced in one transaction
(metrics.service.compute_metrics), so a run cut short and retried writes them once."""

from __future__ import annotations

import logging
import secrets
from dataclasses import asdict
from typing import Any

from sqlalchemy.orm import Session

from microfluence.jobs.imports import _set, _start
from microfluence.jobs.tables import ImportJob
from microfluence.kernel.errors import InputError, MicrofluenceError
from microfluence.kernel.store import Store
from microfluence.kernel.store.tables import utcnow
from microfluence.metrics.engines import ENGINES

log = logging.getLogger("microfluence.jobs")

SCORE = "score"


def create_score_job(
    session: Session, workspace_id: int, *, engine: str = "duckdb", source: str = "requested"
) -> ImportJob:
    """Record a queued re-scoring of the workspace; ``source`` says who asked (shown as its
    file name in job lists: ``requested`` or ``schedule 3``)."""
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
    )
    session.add(job)
    session.flush()
    return job


def run_score_job(store: Store, job_id: str, owner: str | None = None) -> None:
    """Run a queued score job and record its outcome (never raises but for a stopped process):
    the same function as ``microfluence score``."""
    from microfluence.metrics.service import compute_metrics

    started = _start(store, job_id, owner)
    if started is None:
        return
    _kind, options, workspace = started
    outcome: dict[str, Any]
    try:
        summary = compute_metrics(store, workspace, engine=str(options.get("engine", "duckdb")))
        outcome = {"status": "succeeded", "summary": asdict(summary), "progress_done": 1}
        outcome["progress_total"] = 1
    except MicrofluenceError as exc:
        outcome = {"status": "failed", "error": str(exc), "errors": [{"message": str(exc)}]}
    except Exception:
        log.exception("score job %s failed", job_id)
        outcome = {"status": "failed", "error": "internal error: the error was logged"}
    _set(store, job_id, **outcome, finished_at=utcnow())
