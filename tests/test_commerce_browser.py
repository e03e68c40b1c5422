"""The sales page in a real browser (Chromium, Playwright) against the app on a real uvicorn
server: a member makes a creator's code on the page, the shop sends an order with it through
the signed webhook over HTTP, and the page shows the order credited to the code."""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from api_support import PASSWORD, make_tenant, make_user, serve
from microfluence.commerce.shops import create_shop
from microfluence.commerce.signatures import sign
from microfluence.kernel.store import open_store
from microfluence.web.app import create_app

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("browser")]

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--no-first-run"]
SHOTS = Path(__file__).resolve().parents[1] / "test-artifacts" / "screenshots"


@pytest.fixture
def site(tmp_path) -> Iterator[tuple[str, str, str]]:  # type: ignore[no-untyped-def]
    if not os.access(CHROMIUM, os.X_OK):
        pytest.skip("Debian's chromium is not installed (make system-deps installs it)")
    url = f"sqlite:///{tmp_path / 'store.sqlite'}"
    store = open_store(url)
    tenant = make_tenant(store, "acme", prefix="acme")
    make_user(store, "m@acme.example", "acme", "member")
    with store.transaction() as s:
        made = create_shop(s, tenant.workspace_id, platform="shopify", name="main", secret="s" * 32)
    store.dispose()
    with serve(create_app(url)) as base:
        yield base, made.shop.webhook_path, made.secret


def test_a_code_made_on_the_page_credits_a_webhook_order(site) -> None:  # type: ignore[no-untyped-def]
    from playwright.sync_api import sync_playwright

    base, hook, secret = site
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=ARGS)
        try:
            page = browser.new_page()
            errors: list[str] = []
            page.on("pageerror", lambda exc: errors.append(str(exc)))
            page.goto(base + "/sales")
            assert "/sign-in" in page.url
            page.fill("input[name=email]", "m@acme.example")
            page.fill("input[name=password]", PASSWORD)
            page.click("form[action='/auth/sign-in'] button[type=submit]")
            page.wait_for_url("**/sales")
            page.fill("#code-form input[name=creator]", "instagram:acme_ana")
            page.fill("#code-form input[name=value]", "15")
            page.click("#code-form button[type=submit]")
            page.wait_for_url("**/sales#codes")
            code = page.locator("#codes-table td.strong").first.inner_text()
            assert code.startswith("ACMEANA15-")

            body = (
                '{"id": 4242, "name": "#4242", "created_at": "2026-05-01T10:00:00Z", '
                '"currency": "EUR", "subtotal_price": "80.00", "total_price": "86.00", '
                f'"discount_codes": [{{"code": "{code.lower()}"}}]}}'
            ).encode()
            answer = httpx.post(
                base + hook,
                content=body,
                headers={
                    "X-Shopify-Hmac-Sha256": sign(body, secret),
                    "X-Shopify-Topic": "orders/create",
                    "X-Shopify-Webhook-Id": "browser-1",
                },
            )
            assert answer.status_code == 200 and answer.json() == {"status": "stored"}
            forged = httpx.post(base + hook, content=body, headers={"X-Shopify-Hmac-Sha256": "x"})
            assert forged.status_code == 401
            row = page.locator("#orders-table tbody tr")
            for _ in range(100):  # the job runs in the server's pool: bounded polling
                page.goto(base + "/sales")
                if row.count():
                    break
                time.sleep(0.1)
            assert row.count() == 1
            text = row.first.inner_text()
            assert "#4242" in text and "80.00 EUR" in text and code in text and "code" in text
            assert not errors
            SHOTS.mkdir(parents=True, exist_ok=True)
            page.set_viewport_size({"width": 1280, "height": 860})
            page.screenshot(path=str(SHOTS / "sales.png"), full_page=True)
        finally:
            browser.close()
