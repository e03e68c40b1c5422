"""A workspace's shops: created with the secret their webhooks are signed with, the secret
rotated (the old one accepted until the rotation ends), an Admin API token kept for creating
codes. Secrets and tokens are returned once, when set, and never listed again
(:class:`ShopPublic` has no field for them)."""

from __future__ import annotations

import re
import secrets

from pydantic import BaseModel
from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from microfluence.catalog.schemas import UtcDateTime
from microfluence.commerce.tables import SHOP_PLATFORMS, Order, Shop
from microfluence.kernel.errors import ConflictError, InputError, NotFoundError
from microfluence.kernel.store.tables import utcnow

NAME = re.compile(r"^[a-z0-9][a-z0-9_.-]{0,99}$")
DOMAIN = re.compile(
    r"^[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?)+$"
)
SHOPIFY_DOMAIN = re.compile(r"^[a-z0-9][a-z0-9-]*\.myshopify\.com$")
SECRET_MIN, SECRET_MAX = 16, 200


class ShopPublic(BaseModel):
    id: int
    platform: str
    name: str
    domain: str | None
    public_id: str
    webhook_path: str
    rotating: bool
    has_access_token: bool
    currency: str | None
    orders: int
    created_at: UtcDateTime
    secret_rotated_at: UtcDateTime | None


class ShopSecret(BaseModel):
    """Returned once, when a secret is set: never again."""

    shop: ShopPublic
    secret: str


def webhook_path(shop: Shop) -> str:
    return f"/hooks/{shop.platform}/{shop.public_id}"


def public(shop: Shop, orders: int = 0) -> ShopPublic:
    return ShopPublic(
        id=shop.id,
        platform=shop.platform,
        name=shop.name,
        domain=shop.domain,
        public_id=shop.public_id,
        webhook_path=webhook_path(shop),
        rotating=shop.previous_secret is not None,
        has_access_token=bool(shop.access_token),
        currency=shop.currency,
        orders=orders,
        created_at=shop.created_at,
        secret_rotated_at=shop.secret_rotated_at,
    )


def _check_secret(secret: str | None) -> str:
    if secret is None:
        return secrets.token_urlsafe(32)
    text = secret.strip()
    if not SECRET_MIN <= len(text) <= SECRET_MAX or not text.isprintable():
        raise InputError(
            f"a webhook secret is {SECRET_MIN} to {SECRET_MAX} printable characters",
            field="secret",
        )
    return text


def _check_token(token: str | None) -> str | None:
    if token is None or token.strip() == "":
        return None
    text = token.strip()
    if len(text) > 200 or not text.isprintable() or " " in text:
        raise InputError("not an Admin API access token", field="access_token")
    return text


def create_shop(
    session: Session,
    workspace_id: int,
    *,
    platform: str,
    name: str,
    domain: str | None = None,
    secret: str | None = None,
    access_token: str | None = None,
    currency: str | None = None,
) -> ShopSecret:
    """A shop of the workspace. ``secret``: Shopify's app client secret (Shopify signs with
    it), or none for a new random one (paste it into WooCommerce's webhook form)."""
    platform = (platform or "").strip().lower()
    if platform not in SHOP_PLATFORMS:
        raise InputError(f"use one of {', '.join(SHOP_PLATFORMS)}", field="platform")
    name = (name or "").strip().lower()
    if not NAME.match(name):
        raise InputError("a shop name is lower-case letters, digits, -, _ or .", field="name")
    if domain is not None and domain.strip():
        domain = domain.strip().lower().removeprefix("https://").rstrip("/")
        if not DOMAIN.match(domain) or len(domain) > 255:
            raise InputError(f"not a domain: {domain[:80]!r}", field="domain")
        if platform == "shopify" and not SHOPIFY_DOMAIN.match(domain):
            # The Admin API is called on this domain with the shop's token: only Shopify's.
            raise InputError(
                "a Shopify shop's domain is its NAME.myshopify.com (Settings → Domains)",
                field="domain",
            )
    else:
        domain = None
    if currency is not None and not re.fullmatch(r"[A-Za-z]{3}", currency):
        raise InputError("a currency is 3 letters (ISO 4217)", field="currency")
    if session.scalar(select(Shop.id).where(Shop.workspace_id == workspace_id, Shop.name == name)):
        raise ConflictError(f"a shop named {name!r} exists already in this workspace")
    value = _check_secret(secret)
    shop = Shop(
        workspace_id=workspace_id,
        platform=platform,
        name=name,
        domain=domain,
        public_id=secrets.token_urlsafe(18),
        secret=value,
        access_token=_check_token(access_token),
        currency=currency.upper() if currency else None,
    )
    session.add(shop)
    session.flush()
    return ShopSecret(shop=public(shop), secret=value)


def find_shop(session: Session, workspace_id: int, name: str) -> Shop:
    shop = session.scalar(
        select(Shop).where(Shop.workspace_id == workspace_id, Shop.name == (name or "").lower())
    )
    if shop is None:
        raise NotFoundError(f"no shop {name!r} in this workspace")
    return shop


def get_shop(session: Session, workspace_id: int, shop_id: int) -> Shop:
    shop = session.scalar(select(Shop).where(Shop.workspace_id == workspace_id, Shop.id == shop_id))
    if shop is None:
        raise NotFoundError(f"no shop with id {shop_id}")
    return shop


def list_shops(session: Session, workspace_id: int) -> list[ShopPublic]:
    counts = dict(
        session.execute(
            select(Order.shop_id, func.count())
            .where(Order.workspace_id == workspace_id)
            .group_by(Order.shop_id)
        ).all()
    )
    shops = session.scalars(
        select(Shop).where(Shop.workspace_id == workspace_id).order_by(Shop.name)
    )
    return [public(s, counts.get(s.id, 0)) for s in shops]


def rotate_secret(
    session: Session, workspace_id: int, shop_id: int, secret: str | None = None
) -> ShopSecret:
    """A new secret; the current one stays accepted (as the previous) until
    :func:`end_rotation`, so deliveries signed before the platform switched still pass."""
    shop = get_shop(session, workspace_id, shop_id)
    value = _check_secret(secret)
    if value == shop.secret:
        raise InputError("the new secret is the current one", field="secret")
    shop.previous_secret, shop.secret = shop.secret, value
    shop.secret_rotated_at = utcnow()
    session.flush()
    return ShopSecret(shop=public(shop), secret=value)


def end_rotation(session: Session, workspace_id: int, shop_id: int) -> ShopPublic:
    """Stop accepting the previous secret."""
    shop = get_shop(session, workspace_id, shop_id)
    shop.previous_secret = None
    session.flush()
    return public(shop)


def set_access_token(
    session: Session, workspace_id: int, shop_id: int, token: str | None
) -> ShopPublic:
    shop = get_shop(session, workspace_id, shop_id)
    if shop.platform != "shopify" and token:
        raise InputError("only Shopify shops take an Admin API token", field="access_token")
    shop.access_token = _check_token(token)
    session.flush()
    return public(shop)


def delete_shop(session: Session, workspace_id: int, shop_id: int) -> None:
    """The shop, its orders, refunds and deliveries (cascade)."""
    get_shop(session, workspace_id, shop_id)
    session.execute(delete(Shop).where(Shop.workspace_id == workspace_id, Shop.id == shop_id))


def shop_by_public_id(session: Session, platform: str, public_id: str) -> Shop | None:
    """The shop a webhook URL names (any workspace: the signature decides)."""
    if not public_id or len(public_id) > 40:
        return None
    return session.scalar(
        select(Shop).where(Shop.public_id == public_id, Shop.platform == platform)
    )
