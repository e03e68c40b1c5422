"""Shop webhooks through the real app: signatures (valid, invalid, missing, rotated, another
workspace's), replays and redeliveries counted once, refunds, WooCommerce and its ping, the body
cap, unreadable bodies; and the signature checker under hypothesis."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from commerce_support import T0, add_click, make_brand
from microfluence.commerce.shops import create_shop, end_rotation, rotate_secret
from microfluence.commerce.signatures import sign, verify
from microfluence.commerce.tables import Order, Refund, WebhookDelivery
from microfluence.commerce.webhooks import receive
from microfluence.jobs.webhooks import retry_pending
from microfluence.tracking import codes as C
from microfluence.web.app import create_app
from microfluence.web.settings import WebSettings

DATA = Path(__file__).parent / "data" / "commerce"
SHOPIFY_SECRET = "shpss_" + "a" * 32


def fixture(name: str, token: str = "TOKEN") -> bytes:
    return (DATA / name).read_text().replace("TOKEN", token).encode()


@pytest.fixture
def world(store, store_url):  # type: ignore[no-untyped-def]
    a = make_brand(store, "brand-a")
    b = make_brand(store, "brand-b")
    with store.transaction() as s:
        shop_a = create_shop(
            s, a.workspace_id, platform="shopify", name="main", secret=SHOPIFY_SECRET
        )
        woo_a = create_shop(s, a.workspace_id, platform="woocommerce", name="woo")
        shop_b = create_shop(s, b.workspace_id, platform="shopify", name="main")
        C.create_code(
            s,
            a.workspace_id,
            C.resolve_owner(s, a.workspace_id, creator="instagram:sarah_k", campaign="spring"),
            value=15,
            code="SARAH15-K7R",
        )
        C.create_code(
            s,
            a.workspace_id,
            C.resolve_owner(s, a.workspace_id, creator="tiktok:tomcooks", campaign="spring"),
            value=10,
            code="TOM10",
        )
    settings = WebSettings(max_hook_kb=64)
    with TestClient(create_app(store_url, settings)) as client:
        yield client, a, b, shop_a, woo_a, shop_b


def post(
    client, shop, body: bytes, *, secret=None, topic="orders/create", delivery="d-1", signature=None
):  # type: ignore[no-untyped-def]
    headers = {
        "Content-Type": "application/json",
        "X-Shopify-Topic": topic,
        "X-Shopify-Webhook-Id": delivery,
    }
    if signature is None and secret is not None:
        signature = sign(body, secret)
    if signature is not None:
        headers["X-Shopify-Hmac-Sha256"] = signature
    response = client.post(shop.shop.webhook_path, content=body, headers=headers)
    client.app.state.jobs.wait(timeout=60)
    return response


def count(store, table, **where) -> int:  # type: ignore[no-untyped-def]
    with store.transaction() as s:
        q = select(func.count()).select_from(table)
        for k, v in where.items():
            q = q.where(getattr(table, k) == v)
        return s.scalar(q) or 0


def the_order(store, workspace_id: int) -> Order:  # type: ignore[no-untyped-def]
    with store.transaction() as s:
        row = s.scalar(select(Order).where(Order.workspace_id == workspace_id))
        s.expunge(row)
        return row


def test_a_signed_order_is_stored_answered_and_attributed(store, world):
    client, a, _b, shop, _woo, _shop_b = world
    add_click(store, a, "sarah", T0 - dt_days(2))
    response = post(client, shop, fixture("shopify_order.json"), secret=SHOPIFY_SECRET)
    assert response.status_code == 200 and response.json() == {"status": "stored"}
    o = the_order(store, a.workspace_id)
    assert (o.external_id, o.name, o.currency) == ("820982911946154508", "#9999", "USD")
    assert (o.gross, o.discounts, o.net, o.total) == (
        Decimal("70.00"),
        Decimal("10.50"),
        Decimal("59.50"),
        Decimal("68.95"),
    )
    assert o.ordered_at == T0  # 08:00 at -04:00
    assert o.codes == ["SARAH15-K7R"] and o.referrer_host == "instagram.com"
    assert o.method == "code" and o.creator_id == a.creators["sarah"] and not o.leak
    assert o.customer_hash and "example" not in o.customer_hash and len(o.customer_hash) == 64
    with store.transaction() as s:
        d = s.scalar(select(WebhookDelivery))
        assert d.status == "processed" and d.body is None and d.topic == "orders/create"


@pytest.mark.parametrize(
    "signature",
    [
        "",
        "not base64",
        sign(b"another body", SHOPIFY_SECRET),
        sign(b"x", "wrong-secret-0123456789"),
    ],
)
def test_bad_or_missing_signatures_are_refused(store, world, signature):
    client, *_rest = world
    shop = world[3]
    body = fixture("shopify_order.json")
    response = post(client, shop, body, signature=signature or None)
    assert response.status_code == 401
    assert response.json()["code"] == "unauthenticated"
    assert count(store, WebhookDelivery) == 0 and count(store, Order) == 0


def test_unknown_address_and_another_workspaces_secret_get_the_same_401(store, world):
    client, _a, _b, shop_a, _woo, shop_b = world
    body = fixture("shopify_order.json")
    # Signed with B's secret, sent to A's address: refused.
    with store.transaction() as s:
        from microfluence.commerce.tables import Shop

        secret_b = s.scalar(select(Shop.secret).where(Shop.id == shop_b.shop.id))
    wrong = post(client, shop_a, body, secret=secret_b)
    unknown = client.post(
        "/hooks/shopify/nobody-here",
        content=body,
        headers={"X-Shopify-Hmac-Sha256": sign(body, secret_b)},
    )
    assert wrong.status_code == unknown.status_code == 401
    assert wrong.json()["message"] == unknown.json()["message"]
    # Signed with B's secret to B's address: B's order, not A's.
    assert post(client, shop_b, body, secret=secret_b).status_code == 200
    assert count(store, Order, workspace_id=world[1].workspace_id) == 0
    assert count(store, Order, workspace_id=world[2].workspace_id) == 1


def test_a_rotation_accepts_both_secrets_until_it_ends(store, world):
    client, a, *_ = world
    shop = world[3]
    with store.transaction() as s:
        new = rotate_secret(s, a.workspace_id, shop.shop.id, "new-secret-" + "b" * 20).secret
    assert (
        post(
            client, shop, fixture("shopify_order.json"), secret=SHOPIFY_SECRET, delivery="old"
        ).status_code
        == 200
    )
    assert (
        post(client, shop, fixture("shopify_order.json"), secret=new, delivery="new").status_code
        == 200
    )
    with store.transaction() as s:
        end_rotation(s, a.workspace_id, shop.shop.id)
    assert (
        post(
            client, shop, fixture("shopify_order.json"), secret=SHOPIFY_SECRET, delivery="late"
        ).status_code
        == 401
    )
    assert count(store, Order) == 1 and count(store, WebhookDelivery) == 2


def test_one_order_delivered_100_times_counts_once(store, world):
    client, a, *_ = world
    shop = world[3]
    body = fixture("shopify_order.json")
    for _ in range(100):  # Shopify's retries: the same webhook id
        assert post(client, shop, body, secret=SHOPIFY_SECRET, delivery="same").status_code == 200
    for i in range(5):  # orders/updated: new webhook ids, the same order id
        post(client, shop, body, secret=SHOPIFY_SECRET, topic="orders/updated", delivery=f"u{i}")
    assert count(store, Order) == 1
    assert count(store, WebhookDelivery) == 6
    with store.transaction() as s:
        d = s.scalar(select(WebhookDelivery).where(WebhookDelivery.delivery_id == "same"))
        assert d.repeats == 99
    assert the_order(store, a.workspace_id).net == Decimal("59.50")


def test_refunds_by_webhook_reduce_the_order(store, world):
    client, a, *_ = world
    shop = world[3]
    refund = fixture("shopify_refund.json")
    assert (
        post(
            client, shop, refund, secret=SHOPIFY_SECRET, topic="refunds/create", delivery="r"
        ).status_code
        == 200
    )
    post(
        client, shop, refund, secret=SHOPIFY_SECRET, topic="refunds/create", delivery="r2"
    )  # again
    post(client, shop, fixture("shopify_order.json"), secret=SHOPIFY_SECRET)
    assert count(store, Refund) == 1
    assert the_order(store, a.workspace_id).refunded == Decimal("29.75")


def test_woocommerce_orders_and_ping(store, world):
    client, a, _b, _shop, woo, _ = world
    with store.transaction() as s:
        from microfluence.commerce.tables import Shop

        secret = s.scalar(select(Shop.secret).where(Shop.id == woo.shop.id))
    ping = client.post(
        woo.shop.webhook_path,
        content=b"webhook_id=15",
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert ping.status_code == 200 and ping.json() == {"status": "ping"}
    token = add_click(store, a, "tom", T0 - dt_days(1))
    body = fixture("woocommerce_order.json", token)
    headers = {
        "X-WC-Webhook-Signature": sign(body, secret),
        "X-WC-Webhook-Topic": "order.created",
        "X-WC-Webhook-Delivery-ID": "abc",
    }
    bad = client.post(
        woo.shop.webhook_path,
        content=body,
        headers={**headers, "X-WC-Webhook-Signature": sign(body, "x" * 20)},
    )
    assert bad.status_code == 401
    assert client.post(woo.shop.webhook_path, content=body, headers=headers).json() == {
        "status": "stored"
    }
    client.app.state.jobs.wait(timeout=60)
    o = the_order(store, a.workspace_id)
    assert (o.gross, o.net, o.discounts, o.refunded) == (
        Decimal("40.00"),
        Decimal("36.00"),
        Decimal("4.00"),
        Decimal("10.00"),
    )
    assert o.codes == ["TOM10"] and o.method == "code" and o.creator_id == a.creators["tom"]
    assert o.click_id is not None and not o.leak  # Tom's click came with it


def test_bodies_over_the_cap_and_unreadable_bodies(store, world):
    client, *_ = world
    shop = world[3]
    big = b'{"id": 1, "pad": "' + b"x" * (70 << 10) + b'"}'
    assert post(client, shop, big, secret=SHOPIFY_SECRET).status_code == 413
    garbage = b'{"id": 5, "currency": "USD", "created_at": "yesterday"}'
    assert post(client, shop, garbage, secret=SHOPIFY_SECRET, delivery="g").status_code == 200
    with store.transaction() as s:
        d = s.scalar(select(WebhookDelivery).where(WebhookDelivery.delivery_id == "g"))
        assert d.status == "failed" and "created_at" in d.error and d.body == garbage
    assert count(store, Order) == 0
    other = post(
        client, shop, garbage, secret=SHOPIFY_SECRET, topic="products/create", delivery="p"
    )
    assert other.json() == {"status": "ignored"}


def test_a_delivery_whose_job_was_lost_is_processed_later(store, world):
    _client, a, *_ = world
    shop = world[3]
    body = fixture("shopify_order.json")
    headers = {
        "x-shopify-hmac-sha256": sign(body, SHOPIFY_SECRET),
        "x-shopify-topic": "orders/create",
        "x-shopify-webhook-id": "lost",
    }
    received = receive(store, "shopify", shop.shop.public_id, headers, body)
    assert received.status == "stored" and count(store, Order) == 0
    from microfluence.jobs.webhooks import run_webhook

    assert retry_pending(store, lambda d: run_webhook(store, d), older_than=0) == 1
    assert count(store, Order) == 1
    assert retry_pending(store, lambda d: run_webhook(store, d), older_than=0) == 0


def dt_days(n: int):  # type: ignore[no-untyped-def]
    import datetime as dt

    return dt.timedelta(days=n)


@given(
    body=st.binary(max_size=200),
    secret=st.text(min_size=1, max_size=40),
    other=st.text(min_size=1, max_size=40),
)
def test_the_signature_checker(body, secret, other):
    good = sign(body, secret)
    assert verify(body, good, [secret])
    assert verify(body, good, [None, other, secret])  # a rotation: either secret
    assert verify(body, good, [secret, other])
    if other != secret:
        assert not verify(body, good, [other])
    assert not verify(body + b"x", good, [secret])
    assert not verify(body, None, [secret]) and not verify(body, "", [secret])
    assert not verify(body, good[:-2], [secret])
    assert not verify(body, good, [])
    json.dumps(good)


def test_an_older_version_arriving_late_does_not_overwrite(store, world):
    client, a, *_ = world
    shop = world[3]
    newer = json.loads(fixture("shopify_order.json"))
    newer.update(
        updated_at="2026-05-02T08:00:00-04:00",
        subtotal_price="40.00",
        financial_status="partially_refunded",
    )
    older = json.loads(fixture("shopify_order.json"))  # updated_at 2026-05-01
    post(
        client,
        shop,
        json.dumps(newer).encode(),
        secret=SHOPIFY_SECRET,
        topic="orders/updated",
        delivery="n",
    )
    post(
        client,
        shop,
        json.dumps(older).encode(),
        secret=SHOPIFY_SECRET,
        topic="orders/create",
        delivery="o",
    )
    o = the_order(store, a.workspace_id)
    assert (o.net, o.financial_status) == (Decimal("40.00"), "partially_refunded")
    assert count(store, WebhookDelivery, status="processed") == 2


def test_on_a_durable_queue_the_delivery_is_a_queued_task(store, world, tmp_path):
    """With MICROFLUENCE_JOB_QUEUE set, the route's job goes into the queue's file (huey), and a
    worker that takes it processes the delivery; a queue that is down loses nothing (the
    minutely tick queues stored deliveries again)."""
    from microfluence.jobs.queue import Queue, QueueRunner

    _client, a, *_ = world
    shop = world[3]
    body = fixture("shopify_order.json")
    headers = {
        "x-shopify-hmac-sha256": sign(body, SHOPIFY_SECRET),
        "x-shopify-topic": "orders/create",
        "x-shopify-webhook-id": "q1",
    }
    received = receive(store, "shopify", shop.shop.public_id, headers, body)
    queue = Queue(f"sqlite:///{tmp_path / 'queue.sqlite'}", store, tmp_path / "uploads")
    QueueRunner(queue).submit_webhook(received.delivery_id)
    assert count(store, Order) == 0  # queued, not run
    task = queue.huey.dequeue()
    assert task is not None and task.name == "microfluence.webhook"
    queue.huey.execute(task)
    assert count(store, Order) == 1
    assert queue.huey.dequeue() is None
    # The tick finds nothing left to queue again.
    assert queue.tick()["webhooks"] == 0


JSONISH = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.text(max_size=12)
    | st.sampled_from(["USD", "2026-05-01T08:00:00Z", "12.50", "x"]),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=12,
)
KEYS = [
    "id",
    "created_at",
    "currency",
    "subtotal_price",
    "total_price",
    "discount_codes",
    "refunds",
    "line_items",
    "customer",
    "landing_site",
    "updated_at",
    "order_id",
    "refund_line_items",
    "transactions",
    "coupon_lines",
    "meta_data",
    "date_created_gmt",
]


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    body=st.dictionaries(st.sampled_from(KEYS), JSONISH, max_size=8),
    platform_topic=st.sampled_from(
        [
            ("shopify", "orders/create"),
            ("shopify", "refunds/create"),
            ("woocommerce", "order.updated"),
        ]
    ),
)
def test_any_signed_body_ends_processed_or_failed(sqlite_store, body, platform_topic):
    """Whatever JSON a shop signs, its delivery is processed or failed with a reason: never a
    crash that leaves it to be retried forever."""
    from microfluence.commerce.webhooks import process_delivery
    from microfluence.kernel.workspaces import ensure_workspace

    platform, topic = platform_topic
    with sqlite_store.transaction() as s:
        ws = ensure_workspace(s, "fuzz")
        from microfluence.commerce.tables import Shop

        shop = s.scalar(select(Shop).where(Shop.platform == platform))
        if shop is None:
            create_shop(s, ws.id, platform=platform, name=platform, secret="f" * 20)
            shop = s.scalar(select(Shop).where(Shop.platform == platform))
        public_id = shop.public_id
    raw = json.dumps(body).encode()
    headers = {
        "x-shopify-hmac-sha256": sign(raw, "f" * 20),
        "x-wc-webhook-signature": sign(raw, "f" * 20),
        "x-shopify-topic": topic,
        "x-wc-webhook-topic": topic,
    }
    received = receive(sqlite_store, platform, public_id, headers, raw)
    if received.delivery_id is None:
        return
    assert process_delivery(sqlite_store, received.delivery_id) in ("processed", "failed")


def test_without_a_queue_a_stuck_delivery_goes_with_the_next_one(store, world):
    import datetime as dt

    from sqlalchemy import update

    from microfluence.kernel.store.tables import utcnow

    client, a, *_ = world
    shop = world[3]
    refund = fixture("shopify_refund.json")
    headers = {
        "x-shopify-hmac-sha256": sign(refund, SHOPIFY_SECRET),
        "x-shopify-topic": "refunds/create",
        "x-shopify-webhook-id": "stuck",
    }
    stuck = receive(store, "shopify", shop.shop.public_id, headers, refund)  # its job was lost
    with store.transaction() as s:
        s.execute(
            update(WebhookDelivery)
            .where(WebhookDelivery.id == stuck.delivery_id)
            .values(received_at=utcnow() - dt.timedelta(minutes=2))
        )
    post(client, shop, fixture("shopify_order.json"), secret=SHOPIFY_SECRET, delivery="next")
    assert count(store, WebhookDelivery, status="processed") == 2
    assert the_order(store, a.workspace_id).refunded == Decimal("29.75")
