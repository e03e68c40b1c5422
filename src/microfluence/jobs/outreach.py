"""Outreach as background work (kind ``outreach``): a schedule (``*/15 * * * *``, say) starts
one per workspace; it puts the due steps of the workspace's sequences in the outbox and sends
what is queued within the day's limit (outreach.runner, the same function as ``microfluence
outreach run``). The record is an ``import_jobs`` row like a score job's, so the same list,
cancel and recovery apply; a retried run sends nothing twice (each message is claimed by a
conditional update before it is sent)."""

from __future__ import annotations

import logging
import secrets
from typing import Any

from sqlalchemy.orm import Session

from microfluence.jobs.imports import _set, _start
from microfluence.jobs.tables import ImportJob
from microfluence.kernel.errors import MicrofluenceError
from microfluence.kernel.store import Store
from microfluence.kernel.store.tables import Workspace, utcnow
from microfluence.kernel.workspaces import get_workspace
from microfluence.outreach.runner import run_outreach
from microfluence.outreach.unsubscribe import links_for

log = logging.getLogger("microfluence.jobs")

OUTREACH = "outreach"


def create_outreach_job(
    session: Session, workspace_id: int, *, source: str = "requested", owner: str | None = None
) -> ImportJob:
    """Record a queued outreach run of the workspace (``source``: who asked)."""
    job = ImportJob(
        id=secrets.token_hex(16),
        workspace_id=workspace_id,
        kind=OUTREACH,
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


def run_outreach_job(store: Store, job_id: str, owner: str | None = None) -> None:
    """Run a queued outreach job and record its outcome (never raises)."""
    started = _start(store, job_id, owner)
    if started is None:
        return
    _kind, _options, workspace_name = started
    outcome: dict[str, Any]
    try:
        with store.session() as session:
            workspace: Workspace = get_workspace(session, workspace_name)
            workspace_id = workspace.id
        summary = run_outreach(store, workspace_id, links_for(store))
        outcome = {"status": "succeeded", "summary": summary}
    except MicrofluenceError as exc:
        outcome = {"status": "failed", "error": str(exc), "errors": [{"message": str(exc)}]}
    except Exception:
        log.exception("outreach job %s failed", job_id)
        outcome = {"status": "failed", "error": "internal error: the error was logged"}
    _set(store, job_id, **outcome, finished_at=utcnow())
