"""Creating codes in a Shopify store, against a local HTTP server on 127.0.0.1 that replays
the Admin GraphQL API's documented answers: success, 429 with Retry-After, THROTTLED, 422,
userErrors, a refused token."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from sqlalchemy import select

from commerce_support import make_brand
from microfluence.commerce.shopify_admin import MUTATION, ShopApiError, push_code
from microfluence.commerce.shops import create_shop
from microfluence.commerce.tables import ShopDiscountCode
from microfluence.kernel.errors import ConflictError, InputError
from microfluence.tracking import codes as C

# shopify.dev/docs/api/admin-graphql/2025-01/mutations/discountCodeBasicCreate, the example.
CREATED = {
    "data": {
        "discountCodeBasicCreate": {
            "codeDiscountNode": {
                "id": "gid://shopify/DiscountCodeNode/1057856606",
                "codeDiscount": {
                    "title": "SARAH15-K7R (microfluence)",
                    "codes": {"nodes": [{"code": "SARAH15-K7R"}]},
                },
            },
            "userErrors": [],
        }
    },
    "extensions": {
        "cost": {
            "requestedQueryCost": 10,
            "actualQueryCost": 10,
            "throttleStatus": {
                "maximumAvailable": 2000.0,
                "currentlyAvailable": 1990,
                "restoreRate": 100.0,
            },
        }
    },
}
THROTTLED = {
    "errors": [
        {
            "message": "Throttled",
            "extensions": {
                "code": "THROTTLED",
                "documentation": "https://shopify.dev/api/usage/rate-limits",
            },
        }
    ],
    "extensions": {
        "cost": {
            "requestedQueryCost": 10,
            "actualQueryCost": None,
            "throttleStatus": {
                "maximumAvailable": 2000.0,
                "currentlyAvailable": 5,
                "restoreRate": 100.0,
            },
        }
    },
}
USER_ERRORS = {
    "data": {
        "discountCodeBasicCreate": {
            "codeDiscountNode": None,
            "userErrors": [
                {
                    "field": ["basicCodeDiscount", "code"],
                    "code": "TAKEN",
                    "message": "Code must be unique. Please try a different code.",
                }
            ],
        }
    }
}


class Replay:
    def __init__(self) -> None:
        self.script: list[tuple[int, dict[str, str], Any]] = []
        self.requests: list[tuple[dict[str, str], dict[str, Any]]] = []


@pytest.fixture
def shopify() -> Iterator[tuple[str, Replay]]:
    replay = Replay()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802
            length = int(self.headers.get("Content-Length", "0"))
            replay.requests.append((dict(self.headers), json.loads(self.rfile.read(length))))
            status, headers, body = replay.script.pop(0)
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            for k, v in headers.items():
                self.send_header(k, v)
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, *_args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}/admin/api/2025-01/graphql.json", replay
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture
def brand(store):  # type: ignore[no-untyped-def]
    brand = make_brand(store)
    with store.transaction() as s:
        create_shop(
            s,
            brand.workspace_id,
            platform="shopify",
            name="main",
            domain="acme.myshopify.com",
            access_token="shpat_test",
        )
        owner = C.resolve_owner(s, brand.workspace_id, creator="instagram:sarah_k")
        C.create_code(s, brand.workspace_id, owner, value=15, code="SARAH15-K7R")
        C.create_batch(
            s, brand.workspace_id, owner, count=1, batch="vip", kind="amount", value="7.50"
        )
    return brand


def test_a_code_is_created_and_its_shop_id_stored(store, brand, shopify):
    url, replay = shopify
    replay.script = [(200, {}, CREATED)]
    row = push_code(store, brand.workspace_id, "main", "sarah15-k7r", endpoint=url)
    assert row.external_id == "gid://shopify/DiscountCodeNode/1057856606"
    headers, body = replay.requests[0]
    assert headers["X-Shopify-Access-Token"] == "shpat_test"
    assert body["query"] == MUTATION
    sent = body["variables"]["basicCodeDiscount"]
    assert sent["code"] == "SARAH15-K7R" and sent["customerGets"]["value"] == {"percentage": 0.15}
    assert sent["appliesOncePerCustomer"] is False and "usageLimit" not in sent
    with pytest.raises(ConflictError):
        push_code(store, brand.workspace_id, "main", "SARAH15-K7R", endpoint=url)


def test_a_single_use_amount_code(store, brand, shopify):
    url, replay = shopify
    replay.script = [(200, {}, CREATED)]
    with store.transaction() as s:
        vip = C.list_codes(s, brand.workspace_id, batch="vip")[0].code
    push_code(store, brand.workspace_id, "main", vip, endpoint=url)
    sent = replay.requests[0][1]["variables"]["basicCodeDiscount"]
    assert sent["usageLimit"] == 1 and sent["appliesOncePerCustomer"] is True
    assert sent["customerGets"]["value"] == {
        "discountAmount": {"amount": "7.50", "appliesOnEachItem": False}
    }


def test_429_retry_after_and_throttled_are_honoured(store, brand, shopify):
    url, replay = shopify
    replay.script = [
        (
            429,
            {"Retry-After": "2.0"},
            {
                "errors": "Exceeded 2 calls per second for api client. "
                "Reduce request rates to resume uninterrupted service."
            },
        ),
        (200, {}, THROTTLED),
        (200, {}, CREATED),
    ]
    waits: list[float] = []
    push_code(store, brand.workspace_id, "main", "SARAH15-K7R", endpoint=url, sleep=waits.append)
    assert waits == [2.0, pytest.approx(0.05)]  # Retry-After; (10 - 5) / 100
    assert len(replay.requests) == 3


def test_too_much_waiting_gives_up_clearly(store, brand, shopify):
    url, replay = shopify
    replay.script = [(429, {"Retry-After": "20"}, {"errors": "slow down"})] * 2
    with pytest.raises(ShopApiError, match="slow down"):
        push_code(
            store,
            brand.workspace_id,
            "main",
            "SARAH15-K7R",
            endpoint=url,
            sleep=lambda _s: None,
            max_wait=30,
        )
    with store.transaction() as s:
        assert s.scalar(select(ShopDiscountCode)) is None


@pytest.mark.parametrize(
    ("status", "body", "field", "text"),
    [
        (422, {"errors": {"code": ["must be unique"]}}, "code", "code: must be unique"),
        (200, USER_ERRORS, "basicCodeDiscount.code", "Code must be unique"),
        (
            401,
            {
                "errors": "[API] Invalid API key or access token "
                "(unrecognized login or wrong password)"
            },
            "access_token",
            "Invalid API key",
        ),
    ],
)
def test_refusals_are_surfaced_clearly(store, brand, shopify, status, body, field, text):
    url, replay = shopify
    replay.script = [(status, {}, body)]
    with pytest.raises(InputError) as info:
        push_code(store, brand.workspace_id, "main", "SARAH15-K7R", endpoint=url)
    assert info.value.field == field and text in str(info.value)
    with store.transaction() as s:
        assert s.scalar(select(ShopDiscountCode)) is None


def test_only_myshopify_domains_are_called(store, brand):
    with store.transaction() as s:
        for bad in ("127.0.0.1", "internal.example", "acme.myshopify.com.evil.example"):
            with pytest.raises(InputError, match="myshopify.com"):
                create_shop(s, brand.workspace_id, platform="shopify", name="x", domain=bad)
        create_shop(s, brand.workspace_id, platform="woocommerce", name="w", domain="shop.example")


def test_a_shop_without_a_token(store, brand):
    with store.transaction() as s:
        create_shop(
            s, brand.workspace_id, platform="shopify", name="bare", domain="bare.myshopify.com"
        )
    with pytest.raises(InputError, match="access token"):
        push_code(store, brand.workspace_id, "bare", "SARAH15-K7R")
