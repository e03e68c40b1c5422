"""The connections page in a real browser (Debian's Chromium, headless, via Playwright) against
the real app on 127.0.0.1 and the platforms' stand-in: an owner saves a YouTube key (shown
masked, never in the page), fetches two handles (one has no channel), refreshes, and follows
the run to its end."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from api_support import PASSWORD, make_user, serve
from connectors_support import API_KEY, platform_server, point_at, sample_platforms
from microfluence.kernel.store import open_store
from microfluence.web.app import create_app

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("browser")]

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--no-first-run"]
SHOTS = Path(__file__).resolve().parents[1] / "test-artifacts" / "screenshots"


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    if not os.access(CHROMIUM, os.X_OK):
        pytest.skip("Debian's chromium is not installed (make system-deps installs it)")
    url = f"sqlite:///{tmp_path_factory.mktemp('connections-browser') / 'store.sqlite'}"
    store = open_store(url)
    make_user(store, "owner@acme.example", "acme", "owner")
    store.dispose()
    with (
        pytest.MonkeyPatch.context() as patch,
        platform_server(sample_platforms()) as platforms,
        serve(create_app(url)) as base,
    ):
        point_at(patch, platforms)
        yield base


def test_save_a_key_fetch_and_refresh(site: str) -> None:
    from playwright.sync_api import sync_playwright

    errors: list[str] = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=ARGS)
        page = browser.new_page(viewport={"width": 1280, "height": 900})
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
        page.goto(site + "/connections")
        page.fill("input[name=email]", "owner@acme.example")
        page.fill("input[name=password]", PASSWORD)
        page.click("form[action='/auth/sign-in'] button[type=submit]")
        page.goto(site + "/connections")
        page.fill("#youtube-form input[name=secret]", API_KEY)
        page.fill("#youtube-form input[name=daily_budget]", "500")
        page.click("#youtube-form button[type=submit]")
        page.wait_for_url("**/connections")
        row = page.locator("tr[data-platform=youtube]")
        assert "AIza…ijkl" in row.inner_text() and "0 of 500 units" in row.inner_text()
        assert API_KEY not in page.content()
        page.select_option("#fetch-form select[name=platform]", "youtube")
        page.fill("#fetch-form textarea[name=handles]", "@bakerann, @nobody")
        page.click("#fetch-form button[type=submit]")
        outcome = page.locator("#fetch-outcome").inner_text()
        assert "Fetched 1 youtube account(s), 5 quota units" in outcome
        assert "@nobody: no YouTube channel" in outcome
        assert "5 of 500 units" in page.locator("tr[data-platform=youtube]").inner_text()
        page.click("#refresh-form button[type=submit]")
        page.wait_for_url("**/jobs/*")
        page.wait_for_function(
            "() => /succeeded|failed/.test(document.body.innerText)", timeout=60_000
        )
        assert "succeeded" in page.inner_text("body")
        page.goto(site + "/connections")
        runs = page.locator("table.refresh-runs").inner_text()
        assert "succeeded" in runs and "1 done, 0 failed of 1" in runs
        SHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SHOTS / "connections.png"), full_page=True)
        page.click("table.refresh-runs a")
        assert "UC" + "a" * 22 in page.locator("table.refresh-items").inner_text()
        browser.close()
    assert errors == []
