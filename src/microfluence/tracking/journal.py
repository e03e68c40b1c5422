"""The durable click log: clicks are on disk before their redirect is answered.

Each app process owns a journal in the store's click log folder (docs/tracking.md, "The click
log"): a lock file ``OWNER.lock`` it holds with ``flock`` for as long as it lives, and segment
files ``OWNER.NNNNNN-LANE.jsonl`` of one JSON line per click. A free writer thread (a lane) takes
every click that arrived since the last write, appends them in one ``write``, ``fsync``s once
and only then releases their requests (group commit: the cost of the sync is shared by the
clicks that wait for it; the lanes' syncs overlap). :meth:`Journal.rotate` closes the current
segments so that they can be moved into the store and deleted; a process that died leaves its
lock free, and :func:`orphan` hands its segments to whoever takes the lock.
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


class _Lane:
    """One writer thread's segment file."""

    def __init__(self, journal: Journal, number: int) -> None:
        self.journal = journal
        self.number = number
        self.lock = threading.Lock()
        self.seq = 0
        self.written = 0
        self.fd = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)

    @property
    def path(self) -> Path:
        return self.journal.folder / f"{self.journal.owner}.{self.seq:06d}-{self.number}.jsonl"

    def write(self, data: bytes) -> None:
        with self.lock:
            view = memoryview(data)
            while view:
                view = view[os.write(self.fd, view) :]
            if self.journal.sync:
                os.fsync(self.fd)
            self.written += len(data)

    def rotate(self) -> None:
        with self.lock:
            if self.written:
                os.close(self.fd)
                self.seq += 1
                self.fd = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
                self.written = 0

    def close(self) -> None:
        with self.lock:
            os.close(self.fd)
            self.written = 0


class Journal:
    """This process's click log; :meth:`append` is safe from any thread.

    ``lanes`` writer threads share the queue, each with its own segment file: while one waits
    for its ``fsync``, the next takes the clicks that arrived meanwhile, so a click waits for
    about one sync whatever the load (syncs of different files proceed in parallel)."""

    def __init__(self, folder: Path, lanes: int = 4, *, sync: bool = True) -> None:
        """``sync=False``: a click is released once ``write`` has handed it to the kernel, which
        survives the process being killed but not the machine crashing (docs/tracking.md,
        MICROFLUENCE_CLICK_LOG_SYNC); one lane is enough then."""
        folder.mkdir(parents=True, exist_ok=True, mode=0o700)
        self.folder = folder
        self.sync = sync
        lanes = lanes if sync else 1
        for _ in range(5):
            self.owner = f"{os.getpid()}-{secrets.token_hex(6)}"
            lock = _open_lock(folder / f"{self.owner}.lock")
            if lock is not None:  # else another process's recovery looked at it first: retry
                break
        else:
            raise RuntimeError(f"cannot take a click log lock in {folder}")
        self._lock_fd = lock
        self._lanes = [_Lane(self, n) for n in range(lanes)]
        _sync_folder(folder)  # the segments' names survive a crash too
        self._pending: list[tuple[bytes, Waiter]] = []
        self._wakeup = threading.Condition()
        self._closing = False
        self._signalled = False
        self._writers = [
            threading.Thread(target=self._write_loop, args=(lane,), name="click-log", daemon=True)
            for lane in self._lanes
        ]
        for writer in self._writers:
            writer.start()

    def append(self, record: dict[str, object]) -> asyncio.Future[None]:
        """Queue ``record`` from a coroutine; the future is done once it is on disk."""
        loop = asyncio.get_running_loop()
        done: asyncio.Future[None] = loop.create_future()
        self._queue(record, Waiter(loop, done))
        return done

    def write_now(self, record: dict[str, object]) -> None:
        """Write ``record`` from the calling thread, without waiting for the disk (``sync=False``:
        one small ``write`` to the page cache is cheaper than handing it to a writer thread)."""
        if self._closing:
            raise JournalClosed("the click log is closed")
        self._lanes[0].write(orjson.dumps(record) + b"\n")

    def append_sync(self, record: dict[str, object]) -> None:
        """Queue ``record`` and wait until it is on disk (from a thread, a script, a test)."""
        event = threading.Event()
        failure: list[BaseException] = []

        def settle(error: BaseException | None) -> None:
            if error is not None:
                failure.append(error)
            event.set()

        self._queue(record, Waiter(None, settle))
        event.wait()
        if failure:
            raise failure[0]

    def _queue(self, record: dict[str, object], waiter: Waiter) -> None:
        line = orjson.dumps(record) + b"\n"
        with self._wakeup:
            if self._closing:
                raise JournalClosed("the click log is closed")
            self._pending.append((line, waiter))
            if not self._signalled:  # one lane is woken per batch, not one per click
                self._signalled = True
                self._wakeup.notify()

    def _write_loop(self, lane: _Lane) -> None:
        while True:
            with self._wakeup:
                while not self._pending and not self._closing:
                    self._wakeup.wait()
                batch, self._pending = self._pending, []
                self._signalled = False
                if not batch and self._closing:
                    return
            waiters = [waiter for _, waiter in batch]
            try:
                lane.write(b"".join(line for line, _ in batch))
            except OSError as exc:
                _settle(waiters, exc)
                continue
            _settle(waiters, None)

    def rotate(self) -> list[Path]:
        """Close the current segments that hold clicks and start new ones; returns every
        closed segment of this journal, ready to be moved into the store."""
        current = set()
        for lane in self._lanes:
            if not self.sync and lane.written:
                with lane.lock:
                    os.fsync(lane.fd)  # unsynced clicks reach the disk at least this often
            lane.rotate()
            current.add(lane.path)
        _sync_folder(self.folder)
        return [p for p in segments_of(self.folder, self.owner) if p not in current]

    def close(self) -> list[Path]:
        """Stop taking clicks, write what is queued, close the segments; returns the segments
        left to move. The lock is released by :meth:`release` once they are moved."""
        with self._wakeup:
            self._closing = True
            self._wakeup.notify_all()
        for writer in self._writers:
            writer.join(timeout=30)
        for lane in self._lanes:
            lane.close()
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
