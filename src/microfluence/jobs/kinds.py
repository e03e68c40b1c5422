"""Job kinds that capabilities above the jobs layer bring (``refresh`` from connectors): each
registers how to record a queued job of its kind and how to run one, and the queue, the
in-process runner and the schedules run it like their own kinds.

The jobs layer never imports those capabilities (they sit above it): a face — the root
command, the web app — imports the module that registers the kind before jobs run
(``microfluence.cli.main.JOB_KIND_MODULES``)."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy.orm import Session

from microfluence.jobs.imports import _set
from microfluence.jobs.tables import ImportJob
from microfluence.kernel.store import Store
from microfluence.kernel.store.tables import utcnow

log = logging.getLogger("microfluence.jobs")

# (session, workspace_id, source) -> a queued job, flushed
CreateJob = Callable[[Session, int, str], ImportJob]
# (store, job_id, owner) -> None: runs the job and records its outcome, never raises
RunJob = Callable[[Store, str, str | None], None]


@dataclass(frozen=True)
class JobKind:
    name: str
    label: str  # how the pages name it ("Refresh followed accounts")
    create: CreateJob
    run: RunJob


_KINDS: dict[str, JobKind] = {}


def register(kind: JobKind) -> None:
    """Make ``kind`` runnable and schedulable (registering it again replaces it)."""
    _KINDS[kind.name] = kind


def registered(name: str) -> JobKind | None:
    return _KINDS.get(name)


def registered_kinds() -> dict[str, JobKind]:
    return dict(_KINDS)


def run_registered(store: Store, job_id: str, owner: str | None = None) -> None:
    """Run a job of a registered kind; a kind this process does not know fails the job with
    why, rather than leaving it queued for ever."""
    with store.session() as session:
        job = session.get(ImportJob, job_id)
        if job is None:
            return
        kind_name = job.kind
    kind = _KINDS.get(kind_name)
    if kind is None:
        log.warning("job %s is of kind %r, unknown to this process", job_id, kind_name)
        _set(
            store,
            job_id,
            status="failed",
            error=f"this worker cannot run {kind_name!r} jobs: upgrade or restart it",
            finished_at=utcnow(),
        )
        return
    kind.run(store, job_id, owner)
