"""The pages over HTTP (a TestClient on the real app): every page renders for a signed-in user,
signed-out visitors are sent to sign in, forms need their CSRF token, viewers cannot write,
errors come back as HTML pages for browsers and as the JSON shape elsewhere."""

from __future__ import annotations

import re
from collections.abc import Iterator

import polars as pl
import pytest
from fastapi.testclient import TestClient

from api_support import PASSWORD, Tenant, make_tenant, make_user
from microfluence.ingest.write.writer import import_run
from microfluence.kernel.store import open_store
from microfluence.metrics.service import compute_metrics
from microfluence.web.app import create_app
from pages_support import HTML, csrf_of, sign_in

CREATORS_CSV = (
    "handle,platform,name,followers,country,category\n"
    "paged_zoe,instagram,Zoe Paged,15000,PT,fitness\n"
    "paged_yan,tiktok,Yan Paged,230000,PT,gaming\n"
)


@pytest.fixture
def site(store_url: str) -> Iterator[tuple[TestClient, Tenant]]:
    store = open_store(store_url)
    tenant = make_tenant(store, "alpha")
    for email, role in (
        ("owner@a.io", "owner"),
        ("member@a.io", "member"),
        ("viewer@a.io", "viewer"),
    ):
        make_user(store, email, "alpha", role)
    store.dispose()
    app = create_app(store_url)
    with TestClient(app) as client:
        yield client, tenant


def test_signed_out_visitors_are_sent_to_sign_in(site: tuple[TestClient, Tenant]) -> None:
    client, tenant = site
    pages = [
        "/creators",
        f"/creators/{tenant.creator_ids[0]}",
        f"/accounts/{tenant.account_ids[0]}/vetting",
        f"/accounts/{tenant.account_ids[0]}/vetting/report.html",
        "/imports",
        "/settings",
        "/workspaces",
    ]
    for path in pages:
        answer = client.get(path + "?x=1", headers=HTML, follow_redirects=False)
        assert answer.status_code == 303, path
        assert answer.headers["location"].startswith("/sign-in?next=")
        assert "%3Fx%3D1" in answer.headers["location"]  # back to the same page after sign-in
    assert client.get("/", follow_redirects=False).headers["location"] == "/sign-in"
    # Not a browser (no Accept: text/html): the API's JSON error shape.
    answer = client.get("/creators")
    assert answer.status_code == 401
    assert answer.json()["code"] == "unauthenticated"


def test_sign_in_errors_and_sign_out(site: tuple[TestClient, Tenant]) -> None:
    client, _ = site
    form = client.get("/sign-in", headers=HTML)
    token = csrf_of(form.text)
    wrong = client.post(
        "/auth/sign-in",
        data={"email": "owner@a.io", "password": "nope", "csrf_token": token},
        follow_redirects=True,
        headers=HTML,
    )
    assert "Wrong e-mail address or password." in wrong.text
    # Without its CSRF token the sign-in form is refused, even with the right password.
    refused = client.post(
        "/auth/sign-in", data={"email": "owner@a.io", "password": PASSWORD}, headers=HTML
    )
    assert refused.status_code == 403
    assert "text/html" in refused.headers["content-type"]
    assert "the form has expired" in refused.text

    csrf = sign_in(client, "owner@a.io")
    assert client.get("/sign-in", follow_redirects=False).headers["location"] == "/creators"
    assert client.post("/auth/sign-out", follow_redirects=False).status_code == 403  # no token
    out = client.post("/auth/sign-out", data={"csrf_token": csrf}, follow_redirects=False)
    assert out.status_code == 303
    again = client.get("/creators", headers=HTML, follow_redirects=False)
    assert again.status_code == 303 and again.headers["location"].startswith("/sign-in")


def test_creators_table_filters_sorts_and_pages(site: tuple[TestClient, Tenant]) -> None:
    client, tenant = site
    sign_in(client, "viewer@a.io")
    page = client.get("/creators", headers=HTML).text
    assert page.index("alpha Ana") < page.index("alpha Bo") < page.index("alpha Cy")
    assert f'href="/creators/{tenant.creator_ids[0]}"' in page

    def names(query: str) -> list[str]:
        answer = client.get("/creators?" + query, headers=HTML)
        assert answer.status_code == 200, answer.text
        return re.findall(r'class="strong">([^<]+)</a>', answer.text)

    assert names("sort=-followers") == ["alpha Cy", "alpha Ana", "alpha Bo"]
    assert names("platform=youtube") == ["alpha Cy"]
    assert names("country=fr") == ["alpha Ana", "alpha Cy"]
    assert names("category=FOOD") == ["alpha Bo"]
    assert names("q=bread") == ["alpha Bo"]
    assert names("min_followers=20k&max_followers=100K") == ["alpha Ana"]  # 1,000 + 50,000
    assert names("min_followers=&max_followers=&tier=") == ["alpha Ana", "alpha Bo", "alpha Cy"]
    assert names("per_page=2") == ["alpha Ana", "alpha Bo"]
    second = client.get("/creators?per_page=2&page=2", headers=HTML).text
    assert "page 2 of 2" in second and "alpha Cy" in second and "alpha Bo" not in second
    # Before scoring no account has a tier, so a tier filter finds nobody (and says why).
    assert names("tier=micro") == []
    assert "not computed yet" in client.get("/creators", headers=HTML).text
    # Bad filters are a clear 422 page, not a server error.
    for query in (
        "min_followers=lots",
        "sort=bio",
        "platform=myspace",
        "min_followers=9&max_followers=1",
    ):
        answer = client.get("/creators?" + query, headers=HTML)
        assert answer.status_code == 422, query
        assert "text/html" in answer.headers["content-type"]


def test_profile_before_and_after_scoring(site: tuple[TestClient, Tenant], store_url: str) -> None:
    client, tenant = site
    sign_in(client, "viewer@a.io")
    path = f"/creators/{tenant.creator_ids[0]}"
    before = client.get(path, headers=HTML).text
    assert "not computed yet" in before and "microfluence score" in before
    assert "@alpha_ana" in before and "@alpha_ana_tt" in before
    assert f'id="followers-a{tenant.account_ids[0]}"' in before  # the history chart
    assert '<script src="/static/plotly.min.js">' in before
    assert "not computed" in before  # the posts are listed, their rate not computed yet

    store = open_store(store_url)
    compute_metrics(store, "alpha")
    store.dispose()
    after = client.get(path, headers=HTML).text
    assert "not computed yet" not in after
    for chart in ("followers", "growth", "engagement"):
        assert f'id="{chart}-a{tenant.account_ids[0]}"' in after
    assert "Tier under each scheme" in after and "used for cohorts" in after
    for vendor in ("HypeAuditor", "Modash", "Upfluence", "GRIN"):
        assert vendor in after
    assert "Cohort percentile" in after
    # Post 1 of alpha_ana: 20 likes + 1 comment over 1,000 followers = 2.10 %... interactions 21
    assert ">21<" in after
    tiers = client.get("/creators?tier=micro", headers=HTML).text
    assert "alpha Bo" in tiers  # 12,000 followers: micro under the workspace's scheme


def test_vetting_page_and_report_download(site: tuple[TestClient, Tenant]) -> None:
    client, tenant = site
    sign_in(client, "viewer@a.io")
    account = tenant.account_ids[0]
    page = client.get(f"/accounts/{account}/vetting", headers=HTML)
    assert page.status_code == 200
    for text in ("Audience Quality Score", "Breakdown", "Fake followers", "Contribution"):
        assert text in page.text
    assert 'id="vet-growth"' in page.text
    assert f'href="/accounts/{account}/vetting/report.html"' in page.text
    report = client.get(f"/accounts/{account}/vetting/report.html")
    assert report.status_code == 200
    assert report.headers["content-disposition"].startswith("attachment;")
    assert "alpha_ana" in report.headers["content-disposition"]
    assert report.text.startswith("<!doctype html>")
    assert client.get("/accounts/999999/vetting", headers=HTML).status_code == 404


def test_import_page_runs_a_job_to_its_end(site: tuple[TestClient, Tenant]) -> None:
    client, _ = site
    csrf = sign_in(client, "member@a.io")
    page = client.get("/imports", headers=HTML).text
    assert 'enctype="multipart/form-data"' in page
    files = {"file": ("creators.csv", CREATORS_CSV.encode(), "text/csv")}
    # No CSRF token: refused, and nothing is imported.
    refused = client.post("/imports", data={"kind": "creators"}, files=files, headers=HTML)
    assert refused.status_code == 403
    started = client.post(
        "/imports",
        data={"kind": "creators", "csrf_token": csrf},
        files=files,
        follow_redirects=False,
    )
    assert started.status_code == 303
    job_page = started.headers["location"]
    assert re.fullmatch(r"/imports/[0-9a-f]{32}", job_page)
    client.app.state.jobs.wait(timeout=60)
    status = client.get(job_page + "/status").json()
    assert status["status"] == "succeeded", status
    assert status["progress"] == 1.0
    shown = client.get(job_page, headers=HTML).text
    assert "succeeded" in shown and "creators.csv" in shown
    assert "creators.csv" in client.get("/imports", headers=HTML).text
    found = client.get("/creators?q=paged", headers=HTML).text
    assert "Zoe Paged" in found and "Yan Paged" in found
    # A bad kind or a missing follower account is a clear error.
    bad = client.post(
        "/imports",
        data={"kind": "followers", "csrf_token": csrf},
        files=files,
        headers=HTML,
    )
    assert bad.status_code == 422 and "account" in bad.text


def test_viewer_sees_no_write_controls_and_cannot_post(site: tuple[TestClient, Tenant]) -> None:
    client, _ = site
    csrf = sign_in(client, "viewer@a.io")
    imports = client.get("/imports", headers=HTML).text
    assert 'action="/imports"' not in imports and "viewer role" in imports
    assert "Import a file" not in client.get("/creators", headers=HTML).text
    assert 'href="/settings"' not in client.get("/creators", headers=HTML).text
    files = {"file": ("creators.csv", CREATORS_CSV.encode(), "text/csv")}
    posted = client.post(
        "/imports", data={"kind": "creators", "csrf_token": csrf}, files=files, headers=HTML
    )
    assert posted.status_code == 403
    assert "may not change data" in posted.text
    assert client.get("/settings", headers=HTML).status_code == 403
    for path, data in (
        ("/settings/api-keys", {"name": "x"}),
        ("/settings/invitations", {"email": "new@a.io", "role": "owner"}),
    ):
        assert client.post(path, data={**data, "csrf_token": csrf}).status_code == 403
    assert "Paged" not in client.get("/creators?q=paged", headers=HTML).text


def test_member_cannot_manage_settings(site: tuple[TestClient, Tenant]) -> None:
    client, _ = site
    csrf = sign_in(client, "member@a.io")
    assert client.get("/settings", headers=HTML).status_code == 403
    made = client.post("/settings/api-keys", data={"name": "x", "csrf_token": csrf})
    assert made.status_code == 403


def test_settings_members_and_api_keys(site: tuple[TestClient, Tenant]) -> None:
    client, _ = site
    csrf = sign_in(client, "owner@a.io")
    page = client.get("/settings", headers=HTML).text
    assert "member@a.io" in page and "viewer@a.io" in page
    # A key is shown once: on the answer to its creation, never on the settings page after.
    made = client.post(
        "/settings/api-keys", data={"name": "etl", "role": "viewer", "csrf_token": csrf}
    )
    assert made.status_code == 200
    secret = re.search(r'id="new-api-key">(mfk_[a-z0-9]{8}_[^<]+)<', made.text).group(1)
    assert (
        client.get("/api/v1/workspace", headers={"Authorization": f"Bearer {secret}"}).json()[
            "role"
        ]
        == "viewer"
    )
    later = client.get("/settings", headers=HTML).text
    assert secret not in later and secret[:12] in later
    key_id = re.search(
        r'action="/settings/api-keys/(\d+)/revoke"[^>]*data-confirm="Revoke “etl”', later
    )
    assert key_id
    assert client.post(f"/settings/api-keys/{key_id.group(1)}/revoke").status_code == 403  # CSRF
    revoked = client.post(
        f"/settings/api-keys/{key_id.group(1)}/revoke",
        data={"csrf_token": csrf},
        follow_redirects=False,
    )
    assert revoked.status_code == 303
    assert (
        client.get("/api/v1/workspace", headers={"Authorization": f"Bearer {secret}"}).status_code
        == 401
    )

    # Members: invite a new user (the link is shown once), they accept with a first password;
    # change their role, remove them.
    invited = client.post(
        "/settings/invitations",
        data={"email": "new@a.io", "role": "viewer", "csrf_token": csrf},
        headers=HTML,
    )
    assert invited.status_code == 200
    link = re.search(
        r'id="new-invitation">(http://testserver/invitations/mfi_[^<]+)<', invited.text
    )
    assert link, invited.text
    path = link.group(1).removeprefix("http://testserver")
    assert path not in client.get("/settings", headers=HTML).text  # shown once
    newcomer = TestClient(client.app)  # another browser (the lifespan is the outer client's)
    offer = newcomer.get(path, headers=HTML)
    assert offer.status_code == 200 and "new@a.io" in offer.text and "viewer" in offer.text
    short = newcomer.post(
        path + "/accept",
        data={"password": "short", "password_confirm": "short", "csrf_token": csrf_of(offer.text)},
        headers=HTML,
    )
    assert short.status_code == 422 and "at least 8" in short.text
    joined = newcomer.post(
        path + "/accept",
        data={
            "password": "a long first password",
            "password_confirm": "a long first password",
            "csrf_token": csrf_of(offer.text),
        },
        follow_redirects=False,
    )
    assert joined.status_code == 303 and joined.headers["location"] == "/creators"
    assert "new@a.io" in newcomer.get("/creators", headers=HTML).text  # signed in
    page = client.get("/settings", headers=HTML).text
    user_id = re.search(
        r'action="/settings/members/(\d+)/role"[^>]*>\s*<input[^>]*>\s*'
        r'<select name="role" aria-label="role of new@a.io"',
        page,
    )
    assert user_id, page
    uid = user_id.group(1)
    changed = client.post(
        f"/settings/members/{uid}/role", data={"role": "member", "csrf_token": csrf}
    )
    assert changed.status_code == 200  # followed the redirect back to the settings page
    other = TestClient(client.app)  # another browser (the lifespan is the outer client's)
    sign_in(other, "new@a.io", "a long first password")
    assert "Import a file" in other.get("/creators", headers=HTML).text  # now a member
    removed = client.post(
        f"/settings/members/{uid}/remove", data={"csrf_token": csrf}, follow_redirects=False
    )
    assert removed.status_code == 303
    assert "new@a.io" not in client.get("/settings", headers=HTML).text
    # The last owner cannot be demoted or removed.
    owner_id = re.search(
        r'action="/settings/members/(\d+)/remove"[^>]*data-confirm="Remove owner@a.io', page
    ).group(1)
    last = client.post(
        f"/settings/members/{owner_id}/role",
        data={"role": "viewer", "csrf_token": csrf},
        headers=HTML,
    )
    assert last.status_code == 409 and "at least one owner" in last.text


def test_workspace_switcher(site: tuple[TestClient, Tenant], store_url: str) -> None:
    client, _ = site
    store = open_store(store_url)
    make_tenant(store, "beta")
    from microfluence.access.users import get_user, set_membership
    from microfluence.kernel.workspaces import get_workspace

    with store.transaction() as session:
        set_membership(
            session,
            user=get_user(session, "viewer@a.io"),
            workspace=get_workspace(session, "beta"),
            role="owner",
        )
    store.dispose()
    csrf = sign_in(client, "viewer@a.io")
    page = client.get("/creators", headers=HTML).text
    assert 'action="/auth/workspace"' in page and "beta (owner)" in page
    assert "alpha Ana" in page and "beta Ana" not in page
    listed = client.get("/workspaces", headers=HTML).text
    assert "alpha" in listed and "beta" in listed
    switched = client.post(
        "/auth/workspace", data={"workspace": "beta", "next": "/creators", "csrf_token": csrf}
    )
    assert switched.status_code == 200
    assert "beta Ana" in switched.text and "alpha Ana" not in switched.text
    assert 'href="/settings"' in switched.text  # owner in beta
    # A workspace they do not belong to: the same 404 as one that does not exist.
    refused = client.post(
        "/auth/workspace", data={"workspace": "gamma", "csrf_token": csrf}, headers=HTML
    )
    assert refused.status_code == 404


def test_static_files_and_error_pages(site: tuple[TestClient, Tenant]) -> None:
    client, _ = site
    plotly = client.get("/static/plotly.min.js")
    assert plotly.status_code == 200 and plotly.headers["content-type"].startswith(
        "text/javascript"
    )
    assert len(plotly.content) > 1_000_000  # the whole bundle, served from the plotly package
    assert client.get("/static/app.css").status_code == 200
    assert client.get("/static/app.js").status_code == 200
    for bad in ("/static/../pyproject.toml", "/static/%2e%2e%2fMakefile", "/static/nope.css"):
        assert client.get(bad).status_code == 404
    sign_in(client, "viewer@a.io")
    missing = client.get("/creators/987654", headers=HTML)
    assert missing.status_code == 404 and "text/html" in missing.headers["content-type"]
    assert "no creator with id 987654" in missing.text and "viewer@a.io" in missing.text
    assert client.get("/creators/987654").json()["code"] == "not_found"
    assert client.get("/no/such/page", headers=HTML).status_code == 404


def test_untrusted_text_is_escaped(site: tuple[TestClient, Tenant]) -> None:
    client, tenant = site
    made = client.post(
        "/api/v1/creators",
        json={"name": "<script>alert(1)</script>", "category": '"><img src=x>'},
        headers=tenant.auth("member"),
    )
    assert made.status_code == 201, made.text
    sign_in(client, "viewer@a.io")
    for path in ("/creators?q=alert", f"/creators/{made.json()['id']}"):
        page = client.get(path, headers=HTML).text
        assert "<script>alert(1)</script>" not in page and "<img src=x>" not in page
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page


def test_vetting_page_shows_the_fake_share_interval_and_model_accuracy(
    site: tuple[TestClient, Tenant], store_url: str
) -> None:
    client, tenant = site
    account = tenant.account_ids[0]
    n, fakes = 60, 12
    store = open_store(store_url)
    with import_run(store, "alpha", "test", "fixture") as writer:
        writer.followers(
            pl.DataFrame(
                {
                    "account_id": [account] * n,
                    "username": [f"follower.{i}" for i in range(n)],
                    "posts_count": [120] * (n - fakes) + [0] * fakes,
                    "followers": [340] * (n - fakes) + [3] * fakes,
                    "following": [290] * (n - fakes) + [4_500] * fakes,
                    "has_profile_pic": [True] * (n - fakes) + [False] * fakes,
                    "is_private": [False] * n,
                }
            )
        )
    store.dispose()
    sign_in(client, "viewer@a.io")
    page = client.get(f"/accounts/{account}/vetting", headers=HTML).text
    assert "95 % interval" in page and "sample of 60 followers" in page
    assert "Follower model measured on public labelled data: ROC AUC" in page
    assert 'id="vet-fake-share"' in page
