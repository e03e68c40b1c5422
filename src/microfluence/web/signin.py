"""Sign-in, sign-out and the workspace switcher: the form posts behind the pages.

The forms themselves are pages (GET /sign-in …); these handlers answer with a redirect (303),
so a browser never re-posts a password on reload. A failed sign-in goes back to
``/sign-in?error=CODE&next=…`` with CODE ``invalid`` or ``rate_limited``.
"""

from __future__ import annotations

from typing import Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse

from microfluence.access import sessions
from microfluence.access.errors import AuthenticationError, RateLimitedError
from microfluence.web import auth
from microfluence.web.deps import CsrfChecked, DbSession, StoreDep

router = APIRouter(prefix="/auth", include_in_schema=False)
SIGN_IN_PAGE = "/sign-in"


def safe_next(target: str | None) -> str:
    """Only a path on this site: an open redirect would help phishing."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return "/"
    return target


@router.post("/sign-in", dependencies=[CsrfChecked])
def sign_in(
    request: Request,
    store: StoreDep,
    email: Annotated[str, Form(max_length=320)],
    password: Annotated[str, Form(max_length=1024)],
    next: Annotated[str, Form(max_length=2000)] = "/",
) -> RedirectResponse:
    target = safe_next(next)
    try:
        token, _signed_in = sessions.sign_in(
            store,
            email=email,
            password=password,
            ip=request.client.host if request.client else None,
            user_agent=request.headers.get("user-agent"),
        )
    except (AuthenticationError, RateLimitedError) as exc:
        query = urlencode({"error": exc.code if exc.code == "rate_limited" else "invalid"})
        response = RedirectResponse(f"{SIGN_IN_PAGE}?{query}&{urlencode({'next': target})}", 303)
        if isinstance(exc, RateLimitedError):
            response.headers["Retry-After"] = str(exc.retry_after)
        return response
    response = RedirectResponse(target, status_code=303)
    auth.set_session_cookie(request, response, token)
    return response


@router.post("/sign-out", dependencies=[CsrfChecked])
def sign_out(request: Request, db: DbSession) -> RedirectResponse:
    sessions.sign_out(db, request.cookies.get(auth.SESSION_COOKIE))
    response = RedirectResponse(SIGN_IN_PAGE, status_code=303)
    auth.clear_session_cookie(request, response)
    return response


@router.post("/workspace", dependencies=[CsrfChecked])
def switch_workspace(
    request: Request,
    db: DbSession,
    workspace: Annotated[str, Form(max_length=64)],
    next: Annotated[str, Form(max_length=2000)] = "/",
) -> RedirectResponse:
    sessions.switch_workspace(db, request.cookies.get(auth.SESSION_COOKIE) or "", workspace)
    return RedirectResponse(safe_next(next), status_code=303)
