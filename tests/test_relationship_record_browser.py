"""The relationship page in a real browser (Chromium through Playwright, the app served by
uvicorn on 127.0.0.1): the ROI chart is drawn, the record form saves, erasure asks first —
with the page's CSP in force and no script error."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

from api_support import PASSWORD, make_user, serve
from measurement_support import crafted
from microfluence.kernel.store import open_store
from microfluence.web.app import create_app
from test_pages_browser import ARGS, CHROMIUM, LAPTOP

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("browser")]


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, int]]:
    if not os.access(CHROMIUM, os.X_OK):
        pytest.skip("Debian's chromium is not installed (make system-deps installs it)")
    url = f"sqlite:///{tmp_path_factory.mktemp('relationship-browser') / 'store.sqlite'}"
    store = open_store(url)
    sarah = crafted(store).brand.creators["sarah"]
    make_user(store, "o@acme.example", "acme", "owner")
    store.dispose()
    with serve(create_app(url)) as base:
        yield base, sarah


def test_keep_and_erase_a_relationship_in_the_browser(served: tuple[str, int]) -> None:
    from playwright.sync_api import sync_playwright

    base, sarah = served
    errors: list[str] = []
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=ARGS)
        page = chromium.new_context(viewport=LAPTOP).new_page()
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
        page.on("dialog", lambda dialog: dialog.accept())
        page.goto(f"{base}/creators/{sarah}")
        page.fill("input[name=email]", "o@acme.example")
        page.fill("input[name=password]", PASSWORD)
        page.click("form[action='/auth/sign-in'] button[type=submit]")
        page.wait_for_url(f"**/creators/{sarah}")
        page.click("a:has-text('Relationship')")
        page.wait_for_url(f"**/creators/{sarah}/relationship")
        page.wait_for_selector("#roi-per-deal .main-svg")  # plotly drew the chart
        assert "spring" in page.inner_text("#deal-history")
        page.click("summary:has-text('Edit the record')")
        page.fill("#record-form input[name=email]", "sarah@example.com")
        page.fill("#record-form input[name=tags]", "#Summer Gifting, vegan")
        page.select_option("#record-form select[name=rating]", "5")
        page.click("#record-form button[type=submit]")
        page.wait_for_selector(".pill.tag")
        assert page.locator(".pill.tag").all_inner_texts() == ["summer-gifting", "vegan"]
        assert "sarah@example.com" in page.inner_text("#record")
        assert "change" in page.inner_text("#contact-audit")
        page.fill("#privacy input[name=reason]", "her request")
        page.click("#privacy button:has-text('Erase personal data')")
        page.wait_for_selector("text=personal data erased")
        assert f"erased creator #{sarah}" in page.inner_text("h1")
        assert "sarah@example.com" not in page.content()
        chromium.close()
    assert errors == []
