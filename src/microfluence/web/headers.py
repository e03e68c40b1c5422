"""Headers every answer carries, set in one place so that no route can forget them.

* Everything: ``X-Content-Type-Options: nosniff`` (a browser never guesses HTML from an upload
  or a JSON field).
* The API (``/api/``): ``Cache-Control: no-store`` — answers are one workspace's data.
* HTML: a strict Content-Security-Policy (scripts only from this server, none inline, no
  plugins, no framing, forms post only here), ``X-Frame-Options: DENY`` and
  ``Referrer-Policy: same-origin``. A route that needs another policy sets its own (the API docs
  pages; the downloadable vetting report, whose policy allows its own inline scripts by hash;
  the labelling page, whose images may come from the follower-picture hosts an operator allows).
"""

from __future__ import annotations

from collections.abc import Sequence

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send


def page_csp(img_sources: Sequence[str] = ()) -> str:
    """The pages' policy; ``img_sources``: other origins images may come from (the labelling
    page's follower pictures, only from the hosts MICROFLUENCE_FOLLOWER_PICTURE_HOSTS names)."""
    # Plotly draws with inline styles (style attributes and a <style> sheet it adds), so styles
    # may be inline; scripts may not.
    return "; ".join(
        (
            "default-src 'self'",
            "script-src 'self'",
            "style-src 'self' 'unsafe-inline'",
            " ".join(("img-src 'self' data:", *img_sources)),
            "font-src 'self'",
            "connect-src 'self'",
            "object-src 'none'",
            "base-uri 'none'",
            "form-action 'self'",
            "frame-ancestors 'none'",
        )
    )


PAGE_CSP = page_csp()


class SecurityHeadersMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        api = scope["path"].startswith("/api/")

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = list(message.get("headers", []))
                headers = MutableHeaders(scope=message)
                headers.setdefault("X-Content-Type-Options", "nosniff")
                if api:
                    headers.setdefault("Cache-Control", "no-store")
                if headers.get("content-type", "").startswith("text/html"):
                    headers.setdefault("Content-Security-Policy", PAGE_CSP)
                    headers.setdefault("X-Frame-Options", "DENY")
                    headers.setdefault("Referrer-Policy", "same-origin")
            await send(message)

        await self.app(scope, receive, send_with_headers)


def report_headers(policy: str) -> dict[str, str]:
    """Headers of the standalone vetting report: its own policy (inline scripts by hash), never
    cached, never sniffed, never framed."""
    return {
        "Content-Security-Policy": f"{policy}; frame-ancestors 'none'",
        "X-Content-Type-Options": "nosniff",
        "Cache-Control": "no-store",
    }
