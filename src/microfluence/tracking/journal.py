"""The durable click log: clicks are on disk before their redirect is answered.

Each app process owns a journal in the store's click log folder (docs/tracking.md, "The click
log"): a lock file ``OWNER.lock`` it holds with ``flock`` for as long as it lives, and segment
files ``OWNER.NNNNNN.jsonl`` of one JSON line per click. Each request writes its click itself;
a syncer thread ``fsync``s once for all the clicks written since its last sync and only then
releases their requests (group commit: the cost of a sync is shared by the clicks that wait for
it). :meth:`Journal.rotate` closes the current segment so that it can be moved into the store
and deleted; a process that died leaves its lock free, and :func:`orphan` hands its segments to
whoever takes the lock.
"""

from __future__ import annotations

import asyncio
import fcntl
import os
import secrets
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import orjson


class JournalClosed(RuntimeError):
    """The journal no longer takes clicks (the process is shutting down)."""


class Waiter:
    """Who waits for a line: a coroutine's future on its loop, or a plain callback."""

    __slots__ = ("loop", "target")

    def __init__(
        self,
        loop: asyncio.AbstractEventLoop | None,
        target: asyncio.Future[None] | Callable[[BaseException | None], None],
    ) -> None:
        self.loop = loop
        self.target = target


def _resolve(futures: list[asyncio.Future[None]], error: BaseException | None) -> None:
    for future in futures:
        if future.done():  # its request was cancelled (the client went away)
            continue
        if error is None:
            future.set_result(None)
        else:
            future.set_exception(error)


def _settle(waiters: list[Waiter], error: BaseException | None) -> None:
    """Release a batch's waiters: one wake-up per event loop, not one per click."""
    by_loop: dict[asyncio.AbstractEventLoop, list[asyncio.Future[None]]] = {}
    for waiter in waiters:
        if waiter.loop is None:
            waiter.target(error)  # type: ignore[operator]
        else:
            by_loop.setdefault(waiter.loop, []).append(waiter.target)  # type: ignore[arg-type]
    for loop, futures in by_loop.items():
        try:
            loop.call_soon_threadsafe(_resolve, futures, error)
        except RuntimeError:  # the loop has closed: nobody is waiting any more
            pass


def _open_lock(path: Path) -> int | None:
    """A file descriptor holding an exclusive flock on ``path``, or None if another holds it."""
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        os.close(fd)
        return None
    return fd


def _sync_folder(folder: Path) -> None:
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def segments_of(folder: Path, owner: str) -> list[Path]:
    return sorted(folder.glob(f"{owner}.*.jsonl"))


class _Segment:
    """The journal's current segment file."""

    def __init__(self, journal: Journal) -> None:
        self.journal = journal
        self.lock = threading.Lock()
        self.seq = 0
        self.written = 0
        self.fd = self._open()

    @property
    def path(self) -> Path:
        return self.journal.folder / f"{self.journal.owner}.{self.seq:06d}.jsonl"

    def _open(self) -> int:
        return os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)

    def write(self, data: bytes) -> None:
        with self.lock:
            view = memoryview(data)
            while view:
                view = view[os.write(self.fd, view) :]
            self.written += len(data)

    def sync(self) -> None:
        with self.lock:
            os.fsync(self.fd)

    def rotate(self) -> None:
        """Start a new file if this one holds clicks; the old one is synced before it closes,
        so that clicks written to it and still waiting for their sync are covered."""
        with self.lock:
            if self.written:
                os.fsync(self.fd)
                os.close(self.fd)
                self.seq += 1
                self.fd = self._open()
                self.written = 0

    def close(self) -> None:
        with self.lock:
            os.fsync(self.fd)
            os.close(self.fd)
            self.written = 0


class Journal:
    """This process's click log; :meth:`append` is safe from any thread.

    A click is written to the segment by the request's own thread (one small ``write`` to the
    page cache); with ``sync`` its request then waits for the syncer thread, which ``fsync``s
    once for every click written since its last sync (group commit: while one sync runs, the
    clicks that arrive are written and wait for the next, so a click waits one to two syncs and
    the number of syncs does not grow with the load)."""

    def __init__(self, folder: Path, *, sync: bool = True) -> None:
        """``sync=False``: a click is released once ``write`` has handed it to the kernel, which
        survives the process being killed but not the machine crashing (docs/tracking.md,
        MICROFLUENCE_CLICK_LOG_SYNC); the segment is synced when it is rotated."""
        folder.mkdir(parents=True, exist_ok=True, mode=0o700)
        self.folder = folder
        self.sync = sync
        for _ in range(5):
            self.owner = f"{os.getpid()}-{secrets.token_hex(6)}"
            lock = _open_lock(folder / f"{self.owner}.lock")
            if lock is not None:  # else another process's recovery looked at it first: retry
                break
        else:
            raise RuntimeError(f"cannot take a click log lock in {folder}")
        self._lock_fd = lock
        self._segment = _Segment(self)
        _sync_folder(folder)  # the segment's name survives a crash too
        self._waiting: list[Waiter] = []
        self._wakeup = threading.Condition()
        self._closing = False
        self._syncer = threading.Thread(target=self._sync_loop, name="click-log", daemon=True)
        if sync:
            self._syncer.start()

    def _write(self, record: dict[str, object], waiter: Waiter | None) -> None:
        line = orjson.dumps(record) + b"\n"
        with self._wakeup:
            if self._closing:
                raise JournalClosed("the click log is closed")
            self._segment.write(line)
            if waiter is not None:
                self._waiting.append(waiter)
                if len(self._waiting) == 1:  # the syncer sleeps only when nobody waits
                    self._wakeup.notify()

    def append(self, record: dict[str, object]) -> asyncio.Future[None]:
        """Write ``record`` from a coroutine; the future is done once it is on disk."""
        loop = asyncio.get_running_loop()
        done: asyncio.Future[None] = loop.create_future()
        if self.sync:
            self._write(record, Waiter(loop, done))
        else:
            self._write(record, None)
            done.set_result(None)
        return done

    def write_now(self, record: dict[str, object]) -> None:
        """Write ``record`` without waiting for the disk (what ``sync=False`` does)."""
        self._write(record, None)

    def append_sync(self, record: dict[str, object]) -> None:
        """Write ``record`` and wait until it is on disk (from a thread, a script, a test)."""
        event = threading.Event()
        failure: list[BaseException] = []

        def settle(error: BaseException | None) -> None:
            if error is not None:
                failure.append(error)
            event.set()

        if not self.sync:
            self._write(record, None)
            self._segment.sync()
            return
        self._write(record, Waiter(None, settle))
        event.wait()
        if failure:
            raise failure[0]

    def _sync_loop(self) -> None:
        while True:
            with self._wakeup:
                while not self._waiting and not self._closing:
                    self._wakeup.wait()
                batch, self._waiting = self._waiting, []
                if not batch and self._closing:
                    return
            try:
                self._segment.sync()  # covers every line written before it started
            except OSError as exc:
                _settle(batch, exc)
                continue
            _settle(batch, None)

    def rotate(self) -> list[Path]:
        """Close the current segment if it holds clicks and start a new one; returns every
        closed segment of this journal, ready to be moved into the store."""
        with self._wakeup:  # no line is written meanwhile
            self._segment.rotate()
            current = self._segment.path
        _sync_folder(self.folder)
        return [p for p in segments_of(self.folder, self.owner) if p != current]

    def close(self) -> list[Path]:
        """Stop taking clicks, sync what is written, close the segment; returns the segments
        left to move. The lock is released by :meth:`release` once they are moved."""
        with self._wakeup:
            self._closing = True
            self._wakeup.notify_all()
        if self.sync:
            self._syncer.join(timeout=30)
        self._segment.close()
        return segments_of(self.folder, self.owner)

    def release(self) -> None:
        """Give up the journal: its lock file is removed (its segments must be gone)."""
        if not segments_of(self.folder, self.owner):
            (self.folder / f"{self.owner}.lock").unlink(missing_ok=True)
        os.close(self._lock_fd)


@contextmanager
def orphan(folder: Path, owner: str) -> Iterator[list[Path] | None]:
    """The segments of the journal ``owner`` if its process is gone (its lock could be taken),
    else None; the lock is held meanwhile and removed when its segments are gone."""
    fd = _open_lock(folder / f"{owner}.lock")
    if fd is None:
        yield None
        return
    try:
        yield segments_of(folder, owner)
        if not segments_of(folder, owner):
            (folder / f"{owner}.lock").unlink(missing_ok=True)
    finally:
        os.close(fd)


def owners(folder: Path, *, besides: str) -> list[str]:
    """Owners of journals in ``folder`` other than ``besides`` (living or dead)."""
    found = {p.name.split(".", 1)[0] for p in folder.glob("*.lock")}
    found |= {p.name.split(".", 1)[0] for p in folder.glob("*.jsonl")}
    return sorted(found - {besides})


def read_segment(path: Path) -> bytes:
    """A segment's complete lines (a line cut short by a crash was never answered: dropped)."""
    data = path.read_bytes()
    end = data.rfind(b"\n")
    return data[: end + 1] if end >= 0 else b""
