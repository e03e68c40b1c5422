"""Issue 9's reproductions, each against the app: headers on a real uvicorn server on
127.0.0.1 (Content-Security-Policy, nosniff, no-store), http(s)-only links on every way in and in
every page, one handle rule for the API and the importer, no 500 for out-of-range ids and
times, a creator's name that cannot be cleared, uploads that never outlive their request."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select, update
from sqlalchemy.exc import OperationalError

from api_support import Tenant, make_tenant, make_user, serve
from microfluence.ingest.tables.creators import import_creators
from microfluence.jobs import imports as import_jobs
from microfluence.jobs.uploads import UploadArea
from microfluence.kernel.store.tables import Account, Post
from microfluence.web.app import create_app
from microfluence.web.headers import PAGE_CSP
from microfluence.web.settings import WebSettings
from pages_support import HTML, sign_in
from test_validation import HOSTILE_HANDLES

HUGE = 2**63
EVIL_URL = "javascript:alert(document.cookie)"


@pytest.fixture
def tenant(store) -> Tenant:
    tenant = make_tenant(store, "acme")
    make_user(store, "vic@acme.io", "acme", "viewer")
    return tenant


@pytest.fixture
def client(store_url, tenant, tmp_path) -> TestClient:
    settings = WebSettings(upload_dir=tmp_path / "uploads")
    with TestClient(create_app(store_url, settings=settings)) as test_client:
        yield test_client


def _plant_evil_links(store, tenant: Tenant) -> None:
    """Links stored before the rule existed (or written around it): pages must not follow them."""
    with store.transaction() as db:
        db.execute(update(Account).where(Account.id == tenant.account_ids[0]).values(url=EVIL_URL))
        db.execute(
            update(Post).where(Post.account_id == tenant.account_ids[0]).values(url=EVIL_URL)
        )


# --- headers, on a real server -----------------------------------------------------------------


def test_security_headers_on_a_real_server(store, store_url, tenant):
    _plant_evil_links(store, tenant)
    account = tenant.account_ids[0]
    with serve(create_app(store_url)) as base, httpx.Client(base_url=base, timeout=60) as http:
        for path in ("/api/v1/creators", f"/api/v1/accounts/{account}", "/api/v1/nothing"):
            answer = http.get(path, headers=tenant.auth("viewer"))
            assert answer.headers["x-content-type-options"] == "nosniff", path
            assert answer.headers["cache-control"] == "no-store", path
        refused = http.get("/api/v1/creators")  # errors too
        assert refused.status_code == 401 and refused.headers["cache-control"] == "no-store"
        export = http.get("/api/v1/exports/creators", headers=tenant.auth("viewer"))
        assert export.headers["cache-control"] == "no-store"
        assert export.headers["x-content-type-options"] == "nosniff"
        # The standalone report: its own policy, allowing exactly its inline scripts.
        report = http.get(f"/api/v1/accounts/{account}/vetting/report.html", headers=tenant.auth())
        assert report.status_code == 200
        assert report.headers["x-content-type-options"] == "nosniff"
        assert report.headers["cache-control"] == "no-store"
        policy = report.headers["content-security-policy"]
        assert "default-src 'none'" in policy and "frame-ancestors 'none'" in policy
        assert "'unsafe-inline'" not in policy.split("script-src", 1)[1].split(";", 1)[0]
        meta = re.search(r'http-equiv="Content-Security-Policy" content="([^"]+)"', report.text)
        assert meta and meta.group(1).replace("&#39;", "'") in policy  # also when opened as a file
        scripts = re.findall(r"<script\b[^>]*>(.*?)</script>", report.text, re.DOTALL)
        assert scripts and policy.count("'sha256-") == len(set(scripts))
        assert 'href="javascript:' not in report.text
        # Pages: scripts only from this server, none inline.
        sign_in_page = http.get("/sign-in")
        assert sign_in_page.headers["content-security-policy"] == PAGE_CSP
        assert "script-src 'self';" in PAGE_CSP and "frame-ancestors 'none'" in PAGE_CSP
        assert sign_in_page.headers["x-frame-options"] == "DENY"
        docs = http.get("/docs")
        assert "'sha256-" in docs.headers["content-security-policy"]


def test_pages_never_link_a_stored_javascript_url(store, client, tenant):
    _plant_evil_links(store, tenant)
    sign_in(client, "vic@acme.io")
    account = tenant.account_ids[0]
    profile = client.get(f"/creators/{tenant.creator_ids[0]}", headers=HTML)
    assert profile.status_code == 200
    assert profile.headers["content-security-policy"] == PAGE_CSP
    assert "javascript:" not in profile.text
    # Charts are data for app.js, not inline scripts the policy would block.
    assert "data-plotly-figure=" in profile.text
    assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", profile.text)
    vetting = client.get(f"/accounts/{account}/vetting", headers=HTML)
    assert vetting.status_code == 200 and not re.search(r"<script(?![^>]*\bsrc=)", vetting.text)
    download = client.get(f"/accounts/{account}/vetting/report.html")
    assert download.status_code == 200 and "attachment" in download.headers["content-disposition"]
    assert "'sha256-" in download.headers["content-security-policy"]
    assert 'href="javascript:' not in download.text and EVIL_URL in download.text  # as text


# --- one rule for every way in --------------------------------------------------------------


def test_urls_are_http_only_on_every_way_in(store, client, tenant, tmp_path):
    h = tenant.auth("member")
    for url in (EVIL_URL, " JavaScript:alert(1)", "data:text/html,<script>x</script>"):
        refused = client.post(
            "/api/v1/accounts",
            json={"platform": "tiktok", "handle": "newone", "url": url},
            headers=h,
        )
        assert refused.status_code == 422 and refused.json()["details"][0]["loc"][-1] == "url"
        patched = client.patch(
            f"/api/v1/accounts/{tenant.account_ids[0]}", json={"url": url}, headers=h
        )
        assert patched.status_code == 422
    made = client.post(
        "/api/v1/accounts",
        json={"platform": "tiktok", "handle": "newone", "url": "tiktok.com/@newone"},
        headers=h,
    )
    assert made.status_code == 201 and made.json()["url"] == "https://tiktok.com/@newone"
    table = tmp_path / "creators.csv"
    table.write_text(
        "handle,platform,url\n"
        f"evil_one,instagram,{EVIL_URL}\n"
        "fine_one,instagram,https://instagram.com/fine_one\n"
        "bare_one,instagram,instagram.com/bare_one\n"
    )
    report = import_creators(store, "acme", table, platform=None, skip_invalid=True)
    assert [(r.line, r.field) for r in report.rejections] == [(2, "url")]
    with store.session() as db:
        stored = dict(db.query(Account.handle, Account.url).filter(Account.handle.like("%_one")))
    assert stored == {
        "fine_one": "https://instagram.com/fine_one",
        "bare_one": "https://instagram.com/bare_one",
        "newone": "https://tiktok.com/@newone",
    }


def test_the_api_and_the_importer_refuse_the_same_handles(store, client, tenant, tmp_path):
    h = tenant.auth("member")
    accepted = ["@Zoe.Lima", "https://www.instagram.com/Max_Power/", "ünïcode-1"]
    api = {}
    for handle in HOSTILE_HANDLES + accepted:
        answer = client.post(
            "/api/v1/accounts", json={"platform": "x", "handle": handle}, headers=h
        )
        assert answer.status_code in (201, 422), answer.text
        api[handle] = answer.json()["handle"] if answer.status_code == 201 else None
    table = tmp_path / "handles.jsonl"
    table.write_text("".join(json.dumps({"handle": h, "platform": "tiktok"}) + "\n" for h in api))
    report = import_creators(store, "acme", table, platform=None, skip_invalid=True)
    refused_by_importer = {list(api)[r.line - 1] for r in report.rejections}
    assert refused_by_importer == {h for h, stored in api.items() if stored is None}
    assert refused_by_importer == set(HOSTILE_HANDLES)
    with store.session() as db:
        imported = set(db.scalars(select(Account.handle).where(Account.platform == "tiktok")))
    assert {api[h] for h in accepted} <= imported
    assert {api[h] for h in accepted} == {"zoe.lima", "max_power", "ünïcode-1"}


# --- no 500 for what issue 9 sent -----------------------------------------------------------


def test_out_of_range_ids_and_times_are_422_not_500(client, tenant):
    h = tenant.auth("member")
    account = tenant.account_ids[0]
    sent = [
        client.post(
            "/api/v1/accounts",
            json={"platform": "x", "handle": "big", "creator_id": HUGE},
            headers=h,
        ),
        client.patch(f"/api/v1/accounts/{account}", json={"creator_id": HUGE}, headers=h),
        client.get(f"/api/v1/accounts?creator_id={HUGE}", headers=h),
        client.get(f"/api/v1/posts?creator_id={HUGE}", headers=h),
        client.get(f"/api/v1/creators/{HUGE}", headers=h),
        client.post(
            f"/api/v1/accounts/{account}/snapshots",
            json={"captured_at": "0001-01-01T00:00:00+14:00", "followers": 1},
            headers=h,
        ),
        client.get("/api/v1/posts?posted_after=0001-01-01T00:00:00%2B14:00", headers=h),
        client.get("/api/v1/posts?posted_before=9999-12-31T23:59:59-14:00", headers=h),
    ]
    for answer in sent:
        assert answer.status_code == 422, answer.text
        assert answer.json()["code"] == "validation_error"
    sign_in(client, "vic@acme.io")
    for path in (f"/creators/{HUGE}", f"/accounts/{HUGE}/vetting"):
        assert client.get(path, headers=HTML).status_code == 422


def test_a_creators_name_cannot_be_cleared(client, tenant):
    h = tenant.auth("member")
    creator = tenant.creator_ids[0]
    for name in (None, "", "   "):
        answer = client.patch(f"/api/v1/creators/{creator}", json={"name": name}, headers=h)
        assert answer.status_code == 422 and answer.json()["details"][0]["loc"] == ["body", "name"]
    assert client.get(f"/api/v1/creators/{creator}", headers=h).json()["name"] == "acme Ana"
    cleared = client.patch(f"/api/v1/creators/{creator}", json={"country": None}, headers=h)
    assert cleared.status_code == 200 and cleared.json()["country"] is None  # others still clear


# --- uploads never outlive their request or their server ---------------------------------------


def _uploads(root: Path) -> list[Path]:
    return [p for p in root.glob("run-*/upload-*")]


def test_an_upload_whose_job_cannot_be_queued_is_removed(client, tenant, tmp_path, monkeypatch):
    root = tmp_path / "uploads"
    form = {"kind": "creators", "platform": "instagram"}
    files = {"file": ("c.csv", b"handle,name\nann,Ann\n", "text/csv")}

    def locked(*args, **kwargs):  # the store's answer while an import holds SQLite's write lock
        raise OperationalError("INSERT INTO import_jobs", {}, Exception("database is locked"))

    with monkeypatch.context() as patch:
        patch.setattr(import_jobs, "create_job", locked)
        busy = client.post("/api/v1/imports", data=form, files=files, headers=tenant.auth())
    assert busy.status_code == 503 and busy.json()["code"] == "busy"
    assert _uploads(root) == []
    client.app.state.jobs.pool.shutdown()  # a server on its way down queues nothing more
    stopping = client.post("/api/v1/imports", data=form, files=files, headers=tenant.auth())
    assert stopping.status_code == 503 and "stopping" in stopping.json()["message"]
    assert _uploads(root) == []


def test_the_uploads_of_a_killed_server_are_removed_when_one_starts(tmp_path):
    root = tmp_path / "uploads"
    crashed = subprocess.Popen(
        [
            sys.executable,
            "-c",
            textwrap.dedent(
                f"""
                import sys, time
                from microfluence.jobs.uploads import UploadArea
                area = UploadArea({str(root)!r})
                (area.new_folder() / "half.csv").write_bytes(b"x" * 4096)
                print("ready", flush=True)
                time.sleep(60)
                """
            ),
        ],
        stdout=subprocess.PIPE,
        env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)},
    )
    assert crashed.stdout is not None and crashed.stdout.readline().strip() == b"ready"
    live = UploadArea(root)  # a server running beside it: its uploads must stay
    (live.new_folder() / "busy.csv").write_bytes(b"y")
    assert len(_uploads(root)) == 2
    crashed.send_signal(signal.SIGKILL)
    crashed.wait(timeout=20)
    starting = UploadArea(root)
    assert starting.removed_stale == 1
    assert [p.name for p in root.glob("run-*/upload-*/*")] == ["busy.csv"]
    starting.close()
    live.close()
    assert not any(root.iterdir())
