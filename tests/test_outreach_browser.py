"""The outreach pages in a real browser (Chromium through Playwright, the app served by uvicorn
on 127.0.0.1, the page's CSP in force): write a template, watch the live preview follow the
typing, and unsubscribe through a message's link."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

from api_support import PASSWORD, make_user, serve
from microfluence.kernel.store import open_store
from microfluence.outreach.unsubscribe import links_for
from microfluence.relationships.contact import relation_of
from microfluence.web.app import create_app
from outreach_support import Outreach, make_outreach
from test_pages_browser import ARGS, CHROMIUM, LAPTOP

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("browser")]


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, str, Outreach]]:
    if not os.access(CHROMIUM, os.X_OK):
        pytest.skip("Debian's chromium is not installed (make system-deps installs it)")
    url = f"sqlite:///{tmp_path_factory.mktemp('outreach-browser') / 'store.sqlite'}"
    store = open_store(url)
    world = make_outreach(store)
    make_user(store, "m@brand.example", "brand", "member")
    store.dispose()
    with serve(create_app(url)) as base:
        yield base, url, world


def test_write_a_template_with_its_live_preview_then_unsubscribe(served) -> None:  # type: ignore[no-untyped-def]
    from playwright.sync_api import expect, sync_playwright

    base, url, world = served
    errors: list[str] = []
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=ARGS)
        page = chromium.new_context(viewport=LAPTOP).new_page()
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
        page.goto(base + "/templates")
        page.fill("input[name=email]", "m@brand.example")
        page.fill("input[name=password]", PASSWORD)
        page.click("form[action='/auth/sign-in'] button[type=submit]")
        page.wait_for_url("**/templates")
        page.fill("#new-template input[name=name]", "intro")
        page.fill("#new-template textarea[name=body]", "Hi {{ first_name }}")
        page.click("#new-template button[type=submit]")
        page.wait_for_url("**/templates/*")
        expect(page.locator("#preview-body")).to_contain_text("Hi Ana")
        page.fill("#template-form textarea[name=body]", "Dear {{ handle }}, {{ offer }}")
        page.select_option("#preview-deal", label="Launch · Bo Lee")
        expect(page.locator("#preview-body")).to_contain_text("Dear bo, a fee of 250.00 EUR")
        page.fill("#template-form textarea[name=body]", "Dear {{ ''.__class__ }}")
        expect(page.locator("#preview-error")).to_contain_text("attribute access")
        assert "To stop receiving" in page.inner_text("#preview-body")  # the last good one
        # The creator's side: the link of a message, no sign-in.
        store = open_store(url)
        link = links_for(store, base).unsubscribe_url(world.workspace_id, world.creators["Bo"])
        creator = chromium.new_context(viewport=LAPTOP).new_page()
        creator.goto(link)
        creator.click("button:has-text('Unsubscribe')")
        creator.wait_for_selector("h1:has-text('You are unsubscribed')")
        with store.session() as session:
            assert relation_of(session, world.workspace_id, world.creators["Bo"]).do_not_contact
        store.dispose()
        chromium.close()
    assert errors == []
