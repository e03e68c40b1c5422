"""The planner page in a real browser (Chromium, the app served by uvicorn on 127.0.0.1): the
budget slider moves the budget, a plan shows its chosen set, the alternatives and the charts,
and a member turns it into a campaign's deals — with the page's CSP in force, no script error."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

from api_support import PASSWORD, make_user, serve
from microfluence.kernel.store import open_store
from microfluence.web.app import create_app
from planning_support import make_plan_world
from test_pages_browser import ARGS, CHROMIUM, LAPTOP

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("browser")]


@pytest.fixture(scope="module")
def base(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    if not os.access(CHROMIUM, os.X_OK):
        pytest.skip("Debian's chromium is not installed (make system-deps installs it)")
    url = f"sqlite:///{tmp_path_factory.mktemp('planner-browser') / 'store.sqlite'}"
    store = open_store(url)
    make_plan_world(store, "brand")
    make_user(store, "m@brand.example", "brand", "member")
    store.dispose()
    with serve(create_app(url)) as served:
        yield served


def test_plan_and_turn_it_into_deals_in_the_browser(base: str) -> None:
    from playwright.sync_api import sync_playwright

    errors: list[str] = []
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=ARGS)
        page = chromium.new_context(viewport=LAPTOP).new_page()
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
        page.goto(base + "/planner")
        page.fill("input[name=email]", "m@brand.example")
        page.fill("input[name=password]", PASSWORD)
        page.click("form[action='/auth/sign-in'] button[type=submit]")
        page.wait_for_url("**/planner")
        assert page.locator("nav a[href='/planner'][aria-current=page]").count() == 1
        page.locator("#budget-slider").fill("3000")
        assert page.input_value("#budget") == "3000"
        page.select_option("select[name=objective]", "clicks")
        page.fill("input[name=countries]", "FR=2:")
        page.click("#plan-form button[type=submit]")
        page.wait_for_selector("#chosen-table")
        assert "budget=3000" in page.url
        rows = page.locator("#chosen-table tbody tr")
        assert rows.count() >= 2
        assert page.locator("#alternatives tbody tr").count() == 3
        page.wait_for_selector("#plan-total .main-svg")  # plotly drew the chart
        page.fill("#to-deals input[name=campaign_name]", "Planned in the browser")
        page.click("#to-deals button[type=submit]")
        page.wait_for_url("**/campaigns/*")
        assert "Planned in the browser" in page.inner_text("h1")
        chromium.close()
    assert errors == []
