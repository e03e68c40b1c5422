"""How a page is rendered: one Jinja2 environment, and the context every page shares (who is
signed in, their workspaces, the CSRF token their forms carry, the role that decides which write
controls they see)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from fastapi import Request
from fastapi.responses import HTMLResponse
from jinja2 import Environment, FileSystemLoader, select_autoescape
from sqlalchemy.orm import Session

from microfluence.access.roles import MANAGE, WRITE
from microfluence.access.users import workspaces_of
from microfluence.catalog.validation import safe_link
from microfluence.web import auth

TEMPLATES = Path(__file__).resolve().parent.parent / "templates"

env = Environment(
    loader=FileSystemLoader(TEMPLATES),
    autoescape=select_autoescape(["html"]),  # captions, bios and names are untrusted text
    trim_blocks=True,
    lstrip_blocks=True,
)


def _number(value: Any) -> str:
    """12,345 — or an en dash for a missing number."""
    if value is None:
        return "–"
    if isinstance(value, float):
        if value.is_integer():  # counts computed as floats (cohort sizes, …)
            return f"{int(value):,}"
        return f"{value:,.1f}" if abs(value) < 1000 else f"{value:,.0f}"
    return f"{value:,}"


def _compact(value: Any) -> str:
    """12.3K, 1.2M — for the dense table."""
    if value is None:
        return "–"
    value = float(value)
    for size, suffix in ((1e9, "B"), (1e6, "M"), (1e3, "K")):
        if abs(value) >= size:
            return f"{value / size:.1f}".rstrip("0").rstrip(".") + suffix
    return f"{value:.0f}"


def _percent(value: Any, digits: int = 2) -> str:
    """A fraction as a percentage: 0.0345 → 3.45 %."""
    if value is None:
        return "–"
    return f"{100 * float(value):.{digits}f} %"


def _when(value: Any) -> str:
    if value is None:
        return "–"
    if isinstance(value, dt.datetime):
        return value.strftime("%Y-%m-%d %H:%M")
    if isinstance(value, str):
        return value.replace("T", " ")[:16]
    return str(value)


def _day(value: Any) -> str:
    if value is None:
        return "–"
    if isinstance(value, dt.datetime | dt.date):
        return value.strftime("%Y-%m-%d")
    return str(value)[:10]


env.filters.update(
    number=_number,
    compact=_compact,
    percent=_percent,
    when=_when,
    day=_day,
    safe_link=safe_link,  # links only for http(s): never a stored javascript: URL
)


def query_with(request: Request, **changes: Any) -> str:
    """The current query string with some parameters changed (None removes one)."""
    params = dict(request.query_params)
    for key, value in changes.items():
        if value is None or value == "":
            params.pop(key, None)
        else:
            params[key] = str(value)
    return "?" + urlencode(params) if params else "?"


def page_context(request: Request, db: Session | None) -> dict[str, Any]:
    """What the layout needs: the signed-in user, their workspaces and role, the CSRF token."""
    signed_in = auth.current_session(request, db) if db is not None else None
    principal = signed_in.principal if signed_in else None
    workspaces = workspaces_of(db, signed_in.user_id) if signed_in and db is not None else []
    csrf = auth.csrf_token(request, db) if db is not None else request.state.csrf_cookie
    return {
        "request": request,
        "signed_in": signed_in,
        "principal": principal,
        "workspaces": workspaces,
        "csrf_token": csrf,
        "csrf_field": auth.CSRF_FIELD,
        "can_write": principal is not None and principal.role.allows(WRITE),
        "can_manage": principal is not None and principal.role.allows(MANAGE),
        "query_with": lambda **changes: query_with(request, **changes),
        "path": request.url.path,
    }


def render(
    request: Request,
    db: Session | None,
    template: str,
    status_code: int = 200,
    headers: dict[str, str] | None = None,
    **context: Any,
) -> HTMLResponse:
    html = env.get_template(template).render(**page_context(request, db), **context)
    response = HTMLResponse(html, status_code=status_code, headers=headers)
    # Pages show one workspace's data: never from a shared cache, never framed by another site.
    response.headers.setdefault("Cache-Control", "no-store")
    response.headers.setdefault("X-Frame-Options", "DENY")
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers.setdefault("Referrer-Policy", "same-origin")
    return response
