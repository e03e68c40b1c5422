"""The campaign pages in a real browser (Chromium through Playwright, the app served by uvicorn
on 127.0.0.1): create a campaign, add a creator with a deal, match, confirm and reject — with the
page's CSP in force and no script error."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

from api_support import PASSWORD, make_tenant, make_user, serve
from microfluence.kernel.store import open_store
from microfluence.web.app import create_app
from test_pages_browser import ARGS, CHROMIUM, LAPTOP, _shot

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("browser")]


@pytest.fixture(scope="module")
def base(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    if not os.access(CHROMIUM, os.X_OK):
        pytest.skip("Debian's chromium is not installed (make system-deps installs it)")
    url = f"sqlite:///{tmp_path_factory.mktemp('campaigns-browser') / 'store.sqlite'}"
    store = open_store(url)
    make_tenant(store, "brand", prefix="alpha")
    make_user(store, "m@brand.example", "brand", "member")
    store.dispose()
    with serve(create_app(url)) as served:
        yield served


def test_run_a_campaign_in_the_browser(base: str) -> None:
    from playwright.sync_api import expect, sync_playwright

    errors: list[str] = []
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=ARGS)
        page = chromium.new_context(viewport=LAPTOP).new_page()
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
        page.on("dialog", lambda dialog: dialog.accept())
        page.goto(base + "/campaigns")
        page.fill("input[name=email]", "m@brand.example")
        page.fill("input[name=password]", PASSWORD)
        page.click("form[action='/auth/sign-in'] button[type=submit]")
        page.wait_for_url("**/campaigns")  # back where the sign-in was asked for
        assert page.locator("nav a[href='/campaigns'][aria-current=page]").count() == 1
        page.fill("#new-campaign input[name=name]", "January push")
        page.fill("#new-campaign input[name=starts_on]", "2026-01-01")
        page.fill("#new-campaign input[name=ends_on]", "2026-01-31")
        page.fill("#new-campaign input[name=currency]", "eur")
        page.fill("#new-campaign input[name=hashtags]", "#ad")
        page.click("#new-campaign button[type=submit]")
        page.wait_for_url("**/campaigns/*")
        assert "January push" in page.inner_text("h1")
        page.fill("#add-deal input[name=creator]", "instagram:alpha_ana")
        page.fill("#add-deal input[name=flat_fee]", "250")
        page.fill("#add-deal input[name=package]", "feed_post=1 story=1")
        page.click("#add-deal button[type=submit]")
        page.wait_for_selector("#deals td[data-label=Account]")
        assert page.inner_text("#deals td[data-label=Account]") == "instagram:alpha_ana"
        page.click("#deliverables button:has-text('Match posts')")
        page.wait_for_selector("p.notice")
        assert "Matched 1 piece(s)" in page.inner_text("p.notice")
        assert "#ad in caption" in page.inner_text("#deliverables table")
        page.click("#deliverables button:has-text('Confirm')")
        page.wait_for_selector("#deliverables .piece-confirmed")
        _shot(page, "campaign")
        page.click("#deliverables button:has-text('Reject')")
        # The reject posts a form: until the new page is parsed, the old one (still confirmed) or
        # a half-parsed new one (no rows yet) may be in view, so wait for the end state itself.
        expect(page.locator("#deliverables .piece-pending")).to_have_count(2)
        expect(page.locator("#deliverables .piece-confirmed")).to_have_count(0)
        chromium.close()
    assert errors == []
