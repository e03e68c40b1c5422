"""Shapes of the campaign report and its parts, as the API answers them and `report campaign
--json` prints them. Money sums travel as strings with two decimals (exact, like every amount
of the API); ratios as numbers, ``null`` where undefined (a denominator of 0)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Annotated, Literal

from pydantic import BaseModel, BeforeValidator, Field, PlainSerializer

from microfluence.catalog.schemas import UtcDateTime


def _cents(value: object) -> Decimal:
    return Decimal(f"{float(value or 0):.2f}")  # type: ignore[arg-type]


Money = Annotated[
    Decimal, BeforeValidator(_cents), PlainSerializer(lambda v: f"{v:.2f}", return_type=str)
]
Ratio = float | None


class Kpis(BaseModel):
    clicks: int = Field(description="Clicks of people (bots and prefetches left out).")
    unique_clicks: int = Field(description="One per visitor per link per UTC hour.")
    bot_clicks: int
    orders: int = Field(description="Attributed orders (by code or by click).")
    revenue: Money = Field(description="Σ order net (after discounts, before refunds).")
    refunds: Money = Field(description="Σ refunded, at most each order's net.")
    net_revenue: Money = Field(description="revenue − refunds.")
    commission: Money = Field(description="Σ deal rate × each order's net revenue.")
    flat_fee: Money
    product_value: Money
    shipping_cost: Money
    cost: Money = Field(description="flat fees + commissions + product value + shipping.")
    posts: int = Field(description="Posts that delivered the deliverables.")
    engagements: int = Field(description="Σ likes + comments + shares + saves of the posts.")
    impressions: int = Field(description="Σ impressions, else views, else reach, per post.")
    reach: int
    emv: Money = Field(description="Σ impressions / 1000 × the platform's CPM.")
    conversion_rate: Ratio = Field(description="orders / unique clicks.")
    conversion_rate_low: Ratio = Field(description="Wilson 95 % interval, lower bound.")
    conversion_rate_high: Ratio
    revenue_per_click: Ratio = Field(description="net revenue / unique clicks.")
    average_order_value: Ratio = Field(description="revenue / orders.")
    roi: Ratio = Field(description="(net revenue − cost) / cost.")
    roi_low: Ratio = Field(description="ROI at the Poisson 95 % bounds of the orders.")
    roi_high: Ratio
    roas: Ratio = Field(description="net revenue / cost.")
    cpa: Ratio = Field(description="cost / orders.")
    cpc: Ratio = Field(description="cost / unique clicks.")
    cpe: Ratio = Field(description="cost / engagements.")
    cpm: Ratio = Field(description="cost / impressions × 1000.")


class CreatorKpis(Kpis):
    deal_id: int
    creator_id: int
    creator_name: str | None
    account: str | None = Field(description="PLATFORM:HANDLE of the deal's account.")
    commission_rate: float


class DayKpis(BaseModel):
    day: dt.date
    clicks: int
    unique_clicks: int
    bot_clicks: int
    orders: int
    revenue: Money
    net_revenue: Money
    commission: Money
    conversion_rate: Ratio
    revenue_per_click: Ratio
    average_order_value: Ratio


class TargetProgress(BaseModel):
    kpi: str
    target: float
    actual: float | None
    percent: float | None = Field(description="actual / target × 100; null when undefined.")
    better: Literal["higher", "lower"] = Field(description="Costs per unit: lower is better.")
    met: bool | None


class CampaignReport(BaseModel):
    campaign_id: int
    campaign: str
    status: str
    currency: str
    starts_on: dt.date | None
    ends_on: dt.date | None
    period_from: dt.date | None = Field(description="First UTC day counted (null: all).")
    period_to: dt.date | None = Field(description="Last UTC day counted (null: all).")
    generated_at: UtcDateTime
    order_currencies: list[str] = Field(description="Currencies of the orders counted.")
    emv_cpm: dict[str, float] = Field(description="The CPM per platform EMV used.")
    totals: Kpis
    creators: list[CreatorKpis]
    days: list[DayKpis]
    targets: list[TargetProgress]


class PayoutRow(BaseModel):
    """One creator's payout for a period, in one currency (docs/measurement.md, "Payouts")."""

    creator_id: int | None
    creator: str | None
    account: str | None
    currency: str
    campaigns: str | None
    orders: int
    net_revenue: Money
    refunds: Money
    commission_earned: Money
    commission_refunded: Money
    commission_owed: Money
    fees_due: Money
    total_owed: Money


class EmvRates(BaseModel):
    """EMV's CPM per platform: ``rates`` as used, ``own`` those the workspace set itself."""

    rates: dict[str, float]
    own: dict[str, float]
