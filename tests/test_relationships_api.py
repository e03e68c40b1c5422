"""/api/v1/campaigns/{id}/pipeline: the board, moves (bulk, all or nothing, recorded with the
API key), history, statistics and adding prospects; viewers read, members change; hostile bodies
get a 422 naming the field (SQLite and PostgreSQL)."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from api_support import make_tenant
from microfluence.campaigns.tables import STAGES
from microfluence.web.app import create_app


def where(client: TestClient, base: str, h: dict[str, str]) -> dict[int, tuple[str, str]]:
    """Each deal's stage and since when (days in stage grow while a test runs)."""
    board = client.get(base, headers=h).json()
    return {
        card["deal_id"]: (column["stage"], card["stage_changed_at"])
        for column in board["columns"]
        for card in column["cards"]
    }


@pytest.fixture
def api(store, store_url):  # type: ignore[no-untyped-def]
    tenant = make_tenant(store, "brand", prefix="alpha")
    with TestClient(create_app(store_url)) as client:
        cid = client.post(
            "/api/v1/campaigns", json={"name": "Launch"}, headers=tenant.auth("member")
        ).json()["id"]
        yield client, tenant, f"/api/v1/campaigns/{cid}/pipeline"


def test_add_move_read_history_and_stats(api):
    client, t, base = api
    h, viewer = t.auth("member"), t.auth("viewer")
    added = client.post(
        f"{base}/prospects",
        json={"creators": ["instagram:alpha_ana", "instagram:alpha_bo"]},
        headers=h,
    )
    assert added.status_code == 201, added.text
    ana, bo = (p["deal_id"] for p in added.json()["added"])
    again = client.post(f"{base}/prospects", json={"creator_ids": t.creator_ids}, headers=h).json()
    assert [p["creator_name"] for p in again["added"]] == ["alpha Cy"]
    assert sorted(p["deal_id"] for p in again["already"]) == sorted([ana, bo])
    moved = client.post(
        f"{base}/moves", json={"stage": "Contacted", "deal_ids": [ana, bo]}, headers=h
    )
    assert moved.status_code == 200, moved.text
    assert moved.json() == {"stage": "contacted", "moved": sorted([ana, bo]), "unchanged": []}
    by_account = client.post(
        f"{base}/moves", json={"stage": "replied", "creators": ["tiktok:alpha_ana_tt"]}, headers=h
    )
    assert by_account.json()["moved"] == [ana]
    board = client.get(base, headers=viewer).json()
    stages = {c["stage"]: [card["deal_id"] for card in c["cards"]] for c in board["columns"]}
    assert (stages["replied"], stages["contacted"], len(stages["prospect"])) == ([ana], [bo], 1)
    card = board["columns"][2]["cards"][0]
    assert card["account"] == "instagram:alpha_ana" and card["flat_fee"] == "0.00"
    listed = client.get(f"{base}/deals", params={"sort": "-stage"}, headers=viewer).json()
    assert [c["deal_id"] for c in listed][:2] == [ana, bo]
    events = client.get(f"{base}/deals/{ana}/history", headers=viewer).json()
    assert [(e["kind"], e["to_stage"]) for e in events] == [
        ("added", "prospect"),
        ("stage", "contacted"),
        ("stage", "replied"),
    ]
    assert all(e["actor"].startswith("api key member (mfk_") for e in events), events
    stats = client.get(f"{base}/stats", headers=viewer).json()
    assert stats["deals"] == 3 and stats["reached"]["contacted"] == 2
    assert stats["conversions"][0] == {
        "from_stage": "prospect",
        "to_stage": "contacted",
        "reached_from": 3,
        "reached_to": 2,
        "rate": pytest.approx(2 / 3),
    }


def test_viewers_read_members_change(api):
    client, t, base = api
    viewer = t.auth("viewer")
    made = client.post(
        f"{base}/prospects", json={"creators": ["instagram:alpha_ana"]}, headers=t.auth()
    ).json()
    deal = made["added"][0]["deal_id"]
    for path in (base, f"{base}/deals", f"{base}/stats", f"{base}/deals/{deal}/history"):
        assert client.get(path, headers=viewer).status_code == 200, path
        assert client.get(path).status_code == 401, path
    for path, body in (
        (f"{base}/moves", {"stage": "agreed", "deal_ids": [deal]}),
        (f"{base}/prospects", {"creator_ids": [t.creator_ids[1]]}),
    ):
        assert client.post(path, json=body, headers=viewer).status_code == 403, path
    assert client.get(base, headers=viewer).json()["columns"][0]["cards"][0]["deal_id"] == deal


def test_bulk_moves_are_all_or_nothing(api):
    client, t, base = api
    h = t.auth()
    made = client.post(f"{base}/prospects", json={"creator_ids": t.creator_ids}, headers=h).json()
    ids = [p["deal_id"] for p in made["added"]]
    before = where(client, base, h)
    refused = client.post(
        f"{base}/moves", json={"stage": "agreed", "deal_ids": [*ids, 2**31 - 1]}, headers=h
    )
    assert refused.status_code == 404 and str(2**31 - 1) in refused.json()["message"]
    unknown = client.post(
        f"{base}/moves", json={"stage": "agreed", "creators": ["instagram:nobody"]}, headers=h
    )
    assert unknown.status_code == 404 and "creators[0]" in unknown.json()["message"]
    assert where(client, base, h) == before


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    body=st.one_of(
        st.fixed_dictionaries({"stage": st.text(max_size=50)}),
        st.fixed_dictionaries(
            {"stage": st.sampled_from(STAGES), "deal_ids": st.lists(st.integers(), max_size=3)}
        ),
        st.fixed_dictionaries(
            {"stage": st.text(max_size=45), "creators": st.lists(st.text(max_size=60), max_size=3)}
        ),
        st.dictionaries(st.text(max_size=10), st.integers() | st.text(max_size=10), max_size=3),
    )
)
def test_hostile_move_bodies_are_refused_and_change_nothing(api, body):
    client, t, base = api
    h = t.auth()
    before = where(client, base, h)
    answer = client.post(f"{base}/moves", json=body, headers=h)
    assert answer.status_code in (404, 422), (body, answer.text)
    assert answer.json()["message"]
    assert where(client, base, h) == before


def test_validation_names_the_field(api):
    client, t, base = api
    h = t.auth()
    for path, body, field in (
        (f"{base}/moves", {"stage": "agreed"}, "name at least one deal"),
        (f"{base}/moves", {"stage": "signed", "deal_ids": [1]}, "unknown stage"),
        (f"{base}/moves", {"stage": "agreed", "deal_ids": [0]}, "deal_ids"),
        (f"{base}/moves", {"stage": "agreed", "deal_ids": [1], "extra": 1}, "extra"),
        (f"{base}/prospects", {}, "name at least one creator"),
        (f"{base}/prospects", {"creators": ["no-colon"]}, "creators[0]"),
    ):
        answer = client.post(path, json=body, headers=h)
        assert answer.status_code in (404, 422), (body, answer.text)
        assert field in answer.text, (body, answer.text)
