"""A creator connects their Instagram account from the creator portal in a real browser
(Chromium through Playwright; the app and the stand-in platforms served by uvicorn on
127.0.0.1): the portal's button, the platform's consent (the stand-in answers at once), back to
the portal with the account connected — the portal's CSP letting the form lead to the platform —
then Disconnect, revoked at the platform; no script error."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

from api_support import free_port, make_tenant, serve
from microfluence.campaigns.campaigns import create_campaign
from microfluence.campaigns.deals import add_deal
from microfluence.campaigns.schemas import CampaignCreate, DealCreate
from microfluence.connectors.oauth import apps
from microfluence.connectors.oauth.platforms import PLATFORMS
from microfluence.kernel.store import open_store
from microfluence.relationships.portal import create_portal_link
from microfluence.web.app import create_app
from oauth_standin import CLIENTS, Standin, make_app
from test_pages_browser import ARGS, CHROMIUM, LAPTOP

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("browser")]


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Standin]]:
    if not os.access(CHROMIUM, os.X_OK):
        pytest.skip("Debian's chromium is not installed (make system-deps installs it)")
    s = Standin(secrets={CLIENTS["instagram"]: "meta-secret-" + "x" * 20})
    with serve(make_app(s)) as platform_url, pytest.MonkeyPatch.context() as patch:
        patch.setenv("MICROFLUENCE_OAUTH_API_BASE", platform_url)
        url = f"sqlite:///{tmp_path_factory.mktemp('oauth-browser') / 'store.sqlite'}"
        store = open_store(url)
        tenant = make_tenant(store, "brand", prefix="alpha")
        with store.transaction() as db:
            ws = tenant.workspace_id
            apps.set_app(
                db,
                ws,
                "instagram",
                client_id=CLIENTS["instagram"],
                client_secret="meta-secret-" + "x" * 20,
            )
            cid = create_campaign(db, ws, CampaignCreate(name="Winter glow")).id
            deal = add_deal(db, ws, cid, DealCreate(creator="instagram:alpha_ana"))
            token = create_portal_link(db, ws, deal.id, created_by="test").url.rsplit("/", 1)[1]
        store.dispose()
        port = free_port()
        s.redirects = {f"http://127.0.0.1:{port}/connect/callback/{p}" for p in PLATFORMS}
        with serve(create_app(url), port=port) as root:
            yield f"{root}/portal/{token}", s


def test_a_creator_connects_and_disconnects_from_the_portal(served: tuple[str, Standin]) -> None:
    from playwright.sync_api import sync_playwright

    portal, standin = served
    errors: list[str] = []
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=ARGS)
        page = chromium.new_context(viewport=LAPTOP).new_page()
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
        page.goto(portal)
        assert "Connect your account" in page.inner_text("#connect")
        page.click("#connect-instagram")
        page.wait_for_url("**/portal/*?done=connected*")
        assert "Your account is connected" in page.inner_text("p.notice")
        assert "@alpha_ana" in page.inner_text("#connect") and "connected" in page.inner_text(
            "#connect"
        )
        page.click("#connect form[action*='/disconnect/'] button")
        page.wait_for_url("**/portal/*?done=disconnected*")
        assert "disconnected" in page.inner_text("p.notice")
        assert "revoked" in page.inner_text("#connect")
        chromium.close()
    assert standin.revoked == ["instagram"]
    assert errors == []
