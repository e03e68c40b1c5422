"""/api/v1/accounts/{id}/vetting: an account's Audience Quality Score with its evidence."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path
from fastapi.responses import HTMLResponse

from microfluence.authenticity.vetting.html import render_report_with_policy
from microfluence.authenticity.vetting.report import vet_account_id
from microfluence.web.api.common import ITEM_ERRORS
from microfluence.web.deps import ApiReader, DbSession
from microfluence.web.headers import report_headers

router = APIRouter(prefix="/accounts", tags=["vetting"])
AccountId = Annotated[int, Path(ge=1, le=2**31 - 1)]


@router.get("/{account_id}/vetting", responses=ITEM_ERRORS)
def get_vetting(db: DbSession, caller: ApiReader, account_id: AccountId) -> dict[str, Any]:
    """The vetting report: score, verdict, every component with its value, weight,
    contribution and evidence, and the data behind the charts (docs/authenticity.md)."""
    return vet_account_id(db, caller.workspace_id, account_id).to_dict()


@router.get("/{account_id}/vetting/report.html", responses=ITEM_ERRORS, response_class=HTMLResponse)
def get_vetting_html(db: DbSession, caller: ApiReader, account_id: AccountId) -> HTMLResponse:
    """The same report as one standalone HTML page (charts included; works offline)."""
    report = vet_account_id(db, caller.workspace_id, account_id)
    html, policy = render_report_with_policy(report)
    return HTMLResponse(html, headers=report_headers(policy))
