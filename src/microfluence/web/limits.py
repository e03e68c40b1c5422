"""Refuse an oversized upload from its Content-Length, before its body is read or spooled."""

from __future__ import annotations

from starlette.types import ASGIApp, Receive, Scope, Send

from microfluence.web.errors import ErrorBody


class UploadLimitMiddleware:
    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["method"] in ("POST", "PUT", "PATCH"):
            length = dict(scope["headers"]).get(b"content-length")
            if length is not None and length.isdigit() and int(length) > self.max_bytes:
                body = (
                    ErrorBody(
                        status=413,
                        code="payload_too_large",
                        message=f"the request is larger than {self.max_bytes >> 20} MiB",
                    )
                    .model_dump_json()
                    .encode()
                )
                await send(
                    {
                        "type": "http.response.start",
                        "status": 413,
                        "headers": [
                            (b"content-type", b"application/json"),
                            (b"content-length", str(len(body)).encode()),
                            (b"connection", b"close"),
                        ],
                    }
                )
                await send({"type": "http.response.body", "body": body})
                return
        await self.app(scope, receive, send)
