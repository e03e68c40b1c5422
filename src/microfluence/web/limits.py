"""Request bodies: who sends one is checked before a byte of it is read, then the size it
declares, then its bytes as they stream in, chunked bodies (no Content-Length) included.

* **Who.** An API request with a body needs a live API key with a role that may write (401,
  403); an upload to the pages (``/imports``) needs a signed-in member (401, 403). Until the
  answer, the server reads nothing: uvicorn stops reading the socket after 64 KiB, so a body
  sent without a key costs no memory and no disk. Small page forms (sign-in) and the API routes
  whose body is its own proof (``OPEN_API_PATHS``: a password change, accepting an invitation)
  are open to everyone, under the small cap; so are the shops' webhooks (``HOOK_PATHS``, signed
  with the shop's secret), under ``MICROFLUENCE_MAX_HOOK_KB``.
* **How much.** Uploads (``UPLOAD_PATHS``) may carry ``MICROFLUENCE_MAX_UPLOAD_MB`` (plus 64 KiB
  of multipart envelope); every other body — JSON, forms — ``MICROFLUENCE_MAX_BODY_KB``. A
  Content-Length over the cap is refused (413) unread; the bytes are counted as they arrive and
  reading stops at the cap (413), so a multipart upload spools at most the cap to temporary
  files.

Refusals close the connection (``Connection: close``): the client may still be sending.
"""

from __future__ import annotations

import re

from fastapi.security import HTTPAuthorizationCredentials
from sqlalchemy.exc import OperationalError
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import Headers
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from microfluence.access.roles import WRITE
from microfluence.kernel.errors import MicrofluenceError
from microfluence.web import auth
from microfluence.web.errors import error_response, response_for

# Routes whose body is a file upload (multipart), with the upload cap; every other body has the
# small one.
UPLOAD_PATHS = frozenset({"/api/v1/imports", "/imports"})
# API routes whose body is itself the proof of who sends it (a password, an invitation's token):
# like the sign-in form, open to callers without a key, under the small cap.
OPEN_API_PATHS = re.compile(r"^/api/v1/(account/password|invitations/[^/]+/accept)$")
# Shop webhooks: public, signed by the shop (commerce.webhooks), under their own small cap.
HOOK_PATHS = re.compile(r"^/hooks/(shopify|woocommerce)/[^/]+$")
MULTIPART_ENVELOPE = 64 << 10
CLOSE = {"Connection": "close"}


def describe_size(size: int) -> str:
    """2 MiB, 512 KiB (an upload's cap reads as its file's: the envelope is left out)."""
    return f"{size >> 20} MiB" if size >= 1 << 20 else f"{max(1, size >> 10)} KiB"


class BodyTooLarge(HTTPException):
    """Raised from ``receive`` when a body outgrows its cap; FastAPI passes HTTPExceptions from
    body parsing through unchanged, so it becomes the API's 413 error."""

    def __init__(self, limit: int) -> None:
        super().__init__(
            413, f"the request body is larger than {describe_size(limit)}", headers=CLOSE
        )


def _declared_length(headers: Headers) -> int | None:
    value = headers.get("content-length")
    return int(value) if value is not None and value.isdigit() else None


def _has_body(headers: Headers) -> bool:
    return "transfer-encoding" in headers or (_declared_length(headers) or 0) > 0


def _check_caller(scope: Scope) -> None:
    """Raise AuthenticationError / PermissionDeniedError unless the request comes from someone
    who may send it: an API key (API paths) or a signed-in session (page uploads), with a role
    that may write unless the method only reads (a GET that carries a body, oddly)."""
    request = Request(scope)
    store = scope["app"].state.store
    with store.transaction() as db:
        if scope["path"].startswith("/api/"):
            header = request.headers.get("authorization", "")
            scheme, _, secret = header.partition(" ")
            credentials = (
                HTTPAuthorizationCredentials(scheme=scheme, credentials=secret.strip())
                if header
                else None
            )
            principal = auth.api_principal(store, db, credentials)
        else:
            # Cached on the request's state: the route's own check reads it again for free.
            principal = auth.page_principal(request, db)
    if scope["method"] not in ("GET", "HEAD", "OPTIONS"):
        principal.require(WRITE)


class RequestLimitMiddleware:
    """Caller first, then declared size, then counted bytes (module docstring)."""

    def __init__(
        self,
        app: ASGIApp,
        *,
        max_body_bytes: int,
        max_upload_bytes: int,
        upload_paths: frozenset[str] = UPLOAD_PATHS,
        max_hook_bytes: int | None = None,
    ) -> None:
        self.app = app
        self.max_body_bytes = max_body_bytes
        self.max_upload_bytes = max_upload_bytes
        self.max_hook_bytes = max_hook_bytes or max_body_bytes
        self.upload_paths = upload_paths

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        if not _has_body(headers):
            await self.app(scope, receive, send)
            return
        upload = scope["path"] in self.upload_paths
        limit = self.max_upload_bytes if upload else self.max_body_bytes
        if HOOK_PATHS.match(scope["path"]):
            limit = self.max_hook_bytes
        keyed_api = scope["path"].startswith("/api/") and not OPEN_API_PATHS.match(scope["path"])
        if upload or keyed_api:
            refusal = await self._refusal(scope)
            if refusal is not None:
                await refusal(scope, receive, send)
                return
        declared = _declared_length(headers)
        if declared is not None and declared > limit:
            await self._too_large(scope, limit)(scope, receive, send)
            return
        await self._counted(scope, receive, send, limit)

    async def _refusal(self, scope: Scope) -> Response | None:
        try:
            await run_in_threadpool(_check_caller, scope)
        except MicrofluenceError as exc:
            return await run_in_threadpool(response_for, Request(scope), exc, CLOSE)
        except OperationalError:
            message = "the store is busy: try again in a moment"
            return error_response(
                Request(scope), 503, "busy", message, headers={**CLOSE, "Retry-After": "5"}
            )
        return None

    def _too_large(self, scope: Scope, limit: int) -> Response:
        message = f"the request body is larger than {describe_size(limit)}"
        return error_response(Request(scope), 413, "payload_too_large", message, headers=CLOSE)

    async def _counted(self, scope: Scope, receive: Receive, send: Send, limit: int) -> None:
        received = 0
        started = False

        async def counting_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    raise BodyTooLarge(limit)
            return message

        async def noting_send(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, counting_receive, noting_send)
        except BodyTooLarge:
            # Read outside FastAPI's body parsing (which answers it itself): answer here.
            if started:
                raise
            await self._too_large(scope, limit)(scope, receive, send)
