"""Tracking links and their clicks (revision "0012", with the campaigns' tables).

* ``tracking_links``: a creator's short link (``/r/{slug}``) to a tagged destination;
* ``link_clicks``: every answered redirect of a short link, with what is known of the visitor
  (never the raw IP address);
* ``discount_codes``: a creator's personal codes (``SARAH15-K7Q``), unique within the workspace
  (so within each of its shops), alone or in single-use batches.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    Numeric,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from microfluence.kernel.store.tables import Base, BigId, utcnow, workspace_column


class TrackingLink(Base):
    __tablename__ = "tracking_links"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    workspace_id: Mapped[int] = workspace_column()
    # Served at /r/{slug}, so unique across workspaces; random, not guessable from another.
    slug: Mapped[str] = mapped_column(String(40), unique=True)
    destination: Mapped[str] = mapped_column(Text)  # the tagged URL the redirect goes to
    creator_id: Mapped[int | None] = mapped_column(
        ForeignKey("creators.id", ondelete="CASCADE"), index=True
    )
    account_id: Mapped[int | None] = mapped_column(ForeignKey("accounts.id", ondelete="SET NULL"))
    campaign_id: Mapped[int | None] = mapped_column(
        ForeignKey("campaigns.id", ondelete="SET NULL"), index=True
    )
    deal_id: Mapped[int | None] = mapped_column(ForeignKey("deals.id", ondelete="SET NULL"))
    utm: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    disabled_at: Mapped[dt.datetime | None] = mapped_column(DateTime)


class LinkClick(Base):
    __tablename__ = "link_clicks"
    __table_args__ = (
        Index("ix_link_clicks_link_clicked", "link_id", "clicked_at"),
        Index("ix_link_clicks_visitor_window", "link_id", "visitor_hash", "window_start"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    workspace_id: Mapped[int] = workspace_column()
    link_id: Mapped[int] = mapped_column(ForeignKey("tracking_links.id", ondelete="CASCADE"))
    # The click's own id, made when the redirect is answered (and passed on in the destination
    # so an order's landing URL names its click): a click is stored once however often it is
    # written (a durable log replayed after a crash).
    token: Mapped[str] = mapped_column(String(40), unique=True)
    clicked_at: Mapped[dt.datetime] = mapped_column(DateTime)
    referrer_host: Mapped[str | None] = mapped_column(String(255))
    referrer: Mapped[str | None] = mapped_column(String(1000))
    agent_class: Mapped[str] = mapped_column(String(20))  # browser, mobile, bot, prefetch, …
    country: Mapped[str | None] = mapped_column(String(2))
    visitor_hash: Mapped[str] = mapped_column(String(64))  # salted hash: never the raw IP
    is_bot: Mapped[bool] = mapped_column(Boolean, default=False)
    # The first click of its visitor on its link in its de-duplication window (one hour).
    is_unique: Mapped[bool] = mapped_column(Boolean, default=True)
    # The UTC clock hour the click falls in (revision "0014"): its de-duplication window.
    window_start: Mapped[dt.datetime | None] = mapped_column(DateTime)


class DiscountCode(Base):
    __tablename__ = "discount_codes"
    __table_args__ = (UniqueConstraint("workspace_id", "code_key"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    workspace_id: Mapped[int] = workspace_column()
    code: Mapped[str] = mapped_column(String(64))  # as the creator shares it
    code_key: Mapped[str] = mapped_column(String(64))  # upper case: shops match codes so
    creator_id: Mapped[int | None] = mapped_column(
        ForeignKey("creators.id", ondelete="CASCADE"), index=True
    )
    campaign_id: Mapped[int | None] = mapped_column(
        ForeignKey("campaigns.id", ondelete="SET NULL"), index=True
    )
    deal_id: Mapped[int | None] = mapped_column(ForeignKey("deals.id", ondelete="SET NULL"))
    kind: Mapped[str] = mapped_column(String(20), default="percent")  # percent, amount, shipping
    value: Mapped[Decimal | None] = mapped_column(Numeric(14, 2))  # 15 = 15 % or 15.00 off
    single_use: Mapped[bool] = mapped_column(Boolean, default=False)
    batch: Mapped[str | None] = mapped_column(String(64))  # codes made together (single-use)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    disabled_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
