"""The durable click log: clicks are on disk before their redirect is answered.

Each app process owns a journal in the store's click log folder (docs/tracking.md, "The click
log"): a lock file ``OWNER.lock`` it holds with ``flock`` for as long as it lives, and segment
files ``OWNER.NNNNNN.jsonl`` of one JSON line per click. A writer thread takes every click that
arrived since its last write, appends them in one ``write``, ``fsync``s once and only then
releases their requests (group commit: the cost of the sync is shared by the clicks that wait
for it, so it does not grow with the load). :meth:`Journal.rotate` closes the current segment
so that it can be moved into the store and deleted; a process that died leaves its lock free,
and :func:`orphans` hands its segments to whoever takes the lock.
"""

from __future__ import annotations

import fcntl
import os
import secrets
import threading
from collections.abc import Iterator
from concurrent.futures import Future
from contextlib import contextmanager
from pathlib import Path

import orjson


class JournalClosed(RuntimeError):
    """The journal no longer takes clicks (the process is shutting down)."""


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


class Journal:
    """This process's click log; :meth:`append` is safe from any thread."""

    def __init__(self, folder: Path) -> None:
        folder.mkdir(parents=True, exist_ok=True, mode=0o700)
        self.folder = folder
        for _ in range(5):
            self.owner = f"{os.getpid()}-{secrets.token_hex(6)}"
            lock = _open_lock(folder / f"{self.owner}.lock")
            if lock is not None:  # else another process's recovery looked at it first: retry
                break
        else:
            raise RuntimeError(f"cannot take a click log lock in {folder}")
        self._lock_fd = lock
        self._file_lock = threading.Lock()
        self._seq = 0
        self._fd = self._open_segment()
        self._written = 0
        self._pending: list[tuple[bytes, Future[None]]] = []
        self._wakeup = threading.Condition()
        self._closing = False
        self._writer = threading.Thread(target=self._write_loop, name="click-journal", daemon=True)
        self._writer.start()

    def _open_segment(self) -> int:
        path = self.folder / f"{self.owner}.{self._seq:06d}.jsonl"
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        _sync_folder(self.folder)  # the new name survives a crash too
        return fd

    def append(self, record: dict[str, object]) -> Future[None]:
        """Queue ``record``; the future is done once it is written and synced to disk."""
        done: Future[None] = Future()
        line = orjson.dumps(record) + b"\n"
        with self._wakeup:
            if self._closing:
                raise JournalClosed("the click log is closed")
            self._pending.append((line, done))
            self._wakeup.notify()
        return done

    def _write_loop(self) -> None:
        while True:
            with self._wakeup:
                while not self._pending and not self._closing:
                    self._wakeup.wait()
                batch, self._pending = self._pending, []
                if not batch and self._closing:
                    return
            try:
                with self._file_lock:
                    data = b"".join(line for line, _ in batch)
                    view = memoryview(data)
                    while view:
                        view = view[os.write(self._fd, view) :]
                    os.fsync(self._fd)
                    self._written += len(data)
            except OSError as exc:
                for _, done in batch:
                    done.set_exception(exc)
                continue
            for _, done in batch:
                done.set_result(None)

    def rotate(self) -> list[Path]:
        """Close the current segment if it holds clicks and start a new one; returns every
        closed segment of this journal (oldest first), ready to be moved into the store."""
        with self._file_lock:
            if self._written:
                os.close(self._fd)
                self._seq += 1
                self._fd = self._open_segment()
                self._written = 0
            current = self.folder / f"{self.owner}.{self._seq:06d}.jsonl"
        return [p for p in segments_of(self.folder, self.owner) if p != current]

    def close(self) -> list[Path]:
        """Stop taking clicks, write what is queued, close the segment; returns the segments
        left to move. The lock is released by :meth:`release` once they are moved."""
        with self._wakeup:
            self._closing = True
            self._wakeup.notify()
        self._writer.join(timeout=30)
        with self._file_lock:
            os.close(self._fd)
            self._written = 0
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
