"""Campaigns and deals: the tables every later capability builds on (relationships, tracking,
orders and attribution, the planner). Revision "0012" creates them.

* ``campaigns``: a workspace's campaign — goal, dates, budget and currency, target KPIs, and the
  hashtags and mentions its posts carry;
* ``deals``: one creator in one campaign, with what the creator is paid — a flat fee, gifted
  product (value and shipping), a commission on attributed net revenue;
* ``deliverables``: what a deal asks for, one row per piece (two feed posts are two rows), each
  linked to the real post once it appears (matched from imported posts, or by hand).

Money is ``Numeric(14, 2)`` in the campaign's currency; rates are fractions (0.10 = 10 %).
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    DateTime,
    ForeignKey,
    Integer,
    Numeric,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from microfluence.kernel.store.tables import Base, utcnow, workspace_column

GOALS = ("awareness", "engagement", "traffic", "sales", "content")
CAMPAIGN_STATUSES = ("draft", "active", "paused", "ended")
DELIVERABLE_FORMATS = ("feed_post", "reel", "video", "story", "short")
DELIVERABLE_STATUSES = ("pending", "matched", "confirmed")
# The relationship pipeline (relationships/stages.py): the main path in order, then the stages
# a deal leaves it for. Revision "0016" adds the column.
PIPELINE_STAGES = (
    "prospect",
    "contacted",
    "replied",
    "negotiating",
    "agreed",
    "product_shipped",
    "content_live",
    "paid",
)
SIDE_STAGES = ("declined", "no_reply", "on_hold")
STAGES = PIPELINE_STAGES + SIDE_STAGES
GIFT_STATUSES = ("requested", "shipped", "delivered", "returned", "cancelled")
Money = Numeric(14, 2)


class Campaign(Base):
    __tablename__ = "campaigns"
    __table_args__ = (UniqueConstraint("workspace_id", "name"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    workspace_id: Mapped[int] = workspace_column()
    name: Mapped[str] = mapped_column(String(200))
    goal: Mapped[str] = mapped_column(String(20), default="sales")
    status: Mapped[str] = mapped_column(String(20), default="draft")
    starts_on: Mapped[dt.date | None] = mapped_column(Date)
    ends_on: Mapped[dt.date | None] = mapped_column(Date)
    budget: Mapped[Decimal | None] = mapped_column(Money)
    currency: Mapped[str] = mapped_column(String(3), default="USD")
    # KPI name -> target value, e.g. {"clicks": 10000, "revenue": 25000, "roi": 1.5}
    targets: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    # Lower case, without the leading # or @: what the campaign's posts carry.
    hashtags: Mapped[list[str]] = mapped_column(JSON, default=list)
    mentions: Mapped[list[str]] = mapped_column(JSON, default=list)
    # Clicks older than this many days before an order do not earn it (attribution).
    attribution_days: Mapped[int] = mapped_column(Integer, default=30)
    notes: Mapped[str | None] = mapped_column(Text)
    # The brief creators read in the portal: what to make, dos and don'ts, the ad disclosure
    # required (e.g. "#ad" or the platform's paid-partnership label). Revision "0016".
    brief: Mapped[str | None] = mapped_column(Text)
    dos: Mapped[list[str]] = mapped_column(JSON, default=list)
    donts: Mapped[list[str]] = mapped_column(JSON, default=list)
    disclosure: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow, onupdate=utcnow)


class Deal(Base):
    __tablename__ = "deals"
    __table_args__ = (UniqueConstraint("campaign_id", "creator_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    workspace_id: Mapped[int] = workspace_column()
    campaign_id: Mapped[int] = mapped_column(
        ForeignKey("campaigns.id", ondelete="CASCADE"), index=True
    )
    creator_id: Mapped[int] = mapped_column(
        ForeignKey("creators.id", ondelete="CASCADE"), index=True
    )
    # The creator's account the deal is about (its posts are matched first); NULL: any.
    account_id: Mapped[int | None] = mapped_column(ForeignKey("accounts.id", ondelete="SET NULL"))
    flat_fee: Mapped[Decimal] = mapped_column(Money, default=Decimal("0"))
    product_value: Mapped[Decimal] = mapped_column(Money, default=Decimal("0"))
    shipping_cost: Mapped[Decimal] = mapped_column(Money, default=Decimal("0"))
    commission_rate: Mapped[Decimal] = mapped_column(Numeric(7, 4), default=Decimal("0"))
    notes: Mapped[str | None] = mapped_column(Text)
    # Where the relationship stands (one of STAGES) and since when; every move is a DealEvent.
    stage: Mapped[str] = mapped_column(String(20), default="prospect", index=True)
    stage_changed_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow, onupdate=utcnow)


class Deliverable(Base):
    __tablename__ = "deliverables"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    workspace_id: Mapped[int] = workspace_column()
    deal_id: Mapped[int] = mapped_column(ForeignKey("deals.id", ondelete="CASCADE"), index=True)
    format: Mapped[str] = mapped_column(String(20))
    due_on: Mapped[dt.date | None] = mapped_column(Date)
    post_id: Mapped[int | None] = mapped_column(
        ForeignKey("posts.id", ondelete="SET NULL"), index=True
    )
    status: Mapped[str] = mapped_column(String(20), default="pending")
    matched_by: Mapped[str | None] = mapped_column(String(10))  # "auto" or "user"
    matched_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    match_reason: Mapped[str | None] = mapped_column(String(300))
    # Posts a user said are not this deliverable: never matched to it again automatically.
    rejected_post_ids: Mapped[list[Any]] = mapped_column(JSON, default=list)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow, onupdate=utcnow)


class Product(Base):
    """The brand's catalogue of products it can gift (revision "0016")."""

    __tablename__ = "products"
    __table_args__ = (UniqueConstraint("workspace_id", "sku"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    workspace_id: Mapped[int] = workspace_column()
    sku: Mapped[str] = mapped_column(String(100))
    name: Mapped[str] = mapped_column(String(300))
    description: Mapped[str | None] = mapped_column(Text)
    value: Mapped[Decimal] = mapped_column(Money)
    currency: Mapped[str] = mapped_column(String(3), default="USD")
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow, onupdate=utcnow)


class Gift(Base):
    """Product sent to a creator under a deal (revision "0016"): what, where, how it travels.
    Counted in the deal's cost (value × quantity, unless cancelled or returned)."""

    __tablename__ = "gifts"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    workspace_id: Mapped[int] = workspace_column()
    deal_id: Mapped[int] = mapped_column(ForeignKey("deals.id", ondelete="CASCADE"), index=True)
    product_id: Mapped[int | None] = mapped_column(ForeignKey("products.id", ondelete="SET NULL"))
    sku: Mapped[str | None] = mapped_column(String(100))
    name: Mapped[str] = mapped_column(String(300))
    value: Mapped[Decimal] = mapped_column(Money, default=Decimal("0"))
    quantity: Mapped[int] = mapped_column(Integer, default=1)
    # Personal data: erased with the creator (relationships privacy).
    address: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    carrier: Mapped[str | None] = mapped_column(String(100))
    tracking_number: Mapped[str | None] = mapped_column(String(100))
    status: Mapped[str] = mapped_column(String(20), default="requested")
    shipped_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    delivered_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow, onupdate=utcnow)
