"""The search and shortlists pages: results with why, facets, paging, adding to a shortlist,
notes, CSV, "add all to campaign"; viewers read, members change."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from api_support import make_tenant, make_user
from microfluence.campaigns.campaigns import create_campaign
from microfluence.campaigns.schemas import CampaignCreate
from microfluence.kernel.store import open_store
from microfluence.web.app import create_app
from pages_support import HTML, sign_in


@pytest.fixture
def site(store_url: str) -> Iterator[tuple[TestClient, TestClient, object, int]]:
    store = open_store(store_url)
    tenant = make_tenant(store, "alpha")
    make_user(store, "m@a.io", "alpha", "member")
    make_user(store, "v@a.io", "alpha", "viewer")
    with store.transaction() as session:
        campaign = create_campaign(session, tenant.workspace_id, CampaignCreate(name="Spring")).id
    store.dispose()
    app = create_app(store_url)
    with TestClient(app) as member, TestClient(app) as viewer:
        yield member, viewer, tenant, campaign


def test_search_page_shows_why_facets_and_filters(site):
    member, _viewer, tenant, _campaign = site
    sign_in(member, "m@a.io")
    page = member.get("/search", params={"q": "lipstick"}, headers=HTML)
    assert page.status_code == 200, page.text
    assert "instagram:alpha_ana" in page.text
    assert "bio: lipstick" in page.text and "relevance" in page.text
    assert 'data-facet="country"' in page.text
    narrowed = member.get("/search", params={"country": "de", "min_er_pct": ""}, headers=HTML)
    assert "alpha_bo" in narrowed.text and "alpha_ana" not in narrowed.text
    bad = member.get("/search", params={"min_followers": "lots"}, headers=HTML)
    assert bad.status_code == 422 and "min_followers" in bad.text


def test_member_adds_from_search_notes_exports_and_sends_to_a_campaign(site):
    member, _viewer, tenant, campaign = site
    csrf = sign_in(member, "m@a.io")
    made = member.post(
        "/shortlists", data={"csrf_token": csrf, "name": "Beauty"}, follow_redirects=False
    )
    assert made.status_code == 303
    list_path = made.headers["location"]
    list_id = int(list_path.rsplit("/", 1)[1])
    page = member.get("/search", params={"q": "lipstick"}, headers=HTML)
    assert "Add to shortlist" in page.text
    added = member.post(
        "/search/add",
        data={
            "csrf_token": csrf,
            "shortlist_id": str(list_id),
            "account_id": str(tenant.account_ids[0]),
            "note": "=cmd()",
            "next": "https://evil.example/",
        },
        follow_redirects=False,
    )
    assert added.status_code == 303 and added.headers["location"] == list_path
    shown = member.get(list_path, headers=HTML)
    assert "alpha Ana" in shown.text and 'value="=cmd()"' in shown.text
    csv = member.get(f"{list_path}/export.csv")
    assert csv.headers["content-type"].startswith("text/csv") and "'=cmd()" in csv.text
    member.post(
        f"{list_path}/note/{tenant.creator_ids[0]}", data={"csrf_token": csrf, "note": "call"}
    )
    assert 'value="call"' in member.get(list_path, headers=HTML).text
    sent = member.post(
        f"{list_path}/to-campaign",
        data={"csrf_token": csrf, "campaign_id": str(campaign)},
        follow_redirects=False,
    )
    assert sent.status_code == 303
    assert "alpha Ana" in member.get(sent.headers["location"], headers=HTML).text
    member.post(f"{list_path}/remove/{tenant.creator_ids[0]}", data={"csrf_token": csrf})
    assert "alpha Ana" not in member.get(list_path, headers=HTML).text
    member.post(f"{list_path}/delete", data={"csrf_token": csrf})
    assert member.get(list_path, headers=HTML).status_code == 404


def test_viewers_read_but_cannot_change(site):
    member, viewer, tenant, _campaign = site
    csrf = sign_in(member, "m@a.io")
    made = member.post(
        "/shortlists", data={"csrf_token": csrf, "name": "L"}, follow_redirects=False
    )
    list_path = made.headers["location"]
    vcsrf = sign_in(viewer, "v@a.io")
    assert "Add to shortlist" not in viewer.get("/search", headers=HTML).text
    assert viewer.get(list_path, headers=HTML).status_code == 200
    for path, data in (
        ("/shortlists", {"name": "mine"}),
        ("/search/add", {"shortlist_id": list_path.rsplit("/", 1)[1], "account_id": "1"}),
        (f"{list_path}/delete", {}),
    ):
        answer = viewer.post(path, data={"csrf_token": vcsrf, **data}, follow_redirects=False)
        assert answer.status_code == 403, path
