"""The home page (``/``): the workspace's dashboard. Its "Needs attention" section lists what
``relationships.reminders`` finds today — the same list as `microfluence reminders` — grouped by
kind, overdue first. Signed-out visitors are sent to sign in."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse

from microfluence.catalog.schemas import ID_MAX
from microfluence.relationships.reminders import grouped, reminders
from microfluence.web.deps import DbSession, MaybeSignedIn
from microfluence.web.pages.links import campaigns_of
from microfluence.web.pages.rendering import render

router = APIRouter(include_in_schema=False)
MaybeId = Annotated[int | None, Query(ge=1, le=ID_MAX)]


@router.get("/", response_model=None)
def home(
    request: Request, db: DbSession, signed_in: MaybeSignedIn, campaign_id: MaybeId = None
) -> HTMLResponse | RedirectResponse:
    """Signed in: the home dashboard; otherwise the sign-in page."""
    if signed_in is None:
        return RedirectResponse("/sign-in", status_code=303)
    principal = signed_in.principal
    if principal is None:  # a user of no workspace yet
        return RedirectResponse("/workspaces", status_code=303)
    found = reminders(db, principal.workspace_id, campaign_id=campaign_id)
    return render(
        request,
        db,
        "home.html",
        title="Home",
        found=found,
        groups=grouped(found),
        campaigns=campaigns_of(db, principal.workspace_id),
        campaign_id=campaign_id,
    )
