"""Where uploads wait for their import job: a private folder per server process, inside one
directory that holds nothing else (``MICROFLUENCE_UPLOAD_DIR``; by default
``microfluence-uploads-UID`` in the system's temporary folder).

A process locks its folder (``flock`` on a lock file beside it) for as long as it lives. The
kernel drops the lock when the process ends, however it ends, so a folder whose lock can be
taken belongs to a server that crashed or was killed: a server removes such folders when it
starts. Uploads of live servers (tests run many at once) are never touched.
"""

from __future__ import annotations

import logging
import os
import secrets
import shutil
import stat
import tempfile
import time
import weakref
from pathlib import Path
from typing import IO

try:
    import fcntl
except ImportError:  # pragma: no cover - not POSIX: no locks, stale folders stay
    fcntl = None  # type: ignore[assignment]

log = logging.getLogger("microfluence.jobs")

LOCK_SUFFIX = ".lock"
# A lock file without a process id is one being set up right now (create, then lock, then
# write): left alone unless it is older than this.
SETUP_GRACE_SECONDS = 60


def default_upload_root() -> Path:
    uid = os.getuid() if hasattr(os, "getuid") else 0
    return Path(tempfile.gettempdir()) / f"microfluence-uploads-{uid}"


def _private_directory(path: Path) -> Path:
    """``path``, made if missing: a real directory (not a link) of this user, mode 700 — in a
    shared /tmp, another user must not be able to plant or read uploads."""
    path.mkdir(mode=0o700, parents=True, exist_ok=True)
    info = path.lstat()
    if not stat.S_ISDIR(info.st_mode):
        raise RuntimeError(f"{path} is not a directory")
    if hasattr(os, "getuid") and info.st_uid != os.getuid():
        raise RuntimeError(f"{path} belongs to another user: set MICROFLUENCE_UPLOAD_DIR")
    if stat.S_IMODE(info.st_mode) & 0o077:
        path.chmod(0o700)
    return path


def remove_stale(root: Path) -> int:
    """Remove the folders of server processes that ended; how many were removed."""
    if fcntl is None or not root.is_dir():
        return 0
    removed = 0
    for lock_path in root.glob(f"*{LOCK_SUFFIX}"):
        try:
            handle = lock_path.open("r+")
        except OSError:
            continue
        with handle:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError:
                continue  # a live server holds it
            young = time.time() - lock_path.stat().st_mtime < SETUP_GRACE_SECONDS
            if not handle.read().strip() and young:
                continue  # being set up by a server that has not locked it yet
            shutil.rmtree(lock_path.with_suffix(""), ignore_errors=True)
            lock_path.unlink(missing_ok=True)
            removed += 1
    return removed


def owner_alive(root: Path, name: str) -> bool:
    """Whether the process that made the upload folder ``name`` under ``root`` still lives: it
    holds the lock of ``name.lock`` for as long as it lives (the kernel drops it however the
    process ends). A job records its runner's name as its owner (``import_jobs.owner``), so a
    job whose owner is gone is known at once, with no lease to wait out and no heartbeat to
    write. Meaningful for processes sharing ``root`` on one machine."""
    if not name or "/" in name or name.startswith("."):
        return False
    return lock_alive(root / f"{name}{LOCK_SUFFIX}")


def lock_alive(lock_path: Path) -> bool:
    """Whether a process of this machine holds the lock file ``lock_path`` (a missing file: no
    process does — it is removed only when its process ended or was found dead)."""
    if fcntl is None:  # pragma: no cover - not POSIX: a lock file means alive
        return lock_path.exists()
    try:
        handle = lock_path.open("r")
    except OSError:
        return False
    with handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_SH | fcntl.LOCK_NB)
        except OSError:
            return True
        return False  # closing the handle releases the shared lock just taken


def queued_folder(root: Path | None) -> Path:
    """A fresh folder for an upload a worker process will import (a durable queue): under
    ``ROOT/queued``, which no process owns, so it outlives the app process that saved it and is
    removed by the job when it ends."""
    base = _private_directory(Path(root) if root else default_upload_root())
    queued = _private_directory(base / "queued")
    return Path(tempfile.mkdtemp(prefix="upload-", dir=queued))


class UploadArea:
    """This process's folder of uploads; ``close`` removes it."""

    def __init__(self, root: Path | None = None) -> None:
        self.root = _private_directory(Path(root) if root else default_upload_root())
        self.removed_stale = remove_stale(self.root)
        if self.removed_stale:
            log.info("removed the uploads of %d stopped server(s)", self.removed_stale)
        name = f"run-{os.getpid()}-{secrets.token_hex(6)}"
        lock_path = self.root / f"{name}{LOCK_SUFFIX}"
        self._lock: IO[str] = lock_path.open("x")
        if fcntl is not None:
            fcntl.flock(self._lock, fcntl.LOCK_EX)
        self._lock.write(f"{os.getpid()}\n")
        self._lock.flush()
        self.lock_path = lock_path
        self.name = name  # this process's name as a job owner (owner_alive)
        self.folder = self.root / name
        self.folder.mkdir(mode=0o700)
        # Also when the runner is dropped without a shutdown, or the interpreter exits.
        self._finalizer = weakref.finalize(self, _remove, self.folder, lock_path, self._lock)

    def new_folder(self) -> Path:
        """A fresh folder for one upload (removed with its job)."""
        return Path(tempfile.mkdtemp(prefix="upload-", dir=self.folder))

    def close(self) -> None:
        self._finalizer()


def _remove(folder: Path, lock_path: Path, lock: IO[str]) -> None:
    shutil.rmtree(folder, ignore_errors=True)
    lock_path.unlink(missing_ok=True)
    lock.close()  # releases the lock
