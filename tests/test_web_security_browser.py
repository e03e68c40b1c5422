"""The Content-Security-Policies in a real Chromium: the downloaded vetting report, opened from a
file, draws its charts with its own inline scripts and runs no other; the API docs render under
theirs. (The pages under theirs: tests/test_pages_browser.py, which fails on any console error.)"""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest
from sqlalchemy import update

from api_support import make_tenant, serve
from microfluence.authenticity.vetting.html import render_report_with_policy
from microfluence.authenticity.vetting.report import vet_account_id
from microfluence.kernel.store.tables import Account
from microfluence.web.app import create_app

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("browser")]

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--no-first-run"]


@pytest.fixture(scope="module")
def browser() -> Iterator:  # type: ignore[type-arg]
    if not os.access(CHROMIUM, os.X_OK):
        pytest.skip("Debian's chromium is not installed (make system-deps installs it)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=ARGS)
        yield chromium
        chromium.close()


def _open(browser, url: str):  # type: ignore[no-untyped-def]
    page = browser.new_page()
    messages: list[str] = []
    page.on("console", lambda m: messages.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda exc: messages.append(str(exc)))
    page.goto(url)
    return page, messages


def test_the_report_file_runs_its_own_scripts_and_no_other(sqlite_store, browser, tmp_path):
    tenant = make_tenant(sqlite_store, "acme")
    account = tenant.account_ids[0]
    with sqlite_store.transaction() as db:  # a link stored before the rule, and markup
        db.execute(
            update(Account)
            .where(Account.id == account)
            .values(url="javascript:window.clicked=1", display_name="<img src=x onerror=alert(1)>")
        )
    with sqlite_store.session() as db:
        html, _policy = render_report_with_policy(vet_account_id(db, tenant.workspace_id, account))
    report = tmp_path / "report.html"
    report.write_text(html, encoding="utf-8")
    page, errors = _open(browser, report.as_uri())
    page.wait_for_function("document.querySelectorAll('.js-plotly-plot .main-svg').length > 0")
    assert errors == []  # plotly.js and the figures run under the policy
    assert page.locator("a[href^='javascript']").count() == 0
    assert page.locator("img[src='x']").count() == 0
    # Markup that got into the file some other way would not run: its hash is not allowed.
    tampered = tmp_path / "tampered.html"
    tampered.write_text(html.replace("</body>", "<script>window.pwned = 1</script></body>"))
    page, errors = _open(browser, tampered.as_uri())
    page.wait_for_function("document.querySelectorAll('.js-plotly-plot .main-svg').length > 0")
    assert page.evaluate("window.pwned") is None
    assert any("Content Security Policy" in e for e in errors)


def test_the_api_docs_render_under_their_policy(sqlite_store, browser):
    with serve(create_app(sqlite_store.url)) as base:
        page, errors = _open(browser, base + "/docs")
        page.wait_for_selector(".swagger-ui .info .title")
        assert errors == []
        page, errors = _open(browser, base + "/redoc")
        page.wait_for_selector("h1")
        # ReDoc's logo points at its CDN: blocked, as everything from outside this server is.
        assert all("cdn.redoc.ly" in e for e in errors)
