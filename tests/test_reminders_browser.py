"""Tasks and the home dashboard in a real browser (Chromium through Playwright, the app served by
uvicorn on 127.0.0.1): add a late task on a deal with the form, see it under Needs attention,
follow its link, mark it done and see the dashboard clear — with the CSP in force and no script
error."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

from api_support import PASSWORD, make_tenant, make_user, serve
from microfluence.campaigns.campaigns import create_campaign
from microfluence.campaigns.deals import add_deal
from microfluence.campaigns.schemas import CampaignCreate, DealCreate
from microfluence.kernel.store import open_store
from microfluence.web.app import create_app
from test_pages_browser import ARGS, CHROMIUM, LAPTOP

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("browser")]


@pytest.fixture(scope="module")
def base(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    if not os.access(CHROMIUM, os.X_OK):
        pytest.skip("Debian's chromium is not installed (make system-deps installs it)")
    url = f"sqlite:///{tmp_path_factory.mktemp('reminders-browser') / 'store.sqlite'}"
    store = open_store(url)
    tenant = make_tenant(store, "brand", prefix="alpha")
    make_user(store, "m@brand.example", "brand", "member")
    with store.transaction() as session:
        cid = create_campaign(session, tenant.workspace_id, CampaignCreate(name="Autumn")).id
        add_deal(session, tenant.workspace_id, cid, DealCreate(creator="instagram:alpha_ana"))
    store.dispose()
    with serve(create_app(url)) as served:
        yield served


def test_a_late_task_on_the_dashboard_then_done(base: str) -> None:
    from playwright.sync_api import sync_playwright

    errors: list[str] = []
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=ARGS)
        page = chromium.new_context(viewport=LAPTOP).new_page()
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
        page.on("dialog", lambda dialog: dialog.accept())
        page.goto(base + "/tasks")
        page.fill("input[name=email]", "m@brand.example")
        page.fill("input[name=password]", PASSWORD)
        page.click("form[action='/auth/sign-in'] button[type=submit]")
        page.wait_for_url("**/tasks")
        assert page.locator("nav a[href='/tasks'][aria-current=page]").count() == 1
        page.fill("#new-task input[name=title]", "Send Ana the brief")
        page.select_option("#new-task select[name=kind]", "follow_up")
        page.fill("#new-task input[name=due_on]", "2020-01-01")
        page.select_option("#new-task select[name=deal_id]", label="Autumn · alpha Ana")
        page.click("#new-task button[type=submit]")
        page.wait_for_selector(".tasks-table td[data-label=Task]")
        row = page.locator(".tasks-table tbody tr").first
        assert "Send Ana the brief" in row.inner_text() and "days late" in row.inner_text()

        page.click("a.brand")  # the home dashboard
        page.wait_for_selector("#needs-attention")
        attention = page.inner_text("#needs-attention")
        assert "Tasks: 1" in attention and "1 overdue" in attention
        assert "Send Ana the brief" in attention and "alpha Ana" in attention
        page.click("#needs-attention a:has-text('Send Ana the brief')")
        page.wait_for_url("**/tasks#task-*")
        page.click(".tasks-table button:has-text('Done')")
        page.wait_for_selector("p.empty")
        page.goto(base + "/")
        assert "Nothing needs attention today" in page.inner_text("#needs-attention")
        chromium.close()
    assert errors == []
