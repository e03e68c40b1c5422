"""The codes, shops and orders API: what each role may do, secrets shown once, CSV out and in,
orders imported, listed and attributed."""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from api_support import make_tenant
from microfluence.web.app import create_app

EXPORT = Path(__file__).parent / "data" / "commerce" / "shopify_orders_export.csv"


@pytest.fixture
def api(store, store_url):  # type: ignore[no-untyped-def]
    tenant = make_tenant(store, "brand-a", prefix="alpha")
    with TestClient(create_app(store_url)) as client:
        yield client, tenant


def test_codes_through_the_api(api):
    client, t = api
    member = t.auth("member")
    made = client.post(
        "/api/v1/codes", json={"creator": "instagram:alpha_ana", "value": 15}, headers=member
    )
    assert made.status_code == 201, made.text
    code = made.json()
    assert code["code"].startswith("ALPHAANA15-") and code["creator_id"] == t.creator_ids[0]
    custom = client.post(
        "/api/v1/codes",
        json={"creator_id": t.creator_ids[1], "value": 10, "code": "BO10"},
        headers=member,
    )
    assert custom.status_code == 201
    taken = client.post(
        "/api/v1/codes",
        json={"creator_id": t.creator_ids[1], "value": 10, "code": "bo10"},
        headers=member,
    )
    assert taken.status_code == 409
    bad = client.post(
        "/api/v1/codes", json={"creator": "instagram:alpha_ana", "value": 150}, headers=member
    )
    assert bad.status_code == 422 and "value" in bad.text
    batch = client.post(
        "/api/v1/codes/batches",
        json={"creator_id": t.creator_ids[0], "value": 5, "count": 4, "batch": "vip"},
        headers=member,
    )
    assert batch.status_code == 201 and batch.json()["count"] == 4
    listed = client.get("/api/v1/codes", headers=t.auth("viewer")).json()
    assert listed["count"] == 6
    csv = client.get("/api/v1/codes/export", params={"batch": "vip"}, headers=t.auth("viewer"))
    assert csv.status_code == 200 and csv.headers["content-type"].startswith("text/csv")
    assert len(csv.text.splitlines()) == 5
    disabled = client.post(f"/api/v1/codes/{code['id']}/disable", headers=member)
    assert disabled.json()["disabled_at"] is not None
    imported = client.post(
        "/api/v1/codes/import",
        content=b"code,value\nNEW1,10\nNEW2,20\n",
        headers={**member, "Content-Type": "text/csv"},
    )
    assert imported.status_code == 201 and imported.json() == {"imported": 2}
    refused = client.post(
        "/api/v1/codes/import",
        content=b"code,value\nNEW3,10\nNEW1,20\n",
        headers={**member, "Content-Type": "text/csv"},
    )
    assert refused.status_code == 422 and refused.json()["details"][0]["line"] == 3
    assert client.get("/api/v1/codes", headers=member).json()["count"] == 8


def test_shops_secrets_are_shown_once_and_only_owners_manage_shops(api):
    client, t = api
    body = {"platform": "woocommerce", "name": "woo", "domain": "shop.example"}
    for role in ("viewer", "member"):
        assert client.post("/api/v1/shops", json=body, headers=t.auth(role)).status_code == 403
    made = client.post("/api/v1/shops", json=body, headers=t.auth("owner"))
    assert made.status_code == 201
    secret = made.json()["secret"]
    shop = made.json()["shop"]
    assert len(secret) >= 32 and shop["webhook_path"] == f"/hooks/woocommerce/{shop['public_id']}"
    for path in ("/api/v1/shops", f"/api/v1/shops/{shop['id']}"):
        text = client.get(path, headers=t.auth("viewer")).text
        assert secret not in text and 'secret"' not in text.replace("previous", "")
    rotated = client.post(f"/api/v1/shops/{shop['id']}/secret", json={}, headers=t.auth("owner"))
    assert rotated.json()["shop"]["rotating"] is True and rotated.json()["secret"] != secret
    ended = client.delete(f"/api/v1/shops/{shop['id']}/previous-secret", headers=t.auth("owner"))
    assert ended.json()["rotating"] is False
    token = client.put(
        f"/api/v1/shops/{shop['id']}/access-token",
        json={"access_token": "x"},
        headers=t.auth("owner"),
    )
    assert token.status_code == 422  # WooCommerce takes none
    assert (
        client.get(f"/api/v1/shops/{shop['id']}/deliveries", headers=t.auth("viewer")).json()[
            "count"
        ]
        == 0
    )
    assert client.delete(f"/api/v1/shops/{shop['id']}", headers=t.auth("member")).status_code == 403
    assert client.delete(f"/api/v1/shops/{shop['id']}", headers=t.auth("owner")).status_code == 204


def test_orders_imported_listed_and_attributed(api):
    client, t = api
    shop = client.post(
        "/api/v1/shops", json={"platform": "shopify", "name": "main"}, headers=t.auth("owner")
    ).json()["shop"]
    client.post(
        "/api/v1/codes",
        json={"creator_id": t.creator_ids[0], "value": 15, "code": "SARAH15"},
        headers=t.auth("member"),
    )
    viewer_try = client.post(
        f"/api/v1/shops/{shop['id']}/orders/import",
        content=EXPORT.read_bytes(),
        headers={**t.auth("viewer"), "Content-Type": "text/csv"},
    )
    assert viewer_try.status_code == 403
    done = client.post(
        f"/api/v1/shops/{shop['id']}/orders/import",
        content=EXPORT.read_bytes(),
        headers={**t.auth("member"), "Content-Type": "text/csv"},
    )
    assert done.status_code == 201, done.text
    assert done.json()["orders"] == 3 and done.json()["attribution"]["by_code"] == 1
    page = client.get("/api/v1/orders", params={"method": "code"}, headers=t.auth("viewer")).json()
    assert page["count"] == 1 and page["data"][0]["creator_id"] == t.creator_ids[0]
    one = client.get(f"/api/v1/orders/{page['data'][0]['id']}", headers=t.auth("viewer")).json()
    assert one["codes"] == ["SARAH15"] and "customer_hash" not in one and "@" not in str(one)
    again = client.post("/api/v1/attribution", headers=t.auth("member")).json()
    assert again["orders"] == 3 and again["by_code"] == 1
    assert client.post("/api/v1/attribution", headers=t.auth("viewer")).status_code == 403
