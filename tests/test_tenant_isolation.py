"""Two workspaces on one server: neither can read, list, export, change or delete the other's
data through any endpoint, whatever ids it guesses or filters it sends.

Every route of the OpenAPI schema must be exercised here (``test_every_route_is_covered``), so a
new endpoint cannot ship without its isolation check.
"""

from __future__ import annotations

import json
import re

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient

from api_support import (
    Tenant,
    make_tenant,
    make_user,
)
from microfluence.access import sessions
from microfluence.kernel.errors import NotFoundError
from microfluence.web.app import create_app

COVERED: set[tuple[str, str]] = set()


def covers(method: str, path: str):  # type: ignore[no-untyped-def]
    COVERED.add((method, path))
    return lambda test: test


@pytest.fixture
def world(store, store_url):  # type: ignore[no-untyped-def]
    a = make_tenant(store, "brand-a", prefix="alpha")
    b = make_tenant(store, "brand-b", prefix="bravo")
    with TestClient(create_app(store_url)) as client:
        yield client, a, b


def visible_to(client: TestClient, tenant: Tenant) -> str:
    """Everything ``tenant`` can see, as text, to compare before and after an attack."""
    h = tenant.auth("viewer")
    parts = [
        client.get("/api/v1/creators", params={"limit": 500}, headers=h).text,
        client.get("/api/v1/accounts", params={"limit": 500}, headers=h).text,
        client.get("/api/v1/posts", params={"limit": 500}, headers=h).text,
    ]
    for aid in tenant.account_ids:
        parts.append(client.get(f"/api/v1/accounts/{aid}/snapshots", headers=h).text)
    return "\n".join(parts)


def not_found(response) -> None:  # type: ignore[no-untyped-def]
    assert response.status_code == 404, response.text
    assert response.json()["code"] == "not_found"


@covers("get", "/api/v1/creators")
@covers("get", "/api/v1/accounts")
@covers("get", "/api/v1/posts")
def test_lists_show_only_the_callers_workspace(world):
    client, a, b = world
    h = a.auth("viewer")
    for path, ids in (
        ("/api/v1/creators", a.creator_ids),
        ("/api/v1/accounts", a.account_ids),
        ("/api/v1/posts", a.post_ids),
    ):
        page = client.get(path, params={"limit": 500}, headers=h).json()
        assert sorted(r["id"] for r in page["data"]) == sorted(ids)
        assert page["count"] == len(ids)
        assert "bravo" not in json.dumps(page)
    # Filters that name the other workspace's text or ids find nothing.
    for path, params in (
        ("/api/v1/creators", {"q": "bravo"}),
        ("/api/v1/creators", {"q": "bravo", "min_followers": 0, "sort": "-followers"}),
        ("/api/v1/accounts", {"q": "bravo"}),
        ("/api/v1/accounts", {"creator_id": b.creator_ids[0]}),
        ("/api/v1/accounts", {"q": "bravo", "sort": "followers", "min_followers": 1}),
        ("/api/v1/posts", {"account_id": b.account_ids[0]}),
        ("/api/v1/posts", {"creator_id": b.creator_ids[0]}),
        ("/api/v1/posts", {"q": "bravo"}),
    ):
        page = client.get(path, params=params, headers=h).json()
        assert page == {"data": [], "count": 0}, (path, params)


@covers("get", "/api/v1/creators/{creator_id}")
@covers("get", "/api/v1/accounts/{account_id}")
@covers("get", "/api/v1/posts/{post_id}")
@covers("get", "/api/v1/accounts/{account_id}/snapshots")
@covers("get", "/api/v1/accounts/{account_id}/posts")
def test_guessed_ids_of_the_other_workspace_are_not_found(world):
    client, a, b = world
    h = a.auth("owner")
    for cid in b.creator_ids:
        not_found(client.get(f"/api/v1/creators/{cid}", headers=h))
    for aid in b.account_ids:
        not_found(client.get(f"/api/v1/accounts/{aid}", headers=h))
        not_found(client.get(f"/api/v1/accounts/{aid}/snapshots", headers=h))
        not_found(client.get(f"/api/v1/accounts/{aid}/posts", headers=h))
    for pid in b.post_ids:
        not_found(client.get(f"/api/v1/posts/{pid}", headers=h))
    # The answer for another workspace's id is the same as for an id that does not exist.
    other = client.get(f"/api/v1/creators/{b.creator_ids[0]}", headers=h).json()
    missing = client.get("/api/v1/creators/2147483647", headers=h).json()
    assert other["message"].replace(str(b.creator_ids[0]), "N") == missing["message"].replace(
        "2147483647", "N"
    )


@covers("patch", "/api/v1/creators/{creator_id}")
@covers("delete", "/api/v1/creators/{creator_id}")
@covers("patch", "/api/v1/accounts/{account_id}")
@covers("delete", "/api/v1/accounts/{account_id}")
@covers("post", "/api/v1/accounts/{account_id}/snapshots")
@covers("post", "/api/v1/accounts")
@covers("post", "/api/v1/creators")
def test_the_other_workspaces_data_cannot_be_changed(world):
    client, a, b = world
    h = a.auth("owner")
    before = visible_to(client, b)
    for cid in b.creator_ids:
        not_found(client.patch(f"/api/v1/creators/{cid}", json={"name": "pwned"}, headers=h))
        not_found(client.delete(f"/api/v1/creators/{cid}", headers=h))
    for aid in b.account_ids:
        not_found(client.patch(f"/api/v1/accounts/{aid}", json={"bio": "pwned"}, headers=h))
        not_found(client.delete(f"/api/v1/accounts/{aid}", headers=h))
        not_found(
            client.post(
                f"/api/v1/accounts/{aid}/snapshots",
                json={"captured_at": "2026-06-01T00:00:00", "followers": 1},
                headers=h,
            )
        )
    # Attaching one's own account to the other workspace's creator, or a new one.
    mine = a.account_ids[0]
    not_found(
        client.patch(f"/api/v1/accounts/{mine}", json={"creator_id": b.creator_ids[0]}, headers=h)
    )
    not_found(
        client.post(
            "/api/v1/accounts",
            json={"platform": "x", "handle": "sneaky", "creator_id": b.creator_ids[0]},
            headers=h,
        )
    )
    # The same handle may exist in both workspaces: creating it in A leaves B's alone.
    same = client.post(
        "/api/v1/accounts", json={"platform": "instagram", "handle": "bravo_bo"}, headers=h
    )
    assert same.status_code == 201 and same.json()["id"] not in b.account_ids
    made = client.post("/api/v1/creators", json={"name": "alpha new"}, headers=h)
    assert made.status_code == 201
    assert visible_to(client, b) == before


@covers("get", "/api/v1/exports/creators")
@covers("get", "/api/v1/exports/posts")
def test_exports_hold_only_the_callers_data(world):
    client, a, b = world
    for fmt in ("csv", "json", "jsonl"):
        for what in ("creators", "posts"):
            text = client.get(
                f"/api/v1/exports/{what}", params={"format": fmt}, headers=a.auth("viewer")
            ).text
            assert "alpha_" in text and "bravo" not in text, (what, fmt)


@covers("post", "/api/v1/imports")
@covers("get", "/api/v1/imports")
@covers("get", "/api/v1/imports/{job_id}")
def test_imports_write_only_into_the_callers_workspace(world):
    client, a, b = world
    before = visible_to(client, b)
    # The file names B's handles: they must become new accounts of A, B's stay as they were.
    content = b"handle,followers,bio\nbravo_bo,999999,taken over\nbravo_cy,1,taken over\n"
    started = client.post(
        "/api/v1/imports",
        files={"file": ("takeover.csv", content, "text/csv")},
        data={"kind": "creators", "platform": "instagram"},
        headers=a.auth("member"),
    )
    assert started.status_code == 202
    client.app.state.jobs.wait(timeout=60)
    job_id = started.json()["id"]
    assert client.get(f"/api/v1/imports/{job_id}", headers=a.auth()).json()["status"] == (
        "succeeded"
    )
    assert visible_to(client, b) == before
    mine = client.get("/api/v1/accounts", params={"q": "taken over"}, headers=a.auth()).json()
    assert mine["count"] == 2
    # B can neither poll nor list A's job.
    not_found(client.get(f"/api/v1/imports/{job_id}", headers=b.auth("owner")))
    assert client.get("/api/v1/imports", headers=b.auth("owner")).json() == {"data": [], "count": 0}


@covers("post", "/api/v1/imports/{job_id}/cancel")
def test_imports_are_cancelled_only_by_their_own_workspace(world):
    client, a, b = world
    from microfluence.jobs.imports import create_job
    from microfluence.jobs.tables import ImportJob

    store = client.app.state.store
    with store.transaction() as session:  # waiting for a worker: cancellable
        job_id = create_job(
            session, workspace_id=a.workspace_id, kind="creators", filename="a.csv", options={}
        ).id
    for guess in (job_id, job_id.upper(), "0" * 32):
        not_found(client.post(f"/api/v1/imports/{guess}/cancel", headers=b.auth("owner")))
    with store.transaction() as session:
        assert session.get(ImportJob, job_id).status == "queued"  # untouched by B
    mine = client.post(f"/api/v1/imports/{job_id}/cancel", headers=a.auth("owner"))
    assert mine.status_code == 200 and mine.json()["status"] == "cancelled"


@covers("post", "/api/v1/jobs")
@covers("get", "/api/v1/jobs")
@covers("get", "/api/v1/jobs/{job_id}")
@covers("post", "/api/v1/jobs/{job_id}/cancel")
def test_jobs_run_list_and_cancel_only_in_the_callers_workspace(world):
    client, a, b = world
    from microfluence.jobs.scoring import create_score_job
    from microfluence.jobs.tables import ImportJob
    from microfluence.metrics.tables import MetricRun

    started = client.post("/api/v1/jobs", json={"kind": "score"}, headers=a.auth("member"))
    assert started.status_code == 202, started.text
    client.app.state.jobs.wait(timeout=60)
    job_id = started.json()["id"]
    done = client.get(f"/api/v1/jobs/{job_id}", headers=a.auth()).json()
    assert done["status"] == "succeeded" and done["summary"]["workspace"] == "brand-a"
    store = client.app.state.store
    with store.session() as session:  # A's re-score computed A's metrics only
        runs = session.query(MetricRun.workspace_id).all()
    assert runs == [(a.workspace_id,)]
    not_found(client.get(f"/api/v1/jobs/{job_id}", headers=b.auth("owner")))
    assert client.get("/api/v1/jobs", headers=b.auth("owner")).json() == {"data": [], "count": 0}
    listed = client.get("/api/v1/jobs", params={"kind": "score"}, headers=b.auth()).json()
    assert listed["count"] == 0
    with store.transaction() as session:  # queued: cancellable, but only by A
        queued = create_score_job(session, a.workspace_id).id
    for guess in (queued, queued.upper(), "0" * 32):
        not_found(client.post(f"/api/v1/jobs/{guess}/cancel", headers=b.auth("owner")))
    with store.session() as session:
        assert session.get(ImportJob, queued).status == "queued"
    mine = client.post(f"/api/v1/jobs/{queued}/cancel", headers=a.auth("owner"))
    assert mine.status_code == 200 and mine.json()["status"] == "cancelled"


@covers("get", "/api/v1/schedules")
@covers("post", "/api/v1/schedules")
@covers("delete", "/api/v1/schedules/{schedule_id}")
def test_schedules_belong_to_one_workspace(world):
    client, a, b = world
    from microfluence.jobs.tables import JobSchedule

    body = {"kind": "score", "cron": "0 3 * * *"}
    theirs = client.post("/api/v1/schedules", json=body, headers=b.auth("member"))
    assert theirs.status_code == 201, theirs.text
    # The same job on the same cron in another workspace is no conflict, and stays apart.
    mine = client.post("/api/v1/schedules", json=body, headers=a.auth("member"))
    assert mine.status_code == 201, mine.text
    listed = client.get("/api/v1/schedules", headers=a.auth("viewer")).json()
    assert [s["id"] for s in listed["data"]] == [mine.json()["id"]] and listed["count"] == 1
    for guess in (theirs.json()["id"], theirs.json()["id"] + 100):
        not_found(client.delete(f"/api/v1/schedules/{guess}", headers=a.auth("owner")))
    with client.app.state.store.session() as session:
        assert session.get(JobSchedule, theirs.json()["id"]) is not None  # untouched by A
    gone = client.delete(f"/api/v1/schedules/{mine.json()['id']}", headers=a.auth("member"))
    assert gone.status_code == 204
    assert client.get("/api/v1/schedules", headers=b.auth()).json()["count"] == 1


@covers("get", "/api/v1/workspace")
@covers("get", "/api/v1/workspace/api-keys")
@covers("post", "/api/v1/workspace/api-keys")
@covers("delete", "/api/v1/workspace/api-keys/{key_id}")
def test_api_keys_belong_to_one_workspace(world):
    client, a, b = world
    assert client.get("/api/v1/workspace", headers=a.auth()).json()["workspace"] == "brand-a"
    mine = client.get("/api/v1/workspace/api-keys", headers=a.auth("owner")).json()
    theirs = client.get("/api/v1/workspace/api-keys", headers=b.auth("owner")).json()
    assert {k["id"] for k in mine["data"]}.isdisjoint({k["id"] for k in theirs["data"]})
    for key in theirs["data"]:
        not_found(client.delete(f"/api/v1/workspace/api-keys/{key['id']}", headers=a.auth("owner")))
    # B's keys all still work.
    for role in ("viewer", "member", "owner"):
        assert client.get("/api/v1/workspace", headers=b.auth(role)).status_code == 200
    made = client.post(
        "/api/v1/workspace/api-keys", json={"role": "owner"}, headers=a.auth("owner")
    )
    new_key = {"Authorization": f"Bearer {made.json()['key']}"}
    assert client.get("/api/v1/workspace", headers=new_key).json()["workspace"] == "brand-a"
    not_found(client.get(f"/api/v1/creators/{b.creator_ids[0]}", headers=new_key))


@covers("get", "/api/v1/accounts/{account_id}/vetting")
@covers("get", "/api/v1/accounts/{account_id}/vetting/report.html")
def test_vetting_reports_only_for_the_callers_accounts(world):
    client, a, b = world
    own = client.get(f"/api/v1/accounts/{a.account_ids[0]}/vetting", headers=a.auth("viewer"))
    assert own.status_code == 200, own.text
    assert own.json()["handle"] == "alpha_ana" and own.json()["components"]
    page = client.get(
        f"/api/v1/accounts/{a.account_ids[0]}/vetting/report.html", headers=a.auth("viewer")
    )
    assert page.status_code == 200 and "alpha_ana" in page.text
    for aid in b.account_ids:
        not_found(client.get(f"/api/v1/accounts/{aid}/vetting", headers=a.auth("owner")))
        not_found(
            client.get(f"/api/v1/accounts/{aid}/vetting/report.html", headers=a.auth("owner"))
        )
    assert client.get(f"/api/v1/accounts/{a.account_ids[0]}/vetting").status_code == 401


def test_every_route_is_covered(world):
    client, _a, _b = world
    schema = client.get("/openapi.json").json()
    routes = {(m, p) for p, ops in schema["paths"].items() for m in ops}
    assert routes - COVERED == set(), "add an isolation test for these routes"


def test_signed_in_users_only_switch_to_their_own_workspaces(store, world):
    _client, a, b = world
    make_user(store, "ann@alpha.test", "brand-a", "owner")
    from api_support import PASSWORD

    token, signed_in = sessions.sign_in(store, email="ann@alpha.test", password=PASSWORD)
    assert signed_in.principal is not None
    assert signed_in.principal.workspace_name == "brand-a"
    with store.transaction() as session, pytest.raises(NotFoundError):
        sessions.switch_workspace(session, token, "brand-b")
    with store.transaction() as session:
        again = sessions.resolve_session(session, token)
        assert again is not None and again.principal.workspace_id == a.workspace_id
        assert again.principal.workspace_id != b.workspace_id


def _followers(store, tenant: Tenant, prefix: str) -> None:  # type: ignore[no-untyped-def]
    from microfluence.kernel.store.tables import Follower

    with store.transaction() as session:
        for aid in tenant.account_ids[:2]:
            session.add_all(
                Follower(
                    workspace_id=tenant.workspace_id,
                    account_id=aid,
                    username=f"{prefix}_fan{n}",
                    biography=f"{prefix} private bio",
                )
                for n in range(3)
            )


@covers("get", "/api/v1/workspace/members")
@covers("patch", "/api/v1/workspace/members/{user_id}")
@covers("delete", "/api/v1/workspace/members/{user_id}")
@covers("post", "/api/v1/workspace/members/{user_id}/disable")
@covers("post", "/api/v1/workspace/members/{user_id}/enable")
@covers("delete", "/api/v1/workspace/members/{user_id}/account")
def test_members_of_the_other_workspace_cannot_be_seen_or_touched(store, world):
    client, a, b = world
    make_user(store, "ann@alpha.test", "brand-a", "owner")
    make_user(store, "bob@bravo.test", "brand-b", "owner")
    make_user(store, "bea@bravo.test", "brand-b", "member")
    h = a.auth("owner")
    mine = client.get("/api/v1/workspace/members", headers=h).json()
    assert [m["email"] for m in mine["data"]] == ["ann@alpha.test"]
    theirs = client.get("/api/v1/workspace/members", headers=b.auth("owner")).json()
    before = sorted((m["email"], m["role"], m["active"]) for m in theirs["data"])
    for member in theirs["data"]:
        uid = member["id"]
        not_found(
            client.patch(f"/api/v1/workspace/members/{uid}", json={"role": "viewer"}, headers=h)
        )
        not_found(client.delete(f"/api/v1/workspace/members/{uid}", headers=h))
        not_found(client.post(f"/api/v1/workspace/members/{uid}/disable", headers=h))
        not_found(client.post(f"/api/v1/workspace/members/{uid}/enable", headers=h))
        not_found(client.delete(f"/api/v1/workspace/members/{uid}/account", headers=h))
    after = client.get("/api/v1/workspace/members", headers=b.auth("owner")).json()
    assert sorted((m["email"], m["role"], m["active"]) for m in after["data"]) == before
    # A member of both workspaces is managed by each owner for their own workspace only, and
    # their account (every workspace) by neither key alone.
    from microfluence.access.users import get_user, set_membership
    from microfluence.kernel.workspaces import get_workspace

    with store.transaction() as session:
        bea = get_user(session, "bea@bravo.test")
        set_membership(
            session, user=bea, workspace=get_workspace(session, "brand-a"), role="viewer"
        )
        bea_id = bea.id
    refused = client.post(f"/api/v1/workspace/members/{bea_id}/disable", headers=h)
    assert refused.status_code == 403 and "workspaces you do not own" in refused.json()["message"]
    assert client.delete(f"/api/v1/workspace/members/{bea_id}", headers=h).status_code == 204
    still = client.get("/api/v1/workspace/members", headers=b.auth("owner")).json()
    assert ("bea@bravo.test", "member", True) in {
        (m["email"], m["role"], m["active"]) for m in still["data"]
    }


@covers("get", "/api/v1/workspace/invitations")
@covers("post", "/api/v1/workspace/invitations")
@covers("delete", "/api/v1/workspace/invitations/{invitation_id}")
@covers("get", "/api/v1/invitations/{token}")
@covers("post", "/api/v1/invitations/{token}/accept")
def test_invitations_belong_to_one_workspace(store, world):
    client, a, b = world
    made = client.post(
        "/api/v1/workspace/invitations",
        json={"email": "new@people.test", "role": "member"},
        headers=b.auth("owner"),
    )
    assert made.status_code == 202
    b_id, b_link = made.json()["id"], made.json()["link"]
    assert client.get("/api/v1/workspace/invitations", headers=a.auth("owner")).json() == {
        "data": [],
        "count": 0,
    }
    not_found(client.delete(f"/api/v1/workspace/invitations/{b_id}", headers=a.auth("owner")))
    listed = client.get("/api/v1/workspace/invitations", headers=b.auth("owner")).json()
    assert [i["status"] for i in listed["data"]] == ["pending"]
    # A's invitation, accepted, gives a membership of A only.
    mine = client.post(
        "/api/v1/workspace/invitations",
        json={"email": "new@people.test", "role": "owner"},
        headers=a.auth("owner"),
    ).json()
    token = mine["link"].rsplit("/", 1)[1]
    offer = client.get(f"/api/v1/invitations/{token}").json()
    assert (offer["workspace"], offer["role"]) == ("brand-a", "owner")
    joined = client.post(
        f"/api/v1/invitations/{token}/accept", json={"password": "a long new password"}
    )
    assert joined.json() == {"email": "new@people.test", "workspace": "brand-a", "role": "owner"}
    _token, signed_in = sessions.sign_in(
        store, email="new@people.test", password="a long new password"
    )
    from microfluence.access.users import get_user, workspaces_of

    with store.transaction() as session:
        held = workspaces_of(session, get_user(session, "new@people.test").id)
    assert [w.name for w, _ in held] == ["brand-a"]
    # Guessed tokens find nothing; B's invitation is still pending and usable.
    not_found(client.get("/api/v1/invitations/mfi_guessed"))
    not_found(client.post("/api/v1/invitations/mfi_guessed/accept", json={"password": "x" * 10}))
    assert client.get(f"/api/v1/invitations/{b_link.rsplit('/', 1)[1]}").json()["status"] == (
        "pending"
    )


@covers("post", "/api/v1/account/password")
def test_a_password_change_needs_the_current_password(store, world):
    client, a, _b = world
    make_user(store, "ann@alpha.test", "brand-a", "owner")
    wrong = client.post(
        "/api/v1/account/password",
        json={
            "email": "ann@alpha.test",
            "current_password": "not the password",
            "new_password": "a brand new password",
        },
        headers=a.auth("owner"),  # a key of her workspace is no proof of who she is
    )
    assert wrong.status_code == 401
    from api_support import PASSWORD

    sessions.sign_in(store, email="ann@alpha.test", password=PASSWORD)


@covers("get", "/api/v1/follower-samples")
@covers("get", "/api/v1/accounts/{account_id}/followers")
@covers("delete", "/api/v1/accounts/{account_id}/followers")
@covers("get", "/api/v1/creators/{creator_id}/record")
def test_follower_samples_and_creator_records_of_the_other_workspace(store, world):
    client, a, b = world
    _followers(store, a, "alpha")
    _followers(store, b, "bravo")
    h = a.auth("owner")
    listed = client.get("/api/v1/follower-samples", headers=h).json()
    assert sorted(s["account_id"] for s in listed["data"]) == sorted(a.account_ids[:2])
    assert "bravo" not in json.dumps(listed)
    for aid in b.account_ids:
        not_found(client.get(f"/api/v1/accounts/{aid}/followers", headers=h))
        not_found(client.delete(f"/api/v1/accounts/{aid}/followers", headers=h))
    for cid in b.creator_ids:
        not_found(client.get(f"/api/v1/creators/{cid}/record", headers=h))
    exported = client.get(
        f"/api/v1/accounts/{a.account_ids[0]}/followers", params={"format": "json"}, headers=h
    )
    assert "alpha_fan0" in exported.text and "bravo" not in exported.text
    record = client.get(f"/api/v1/creators/{a.creator_ids[0]}/record", headers=h).text
    assert "alpha_ana" in record and "bravo" not in record
    theirs = client.get("/api/v1/follower-samples", headers=b.auth("owner")).json()
    assert sum(s["followers"] for s in theirs["data"]) == 6  # untouched
    # Owners only: a member's key of the same workspace may not.
    for path in ("/api/v1/follower-samples", f"/api/v1/creators/{a.creator_ids[0]}/record"):
        assert client.get(path, headers=a.auth("member")).status_code == 403


@covers("get", "/api/v1/labels")
@covers("post", "/api/v1/labels")
@covers("get", "/api/v1/labels/status")
@covers("get", "/api/v1/labels/next")
@covers("get", "/api/v1/labels/export")
@covers("put", "/api/v1/labels/{follower_id}")
@covers("delete", "/api/v1/labels/{follower_id}")
def test_labels_of_the_other_workspace_cannot_be_seen_made_or_taken_back(store, world):
    from microfluence.kernel.store.tables import Follower

    client, a, b = world
    _followers(store, a, "alpha")
    _followers(store, b, "bravo")
    with store.session() as session:
        theirs = session.scalars(
            sa.select(Follower.id).where(Follower.workspace_id == b.workspace_id)
        ).all()
        mine = session.scalars(
            sa.select(Follower.id).where(Follower.workspace_id == a.workspace_id)
        ).all()
    hb = b.auth("member")
    for follower_id in theirs[:2]:
        assert (
            client.put(
                f"/api/v1/labels/{follower_id}", json={"label": "fake"}, headers=hb
            ).status_code
            == 200
        )
    before = client.get("/api/v1/labels", headers=hb).json()
    h = a.auth("owner")
    for follower_id in theirs:
        not_found(client.put(f"/api/v1/labels/{follower_id}", json={"label": "real"}, headers=h))
        not_found(client.delete(f"/api/v1/labels/{follower_id}", headers=h))
    # By username: B's followers are no followers of A.
    refused = client.post(
        "/api/v1/labels", json={"labels": [{"username": "bravo_fan0", "label": "real"}]}, headers=h
    )
    assert refused.status_code == 422 and "no follower @bravo_fan0" in refused.json()["message"]
    assert refused.json()["details"] == [{"field": "labels[0].username"}]
    not_found(client.get("/api/v1/labels/next", params={"account_id": b.account_ids[0]}, headers=h))
    for _ in range(8):  # random draws: only ever A's followers
        card = client.get("/api/v1/labels/next", headers=h).json()["follower"]
        assert card["follower_id"] in mine and "bravo" not in json.dumps(card)
    made = client.post(
        "/api/v1/labels", json={"labels": [{"username": "alpha_fan1", "label": "f"}]}, headers=h
    )
    assert made.json() == {"rows": 1, "followers": 2, "by_label": {"fake": 2}}
    for path in ("/api/v1/labels", "/api/v1/labels/status", "/api/v1/labels/export"):
        text = client.get(path, headers=h).text
        assert "alpha_fan1" in text or path.endswith("status"), path
        assert "bravo" not in text, path
    status = client.get("/api/v1/labels/status", headers=a.auth("viewer")).json()
    assert status["calibration"]["labels"] + status["calibration"]["unsure"] == 2
    assert client.get("/api/v1/labels", headers=hb).json() == before  # B's labels untouched
    # Roles: a viewer reads the status only; labelling and the labels themselves need a member.
    hv = a.auth("viewer")
    for method, path, body in (
        ("get", "/api/v1/labels", None),
        ("get", "/api/v1/labels/next", None),
        ("get", "/api/v1/labels/export", None),
        ("put", f"/api/v1/labels/{mine[0]}", {"label": "fake"}),
        ("delete", f"/api/v1/labels/{mine[0]}", None),
        ("post", "/api/v1/labels", {"labels": [{"username": "alpha_fan0", "label": "f"}]}),
    ):
        answer = client.request(method, path, json=body, headers=hv)
        assert answer.status_code == 403, (method, path)
    assert client.get("/api/v1/labels/status").status_code == 401


def _campaign_of(client: TestClient, tenant: Tenant, prefix: str) -> dict[str, int]:
    """A campaign of ``tenant`` with a deal whose feed post is matched: its ids."""
    h = tenant.auth("member")
    cid = client.post(
        "/api/v1/campaigns",
        json={"name": "Launch", "hashtags": ["ad"], "starts_on": "2026-01-01"},
        headers=h,
    ).json()["id"]
    deal = client.post(
        f"/api/v1/campaigns/{cid}/deals",
        json={"creator": f"instagram:{prefix}_ana", "package": {"feed_post": 1, "story": 1}},
        headers=h,
    ).json()
    matched = client.post(f"/api/v1/campaigns/{cid}/deliverables/match", headers=h).json()
    assert matched["matched"] == 1
    pieces = client.get(f"/api/v1/campaigns/{cid}/deliverables", headers=h).json()
    return {"campaign": cid, "deal": deal["id"], **{p["format"]: p["id"] for p in pieces}}


@covers("get", "/api/v1/campaigns")
@covers("post", "/api/v1/campaigns")
@covers("get", "/api/v1/campaigns/{campaign_id}")
@covers("patch", "/api/v1/campaigns/{campaign_id}")
@covers("delete", "/api/v1/campaigns/{campaign_id}")
@covers("get", "/api/v1/campaigns/{campaign_id}/deals")
@covers("post", "/api/v1/campaigns/{campaign_id}/deals")
@covers("get", "/api/v1/campaigns/{campaign_id}/deals/{deal_id}")
@covers("patch", "/api/v1/campaigns/{campaign_id}/deals/{deal_id}")
@covers("delete", "/api/v1/campaigns/{campaign_id}/deals/{deal_id}")
@covers("get", "/api/v1/campaigns/{campaign_id}/deliverables")
@covers("post", "/api/v1/campaigns/{campaign_id}/deliverables/match")
@covers("post", "/api/v1/campaigns/{campaign_id}/deliverables/{deliverable_id}/confirm")
@covers("post", "/api/v1/campaigns/{campaign_id}/deliverables/{deliverable_id}/assign")
@covers("post", "/api/v1/campaigns/{campaign_id}/deliverables/{deliverable_id}/reject")
def test_campaigns_deals_and_deliverables_of_the_other_workspace(world):
    client, a, b = world
    mine = _campaign_of(client, a, "alpha")
    theirs = _campaign_of(client, b, "bravo")
    hb = b.auth("viewer")

    def seen_by_b() -> str:
        cid = theirs["campaign"]
        return "\n".join(
            client.get(path, headers=hb).text
            for path in (
                "/api/v1/campaigns",
                f"/api/v1/campaigns/{cid}",
                f"/api/v1/campaigns/{cid}/deals",
                f"/api/v1/campaigns/{cid}/deliverables",
            )
        )

    before = seen_by_b()
    h = a.auth("owner")
    listed = client.get("/api/v1/campaigns", headers=h).json()
    assert [c["id"] for c in listed["data"]] == [mine["campaign"]] and listed["count"] == 1
    # B's campaign, deal and pieces by their ids: not found, whatever A sends.
    cid, did = theirs["campaign"], theirs["deal"]
    for method, path, body in (
        ("get", f"/api/v1/campaigns/{cid}", None),
        ("patch", f"/api/v1/campaigns/{cid}", {"name": "pwned"}),
        ("delete", f"/api/v1/campaigns/{cid}", None),
        ("get", f"/api/v1/campaigns/{cid}/deals", None),
        ("post", f"/api/v1/campaigns/{cid}/deals", {"creator": "instagram:alpha_bo"}),
        ("get", f"/api/v1/campaigns/{cid}/deals/{did}", None),
        ("patch", f"/api/v1/campaigns/{cid}/deals/{did}", {"flat_fee": "1"}),
        ("delete", f"/api/v1/campaigns/{cid}/deals/{did}", None),
        ("get", f"/api/v1/campaigns/{cid}/deliverables", None),
        ("post", f"/api/v1/campaigns/{cid}/deliverables/match", None),
    ):
        not_found(client.request(method, path, json=body, headers=h))
    # B's deal and pieces under A's own campaign id.
    own = mine["campaign"]
    not_found(client.get(f"/api/v1/campaigns/{own}/deals/{did}", headers=h))
    not_found(client.delete(f"/api/v1/campaigns/{own}/deals/{did}", headers=h))
    for piece in (theirs["feed_post"], theirs["story"]):
        for base in (f"/api/v1/campaigns/{cid}", f"/api/v1/campaigns/{own}"):
            path = f"{base}/deliverables/{piece}"
            not_found(client.post(f"{path}/confirm", headers=h))
            not_found(client.post(f"{path}/reject", headers=h))
            not_found(client.post(f"{path}/assign", json={"post": "1"}, headers=h))
    # A's own piece cannot be given B's post, nor a deal to B's creator.
    story = f"/api/v1/campaigns/{own}/deliverables/{mine['story']}"
    for post in b.post_ids[:2]:
        not_found(client.post(f"{story}/assign", json={"post": str(post)}, headers=h))
    refused = client.post(
        f"/api/v1/campaigns/{own}/deals", json={"creator": "instagram:bravo_bo"}, headers=h
    )
    assert refused.status_code == 422 and "bravo" not in json.dumps(refused.json()["details"])
    # The same name may exist in both workspaces.
    same = client.post("/api/v1/campaigns", json={"name": "Launch 2"}, headers=h)
    assert same.status_code == 201
    assert seen_by_b() == before


@covers("get", "/api/v1/links")
@covers("post", "/api/v1/links")
@covers("get", "/api/v1/links/{link_id}")
@covers("get", "/api/v1/links/{link_id}/days")
@covers("post", "/api/v1/links/{link_id}/disable")
def test_links_and_their_clicks(world, store):  # type: ignore[no-untyped-def]
    client, a, b = world
    made = client.post(
        "/api/v1/links",
        json={"creator": "instagram:alpha_ana", "url": "https://a.example/"},
        headers=a.auth(),
    )
    assert made.status_code == 201, made.text
    link = made.json()
    # b cannot make a link for a's creator, nor see, count or disable a's link
    foreign = {"creator": "instagram:alpha_ana", "url": "https://b.example/"}
    assert client.post("/api/v1/links", json=foreign, headers=b.auth()).status_code == 404
    assert client.get("/api/v1/links", headers=b.auth()).json() == {"data": [], "count": 0}
    for path in (f"/api/v1/links/{link['id']}", f"/api/v1/links/{link['id']}/days"):
        assert client.get(path, headers=b.auth()).status_code == 404
    assert client.post(f"/api/v1/links/{link['id']}/disable", headers=b.auth()).status_code == 404
    filtered = client.get(
        "/api/v1/links", params={"creator_id": a.creator_ids[0]}, headers=b.auth()
    ).json()
    assert filtered["count"] == 0
    # the public redirect works for anyone; the click is a's only
    assert client.get(f"/r/{link['slug']}", follow_redirects=False).status_code == 302
    client.app.state.clicks.move_now()
    mine = client.get(f"/api/v1/links/{link['id']}", headers=a.auth()).json()
    assert mine["bot_clicks"] + mine["clicks"] == 1 and mine["disabled_at"] is None
    assert client.get("/api/v1/links", headers=b.auth()).json()["count"] == 0


# --- codes, shops, orders (commerce) ---------------------------------------------------------


def _commerce(client: TestClient, tenant: Tenant, store) -> dict:  # type: ignore[no-untyped-def]
    """A shop (its secret), a code, and an imported order of ``tenant``."""
    from microfluence.commerce.signatures import sign

    owner, member = tenant.auth("owner"), tenant.auth("member")
    made = client.post(
        "/api/v1/shops", json={"platform": "shopify", "name": "main"}, headers=owner
    ).json()
    code = client.post(
        "/api/v1/codes",
        json={"creator_id": tenant.creator_ids[0], "value": 10, "code": "SHARED10"},
        headers=member,
    ).json()
    export = (
        "Name,Created at,Currency,Subtotal,Total,Discount Code,Id\n"
        f"#1,2026-05-01 08:00:00 -0400,USD,10,10,SHARED10,{tenant.name}-1\n"
    )
    client.post(
        f"/api/v1/shops/{made['shop']['id']}/orders/import",
        content=export.encode(),
        headers={**member, "Content-Type": "text/csv"},
    )
    order = client.get("/api/v1/orders", headers=member).json()["data"][0]
    return {
        "shop": made["shop"],
        "secret": made["secret"],
        "code": code,
        "order": order,
        "sign": sign,
    }


@covers("get", "/api/v1/codes")
@covers("post", "/api/v1/codes")
@covers("post", "/api/v1/codes/batches")
@covers("get", "/api/v1/codes/export")
@covers("post", "/api/v1/codes/import")
@covers("get", "/api/v1/codes/{code_id}")
@covers("post", "/api/v1/codes/{code_id}/disable")
@covers("post", "/api/v1/codes/{code_id}/shops/{shop_id}")
def test_codes_stay_in_their_workspace(world, store):
    client, a, b = world
    mine, theirs = _commerce(client, a, store), _commerce(client, b, store)
    h = a.auth("member")
    page = client.get("/api/v1/codes", headers=h).json()
    assert [c["id"] for c in page["data"]] == [mine["code"]["id"]]
    assert (
        client.get("/api/v1/codes", params={"creator_id": b.creator_ids[0]}, headers=h).json()[
            "count"
        ]
        == 0
    )
    assert "bravo" not in client.get("/api/v1/codes/export", headers=h).text
    assert client.get("/api/v1/codes/export", headers=h).text.count("SHARED10") == 1
    bid = theirs["code"]["id"]
    not_found(client.get(f"/api/v1/codes/{bid}", headers=h))
    not_found(client.post(f"/api/v1/codes/{bid}/disable", headers=h))
    not_found(client.post(f"/api/v1/codes/{bid}/shops/{mine['shop']['id']}", headers=h))
    not_found(
        client.post(f"/api/v1/codes/{mine['code']['id']}/shops/{theirs['shop']['id']}", headers=h)
    )
    # B's creators cannot be given codes by A.
    not_found(
        client.post("/api/v1/codes", json={"creator_id": b.creator_ids[0], "value": 5}, headers=h)
    )
    not_found(
        client.post(
            "/api/v1/codes/batches",
            json={"creator_id": b.creator_ids[0], "value": 5, "count": 2, "batch": "x"},
            headers=h,
        )
    )
    bad = client.post(
        "/api/v1/codes/import",
        content=f"code,value,creator_id\nNEW1,5,{b.creator_ids[0]}\n".encode(),
        headers={**h, "Content-Type": "text/csv"},
    )
    assert bad.status_code == 422 and bad.json()["details"][0]["field"] == "creator_id"
    # B's code is untouched.
    got = client.get(f"/api/v1/codes/{bid}", headers=b.auth("viewer")).json()
    assert got["disabled_at"] is None


@covers("get", "/api/v1/shops")
@covers("post", "/api/v1/shops")
@covers("get", "/api/v1/shops/{shop_id}")
@covers("delete", "/api/v1/shops/{shop_id}")
@covers("post", "/api/v1/shops/{shop_id}/secret")
@covers("delete", "/api/v1/shops/{shop_id}/previous-secret")
@covers("put", "/api/v1/shops/{shop_id}/access-token")
@covers("get", "/api/v1/shops/{shop_id}/deliveries")
@covers("post", "/api/v1/shops/{shop_id}/orders/import")
@covers("get", "/api/v1/orders")
@covers("get", "/api/v1/orders/{order_id}")
@covers("post", "/api/v1/attribution")
@covers("post", "/hooks/shopify/{shop_public_id}")
@covers("post", "/hooks/woocommerce/{shop_public_id}")
def test_shops_and_orders_stay_in_their_workspace(world, store):
    client, a, b = world
    mine, theirs = _commerce(client, a, store), _commerce(client, b, store)
    h = a.auth("owner")
    assert [s["id"] for s in client.get("/api/v1/shops", headers=h).json()["data"]] == [
        mine["shop"]["id"]
    ]
    sid, oid = theirs["shop"]["id"], theirs["order"]["id"]
    not_found(client.get(f"/api/v1/shops/{sid}", headers=h))
    not_found(client.get(f"/api/v1/shops/{sid}/deliveries", headers=h))
    not_found(client.post(f"/api/v1/shops/{sid}/secret", json={}, headers=h))
    not_found(client.delete(f"/api/v1/shops/{sid}/previous-secret", headers=h))
    not_found(
        client.put(f"/api/v1/shops/{sid}/access-token", json={"access_token": "t"}, headers=h)
    )
    not_found(
        client.post(
            f"/api/v1/shops/{sid}/orders/import",
            content=b"Name,Created at,Currency,Subtotal,Total\n#9,2026-05-01 08:00:00,USD,1,1\n",
            headers={**h, "Content-Type": "text/csv"},
        )
    )
    not_found(client.delete(f"/api/v1/shops/{sid}", headers=h))
    not_found(client.get(f"/api/v1/orders/{oid}", headers=h))
    assert client.get("/api/v1/orders", params={"shop_id": sid}, headers=h).json()["count"] == 0
    assert [o["id"] for o in client.get("/api/v1/orders", headers=h).json()["data"]] == [
        mine["order"]["id"]
    ]
    assert client.post("/api/v1/attribution", headers=h).json()["orders"] == 1
    # B's shop still works, with its own secret and its one order.
    assert client.get("/api/v1/orders", headers=b.auth("viewer")).json()["count"] == 1
    # A webhook signed with B's secret, sent to A's shop, is refused; to B's shop it passes.
    sign = mine["sign"]
    body = b'{"id": 77, "created_at": "2026-05-01T08:00:00Z", "currency": "USD"}'
    for platform, header in (
        ("shopify", "X-Shopify-Hmac-Sha256"),
        ("woocommerce", "X-WC-Webhook-Signature"),
    ):
        path = f"/hooks/{platform}/{mine['shop']['public_id']}"
        assert (
            client.post(
                path, content=body, headers={header: sign(body, theirs["secret"])}
            ).status_code
            == 401
        )
    ok = client.post(
        f"/hooks/shopify/{theirs['shop']['public_id']}",
        content=body,
        headers={
            "X-Shopify-Hmac-Sha256": sign(body, theirs["secret"]),
            "X-Shopify-Topic": "orders/create",
        },
    )
    assert ok.status_code == 200
    client.app.state.jobs.wait(timeout=60)
    assert client.get("/api/v1/orders", headers=h).json()["count"] == 1
    assert client.get("/api/v1/orders", headers=b.auth("viewer")).json()["count"] == 2


@covers("get", "/api/v1/campaigns/{campaign_id}/report")
@covers("get", "/api/v1/payouts")
@covers("get", "/api/v1/emv-rates")
@covers("put", "/api/v1/emv-rates")
def test_reports_payouts_and_emv_rates_stay_in_their_workspace(world):
    client, a, b = world
    mine = _campaign_of(client, a, "alpha")["campaign"]
    theirs = _campaign_of(client, b, "bravo")["campaign"]
    period = {"from": "2026-01-01", "to": "2026-12-31"}
    # b cannot read a's report, nor a's payouts by naming a's campaign
    not_found(client.get(f"/api/v1/campaigns/{mine}/report", headers=b.auth("owner")))
    not_found(
        client.get(
            "/api/v1/payouts", params={**period, "campaign_id": mine}, headers=b.auth("owner")
        )
    )
    own = client.get(f"/api/v1/campaigns/{theirs}/report", headers=b.auth("viewer"))
    assert own.status_code == 200 and own.json()["campaign_id"] == theirs
    assert "alpha" not in own.text
    rows = client.get("/api/v1/payouts", params=period, headers=b.auth("viewer"))
    assert rows.status_code == 200 and "alpha" not in rows.text
    # b's EMV rates are b's alone; a's are unchanged
    changed = client.put(
        "/api/v1/emv-rates", json={"rates": {"instagram": 99}}, headers=b.auth("owner")
    )
    assert changed.status_code == 200
    assert client.get("/api/v1/emv-rates", headers=a.auth("viewer")).json()["own"] == {}
    assert client.put("/api/v1/emv-rates", json={}, headers=b.auth("member")).status_code == 403


@covers("get", "/api/v1/campaigns/{campaign_id}/learn")
def test_test_and_learn_stays_in_its_workspace(world):
    client, a, b = world
    mine = _campaign_of(client, a, "alpha")["campaign"]
    theirs = _campaign_of(client, b, "bravo")["campaign"]
    # a cannot learn from b's campaign, alone or pooled with its own
    not_found(client.get(f"/api/v1/campaigns/{theirs}/learn", headers=a.auth("owner")))
    not_found(
        client.get(
            f"/api/v1/campaigns/{mine}/learn", params={"also": [theirs]}, headers=a.auth("owner")
        )
    )
    own = client.get(f"/api/v1/campaigns/{mine}/learn", headers=a.auth("viewer"))
    assert own.status_code == 200, own.text
    assert [c["id"] for c in own.json()["campaigns"]] == [mine]
    assert "bravo" not in own.text and own.json()["creators"]
    assert client.get(f"/api/v1/campaigns/{theirs}/learn", headers=b.auth("viewer")).is_success


@covers("get", "/api/v1/campaigns/{campaign_id}/pipeline")
@covers("get", "/api/v1/campaigns/{campaign_id}/pipeline/deals")
@covers("post", "/api/v1/campaigns/{campaign_id}/pipeline/moves")
@covers("get", "/api/v1/campaigns/{campaign_id}/pipeline/deals/{deal_id}/history")
@covers("get", "/api/v1/campaigns/{campaign_id}/pipeline/stats")
@covers("post", "/api/v1/campaigns/{campaign_id}/pipeline/prospects")
def test_the_pipeline_of_the_other_workspace(world):
    client, a, b = world
    mine = _campaign_of(client, a, "alpha")
    theirs = _campaign_of(client, b, "bravo")
    cid, did, own = theirs["campaign"], theirs["deal"], mine["campaign"]
    hb = b.auth("viewer")

    def seen_by_b() -> str:
        base = f"/api/v1/campaigns/{cid}/pipeline"
        paths = (base, f"{base}/deals", f"{base}/deals/{did}/history")
        seen = "\n".join(client.get(path, headers=hb).text for path in paths)
        return re.sub(r'"days_in_stage":[^,]+', "", seen)  # grows while the test runs

    before = seen_by_b()
    h = a.auth("owner")
    theirs_base, own_base = f"/api/v1/campaigns/{cid}/pipeline", f"/api/v1/campaigns/{own}/pipeline"
    for method, path, body in (
        ("get", theirs_base, None),
        ("get", f"{theirs_base}/deals", None),
        ("get", f"{theirs_base}/stats", None),
        ("get", f"{theirs_base}/deals/{did}/history", None),
        ("get", f"{own_base}/deals/{did}/history", None),  # B's deal under A's campaign
        ("post", f"{theirs_base}/moves", {"stage": "paid", "deal_ids": [did]}),
        ("post", f"{own_base}/moves", {"stage": "paid", "deal_ids": [did]}),
        ("post", f"{own_base}/moves", {"stage": "paid", "creators": ["instagram:bravo_ana"]}),
        ("post", f"{theirs_base}/prospects", {"creators": ["instagram:alpha_bo"]}),
        ("post", f"{own_base}/prospects", {"creator_ids": [b.creator_ids[1]]}),
        ("post", f"{own_base}/prospects", {"creators": ["instagram:bravo_bo"]}),
    ):
        answer = client.request(method, path, json=body, headers=h)
        not_found(answer)
        sent = json.dumps(body)
        # B's handle named in the body is echoed back as for a handle no one has.
        nobody = client.request(
            method, path, json=json.loads(sent.replace("bravo", "zulu")), headers=h
        )
        assert answer.text.replace("bravo", "zulu") == nobody.text
    # A's own pipeline shows A's deal only, and its statistics count it alone.
    board = client.get(own_base, headers=h).json()
    cards = [card for column in board["columns"] for card in column["cards"]]
    assert [c["deal_id"] for c in cards] == [mine["deal"]]
    assert [c["deal_id"] for c in client.get(f"{own_base}/deals", headers=h).json()] == [
        mine["deal"]
    ]
    assert client.get(f"{own_base}/stats", headers=h).json()["deals"] == 1
    moved = client.post(
        f"{own_base}/moves", json={"stage": "contacted", "deal_ids": [mine["deal"]]}, headers=h
    )
    assert moved.json()["moved"] == [mine["deal"]]
    assert client.get(f"{own_base}/deals/{mine['deal']}/history", headers=h).json()
    added = client.post(
        f"{own_base}/prospects", json={"creator_ids": a.creator_ids[1:2]}, headers=h
    )
    assert added.status_code == 201
    assert seen_by_b() == before


@covers("get", "/api/v1/tasks")
@covers("post", "/api/v1/tasks")
@covers("get", "/api/v1/tasks/{task_id}")
@covers("patch", "/api/v1/tasks/{task_id}")
@covers("delete", "/api/v1/tasks/{task_id}")
@covers("post", "/api/v1/tasks/{task_id}/done")
@covers("post", "/api/v1/tasks/{task_id}/reopen")
@covers("get", "/api/v1/reminders")
@covers("get", "/api/v1/reminders/settings")
@covers("put", "/api/v1/reminders/settings")
def test_tasks_reminders_and_thresholds_stay_in_their_workspace(world):
    client, a, b = world
    mine = _campaign_of(client, a, "alpha")
    theirs = _campaign_of(client, b, "bravo")
    hb = b.auth("member")
    task = client.post(
        "/api/v1/tasks",
        json={"title": "bravo call", "due_on": "2026-01-01", "deal_id": theirs["deal"]},
        headers=hb,
    ).json()

    def seen_by_b() -> str:
        return "\n".join(
            client.get(path, params={"status": "all"}, headers=hb).text
            for path in ("/api/v1/tasks", f"/api/v1/tasks/{task['id']}", "/api/v1/reminders")
        )

    before = seen_by_b()
    h = a.auth("owner")
    tid = task["id"]
    for method, path, body in (
        ("get", f"/api/v1/tasks/{tid}", None),
        ("patch", f"/api/v1/tasks/{tid}", {"title": "pwned"}),
        ("post", f"/api/v1/tasks/{tid}/done", None),
        ("post", f"/api/v1/tasks/{tid}/reopen", None),
        ("delete", f"/api/v1/tasks/{tid}", None),
        ("get", "/api/v1/reminders?campaign_id=" + str(theirs["campaign"]), None),
    ):
        not_found(client.request(method, path, json=body, headers=h))
    # A's lists do not show B's task, whatever filter names B's ids.
    for params in (
        {"status": "all"},
        {"campaign_id": theirs["campaign"]},
        {"deal_id": theirs["deal"]},
        {"creator_id": b.creator_ids[0]},
    ):
        assert client.get("/api/v1/tasks", params=params, headers=h).json() == {
            "data": [],
            "count": 0,
        }
    assert "bravo" not in client.get("/api/v1/reminders", headers=h).text
    # A task of A cannot be put on B's deal or creator, nor moved there.
    for body in (
        {"title": "x", "deal_id": theirs["deal"]},
        {"title": "x", "creator_id": b.creator_ids[0]},
    ):
        refused = client.post("/api/v1/tasks", json=body, headers=h)
        assert refused.status_code == 422 and "bravo" not in refused.text
    own = client.post("/api/v1/tasks", json={"title": "mine", "deal_id": mine["deal"]}, headers=h)
    assert own.status_code == 201
    moved = client.patch(
        f"/api/v1/tasks/{own.json()['id']}", json={"deal_id": theirs["deal"]}, headers=h
    )
    assert moved.status_code == 422
    # Thresholds are each workspace's own.
    put = client.put(
        "/api/v1/reminders/settings", json={"thresholds": {"review_days": 9}}, headers=h
    )
    assert put.status_code == 200
    assert client.get("/api/v1/reminders/settings", headers=hb).json()["own"] == {}
    assert seen_by_b() == before


def _outreach_of(store, client: TestClient, tenant: Tenant, prefix: str) -> dict[str, int]:  # type: ignore[no-untyped-def]
    """A template, a sequence with its deal enrolled and a queued message (no SMTP server) of
    ``tenant``: their ids."""
    from microfluence.kernel.store.tables import Creator

    with store.transaction() as session:
        session.execute(
            sa.update(Creator)
            .where(Creator.workspace_id == tenant.workspace_id)
            .values(email=f"{prefix}@example.com")
        )
    h = tenant.auth("member")
    ids = _campaign_of(client, tenant, prefix)
    template = client.post(
        "/api/v1/templates",
        json={"name": "intro", "subject": f"{prefix} hi", "body": f"{prefix} {{{{ name }}}}"},
        headers=h,
    ).json()["id"]
    sequence = client.post(
        "/api/v1/outreach/sequences",
        json={"name": "follow", "steps": [{"template": "intro", "delay_days": 2}]},
        headers=h,
    ).json()["id"]
    enrolled = client.post(
        f"/api/v1/outreach/sequences/{sequence}/enrollments",
        json={"deal_ids": [ids["deal"]]},
        headers=h,
    )
    assert enrolled.status_code == 201, enrolled.text
    sent = client.post(
        "/api/v1/outreach/send",
        json={"template": "intro", "campaign_id": ids["campaign"], "dry_run": False},
        headers=h,
    ).json()
    assert sent["delivery"]["deferred"] == 1, sent  # no SMTP server: stays queued
    message = client.get("/api/v1/outreach/messages", headers=h).json()["data"][0]["id"]
    return {**ids, "template": template, "sequence": sequence, "message": message}


@covers("get", "/api/v1/templates")
@covers("post", "/api/v1/templates")
@covers("post", "/api/v1/templates/preview")
@covers("get", "/api/v1/templates/{template_id}")
@covers("patch", "/api/v1/templates/{template_id}")
@covers("delete", "/api/v1/templates/{template_id}")
@covers("get", "/api/v1/templates/{template_id}/preview")
@covers("post", "/api/v1/outreach/send")
@covers("get", "/api/v1/outreach/messages")
@covers("get", "/api/v1/outreach/messages/{message_id}")
@covers("post", "/api/v1/outreach/replied")
@covers("post", "/api/v1/outreach/run")
@covers("get", "/api/v1/outreach/settings")
@covers("put", "/api/v1/outreach/settings")
@covers("get", "/api/v1/outreach/sequences")
@covers("post", "/api/v1/outreach/sequences")
@covers("get", "/api/v1/outreach/sequences/{sequence_id}")
@covers("delete", "/api/v1/outreach/sequences/{sequence_id}")
@covers("get", "/api/v1/outreach/sequences/{sequence_id}/enrollments")
@covers("post", "/api/v1/outreach/sequences/{sequence_id}/enrollments")
def test_outreach_stays_in_its_workspace(world, store):  # type: ignore[no-untyped-def]
    client, a, b = world
    mine = _outreach_of(store, client, a, "alpha")
    theirs = _outreach_of(store, client, b, "bravo")
    h = b.auth("owner")
    t, s, m, d = mine["template"], mine["sequence"], mine["message"], mine["deal"]
    for method, path, body, params in (
        ("get", f"/api/v1/templates/{t}", None, None),
        ("patch", f"/api/v1/templates/{t}", {"body": "pwned"}, None),
        ("delete", f"/api/v1/templates/{t}", None, None),
        ("get", f"/api/v1/templates/{t}/preview", None, {"deal_id": theirs["deal"]}),
        ("get", f"/api/v1/templates/{theirs['template']}/preview", None, {"deal_id": d}),
        ("post", "/api/v1/templates/preview", {"deal_id": d, "subject": "x", "body": "y"}, None),
        ("get", f"/api/v1/outreach/messages/{m}", None, None),
        ("post", "/api/v1/outreach/replied", {"deal_ids": [d]}, None),
        ("get", f"/api/v1/outreach/sequences/{s}", None, None),
        ("delete", f"/api/v1/outreach/sequences/{s}", None, None),
        ("get", f"/api/v1/outreach/sequences/{s}/enrollments", None, None),
        (
            "post",
            f"/api/v1/outreach/sequences/{s}/enrollments",
            {"deal_ids": [theirs["deal"]]},
            None,
        ),
        (
            "post",
            f"/api/v1/outreach/sequences/{theirs['sequence']}/enrollments",
            {"deal_ids": [d]},
            None,
        ),
        (
            "post",
            "/api/v1/outreach/send",
            {"template": "intro", "campaign_id": mine["campaign"]},
            None,
        ),
    ):
        not_found(client.request(method, path, json=body, params=params, headers=h))
    # B's lists hold B's records only; B's settings and runs leave A's alone.
    for path in ("/api/v1/templates", "/api/v1/outreach/messages", "/api/v1/outreach/sequences"):
        page = client.get(path, headers=b.auth("viewer"))
        assert page.status_code == 200 and "alpha" not in page.text
    smtp = {"host": "127.0.0.1", "port": 9, "security": "none", "from_address": "b@b.example"}
    put = client.put("/api/v1/outreach/settings", json={"smtp": smtp, "daily_limit": 3}, headers=h)
    assert put.status_code == 200
    ran = client.post("/api/v1/outreach/run", headers=b.auth("member"))
    assert ran.status_code == 200 and ran.json()["delivery"]["deferred"] == 1  # 127.0.0.1:9 refuses
    own = client.get("/api/v1/outreach/settings", headers=a.auth("owner")).json()
    assert own["configured"] is False and own["daily_limit"] == 200
    # A's records are all still there, unchanged.
    ah = a.auth("viewer")
    assert client.get(f"/api/v1/templates/{t}", headers=ah).json()["body"] == "alpha {{ name }}"
    assert client.get(f"/api/v1/outreach/messages/{m}", headers=ah).json()["status"] == "queued"
    enrollments = client.get(f"/api/v1/outreach/sequences/{s}/enrollments", headers=ah).json()
    assert [e["status"] for e in enrollments] == ["active"]
    deal = client.get(f"/api/v1/campaigns/{mine['campaign']}/deals/{d}", headers=ah).json()
    assert deal["id"] == d


@covers("get", "/api/v1/relationships")
@covers("get", "/api/v1/creators/{creator_id}/relationship")
@covers("patch", "/api/v1/creators/{creator_id}/relationship")
@covers("post", "/api/v1/creators/{creator_id}/relationship/tags")
@covers("post", "/api/v1/creators/{creator_id}/relationship/do-not-contact")
@covers("post", "/api/v1/creators/{creator_id}/relationship/do-not-contact/lift")
@covers("put", "/api/v1/creators/{creator_id}/relationship/partner")
@covers("post", "/api/v1/creators/{creator_id}/relationship/erase")
@covers("get", "/api/v1/creators/{creator_id}/relationship/audit")
@covers("get", "/api/v1/contact-audit")
def test_relationship_records_stay_in_their_workspace(world):
    client, a, b = world
    theirs = b.creator_ids[0]
    base = f"/api/v1/creators/{theirs}/relationship"
    made = client.patch(
        base, json={"phone": "+49 30 1234567", "tags": ["bravo-tag"]}, headers=b.auth("member")
    )
    assert made.status_code == 200, made.text
    h = a.auth("owner")
    attempts = [
        ("get", base, None),
        ("patch", base, {"rating": 1}),
        ("post", f"{base}/tags", {"add": ["x"]}),
        ("post", f"{base}/do-not-contact", {"reason": "x"}),
        ("post", f"{base}/do-not-contact/lift", {"reason": "x"}),
        ("put", f"{base}/partner", {"partner": True}),
        ("post", f"{base}/erase", {"reason": "x"}),
        ("get", f"{base}/audit", None),
    ]
    for method, path, body in attempts:
        not_found(client.request(method, path, json=body, headers=h))
    for path in ("/api/v1/relationships", "/api/v1/contact-audit"):
        page = client.get(path, params={"tag": "bravo-tag"} if "rel" in path else {}, headers=h)
        assert page.status_code == 200 and page.json() == {"data": [], "count": 0}, page.text
    # b's record is untouched and its log shows only b's own change.
    own = client.get(base, headers=b.auth("owner")).json()["record"]
    assert own["phone"] == "+49 30 1234567" and own["rating"] is None and not own["erased_at"]
    log = client.get("/api/v1/contact-audit", headers=b.auth("owner")).json()
    assert [e["action"] for e in log["data"]] == ["view", "change"]


def _gifting_of(client: TestClient, tenant: Tenant, prefix: str) -> dict[str, int]:
    """A campaign of ``tenant`` with a product, a gift, a portal link and a submission."""
    ids = _campaign_of(client, tenant, prefix)
    h = tenant.auth("member")
    cid, did = ids["campaign"], ids["deal"]
    product = client.post(
        "/api/v1/products",
        json={"sku": f"{prefix.upper()}-1", "name": f"{prefix} serum", "value": "20"},
        headers=h,
    )
    assert product.status_code == 201, product.text
    gift = client.post(
        f"/api/v1/campaigns/{cid}/deals/{did}/gifts", json={"sku": f"{prefix.upper()}-1"}, headers=h
    )
    assert gift.status_code == 201, gift.text
    link = client.post(f"/api/v1/campaigns/{cid}/deals/{did}/portal-links", json={}, headers=h)
    assert link.status_code == 201 and "/portal/" in link.json()["url"]
    sub = client.post(
        f"/api/v1/campaigns/{cid}/deals/{did}/submissions",
        json={"kind": "draft", "url": f"https://{prefix}.example/draft"},
        headers=h,
    )
    assert sub.status_code == 201, sub.text
    return {
        **ids,
        "product": product.json()["id"],
        "gift": gift.json()["id"],
        "link": link.json()["id"],
        "submission": sub.json()["id"],
    }


@covers("get", "/api/v1/products")
@covers("post", "/api/v1/products")
@covers("post", "/api/v1/products/import")
@covers("get", "/api/v1/products/{product_id}")
@covers("patch", "/api/v1/products/{product_id}")
@covers("delete", "/api/v1/products/{product_id}")
@covers("get", "/api/v1/campaigns/{campaign_id}/deals/{deal_id}/gifts")
@covers("post", "/api/v1/campaigns/{campaign_id}/deals/{deal_id}/gifts")
@covers("patch", "/api/v1/campaigns/{campaign_id}/deals/{deal_id}/gifts/{gift_id}")
@covers("get", "/api/v1/campaigns/{campaign_id}/deals/{deal_id}/portal-links")
@covers("post", "/api/v1/campaigns/{campaign_id}/deals/{deal_id}/portal-links")
@covers("post", "/api/v1/campaigns/{campaign_id}/deals/{deal_id}/portal-links/{link_id}/revoke")
@covers("get", "/api/v1/campaigns/{campaign_id}/submissions")
@covers("post", "/api/v1/campaigns/{campaign_id}/deals/{deal_id}/submissions")
@covers("post", "/api/v1/campaigns/{campaign_id}/submissions/{submission_id}/review")
def test_products_gifts_portal_links_and_submissions_of_the_other_workspace(world):
    client, a, b = world
    mine = _gifting_of(client, a, "alpha")
    theirs = _gifting_of(client, b, "bravo")
    cid, did, own = theirs["campaign"], theirs["deal"], mine["campaign"]
    hb = b.auth("viewer")

    def seen_by_b() -> str:
        return "\n".join(
            client.get(path, headers=hb).text
            for path in (
                "/api/v1/products",
                f"/api/v1/campaigns/{cid}/deals/{did}/gifts",
                f"/api/v1/campaigns/{cid}/deals/{did}/portal-links",
                f"/api/v1/campaigns/{cid}/submissions",
            )
        )

    before = seen_by_b()
    h = a.auth("owner")
    listed = client.get("/api/v1/products", headers=h).json()
    assert [p["sku"] for p in listed["data"]] == ["ALPHA-1"]
    pid, gid, lid, sid = theirs["product"], theirs["gift"], theirs["link"], theirs["submission"]
    for method, path, body in (
        ("get", f"/api/v1/products/{pid}", None),
        ("patch", f"/api/v1/products/{pid}", {"name": "pwned"}),
        ("delete", f"/api/v1/products/{pid}", None),
        ("get", f"/api/v1/campaigns/{cid}/submissions", None),
        ("post", f"/api/v1/campaigns/{cid}/submissions/{sid}/review", {"decision": "approved"}),
        ("post", f"/api/v1/campaigns/{own}/submissions/{sid}/review", {"decision": "approved"}),
    ):
        not_found(client.request(method, path, json=body, headers=h))
    for base in (f"/api/v1/campaigns/{cid}/deals/{did}", f"/api/v1/campaigns/{own}/deals/{did}"):
        for method, path, body in (
            ("get", f"{base}/gifts", None),
            ("post", f"{base}/gifts", {"name": "pwned", "value": "1"}),
            ("patch", f"{base}/gifts/{gid}", {"status": "cancelled"}),
            ("get", f"{base}/portal-links", None),
            ("post", f"{base}/portal-links", {}),
            ("post", f"{base}/portal-links/{lid}/revoke", None),
            ("post", f"{base}/submissions", {"url": "https://x.example/"}),
        ):
            not_found(client.request(method, path, json=body, headers=h))
    # B's gift and link under A's own deal.
    ours = f"/api/v1/campaigns/{own}/deals/{mine['deal']}"
    not_found(client.patch(f"{ours}/gifts/{gid}", json={"status": "cancelled"}, headers=h))
    not_found(client.post(f"{ours}/portal-links/{lid}/revoke", headers=h))
    # A gift of B's SKU is not B's product: refused without a name and value.
    refused = client.post(f"{ours}/gifts", json={"sku": "BRAVO-1"}, headers=h)
    assert refused.status_code == 422
    # An import of B's SKU makes a product of A's; B's stays.
    imported = client.post(
        "/api/v1/products/import",
        content=b"sku,name,value\nBRAVO-1,taken over,1\n",
        headers={**h, "Content-Type": "text/csv"},
    )
    assert imported.json() == {"added": 1, "updated": 0}
    # Viewers read but never change; A's own review works.
    hv = a.auth("viewer")
    assert client.get(f"{ours}/gifts", headers=hv).status_code == 200
    for method, path, body in (
        ("post", "/api/v1/products", {"sku": "V-1", "name": "v", "value": "1"}),
        ("post", f"{ours}/gifts", {"name": "v", "value": "1"}),
        ("post", f"{ours}/portal-links", {}),
        (
            "post",
            f"/api/v1/campaigns/{own}/submissions/{mine['submission']}/review",
            {"decision": "approved"},
        ),
    ):
        assert client.request(method, path, json=body, headers=hv).status_code == 403, path
    done = client.post(
        f"/api/v1/campaigns/{own}/submissions/{mine['submission']}/review",
        json={"decision": "changes_requested", "note": "brighter"},
        headers=a.auth("member"),
    )
    assert done.status_code == 200 and done.json()["status"] == "changes_requested"
    assert seen_by_b() == before


@covers("post", "/api/v1/niches/recompute")
@covers("get", "/api/v1/accounts/{account_id}/niches")
@covers("put", "/api/v1/accounts/{account_id}/niches")
def test_niches_are_computed_read_and_corrected_only_in_their_workspace(world):
    client, a, b = world
    assert (
        client.post("/api/v1/niches/recompute", json={}, headers=a.auth("viewer")).status_code
        == 403
    )
    run = client.post("/api/v1/niches/recompute", json={}, headers=a.auth("member"))
    assert run.status_code == 200, run.text
    assert run.json()["accounts"] == run.json()["scored"] == len(a.account_ids)
    assert client.post("/api/v1/niches/recompute", json={}, headers=b.auth("member")).json()[
        "scored"
    ] == len(b.account_ids)
    own = client.get(f"/api/v1/accounts/{a.account_ids[0]}/niches", headers=a.auth("viewer"))
    assert own.status_code == 200 and own.json()["niches"][0]["source"] == "model"
    refused = client.put(
        f"/api/v1/accounts/{a.account_ids[0]}/niches",
        json={"niches": ["beauty"]},
        headers=a.auth("viewer"),
    )
    assert refused.status_code == 403
    fixed = client.put(
        f"/api/v1/accounts/{a.account_ids[0]}/niches",
        json={"niches": ["beauty", "fashion"]},
        headers=a.auth("member"),
    )
    assert fixed.status_code == 200, fixed.text
    assert [n["niche"] for n in fixed.json()["niches"]] == ["beauty", "fashion"]
    assert fixed.json()["corrected_by"]
    before = [
        client.get(f"/api/v1/accounts/{aid}/niches", headers=b.auth("viewer")).json()
        for aid in b.account_ids
    ]
    for aid in b.account_ids:
        not_found(client.get(f"/api/v1/accounts/{aid}/niches", headers=a.auth("owner")))
        not_found(
            client.put(
                f"/api/v1/accounts/{aid}/niches", json={"niches": ["pets"]}, headers=a.auth("owner")
            )
        )
    client.post("/api/v1/niches/recompute", json={"all": True}, headers=a.auth("owner"))
    after = [
        client.get(f"/api/v1/accounts/{aid}/niches", headers=b.auth("viewer")).json()
        for aid in b.account_ids
    ]
    assert before == after and all(not x["corrected_by"] for x in after)
    bad = client.put(
        f"/api/v1/accounts/{a.account_ids[0]}/niches",
        json={"niches": ["cooking"]},
        headers=a.auth("member"),
    )
    assert bad.status_code == 422 and "'cooking' is not a niche" in bad.text


def _shortlist(client: TestClient, tenant: Tenant, name: str = "Picks") -> int:
    h = tenant.auth("member")
    made = client.post("/api/v1/shortlists", json={"name": name}, headers=h)
    assert made.status_code == 201, made.text
    added = client.post(
        f"/api/v1/shortlists/{made.json()['id']}/entries",
        json={"account_ids": tenant.account_ids[:1], "note": "secret note"},
        headers=h,
    )
    assert added.status_code == 200, added.text
    return made.json()["id"]


@covers("get", "/api/v1/search")
@covers("post", "/api/v1/search/quality")
def test_search_finds_only_the_callers_accounts(world):
    client, a, b = world
    h = a.auth("viewer")
    # Both workspaces' bios say "lipstick": each finds its own accounts only, facets included.
    page = client.get("/api/v1/search", params={"q": "lipstick bravo", "facets": True}, headers=h)
    assert page.status_code == 200, page.text
    body = page.json()
    assert {r["account_id"] for r in body["results"]} <= set(a.account_ids)
    assert body["results"] and "bravo" not in json.dumps([body["results"], body["facets"]])
    everything = client.get("/api/v1/search", params={"limit": 100}, headers=h).json()
    assert sorted(r["account_id"] for r in everything["results"]) == sorted(a.account_ids)
    assert client.get("/api/v1/search", params={"q": "bravo"}, headers=h).json()["count"] == 0
    assert client.post("/api/v1/search/quality", headers=h).status_code == 403
    refreshed = client.post("/api/v1/search/quality", headers=a.auth("member"))
    assert refreshed.status_code == 200 and refreshed.json() == {"accounts": len(a.account_ids)}


def test_semantic_search_and_lookalikes_see_only_the_callers_vectors(world):
    """Vectors come from the niches' recompute (a member's); a brief and lookalikes rank the
    caller's accounts only, and another workspace's account cannot be a lookalike seed."""
    client, a, b = world
    for tenant in (a, b):
        run = client.post("/api/v1/niches/recompute", json={}, headers=tenant.auth("member"))
        assert run.status_code == 200, run.text
    h = a.auth("viewer")
    brief = client.get(
        "/api/v1/search", params={"q": "lipstick skincare", "semantic": True}, headers=h
    )
    assert brief.status_code == 200, brief.text
    body = brief.json()
    assert sorted(r["account_id"] for r in body["results"]) == sorted(a.account_ids)
    assert body["results"][0]["handle"] == "alpha_ana" and "bravo" not in brief.text
    assert all(r["why"]["similarity"] is not None for r in body["results"])
    like = client.get("/api/v1/search", params={"like": "instagram:alpha_ana"}, headers=h)
    assert like.status_code == 200, like.text
    found = {r["account_id"] for r in like.json()["results"]}
    assert found and found <= set(a.account_ids[1:])
    not_found(client.get("/api/v1/search", params={"like": "instagram:bravo_ana"}, headers=h))
    bad = client.get("/api/v1/search", params={"semantic": True}, headers=h)
    assert bad.status_code == 422 and "brief" in bad.text


@covers("get", "/api/v1/shortlists")
@covers("post", "/api/v1/shortlists")
@covers("get", "/api/v1/shortlists/{shortlist_id}")
@covers("patch", "/api/v1/shortlists/{shortlist_id}")
@covers("delete", "/api/v1/shortlists/{shortlist_id}")
@covers("post", "/api/v1/shortlists/{shortlist_id}/entries")
@covers("patch", "/api/v1/shortlists/{shortlist_id}/entries/{creator_id}")
@covers("delete", "/api/v1/shortlists/{shortlist_id}/entries/{creator_id}")
@covers("get", "/api/v1/shortlists/{shortlist_id}/export")
@covers("post", "/api/v1/shortlists/{shortlist_id}/to-campaign")
def test_shortlists_of_another_workspace_cannot_be_touched(world):
    client, a, b = world
    theirs = _shortlist(client, b)
    _shortlist(client, a, "Picks")  # the same name in another workspace is no clash
    h = a.auth("owner")
    assert [s["name"] for s in client.get("/api/v1/shortlists", headers=h).json()] == ["Picks"]
    base = f"/api/v1/shortlists/{theirs}"
    cid = b.creator_ids[0]
    not_found(client.get(base, headers=h))
    not_found(client.get(f"{base}/export", headers=h))
    not_found(client.patch(base, json={"name": "x"}, headers=h))
    not_found(client.post(f"{base}/entries", json={"account_ids": a.account_ids[:1]}, headers=h))
    not_found(client.patch(f"{base}/entries/{cid}", json={"note": "x"}, headers=h))
    not_found(client.delete(f"{base}/entries/{cid}", headers=h))
    not_found(client.post(f"{base}/to-campaign", json={"campaign_id": 1}, headers=h))
    not_found(client.delete(base, headers=h))
    # Their accounts cannot be put on our list either.
    ours = client.get("/api/v1/shortlists", headers=h).json()[0]["id"]
    not_found(
        client.post(
            f"/api/v1/shortlists/{ours}/entries",
            json={"account_ids": b.account_ids[:1]},
            headers=h,
        )
    )
    detail = client.get(base, headers=b.auth("viewer")).json()
    assert [e["note"] for e in detail["items"]] == ["secret note"]


@covers("get", "/api/v1/saved-searches")
@covers("post", "/api/v1/saved-searches")
@covers("get", "/api/v1/saved-searches/{saved_id}")
@covers("get", "/api/v1/saved-searches/{saved_id}/results")
@covers("delete", "/api/v1/saved-searches/{saved_id}")
def test_saved_searches_of_another_workspace_cannot_be_touched(world):
    client, a, b = world
    made = client.post(
        "/api/v1/saved-searches",
        json={"name": "Beauty", "query": {"q": "lipstick"}},
        headers=b.auth("member"),
    )
    assert made.status_code == 201, made.text
    sid = made.json()["id"]
    h = a.auth("owner")
    assert client.get("/api/v1/saved-searches", headers=h).json() == []
    not_found(client.get(f"/api/v1/saved-searches/{sid}", headers=h))
    not_found(client.get(f"/api/v1/saved-searches/{sid}/results", headers=h))
    not_found(client.delete(f"/api/v1/saved-searches/{sid}", headers=h))
    theirs = client.get(f"/api/v1/saved-searches/{sid}/results", headers=b.auth("viewer")).json()
    assert {r["account_id"] for r in theirs["results"]} <= set(b.account_ids)
    assert theirs["count"] >= 1


def _authorised(store, tenant: Tenant) -> int:  # type: ignore[no-untyped-def]
    """An Instagram authorisation of ``tenant``'s first creator, read once (tokens sealed)."""
    from microfluence.connectors.oauth import apps
    from microfluence.connectors.oauth.tables import AccountInsight, CreatorAuthorisation
    from microfluence.kernel import vault
    from microfluence.kernel.store.tables import utcnow

    with store.transaction() as db:
        apps.set_app(db, tenant.workspace_id, "instagram", client_id="app", client_secret="s" * 20)
        auth = CreatorAuthorisation(
            workspace_id=tenant.workspace_id,
            creator_id=tenant.creator_ids[0],
            account_id=tenant.account_ids[0],
            platform="instagram",
            external_id=f"ig-{tenant.name}",
            handle=f"{tenant.name}-handle",
            access_token_sealed=vault.seal(f"token-of-{tenant.name}"),
            status="active",
            fetched_at=utcnow(),
        )
        db.add(auth)
        db.flush()
        db.add(
            AccountInsight(
                workspace_id=tenant.workspace_id,
                authorisation_id=auth.id,
                account_id=tenant.account_ids[0],
                platform="instagram",
                metric="reach",
                period="day",
                end_time=utcnow(),
                item_id="",
                value=777,
            )
        )
        return auth.id


@covers("get", "/api/v1/oauth-apps")
@covers("put", "/api/v1/oauth-apps/{platform}")
@covers("delete", "/api/v1/oauth-apps/{platform}")
@covers("get", "/api/v1/authorisations")
@covers("post", "/api/v1/authorisations/links")
@covers("get", "/api/v1/authorisations/{authorisation_id}")
@covers("post", "/api/v1/authorisations/{authorisation_id}/fetch")
@covers("delete", "/api/v1/authorisations/{authorisation_id}")
@covers("get", "/api/v1/accounts/{account_id}/insights")
def test_creator_authorisations_stay_in_their_workspace(store, world, monkeypatch):  # type: ignore[no-untyped-def]
    monkeypatch.setenv("MICROFLUENCE_OAUTH_API_BASE", "http://127.0.0.1:9")  # no platform here
    client, a, b = world
    mine, theirs = _authorised(store, a), _authorised(store, b)
    app = {"client_id": "c", "client_secret": "x" * 20}
    for role in ("viewer", "member"):  # apps hold a secret: owners only
        assert (
            client.put("/api/v1/oauth-apps/tiktok", json=app, headers=a.auth(role)).status_code
            == 403
        )
    assert (
        client.put("/api/v1/oauth-apps/tiktok", json=app, headers=b.auth("owner")).status_code
        == 200
    )
    assert [
        x["platform"]
        for x in client.get("/api/v1/oauth-apps", headers=a.auth("viewer")).json()["data"]
    ] == ["instagram"]
    not_found(client.delete("/api/v1/oauth-apps/tiktok", headers=a.auth("owner")))
    assert client.get("/api/v1/oauth-apps", headers=b.auth("viewer")).json()["count"] == 2
    listed = client.get("/api/v1/authorisations", headers=a.auth("viewer")).json()
    assert [x["id"] for x in listed["data"]] == [mine] and "bravo" not in json.dumps(listed)
    assert client.get(f"/api/v1/authorisations/{mine}", headers=a.auth("viewer")).status_code == 200
    not_found(client.get(f"/api/v1/authorisations/{theirs}", headers=a.auth("owner")))
    not_found(client.post(f"/api/v1/authorisations/{theirs}/fetch", headers=a.auth("owner")))
    not_found(client.delete(f"/api/v1/authorisations/{theirs}", headers=a.auth("owner")))
    assert (
        client.delete(f"/api/v1/authorisations/{mine}", headers=a.auth("viewer")).status_code == 403
    )
    link = {"creator_id": b.creator_ids[0], "platform": "instagram"}
    not_found(client.post("/api/v1/authorisations/links", json=link, headers=a.auth("owner")))
    assert (
        client.post("/api/v1/authorisations/links", json=link, headers=b.auth("viewer")).status_code
        == 403
    )
    made = client.post("/api/v1/authorisations/links", json=link, headers=b.auth("member"))
    assert made.status_code == 201 and "/connect/" in made.json()["url"]
    own = client.get(f"/api/v1/accounts/{a.account_ids[0]}/insights", headers=a.auth("viewer"))
    assert own.status_code == 200 and own.json()["verified"] is True
    assert own.json()["latest"][0]["value"] == 777
    for aid in b.account_ids:
        not_found(client.get(f"/api/v1/accounts/{aid}/insights", headers=a.auth("owner")))
    still = client.get(f"/api/v1/authorisations/{theirs}", headers=b.auth("viewer")).json()
    assert still["status"] == "active"
    # Revoking the own one (the platform out of reach here): the tokens are forgotten all the same.
    gone = client.delete(f"/api/v1/authorisations/{mine}", headers=a.auth("member"))
    assert gone.status_code == 200 and gone.json()["status"] == "revoked"


@covers("get", "/api/v1/connectors")
@covers("put", "/api/v1/connectors/{platform}")
@covers("delete", "/api/v1/connectors/{platform}")
@covers("post", "/api/v1/connectors/{platform}/fetch")
@covers("post", "/api/v1/connectors/refresh")
@covers("get", "/api/v1/connectors/refresh-runs")
@covers("get", "/api/v1/connectors/refresh-runs/{run_id}")
def test_connections_fetches_and_refreshes_belong_to_one_workspace(world, monkeypatch):
    from connectors_support import API_KEY, platform_server, point_at, sample_platforms

    client, a, b = world
    with platform_server(sample_platforms()) as base:
        point_at(monkeypatch, base)
        body = {"secret": API_KEY, "daily_budget": 500}
        assert (
            client.put(
                "/api/v1/connectors/youtube", json=body, headers=b.auth("member")
            ).status_code
            == 403
        )
        set_b = client.put("/api/v1/connectors/youtube", json=body, headers=b.auth("owner"))
        assert set_b.status_code == 200 and set_b.json()["hint"] == "AIza…ijkl"
        assert API_KEY not in set_b.text
        fetched = client.post(
            "/api/v1/connectors/youtube/fetch",
            json={"handles": ["@bakerann"], "rescore": False},
            headers=b.auth("member"),
        )
        assert fetched.status_code == 200 and fetched.json()["fetched"] == ["bakerann"]
        assert (
            client.post(
                "/api/v1/connectors/youtube/fetch",
                json={"handles": ["x"]},
                headers=b.auth("viewer"),
            ).status_code
            == 403
        )
        job = client.post("/api/v1/connectors/refresh", headers=b.auth("member"))
        assert job.status_code == 202, job.text
        client.app.state.jobs.wait(timeout=60)
        runs = client.get("/api/v1/connectors/refresh-runs", headers=b.auth("viewer")).json()
        assert runs["count"] == 1 and runs["data"][0]["done"] == 1
        run_id = runs["data"][0]["id"]
        one = client.get(f"/api/v1/connectors/refresh-runs/{run_id}", headers=b.auth("viewer"))
        assert one.json()["items"][0]["handle"] == "UC" + "a" * 22
        # A sees none of it, cannot use B's credentials, nor remove them.
        mine = client.get("/api/v1/connectors", headers=a.auth("viewer")).json()
        assert [c["connected"] for c in mine["data"]] == [False, False]
        assert "AIza" not in json.dumps(mine)
        not_found(client.delete("/api/v1/connectors/youtube", headers=a.auth("owner")))
        not_found(
            client.post(
                "/api/v1/connectors/youtube/fetch",
                json={"handles": ["@bakerann"]},
                headers=a.auth("member"),
            )
        )
        assert client.get("/api/v1/connectors/refresh-runs", headers=a.auth()).json()["count"] == 0
        not_found(client.get(f"/api/v1/connectors/refresh-runs/{run_id}", headers=a.auth()))
        theirs = client.get("/api/v1/connectors", headers=b.auth("viewer")).json()["data"]
        assert theirs[0]["connected"] and theirs[0]["used_today"] == 6  # fetch, then refresh
        gone = client.delete("/api/v1/connectors/youtube", headers=b.auth("owner"))
        assert gone.status_code == 204


@covers("get", "/api/v1/accounts/{account_id}/prices")
@covers("get", "/api/v1/plans")
@covers("post", "/api/v1/plans/deals")
def test_prices_and_plans_see_only_the_callers_accounts(world):
    client, a, b = world
    h = a.auth("viewer")
    for aid in b.account_ids:
        not_found(client.get(f"/api/v1/accounts/{aid}/prices", headers=h))
    own = client.get(f"/api/v1/accounts/{a.account_ids[0]}/prices", headers=h)
    assert own.status_code == 200, own.text
    assert own.json()["account"] == "instagram:alpha_ana"
    # A plan chooses among the caller's accounts only, whatever the budget.
    planned = client.get("/api/v1/plans", params={"budget": 10**9, "objective": "reach"}, headers=h)
    assert planned.status_code == 200, planned.text
    body = planned.json()
    assert body["candidates"] > 0
    chosen = {i["account_id"] for i in body["unconstrained"]["items"]}
    assert chosen and chosen <= set(a.account_ids)
    assert "bravo" not in planned.text
    # Their accounts cannot be made deals of our campaign, nor ours of theirs.
    campaign = client.post("/api/v1/campaigns", json={"name": "Plan"}, headers=a.auth("member"))
    assert campaign.status_code == 201, campaign.text
    theirs = {"account": "instagram:bravo_ana", "format": "feed_post", "fee": 10}
    ours = {"account": "instagram:alpha_ana", "format": "feed_post", "fee": 10}
    sent = {"campaign_id": campaign.json()["id"], "items": [theirs]}
    assert client.post("/api/v1/plans/deals", json=sent, headers=h).status_code == 403
    refused = client.post("/api/v1/plans/deals", json=sent, headers=a.auth("member"))
    assert refused.status_code == 422, refused.text
    assert "items.0.creator" in refused.text
    other = {"campaign_id": campaign.json()["id"], "items": [ours]}
    not_found(client.post("/api/v1/plans/deals", json=other, headers=b.auth("member")))
    made = client.post("/api/v1/plans/deals", json=other, headers=a.auth("member"))
    assert made.status_code == 201, made.text
    assert [d["account"] for d in made.json()["deals"]] == ["instagram:alpha_ana"]
