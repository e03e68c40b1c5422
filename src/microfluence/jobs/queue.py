"""The durable job queue: huey (https://huey.readthedocs.io), a maintained task queue, keeping
its messages in a SQLite file (no server to run) or in PostgreSQL (workers on any machine;
jobs.backends) — either way the queue survives restarts of every process. App processes
enqueue; ``microfluence worker`` processes (huey consumers) run the jobs, retry the ones whose
worker died (jobs.recovery) with backoff, and fire the per-workspace schedules every minute
(jobs.schedules).

The queue carries only job ids; the store's ``import_jobs`` row stays the record users see
(status, progress, outcome, cancel) and decides whether a delivery runs at all: a job starts
only by the conditional update from ``queued`` to ``running``, so one that was cancelled, or
already ran, is not run again however often it is delivered.
"""

from __future__ import annotations

import datetime as dt
import logging
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, BinaryIO

from huey import crontab
from sqlalchemy import select, update

from microfluence.jobs.backends import open_huey
from microfluence.jobs.imports import run_job
from microfluence.jobs.kinds import registered, run_registered
from microfluence.jobs.liveness import DEFAULT_LEASE_SECONDS, Heartbeat
from microfluence.jobs.outreach import OUTREACH, run_outreach_job
from microfluence.jobs.progress import ProgressWriter
from microfluence.jobs.recovery import recover_orphans
from microfluence.jobs.runner import StoppingError, save_upload
from microfluence.jobs.schedules import fire_due
from microfluence.jobs.scoring import run_score_job
from microfluence.jobs.tables import ImportJob
from microfluence.jobs.uploads import default_upload_root, queued_folder
from microfluence.jobs.webhooks import retry_pending, run_webhook
from microfluence.kernel.store import Store
from microfluence.kernel.store.tables import utcnow

log = logging.getLogger("microfluence.jobs")

UNAVAILABLE = "the job queue is unavailable"
POLL_SECONDS = 1.0
# A queued job untouched this long whose message the queue no longer holds is queued again.
LOST_AFTER_SECONDS = 300.0


class Queue:
    """The huey queue over the store: enqueue (any process) and the tasks (run by workers).

    ``owner`` is the name of the worker process running the tasks (its upload-area lock), None
    in an app process that only enqueues."""

    def __init__(
        self,
        url: str,
        store: Store,
        upload_root: Path | None = None,
        lease_seconds: float = DEFAULT_LEASE_SECONDS,
    ) -> None:
        self.store = store
        self.lease_seconds = lease_seconds
        self.upload_root = Path(upload_root) if upload_root else default_upload_root()
        self.owner: str | None = None
        self.progress: ProgressWriter | None = None
        self.huey = open_huey(url)
        self._import = self.huey.task(name="microfluence.import")(self._run_import)
        self._score = self.huey.task(name="microfluence.score")(self._run_score)
        self._webhook = self.huey.task(name="microfluence.webhook")(self._run_webhook)
        self._outreach = self.huey.task(name="microfluence.outreach")(self._run_outreach)
        self._registered = self.huey.task(name="microfluence.job")(self._run_registered)
        self.huey.periodic_task(crontab(), name="microfluence.minutely")(self.tick)

    # -- enqueue (app processes, schedules, recovery) --------------------------------------

    def enqueue(self, job_id: str, delay: float = 0.0) -> None:
        """Put a recorded job on the queue (to run after ``delay`` seconds)."""
        with self.store.session() as session:
            kind = session.scalar(select(ImportJob.kind).where(ImportJob.id == job_id))
        task = self._score if kind == "score" else self._import
        if kind == OUTREACH:
            task = self._outreach
        elif kind is not None and registered(kind) is not None:
            task = self._registered
        if delay > 0:
            task.schedule(args=(job_id,), delay=delay)
        else:
            task(job_id)

    def enqueue_webhook(self, delivery_id: int) -> None:
        """Put a stored webhook delivery on the queue (jobs.webhooks)."""
        self._webhook(delivery_id)

    # -- the tasks (worker processes) -------------------------------------------------------

    def _run_import(self, job_id: str) -> None:
        with self.store.session() as session:
            upload = session.scalar(select(ImportJob.upload_path).where(ImportJob.id == job_id))
        if not upload:
            log.warning("import job %s has no upload: skipped", job_id)
            return
        sink = self.progress.sink if self.progress else (lambda *_a: None)
        run_job(self.store, job_id, Path(upload), sink, owner=self.owner)

    def _run_score(self, job_id: str) -> None:
        run_score_job(self.store, job_id, owner=self.owner)

    def _run_outreach(self, job_id: str) -> None:
        run_outreach_job(self.store, job_id, owner=self.owner)

    def _run_registered(self, job_id: str) -> None:
        run_registered(self.store, job_id, owner=self.owner)

    def _run_webhook(self, delivery_id: int) -> None:
        run_webhook(self.store, delivery_id)

    def tick(self) -> dict[str, Any]:
        """Every minute, in each worker: fire the schedules due, retry orphaned jobs and
        webhook deliveries whose job was lost."""
        fired = fire_due(self.store, self.enqueue)
        recovered = recover_orphans(self.store, self.upload_root, self.enqueue, self.lease_seconds)
        webhooks = retry_pending(self.store, self.enqueue_webhook)
        lost = self.requeue_lost()
        return {"fired": fired, **recovered, "webhooks": webhooks, "requeued": lost}

    def requeue_lost(self, older_than: float = LOST_AFTER_SECONDS) -> list[str]:
        """Put back on the queue the jobs still ``queued`` after ``older_than`` seconds whose
        message the queue no longer holds: a worker took the message and died before it could
        mark the job running (huey removes a message when a worker takes it). A job whose
        message is only late is left alone; one whose message is being taken right now may be
        delivered twice, which runs it once (the start is a conditional update)."""
        waiting = {
            str(message.args[0])
            for message in [*self.huey.pending(), *self.huey.scheduled()]
            if message.args
        }
        cutoff = utcnow() - dt.timedelta(seconds=older_than)
        with self.store.session() as session:
            stale = session.scalars(
                select(ImportJob.id).where(
                    ImportJob.status == "queued",
                    ImportJob.owner.is_(None),
                    ImportJob.updated_at < cutoff,
                )
            ).all()
        lost = [job_id for job_id in stale if job_id not in waiting]
        for job_id in lost:
            log.warning("job %s was queued but its message is gone: queued again", job_id)
            self.enqueue(job_id)
        return lost


class QueueRunner:
    """The app's job runner when a queue is configured: uploads go to the shared upload
    directory and jobs onto the queue; the same interface as jobs.runner.JobRunner."""

    def __init__(self, queue: Queue) -> None:
        self.queue = queue
        self.store = queue.store
        self.owner: str | None = None  # a worker will own the job
        self.upload_root = queue.upload_root

    @contextmanager
    def upload(self, source: BinaryIO, filename: str | None, max_bytes: int) -> Iterator[Path]:
        path = save_upload(queued_folder(self.upload_root), source, filename, max_bytes)
        try:
            yield path
        except BaseException:
            shutil.rmtree(path.parent, ignore_errors=True)
            raise

    def submit(self, job_id: str, upload: Path) -> None:
        try:
            self.queue.enqueue(job_id)
        except Exception as exc:
            log.exception("job %s could not be queued", job_id)
            with self.store.transaction() as session:
                session.execute(
                    update(ImportJob)
                    .where(ImportJob.id == job_id)
                    .values(
                        status="failed", error="the job queue is unavailable", finished_at=utcnow()
                    )
                )
            shutil.rmtree(upload.parent, ignore_errors=True)
            raise StoppingError("the job queue is unavailable: upload again in a moment") from exc

    def submit_score(self, job_id: str) -> None:
        """Put a recorded score job on the queue (a worker runs it)."""
        self.queue.enqueue(job_id)

    def submit_kind(self, job_id: str) -> None:
        """Put a recorded job of a registered kind (jobs.kinds) on the queue."""
        self.queue.enqueue(job_id)

    def progress(self, job_id: str) -> tuple[int, int | None] | None:
        return None  # a worker writes it to the job's row

    def submit_webhook(self, delivery_id: int) -> None:
        """Queue a stored webhook delivery; if the queue is down, the delivery stays stored
        and a worker's minutely tick queues it again."""
        try:
            self.queue.enqueue_webhook(delivery_id)
        except Exception:
            log.exception("webhook delivery %s could not be queued: retried later", delivery_id)

    def cancel(self, job_id: str) -> None:
        """Nothing to signal here: the worker reads the cancel from the store."""

    def wait(self, timeout: float | None = None) -> None:
        """Jobs run elsewhere: nothing to wait for in this process."""

    def shutdown(self) -> None:
        """Nothing to stop: the queue outlives this process."""


def run_worker(
    store: Store,
    url: str,
    upload_root: Path | None,
    threads: int,
    lease_seconds: float = DEFAULT_LEASE_SECONDS,
) -> None:
    """Run a worker until SIGINT/SIGTERM: first retry or fail the jobs of workers that died,
    then consume the queue with ``threads`` threads and the minutely scheduler."""
    from microfluence.jobs.uploads import UploadArea

    area = UploadArea(upload_root)  # holds this worker's lock: its jobs' owner while it lives
    queue = Queue(url, store, area.root, lease_seconds)
    queue.owner = area.name
    heartbeat = Heartbeat(
        store, area.name, area.lock_path
    )  # … and its heartbeat, seen from other machines
    heartbeat.start()
    queue.progress = ProgressWriter(store)
    queue.progress.start()
    try:
        recovered = recover_orphans(store, area.root, queue.enqueue, lease_seconds)
        if any(recovered.values()):
            log.warning("jobs of stopped workers: %s", recovered)
        consumer = queue.huey.create_consumer(
            workers=threads,
            worker_type="thread",
            periodic=True,
            # An idle worker looks at the queue at least every POLL_SECONDS (huey's default
            # backs off to 10 s): an upload waits no longer than that for its worker.
            max_delay=POLL_SECONDS,
        )
        consumer.run()
    finally:
        queue.progress.stop()
        heartbeat.stop()
        area.close()
