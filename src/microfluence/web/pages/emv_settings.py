"""EMV's CPM per platform on the settings page (owners): the rates in effect, each marked as
the workspace's own or the default, and the form that changes them through
measurement.emv.set_emv_rates — the service of `microfluence report emv-rates` and
``PUT /api/v1/emv-rates``."""

from __future__ import annotations

from dataclasses import dataclass

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse
from sqlalchemy.orm import Session

from microfluence.kernel.store.tables import Workspace
from microfluence.measurement import emv
from microfluence.web.deps import CsrfChecked, DbSession, PageOwner

router = APIRouter(prefix="/settings", include_in_schema=False)
PREFIX = "cpm."  # the form's fields: cpm.instagram, cpm.tiktok, …


@dataclass(frozen=True)
class RateRow:
    platform: str
    cpm: float
    own: bool  # the workspace set it; else the default
    default: float


def emv_rows(db: Session, workspace_id: int) -> list[RateRow]:
    """Every platform's CPM in effect, for the settings page."""
    workspace = db.get(Workspace, workspace_id)
    assert workspace is not None
    rates, own = emv.emv_rates(workspace), emv.own_rates(workspace)
    return [RateRow(p, cpm, p in own, emv.DEFAULT_CPM[p]) for p, cpm in rates.items()]


@router.post("/emv-rates", dependencies=[CsrfChecked])
async def set_rates(request: Request, db: DbSession, caller: PageOwner) -> RedirectResponse:
    """The platforms whose field is filled get that CPM (a blank field keeps the platform's
    rate); with ``reset``, the workspace's own rates are forgotten first. All or nothing: a bad
    value (named ``emv_cpm.PLATFORM``) changes no rate."""
    form = await request.form()
    given = {
        key.removeprefix(PREFIX): value.strip()
        for key, value in form.items()
        if key.startswith(PREFIX) and isinstance(value, str) and value.strip()
    }
    workspace = db.get(Workspace, caller.workspace_id)
    assert workspace is not None
    emv.set_emv_rates(db, workspace, given, reset=form.get("reset") == "on")
    return RedirectResponse("/settings#emv-rates", status_code=303)
