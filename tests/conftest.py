"""Shared fixtures. Every test that touches the store runs on SQLite *and* on PostgreSQL."""

from __future__ import annotations

import itertools
import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from argon2 import PasswordHasher

from microfluence.access import passwords
from microfluence.kernel.store import Store, migrations, open_store
from microfluence.kernel.store.engine import make_engine
from pg_server import PostgresServer

STORE_KINDS = ("sqlite", "postgresql")
_counter = itertools.count()


def pytest_configure(config: pytest.Config) -> None:
    """One secrets key file for the run (kernel.vault), shared by every server and worker the
    tests start, never the user's own."""
    # The app freezes what its start-up made (kernel.heap). This process makes hundreds of
    # apps, whose cycles would then stay for the whole run; the servers the tests start
    # inherit the setting. tests/test_heap.py runs an app with it on.
    os.environ.setdefault("MICROFLUENCE_FREEZE_HEAP", "false")
    if "MICROFLUENCE_SECRETS_KEY_FILE" not in os.environ:
        keys = Path(tempfile.mkdtemp(prefix="microfluence-test-keys-"))
        os.environ["MICROFLUENCE_SECRETS_KEY_FILE"] = str(keys / "secrets.key")


@pytest.fixture(scope="session", autouse=True)
def cheap_password_hashing() -> Iterator[PasswordHasher]:
    """argon2id with small costs in this process, for the whole run: the tests create users and
    sign in hundreds of times on a shared 2-core machine (0.2–0.4 s a hash at the real costs).
    Yields the real hasher; ``real_password_hashing`` puts it back for a test."""
    real = passwords._hasher
    passwords._hasher = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
    yield real
    passwords._hasher = real


@pytest.fixture
def real_password_hashing(
    cheap_password_hashing: PasswordHasher, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The hasher the product runs with, for a test of its costs."""
    monkeypatch.setattr(passwords, "_hasher", cheap_password_hashing)


@pytest.fixture(scope="session")
def pg_server() -> Iterator[PostgresServer]:
    server = PostgresServer()
    server.start()
    server.create_database("template_microfluence")
    template = make_engine(server.url("template_microfluence"))
    migrations.upgrade(template)
    template.dispose()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("sqlite-template") / "template.sqlite"
    engine = make_engine(f"sqlite:///{path}")
    migrations.upgrade(engine)
    with engine.connect() as conn:
        conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    engine.dispose()
    return path


def _new_store_url(kind: str, request: pytest.FixtureRequest, tmp_path: Path) -> str:
    request.node.user_properties.append(("store", kind))
    if kind == "sqlite":
        template: Path = request.getfixturevalue("sqlite_template")
        path = tmp_path / "store.sqlite"
        shutil.copyfile(template, path)
        return f"sqlite:///{path}"
    server: PostgresServer = request.getfixturevalue("pg_server")
    name = f"t{next(_counter)}_{abs(hash(request.node.nodeid)) % 10**8}"
    server.create_database(name, template="template_microfluence")
    # Dropped when the test ends, after the fixtures that use it (the store, an app's server):
    # a worker's session otherwise ends with hundreds of databases to remove.
    request.addfinalizer(lambda: server.drop_database(name))
    return server.url(name)


@pytest.fixture(params=STORE_KINDS)
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """URL of a fresh, migrated, empty store: SQLite, then PostgreSQL."""
    return _new_store_url(request.param, request, tmp_path)


@pytest.fixture
def store(store_url: str) -> Iterator[Store]:
    """A fresh, migrated, empty store: SQLite, then PostgreSQL."""
    opened = open_store(store_url)
    yield opened
    opened.dispose()


@pytest.fixture
def sqlite_store(tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[Store]:
    """A fresh SQLite store, for tests where the backend does not matter."""
    opened = open_store(_new_store_url("sqlite", request, tmp_path))
    yield opened
    opened.dispose()


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        fixtures = getattr(item, "fixturenames", ())
        if "store_url" in fixtures or "sqlite_store" in fixtures:
            item.add_marker(pytest.mark.store)


def pytest_terminal_summary(terminalreporter, exitstatus, config) -> None:  # type: ignore[no-untyped-def]
    counts = {kind: {"passed": 0, "failed": 0, "skipped": 0} for kind in STORE_KINDS}
    for outcome in ("passed", "failed", "skipped", "error"):
        for report in terminalreporter.stats.get(outcome, []):
            if getattr(report, "when", "call") not in ("call", "setup"):
                continue
            if outcome == "passed" and report.when != "call":
                continue
            kind = dict(getattr(report, "user_properties", ())).get("store")
            if kind in counts:
                key = "failed" if outcome == "error" else outcome
                counts[kind][key] += 1
    if any(sum(c.values()) for c in counts.values()):
        terminalreporter.section("store tests")
        for kind, c in counts.items():
            terminalreporter.write_line(
                f"{kind:>10}: {c['passed']} passed, {c['failed']} failed, {c['skipped']} skipped"
            )
