"""``/u/{token}``: the unsubscribe link of every outreach message. No sign-in: GET shows a
button, POST (the button, or a mail client's RFC 8058 one-click POST) unsubscribes. Every
answer is the same short page, whatever the token, so it reveals nothing."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Request
from fastapi.responses import HTMLResponse

from microfluence.outreach.unsubscribe import links_for, unsubscribe
from microfluence.web.deps import DbSession, StoreDep
from microfluence.web.pages.rendering import render

router = APIRouter(prefix="/u", include_in_schema=False)
Token = Annotated[str, Path(max_length=100)]
HEADERS = {"Referrer-Policy": "no-referrer", "X-Robots-Tag": "noindex"}


@router.get("/{token}")
def confirm(request: Request, token: Token) -> HTMLResponse:
    return render(
        request, None, "unsubscribe.html", title="Unsubscribe", token=token, headers=HEADERS
    )


@router.post("/{token}")
def unsubscribed(request: Request, db: DbSession, store: StoreDep, token: Token) -> HTMLResponse:
    unsubscribe(db, links_for(store).secret, token)
    return render(
        request, None, "unsubscribe.html", title="Unsubscribed", done=True, headers=HEADERS
    )
