"""/api/v1/campaigns: a round trip through every route, roles (viewers read, members write),
and validation errors naming the field (SQLite and PostgreSQL)."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from api_support import make_tenant
from microfluence.web.app import create_app

CAMPAIGN = {
    "name": "January",
    "starts_on": "2026-01-01",
    "ends_on": "2026-01-31",
    "currency": "eur",
    "budget": "1000",
    "hashtags": ["#AD"],
    "targets": {"clicks": 500},
}


@pytest.fixture
def api(store, store_url):  # type: ignore[no-untyped-def]
    tenant = make_tenant(store, "brand", prefix="alpha")
    with TestClient(create_app(store_url)) as client:
        yield client, tenant


def test_round_trip(api):
    client, t = api
    h = t.auth("member")
    made = client.post("/api/v1/campaigns", json=CAMPAIGN, headers=h)
    assert made.status_code == 201, made.text
    campaign = made.json()
    assert (campaign["currency"], campaign["budget"], campaign["hashtags"]) == (
        "EUR",
        "1000.00",
        ["ad"],
    )
    cid = campaign["id"]
    again = client.post("/api/v1/campaigns", json=CAMPAIGN, headers=h)
    assert again.status_code == 409
    deal = client.post(
        f"/api/v1/campaigns/{cid}/deals",
        json={
            "creator": "instagram:alpha_ana",
            "flat_fee": "250.50",
            "commission_rate": "12.5%",
            "package": {"feed_post": 1, "story": 1},
            "due": "2026-01-20",
        },
        headers=h,
    )
    assert deal.status_code == 201, deal.text
    deal_id = deal.json()["id"]
    assert deal.json()["commission_rate"] == "0.1250" and deal.json()["pieces"]["pending"] == 2
    clash = client.post(
        f"/api/v1/campaigns/{cid}/deals", json={"creator": "tiktok:alpha_ana_tt"}, headers=h
    )
    assert clash.status_code == 409 and "already has a deal" in clash.json()["message"]
    matched = client.post(f"/api/v1/campaigns/{cid}/deliverables/match", headers=h).json()
    assert matched["matched"] == 1 and matched["candidates"] == 4
    piece = matched["deliverables"][0]
    assert piece["match_reason"] == "#ad in caption" and piece["format"] == "feed_post"
    path = f"/api/v1/campaigns/{cid}/deliverables/{piece['id']}"
    assert client.post(f"{path}/confirm", headers=h).json()["status"] == "confirmed"
    rejected = client.post(f"{path}/reject", headers=h).json()
    assert rejected["status"] == "pending" and rejected["rejected_post_ids"] == [piece["post_id"]]
    nul = client.post(f"{path}/assign", json={"post": "https://x.io/\x00"}, headers=h)
    assert nul.status_code == 422 and "post" in nul.text
    assigned = client.post(f"{path}/assign", json={"post": str(piece["post_id"])}, headers=h)
    assert assigned.json()["matched_by"] == "user" and assigned.json()["rejected_post_ids"] == []
    listed = client.get(f"/api/v1/campaigns/{cid}/deliverables", headers=t.auth("viewer")).json()
    assert sorted(p["status"] for p in listed) == ["confirmed", "pending"]
    changed = client.patch(
        f"/api/v1/campaigns/{cid}/deals/{deal_id}",
        json={"package": {"feed_post": 1, "reel": 2}},
        headers=h,
    ).json()
    assert changed["package"] == {"feed_post": 1, "reel": 2}
    assert client.get(f"/api/v1/campaigns/{cid}/deals/{deal_id}", headers=h).json() == changed
    assert [d["id"] for d in client.get(f"/api/v1/campaigns/{cid}/deals", headers=h).json()] == [
        deal_id
    ]
    active = client.patch(f"/api/v1/campaigns/{cid}", json={"status": "active"}, headers=h)
    assert active.json()["status"] == "active"
    shown = client.get(f"/api/v1/campaigns/{cid}", headers=h).json()
    assert shown["deals"] == 1 and shown["pieces"] == {"pending": 2, "matched": 0, "confirmed": 1}
    active_only = client.get("/api/v1/campaigns?status=active", headers=h).json()
    assert [c["id"] for c in active_only["data"]] == [cid] and active_only["count"] == 1
    assert client.delete(f"/api/v1/campaigns/{cid}/deals/{deal_id}", headers=h).status_code == 204
    assert client.delete(f"/api/v1/campaigns/{cid}", headers=h).status_code == 204
    assert client.get(f"/api/v1/campaigns/{cid}", headers=h).status_code == 404


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"name": "x", "currency": "EURO"}, "currency"),
        ({"name": "x", "ends_on": "2026-01-01", "starts_on": "2026-02-01"}, "ends_on"),
        ({"name": "x", "targets": {"followers": 3}}, "targets"),
        ({"name": "x", "budget": "-3"}, "budget"),
        ({"name": "x", "goal": "fame"}, "goal"),
        ({"name": "x", "notes": "a\x00b"}, "notes"),
        ({"name": "a\x00b"}, "name"),
        ({"name": "x", "hashtags": ["a\x00"]}, "hashtags"),
    ],
)
def test_invalid_campaigns_name_the_field(api, body, field):
    client, t = api
    answer = client.post("/api/v1/campaigns", json=body, headers=t.auth("member"))
    assert answer.status_code == 422, answer.text
    assert field in answer.text
    assert client.get("/api/v1/campaigns", headers=t.auth()).json() == {"data": [], "count": 0}


def test_roles_viewers_read_members_write(api):
    client, t = api
    cid = client.post("/api/v1/campaigns", json=CAMPAIGN, headers=t.auth("member")).json()["id"]
    viewer = t.auth("viewer")
    assert client.get(f"/api/v1/campaigns/{cid}", headers=viewer).status_code == 200
    for method, path, body in (
        ("post", "/api/v1/campaigns", {"name": "y"}),
        ("patch", f"/api/v1/campaigns/{cid}", {"notes": "x"}),
        ("delete", f"/api/v1/campaigns/{cid}", None),
        ("post", f"/api/v1/campaigns/{cid}/deals", {"creator": "instagram:alpha_bo"}),
        ("post", f"/api/v1/campaigns/{cid}/deliverables/match", None),
    ):
        answer = client.request(method, path, json=body, headers=viewer)
        assert answer.status_code == 403, (method, path)
    assert client.get("/api/v1/campaigns").status_code == 401
    owner = client.post(
        f"/api/v1/campaigns/{cid}/deals",
        json={"creator": "instagram:alpha_bo"},
        headers=t.auth("owner"),
    )
    assert owner.status_code == 201


def test_the_campaigns_list_is_paginated(api):
    client, t = api
    h = t.auth("member")
    for n in range(5):
        body = {"name": f"c{n}", "starts_on": f"2026-0{n + 1}-01"}
        assert client.post("/api/v1/campaigns", json=body, headers=h).status_code == 201
    first = client.get("/api/v1/campaigns?limit=2", headers=h).json()
    rest = client.get("/api/v1/campaigns?limit=2&offset=2", headers=h).json()
    assert first["count"] == rest["count"] == 5
    assert [c["name"] for c in first["data"] + rest["data"]] == ["c4", "c3", "c2", "c1"]
