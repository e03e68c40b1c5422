"""Shop webhooks: received (checked, stored, answered at once) and processed later, on the job
queue (jobs.webhooks).

**Receiving** (:func:`receive`) checks the signature of the raw body with the shop's secrets
(commerce.signatures) — an unknown URL and a bad signature get the same 401, so a caller learns
nothing about which shops exist — then stores the delivery under the platform's delivery id
(``X-Shopify-Webhook-Id``, ``X-WC-Webhook-Delivery-ID``; without one, the body's SHA-256). A
delivery sent again (Shopify retries for 48 hours when it gets no 2xx in 5 seconds) finds its id
stored: it is counted in ``repeats`` and answered, never processed twice. WooCommerce's ping,
sent when a webhook is saved (a form body ``webhook_id=N``, unsigned), is answered and nothing
is stored.

**Processing** (:func:`process_delivery`) reads the stored body, upserts the order and its
refunds by their shop ids (so the same order in two deliveries — created, then updated — is one
row), attributes them, and marks the delivery processed, dropping its body — in one transaction.
A body that cannot be read is marked failed with the reason (kept for a look, not retried).
"""

from __future__ import annotations

import hashlib
import logging
import re
from collections.abc import Mapping
from dataclasses import dataclass

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from microfluence.access.errors import AuthenticationError
from microfluence.access.site_secrets import site_secret
from microfluence.commerce import payloads
from microfluence.commerce.attribution import attribute
from microfluence.commerce.orders import save_orders, save_refunds
from microfluence.commerce.shops import shop_by_public_id
from microfluence.commerce.signatures import verify
from microfluence.commerce.tables import Shop, WebhookDelivery
from microfluence.kernel.errors import InputError
from microfluence.kernel.store import Store
from microfluence.kernel.store.tables import utcnow

log = logging.getLogger("microfluence.commerce")

REJECTED = "unknown webhook address, or a signature that does not match"
SIGNATURE = {"shopify": "x-shopify-hmac-sha256", "woocommerce": "x-wc-webhook-signature"}
DELIVERY = {"shopify": "x-shopify-webhook-id", "woocommerce": "x-wc-webhook-delivery-id"}
TOPIC = {"shopify": "x-shopify-topic", "woocommerce": "x-wc-webhook-topic"}
# Topic -> what its body is.
TOPICS = {
    "shopify": {
        "orders/create": "order",
        "orders/updated": "order",
        "orders/paid": "order",
        "refunds/create": "refund",
    },
    "woocommerce": {
        "order.created": "order",
        "order.updated": "order",
        "order.restored": "order",
    },
}
WOO_PING = re.compile(rb"^webhook_id=[0-9]{1,20}$")
CUSTOMER_KEY = "commerce.customers"


@dataclass(frozen=True)
class Received:
    """``stored`` (to process: ``delivery_id``), ``duplicate``, ``ignored`` (a topic we do not
    use) or ``ping``."""

    status: str
    delivery_id: int | None = None


def _header(headers: Mapping[str, str], name: str) -> str | None:
    value = headers.get(name)
    return value.strip() if value else None


def receive(
    store: Store, platform: str, public_id: str, headers: Mapping[str, str], body: bytes
) -> Received:
    """Check and store one delivery (``headers`` with lower-case names); AuthenticationError
    unless it is signed with a secret of the shop the URL names."""
    signature = _header(headers, SIGNATURE[platform])
    with store.transaction() as session:
        shop = shop_by_public_id(session, platform, public_id)
        if shop is None:
            raise AuthenticationError(REJECTED)
        if platform == "woocommerce" and signature is None and WOO_PING.match(body.strip()):
            return Received("ping")
        if not verify(body, signature, (shop.secret, shop.previous_secret)):
            raise AuthenticationError(REJECTED)
        topic = (_header(headers, TOPIC[platform]) or "")[:60]
        delivery = (_header(headers, DELIVERY[platform]) or "")[:100]
        delivery = delivery or "sha256:" + hashlib.sha256(body).hexdigest()
        known = topic in TOPICS[platform]
        return _store(session, shop, delivery, topic, body if known else None)


def _store(session: Session, shop: Shop, delivery: str, topic: str, body: bytes | None) -> Received:
    row = WebhookDelivery(
        workspace_id=shop.workspace_id,
        shop_id=shop.id,
        delivery_id=delivery,
        topic=topic,
        status="received" if body is not None else "ignored",
        body=body,
        repeats=0,
    )
    try:
        with session.begin_nested():
            session.add(row)
            session.flush()
    except IntegrityError:
        session.execute(
            update(WebhookDelivery)
            .where(WebhookDelivery.shop_id == shop.id, WebhookDelivery.delivery_id == delivery)
            .values(repeats=WebhookDelivery.repeats + 1)
        )
        return Received("duplicate")
    if body is None:
        return Received("ignored")
    return Received("stored", row.id)


def _records(
    shop: Shop, topic: str, body: bytes
) -> tuple[list[payloads.OrderRecord], list[payloads.RefundRecord]]:
    data = payloads.load_json(body)
    kind = TOPICS[shop.platform][topic]
    if shop.platform == "woocommerce":
        return [payloads.woocommerce_order(data)], []
    if kind == "refund":
        return [], [payloads.shopify_refund(data)]
    return [payloads.shopify_order(data)], []


def process_delivery(store: Store, delivery_id: int) -> str:
    """Process one stored delivery (again, harmlessly, if it already was); its status."""
    key = site_secret(store, CUSTOMER_KEY)
    try:
        with store.transaction() as session:
            delivery = session.get(WebhookDelivery, delivery_id)
            if delivery is None or delivery.status != "received" or delivery.body is None:
                return delivery.status if delivery else "missing"
            shop = session.get(Shop, delivery.shop_id)
            assert shop is not None
            orders, refunds = _records(shop, delivery.topic, delivery.body)
            ids = save_orders(session, shop, orders, key) if orders else []
            ids += save_refunds(session, shop, refunds)
            attribute(session, shop.workspace_id, ids)
            delivery.status, delivery.body, delivery.error = "processed", None, None
            delivery.processed_at = utcnow()
            return "processed"
    except (InputError, ValueError, TypeError, KeyError, AttributeError) as exc:
        # The body is not what the platform documents: kept, marked failed, not retried (a
        # store that is busy or down raises something else, and the delivery waits for a retry).
        with store.transaction() as session:
            session.execute(
                update(WebhookDelivery)
                .where(WebhookDelivery.id == delivery_id)
                .values(status="failed", error=str(exc)[:2000], processed_at=utcnow())
            )
        log.warning("webhook delivery %s failed: %s", delivery_id, exc)
        return "failed"


def pending_deliveries(store: Store, older_than_seconds: float = 60.0) -> list[int]:
    """Deliveries stored but not processed for a while (their job was lost): to queue again."""
    import datetime as dt

    cutoff = utcnow() - dt.timedelta(seconds=older_than_seconds)
    with store.transaction() as session:
        return list(
            session.scalars(
                select(WebhookDelivery.id)
                .where(WebhookDelivery.status == "received", WebhookDelivery.received_at <= cutoff)
                .order_by(WebhookDelivery.id)
                .limit(1000)
            )
        )


def list_deliveries(session: Session, workspace_id: int, shop_id: int, limit: int = 50) -> list:
    return list(
        session.scalars(
            select(WebhookDelivery)
            .where(WebhookDelivery.workspace_id == workspace_id, WebhookDelivery.shop_id == shop_id)
            .order_by(WebhookDelivery.id.desc())
            .limit(limit)
        )
    )
