"""Orders and refunds written once however often they arrive: upserts on (shop, the shop's order
id) and (shop, refund id), in bulk, on SQLite and PostgreSQL alike (``INSERT … ON CONFLICT``).

An order's ``refunded`` is the sum of its refunds, recomputed in the database after each write,
so a refund that came before its order counts when the order arrives. Attribution columns are
left to :mod:`microfluence.commerce.attribution`, run on the orders just written.
"""

from __future__ import annotations

import hashlib
import hmac
from decimal import Decimal
from typing import Any

from pydantic import BaseModel
from sqlalchemy import and_, func, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from microfluence.catalog.listing import Window
from microfluence.catalog.schemas import Page, UtcDateTime
from microfluence.commerce.payloads import OrderRecord, RefundRecord, referrer_host
from microfluence.commerce.tables import Order, Refund, Shop
from microfluence.kernel.errors import NotFoundError
from microfluence.kernel.store.tables import utcnow

ORDER_FIELDS = (
    "name",
    "ordered_at",
    "currency",
    "gross",
    "discounts",
    "net",
    "total",
    "financial_status",
    "codes",
    "landing_url",
    "referrer",
    "referrer_host",
    "customer_hash",
    "source",
    "shop_updated_at",
    "updated_at",
)


def customer_hash(key: str, workspace_id: int, email: str | None) -> str | None:
    """A keyed hash (HMAC-SHA256 with the installation's secret) of the workspace and the
    trimmed, lower-case e-mail: the same buyer gives the same hash within a workspace, another
    one in another workspace, and the e-mail cannot be read back."""
    if not email or not email.strip():
        return None
    message = f"{workspace_id}:{email.strip().lower()}".encode()
    return hmac.new(key.encode(), message, hashlib.sha256).hexdigest()


def _insert(session: Session) -> Any:
    return postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert


def upsert(
    session: Session,
    table: Any,
    rows: list[dict[str, Any]],
    keys: list[str],
    fields: tuple,
    newer: str | None = None,
) -> None:
    """Insert or update on ``keys``; with ``newer``, a stored row is only updated by a row
    whose ``newer`` time is not older (or unknown on either side)."""
    if not rows:
        return
    statement = _insert(session)(table)
    where = None
    if newer is not None:
        stored, incoming = getattr(table, newer), statement.excluded[newer]
        where = or_(stored.is_(None), incoming.is_(None), incoming >= stored)
    statement = statement.on_conflict_do_update(
        index_elements=keys, set_={f: statement.excluded[f] for f in fields}, where=where
    )
    for start in range(0, len(rows), 500):
        session.execute(statement, rows[start : start + 500])


def order_rows(
    shop: Shop, records: list[OrderRecord], key: str, source: str
) -> list[dict[str, Any]]:
    now = utcnow()
    return [
        {
            "workspace_id": shop.workspace_id,
            "shop_id": shop.id,
            "external_id": r.external_id,
            "name": r.name,
            "ordered_at": r.ordered_at,
            "currency": r.currency,
            "gross": r.gross,
            "discounts": r.discounts,
            "net": r.net,
            "total": r.total,
            "refunded": Decimal("0"),
            "financial_status": r.financial_status,
            "codes": r.codes,
            "landing_url": r.landing_url,
            "referrer": r.referrer,
            "referrer_host": referrer_host(r.referrer),
            "customer_hash": customer_hash(key, shop.workspace_id, r.email),
            "source": source,
            "shop_updated_at": r.updated_at,
            "method": "none",
            "leak": False,
            "created_at": now,
            "updated_at": now,
        }
        for r in records
    ]


def save_orders(
    session: Session, shop: Shop, records: list[OrderRecord], key: str, source: str = "webhook"
) -> list[int]:
    """Upsert the orders and the refunds they carry; their ids (for attribution)."""
    latest = {r.external_id: r for r in records}  # a file may name an order twice: last wins
    upsert(
        session,
        Order,
        order_rows(shop, list(latest.values()), key, source),
        ["shop_id", "external_id"],
        ORDER_FIELDS,
        newer="shop_updated_at",
    )
    save_refunds(session, shop, [f for r in latest.values() for f in r.refunds])
    return refresh_refunded(session, shop, list(latest))


def save_refunds(session: Session, shop: Shop, refunds: list[RefundRecord]) -> list[int]:
    rows = [
        {
            "workspace_id": shop.workspace_id,
            "shop_id": shop.id,
            "external_id": r.external_id,
            "order_external_id": r.order_external_id,
            "refunded_at": r.refunded_at,
            "amount": r.amount,
            "created_at": utcnow(),
        }
        for r in {r.external_id: r for r in refunds}.values()
    ]
    upsert(
        session,
        Refund,
        rows,
        ["shop_id", "external_id"],
        ("refunded_at", "amount", "order_external_id"),
    )
    return refresh_refunded(session, shop, sorted({r.order_external_id for r in refunds}))


def refresh_refunded(session: Session, shop: Shop, external_ids: list[str]) -> list[int]:
    """Each named order's ``refunded`` = the sum of its refunds; the orders' ids."""
    ids: list[int] = []
    for start in range(0, len(external_ids), 500):
        chunk = external_ids[start : start + 500]
        total = (
            select(func.coalesce(func.sum(Refund.amount), 0))
            .where(
                and_(Refund.shop_id == Order.shop_id, Refund.order_external_id == Order.external_id)
            )
            .scalar_subquery()
        )
        where = (Order.shop_id == shop.id, Order.external_id.in_(chunk))
        session.execute(update(Order).where(*where).values(refunded=total))
        ids.extend(session.scalars(select(Order.id).where(*where)))
    return ids


# -- reading ---------------------------------------------------------------------------------


class OrderPublic(BaseModel):
    id: int
    shop_id: int
    external_id: str
    name: str | None
    ordered_at: UtcDateTime
    currency: str
    gross: Decimal
    discounts: Decimal
    net: Decimal
    total: Decimal
    refunded: Decimal
    financial_status: str | None
    codes: list[str]
    landing_url: str | None
    referrer_host: str | None
    source: str
    method: str
    creator_id: int | None
    deal_id: int | None
    campaign_id: int | None
    code_id: int | None
    link_id: int | None
    click_id: int | None
    leak: bool
    leak_reason: str | None
    attributed_at: UtcDateTime | None


def _where(workspace_id: int, filters: dict[str, Any]) -> list[Any]:
    where = [Order.workspace_id == workspace_id]
    for name in ("shop_id", "creator_id", "campaign_id", "method", "leak"):
        if filters.get(name) is not None:
            where.append(getattr(Order, name) == filters[name])
    return where


def list_orders(
    session: Session, workspace_id: int, window: Window | None = None, **filters: Any
) -> Page[OrderPublic]:
    window = window or Window()
    where = _where(workspace_id, filters)
    count = session.scalar(select(func.count()).select_from(Order).where(*where)) or 0
    rows = session.scalars(
        select(Order)
        .where(*where)
        .order_by(Order.ordered_at.desc(), Order.id.desc())
        .limit(window.limit)
        .offset(window.offset)
    )
    data = [OrderPublic.model_validate(r, from_attributes=True) for r in rows]
    return Page(data=data, count=count)


def get_order(session: Session, workspace_id: int, order_id: int) -> OrderPublic:
    row = session.scalar(
        select(Order).where(Order.workspace_id == workspace_id, Order.id == order_id)
    )
    if row is None:
        raise NotFoundError(f"no order with id {order_id}")
    return OrderPublic.model_validate(row, from_attributes=True)
