"""The links pages: a creator's links on their profile (made and disabled there, with their
counts) and the /links list by campaign."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from api_support import make_tenant, make_user
from microfluence.campaigns.tables import Campaign
from microfluence.kernel.store import Store
from microfluence.tracking import links
from microfluence.web.app import create_app
from pages_support import HTML, csrf_of, sign_in

CHROME = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 Chrome/124.0 Safari/537.36"


@pytest.fixture
def signed_in(store: Store, store_url: str, tmp_path, monkeypatch) -> Iterator[tuple]:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("MICROFLUENCE_CLICK_LOG_DIR", str(tmp_path / "clicks"))
    monkeypatch.setenv("MICROFLUENCE_LINK_CACHE_SECONDS", "0")
    tenant = make_tenant(store, "brand", prefix="brand")
    make_user(store, "m@brand.io", "brand", "member")
    make_user(store, "v@brand.io", "brand", "viewer")
    with store.transaction() as session:
        session.add(Campaign(workspace_id=tenant.workspace_id, name="Summer Drop"))
    app = create_app(store_url)
    with TestClient(app) as client:
        csrf = sign_in(client, "m@brand.io")
        yield client, tenant, csrf, app


def test_create_count_and_disable_on_the_profile(signed_in, store: Store) -> None:  # type: ignore[no-untyped-def]
    client, tenant, csrf, app = signed_in
    creator = tenant.creator_ids[0]
    profile = client.get(f"/creators/{creator}", headers=HTML)
    assert profile.status_code == 200 and 'id="links"' in profile.text
    assert "No tracking link yet" in profile.text
    made = client.post(
        f"/creators/{creator}/links",
        data={
            "csrf_token": csrf_of(profile.text),
            "account": "tiktok:brand_ana_tt",
            "url": "https://shop.example/p",
            "campaign": "Summer Drop",
        },
        follow_redirects=False,
    )
    assert made.status_code == 303 and made.headers["location"] == f"/creators/{creator}#links"
    with store.transaction() as session:
        (link,) = links.list_links(session, tenant.workspace_id)
    assert link.utm["campaign"] == "summer-drop" and link.utm["source"] == "tiktok"
    for agent in (CHROME, CHROME, "Slackbot-LinkExpanding 1.0"):
        assert (
            client.get(
                f"/r/{link.slug}", headers={"User-Agent": agent}, follow_redirects=False
            ).status_code
            == 302
        )
    app.state.clicks.move_now()
    profile = client.get(f"/creators/{creator}", headers=HTML).text
    row = profile.split(f'data-slug="{link.slug}"', 1)[1].split("</tr>", 1)[0]
    assert 'data-label="Clicks" class="num">2<' in row
    assert 'data-label="Unique" class="num">1<' in row
    assert 'data-label="Bots" class="num">1<' in row
    bad = client.post(
        f"/creators/{creator}/links",
        data={"csrf_token": csrf, "account": "tiktok:brand_ana_tt", "url": "ftp://nope"},
        headers=HTML,
        follow_redirects=False,
    )
    assert bad.status_code == 422 and "url" in bad.text
    off = client.post(
        f"/links/{link.id}/disable", data={"csrf_token": csrf}, follow_redirects=False
    )
    assert off.status_code == 303
    assert client.get(f"/r/{link.slug}", follow_redirects=False).status_code == 404
    listed = client.get(f"/links?campaign_id={link.campaign_id}", headers=HTML).text
    assert link.slug in listed and "disabled" in listed


def test_viewers_see_links_but_no_forms(signed_in, store: Store) -> None:  # type: ignore[no-untyped-def]
    client, tenant, _csrf, _app = signed_in
    with store.transaction() as session:
        link = links.create_link(
            session,
            tenant.workspace_id,
            links.LinkCreate(creator="instagram:brand_ana", url="https://s.example/"),
        )
    client.post("/auth/sign-out", data={"csrf_token": _csrf})
    viewer = TestClient(client.app)
    csrf = sign_in(viewer, "v@brand.io")
    page = viewer.get(f"/creators/{tenant.creator_ids[0]}", headers=HTML).text
    assert link.slug in page and "Create link" not in page and "Disable" not in page
    refused = viewer.post(
        f"/links/{link.id}/disable", data={"csrf_token": csrf}, follow_redirects=False
    )
    assert refused.status_code == 403
