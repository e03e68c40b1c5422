"""/api/v1/campaigns/{id}/report, /api/v1/payouts and /api/v1/emv-rates: a campaign's KPIs,
what creators are owed for a period, and EMV's CPM per platform (docs/measurement.md)."""

from __future__ import annotations

import datetime as dt
from enum import StrEnum
from typing import Annotated

from fastapi import APIRouter, Path, Query
from fastapi.responses import Response
from pydantic import BaseModel

from microfluence.campaigns.campaigns import find_campaign
from microfluence.kernel.store.tables import Workspace
from microfluence.measurement import emv
from microfluence.measurement.payouts import payouts, payouts_csv
from microfluence.measurement.report import campaign_report
from microfluence.measurement.schemas import CampaignReport, EmvRates, PayoutRow
from microfluence.measurement.sources import Period
from microfluence.web.api.common import ITEM_ERRORS, READ_ERRORS, WRITE_ERRORS
from microfluence.web.deps import ApiOwner, ApiReader, DbSession

router = APIRouter(tags=["measurement"])
CampaignId = Annotated[int, Path(ge=1, le=2**31 - 1)]
FromQ = Annotated[dt.date | None, Query(alias="from", description="First UTC day counted.")]
ToQ = Annotated[dt.date | None, Query(alias="to", description="Last UTC day counted.")]


class PayoutFormat(StrEnum):
    json = "json"
    csv = "csv"


@router.get("/campaigns/{campaign_id}/report", responses=ITEM_ERRORS)
def get_campaign_report(
    db: DbSession,
    caller: ApiReader,
    campaign_id: CampaignId,
    from_: FromQ = None,
    to: ToQ = None,
) -> CampaignReport:
    """KPIs per creator (deal), the campaign's totals, its days and its targets, over the
    period (all time without one)."""
    workspace = db.get_one(Workspace, caller.workspace_id)
    return campaign_report(db, workspace, campaign_id, Period(from_, to))


@router.get(
    "/payouts",
    responses={
        **ITEM_ERRORS,
        200: {"content": {"application/json": {}, "text/csv": {}}},
    },
    response_model=list[PayoutRow],
)
def get_payouts(
    db: DbSession,
    caller: ApiReader,
    from_: Annotated[dt.date, Query(alias="from", description="First UTC day counted.")],
    to: Annotated[dt.date, Query(description="Last UTC day counted.")],
    campaign_id: Annotated[int | None, Query(ge=1, le=2**31 - 1)] = None,
    format_: Annotated[PayoutFormat, Query(alias="format")] = PayoutFormat.json,
) -> Response | list[PayoutRow]:
    """Commission (on attributed net revenue of the period's orders, less the period's refunds)
    and fees due per creator; `format=csv` for the payout CSV with its totals rows."""
    if campaign_id is not None:
        find_campaign(db, caller.workspace_id, campaign_id)
    rows = payouts(db, caller.workspace_id, Period(from_, to), campaign_id=campaign_id)
    if format_ is PayoutFormat.csv:
        name = f"payouts-{from_}-{to}.csv"
        return Response(
            payouts_csv(rows),
            media_type="text/csv; charset=utf-8",
            headers={"Content-Disposition": f'attachment; filename="{name}"'},
        )
    return [PayoutRow.model_validate(r) for r in rows.to_dicts()]


class EmvRatesUpdate(BaseModel):
    rates: dict[str, float] = {}
    reset: bool = False


@router.get("/emv-rates", responses=READ_ERRORS)
def get_emv_rates(db: DbSession, caller: ApiReader) -> EmvRates:
    """The CPM per platform EMV uses: the workspace's own over the documented defaults."""
    workspace = db.get_one(Workspace, caller.workspace_id)
    return EmvRates(rates=emv.emv_rates(workspace), own=emv.own_rates(workspace))


@router.put("/emv-rates", responses=WRITE_ERRORS)
def put_emv_rates(db: DbSession, caller: ApiOwner, body: EmvRatesUpdate) -> EmvRates:
    """Set platforms' CPMs for EMV (owners: a workspace setting); `reset` forgets the
    workspace's own rates first."""
    workspace = db.get_one(Workspace, caller.workspace_id)
    rates = emv.set_emv_rates(db, workspace, body.rates, reset=body.reset)
    return EmvRates(rates=rates, own=emv.own_rates(workspace))
