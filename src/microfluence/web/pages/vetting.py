"""The vetting page of one account: the Audience Quality Score, each component with its value,
contribution and evidence, and the charts of the authenticity report; and the same report as a
standalone HTML file to download."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Request
from fastapi.responses import HTMLResponse, Response

from microfluence.authenticity.vetting.html import (
    comments_figure,
    fake_share_figure,
    growth_figure,
    render_report_with_policy,
)
from microfluence.authenticity.vetting.report import vet_account_id
from microfluence.catalog.accounts import get_account
from microfluence.catalog.schemas import ID_MAX
from microfluence.kernel.files import safe_filename
from microfluence.web.deps import DbSession, PageReader
from microfluence.web.headers import report_headers
from microfluence.web.pages.charts import to_div
from microfluence.web.pages.rendering import render

router = APIRouter(include_in_schema=False)
AccountId = Annotated[int, Path(ge=1, le=ID_MAX)]


@router.get("/accounts/{account_id}/vetting")
def vetting_page(
    request: Request, db: DbSession, caller: PageReader, account_id: AccountId
) -> HTMLResponse:
    account = get_account(db, caller.workspace_id, account_id)  # 404 for other workspaces' ids
    report = vet_account_id(db, caller.workspace_id, account_id)
    return render(
        request,
        db,
        "vetting.html",
        title=f"Vetting · {report.reference}",
        account=account,
        report=report,
        growth_chart=to_div(growth_figure(report), "vet-growth"),
        comments_chart=to_div(comments_figure(report), "vet-comments"),
        fake_share_chart=to_div(fake_share_figure(report), "vet-fake-share"),
        charts=True,
    )


@router.get("/accounts/{account_id}/vetting/report.html")
def vetting_report_file(db: DbSession, caller: PageReader, account_id: AccountId) -> Response:
    """The standalone report (plotly.js inline), as a download."""
    report = vet_account_id(db, caller.workspace_id, account_id)
    name = safe_filename(f"vetting-{report.platform}-{report.handle}.html")
    html, policy = render_report_with_policy(report)
    return Response(
        html,
        media_type="text/html; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{name}"', **report_headers(policy)},
    )
