"""The reminder thresholds on the settings page (owners): each threshold in effect, marked as the
workspace's own or the default, and the form that changes them through
relationships.reminder_settings.set_thresholds — the service of
`microfluence reminders --set` and ``PUT /api/v1/reminders/settings``."""

from __future__ import annotations

from dataclasses import dataclass

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse
from sqlalchemy.orm import Session

from microfluence.kernel.store.tables import Workspace
from microfluence.relationships import reminder_settings as rs
from microfluence.web.deps import CsrfChecked, DbSession, PageOwner

router = APIRouter(prefix="/settings", include_in_schema=False)
PREFIX = "days."  # the form's fields: days.follow_up_days, …
FORM_MAX_FIELDS = 50


@dataclass(frozen=True)
class ThresholdRow:
    name: str
    days: int
    own: bool  # the workspace set it; else the default
    default: int
    meaning: str


def threshold_rows(db: Session, workspace_id: int) -> list[ThresholdRow]:
    """Every reminder threshold in effect, for the settings page."""
    workspace = db.get(Workspace, workspace_id)
    assert workspace is not None
    now, own = rs.thresholds(workspace), rs.own_thresholds(workspace)
    return [
        ThresholdRow(name, now[name], name in own, default, meaning)
        for name, (default, meaning) in rs.THRESHOLDS.items()
    ]


@router.post("/reminder-thresholds", dependencies=[CsrfChecked])
async def set_thresholds(request: Request, db: DbSession, caller: PageOwner) -> RedirectResponse:
    """The thresholds whose field is filled get those days (a blank field keeps its value);
    with ``reset``, the workspace's own thresholds are forgotten first. All or nothing: a bad
    value names its threshold and changes none."""
    form = await request.form(max_fields=FORM_MAX_FIELDS)
    given = {
        key.removeprefix(PREFIX): value.strip()
        for key, value in form.items()
        if key.startswith(PREFIX) and isinstance(value, str) and value.strip()
    }
    workspace = db.get(Workspace, caller.workspace_id)
    assert workspace is not None
    rs.set_thresholds(db, workspace, given, reset=form.get("reset") == "on")
    return RedirectResponse("/settings#reminder-thresholds", status_code=303)
