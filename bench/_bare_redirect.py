"""The baseline of bench.redirects: a bare ASGI app that answers every request with the same
302 and does nothing else (no routing, no lookup, no logging) — the ceiling of a redirect
served by uvicorn in one Python process."""

from __future__ import annotations

from typing import Any

HEADERS = [
    (b"location", b"https://shop.example/p?x=1&utm_source=instagram&mf_click=0"),
    (b"cache-control", b"no-store"),
    (b"content-length", b"0"),
]


async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    if scope["type"] == "lifespan":
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                await send({"type": "lifespan.shutdown.complete"})
                return
    await send({"type": "http.response.start", "status": 302, "headers": HEADERS})
    await send({"type": "http.response.body", "body": b""})
