"""The REST API, endpoint by endpoint, with its denials; on SQLite and PostgreSQL."""

from __future__ import annotations

import csv
import io
import json

import pytest
from fastapi.testclient import TestClient

from api_support import Tenant, make_tenant
from microfluence.kernel.store import open_store
from microfluence.web.app import create_app

ERROR_KEYS = {"status", "code", "message", "details"}


@pytest.fixture
def tenant(store) -> Tenant:
    return make_tenant(store, "acme")


@pytest.fixture
def client(store_url, tenant) -> TestClient:
    with TestClient(create_app(store_url)) as test_client:
        yield test_client


def error_of(response, status: int, code: str) -> dict:
    assert response.status_code == status, response.text
    body = response.json()
    assert set(body) == ERROR_KEYS
    assert body["status"] == status and body["code"] == code
    assert isinstance(body["message"], str) and body["message"]
    return body


# --- authentication and roles ----------------------------------------------------------------


def test_requests_without_a_valid_key_are_refused(client, tenant, store):
    no_key = client.get("/api/v1/creators")
    error_of(no_key, 401, "unauthenticated")
    assert no_key.headers["www-authenticate"] == "Bearer"
    error_of(
        client.get("/api/v1/creators", headers={"Authorization": "Bearer x"}),
        401,
        "unauthenticated",
    )
    error_of(
        client.get("/api/v1/creators", headers={"Authorization": "Basic abc"}),
        401,
        "unauthenticated",
    )
    real = tenant.keys["member"]
    forged = real[:-4] + ("AAAA" if not real.endswith("AAAA") else "BBBB")
    error_of(
        client.get("/api/v1/creators", headers={"Authorization": f"Bearer {forged}"}),
        401,
        "unauthenticated",
    )
    assert client.get("/api/v1/creators", headers=tenant.auth()).status_code == 200


def test_a_revoked_key_stops_working(client, tenant):
    owner = tenant.auth("owner")
    keys = client.get("/api/v1/workspace/api-keys", headers=owner).json()
    member = next(k for k in keys["data"] if k["role"] == "member")
    assert "key" not in member and "key_hash" not in member
    revoked = client.delete(f"/api/v1/workspace/api-keys/{member['id']}", headers=owner)
    assert revoked.status_code == 200 and revoked.json()["revoked_at"]
    body = error_of(
        client.get("/api/v1/creators", headers=tenant.auth("member")), 401, "unauthenticated"
    )
    assert "revoked" in body["message"]


def test_viewers_read_but_do_not_write(client, tenant):
    viewer = tenant.auth("viewer")
    cid, aid = tenant.creator_ids[0], tenant.account_ids[0]
    assert client.get("/api/v1/creators", headers=viewer).status_code == 200
    assert client.get(f"/api/v1/accounts/{aid}", headers=viewer).status_code == 200
    denied = [
        client.post("/api/v1/creators", json={"name": "X"}, headers=viewer),
        client.patch(f"/api/v1/creators/{cid}", json={"name": "X"}, headers=viewer),
        client.delete(f"/api/v1/creators/{cid}", headers=viewer),
        client.post("/api/v1/accounts", json={"platform": "x", "handle": "h"}, headers=viewer),
        client.patch(f"/api/v1/accounts/{aid}", json={"bio": "x"}, headers=viewer),
        client.delete(f"/api/v1/accounts/{aid}", headers=viewer),
        client.post(
            f"/api/v1/accounts/{aid}/snapshots",
            json={"captured_at": "2026-05-01T00:00:00Z", "followers": 1},
            headers=viewer,
        ),
        client.post(
            "/api/v1/imports",
            files={"file": ("a.csv", b"handle\nx\n")},
            data={"kind": "creators", "platform": "instagram"},
            headers=viewer,
        ),
        client.get("/api/v1/workspace/api-keys", headers=viewer),
    ]
    for response in denied:
        error_of(response, 403, "forbidden")
    assert client.get(f"/api/v1/creators/{cid}", headers=viewer).json()["name"] == "acme Ana"


def test_only_owners_manage_api_keys(client, tenant):
    member = tenant.auth("member")
    error_of(client.get("/api/v1/workspace/api-keys", headers=member), 403, "forbidden")
    error_of(client.post("/api/v1/workspace/api-keys", json={}, headers=member), 403, "forbidden")
    made = client.post(
        "/api/v1/workspace/api-keys",
        json={"name": "ci", "role": "viewer"},
        headers=tenant.auth("owner"),
    )
    assert made.status_code == 201
    key = made.json()["key"]
    assert key.startswith(made.json()["prefix"] + "_")
    me = client.get("/api/v1/workspace", headers={"Authorization": f"Bearer {key}"}).json()
    assert me == {"workspace": "acme", "role": "viewer", "api_key_id": made.json()["id"]}
    listed = client.get("/api/v1/workspace/api-keys", headers=tenant.auth("owner")).json()
    assert listed["count"] == 4 and all("key" not in k for k in listed["data"])
    error_of(
        client.delete("/api/v1/workspace/api-keys/999999", headers=tenant.auth("owner")),
        404,
        "not_found",
    )


# --- creators ------------------------------------------------------------------------------


def names(response) -> list[str]:
    assert response.status_code == 200, response.text
    return [row["name"] for row in response.json()["data"]]


def test_list_creators_filters_sorts_and_pages(client, tenant):
    h = tenant.auth("viewer")
    page = client.get("/api/v1/creators", headers=h).json()
    assert page["count"] == 3 and [c["name"] for c in page["data"]] == [
        "acme Ana",
        "acme Bo",
        "acme Cy",
    ]
    ana = page["data"][0]
    assert ana["followers"] == 51_000  # latest snapshots: 1,000 + 50,000
    assert sorted(a["platform"] for a in ana["accounts"]) == ["instagram", "tiktok"]
    get = lambda **q: client.get("/api/v1/creators", params=q, headers=h)  # noqa: E731
    assert names(get(platform="tiktok")) == ["acme Ana"]
    assert names(get(country="FR")) == ["acme Ana", "acme Cy"]  # any case: "fr" too
    assert names(get(category="FOOD")) == ["acme Bo"]
    assert names(get(q="BREAD")) == ["acme Bo"]  # an account's bio
    assert names(get(q="cy")) == ["acme Cy"]
    assert names(get(q="100%_")) == []  # LIKE wildcards are literal
    assert names(get(min_followers=20_000)) == ["acme Ana", "acme Cy"]
    assert names(get(max_followers=51_000, min_followers=51_000)) == ["acme Ana"]
    assert names(get(sort="-followers")) == ["acme Cy", "acme Ana", "acme Bo"]
    assert names(get(sort="-name")) == ["acme Cy", "acme Bo", "acme Ana"]
    second = get(sort="name", limit=2, offset=2)
    assert names(second) == ["acme Cy"] and second.json()["count"] == 3
    assert get(platform="instagram", min_followers=2_000).json()["count"] == 2


def test_list_creators_rejects_bad_parameters(client, tenant):
    h = tenant.auth()
    error_of(client.get("/api/v1/creators?sort=password", headers=h), 422, "invalid_input")
    error_of(client.get("/api/v1/creators?limit=0", headers=h), 422, "validation_error")
    body = error_of(client.get("/api/v1/creators?limit=x", headers=h), 422, "validation_error")
    assert body["details"][0]["loc"] == ["query", "limit"]
    error_of(
        client.get("/api/v1/creators?min_followers=5&max_followers=1", headers=h),
        422,
        "invalid_input",
    )


def test_creator_create_read_update_delete(client, tenant):
    h = tenant.auth()
    made = client.post("/api/v1/creators", json={"name": " Dana ", "country": "IT"}, headers=h)
    assert made.status_code == 201
    creator = made.json()
    assert creator["name"] == "Dana" and creator["accounts"] == [] and creator["followers"] is None
    url = f"/api/v1/creators/{creator['id']}"
    assert client.get(url, headers=h).json()["country"] == "IT"
    changed = client.patch(url, json={"country": None, "category": "music"}, headers=h).json()
    assert changed["country"] is None and changed["category"] == "music"
    assert changed["name"] == "Dana"  # fields not sent stay
    assert client.delete(url, headers=h).status_code == 204
    error_of(client.get(url, headers=h), 404, "not_found")
    error_of(client.delete(url, headers=h), 404, "not_found")
    error_of(client.patch(url, json={"name": "x"}, headers=h), 404, "not_found")


def test_creator_validation_errors_have_the_shape(client, tenant):
    h = tenant.auth()
    body = error_of(client.post("/api/v1/creators", json={}, headers=h), 422, "validation_error")
    assert body["details"][0]["loc"] == ["body", "name"]
    error_of(
        client.post("/api/v1/creators", json={"name": "x", "admin": True}, headers=h),
        422,
        "validation_error",
    )
    error_of(
        client.post("/api/v1/creators", json={"name": "x", "email": "nope"}, headers=h),
        422,
        "validation_error",
    )
    error_of(
        client.post(
            "/api/v1/creators",
            content=b"{not json",
            headers={**h, "content-type": "application/json"},
        ),
        422,
        "validation_error",
    )


def test_deleting_a_creator_deletes_their_accounts_and_posts(client, tenant):
    h = tenant.auth()
    cid = tenant.creator_ids[0]
    assert client.delete(f"/api/v1/creators/{cid}", headers=h).status_code == 204
    for aid in tenant.account_ids[:2]:
        error_of(client.get(f"/api/v1/accounts/{aid}", headers=h), 404, "not_found")
    assert client.get("/api/v1/posts", headers=h).json()["count"] == 4


# --- accounts, snapshots, posts ----------------------------------------------------------------


def test_accounts_list_and_read(client, tenant):
    h = tenant.auth("viewer")
    page = client.get("/api/v1/accounts", headers=h).json()
    assert page["count"] == 4
    assert [a["handle"] for a in page["data"]] == ["acme_ana", "acme_ana_tt", "acme_bo", "acme_cy"]
    cy = page["data"][3]
    assert cy["followers"] == 300_000 and cy["posts_count"] == 11
    assert cy["captured_at"].startswith("2026-01-31")
    get = lambda **q: client.get("/api/v1/accounts", params=q, headers=h).json()  # noqa: E731
    assert [a["handle"] for a in get(sort="-followers", limit=2)["data"]] == [
        "acme_cy",
        "acme_ana_tt",
    ]
    assert get(platform="instagram")["count"] == 2
    assert get(q="travel")["data"][0]["handle"] == "acme_cy"
    assert get(creator_id=tenant.creator_ids[0])["count"] == 2
    assert get(min_followers=10_000, max_followers=60_000)["count"] == 2
    assert get(country="de")["data"][0]["handle"] == "acme_bo"
    one = client.get(f"/api/v1/accounts/{tenant.account_ids[0]}", headers=h).json()
    assert one["handle"] == "acme_ana" and one["followers"] == 1_000
    error_of(client.get("/api/v1/accounts/2147483647", headers=h), 404, "not_found")
    error_of(client.get("/api/v1/accounts/0", headers=h), 422, "validation_error")


def test_account_create_update_delete(client, tenant):
    h = tenant.auth()
    made = client.post(
        "/api/v1/accounts",
        json={"platform": "tiktok", "handle": "@New_One", "display_name": "New One"},
        headers=h,
    )
    assert made.status_code == 201, made.text
    account = made.json()
    assert account["handle"] == "new_one" and account["followers"] is None
    creator = client.get(f"/api/v1/creators/{account['creator_id']}", headers=h).json()
    assert creator["name"] == "New One"
    clash = client.post(
        "/api/v1/accounts", json={"platform": "tiktok", "handle": "new_one"}, headers=h
    )
    error_of(clash, 409, "conflict")
    error_of(
        client.post("/api/v1/accounts", json={"platform": "myspace", "handle": "x"}, headers=h),
        422,
        "validation_error",
    )
    attached = client.post(
        "/api/v1/accounts",
        json={"platform": "youtube", "handle": "bo_tube", "creator_id": tenant.creator_ids[1]},
        headers=h,
    )
    assert attached.json()["creator_id"] == tenant.creator_ids[1]
    url = f"/api/v1/accounts/{account['id']}"
    moved = client.patch(url, json={"creator_id": tenant.creator_ids[2], "bio": "hi"}, headers=h)
    assert moved.json()["creator_id"] == tenant.creator_ids[2] and moved.json()["bio"] == "hi"
    error_of(client.patch(url, json={"creator_id": None}, headers=h), 422, "invalid_input")
    error_of(client.patch(url, json={"creator_id": 999999}, headers=h), 404, "not_found")
    assert client.delete(url, headers=h).status_code == 204
    error_of(client.get(url, headers=h), 404, "not_found")


def test_snapshots(client, tenant):
    h = tenant.auth()
    aid = tenant.account_ids[0]
    url = f"/api/v1/accounts/{aid}/snapshots"
    listed = client.get(url, headers=h).json()
    assert listed["count"] == 2
    assert [s["followers"] for s in listed["data"]] == [900, 1_000]  # oldest first
    made = client.post(
        url, json={"captured_at": "2026-03-01T12:00:00+02:00", "followers": 1_500}, headers=h
    )
    assert made.status_code == 201 and made.json()["captured_at"] == "2026-03-01T10:00:00Z"
    assert client.get(f"/api/v1/accounts/{aid}", headers=h).json()["followers"] == 1_500
    again = client.post(url, json={"captured_at": "2026-03-01T10:00:00", "followers": 1}, headers=h)
    error_of(again, 409, "conflict")
    error_of(
        client.post(url, json={"captured_at": "2026-03-02", "followers": -1}, headers=h),
        422,
        "validation_error",
    )
    error_of(client.get("/api/v1/accounts/999999/snapshots", headers=h), 404, "not_found")


def test_posts(client, tenant):
    h = tenant.auth("viewer")
    page = client.get("/api/v1/posts", headers=h).json()
    assert page["count"] == 8
    assert page["data"][0]["posted_at"] >= page["data"][-1]["posted_at"]  # newest first
    get = lambda **q: client.get("/api/v1/posts", params=q, headers=h).json()  # noqa: E731
    assert get(account_id=tenant.account_ids[0])["count"] == 2
    assert get(creator_id=tenant.creator_ids[0])["count"] == 4
    assert get(platform="youtube")["count"] == 2
    assert get(is_sponsored=True)["count"] == 4
    assert get(q="#ad")["count"] == 4
    assert get(posted_after="2026-01-02T00:00:00")["count"] == 4
    assert get(posted_before="2026-01-02T00:00:00Z")["count"] == 4
    assert [p["likes"] for p in get(sort="-likes", limit=1)["data"]] == [20]
    one = client.get(f"/api/v1/posts/{tenant.post_ids[0]}", headers=h).json()
    assert one["platform_post_id"] == "acme_ana-0"
    per_account = client.get(f"/api/v1/accounts/{tenant.account_ids[3]}/posts", headers=h).json()
    assert {p["platform_post_id"] for p in per_account["data"]} == {"acme_cy-0", "acme_cy-1"}
    error_of(client.get("/api/v1/posts/999999", headers=h), 404, "not_found")
    error_of(client.get("/api/v1/accounts/999999/posts", headers=h), 404, "not_found")


# --- exports -------------------------------------------------------------------------------


def test_exports(client, tenant):
    h = tenant.auth("viewer")
    as_csv = client.get("/api/v1/exports/creators?format=csv", headers=h)
    assert as_csv.status_code == 200 and as_csv.headers["content-type"].startswith("text/csv")
    assert "attachment" in as_csv.headers["content-disposition"]
    rows = list(csv.DictReader(io.StringIO(as_csv.text)))
    assert sorted(r["handle"] for r in rows) == ["acme_ana", "acme_ana_tt", "acme_bo", "acme_cy"]
    as_json = client.get("/api/v1/exports/creators?format=json", headers=h).json()
    assert {r["handle"]: r["followers"] for r in as_json}["acme_cy"] == 300_000
    lines = client.get("/api/v1/exports/posts?format=jsonl", headers=h).text.splitlines()
    assert len(lines) == 8 and json.loads(lines[0])["handle"].startswith("acme_")
    error_of(client.get("/api/v1/exports/posts?format=xml", headers=h), 422, "validation_error")
    error_of(client.get("/api/v1/exports/posts"), 401, "unauthenticated")


# --- the error shape and the docs --------------------------------------------------------------


def test_every_error_has_one_shape(client, tenant):
    error_of(client.get("/api/v1/nothing", headers=tenant.auth()), 404, "not_found")
    error_of(client.put("/api/v1/creators", headers=tenant.auth()), 405, "method_not_allowed")
    error_of(client.get("/no/such/page"), 404, "not_found")


def test_openapi_and_offline_docs(client):
    schema = client.get("/openapi.json").json()
    assert "/api/v1/creators" in schema["paths"] and "/api/v1/imports" in schema["paths"]
    assert "ApiKey" in schema["components"]["securitySchemes"]
    for page in ("/docs", "/redoc"):
        html = client.get(page).text
        assert "/openapi.json" in html
        assert "cdn." not in html and "https://" not in html.replace("https://fastapi", "")
        for asset in (
            "/static/api-docs/swagger-ui-bundle.js",
            "/static/api-docs/redoc.standalone.js",
        ):
            assert client.get(asset).status_code == 200


# --- imports -------------------------------------------------------------------------------

CREATORS_CSV = (
    b"handle,followers,country,name\n"
    b"new_one,1.2K,FR,New One\n"
    b"new_two,5000,DE,Two\n"
    b"bad row,xyz,FR,\n"
)


def run_import(client, headers, content: bytes, **form) -> dict:
    started = client.post(
        "/api/v1/imports",
        files={"file": (form.pop("filename", "creators.csv"), content, "text/csv")},
        data=form,
        headers=headers,
    )
    assert started.status_code == 202, started.text
    job = started.json()
    assert job["status"] in ("queued", "running", "succeeded")
    client.app.state.jobs.wait(timeout=60)
    polled = client.get(f"/api/v1/imports/{job['id']}", headers=headers)
    assert polled.status_code == 200
    return polled.json()


def test_import_a_creators_file_in_the_background(client, tenant):
    h = tenant.auth()
    job = run_import(
        client, h, CREATORS_CSV, kind="creators", platform="instagram", skip_invalid="true"
    )
    assert job["status"] == "succeeded" and job["progress"] == 1.0
    assert job["summary"]["created"]["accounts"] == 2 and job["summary"]["rejected"] == 1
    assert job["errors"][0]["line"] == 4 and job["errors"][0]["file"] == "creators.csv"
    assert "/tmp" not in json.dumps(job)  # no server paths
    found = client.get("/api/v1/accounts", params={"q": "new_"}, headers=h).json()
    assert {a["handle"]: a["followers"] for a in found["data"]} == {
        "new_one": 1200,
        "new_two": 5000,
    }
    listed = client.get("/api/v1/imports", headers=tenant.auth("viewer")).json()
    assert listed["count"] == 1 and listed["data"][0]["id"] == job["id"]


def test_a_failed_import_names_the_line_and_writes_nothing(client, tenant):
    h = tenant.auth()
    job = run_import(client, h, CREATORS_CSV, kind="creators", platform="instagram")
    assert job["status"] == "failed"
    assert job["errors"][0]["line"] == 4 and job["errors"][0]["field"] == "handle"
    assert "line 4" in job["error"]
    # … and how to import the valid rows, in the API's words among the others
    assert "skip_invalid=true (API, library)" in job["error"]
    assert client.get("/api/v1/accounts", params={"q": "new_"}, headers=h).json()["count"] == 0


def test_import_requests_are_checked(client, tenant):
    h = tenant.auth()
    post = lambda data, content=b"x\n": client.post(  # noqa: E731
        "/api/v1/imports", files={"file": ("f.csv", content)}, data=data, headers=h
    )
    error_of(post({"kind": "spreadsheet"}), 422, "validation_error")
    error_of(post({"kind": "creators", "platform": "myspace"}), 422, "invalid_input")
    error_of(post({"kind": "followers"}), 422, "invalid_input")  # which account?
    error_of(post({"kind": "creators", "mapping": "{oops"}), 422, "invalid_input")
    error_of(post({"kind": "creators"}, content=b""), 422, "invalid_input")
    error_of(
        client.post("/api/v1/imports", data={"kind": "creators"}, headers=h),
        422,
        "validation_error",
    )
    error_of(client.get("/api/v1/imports/unknown", headers=h), 404, "not_found")


def test_uploads_over_the_limit_are_refused(store_url, tenant):
    from microfluence.web.settings import WebSettings

    app = create_app(store_url, settings=WebSettings(max_upload_mb=1))
    with TestClient(app) as small:
        response = small.post(
            "/api/v1/imports",
            files={"file": ("big.csv", b"x" * (2 << 20))},
            data={"kind": "creators"},
            headers=tenant.auth(),
        )
        error_of(response, 413, "payload_too_large")


def test_reads_go_on_while_an_import_holds_the_sqlite_write_lock(sqlite_store):
    import sqlite3

    from microfluence.access.tables import ApiKey

    tenant = make_tenant(sqlite_store, "acme")
    path = sqlite_store.url.removeprefix("sqlite:///")
    with TestClient(create_app(sqlite_store.url)) as client:
        writer = sqlite3.connect(path, timeout=0)
        writer.execute("BEGIN IMMEDIATE")  # what a long import does
        try:
            page = client.get("/api/v1/creators", headers=tenant.auth("viewer"))
            assert page.status_code == 200 and page.json()["count"] == 3
        finally:
            writer.rollback()
            writer.close()
        with sqlite_store.transaction() as session:
            # The note of the key's use was skipped, not waited for …
            assert session.get(ApiKey, 1).last_used_at is None
        client.get("/api/v1/creators", headers=tenant.auth("viewer"))
        with sqlite_store.transaction() as session:
            assert session.get(ApiKey, 1).last_used_at is not None  # … and made next time


@pytest.mark.parametrize(
    ("filename", "content", "form", "created"),
    [
        (
            "posts.csv",
            b"handle,post_id,likes,comments,posted_at,caption\n"
            b"acme_ana,p1,10,2,2026-02-01T10:00:00,hello #ad\nacme_ana,p2,5,1,2026-02-02,hi\n",
            {"kind": "posts", "platform": "instagram"},
            {"posts": 2},
        ),
        (
            "followers.csv",
            b"username,followers,following,posts\nfan_one,10,200,3\nbot_two,0,7500,0\n",
            {"kind": "followers", "account": "acme_ana"},
            {"followers": 2},
        ),
        (
            "post.json",
            b'{"node": {"shortcode": "abc", "id": "123", "__typename": "GraphImage",'
            b' "owner": {"username": "acme_ana", "id": "1"}, "edge_liked_by": {"count": 5},'
            b' "taken_at_timestamp": 1700000000}}',
            {"kind": "instagram"},
            {"posts": 1},
        ),
    ],
)
def test_every_import_kind_runs_its_importer(client, tenant, filename, content, form, created):
    job = run_import(client, tenant.auth(), content, filename=filename, **form)
    assert job["status"] == "succeeded", job
    for table, n in created.items():
        assert job["summary"]["created"][table] == n
    posts = client.get(
        "/api/v1/posts", params={"account_id": tenant.account_ids[0]}, headers=tenant.auth()
    ).json()
    assert posts["count"] == 2 + created.get("posts", 0)


def test_every_web_setting_and_error_code_is_documented():
    from pathlib import Path

    from microfluence.web.errors import HTTP_CODES
    from microfluence.web.settings import WebSettings

    doc = (Path(__file__).parent.parent / "docs" / "api.md").read_text(encoding="utf-8")
    for name in WebSettings.model_fields:
        assert f"MICROFLUENCE_{name.upper()}" in doc, name
    for status, code in HTTP_CODES.items():
        if status not in (406, 415):  # never answered by our routes; Starlette's own
            assert f"`{code}`" in doc, code


def test_two_apps_in_one_process_each_answer_from_their_own_store(tmp_path):
    """The apps of a process share their included routes (web.app): each request still reaches
    its own app's store, and a key of one store means nothing to the other."""
    stores = {name: open_store(f"sqlite:///{tmp_path / name}.sqlite") for name in ("one", "two")}
    tenants = {name: make_tenant(store, name) for name, store in stores.items()}
    apps = {name: TestClient(create_app(store.url)) for name, store in stores.items()}
    with apps["one"] as one, apps["two"] as two:
        for name, client in (("one", one), ("two", two)):
            answer = client.get("/api/v1/creators", headers=tenants[name].auth())
            assert answer.status_code == 200, answer.text
            assert names(answer) == [f"{name} Ana", f"{name} Bo", f"{name} Cy"]
        error_of(two.get("/api/v1/creators", headers=tenants["one"].auth()), 401, "unauthenticated")
    for store in stores.values():
        store.dispose()
