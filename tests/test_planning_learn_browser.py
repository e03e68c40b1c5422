"""The test-and-learn page in a real browser (Chromium through Playwright, the app on uvicorn on
127.0.0.1): from a campaign's page to its test-and-learn page, the ranked charts drawn by
plotly.js under the pages' CSP, and a new budget proposed through the form."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

from api_support import PASSWORD, make_user, serve
from measurement_support import crafted
from microfluence.kernel.store import open_store
from microfluence.web.app import create_app
from test_pages_browser import ARGS, CHROMIUM, LAPTOP, _shot

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("browser")]


@pytest.fixture
def site(tmp_path) -> Iterator[tuple[str, int]]:  # type: ignore[no-untyped-def]
    if not os.access(CHROMIUM, os.X_OK):
        pytest.skip("Debian's chromium is not installed (make system-deps installs it)")
    url = f"sqlite:///{tmp_path / 'store.sqlite'}"
    store = open_store(url)
    world = crafted(store)
    make_user(store, "v@acme.example", "acme", "viewer")
    store.dispose()
    with serve(create_app(url)) as base:
        yield base, world.brand.campaign_id


def test_from_the_campaign_to_its_test_and_learn_page(site) -> None:  # type: ignore[no-untyped-def]
    from playwright.sync_api import sync_playwright

    base, campaign_id = site
    errors: list[str] = []
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=ARGS)
        try:
            page = chromium.new_context(viewport=LAPTOP).new_page()
            page.on("pageerror", lambda exc: errors.append(str(exc)))
            page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
            page.goto(f"{base}/campaigns/{campaign_id}")
            page.fill("input[name=email]", "v@acme.example")
            page.fill("input[name=password]", PASSWORD)
            page.click("form[action='/auth/sign-in'] button[type=submit]")
            page.wait_for_url(f"**/campaigns/{campaign_id}")
            page.click("#learn-link")  # a viewer reads it
            page.wait_for_url(f"**/campaigns/{campaign_id}/learn")
            page.wait_for_function("document.querySelectorAll('.js-plotly-plot').length === 2")
            chart = page.inner_text("#chart-revenue-per-click")
            assert "Revenue per click" in chart and "Sarah" in chart
            first = page.inner_text("#learn-table tbody tr")
            assert "sarah_k" in first and "not enough data" in first
            page.fill("#learn-options input[name=budget]", "1000")
            page.fill("#learn-options input[name=explore]", "0.5")
            page.click("#learn-options button")
            page.wait_for_url("**/learn?budget=1000*")
            assert "1,000.00" in page.inner_text("#next-round h2")
            assert "50 %" in page.inner_text("#next-round")
            _shot(page, "campaign-learn")
        finally:
            chromium.close()
    assert errors == []
