"""A creator's deals across campaigns with spend and results: per deal its campaign, stage,
cost, revenue and ROI, from measurement.creator_deals (one pass over all the creator's deals),
and the totals over them (docs/relationships.md, "Relationship record")."""

from __future__ import annotations

import datetime as dt

import polars as pl
from pydantic import BaseModel
from sqlalchemy.orm import Session

from microfluence.catalog.creators import find_creator
from microfluence.catalog.schemas import UtcDateTime
from microfluence.kernel.store.tables import Workspace
from microfluence.measurement import kpis as K
from microfluence.measurement.creator_deals import creator_deals
from microfluence.measurement.schemas import Money, Ratio


class DealResult(BaseModel):
    deal_id: int
    campaign_id: int
    campaign: str
    campaign_status: str
    currency: str
    starts_on: dt.date | None
    stage: str
    stage_changed_at: UtcDateTime | None
    created_at: UtcDateTime | None
    cost: Money
    revenue: Money
    net_revenue: Money
    roi: Ratio
    roi_low: Ratio
    roi_high: Ratio
    roas: Ratio
    clicks: int
    unique_clicks: int
    orders: int
    posts: int
    engagements: int
    emv: Money


class DealTotals(BaseModel):
    deals: int
    currencies: list[str]
    cost: Money | None = None
    net_revenue: Money | None = None
    roi: Ratio = None


class DealHistory(BaseModel):
    creator_id: int
    deals: list[DealResult]
    totals: DealTotals


def deals_with_results(session: Session, workspace: Workspace, creator_id: int) -> DealHistory:
    """The creator's deals, oldest first, with their KPIs, and totals (summed across
    currencies only when there is one: ``currencies`` says which)."""
    find_creator(session, workspace.id, creator_id)
    frame = creator_deals(session, workspace, creator_id)
    sums = frame.select(
        deals=pl.len(),
        cost=pl.col("cost").sum(),
        net_revenue=pl.col("net_revenue").sum(),
    ).with_columns(roi=K.ratio(pl.col("net_revenue") - pl.col("cost"), "cost"))
    total = sums.to_dicts()[0]
    currencies = sorted(frame["currency"].unique().to_list())
    floats = [c for c, t in frame.schema.items() if t == pl.Float64 and c not in K.MONEY_SUMS]
    rows = frame.with_columns(pl.col(floats).round(6)).to_dicts()
    return DealHistory(
        creator_id=creator_id,
        deals=[DealResult.model_validate(r) for r in rows],
        totals=_totals(total, currencies),
    )


def _totals(total: dict, currencies: list[str]) -> DealTotals:  # type: ignore[type-arg]
    if len(currencies) > 1:  # amounts in different currencies do not add up
        return DealTotals(deals=total["deals"], currencies=currencies)
    return DealTotals(
        deals=total["deals"],
        currencies=currencies,
        cost=total["cost"] or 0,
        net_revenue=total["net_revenue"] or 0,
        roi=None if total["roi"] is None else round(total["roi"], 6),
    )
