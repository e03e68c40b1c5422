"""The creator portal, ``/portal/{token}``: public pages (no sign-in) a creator opens from the
link the brand sent. The token is the only key: the deal is taken from it, never from the
request, and an unknown, expired or revoked token gets the same bare 404 page.

Forms carry the link's own CSRF value (an HMAC of its token hash, relationships.portal); answers
are never cached (``Cache-Control: no-store``), never send the link on as a referrer
(``Referrer-Policy: no-referrer``) and are kept out of search engines (``X-Robots-Tag`` and a
robots meta tag). The pages work without JavaScript and on a phone.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict, deque
from collections.abc import Callable
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from microfluence.connectors.oauth.portal import portal_connections
from microfluence.kernel.errors import ConflictError, InputError
from microfluence.relationships import gifting, portal, submissions
from microfluence.relationships.addresses import FIELDS, LABELS
from microfluence.web.api.workspace import base_url
from microfluence.web.pages.consent import consent_csp
from microfluence.web.pages.rendering import env

router = APIRouter(include_in_schema=False)
HEADERS = {
    "Cache-Control": "no-store",
    "Referrer-Policy": "no-referrer",
    "X-Robots-Tag": "noindex, nofollow",
    "X-Frame-Options": "DENY",
}
GONE = (
    "<!doctype html><html lang=en><meta charset=utf-8>"
    '<meta name="robots" content="noindex, nofollow">'
    '<meta name="viewport" content="width=device-width, initial-scale=1">'
    "<title>Link not found</title><h1>Link not found</h1>"
    "<p>This link does not exist or is no longer active. Ask the brand for a new one.</p></html>"
)
NOTICES = {
    "accepted": "Thank you: the brief is accepted.",
    "gift": "Your gift choice and address are saved.",
    "submitted": "Sent for review: the brand will get back to you.",
    "connected": "Your account is connected: thank you.",
    "disconnected": "Your account is disconnected, and the brand's access revoked.",
}
FORM_MAX_FIELDS = 200
# Form posts per link per window, in this process: a leaked link cannot be used to flood the
# deal's history. Reading the page is not limited.
POSTS_PER_LINK = 30
POST_WINDOW = 600.0  # seconds


class PostLimiter:
    """At most ``limit`` form posts per link (its token hash) per ``window`` seconds, counted in
    this process (a sliding window; the oldest links forgotten beyond ``keep`` of them)."""

    def __init__(self, limit: int, window: float, keep: int = 10_000) -> None:
        self.limit, self.window, self.keep = limit, window, keep
        self.seen: OrderedDict[str, deque[float]] = OrderedDict()
        self.lock = threading.Lock()

    def allow(self, key: str) -> bool:
        now = time.monotonic()
        with self.lock:
            times = self.seen.pop(key, None) or deque()
            while times and now - times[0] > self.window:
                times.popleft()
            allowed = len(times) < self.limit
            if allowed:
                times.append(now)
            self.seen[key] = times
            while len(self.seen) > self.keep:
                self.seen.popitem(last=False)
            return allowed


LIMITER = PostLimiter(POSTS_PER_LINK, POST_WINDOW)


TOO_MANY = "Too many changes in a short time: wait a few minutes and try again."


class TooMany(Exception):
    """More form posts on one link than POSTS_PER_LINK in POST_WINDOW."""


def _gone() -> HTMLResponse:
    return HTMLResponse(GONE, status_code=404, headers=HEADERS)


def _page(
    request: Request, db: Session, access: portal.PortalAccess, token: str, **extra: Any
) -> str:
    view = portal.portal_view(db, access, base=base_url(request))
    return env.get_template("portal.html").render(
        view=view,
        token=token,
        form_token=portal.form_token(request.app.state.csrf_secret, access),
        address_fields=[(name, LABELS[name], FIELDS[name][0]) for name in FIELDS],
        connect=portal_connections(db, access),
        **extra,
    )


def _show(request: Request, token: str, status: int = 200, **extra: Any) -> HTMLResponse:
    store = request.app.state.store
    with store.transaction() as db:
        try:
            access = portal.open_portal(db, token)
        except portal.PortalNotFound:
            return _gone()
        html = _page(request, db, access, token, **extra)
    # Its "Connect your account" forms lead to the platforms' consent pages (web.pages.consent).
    headers = {**HEADERS, "Content-Security-Policy": consent_csp()}
    return HTMLResponse(html, status_code=status, headers=headers)


@router.get("/portal/{token}")
async def portal_page(request: Request, token: str) -> Response:
    notice = NOTICES.get(request.query_params.get("done", ""))
    return await run_in_threadpool(_show, request, token, notice=notice)


Action = Callable[[Session, portal.PortalAccess, dict[str, str]], Any]


async def _act(request: Request, token: str, action: Action, done: str, anchor: str) -> Response:
    """Run a portal form: the link checked, its CSRF value checked, the action in one
    transaction; back to the page (303), or the page again with the error (nothing stored)."""
    form = await request.form(max_fields=FORM_MAX_FIELDS)
    fields = {k: v for k, v in form.items() if isinstance(v, str)}

    def run() -> Response:
        store = request.app.state.store
        try:
            with store.transaction() as db:
                access = portal.open_portal(db, token)
                portal.check_form_token(
                    request.app.state.csrf_secret, access, fields.get("form_token")
                )
                if not LIMITER.allow(access.token_hash):
                    raise TooMany
                action(db, access, fields)
        except portal.PortalNotFound:
            return _gone()
        except TooMany:
            return _show(request, token, 429, error=TOO_MANY)
        except portal.PortalFormExpired as exc:
            return _show(request, token, 403, error=exc.message, values=fields)
        except (InputError, ConflictError) as exc:
            status = 409 if isinstance(exc, ConflictError) else 422
            message = _message(exc)
            return _show(request, token, status, error=message, error_at=anchor, values=fields)
        return RedirectResponse(
            f"/portal/{token}?done={done}#{anchor}", status_code=303, headers=HEADERS
        )

    return await run_in_threadpool(run)


def _message(exc: InputError | ConflictError) -> str:
    """The error for the creator: the form field's label, then what is wrong."""
    if not isinstance(exc, InputError):
        return str(exc)
    field = (exc.field or "").removeprefix("address.")
    label = LABELS.get(field) or {"products": "Your gift", "url": "Link"}.get(field)
    return f"{label}: {exc.message}" if label else exc.message


def _accept(db: Session, access: portal.PortalAccess, fields: dict[str, str]) -> None:
    portal.accept_brief(db, access)


def _quantity(name: str, text: str) -> int:
    text = text.strip() or "0"
    if not text.isdigit() or int(text) > gifting.QUANTITY_MAX:
        raise InputError(f"a quantity from 0 to {gifting.QUANTITY_MAX}", field=name)
    return int(text)


def _gift(db: Session, access: portal.PortalAccess, fields: dict[str, str]) -> None:
    picks: dict[int, int] = {}
    for name, value in fields.items():
        if name.startswith("qty_") and name[4:].isdigit() and len(name) < 16:
            picks[int(name[4:])] = _quantity(name, value)
    address = {name: fields.get(name, "") for name in FIELDS}
    given = address if any(v.strip() for v in address.values()) else None
    gifting.pick_products(
        db,
        access.workspace_id,
        access.deal_id,
        picks,
        given,
        actor=portal.creator_name(db, access),
        actor_kind="creator",
    )


def _submit(db: Session, access: portal.PortalAccess, fields: dict[str, str]) -> None:
    data = submissions.SubmissionCreate(
        kind=fields.get("kind", "draft")[:10],
        url=fields.get("url", "")[: submissions.URL_MAX],
        note=fields.get("note", "")[: submissions.NOTE_MAX] or None,
    )
    submissions.submit(
        db,
        access.workspace_id,
        access.deal_id,
        data,
        actor=portal.creator_name(db, access),
        actor_kind="creator",
    )


@router.post("/portal/{token}/accept")
async def accept(request: Request, token: str) -> Response:
    return await _act(request, token, _accept, "accepted", "brief")


@router.post("/portal/{token}/gift")
async def gift(request: Request, token: str) -> Response:
    return await _act(request, token, _gift, "gift", "gift")


@router.post("/portal/{token}/submit")
async def submit(request: Request, token: str) -> Response:
    return await _act(request, token, _submit, "submitted", "submit")
