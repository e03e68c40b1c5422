"""Gifting: products sent to a creator under a deal (``gifts``), added by the brand or picked by
the creator in the portal, with where they go and how they travel.

A gift's status moves requested → shipped → delivered, or to cancelled (before it ships) or
returned (after); each move is stamped and recorded as a deal event ("gift"), and shipping moves
the deal to product_shipped (never backwards). A gift counts in the deal's cost as value ×
quantity unless cancelled or returned (measurement.sources).

In the portal the creator picks active products of the catalogue within the deal's value cap
(``deals.product_value``): the picked items plus the gifts already shipped or delivered may not
be worth more. A new pick replaces the deal's gifts not yet shipped.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from decimal import Decimal
from typing import Annotated, Any

from pydantic import BaseModel, Field
from sqlalchemy import func, insert, select
from sqlalchemy.orm import Session

from microfluence.campaigns.products import ProductName, Sku, Value, find_product_by_sku
from microfluence.campaigns.schemas import MoneyOut, Strict
from microfluence.campaigns.tables import GIFT_STATUSES, Gift, Product
from microfluence.catalog.schemas import UtcDateTime
from microfluence.kernel.errors import ConflictError, InputError, NotFoundError
from microfluence.kernel.store.tables import utcnow
from microfluence.relationships.addresses import parse_address
from microfluence.relationships.advance import advance, deal_in
from microfluence.relationships.stages import record_event

QUANTITY_MAX = 100
# Where a gift may go from each status.
TRANSITIONS: dict[str, tuple[str, ...]] = {
    "requested": ("shipped", "cancelled"),
    "shipped": ("delivered", "returned"),
    "delivered": ("returned",),
    "returned": (),
    "cancelled": (),
}
assert set(TRANSITIONS) == set(GIFT_STATUSES)
COUNTED = ("requested", "shipped", "delivered")  # in the deal's cost
SENT = ("shipped", "delivered")  # what a new pick cannot replace
Carrier = Annotated[str, Field(min_length=1, max_length=100, pattern=r"^[^\x00-\x1f\x7f]+$")]
Tracking = Annotated[str, Field(min_length=1, max_length=100, pattern=r"^[A-Za-z0-9 ._/-]+$")]
Quantity = Annotated[int, Field(ge=1, le=QUANTITY_MAX)]


class GiftCreate(Strict):
    """A gift the brand adds: a catalogue product by ``sku`` (its name and value are taken from
    the catalogue unless given), or any item with a ``name`` and ``value``."""

    sku: Sku | None = None
    name: ProductName | None = None
    value: Value | None = None
    quantity: Quantity = 1
    address: dict[str, str] | None = None
    carrier: Carrier | None = None
    tracking_number: Tracking | None = None


class GiftUpdate(Strict):
    """Change the gift's status (with its carrier and tracking number when it ships), or its
    address, carrier or tracking number alone."""

    status: str | None = Field(default=None, description=" → ".join(GIFT_STATUSES))
    carrier: Carrier | None = None
    tracking_number: Tracking | None = None
    address: dict[str, str] | None = None


class GiftPublic(BaseModel):
    id: int
    deal_id: int
    product_id: int | None
    sku: str | None
    name: str
    value: MoneyOut
    quantity: int
    total: MoneyOut = Field(description="value × quantity")
    address: dict[str, str] = Field(description="Where it goes (personal data).")
    carrier: str | None
    tracking_number: str | None
    status: str
    shipped_at: UtcDateTime | None
    delivered_at: UtcDateTime | None
    created_at: UtcDateTime
    updated_at: UtcDateTime


def public(gift: Gift) -> GiftPublic:
    return GiftPublic(
        id=gift.id,
        deal_id=gift.deal_id,
        product_id=gift.product_id,
        sku=gift.sku,
        name=gift.name,
        value=gift.value,
        quantity=gift.quantity,
        total=gift.value * gift.quantity,
        address=dict(gift.address or {}),
        carrier=gift.carrier,
        tracking_number=gift.tracking_number,
        status=gift.status,
        shipped_at=gift.shipped_at,
        delivered_at=gift.delivered_at,
        created_at=gift.created_at,
        updated_at=gift.updated_at,
    )


def list_gifts(session: Session, workspace_id: int, deal_id: int) -> list[GiftPublic]:
    deal_in(session, workspace_id, deal_id)
    rows = session.scalars(
        select(Gift)
        .where(Gift.workspace_id == workspace_id, Gift.deal_id == deal_id)
        .order_by(Gift.id)
    )
    return [public(g) for g in rows]


def deal_of_gift(session: Session, workspace_id: int, gift_id: int) -> int:
    """The deal a gift of this workspace belongs to (for faces that name a gift by its id)."""
    deal_id = session.scalar(
        select(Gift.deal_id).where(Gift.workspace_id == workspace_id, Gift.id == gift_id)
    )
    if deal_id is None:
        raise NotFoundError(f"no gift with id {gift_id} in this workspace")
    return deal_id


def find_gift(session: Session, workspace_id: int, deal_id: int, gift_id: int) -> Gift:
    gift = session.scalar(
        select(Gift).where(
            Gift.workspace_id == workspace_id, Gift.deal_id == deal_id, Gift.id == gift_id
        )
    )
    if gift is None:
        raise NotFoundError(f"no gift with id {gift_id} in this deal")
    return gift


def add_gift(
    session: Session,
    workspace_id: int,
    deal_id: int,
    data: GiftCreate,
    *,
    actor: str | None,
    actor_kind: str = "user",
) -> GiftPublic:
    """Add a gift to the deal (status requested), recorded as a deal event."""
    deal_in(session, workspace_id, deal_id)
    product: Product | None = None
    if data.sku is not None:
        try:
            product = find_product_by_sku(session, workspace_id, data.sku)
        except NotFoundError:
            if data.name is None or data.value is None:
                raise InputError(
                    "no product with this SKU in the catalogue: give a name and a value",
                    field="sku",
                    value=data.sku,
                ) from None
    name = data.name or (product.name if product else None)
    value = data.value if data.value is not None else (product.value if product else None)
    if name is None or value is None:
        raise InputError("a gift needs a catalogue SKU, or a name and a value", field="name")
    now = utcnow()
    gift = Gift(
        workspace_id=workspace_id,
        deal_id=deal_id,
        product_id=product.id if product else None,
        sku=data.sku,
        name=name,
        value=value,
        quantity=data.quantity,
        address=parse_address(data.address) if data.address else {},
        carrier=data.carrier,
        tracking_number=data.tracking_number,
        status="requested",
        created_at=now,
        updated_at=now,
    )
    session.add(gift)
    session.flush()
    record_event(
        session,
        workspace_id,
        deal_id,
        "gift",
        actor=actor,
        actor_kind=actor_kind,
        detail={"action": "added", "gift_id": gift.id, "sku": gift.sku, "quantity": gift.quantity},
    )
    return public(gift)


def update_gift(
    session: Session,
    workspace_id: int,
    deal_id: int,
    gift_id: int,
    data: GiftUpdate,
    *,
    actor: str | None,
    at: dt.datetime | None = None,
) -> GiftPublic:
    """Change the fields sent; a new ``status`` follows TRANSITIONS."""
    gift = find_gift(session, workspace_id, deal_id, gift_id)
    if data.address is not None:
        if gift.status != "requested":
            raise ConflictError(f"the gift is {gift.status}: its address can no longer change")
        gift.address = parse_address(data.address)
    for name in ("carrier", "tracking_number"):
        if getattr(data, name) is not None:
            setattr(gift, name, getattr(data, name))
    if data.status is not None and data.status != gift.status:
        _move(session, gift, data.status, actor=actor, at=at or utcnow())
    gift.updated_at = utcnow()
    session.flush()
    return public(gift)


def _move(session: Session, gift: Gift, status: str, *, actor: str | None, at: dt.datetime) -> None:
    status = status.strip().lower()
    if status not in GIFT_STATUSES:
        raise InputError(f"one of {', '.join(GIFT_STATUSES)}", field="status", value=status)
    allowed = TRANSITIONS[gift.status]
    if status not in allowed:
        nexts = " or ".join(allowed) or "nothing: it is final"
        raise InputError(
            f"a {gift.status} gift can become {nexts}, not {status}", field="status", value=status
        )
    if status == "shipped" and not gift.address:
        raise InputError("the gift has no address to ship to", field="address")
    previous, gift.status = gift.status, status
    if status == "shipped":
        gift.shipped_at = at
    elif status == "delivered":
        gift.delivered_at = at
    detail = {
        "action": status,
        "gift_id": gift.id,
        "from": previous,
        **({"carrier": gift.carrier} if gift.carrier else {}),
        **({"tracking_number": gift.tracking_number} if gift.tracking_number else {}),
    }
    record_event(
        session, gift.workspace_id, gift.deal_id, "gift", actor=actor, detail=detail, at=at
    )
    if status == "shipped":
        advance(
            session,
            gift.workspace_id,
            gift.deal_id,
            "product_shipped",
            actor=actor,
            actor_kind="user",
            detail={"gift_id": gift.id},
        )


def ship_gift(  # noqa: PLR0913 - the gift, and what a shipment carries
    session: Session,
    workspace_id: int,
    deal_id: int,
    gift_id: int,
    *,
    carrier: str | None,
    tracking_number: str | None,
    actor: str | None,
) -> GiftPublic:
    data = GiftUpdate(status="shipped", carrier=carrier, tracking_number=tracking_number)
    return update_gift(session, workspace_id, deal_id, gift_id, data, actor=actor)


# --- the creator's pick, in the portal ------------------------------------------------------


def sent_value(session: Session, workspace_id: int, deal_id: int) -> Decimal:
    """What the deal's gifts already shipped or delivered are worth (value × quantity)."""
    total = session.scalar(
        select(func.coalesce(func.sum(Gift.value * Gift.quantity), 0)).where(
            Gift.workspace_id == workspace_id,
            Gift.deal_id == deal_id,
            Gift.status.in_(SENT),
        )
    )
    return Decimal(str(total or 0)).quantize(Decimal("0.01"))


def _picked_products(
    session: Session, workspace_id: int, picks: Mapping[int, int]
) -> list[tuple[Product, int]]:
    chosen = {pid: qty for pid, qty in picks.items() if qty}
    for pid, qty in chosen.items():
        if not isinstance(qty, int) or not 0 < qty <= QUANTITY_MAX:
            raise InputError(f"a quantity from 0 to {QUANTITY_MAX}", field=f"product.{pid}")
    products = {
        p.id: p
        for p in session.scalars(
            select(Product).where(
                Product.workspace_id == workspace_id,
                Product.id.in_(list(chosen)),
                Product.active.is_(True),
            )
        )
    }
    missing = sorted(set(chosen) - set(products))
    if missing:
        raise InputError("this product is not on offer", field=f"product.{missing[0]}")
    return [(products[pid], qty) for pid, qty in sorted(chosen.items())]


def pick_products(  # noqa: PLR0913 - the deal, the pick and who made it
    session: Session,
    workspace_id: int,
    deal_id: int,
    picks: Mapping[int, int],
    address: Mapping[str, Any] | None,
    *,
    actor: str | None = None,
    actor_kind: str = "creator",
) -> list[GiftPublic]:
    """Replace the deal's gifts not yet shipped with the products picked (product id →
    quantity), sent to ``address`` (or the address already given). Refused, with nothing
    changed, when the pick and the gifts already sent are worth more than the deal's cap."""
    deal = deal_in(session, workspace_id, deal_id, lock=True)  # one pick at a time per deal
    chosen = _picked_products(session, workspace_id, picks)
    worth = sum((p.value * qty for p, qty in chosen), Decimal("0.00"))
    sent = sent_value(session, workspace_id, deal_id)
    cap = deal.product_value or Decimal("0.00")
    if worth + sent > cap:
        already = f" (with {sent} already sent)" if sent else ""
        raise InputError(
            f"your choice is worth {worth}{already}, more than the {cap} this deal allows: "
            "choose fewer or cheaper products",
            field="products",
        )
    open_gifts = list(
        session.scalars(
            select(Gift).where(
                Gift.workspace_id == workspace_id,
                Gift.deal_id == deal_id,
                Gift.status == "requested",
            )
        )
    )
    if address:
        where = parse_address(address)
    else:
        where = next((dict(g.address) for g in open_gifts if g.address), {})
    if chosen and not where:
        raise InputError("where should we send it? Fill in the shipping address", field="address")
    for gift in open_gifts:  # ORM deletes: the session forgets them (ids may be reused)
        session.delete(gift)
    session.flush()
    now = utcnow()
    if chosen:
        session.execute(
            insert(Gift),
            [
                {
                    "workspace_id": workspace_id,
                    "deal_id": deal_id,
                    "product_id": p.id,
                    "sku": p.sku,
                    "name": p.name,
                    "value": p.value,
                    "quantity": qty,
                    "address": where,
                    "status": "requested",
                    "created_at": now,
                    "updated_at": now,
                }
                for p, qty in chosen
            ],
        )
    detail = {
        "action": "picked",
        "items": [{"sku": p.sku, "quantity": qty} for p, qty in chosen],
        "total": str(worth),
    }
    record_event(
        session, workspace_id, deal_id, "gift", actor=actor, actor_kind=actor_kind, detail=detail
    )
    return list_gifts(session, workspace_id, deal_id)


def set_address(
    session: Session,
    workspace_id: int,
    deal_id: int,
    address: Mapping[str, Any],
    *,
    actor: str | None = None,
    actor_kind: str = "creator",
) -> list[GiftPublic]:
    """Send the deal's gifts not yet shipped to this address."""
    where = parse_address(address)
    gifts = list(
        session.scalars(
            select(Gift).where(
                Gift.workspace_id == workspace_id,
                Gift.deal_id == deal_id,
                Gift.status == "requested",
            )
        )
    )
    deal_in(session, workspace_id, deal_id)
    if not gifts:
        raise InputError("there is no gift waiting to ship: choose products first", field="address")
    for gift in gifts:
        gift.address = where
        gift.updated_at = utcnow()
    record_event(
        session,
        workspace_id,
        deal_id,
        "address",
        actor=actor,
        actor_kind=actor_kind,
        detail={"gifts": [g.id for g in gifts]},  # the address itself stays on the gifts
    )
    session.flush()
    return list_gifts(session, workspace_id, deal_id)
