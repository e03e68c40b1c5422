"""One JSON error shape for every error the API answers, validation errors included:

{"status": 422, "code": "validation_error", "message": "...", "details": [...]}
"""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel
from sqlalchemy.exc import OperationalError
from starlette.exceptions import HTTPException as StarletteHTTPException

from microfluence.access.errors import (
    AuthenticationError,
    PermissionDeniedError,
    RateLimitedError,
)
from microfluence.kernel.errors import (
    ConflictError,
    InputError,
    MicrofluenceError,
    NotFoundError,
    StoreError,
)

log = logging.getLogger("microfluence.web")

HTTP_CODES = {
    400: "bad_request",
    401: "unauthenticated",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    406: "not_acceptable",
    409: "conflict",
    413: "payload_too_large",
    415: "unsupported_media_type",
    422: "validation_error",
    429: "rate_limited",
    500: "internal_error",
    503: "busy",
}


class ErrorBody(BaseModel):
    """The body of every error answer."""

    status: int
    code: str
    message: str
    details: list[dict[str, Any]] = []


def error_response(
    request: Request | None,
    status: int,
    code: str,
    message: str,
    details: list[dict[str, Any]] | None = None,
    headers: dict[str, str] | None = None,
) -> Response:
    body = ErrorBody(status=status, code=code, message=message, details=details or [])
    # Pages may register an HTML rendering of the same error for browsers (not for /api).
    render_html = getattr(request.app.state, "html_error_page", None) if request else None
    if render_html is not None and _wants_html(request):
        return render_html(request, body, headers or {})
    return JSONResponse(jsonable_encoder(body), status_code=status, headers=headers)


def _wants_html(request: Request | None) -> bool:
    if request is None or request.url.path.startswith("/api/"):
        return False
    return "text/html" in request.headers.get("accept", "")


def _status_of(exc: MicrofluenceError) -> int:
    if exc.code == "payload_too_large":
        return 413
    if isinstance(exc, NotFoundError):
        return 404
    if isinstance(exc, ConflictError):
        return 409
    if isinstance(exc, InputError):
        return 422
    if isinstance(exc, AuthenticationError):
        return 401
    if isinstance(exc, PermissionDeniedError):
        return 403
    if isinstance(exc, RateLimitedError):
        return 429
    if isinstance(exc, StoreError):
        return 503
    return 400


async def _our_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, MicrofluenceError)
    return response_for(request, exc)


def response_for(
    request: Request, exc: MicrofluenceError, extra_headers: dict[str, str] | None = None
) -> Response:
    """The answer to one of our errors: its status, code, message and where it lies."""
    status = _status_of(exc)
    details: list[dict[str, Any]] = []
    headers: dict[str, str] = dict(extra_headers or {})
    message = str(exc)
    if isinstance(exc, InputError):
        message = exc.message
        where = {"file": exc.file, "line": exc.line, "field": exc.field}
        details = [{k: v for k, v in where.items() if v is not None}]
    if isinstance(exc, AuthenticationError):
        headers["WWW-Authenticate"] = "Bearer"
    if isinstance(exc, RateLimitedError):
        headers["Retry-After"] = str(exc.retry_after)
    return error_response(request, status, exc.code, message, details, headers)


def _validation_details(errors: Any) -> list[dict[str, Any]]:
    details = []
    for error in errors:
        # "input" may echo a secret or a huge body back; "ctx" may hold exception objects.
        details.append(
            {"loc": list(error.get("loc", ())), "msg": error.get("msg"), "type": error.get("type")}
        )
    return details


async def _validation_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, RequestValidationError)
    details = _validation_details(exc.errors())
    first = details[0] if details else {}
    where = ".".join(str(p) for p in first.get("loc", []) if p != "body")
    message = f"invalid request: {where}: {first.get('msg')}" if first else "invalid request"
    return error_response(request, 422, "validation_error", message, details)


async def _http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, StarletteHTTPException)
    code = HTTP_CODES.get(exc.status_code, "http_error")
    message = exc.detail if isinstance(exc.detail, str) else code.replace("_", " ")
    if exc.status_code == 404 and message == "Not Found":
        message = f"no such path: {request.url.path}"
    if exc.status_code == 405:
        message = f"{request.method} is not allowed on {request.url.path}"
    return error_response(request, exc.status_code, code, message, headers=dict(exc.headers or {}))


async def _store_error(request: Request, exc: Exception) -> Response:
    # SQLite lets one writer in at a time: a write that waited the whole busy timeout for a long
    # import is worth retrying, not a bug.
    if "locked" in str(exc).lower() or "busy" in str(exc).lower():
        message = "the store is busy with another write (an import?): try again in a moment"
        return error_response(request, 503, "busy", message, headers={"Retry-After": "5"})
    return await _unexpected(request, exc)


async def _unexpected(request: Request, exc: Exception) -> Response:
    log.exception("unexpected error on %s %s", request.method, request.url.path, exc_info=exc)
    return error_response(
        request, 500, "internal_error", "internal server error: the error was logged"
    )


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(MicrofluenceError, _our_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(OperationalError, _store_error)
    app.add_exception_handler(Exception, _unexpected)
