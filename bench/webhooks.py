"""Benchmark: shop webhooks received by the real server (issue 12).

    .venv/bin/python -m bench.webhooks [--orders 400] [--repeats 3] [--concurrency 8]

Serves the app with uvicorn on 127.0.0.1 (one process, jobs in its thread pool, SQLite) and
sends ``--orders`` signed Shopify ``orders/create`` deliveries, each ``--repeats`` times (as
Shopify's retries would), ``--concurrency`` at a time, with an httpx async client. Reports the
deliveries answered per second, p50 and p99 latency of the answer, and then waits (bounded) for
the background jobs: every order stored exactly once. Baseline in the same run: the same load
sent with a wrong signature (401 after the HMAC check and one read of the shop), what a
delivery costs before it is stored.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sqlite3
import statistics
import tempfile
import time
from pathlib import Path

import httpx

from bench.api_load import free_port, start_server
from microfluence.commerce.shops import create_shop
from microfluence.commerce.signatures import sign
from microfluence.kernel.store import open_store
from microfluence.kernel.workspaces import ensure_workspace

SECRET = "bench-secret-" + "x" * 20


def body(n: int) -> bytes:
    return json.dumps(
        {
            "id": 9_000_000 + n,
            "name": f"#{n}",
            "created_at": "2026-05-01T10:00:00Z",
            "currency": "USD",
            "total_line_items_price": "70.00",
            "subtotal_price": "59.50",
            "total_price": "64.00",
            "total_discounts": "10.50",
            "discount_codes": [{"code": "NOPE10", "amount": "10.50", "type": "percentage"}],
            "landing_site": "/?utm_source=ig&mf_click=abc",
            "line_items": [{"id": n, "price": "35.00", "quantity": 2}],
        }
    ).encode()


async def send(base: str, path: str, jobs: list[tuple[bytes, str, str]], concurrency: int) -> dict:
    latencies: list[float] = []
    statuses: dict[int, int] = {}
    queue: asyncio.Queue[tuple[bytes, str, str]] = asyncio.Queue()
    for job in jobs:
        queue.put_nowait(job)

    async def worker(client: httpx.AsyncClient) -> None:
        while not queue.empty():
            raw, signature, delivery = queue.get_nowait()
            started = time.perf_counter()
            answer = await client.post(
                path,
                content=raw,
                headers={
                    "X-Shopify-Hmac-Sha256": signature,
                    "X-Shopify-Topic": "orders/create",
                    "X-Shopify-Webhook-Id": delivery,
                    "Content-Type": "application/json",
                },
            )
            latencies.append(time.perf_counter() - started)
            statuses[answer.status_code] = statuses.get(answer.status_code, 0) + 1

    started = time.perf_counter()
    async with httpx.AsyncClient(base_url=base, timeout=30) as client:
        await asyncio.gather(*(worker(client) for _ in range(concurrency)))
    wall = time.perf_counter() - started
    ms = sorted(x * 1000 for x in latencies)
    return {
        "per_s": len(jobs) / wall,
        "p50": statistics.median(ms),
        "p99": ms[min(len(ms) - 1, int(len(ms) * 0.99))],
        "statuses": statuses,
    }


WAITING = "select count(*) from webhook_deliveries where status = 'received'"
STORED = "select count(*), sum(repeats) from webhook_deliveries"


def report(what: str, figures: dict) -> None:
    print(
        f"{what}: {figures['per_s']:,.0f}/s, p50 {figures['p50']:.1f} ms, "
        f"p99 {figures['p99']:.1f} ms, {figures['statuses']}"
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--orders", type=int, default=400)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--concurrency", type=int, default=8)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        db = Path(folder) / "store.sqlite"
        url = f"sqlite:///{db}"
        store = open_store(url)
        with store.transaction() as s:
            ws = ensure_workspace(s, "bench")
            shop = create_shop(s, ws.id, platform="shopify", name="main", secret=SECRET).shop
        store.dispose()
        port = free_port()
        server = start_server(url, port)
        try:
            base = f"http://127.0.0.1:{port}"
            path = shop.webhook_path
            bodies = [body(n) for n in range(args.orders)]
            forged = [(b, "AAAA" + sign(b, SECRET)[4:], f"f{n}") for n, b in enumerate(bodies)]
            signed = [
                (b, sign(b, SECRET), f"d{n}")
                for _ in range(args.repeats)
                for n, b in enumerate(bodies)
            ]
            refused = asyncio.run(send(base, path, forged, args.concurrency))
            report("wrong signature, refused", refused)
            accepted = asyncio.run(send(base, path, signed, args.concurrency))
            report("signed, stored, answered", accepted)
            deadline = time.monotonic() + 120
            orders = 0
            for _ in range(1200):
                with sqlite3.connect(db) as conn:
                    orders = conn.execute("select count(*) from orders").fetchone()[0]
                    waiting = conn.execute(
                        "select count(*) from webhook_deliveries where status = 'received'"
                    ).fetchone()[0]
                if not waiting or time.monotonic() > deadline:
                    break
                time.sleep(0.1)
            with sqlite3.connect(db) as conn:
                deliveries, repeats = conn.execute(
                    "select count(*), sum(repeats) from webhook_deliveries"
                ).fetchone()
            print(
                f"{len(signed):,} deliveries sent: {deliveries:,} stored, {repeats:,} repeats "
                f"answered, {orders:,} orders (expected {args.orders:,}), {waiting} waiting"
            )
        finally:
            server.terminate()
            server.wait(timeout=30)


if __name__ == "__main__":
    main()
