"""Issue 12 end to end in a real browser (Chromium through Playwright, the app on a real uvicorn
server on 127.0.0.1): a member signs in, creates a campaign, adds a creator with a deal, makes a
tracking link on the creator's profile and a discount code on the sales page; people click the
short link (and a crawler does), the shop sends two orders through its signed webhook — one
with the code, one that landed through a click — the server's job queue records and attributes
them, and the campaign's dashboard shows the clicks, the orders, the revenue and its charts, with
the pages' CSP in force and no script error."""

from __future__ import annotations

import datetime as dt
import json
import os
import re
import time
from collections.abc import Iterator
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from api_support import PASSWORD, make_tenant, make_user, serve
from microfluence.commerce.shops import create_shop
from microfluence.commerce.signatures import sign
from microfluence.kernel.store import open_store
from microfluence.web.app import create_app
from test_pages_browser import ARGS, CHROMIUM, LAPTOP, _shot

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("browser")]

CHROME = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/126.0.0.0 Safari/537.36"
)
FIREFOX = "Mozilla/5.0 (X11; Linux x86_64; rv:127.0) Gecko/20100101 Firefox/127.0"
GOOGLEBOT = "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)"


@pytest.fixture
def site(tmp_path) -> Iterator[tuple[str, str, str]]:  # type: ignore[no-untyped-def]
    if not os.access(CHROMIUM, os.X_OK):
        pytest.skip("Debian's chromium is not installed (make system-deps installs it)")
    url = f"sqlite:///{tmp_path / 'store.sqlite'}"
    store = open_store(url)
    tenant = make_tenant(store, "brand", prefix="alpha")
    make_user(store, "m@brand.example", "brand", "member")
    with store.transaction() as s:  # shops are made by command or API (docs/commerce.md)
        made = create_shop(s, tenant.workspace_id, platform="shopify", name="main", secret="k" * 32)
    store.dispose()
    with serve(create_app(url)) as base:
        yield base, made.shop.webhook_path, made.secret


def _order(number: int, net: str, **fields: object) -> bytes:
    now = dt.datetime.now(dt.UTC).replace(microsecond=0).isoformat()
    return json.dumps(
        {
            "id": number,
            "name": f"#{number}",
            "created_at": now,
            "currency": "USD",
            "subtotal_price": net,
            "total_price": net,
            "financial_status": "paid",
            **fields,
        }
    ).encode()


def _deliver(base: str, hook: str, secret: str, body: bytes, webhook_id: str) -> None:
    answer = httpx.post(
        base + hook,
        content=body,
        headers={
            "X-Shopify-Hmac-Sha256": sign(body, secret),
            "X-Shopify-Topic": "orders/create",
            "X-Shopify-Webhook-Id": webhook_id,
            "Content-Type": "application/json",
        },
    )
    assert answer.status_code == 200 and answer.json() == {"status": "stored"}, answer.text


def _tile(page, key: str) -> str:  # type: ignore[no-untyped-def]
    return " ".join(page.inner_text(f"#tile-{key} dd").split())


def _dashboard_until(page, url: str, key: str, text: str) -> None:  # type: ignore[no-untyped-def]
    """Reload the dashboard until tile ``key`` reads ``text``: clicks reach the store within
    about a second, orders once the job queue has run (bounded: 150 tries)."""
    for _ in range(150):
        page.goto(url)
        if _tile(page, key) == text:
            return
        time.sleep(0.1)
    assert _tile(page, key) == text


def test_a_campaign_from_creation_to_its_dashboard(site) -> None:  # type: ignore[no-untyped-def]
    from playwright.sync_api import sync_playwright

    base, hook, secret = site
    errors: list[str] = []
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=ARGS)
        try:
            page = chromium.new_context(viewport=LAPTOP).new_page()
            page.on("pageerror", lambda exc: errors.append(str(exc)))
            page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
            page.goto(base + "/campaigns")
            page.fill("input[name=email]", "m@brand.example")
            page.fill("input[name=password]", PASSWORD)
            page.click("form[action='/auth/sign-in'] button[type=submit]")
            page.wait_for_url("**/campaigns")

            # A campaign, and a creator with a deal: 100 fee, 10 % commission.
            page.fill("#new-campaign input[name=name]", "Spring drop")
            page.click("#new-campaign button[type=submit]")
            page.wait_for_url("**/campaigns/*")
            campaign_url = page.url
            page.fill("#add-deal input[name=creator]", "instagram:alpha_ana")
            page.fill("#add-deal input[name=flat_fee]", "100")
            page.fill("#add-deal input[name=commission_rate]", "10%")
            page.click("#add-deal button[type=submit]")
            page.wait_for_selector("#deals td[data-label=Account]")

            # A tracking link on the creator's profile, for the campaign.
            page.click('#deals td[data-label=Creator] a[href^="/creators/"]')
            page.wait_for_url("**/creators/*")
            page.select_option("form.link-form select[name=account]", "instagram:alpha_ana")
            page.fill("form.link-form input[name=url]", "https://shop.example/lipstick")
            page.select_option("form.link-form select[name=campaign]", "Spring drop")
            page.click("form.link-form button[type=submit]")
            page.wait_for_selector("#links tr[data-slug]")
            slug = page.get_attribute("#links tr[data-slug]", "data-slug")

            # A discount code on the sales page, for the creator in the campaign.
            page.goto(base + "/sales")
            page.fill("#code-form input[name=creator]", "instagram:alpha_ana")
            page.fill("#code-form input[name=value]", "15")
            page.fill("#code-form input[name=campaign]", "Spring drop")
            page.click("#code-form button[type=submit]")
            page.wait_for_url("**/sales#codes")
            code = page.locator("#codes-table td.strong").first.inner_text()

            # The dashboard before anything happened: an explanation, no chart.
            dashboard = campaign_url + "/dashboard"
            page.goto(campaign_url)
            page.click("#dashboard-link")
            page.wait_for_url("**/dashboard")
            assert page.locator("#dashboard-empty").count() == 1
            assert page.locator(".chart-plot").count() == 0

            # Clicks on /r/{slug}: two people (one clicks twice) and a crawler.
            tokens = []
            for agent in (CHROME, CHROME, FIREFOX, GOOGLEBOT):
                answer = httpx.get(
                    f"{base}/r/{slug}", headers={"User-Agent": agent}, follow_redirects=False
                )
                assert answer.status_code == 302
                tokens.append(parse_qs(urlsplit(answer.headers["location"]).query)["mf_click"][0])
            _dashboard_until(page, dashboard, "clicks", "3")  # the crawler's is left out
            assert _tile(page, "unique_clicks") == "2"

            # Orders through the shop's signed webhook: one with the code (80), one that landed
            # through the Firefox click (40); the job queue stores and attributes them.
            _deliver(
                base,
                hook,
                secret,
                _order(5001, "80.00", discount_codes=[{"code": code.lower()}]),
                "browser-5001",
            )
            landing = f"/lipstick?utm_source=instagram&mf_click={tokens[2]}"
            _deliver(base, hook, secret, _order(5002, "40.00", landing_site=landing), "b-5002")
            _dashboard_until(page, dashboard, "orders", "2")

            # 120 of revenue; cost 100 + 10 % of 120 = 112; ROI 8 / 112; 2 orders of 2 unique.
            assert _tile(page, "revenue") == "120.00 USD"
            assert _tile(page, "net_revenue") == "120.00 USD"
            assert _tile(page, "cost") == "112.00 USD"
            assert _tile(page, "roi") == "7.1 %"
            assert _tile(page, "conversion_rate") == "100.0 %"
            assert _tile(page, "cpe") == "—"  # no post delivered yet
            assert page.get_attribute("#tile-cpe .undefined", "title") == (
                "no engagements: the denominator is 0"
            )
            row = page.inner_text("#creators-table tbody tr")
            assert "alpha Ana" in row and "120.00" in row
            # The four charts are drawn by plotly.js (it marks what it drew).
            page.wait_for_function("document.querySelectorAll('.js-plotly-plot').length === 4")
            assert page.locator("#chart-roi .main-svg").count() >= 1
            legend = page.inner_text("#chart-creator-revenue")
            assert "alpha Ana" in legend
            assert re.search(
                r"Revenue and clicks per day", page.inner_text("#chart-revenue-clicks")
            )
            _shot(page, "campaign-dashboard")
        finally:
            chromium.close()
    assert errors == []
