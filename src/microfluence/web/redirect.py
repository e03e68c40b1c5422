"""The public short links, ``GET``/``HEAD /r/{slug}``: a plain ASGI layer in front of the app.

It answers before the app's other layers (no session, no CSRF cookie, nothing about the caller
read but the headers a click records) and is kept lean because every visitor of every creator's
link goes through it. The click is on disk (the journal's group commit) before the ``302`` goes
out; an unknown or disabled slug, or anything but a slug, gets the same bare 404 page.
"""

from __future__ import annotations

import anyio.to_thread
from starlette.types import ASGIApp, Receive, Scope, Send

from microfluence.tracking.recorder import ClickRecorder
from microfluence.tracking.redirect import (
    TargetCache,
    Visit,
    click_record,
    new_token,
)
from microfluence.web.headers import PAGE_CSP

PREFIX = "/r/"
NOT_FOUND = (
    b"<!doctype html><html lang=en><meta charset=utf-8><title>Link not found</title>"
    b"<h1>Link not found</h1><p>This link does not exist or is no longer active.</p></html>"
)
UNAVAILABLE = (
    b"<!doctype html><html lang=en><meta charset=utf-8><title>Try again</title>"
    b"<h1>Try again in a moment</h1></html>"
)
COMMON = [
    (b"cache-control", b"no-store"),
    (b"x-content-type-options", b"nosniff"),
    (b"x-robots-tag", b"noindex, nofollow"),
]
PAGE = [
    *COMMON,
    (b"content-type", b"text/html; charset=utf-8"),
    (b"content-security-policy", PAGE_CSP.encode()),
    (b"x-frame-options", b"DENY"),
    (b"referrer-policy", b"no-referrer"),
]
PURPOSE = (b"sec-purpose", b"purpose", b"x-purpose", b"x-moz")


class ShortLinks:
    """Serves ``/r/{slug}`` with ``recorder``; passes every other request to ``app``."""

    def __init__(
        self,
        app: ASGIApp,
        recorder: ClickRecorder,
        country_header: str | None,
        cache_seconds: float = 2.0,
    ) -> None:
        self.app = app
        self.recorder = recorder
        self.targets = TargetCache(recorder.store, cache_seconds)
        self.country_header = country_header.lower().encode() if country_header else None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not scope["path"].startswith(PREFIX):
            await self.app(scope, receive, send)
            return
        method = scope["method"]
        if method not in ("GET", "HEAD"):
            await _answer(send, 405, [*COMMON, (b"allow", b"GET, HEAD")], b"", head=False)
            return
        head = method == "HEAD"
        slug = scope["path"][len(PREFIX) :]
        known, target = self.targets.cached(slug)
        if not known:
            target = await anyio.to_thread.run_sync(self.targets.lookup, slug)
        if target is None:
            await _answer(send, 404, PAGE, NOT_FOUND, head=head)
            return
        token = new_token()
        record = click_record(target, self._visit(scope, head), token, self.recorder.salt)
        try:
            await self.recorder.record(record)
        except Exception:  # not on disk: no redirect, so no click goes unrecorded
            await _answer(send, 503, [*PAGE, (b"retry-after", b"5")], UNAVAILABLE, head=head)
            return
        location = target.location(token).encode()
        headers = [
            *COMMON,
            (b"location", location),
            (b"referrer-policy", b"strict-origin-when-cross-origin"),
        ]
        await _answer(send, 302, headers, b"", head=head)

    def _visit(self, scope: Scope, head: bool) -> Visit:
        headers: dict[bytes, bytes] = {}
        for name, value in scope["headers"]:
            headers.setdefault(name, value)
        client = scope.get("client")
        purpose = b" ".join(headers.get(name, b"") for name in PURPOSE)
        return Visit(
            ip=client[0] if client else "",
            user_agent=headers.get(b"user-agent", b"").decode("latin-1"),
            referrer=headers.get(b"referer", b"").decode("latin-1") or None,
            purpose=purpose.decode("latin-1"),
            country=(
                headers.get(self.country_header, b"").decode("latin-1")
                if self.country_header
                else None
            ),
            head=head,
        )


async def _answer(
    send: Send, status: int, headers: list[tuple[bytes, bytes]], body: bytes, *, head: bool
) -> None:
    headers = [*headers, (b"content-length", str(len(body)).encode())]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": b"" if head else body})
