"""A real PostgreSQL server for the tests, started on 127.0.0.1 in a temporary data directory.

Debian's binaries are used (installed by `make test` when missing). PostgreSQL refuses to run as
root, so when the tests run as root the server runs as the unprivileged ``postgres`` user (or
``nobody``) that owns the temporary directory.

Every store test gets its own database, copied from a migrated template and dropped when the
test ends. The data directory is in memory (/dev/shm) when there is room: a run creates some
seven hundred databases of about 16 MB each, and on disk their copies, and removing the ones
that were left at the end of a worker's session (up to minutes on a busy disk), cost more than
the tests that used them.
"""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path

import sqlalchemy as sa

# In memory when /dev/shm has this much room (a container's default of 64 MB has not): the
# template, the few databases alive at once and the write-ahead log fit well within it.
MEMORY_DIR = Path("/dev/shm")
MEMORY_NEEDED = 2 << 30


def _data_parent() -> str | None:
    """Where the data directory goes: /dev/shm when it is there, writable and roomy enough;
    else (None) the system's temporary directory."""
    try:
        roomy = shutil.disk_usage(MEMORY_DIR).free >= MEMORY_NEEDED
    except OSError:
        return None
    return str(MEMORY_DIR) if roomy and os.access(MEMORY_DIR, os.W_OK) else None


def _bin(name: str) -> str:
    candidates = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"), reverse=True)
    found = candidates[0] if candidates else shutil.which(name)
    if not found:
        raise RuntimeError(f"PostgreSQL's {name} not found: run `make test` to install it")
    return found


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class PostgresServer:
    """``root``: a data directory kept between runs (a benchmark's loaded store, bench/search.py
    ``--pg-data``): initialised on the first start only, and left in place by ``stop``; without
    it, a new temporary one, removed by ``stop``. ``settings``: server settings on top of the
    tests' (a benchmark's shared buffers)."""

    def __init__(self, root: Path | None = None, settings: dict[str, str] | None = None) -> None:
        self.kept = root is not None
        self.settings = settings or {}  # more server settings (-c name=value), a benchmark's
        if root is None:
            root = Path(tempfile.mkdtemp(prefix="microfluence-pg-", dir=_data_parent()))
        else:
            root.mkdir(parents=True, exist_ok=True)
        self.root = root
        self.data = self.root / "data"
        self.port = _free_port()
        self.user = "microfluence"
        self._run_as: str | None = None
        self._admin: sa.Engine | None = None
        self._version_num: int | None = None
        if os.geteuid() == 0:
            self._run_as = "postgres" if _user_exists("postgres") else "nobody"
            pw = pwd.getpwnam(self._run_as)
            os.chown(self.root, pw.pw_uid, pw.pw_gid)
        os.chmod(self.root, 0o700)

    def _cmd(self, *args: str) -> list[str]:
        if self._run_as:
            return ["runuser", "-u", self._run_as, "--", *args]
        return list(args)

    def initialised(self) -> bool:
        return (self.data / "PG_VERSION").exists()

    def start(self) -> None:
        if not self.initialised():
            self._initdb()
        self._start()

    def _initdb(self) -> None:
        subprocess.run(
            self._cmd(
                _bin("initdb"),
                "-D",
                str(self.data),
                "-U",
                self.user,
                "--auth=trust",
                "--encoding=UTF8",
                "--locale=C",
                "--no-sync",
            ),
            check=True,
            capture_output=True,
        )

    def _start(self) -> None:
        opts = (
            f"-h 127.0.0.1 -p {self.port} -k {self.root} -c fsync=off "
            "-c synchronous_commit=off -c full_page_writes=off -c max_connections=200 "
            # No replicas: tables created and filled in one transaction skip the log.
            "-c wal_level=minimal -c max_wal_senders=0"
        ) + "".join(f" -c {name}={value}" for name, value in self.settings.items())
        subprocess.run(
            self._cmd(
                _bin("pg_ctl"),
                "-D",
                str(self.data),
                "-o",
                opts,
                "-l",
                str(self.root / "log"),
                "-w",
                "-t",
                "60",
                "start",
            ),
            check=True,
            capture_output=True,
        )
        deadline = time.time() + 30
        while time.time() < deadline:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
                return
            except OSError:
                time.sleep(0.1)
        raise RuntimeError("PostgreSQL did not start; see " + str(self.root / "log"))

    def url(self, database: str = "postgres") -> str:
        return f"postgresql+psycopg://{self.user}@127.0.0.1:{self.port}/{database}"

    def _connect(self) -> sa.Connection:
        if self._admin is None:
            self._admin = sa.create_engine(self.url(), isolation_level="AUTOCOMMIT")
        return self._admin.connect()

    def _execute(self, statement: str) -> None:
        with self._connect() as conn:
            conn.execute(sa.text(statement))

    def _version(self) -> int:
        if self._version_num is None:
            with self._connect() as conn:
                self._version_num = int(conn.execute(sa.text("SHOW server_version_num")).scalar())
        return self._version_num

    def create_database(self, name: str, template: str = "template0") -> None:
        """A new database copied from ``template``, file by file: for a small template that is
        several times faster than the default, which writes every page to the log (PostgreSQL
        15 and later; before 15 file by file was the only way)."""
        strategy = " STRATEGY FILE_COPY" if self._version() >= 150000 else ""
        self._execute(f'CREATE DATABASE "{name}" TEMPLATE "{template}"{strategy}')

    def drop_database(self, name: str) -> None:
        """Drop ``name``, closing what is still connected to it (an app's pool, a worker)."""
        self._execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    def stop(self) -> None:
        if self._admin is not None:
            self._admin.dispose()
        mode = "fast" if self.kept else "immediate"
        subprocess.run(
            # a kept data directory is shut down cleanly (a checkpoint): an immediate stop
            # leaves crash recovery to the next start, which a benchmark's store should not need
            self._cmd(_bin("pg_ctl"), "-D", str(self.data), "-m", mode, "stop"),
            capture_output=True,
        )
        if not self.kept:
            shutil.rmtree(self.root, ignore_errors=True)


def _user_exists(name: str) -> bool:
    try:
        pwd.getpwnam(name)
        return True
    except KeyError:
        return False
