"""Benchmark: the REST API's creators list under load (issue 3).

    .venv/bin/python -m bench.api_load [--accounts 100000] [--requests 500] [--concurrency 8]

Builds a SQLite store with ``--accounts`` creators, one account each and two snapshots per
account (bulk SQL: ``executemany`` of plain INSERTs in one transaction), then serves the app with
uvicorn (``create_app`` factory, one process, as ``microfluence serve`` does) on 127.0.0.1 and
sends a bounded load with an httpx async client: ``--requests`` requests per scenario,
``--concurrency`` at a time. Scenarios are the creators list with its default sort (a page of 50),
filters (country + category, text search, a follower floor) and the sort by followers, which
sums each creator's accounts' latest followers (kept on the account rows since migration 0006;
the bulk-built store gets them from ``refresh_latest``, timed, as every write path does).

Baseline in the same run: the same load after dropping the indexes that migration 0002 adds for
these queries (covering ``(account_id, captured_at, followers)`` on snapshots,
``(workspace_id, name)`` on creators, ``(workspace_id, handle)`` on accounts).

Prints requests/s, p50 and p99 latency per scenario, and the server's peak RSS (VmHWM).
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import os
import socket
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
import numpy as np

ROOT = Path(__file__).resolve().parent.parent

COUNTRIES = ["FR", "DE", "IT", "ES", "GB", "US", "BR", "IN", "JP", "NL"]
CATEGORIES = ["beauty", "food", "travel", "fitness", "gaming", "fashion", "tech", "music"]
WORDS = ["vegan", "recipes", "lifting", "skincare", "retro", "hiking", "coffee", "makeup"]

SCENARIOS = {
    "default page (sort by name)": {},
    "country + category": {"country": "fr", "category": "food"},
    "text search (handle, name, bio)": {"q": "coffee lover 12"},
    "min_followers=50,000": {"min_followers": 50_000},
    "sort by followers, desc": {"sort": "-followers"},
}
INDEXES = {
    "ix_account_snapshots_account_latest": (
        "account_snapshots",
        "account_id, captured_at, followers",
    ),
    "ix_creators_workspace_name": ("creators", "workspace_id, name"),
    "ix_accounts_workspace_handle": ("accounts", "workspace_id, handle"),
}


def build_store(path: Path, accounts: int, seed: int = 3) -> str:
    """A migrated store with one workspace, ``accounts`` creators/accounts and an API key."""
    from microfluence.access.api_keys import create_api_key
    from microfluence.catalog.latest import refresh_latest
    from microfluence.kernel.store import open_store
    from microfluence.kernel.workspaces import ensure_workspace

    url = f"sqlite:///{path}"
    store = open_store(url)
    with store.transaction() as session:
        workspace = ensure_workspace(session, "bench")
        key = create_api_key(session, workspace=workspace, name="bench", role="viewer").secret
        ws = workspace.id
    store.dispose()
    rng = np.random.default_rng(seed)
    ids = np.arange(1, accounts + 1)
    country = rng.choice(COUNTRIES, accounts)
    category = rng.choice(CATEGORIES, accounts)
    followers = np.round(np.exp(rng.normal(9.5, 1.6, accounts))).astype(np.int64)
    words = rng.choice(WORDS, accounts)
    now = dt.datetime(2026, 11, 1).isoformat(sep=" ")
    before = dt.datetime(2026, 10, 1).isoformat(sep=" ")
    creators = [
        (int(i), ws, f"Creator {i}", str(c), str(k), "bench", now, now)
        for i, c, k in zip(ids, country, category, strict=True)
    ]
    account_rows = [
        (
            int(i),
            ws,
            int(i),
            "instagram",
            f"user{i}",
            f"User {i}",
            f"{w} lover {i}",
            str(c),
            str(k),
            "bench",
            now,
            now,
        )
        for i, c, k, w in zip(ids, country, category, words, strict=True)
    ]
    snapshots = []
    for i, f in zip(ids, followers, strict=True):
        snapshots.append((ws, int(i), before, int(f * 0.95), 300, 120, "bench"))
        snapshots.append((ws, int(i), now, int(f), 310, 125, "bench"))
    conn = sqlite3.connect(path)
    with conn:
        conn.executemany(
            "INSERT INTO creators (id, workspace_id, name, country, category, source, created_at,"
            " updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            creators,
        )
        conn.executemany(
            "INSERT INTO accounts (id, workspace_id, creator_id, platform, handle, display_name,"
            " bio, country, category, source, created_at, updated_at)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            account_rows,
        )
        conn.executemany(
            "INSERT INTO account_snapshots (workspace_id, account_id, captured_at, followers,"
            " following, posts_count, source) VALUES (?, ?, ?, ?, ?, ?, ?)",
            snapshots,
        )
    conn.close()
    # Rows inserted behind the store's back: copy each account's newest snapshot onto its row as
    # every write path does (migration 0006), timed: the cost of a refresh of every account.
    store = open_store(url)
    started = time.perf_counter()
    with store.transaction() as session:
        refresh_latest(session.connection(), ids.tolist())
    seconds = time.perf_counter() - started
    print(f"latest numbers of {accounts:,} accounts refreshed in {seconds:.2f} s")
    store.dispose()
    conn = sqlite3.connect(path)
    conn.execute("ANALYZE")
    conn.close()
    return key


def set_indexes(path: Path, present: bool) -> None:
    conn = sqlite3.connect(path)
    with conn:
        for name, (table, columns) in INDEXES.items():
            if present:
                conn.execute(f"CREATE INDEX IF NOT EXISTS {name} ON {table} ({columns})")
            else:
                conn.execute(f"DROP INDEX IF EXISTS {name}")
        conn.execute("ANALYZE")
    conn.close()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(url: str, port: int) -> subprocess.Popen[bytes]:
    env = {**os.environ, "MICROFLUENCE_DATABASE_URL": url}
    command = [
        sys.executable,
        "-m",
        "uvicorn",
        "--factory",
        "microfluence.web.app:create_app",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--log-level",
        "warning",
        "--no-access-log",
    ]
    proc = subprocess.Popen(command, env=env, cwd=ROOT)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            httpx.get(f"http://127.0.0.1:{port}/openapi.json", timeout=2)
            return proc
        except httpx.TransportError:
            if proc.poll() is not None:
                raise RuntimeError("the server did not start") from None
            time.sleep(0.2)
    proc.terminate()
    raise RuntimeError("the server did not start in 60 s")


def peak_rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


async def load(base: str, key: str, params: dict, requests: int, concurrency: int) -> dict:
    latencies: list[float] = []
    failures = 0
    counts: set[int] = set()
    queue: asyncio.Queue[int] = asyncio.Queue()
    for n in range(requests):
        queue.put_nowait(n)
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    headers = {"Authorization": f"Bearer {key}"}
    async with httpx.AsyncClient(base_url=base, headers=headers, limits=limits, timeout=60) as c:

        async def worker() -> None:
            nonlocal failures
            while True:
                try:
                    queue.get_nowait()
                except asyncio.QueueEmpty:
                    return
                started = time.perf_counter()
                response = await c.get("/api/v1/creators", params={**params, "limit": 50})
                latencies.append(time.perf_counter() - started)
                if response.status_code != 200:
                    failures += 1
                else:
                    counts.add(response.json()["count"])

        await c.get("/api/v1/creators", params=params)  # warm caches
        started = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        elapsed = time.perf_counter() - started
    latencies.sort()
    return {
        "rps": requests / elapsed,
        "p50": statistics.median(latencies) * 1000,
        "p99": latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))] * 1000,
        "failures": failures,
        "matches": sorted(counts),
    }


def run_all(base: str, key: str, requests: int, concurrency: int) -> dict[str, dict]:
    results = {}
    for name, params in SCENARIOS.items():
        results[name] = asyncio.run(load(base, key, params, requests, concurrency))
        r = results[name]
        print(
            f"  {name:<34} {r['rps']:>8.1f} req/s  p50 {r['p50']:>7.1f} ms  "
            f"p99 {r['p99']:>7.1f} ms  matches {r['matches']}  failures {r['failures']}",
            flush=True,
        )
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--accounts", type=int, default=100_000)
    parser.add_argument("--requests", type=int, default=500)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--baseline-requests", type=int, default=100)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "bench.sqlite"
        started = time.perf_counter()
        key = build_store(path, args.accounts)
        print(
            f"store: {args.accounts:,} creators and accounts, {2 * args.accounts:,} snapshots "
            f"in {time.perf_counter() - started:.1f} s; load average {os.getloadavg()[0]:.1f}",
            flush=True,
        )
        url = f"sqlite:///{path}"
        for label, indexed, requests in (
            ("with the indexes of migration 0002", True, args.requests),
            ("baseline: without them", False, args.baseline_requests),
        ):
            set_indexes(path, indexed)
            port = free_port()
            server = start_server(url, port)
            try:
                print(
                    f"{label} ({requests} requests per scenario, {args.concurrency} at a time):",
                    flush=True,
                )
                run_all(f"http://127.0.0.1:{port}", key, requests, args.concurrency)
                print(f"  server peak RSS {peak_rss_mib(server.pid):.0f} MiB", flush=True)
            finally:
                server.terminate()
                server.wait(timeout=30)
        print(f"load average at the end {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
