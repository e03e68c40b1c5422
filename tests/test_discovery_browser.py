"""The search in a real browser (Chromium through Playwright, the app served by uvicorn on
127.0.0.1): search, narrow by a facet and a filter, open a result, add it to a shortlist — with
the page's CSP in force and no script error."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

from api_support import PASSWORD, make_tenant, make_user, serve
from microfluence.discovery.shortlists import create_shortlist, get_shortlist
from microfluence.kernel.store import open_store
from microfluence.web.app import create_app
from test_pages_browser import ARGS, CHROMIUM, LAPTOP

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("browser")]


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, str, int, int]]:
    if not os.access(CHROMIUM, os.X_OK):
        pytest.skip("Debian's chromium is not installed (make system-deps installs it)")
    url = f"sqlite:///{tmp_path_factory.mktemp('search-browser') / 'store.sqlite'}"
    store = open_store(url)
    tenant = make_tenant(store, "brand", prefix="alpha")
    make_user(store, "m@brand.example", "brand", "member")
    with store.transaction() as session:
        shortlist = create_shortlist(session, tenant.workspace_id, "Beauty picks").id
    store.dispose()
    with serve(create_app(url)) as base:
        yield base, url, tenant.workspace_id, shortlist


def test_search_filter_open_and_shortlist_in_the_browser(served) -> None:
    from playwright.sync_api import expect, sync_playwright

    base, url, workspace_id, shortlist = served
    errors: list[str] = []
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=ARGS)
        page = chromium.new_context(viewport=LAPTOP).new_page()
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
        page.goto(base + "/search")
        page.fill("input[name=email]", "m@brand.example")
        page.fill("input[name=password]", PASSWORD)
        page.click("form[action='/auth/sign-in'] button[type=submit]")
        page.wait_for_url("**/search")
        assert page.locator("nav a[href='/search'][aria-current=page]").count() == 1
        # Words: the bios say "lipstick and skincare" and "short beauty clips".
        page.fill("#search-form input[name=q]", "lipstick beauty")
        page.click("#search-button")
        expect(page.locator("article.result")).to_have_count(2)
        assert "bio: lipstick" in page.inner_text("article.result >> nth=0")
        # A facet (country FR), then a filter (followers at most 10,000).
        page.click("a[data-facet=country]:has-text('FR')")
        page.wait_for_url("**country=FR**")
        page.fill("#search-form input[name=max_followers]", "10000")
        page.click("#search-button")
        page.wait_for_url("**max_followers=10000**")
        assert page.locator("article.result").count() == 1
        card = page.locator("article.result").first
        assert "instagram:alpha_ana" in card.inner_text()
        # Add it to the shortlist, with a note; back on the same results.
        card.locator("input[name=note]").fill("great skin-care reviews")
        card.locator("button:has-text('Add to shortlist')").click()
        page.wait_for_url("**/search?**")
        # Open the result: its creator's profile.
        page.locator("article.result a.strong").first.click()
        page.wait_for_url("**/creators/*")
        assert "alpha Ana" in page.inner_text("h1")
        page.goto(f"{base}/shortlists/{shortlist}")
        assert "great skin-care reviews" in page.content()
        chromium.close()
    assert errors == []
    store = open_store(url)
    with store.session() as session:
        items = get_shortlist(session, workspace_id, shortlist).items
    store.dispose()
    assert [(e.handle, e.note) for e in items] == [("alpha_ana", "great skin-care reviews")]
