"""Sign-in and the workspace switcher. The forms post to ``web.signin`` (/auth/…). The home
page (``/``) is the dashboard of ``web.pages.home``."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse

from microfluence.access.errors import AuthenticationError
from microfluence.web.deps import DbSession, MaybeSignedIn
from microfluence.web.pages.rendering import render
from microfluence.web.signin import safe_next

router = APIRouter(include_in_schema=False)

SIGN_IN_ERRORS = {
    "invalid": "Wrong e-mail address or password.",
    "rate_limited": "Too many failed attempts: wait a few minutes, then try again.",
}


@router.get("/sign-in", response_model=None)
def sign_in_page(
    request: Request,
    db: DbSession,
    signed_in: MaybeSignedIn,
    next: Annotated[str, Query(max_length=2000)] = "/creators",
    error: Annotated[str | None, Query(max_length=40)] = None,
) -> HTMLResponse | RedirectResponse:
    target = safe_next(next)
    if signed_in is not None and error is None:
        return RedirectResponse(target if target != "/" else "/creators", status_code=303)
    return render(
        request,
        db,
        "sign_in.html",
        status_code=429 if error == "rate_limited" else 200,
        title="Sign in",
        next=target,
        message=SIGN_IN_ERRORS.get(error or ""),
    )


@router.get("/workspaces")
def workspaces_page(request: Request, db: DbSession, signed_in: MaybeSignedIn) -> HTMLResponse:
    """Every workspace the user belongs to, with their role; choosing one switches to it."""
    if signed_in is None:
        raise AuthenticationError("please sign in")
    return render(request, db, "workspaces.html", title="Workspaces")
