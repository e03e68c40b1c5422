"""The load test of /r/{slug} (issue 12): 2,000 redirects from 8 concurrent clients against a
real uvicorn process on 127.0.0.1, SIGKILLed once (after 30 % of them were answered) and
restarted; afterwards every redirect that was answered (a 302 received, its token read from the
Location) is in link_clicks exactly once. Bounded in count (2,000 requests) and time (120 s)."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import parse_qsl, urlsplit

import httpx
import pytest
from sqlalchemy import func, select

from api_support import free_port, make_tenant
from microfluence.kernel.store import Store
from microfluence.tracking import links
from microfluence.tracking.tables import LinkClick

pytestmark = pytest.mark.slow

SRC = Path(__file__).resolve().parents[1] / "src"
REQUESTS = 2000
CLIENTS = 8
KILL_AT = 0.3  # the share of the requests answered before the SIGKILL
CHROME = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0"


def start(
    store_url: str, log_dir: Path, move_seconds: str, sync: str
) -> tuple[subprocess.Popen, str]:
    port = free_port()
    env = {
        **os.environ,
        "MICROFLUENCE_DATABASE_URL": store_url,
        "MICROFLUENCE_CLICK_LOG_DIR": str(log_dir),
        "MICROFLUENCE_CLICK_MOVE_SECONDS": move_seconds,
        "MICROFLUENCE_CLICK_LOG_SYNC": sync,
        "PYTHONPATH": os.pathsep.join([str(SRC), os.environ.get("PYTHONPATH", "")]),
    }
    command = [sys.executable, "-m", "uvicorn", "--factory", "microfluence.web.app:create_app"]
    command += ["--host", "127.0.0.1", "--port", str(port), "--log-level", "warning"]
    command += ["--no-access-log"]
    process = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while True:
        assert process.poll() is None, f"the server exited with {process.returncode}"
        try:
            httpx.get(base + "/r/aaaa", timeout=2)
            return process, base
        except httpx.TransportError:
            assert time.monotonic() < deadline, "the server did not start"
            time.sleep(0.1)


class Run:
    def __init__(self, slug: str, first: str, requests: int) -> None:
        self.slug = slug
        self.base = first
        self.left = requests
        self.answered: list[str] = []
        self.failed = 0
        self.back = asyncio.Event()
        self.killed = False

    async def client(self, deadline: float) -> None:
        async with httpx.AsyncClient(timeout=10, headers={"User-Agent": CHROME}) as http:
            while self.left > 0 and time.monotonic() < deadline:
                self.left -= 1
                if self.killed and not self.back.is_set():
                    await asyncio.wait_for(self.back.wait(), deadline - time.monotonic())
                try:
                    answer = await http.get(f"{self.base}/r/{self.slug}")
                except httpx.TransportError:
                    self.failed += 1  # killed under it: not answered, so not owed
                    continue
                assert answer.status_code == 302, answer.text
                query = dict(parse_qsl(urlsplit(answer.headers["location"]).query))
                self.answered.append(query["mf_click"])


async def _drive(run: Run, restart, kill_after: int) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + 120
    clients = [asyncio.create_task(run.client(deadline)) for _ in range(CLIENTS)]
    while len(run.answered) < kill_after:
        await asyncio.sleep(0.005)
    run.killed = True
    run.base = await asyncio.to_thread(restart)
    run.back.set()
    await asyncio.gather(*clients)


def test_every_answered_redirect_is_stored_once_across_a_sigkill(
    store: Store, store_url: str, tmp_path: Path
) -> None:
    _sigkill_run(store, store_url, tmp_path, "always", REQUESTS)


def test_the_same_with_the_log_written_but_not_synced(sqlite_store: Store, tmp_path: Path) -> None:
    """sync=write: a click is in the kernel's hands before its answer, which a killed process
    cannot take back (only a machine crash could)."""
    _sigkill_run(sqlite_store, sqlite_store.url, tmp_path, "write", REQUESTS // 4)


def _sigkill_run(store: Store, store_url: str, tmp_path: Path, sync: str, requests: int) -> None:
    tenant = make_tenant(store, "brand-load", prefix="load")
    with store.transaction() as session:
        link = links.create_link(
            session,
            tenant.workspace_id,
            links.LinkCreate(creator="instagram:load_ana", url="https://shop.example/?a=1#top"),
        )
    log_dir = tmp_path / "clicks"
    # The first server never moves its clicks (every 60 s): all of them reach the store by the
    # replay of its log after the kill.
    first, base = start(store_url, log_dir, "60", sync)
    servers = [first]

    def restart() -> str:
        first.send_signal(signal.SIGKILL)
        first.wait(timeout=20)
        second, second_base = start(store_url, log_dir, "0.2", sync)
        servers.append(second)
        return second_base

    run = Run(link.slug, base, requests)
    try:
        asyncio.run(_drive(run, restart, int(requests * KILL_AT)))
    finally:
        for server in servers[1:]:
            server.terminate()  # a clean stop moves what is left
            server.wait(timeout=30)
    assert run.left <= 0, "the run did not finish in time"
    assert len(run.answered) + run.failed == requests
    assert len(run.answered) >= requests - 100  # the kill cost a few requests, no more
    with store.transaction() as session:
        tokens = list(session.scalars(select(LinkClick.token).where(LinkClick.link_id == link.id)))
        per_token = session.scalar(select(func.count(func.distinct(LinkClick.token))))
    answered = set(run.answered)
    assert len(answered) == len(run.answered)  # every token is new
    assert answered <= set(tokens)  # every answered redirect is stored …
    assert len(tokens) == per_token  # … once
    # at most the requests the killed server had logged but not answered are extra
    assert len(tokens) - len(answered) <= run.failed
    assert not list(log_dir.glob("*.jsonl"))  # the log is empty once everything is moved


def _children(pid: int) -> list[int]:
    path = Path(f"/proc/{pid}/task/{pid}/children")
    return [int(p) for p in path.read_text().split()] if path.exists() else []


def test_serve_workers_a_killed_worker_loses_no_click(sqlite_store: Store, tmp_path: Path) -> None:
    """`serve --workers 2`: each worker has its own journal in the shared folder; one worker is
    SIGKILLed mid-run (uvicorn starts another); its clicks are moved by the others."""
    tenant = make_tenant(sqlite_store, "brand-workers", prefix="wk")
    with sqlite_store.transaction() as session:
        link = links.create_link(
            session,
            tenant.workspace_id,
            links.LinkCreate(creator="instagram:wk_ana", url="https://shop.example/"),
        )
    log_dir = tmp_path / "clicks"
    port = free_port()
    env = {
        **os.environ,
        "MICROFLUENCE_CLICK_LOG_DIR": str(log_dir),
        "MICROFLUENCE_CLICK_MOVE_SECONDS": "0.5",
        "PYTHONPATH": os.pathsep.join([str(SRC), os.environ.get("PYTHONPATH", "")]),
    }
    command = [sys.executable, "-m", "microfluence", "serve", "--workers", "2"]
    command += ["--port", str(port), "--database-url", sqlite_store.url]
    server = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    answered: list[str] = []
    try:
        deadline = time.monotonic() + 60
        while len(list(log_dir.glob("*.lock"))) < 2 or len(_children(server.pid)) < 2:
            assert server.poll() is None and time.monotonic() < deadline, "no 2 workers"
            time.sleep(0.2)
        with httpx.Client(timeout=10, headers={"User-Agent": CHROME}) as http:
            for n in range(300):
                if n == 150:
                    os.kill(_children(server.pid)[0], signal.SIGKILL)
                try:
                    answer = http.get(f"{base}/r/{link.slug}")
                except httpx.TransportError:
                    continue
                assert answer.status_code == 302
                answered.append(
                    dict(parse_qsl(urlsplit(answer.headers["location"]).query))["mf_click"]
                )
        # the killed worker's journal is moved by a live one (its lock file goes last)
        deadline = time.monotonic() + 60
        while True:
            with sqlite_store.transaction() as session:
                stored = set(session.scalars(select(LinkClick.token)))
            pending = [p for p in log_dir.glob("*.jsonl") if p.stat().st_size]
            if len(list(log_dir.glob("*.lock"))) <= 2 and stored >= set(answered[:150]):
                break
            assert time.monotonic() < deadline, f"not recovered; {len(pending)} segments left"
            time.sleep(0.3)
    finally:
        server.send_signal(signal.SIGINT)  # a clean stop: each worker moves what it has
        server.wait(timeout=60)
    with sqlite_store.transaction() as session:
        tokens = list(session.scalars(select(LinkClick.token)))
    assert len(answered) >= 280
    assert set(answered) <= set(tokens) and len(tokens) == len(set(tokens))
