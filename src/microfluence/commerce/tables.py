"""Shops, their orders and refunds, webhook deliveries, and codes created in a shop (revision
"0015").

* ``shops``: a brand's Shopify or WooCommerce store; webhooks reach it at
  ``/hooks/{platform}/{public_id}`` and are signed with ``secret`` (or, during a rotation,
  ``previous_secret``). Secrets are shown once, when made, and never returned again.
* ``orders``: one shop order (its own id unique per shop), its money, the codes used, where the
  buyer landed, a hash of the customer (never the e-mail itself), and what it was attributed to.
* ``refunds``: refunds by their own id (unique per shop), tied to their order by its shop id,
  so a refund that arrives before its order still counts when the order comes.
* ``webhook_deliveries``: each delivery as received (de-duplicated by the platform's delivery
  id), its raw body kept until it has been processed.
* ``shop_discount_codes``: a code pushed to a shop through its Admin API, with the shop's id.

Money is ``Numeric(14, 2)`` in the order's currency.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from microfluence.campaigns.tables import Money
from microfluence.kernel.store.tables import Base, BigId, utcnow, workspace_column
from microfluence.tracking import tables as _tracking  # noqa: F401  the tables referred to

SHOP_PLATFORMS = ("shopify", "woocommerce")
METHODS = ("code", "click", "none")
DELIVERY_STATUSES = ("received", "processed", "ignored", "failed")


class Shop(Base):
    __tablename__ = "shops"
    __table_args__ = (UniqueConstraint("workspace_id", "name"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    workspace_id: Mapped[int] = workspace_column()
    platform: Mapped[str] = mapped_column(String(20))
    name: Mapped[str] = mapped_column(String(100))
    domain: Mapped[str | None] = mapped_column(String(255))
    # In the webhook URL: random, unique across workspaces, says nothing about the workspace.
    public_id: Mapped[str] = mapped_column(String(40), unique=True)
    secret: Mapped[str] = mapped_column(String(200))
    previous_secret: Mapped[str | None] = mapped_column(String(200))
    secret_rotated_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    # Shopify Admin API access token (a custom app's), to create codes in the shop.
    access_token: Mapped[str | None] = mapped_column(String(200))
    currency: Mapped[str | None] = mapped_column(String(3))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)


class Order(Base):
    __tablename__ = "orders"
    __table_args__ = (
        UniqueConstraint("shop_id", "external_id"),
        Index("ix_orders_workspace_ordered", "workspace_id", "ordered_at"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    workspace_id: Mapped[int] = workspace_column()
    shop_id: Mapped[int] = mapped_column(ForeignKey("shops.id", ondelete="CASCADE"))
    external_id: Mapped[str] = mapped_column(String(64))  # the shop's order id
    name: Mapped[str | None] = mapped_column(String(64))  # "#1001"
    ordered_at: Mapped[dt.datetime] = mapped_column(DateTime)
    currency: Mapped[str] = mapped_column(String(3))
    # gross: the line items before discounts; net: after discounts, before shipping and taxes
    # (what attribution and commissions count); total: what the buyer paid.
    gross: Mapped[Decimal] = mapped_column(Money, default=Decimal("0"))
    discounts: Mapped[Decimal] = mapped_column(Money, default=Decimal("0"))
    net: Mapped[Decimal] = mapped_column(Money, default=Decimal("0"))
    total: Mapped[Decimal] = mapped_column(Money, default=Decimal("0"))
    refunded: Mapped[Decimal] = mapped_column(Money, default=Decimal("0"))  # sum of refunds
    financial_status: Mapped[str | None] = mapped_column(String(40))
    codes: Mapped[list[str]] = mapped_column(JSON, default=list)  # upper case, as used
    landing_url: Mapped[str | None] = mapped_column(Text)
    referrer: Mapped[str | None] = mapped_column(Text)
    referrer_host: Mapped[str | None] = mapped_column(String(255))
    customer_hash: Mapped[str | None] = mapped_column(String(64))  # keyed hash, never the e-mail
    source: Mapped[str] = mapped_column(String(20), default="webhook")  # webhook, csv
    # The shop's own "last changed" time: an older version arriving late never overwrites.
    shop_updated_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    # Attribution (commerce.attribution): written again whenever it is re-run.
    method: Mapped[str] = mapped_column(String(10), default="none")
    creator_id: Mapped[int | None] = mapped_column(
        ForeignKey("creators.id", ondelete="SET NULL"), index=True
    )
    deal_id: Mapped[int | None] = mapped_column(ForeignKey("deals.id", ondelete="SET NULL"))
    campaign_id: Mapped[int | None] = mapped_column(
        ForeignKey("campaigns.id", ondelete="SET NULL"), index=True
    )
    code_id: Mapped[int | None] = mapped_column(
        ForeignKey("discount_codes.id", ondelete="SET NULL")
    )
    link_id: Mapped[int | None] = mapped_column(
        ForeignKey("tracking_links.id", ondelete="SET NULL")
    )
    click_id: Mapped[int | None] = mapped_column(
        BigInteger().with_variant(Integer, "sqlite"),
        ForeignKey("link_clicks.id", ondelete="SET NULL"),
    )
    leak: Mapped[bool] = mapped_column(Boolean, default=False)
    leak_reason: Mapped[str | None] = mapped_column(String(300))
    attributed_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)


class Refund(Base):
    __tablename__ = "refunds"
    __table_args__ = (
        UniqueConstraint("shop_id", "external_id"),
        Index("ix_refunds_shop_order", "shop_id", "order_external_id"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    workspace_id: Mapped[int] = workspace_column()
    shop_id: Mapped[int] = mapped_column(ForeignKey("shops.id", ondelete="CASCADE"))
    external_id: Mapped[str] = mapped_column(String(64))
    order_external_id: Mapped[str] = mapped_column(String(64))
    refunded_at: Mapped[dt.datetime] = mapped_column(DateTime)
    amount: Mapped[Decimal] = mapped_column(Money)  # merchandise refunded, before taxes
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)


class WebhookDelivery(Base):
    __tablename__ = "webhook_deliveries"
    __table_args__ = (UniqueConstraint("shop_id", "delivery_id"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    workspace_id: Mapped[int] = workspace_column()
    shop_id: Mapped[int] = mapped_column(ForeignKey("shops.id", ondelete="CASCADE"))
    delivery_id: Mapped[str] = mapped_column(String(100))  # X-Shopify-Webhook-Id, …
    topic: Mapped[str] = mapped_column(String(60))
    received_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    status: Mapped[str] = mapped_column(String(20), default="received", index=True)
    body: Mapped[bytes | None] = mapped_column(LargeBinary)  # dropped once processed
    error: Mapped[str | None] = mapped_column(Text)
    processed_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    # Deliveries of the same id the platform sent again (answered, not processed again).
    repeats: Mapped[int] = mapped_column(Integer, default=0)


class ShopDiscountCode(Base):
    __tablename__ = "shop_discount_codes"
    __table_args__ = (UniqueConstraint("shop_id", "code_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    workspace_id: Mapped[int] = workspace_column()
    shop_id: Mapped[int] = mapped_column(ForeignKey("shops.id", ondelete="CASCADE"))
    code_id: Mapped[int] = mapped_column(ForeignKey("discount_codes.id", ondelete="CASCADE"))
    external_id: Mapped[str] = mapped_column(String(200))  # gid://shopify/DiscountCodeNode/…
    details: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
