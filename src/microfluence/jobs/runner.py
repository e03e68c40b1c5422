"""Where background jobs run: a small thread pool inside the server process (imports, and
re-scoring a workspace).

Uploads are saved under a fresh folder per job (in this process's upload area, jobs.uploads) and
removed when the job ends, or at once when the job could not be queued; the area itself goes
with the runner, and a server that starts removes those of servers that crashed. Jobs are
recorded in the store, so their status survives the process; a job cut short by a stop is
marked failed when the server starts again (``microfluence serve`` runs one process).
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path
from typing import BinaryIO

from microfluence.jobs.imports import run_job
from microfluence.jobs.kinds import run_registered
from microfluence.jobs.progress import ProgressWriter
from microfluence.jobs.scoring import run_score_job
from microfluence.jobs.uploads import UploadArea
from microfluence.jobs.webhooks import run_webhook
from microfluence.kernel.errors import InputError, StoreError
from microfluence.kernel.files import safe_filename
from microfluence.kernel.store import Store

CHUNK = 1 << 20


class TooLargeError(InputError):
    code = "payload_too_large"


class StoppingError(StoreError):
    code = "busy"


def save_upload(folder: Path, source: BinaryIO, filename: str | None, max_bytes: int) -> Path:
    """Copy an upload into ``folder`` (fresh, its own), refusing more than ``max_bytes``; the
    folder is removed if the upload is refused."""
    target = folder / safe_filename(filename)
    written = 0
    try:
        with target.open("wb") as out:
            while chunk := source.read(CHUNK):
                written += len(chunk)
                if written > max_bytes:
                    raise TooLargeError(
                        f"the file is larger than {max_bytes // (1 << 20)} MiB", field="file"
                    )
                out.write(chunk)
    except BaseException:
        shutil.rmtree(folder, ignore_errors=True)
        raise
    if written == 0:
        shutil.rmtree(folder, ignore_errors=True)
        raise InputError("the uploaded file is empty", field="file")
    return target


class JobRunner:
    def __init__(self, store: Store, workers: int = 1, upload_dir: Path | None = None) -> None:
        self.store = store
        self.uploads = UploadArea(upload_dir)
        self.pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="microfluence-job")
        self.futures: dict[str, Future[None]] = {}
        self.live: dict[str, tuple[int, int | None]] = {}  # job id -> (done, total)
        self.cancelled: set[str] = set()  # jobs of this process an owner cancelled
        # Also in the store, for the other app processes (serve --workers N) to answer polls.
        self.writer = ProgressWriter(store)
        self.writer.start()

    @property
    def owner(self) -> str:
        """This process's name as the owner of the jobs it runs (jobs.recovery)."""
        return self.uploads.name

    @property
    def upload_root(self) -> Path:
        return self.uploads.root

    def save_upload(self, source: BinaryIO, filename: str | None, max_bytes: int) -> Path:
        """Copy an upload to a private temporary folder, refusing more than ``max_bytes``."""
        return save_upload(self.uploads.new_folder(), source, filename, max_bytes)

    @contextmanager
    def upload(self, source: BinaryIO, filename: str | None, max_bytes: int) -> Iterator[Path]:
        """Save an upload for the job the block queues; if the block fails (the store is busy,
        the server is stopping), the upload is removed at once rather than left behind."""
        path = self.save_upload(source, filename, max_bytes)
        try:
            yield path
        except BaseException:
            shutil.rmtree(path.parent, ignore_errors=True)
            raise

    def _progress(self, job_id: str, done: int, total: int | None) -> None:
        self.writer.sink(job_id, done, total)
        if done < 0:
            self.live.pop(job_id, None)
        else:
            self.live[job_id] = (done, total)

    def progress(self, job_id: str) -> tuple[int, int | None] | None:
        return self.live.get(job_id)

    def cancel(self, job_id: str) -> None:
        """Tell a running job of this process to stop at its next batch (``cancel_job``'s
        signal; the job's workspace was checked there)."""
        if job_id in self.futures:
            self.cancelled.add(job_id)

    def submit(self, job_id: str, upload: Path) -> None:
        try:
            future = self.pool.submit(
                run_job,
                self.store,
                job_id,
                upload,
                self._progress,
                lambda: job_id in self.cancelled,
                self.owner,
            )
        except RuntimeError as exc:  # the pool is shut down: the server is stopping
            raise StoppingError("the server is stopping: upload again in a moment") from exc
        self.futures[job_id] = future
        future.add_done_callback(lambda _f: self._forget(job_id))

    def submit_score(self, job_id: str) -> None:
        """Run a recorded score job (jobs.scoring) in this process's pool; its progress is
        written to its row by the job itself."""
        try:
            future = self.pool.submit(run_score_job, self.store, job_id, self.owner)
        except RuntimeError as exc:  # the pool is shut down: the server is stopping
            raise StoppingError("the server is stopping: try again in a moment") from exc
        self.futures[job_id] = future
        future.add_done_callback(lambda _f: self._forget(job_id))

    def submit_kind(self, job_id: str) -> None:
        """Run a recorded job of a registered kind (jobs.kinds) in this process's pool."""
        try:
            future = self.pool.submit(run_registered, self.store, job_id, self.owner)
        except RuntimeError as exc:  # the pool is shut down: the server is stopping
            raise StoppingError("the server is stopping: try again in a moment") from exc
        self.futures[job_id] = future
        future.add_done_callback(lambda _f: self._forget(job_id))

    def submit_webhook(self, delivery_id: int) -> None:
        """Process a stored webhook delivery in this process's pool (jobs.webhooks)."""
        key = f"webhook-{delivery_id}"
        try:
            future = self.pool.submit(run_webhook, self.store, delivery_id)
        except RuntimeError:  # stopping: the delivery stays stored, retried at the next start
            return
        self.futures[key] = future
        future.add_done_callback(lambda _f: self._forget(key))

    def _forget(self, job_id: str) -> None:
        self.futures.pop(job_id, None)
        self.cancelled.discard(job_id)

    def wait(self, timeout: float | None = None) -> None:
        """Wait for the jobs submitted so far (tests and shutdown)."""
        for future in list(self.futures.values()):
            future.result(timeout=timeout)

    def shutdown(self) -> None:
        self.pool.shutdown(wait=True, cancel_futures=False)
        self.writer.stop()
        self.uploads.close()
