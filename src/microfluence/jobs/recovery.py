"""Jobs whose process died: retried with backoff when a queue holds the work, else failed.

Every running job names its owner — the process running it, by the lock that process holds
while it lives (jobs.uploads.owner_alive). A worker killed mid-job (SIGKILL, OOM, a reboot)
leaves a job ``running`` whose owner's lock is free: it was cut short inside its one
transaction, so nothing it did is stored, and running it again is safe. A retry is only made
by the conditional update from (``running``, that owner) back to ``queued``, so however many
workers and app processes look at once, one of them requeues it, once.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path

from sqlalchemy import select, update

from microfluence.jobs.imports import CANCELLED, IMPORTERS
from microfluence.jobs.tables import ImportJob
from microfluence.jobs.uploads import owner_alive
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


def recover_orphans(store: Store, root: Path, requeue: Requeue | None = None) -> dict[str, int]:
    """Requeue (with backoff) or fail the jobs whose owner under upload root ``root`` died;
    a job that was being cancelled ends cancelled. Counts of each outcome."""
    counts = {"retried": 0, "failed": 0, "cancelled": 0}
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
    for job in jobs:
        if owner_alive(root, job.owner or ""):
            continue
        now = utcnow()
        if job.status == "cancelling":
            outcome, values = "cancelled", {"status": "cancelled", "error": CANCELLED}
        elif _retryable(job, requeue):
            outcome, values = "retried", {"status": "queued", "owner": None}
        else:
            outcome, values = "failed", {"status": "failed", "error": INTERRUPTED}
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
    return counts
