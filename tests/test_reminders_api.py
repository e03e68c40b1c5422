"""/api/v1/tasks and /api/v1/reminders: a round trip through every route, roles (viewers read,
members change tasks, owners set thresholds) and errors naming the field (both stores)."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from api_support import make_tenant
from microfluence.web.app import create_app


@pytest.fixture
def api(store, store_url):  # type: ignore[no-untyped-def]
    tenant = make_tenant(store, "brand", prefix="alpha")
    with TestClient(create_app(store_url)) as client:
        yield client, tenant


def _deal(client: TestClient, h: dict[str, str]) -> tuple[int, int]:
    cid = client.post(
        "/api/v1/campaigns", json={"name": "Launch", "starts_on": "2026-01-01"}, headers=h
    ).json()["id"]
    deal = client.post(
        f"/api/v1/campaigns/{cid}/deals",
        json={"creator": "instagram:alpha_ana", "package": {"story": 1}, "due": "2026-07-05"},
        headers=h,
    ).json()
    return cid, deal["id"]


def test_round_trip(api):
    client, t = api
    h = t.auth("member")
    cid, did = _deal(client, h)
    made = client.post(
        "/api/v1/tasks",
        json={"title": "Call Ana", "kind": "follow_up", "due_on": "2026-07-09", "deal_id": did},
        headers=h,
    )
    assert made.status_code == 201, made.text
    task = made.json()
    assert (task["campaign_id"], task["creator_name"]) == (cid, "alpha Ana")
    assert task["created_by"].startswith("api key member (")
    tid = task["id"]
    viewer = t.auth("viewer")
    assert client.get(f"/api/v1/tasks/{tid}", headers=viewer).json() == task
    listed = client.get("/api/v1/tasks", params={"campaign_id": cid}, headers=viewer).json()
    assert listed["count"] == 1 and listed["data"][0]["id"] == tid

    found = client.get("/api/v1/reminders", params={"today": "2026-07-10"}, headers=viewer).json()
    assert [(i["kind"], i["days_overdue"]) for i in found["items"]] == [
        ("deliverable", 5),
        ("task", 1),
    ]
    assert found["counts"]["deliverable"] == 1 and found["overdue"] == 2
    assert found["items"][0]["link"] == f"/campaigns/{cid}#deliverables"

    patched = client.patch(
        f"/api/v1/tasks/{tid}", json={"due_on": "2026-07-20", "assignee": "Ann@X.test"}, headers=h
    ).json()
    assert (patched["due_on"], patched["assignee"]) == ("2026-07-20", "ann@x.test")
    mine = client.get(
        "/api/v1/reminders", params={"today": "2026-07-18", "assignee": "ann@x.test"}, headers=h
    ).json()
    assert [(i["kind"], i["days_overdue"]) for i in mine["items"]] == [("task", -2)]
    assert client.post(f"/api/v1/tasks/{tid}/done", headers=h).json()["status"] == "done"
    assert client.get("/api/v1/tasks", headers=h).json()["count"] == 0
    assert client.get("/api/v1/tasks", params={"status": "done"}, headers=h).json()["count"] == 1
    assert client.post(f"/api/v1/tasks/{tid}/reopen", headers=h).json()["status"] == "open"
    assert client.delete(f"/api/v1/tasks/{tid}", headers=h).status_code == 204
    assert client.get(f"/api/v1/tasks/{tid}", headers=h).status_code == 404

    owner = t.auth("owner")
    put = client.put(
        "/api/v1/reminders/settings", json={"thresholds": {"review_days": 4}}, headers=owner
    )
    assert put.status_code == 200 and put.json()["own"] == {"review_days": 4}
    shown = client.get("/api/v1/reminders/settings", headers=viewer).json()
    assert shown["thresholds"]["review_days"] == 4 and shown["thresholds"]["follow_up_days"] == 7


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"title": "x", "due_on": "31/12/2026"}, "due_on"),
        ({"title": ""}, "title"),
        ({"title": "x", "kind": "chore"}, "kind"),
        ({"title": "x", "deal_id": 2_000_000}, "deal_id"),
        ({"title": "x", "creator_id": 2_000_000}, "creator_id"),
        ({"title": "x", "assignee": "not-an-email"}, "assignee"),
        ({"title": "x", "colour": "red"}, "colour"),
    ],
)
def test_invalid_tasks_name_the_field(api, body, field):
    client, t = api
    answer = client.post("/api/v1/tasks", json=body, headers=t.auth("member"))
    assert answer.status_code == 422, answer.text
    assert field in answer.text
    params = {"status": "all"}
    assert client.get("/api/v1/tasks", params=params, headers=t.auth()).json()["count"] == 0


def test_roles_viewers_read_members_change_owners_set_thresholds(api):
    client, t = api
    tid = client.post("/api/v1/tasks", json={"title": "x"}, headers=t.auth("member")).json()["id"]
    viewer = t.auth("viewer")
    assert client.get("/api/v1/reminders", headers=viewer).status_code == 200
    assert client.get("/api/v1/reminders/settings", headers=viewer).status_code == 200
    for method, path, body in (
        ("post", "/api/v1/tasks", {"title": "y"}),
        ("patch", f"/api/v1/tasks/{tid}", {"title": "z"}),
        ("post", f"/api/v1/tasks/{tid}/done", None),
        ("post", f"/api/v1/tasks/{tid}/reopen", None),
        ("delete", f"/api/v1/tasks/{tid}", None),
        ("put", "/api/v1/reminders/settings", {"thresholds": {"review_days": 1}}),
    ):
        assert client.request(method, path, json=body, headers=viewer).status_code == 403, path
    member = client.put(
        "/api/v1/reminders/settings", json={"thresholds": {"review_days": 1}}, headers=t.auth()
    )
    assert member.status_code == 403
    assert client.get("/api/v1/tasks").status_code == 401
    bad = client.put(
        "/api/v1/reminders/settings",
        json={"thresholds": {"review_days": 400}},
        headers=t.auth("owner"),
    )
    assert bad.status_code == 422 and "review_days" in bad.text
    assert client.get("/api/v1/tasks/" + str(tid), headers=viewer).json()["title"] == "x"
