"""Whether the process that owns a job still lives, on this machine or another one.

Every running job names its owner (``import_jobs.owner``). Two kinds of owner:

* **A process on this machine** holds the lock of its upload folder for as long as it lives
  (jobs.uploads.owner_alive): the kernel drops the lock however the process ends, so a dead
  owner is known at once, with no lease to wait out.
* **A worker** (``microfluence worker``) also writes a heartbeat to ``job_workers`` every
  :data:`HEARTBEAT_SECONDS`. A worker on another machine is alive while its heartbeat is younger
  than the lease (``MICROFLUENCE_WORKER_LEASE_SECONDS``, 60 s by default): a worker whose
  machine died, or whose network did, is known within the lease. Locks are trusted only for
  workers on the same host: a shared upload directory on a network file system may not carry
  them across machines. Machines compare their own clocks with the heartbeat's, so their
  clocks must agree (NTP) to well within the lease.

A worker stopped cleanly removes its row; rows of dead workers are removed by the recovery.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import socket
import threading
from pathlib import Path

from sqlalchemy import delete, select, update

from microfluence.jobs.tables import JobWorker
from microfluence.jobs.uploads import lock_alive, owner_alive
from microfluence.kernel.store import Store
from microfluence.kernel.store.tables import utcnow

log = logging.getLogger("microfluence.jobs")

HEARTBEAT_SECONDS = 10.0
DEFAULT_LEASE_SECONDS = 60.0


def this_host() -> str:
    return socket.gethostname()[:255]


class Heartbeat:
    """A worker's row in ``job_workers``, renewed every :data:`HEARTBEAT_SECONDS` by a thread of
    its own until :meth:`stop`, which removes the row."""

    def __init__(
        self,
        store: Store,
        name: str,
        lock_path: Path | None = None,
        interval: float = HEARTBEAT_SECONDS,
    ) -> None:
        self.store = store
        self.name = name
        self.lock_path = str(lock_path) if lock_path else None
        self.interval = interval
        self.stopping = threading.Event()
        self.thread = threading.Thread(
            target=self._loop, name="microfluence-heartbeat", daemon=True
        )

    def start(self) -> None:
        self.beat()
        self.thread.start()

    def beat(self) -> None:
        """Say this worker is alive; its row is made again if a recovery removed it (after the
        store was out of reach for longer than the lease)."""
        now = utcnow()
        with self.store.transaction() as session:
            renewed = session.execute(
                update(JobWorker).where(JobWorker.name == self.name).values(seen_at=now)
            ).rowcount
            if not renewed:
                session.add(
                    JobWorker(
                        name=self.name,
                        host=this_host(),
                        pid=os.getpid(),
                        lock_path=self.lock_path,
                        started_at=now,
                        seen_at=now,
                    )
                )

    def _loop(self) -> None:
        while not self.stopping.wait(self.interval):
            try:
                self.beat()
            except Exception as exc:  # a busy or unreachable store: the next beat tries again
                log.warning("heartbeat of worker %s not written: %s", self.name, exc)

    def stop(self) -> None:
        self.stopping.set()
        self.thread.join(timeout=self.interval + 5)
        try:
            with self.store.transaction() as session:
                session.execute(delete(JobWorker).where(JobWorker.name == self.name))
        except Exception as exc:  # its lease runs out instead
            log.warning("worker %s could not sign off: %s", self.name, exc)


class Liveness:
    """Answers "is this owner alive?" for one look at the jobs (a recovery pass): the workers'
    rows are read once."""

    def __init__(self, store: Store, root: Path, lease_seconds: float) -> None:
        self.root = root
        self.lease = dt.timedelta(seconds=lease_seconds)
        self.host = this_host()
        with store.session() as session:
            self.workers = {
                w.name: (w.host, w.lock_path, w.seen_at) for w in session.scalars(select(JobWorker))
            }

    def alive(self, owner: str) -> bool:
        worker = self.workers.get(owner)
        if worker is None:  # not a worker: a server process of this machine, by its lock
            return owner_alive(self.root, owner)
        host, lock_path, seen_at = worker
        if host == self.host and lock_path:
            return lock_alive(Path(lock_path))
        return utcnow() - seen_at < self.lease

    def dead_workers(self) -> list[str]:
        return [name for name in self.workers if not self.alive(name)]


def forget_workers(store: Store, names: list[str]) -> None:
    """Remove the rows of workers found dead (their jobs were recovered first)."""
    if names:
        with store.transaction() as session:
            session.execute(delete(JobWorker).where(JobWorker.name.in_(names)))
