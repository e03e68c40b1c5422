"""What the KPIs are made of, read from the store as frames, one query (or group-by) each:
a campaign's deals with their costs, its clicks per deal and day, its attributed orders, and
the posts that delivered its deliverables.

Clicks and orders belong to a deal by the deal the tracking link (or code) names, else by the
campaign and creator they name: a link made for the creator in the campaign before the deal
existed still counts for the deal. Periods are UTC days, both ends included.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

import polars as pl
from sqlalchemy import case, func, literal, select
from sqlalchemy.orm import Session

from microfluence.campaigns.tables import Deal, Deliverable, Gift
from microfluence.commerce.revenue import attributed_revenue
from microfluence.kernel.errors import InputError
from microfluence.kernel.store.tables import Account, Creator, Post
from microfluence.tracking.counts import click_counts
from microfluence.tracking.tables import TrackingLink

MONEY = ("flat_fee", "product_value", "shipping_cost", "commission_rate")
# Gifts not in these statuses are not counted in a deal's product cost.
UNCOUNTED_GIFTS = ("cancelled", "returned")


@dataclass(frozen=True)
class Period:
    """UTC days ``start`` to ``end``, both included; ``None`` leaves that side open."""

    start: dt.date | None = None
    end: dt.date | None = None

    @property
    def since(self) -> dt.datetime | None:
        return dt.datetime.combine(self.start, dt.time()) if self.start else None

    @property
    def until(self) -> dt.datetime | None:  # exclusive: the day after ``end``
        return dt.datetime.combine(self.end + dt.timedelta(days=1), dt.time()) if self.end else None

    @classmethod
    def parse(cls, start: str | dt.date | None, end: str | dt.date | None) -> Period:
        """A period from ``YYYY-MM-DD`` texts (or dates); a bad one names ``from`` or ``to``."""
        return cls(_day(start, "from"), _day(end, "to"))

    def mask(self, column: str) -> pl.Expr:
        """True for the rows whose datetime ``column`` falls in the period."""
        keep = pl.lit(True)
        if self.since is not None:
            keep &= pl.col(column) >= self.since
        if self.until is not None:
            keep &= pl.col(column) < self.until
        return keep

    def mask_date(self, column: str) -> pl.Expr:
        """True for the rows whose date ``column`` falls in the period (null: never)."""
        keep = pl.col(column).is_not_null()
        if self.start is not None:
            keep &= pl.col(column) >= self.start
        if self.end is not None:
            keep &= pl.col(column) <= self.end
        return keep


def _day(value: str | dt.date | None, field: str) -> dt.date | None:
    if value is None or isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(value.strip())
    except ValueError:
        raise InputError(f"expected a day as YYYY-MM-DD, got {value[:40]!r}", field=field) from None


def _frame(rows: list[Any], schema: dict[str, Any]) -> pl.DataFrame:
    return pl.DataFrame([tuple(r) for r in rows], schema=schema, orient="row")


def gift_costs(workspace_id: int, campaign_id: int) -> Any:
    """Per deal of the campaign that has gifts: Σ value × quantity of its gifts not cancelled or
    returned (0 when all are) — one GROUP BY in the database, joined to the deals below."""
    counted = case((Gift.status.in_(UNCOUNTED_GIFTS), literal(0)), else_=Gift.value * Gift.quantity)
    deals_of_campaign = select(Deal.id).where(
        Deal.workspace_id == workspace_id, Deal.campaign_id == campaign_id
    )
    return (
        select(Gift.deal_id.label("deal_id"), func.sum(counted).label("cost"))
        .where(Gift.workspace_id == workspace_id, Gift.deal_id.in_(deals_of_campaign))
        .group_by(Gift.deal_id)
        .subquery("gift_costs")
    )


def deals(session: Session, workspace_id: int, campaign_id: int) -> pl.DataFrame:
    """One row per deal: creator, the account shown for it, and the deal's money. Its product
    cost is its gifts' (:func:`gift_costs`) when it has any, else ``deals.product_value``
    (docs/measurement.md)."""
    gifts = gift_costs(workspace_id, campaign_id)
    first_account = (
        select(func.min(Account.id))
        .where(Account.creator_id == Deal.creator_id, Account.workspace_id == workspace_id)
        .correlate(Deal)
        .scalar_subquery()
    )
    shown = func.coalesce(Deal.account_id, first_account)
    rows = session.execute(
        select(
            Deal.id,
            Deal.creator_id,
            Creator.name,
            Account.platform,
            Account.handle,
            Deal.flat_fee,
            func.coalesce(gifts.c.cost, Deal.product_value),
            Deal.shipping_cost,
            Deal.commission_rate,
        )
        .join(Creator, Creator.id == Deal.creator_id)
        .outerjoin(Account, Account.id == shown)
        .outerjoin(gifts, gifts.c.deal_id == Deal.id)
        .where(Deal.workspace_id == workspace_id, Deal.campaign_id == campaign_id)
        .order_by(Deal.id)
    ).all()
    frame = _frame(
        rows,
        {
            "deal_id": pl.Int64,
            "creator_id": pl.Int64,
            "creator_name": pl.String,
            "platform": pl.String,
            "handle": pl.String,
            **dict.fromkeys(MONEY, pl.Float64),
        },
    )
    return frame.with_columns(
        account=pl.when(pl.col("platform").is_not_null()).then(
            pl.concat_str("platform", pl.lit(":"), "handle")
        )
    ).drop("handle")


def _deal_of(frame: pl.DataFrame, deal_map: pl.DataFrame) -> pl.DataFrame:
    """``deal_id`` filled from the campaign's deal of ``creator_id`` where it is missing."""
    return (
        frame.join(deal_map.rename({"deal_id": "creators_deal"}), on="creator_id", how="left")
        .with_columns(deal_id=pl.coalesce("deal_id", "creators_deal"))
        .drop("creators_deal")
    )


def clicks(
    session: Session, workspace_id: int, campaign_id: int, deal_map: pl.DataFrame, period: Period
) -> pl.DataFrame:
    """Clicks, unique clicks and bot clicks per deal and UTC day, from the campaign's links
    (tracking.counts.click_counts, one group-by)."""
    links = _frame(
        session.execute(
            select(TrackingLink.id, TrackingLink.creator_id, TrackingLink.deal_id).where(
                TrackingLink.workspace_id == workspace_id,
                TrackingLink.campaign_id == campaign_id,
            )
        ).all(),
        {"link_id": pl.Int64, "creator_id": pl.Int64, "deal_id": pl.Int64},
    )
    counts = click_counts(
        session,
        workspace_id,
        by="link",
        daily=True,
        ids=links["link_id"].to_list(),
        since=period.since,
        until=period.until,
    )
    return (
        counts.join(_deal_of(links, deal_map), on="link_id", how="left")
        .group_by("deal_id", "day")
        .agg(pl.col("clicks", "unique_clicks", "bot_clicks").sum())
    )


def orders(
    session: Session, workspace_id: int, campaign_id: int, deal_map: pl.DataFrame, period: Period
) -> pl.DataFrame:
    """The campaign's attributed orders in the period (commerce.attribution): per order its
    deal, UTC day, net revenue before refunds (``revenue``), after refunds (``net_revenue``,
    never below 0) and the commission it owes."""
    frame = attributed_revenue(session, workspace_id, campaign_id).filter(period.mask("ordered_at"))
    return _deal_of(frame, deal_map).select(
        "order_id",
        "deal_id",
        "currency",
        day=pl.col("ordered_at").dt.date(),
        revenue=pl.col("net").cast(pl.Float64),
        net_revenue=pl.col("revenue").cast(pl.Float64),
        commission=pl.col("commission").cast(pl.Float64),
    )


POST_SCHEMA = {
    "deal_id": pl.Int64,
    "post_id": pl.Int64,
    "platform": pl.String,
    "posted_at": pl.Datetime("us"),
    "likes": pl.Int64,
    "comments": pl.Int64,
    "shares": pl.Int64,
    "saves": pl.Int64,
    "views": pl.Int64,
    "reach": pl.Int64,
    "impressions": pl.Int64,
}


def posts(session: Session, workspace_id: int, campaign_id: int, period: Period) -> pl.DataFrame:
    """The posts that delivered the campaign's deliverables (matched or confirmed), once per
    deal, posted in the period, with their counts and platform."""
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
            Post.workspace_id == workspace_id,
            Deal.campaign_id == campaign_id,
            Deliverable.post_id.is_not(None),
            Deliverable.status != literal("pending"),
        )
    )
    if period.since is not None:
        query = query.where(Post.posted_at >= period.since)
    if period.until is not None:
        query = query.where(Post.posted_at < period.until)
    return _frame(session.execute(query).all(), POST_SCHEMA)
