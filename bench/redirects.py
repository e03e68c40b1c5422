"""Benchmark: short-link redirects, ``GET /r/{slug}`` (issue 12).

    .venv/bin/python -m bench.redirects [--requests 4000] [--concurrency 8] [--rounds 2]

Serves, one after the other and the same way (uvicorn, one process, on 127.0.0.1, access log
off), the microfluence app over a SQLite store on disk with one link — with the click log's
``MICROFLUENCE_CLICK_LOG_SYNC`` at ``always`` (fsync before each answer) and at ``write`` — and
the baseline: a bare ASGI app that answers every request with a fixed ``302`` and does nothing
else (``bench/_bare_redirect.py``). Each round also times an fsync in the same folder.

Each gets the same load from a minimal keep-alive HTTP/1.1 client: ``--requests`` redirects,
``--concurrency`` at a time (not followed), after a warm-up, in ``--rounds`` rounds (the best
kept: the machine is shared). For microfluence, every 302 is a click in the click log before it
is answered, moved into link_clicks within a second; the run checks at the end that every click
it was answered is in the store.

Prints redirects/s, p50 and p99 latency of each, the server's CPU time per redirect (from
/proc: less disturbed by other loads on a shared machine), and microfluence's share of the
baseline.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
AGENT = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0"


def build_store(path: Path) -> tuple[str, str]:
    """A store with one workspace, one creator and one short link; its URL and the slug."""
    from microfluence.kernel.store import open_store
    from microfluence.kernel.store.tables import Account, Creator
    from microfluence.kernel.workspaces import ensure_workspace
    from microfluence.tracking.links import LinkCreate, create_link

    url = f"sqlite:///{path}"
    store = open_store(url)
    with store.transaction() as session:
        ws = ensure_workspace(session, "bench")
        creator = Creator(workspace_id=ws.id, name="Ana")
        session.add(creator)
        session.flush()
        session.add(
            Account(workspace_id=ws.id, creator_id=creator.id, platform="instagram", handle="ana")
        )
        session.flush()
        link = create_link(
            session, ws.id, LinkCreate(creator="instagram:ana", url="https://shop.example/p?x=1")
        )
    store.dispose()
    return url, link.slug


def cpu_seconds(pid: int) -> float:
    """CPU time (user + system) the process has used so far: a cost per redirect that other
    loads on the machine do not distort as much as a rate does."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def fsync_ms(folder: Path, count: int = 50) -> float:
    """The median time of a 300-byte append and its fsync in ``folder``: the floor of a
    click's latency with sync=always (the disk is shared: it varies from run to run)."""
    path = folder / "fsync-probe"
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
    times = []
    try:
        for _ in range(count):
            started = time.perf_counter()
            os.write(fd, b"x" * 300)
            os.fsync(fd)
            times.append(time.perf_counter() - started)
    finally:
        os.close(fd)
        path.unlink()
    return statistics.median(times) * 1000


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start(target: list[str], env: dict[str, str], port: int) -> subprocess.Popen[bytes]:
    command = [sys.executable, "-m", "uvicorn", *target, "--host", "127.0.0.1"]
    command += ["--port", str(port), "--log-level", "warning", "--no-access-log"]
    proc = subprocess.Popen(command, env={**os.environ, **env}, cwd=ROOT)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            httpx.get(f"http://127.0.0.1:{port}/r/warmup", timeout=2)
            return proc
        except httpx.TransportError:
            if proc.poll() is not None:
                raise RuntimeError("the server did not start") from None
            time.sleep(0.2)
    proc.terminate()
    raise RuntimeError("the server did not start in 60 s")


async def _get(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, request: bytes) -> bytes:
    """One keep-alive HTTP/1.1 GET; the head of the answer (these answers have no body)."""
    writer.write(request)
    head = await reader.readuntil(b"\r\n\r\n")
    length = 0
    for line in head.split(b"\r\n"):
        if line[:15].lower() == b"content-length:":
            length = int(line[15:])
    if length:
        await reader.readexactly(length)
    return head


async def load(port: int, path: str, requests: int, concurrency: int, pid: int) -> dict:
    """``requests`` GETs of ``path`` over ``concurrency`` keep-alive connections. A minimal raw
    HTTP/1.1 client: a full client (httpx) costs more CPU per request than the bare server, and
    would measure itself on a 2-core machine."""
    latencies: list[float] = []
    tokens: list[str] = []
    left = requests
    request = (
        f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nUser-Agent: {AGENT}\r\n"
        "Referer: https://l.instagram.com/\r\n\r\n"
    ).encode()

    async def worker() -> None:
        nonlocal left
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        for _ in range(10):  # warm-up: the connection, caches, the user-agent parser
            await _get(reader, writer, request)
        await ready.wait()
        while left > 0:
            left -= 1
            started = time.perf_counter()
            head = await _get(reader, writer, request)
            latencies.append(time.perf_counter() - started)
            if not head.startswith(b"HTTP/1.1 302"):
                raise RuntimeError(head.decode("latin-1"))
            tokens.append(head.split(b"mf_click=", 1)[-1].split(b"\r\n", 1)[0].decode())
        writer.close()

    ready = asyncio.Event()
    workers = [asyncio.create_task(worker()) for _ in range(concurrency)]
    await asyncio.sleep(1.0)
    started, cpu = time.perf_counter(), cpu_seconds(pid)
    ready.set()
    await asyncio.gather(*workers)
    elapsed = time.perf_counter() - started
    await asyncio.sleep(1.5)  # microfluence moves the last clicks into the store: its cost too
    cpu = cpu_seconds(pid) - cpu
    latencies.sort()
    return {
        "rps": requests / elapsed,
        "p50": statistics.median(latencies) * 1000,
        "p99": latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))] * 1000,
        "cpu_us": cpu / requests * 1e6,
        "tokens": tokens,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=4000)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args()
    # On disk (not a tmpfs), so that the click log's fsync costs what it costs in production.
    with tempfile.TemporaryDirectory(dir=ROOT) as folder:
        store_url, slug = build_store(Path(folder) / "bench.sqlite")
        env = {
            "MICROFLUENCE_DATABASE_URL": store_url,
            "PYTHONPATH": str(ROOT / "src"),
            "MICROFLUENCE_CLICK_LOG_DIR": str(Path(folder) / "clicks"),
        }
        app = ["--factory", "microfluence.web.app:create_app"]
        servers = {
            "bare ASGI 302 (baseline)": (["bench._bare_redirect:app"], {}),
            "microfluence, sync=always": (app, {"MICROFLUENCE_CLICK_LOG_SYNC": "always"}),
            "microfluence, sync=write": (app, {"MICROFLUENCE_CLICK_LOG_SYNC": "write"}),
        }
        best: dict[str, dict] = {}
        answered: list[str] = []
        print(
            f"{args.requests} redirects per round, {args.concurrency} at a time, "
            f"{args.rounds} rounds; load average {os.getloadavg()[0]:.1f}",
            flush=True,
        )
        for round_ in range(1, args.rounds + 1):
            print(f"  fsync of a small append here: {fsync_ms(Path(folder)):.2f} ms", flush=True)
            for name, (target, extra) in servers.items():
                port = free_port()
                server = start(target, {**env, **extra}, port)
                try:
                    result = asyncio.run(
                        load(port, f"/r/{slug}", args.requests, args.concurrency, server.pid)
                    )
                finally:
                    server.terminate()
                    server.wait(timeout=60)
                if name.startswith("microfluence"):
                    answered += result.pop("tokens")
                print(
                    f"  round {round_}: {name:<26} {result['rps']:>6.0f} redirects/s  "
                    f"p50 {result['p50']:>6.2f} ms  p99 {result['p99']:>6.2f} ms  "
                    f"server CPU {result['cpu_us']:>5.0f} µs/redirect",
                    flush=True,
                )
                if name not in best or result["rps"] > best[name]["rps"]:
                    best[name] = result
        base = best["bare ASGI 302 (baseline)"]
        for name, ours in best.items():
            if name.startswith("microfluence"):
                print(
                    f"best, {name}: {ours['rps']:.0f}/s = {ours['rps'] / base['rps']:.0%} of the "
                    f"bare app's {base['rps']:.0f}/s; p50 {ours['p50']:.2f} vs {base['p50']:.2f} "
                    f"ms, p99 {ours['p99']:.2f} vs {base['p99']:.2f} ms; server CPU "
                    f"{ours['cpu_us']:.0f} vs {base['cpu_us']:.0f} µs/redirect",
                    flush=True,
                )
        check_stored(store_url, answered)
        print(f"load average at the end {os.getloadavg()[0]:.1f}")


def check_stored(store_url: str, answered: list[str]) -> None:
    from sqlalchemy import func, select

    from microfluence.kernel.store import open_store
    from microfluence.tracking.tables import LinkClick

    store = open_store(store_url)
    with store.transaction() as session:
        stored = session.scalar(
            select(func.count(LinkClick.id)).where(LinkClick.token.in_(answered[:30000]))
        )
    store.dispose()
    print(f"clicks answered {len(answered):,}; of those checked, in link_clicks: {stored:,}")
    if stored != min(len(answered), 30000):
        raise SystemExit("answered clicks are missing from the store")


if __name__ == "__main__":
    main()
