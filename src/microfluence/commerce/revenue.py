"""Revenue and commission of attributed orders (docs/measurement.md#orders-and-revenue): one
row per order, for KPIs and payouts to aggregate."""

from __future__ import annotations

import polars as pl
import sqlalchemy as sa
from sqlalchemy import select
from sqlalchemy.orm import Session

from microfluence.campaigns.tables import Deal
from microfluence.commerce.attribution_load import frame as typed_frame
from microfluence.commerce.tables import Order

# Orders never paid: Shopify's financial status "voided" (an authorisation cancelled), and
# WooCommerce's "cancelled" and "failed" statuses. They earn nothing.
UNPAID = ("voided", "cancelled", "failed")


def attributed_revenue(
    session: Session,
    workspace_id: int,
    campaign_id: int | None = None,
    *,
    creator_id: int | None = None,
) -> pl.DataFrame:
    """One row per attributed order: its creator, deal and campaign, net revenue, refunds,
    revenue after refunds (never below 0) and the commission it owes (the deal's rate × revenue
    after refunds). Orders never paid (:data:`UNPAID`) earn nothing. The table KPIs and
    payouts aggregate. ``creator_id`` keeps the orders of one creator (by the creator the code or
    link named, or by one of their deals)."""
    query = (
        select(
            Order.id,
            Order.ordered_at,
            Order.method,
            Order.creator_id,
            Order.deal_id,
            Order.campaign_id,
            Order.currency,
            Order.net,
            Order.refunded,
            Order.leak,
            Deal.commission_rate,
        )
        .outerjoin(Deal, Deal.id == Order.deal_id)
        .where(
            Order.workspace_id == workspace_id,
            Order.method != "none",
            sa.or_(Order.financial_status.is_(None), Order.financial_status.not_in(UNPAID)),
        )
    )
    if campaign_id is not None:
        query = query.where(Order.campaign_id == campaign_id)
    if creator_id is not None:
        theirs = select(Deal.id).where(
            Deal.workspace_id == workspace_id, Deal.creator_id == creator_id
        )
        query = query.where(sa.or_(Order.creator_id == creator_id, Order.deal_id.in_(theirs)))
    frame = typed_frame(
        session.execute(query).all(),
        {
            "order_id": pl.Int64,
            "ordered_at": pl.Datetime("us"),
            "method": pl.String,
            "creator_id": pl.Int64,
            "deal_id": pl.Int64,
            "campaign_id": pl.Int64,
            "currency": pl.String,
            "net": pl.Decimal(14, 2),
            "refunded": pl.Decimal(14, 2),
            "leak": pl.Boolean,
            "rate": pl.Decimal(7, 4),
        },
    )
    revenue = pl.max_horizontal(
        pl.col("net") - pl.col("refunded"), pl.lit(0).cast(pl.Decimal(14, 2))
    )
    return (
        frame.with_columns(revenue=revenue)
        .with_columns(commission=(pl.col("revenue") * pl.col("rate").fill_null(0)).round(2))
        .drop("rate")
    )
