"""The durable click log: clicks are on disk before their redirect is answered.

Each app process owns a journal in the store's click log folder (docs/tracking.md, "The click
log"): a lock file ``OWNER.lock`` it holds with ``flock`` for as long as it lives, and segment
files ``OWNER.NNNNNN.jsonl`` of one JSON line per click. Each request writes its click itself;
one ``fsync`` at the end of the event loop's turn covers every click written in that turn and
only then releases their requests (group commit: the cost of a sync is shared by the clicks
that wait for it). :meth:`Journal.rotate` closes the current segment so that it can be moved
into the store and deleted; a process that died leaves its lock free, and :func:`orphan` hands
its segments to whoever takes the lock.
"""

from __future__ import annotations

import asyncio
import fcntl
import os
import secrets
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import orjson


class JournalClosed(RuntimeError):
    """The journal no longer takes clicks (the process is shutting down)."""


def _resolve(futures: list[asyncio.Future[None]], error: BaseException | None) -> None:
    for future in futures:
        if future.done():  # its request was cancelled (the client went away)
            continue
        if error is None:
            future.set_result(None)
        else:
            future.set_exception(error)


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
    """This process's click log; its methods are safe from any thread.

    A click is written to the segment by the request itself (one small ``write`` to the page
    cache). With ``sync``, the first click written in a turn of the event loop schedules one
    ``fsync`` at the end of that turn, and every click written in the turn waits for it (group
    commit inside the event loop: no thread to wake, and the requests of a busy moment share
    one sync)."""

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
        self._lock = threading.Lock()
        self._closing = False
        # Per event loop: the futures of the clicks written in its current turn.
        self._turns: dict[asyncio.AbstractEventLoop, list[asyncio.Future[None]]] = {}

    def _write(self, record: dict[str, object]) -> None:
        line = orjson.dumps(record) + b"\n"
        with self._lock:
            if self._closing:
                raise JournalClosed("the click log is closed")
            self._segment.write(line)

    def append(self, record: dict[str, object]) -> asyncio.Future[None]:
        """Write ``record`` from a coroutine; the future is done once it is on disk."""
        loop = asyncio.get_running_loop()
        done: asyncio.Future[None] = loop.create_future()
        self._write(record)
        if not self.sync:
            done.set_result(None)
            return done
        turn = self._turns.get(loop)
        if turn is None:
            turn = self._turns[loop] = []
            loop.call_soon(self._sync_turn, loop)
        turn.append(done)
        return done

    def _sync_turn(self, loop: asyncio.AbstractEventLoop) -> None:
        futures = self._turns.pop(loop, [])
        try:
            self._segment.sync()  # covers every line written before it
        except OSError as exc:
            _resolve(futures, exc)
            return
        _resolve(futures, None)

    def write_now(self, record: dict[str, object]) -> None:
        """Write ``record`` without waiting for the disk (what ``sync=False`` does)."""
        self._write(record)

    def append_sync(self, record: dict[str, object]) -> None:
        """Write ``record`` and sync it before returning (from a thread, a script, a test)."""
        self._write(record)
        self._segment.sync()

    def rotate(self) -> list[Path]:
        """Close the current segment if it holds clicks (synced first) and start a new one;
        returns every closed segment of this journal, ready to be moved into the store."""
        with self._lock:  # no line is written meanwhile
            self._segment.rotate()
            current = self._segment.path
        _sync_folder(self.folder)
        return [p for p in segments_of(self.folder, self.owner) if p != current]

    def close(self) -> list[Path]:
        """Stop taking clicks, sync what is written, close the segment; returns the segments
        left to move. The lock is released by :meth:`release` once they are moved."""
        with self._lock:
            self._closing = True
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
