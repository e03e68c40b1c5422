"""Progress of running imports, written to their job rows so that any process answers a poll:
another app process (``serve --workers N``) or the app while a worker runs the job."""

from __future__ import annotations

import logging
import threading

from sqlalchemy import update

from microfluence.jobs.tables import ImportJob
from microfluence.kernel.store import Store
from microfluence.kernel.store.tables import utcnow

log = logging.getLogger("microfluence.jobs")

PROGRESS_SECONDS = 1.0  # how often the progress of running imports is written


class ProgressWriter:
    """Progress of the imports a process runs, written to their rows every
    :data:`PROGRESS_SECONDS` by a thread of its own (started with :meth:`start`): an import's
    callback only notes it, so the import never waits on a write (on SQLite, its own write
    phase holds the lock; a write that finds the store busy is tried at the next tick)."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self.latest: dict[str, tuple[int, int | None]] = {}
        self.stopping = threading.Event()
        self.thread = threading.Thread(target=self._loop, name="microfluence-progress", daemon=True)

    def start(self) -> None:
        self.thread.start()

    def stop(self) -> None:
        self.stopping.set()

    def sink(self, job_id: str, done: int, total: int | None) -> None:
        if done < 0:
            self.latest.pop(job_id, None)
        else:
            self.latest[job_id] = (done, total)

    def _loop(self) -> None:
        while not self.stopping.wait(PROGRESS_SECONDS):
            for job_id, (done, total) in list(self.latest.items()):
                try:
                    with self.store.transaction() as session:
                        session.execute(
                            update(ImportJob)
                            .where(ImportJob.id == job_id, ImportJob.status == "running")
                            .values(progress_done=done, progress_total=total, updated_at=utcnow())
                        )
                except Exception as exc:  # a busy store: the next tick tries again
                    log.debug("progress of %s not written: %s", job_id, exc)
