"""One creator's deals across every campaign, with their KPIs: the history the relationship
record shows (docs/relationships.md, "Relationship record").

The same sums and ratios as a campaign's report (:mod:`measurement.kpis`, docs/measurement.md),
computed for all the creator's deals at once: one query for the deals, one for the links and a
group-by for their clicks, one for the attributed orders, one for the delivered posts, then
:func:`measurement.report.per_deal`. Clicks and orders that name the creator and a campaign but
no deal count for the creator's deal in that campaign, as in the campaign's report.
"""

from __future__ import annotations

import polars as pl
from sqlalchemy import literal, or_, select
from sqlalchemy.orm import Session

from microfluence.campaigns.tables import Campaign, Deal, Deliverable
from microfluence.commerce.revenue import attributed_revenue
from microfluence.kernel.store.tables import Account, Post, Workspace
from microfluence.measurement.emv import emv_rates
from microfluence.measurement.report import per_deal
from microfluence.measurement.sources import MONEY, POST_SCHEMA, _frame
from microfluence.tracking.counts import click_counts
from microfluence.tracking.tables import TrackingLink

DEAL_SCHEMA = {
    "deal_id": pl.Int64,
    "creator_id": pl.Int64,
    "campaign_id": pl.Int64,
    "campaign": pl.String,
    "campaign_status": pl.String,
    "currency": pl.String,
    "starts_on": pl.Date,
    "stage": pl.String,
    "stage_changed_at": pl.Datetime("us"),
    "created_at": pl.Datetime("us"),
    **dict.fromkeys(MONEY, pl.Float64),
}


def _deals(session: Session, workspace_id: int, creator_id: int) -> pl.DataFrame:
    rows = session.execute(
        select(
            Deal.id,
            Deal.creator_id,
            Campaign.id,
            Campaign.name,
            Campaign.status,
            Campaign.currency,
            Campaign.starts_on,
            Deal.stage,
            Deal.stage_changed_at,
            Deal.created_at,
            *(getattr(Deal, m) for m in MONEY),
        )
        .join(Campaign, Campaign.id == Deal.campaign_id)
        .where(Deal.workspace_id == workspace_id, Deal.creator_id == creator_id)
        .order_by(Deal.created_at, Deal.id)
    ).all()
    return _frame(rows, DEAL_SCHEMA)


def _to_deal(frame: pl.DataFrame, deal_map: pl.DataFrame) -> pl.DataFrame:
    """``deal_id`` kept when it is one of the creator's deals, else the creator's deal in the
    row's campaign; rows of neither are dropped."""
    return (
        frame.join(deal_map.rename({"deal_id": "by_campaign"}), on="campaign_id", how="left")
        .with_columns(
            deal_id=pl.when(pl.col("deal_id").is_in(deal_map["deal_id"].implode()))
            .then("deal_id")
            .otherwise("by_campaign")
        )
        .filter(pl.col("deal_id").is_not_null())
        .drop("by_campaign")
    )


def _clicks(
    session: Session, workspace_id: int, creator_id: int, deal_map: pl.DataFrame
) -> pl.DataFrame:
    deal_ids = deal_map["deal_id"].to_list()
    links = _frame(
        session.execute(
            select(TrackingLink.id, TrackingLink.campaign_id, TrackingLink.deal_id).where(
                TrackingLink.workspace_id == workspace_id,
                or_(TrackingLink.creator_id == creator_id, TrackingLink.deal_id.in_(deal_ids)),
            )
        ).all(),
        {"link_id": pl.Int64, "campaign_id": pl.Int64, "deal_id": pl.Int64},
    )
    counts = click_counts(session, workspace_id, by="link", ids=links["link_id"].to_list())
    return (
        counts.join(_to_deal(links, deal_map), on="link_id", how="inner")
        .group_by("deal_id")
        .agg(pl.col("clicks", "unique_clicks", "bot_clicks").sum())
    )


def _orders(
    session: Session, workspace_id: int, creator_id: int, deal_map: pl.DataFrame
) -> pl.DataFrame:
    frame = attributed_revenue(session, workspace_id, creator_id=creator_id)
    return _to_deal(frame, deal_map).select(
        "order_id",
        "deal_id",
        revenue=pl.col("net").cast(pl.Float64),
        net_revenue=pl.col("revenue").cast(pl.Float64),
        commission=pl.col("commission").cast(pl.Float64),
    )


def _posts(session: Session, workspace_id: int, creator_id: int) -> pl.DataFrame:
    query = (
        select(
            Deliverable.deal_id,
            Post.id,
            Account.platform,
            Post.posted_at,
            Post.likes,
            Post.comments,
            Post.shares,
            Post.saves,
            Post.views,
            Post.reach,
            Post.impressions,
        )
        .distinct()
        .join(Deal, Deal.id == Deliverable.deal_id)
        .join(Post, Post.id == Deliverable.post_id)
        .join(Account, Account.id == Post.account_id)
        .where(
            Deliverable.workspace_id == workspace_id,
            Deal.workspace_id == workspace_id,
            Deal.creator_id == creator_id,
            Deliverable.post_id.is_not(None),
            Deliverable.status != literal("pending"),
        )
    )
    return _frame(session.execute(query).all(), POST_SCHEMA)


def creator_deals(session: Session, workspace: Workspace, creator_id: int) -> pl.DataFrame:
    """One row per deal of the creator, oldest first: the campaign (id, name, status,
    currency, start), the deal's stage and the KPIs of a campaign report's creator row (cost,
    revenue, net revenue, ROI with its interval, clicks, orders, posts, engagements, EMV …)."""
    deals = _deals(session, workspace.id, creator_id)
    deal_map = deals.select("campaign_id", "deal_id")
    clicks = _clicks(session, workspace.id, creator_id, deal_map)
    orders = _orders(session, workspace.id, creator_id, deal_map)
    posts = _posts(session, workspace.id, creator_id)
    frame = per_deal(deals, clicks, orders, posts, emv_rates(workspace))
    return frame.sort("created_at", "deal_id")
