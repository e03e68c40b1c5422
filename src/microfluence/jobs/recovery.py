"""Jobs whose process died: retried with backoff when a queue holds the work, else failed.

Every running job names its owner — the process running it (jobs.liveness: its lock on this
machine, its heartbeat from another). A worker killed mid-job (SIGKILL, OOM, a reboot) leaves
a job ``running`` whose owner is gone. Either it was cut short inside its one transaction, so
nothing it did is stored and running it again is safe; or its import had committed — the
import's run carries the job's id, committed with the data — and only the job's own row was
not updated yet: the job is then marked succeeded from that run, not imported twice. (A score
job recomputes every metric from the posts, so running it again has the same effect as once.)
A retry is only made by the conditional update from (``running``, that owner) back to
``queued``, so however many workers and app processes look at once, one of them requeues it,
once.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path
from typing import Any

from sqlalchemy import select, update

from microfluence.jobs.imports import CANCELLED, IMPORTERS, committed_outcome
from microfluence.jobs.liveness import DEFAULT_LEASE_SECONDS, Liveness, forget_workers
from microfluence.jobs.tables import ImportJob
from microfluence.kernel.store import Store
from microfluence.kernel.store.tables import utcnow

log = logging.getLogger("microfluence.jobs")

MAX_ATTEMPTS = 3  # a job whose worker died this many times is failed, not retried again
BACKOFF_SECONDS = 2.0  # the first retry waits this long, each later one twice as long
INTERRUPTED = "interrupted: the process running it stopped before it finished"

# Requeue a job (id, delay in seconds) on the durable queue; None: no queue (in-process).
Requeue = Callable[[str, float], None]


def backoff(attempts: int) -> float:
    """Seconds to wait before retry number ``attempts`` (1, 2, …): doubling, capped at 5 min."""
    return min(300.0, BACKOFF_SECONDS * 2 ** max(0, attempts - 1))


def _retryable(job: ImportJob, requeue: Requeue | None) -> bool:
    if requeue is None or job.attempts >= MAX_ATTEMPTS:
        return False
    if job.kind in IMPORTERS:  # an import needs its upload, kept in the shared directory
        return bool(job.upload_path) and Path(job.upload_path).is_file()
    return True


def _outcome(store: Store, job: ImportJob, requeue: Requeue | None) -> tuple[str, dict[str, Any]]:
    """What becomes of a job whose owner died: (outcome, the values its row gets)."""
    if job.kind in IMPORTERS:
        with store.session() as session:
            committed = committed_outcome(session, job)
        if committed is not None:
            return "succeeded", committed
    if job.status == "cancelling":
        return "cancelled", {"status": "cancelled", "error": CANCELLED}
    if _retryable(job, requeue):
        return "retried", {"status": "queued", "owner": None}
    return "failed", {"status": "failed", "error": INTERRUPTED}


def recover_orphans(
    store: Store,
    root: Path,
    requeue: Requeue | None = None,
    lease_seconds: float = DEFAULT_LEASE_SECONDS,
) -> dict[str, int]:
    """Requeue (with backoff) or fail the jobs whose owner died (jobs.liveness; processes of
    this machine by their locks under upload root ``root``); a job that was being cancelled
    ends cancelled, one whose import had committed ends succeeded. Counts of each outcome."""
    counts = {"retried": 0, "failed": 0, "cancelled": 0, "succeeded": 0}
    with store.transaction() as session:
        jobs = list(
            session.scalars(
                select(ImportJob).where(
                    ImportJob.status.in_(("queued", "running", "cancelling")),
                    ImportJob.owner.is_not(None),
                )
            )
        )
        session.expunge_all()
    liveness = Liveness(store, root, lease_seconds)
    for job in jobs:
        if liveness.alive(job.owner or ""):
            continue
        outcome, values = _outcome(store, job, requeue)
        now = utcnow()
        if outcome != "retried":
            values["finished_at"] = now
        with store.transaction() as session:
            changed = session.execute(
                update(ImportJob)
                .where(
                    ImportJob.id == job.id,
                    ImportJob.status == job.status,
                    ImportJob.owner == job.owner,
                )
                .values(**values, updated_at=now)
            ).rowcount
        if not changed:
            continue  # another process got there first
        counts[outcome] += 1
        if outcome == "retried":
            assert requeue is not None
            delay = backoff(job.attempts)
            log.warning("job %s lost its worker: retry %d in %.0f s", job.id, job.attempts, delay)
            requeue(job.id, delay)
    forget_workers(store, liveness.dead_workers())
    return counts
