"""The creator portal in a real browser (Chromium through Playwright, the app served by uvicorn
on 127.0.0.1), on a phone: the creator opens their link, accepts the brief, picks products and
gives an address, sees their link and code, and submits the live post; then the brand approves
it on the campaign page and the deal shows content live with the post linked — the pages' CSP in
force and no script error."""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from sqlalchemy import update

from api_support import PASSWORD, make_tenant, make_user, serve
from microfluence.campaigns.campaigns import create_campaign
from microfluence.campaigns.deals import add_deal
from microfluence.campaigns.products import ProductCreate, add_product
from microfluence.campaigns.schemas import CampaignCreate, DealCreate
from microfluence.kernel.store import open_store
from microfluence.kernel.store.tables import Post
from microfluence.relationships import portal
from microfluence.tracking import codes as C
from microfluence.tracking import links
from microfluence.web.app import create_app
from test_pages_browser import ARGS, CHROMIUM, LAPTOP, PHONE, _shot

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("browser")]
LIVE = "https://example.social/p/ana-live"


@dataclass
class Served:
    base: str
    token: str
    campaign: int
    deal: int


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    if not os.access(CHROMIUM, os.X_OK):
        pytest.skip("Debian's chromium is not installed (make system-deps installs it)")
    url = f"sqlite:///{tmp_path_factory.mktemp('portal-browser') / 'store.sqlite'}"
    store = open_store(url)
    tenant = make_tenant(store, "brand", prefix="alpha")
    make_user(store, "m@brand.example", "brand", "member")
    ws = tenant.workspace_id
    with store.transaction() as s:
        cid = create_campaign(
            s,
            ws,
            CampaignCreate(
                name="Glow launch",
                brief="Film your night routine with the serum.",
                dos=["Tag @glowbrand"],
                donts=["No filters"],
                disclosure="#ad",
            ),
        ).id
        deal = add_deal(
            s,
            ws,
            cid,
            DealCreate(
                creator="instagram:alpha_ana",
                product_value="50",
                package={"feed_post": 1},
                due="2026-07-01",
            ),
        ).id
        for sku, name, value in (("SER-1", "Night serum", "30"), ("CRM-2", "Day cream", "15")):
            add_product(s, ws, ProductCreate(sku=sku, name=name, value=value))
        links.create_link(
            s, ws, links.LinkCreate(creator="instagram:alpha_ana", url="https://glow.example/")
        )
        owner = C.resolve_owner(s, ws, creator="instagram:alpha_ana")
        C.create_code(s, ws, owner, kind="percent", value=15, code="ANA15")
        # The live post, already imported: its URL is what the creator will submit.
        s.execute(update(Post).where(Post.platform_post_id == "alpha_ana-1").values(url=LIVE))
    store.dispose()
    with serve(create_app(url)) as base:
        store = open_store(url)
        with store.transaction() as s:
            made = portal.create_portal_link(s, ws, deal, created_by="m@brand.example", base=base)
        store.dispose()
        yield Served(base, made.url.rsplit("/", 1)[1], cid, deal)


def test_a_creator_uses_the_portal_and_the_brand_approves(served: Served) -> None:
    from playwright.sync_api import sync_playwright

    errors: list[str] = []
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=ARGS)
        phone = chromium.new_context(viewport=PHONE, is_mobile=True, has_touch=True).new_page()
        phone.on("pageerror", lambda exc: errors.append(str(exc)))
        phone.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
        phone.goto(f"{served.base}/portal/{served.token}")
        assert "Glow launch" in phone.inner_text("h1")
        brief = phone.inner_text("#brief")
        assert "Film your night routine" in brief and "#ad" in brief and "feed post" in brief
        assert "Tag @glowbrand" in brief and "No filters" in brief and "2026-07-01" in brief
        phone.click("#brief button:has-text('I accept the brief')")
        phone.wait_for_selector("#accepted")
        # Over the cap first: refused with the reason, the entries kept.
        phone.fill("#gift input[aria-label='quantity of Night serum']", "1")
        phone.fill("#gift input[aria-label='quantity of Day cream']", "2")
        for name, value in (
            ("name", "Ana Alpha"),
            ("line1", "12 rue des Lilas"),
            ("city", "Lyon"),
            ("postal_code", "69003"),
            ("country", "FR"),
        ):
            phone.fill(f"#gift input[name={name}]", value)
        phone.click("#gift button:has-text('Save my choice')")
        phone.wait_for_selector("#error")
        assert "more than the 50.00 this deal allows" in phone.inner_text("#error")
        assert phone.input_value("#gift input[name=city]") == "Lyon"
        phone.fill("#gift input[aria-label='quantity of Day cream']", "1")
        phone.click("#gift button:has-text('Save my choice')")
        phone.wait_for_selector("p.notice:has-text('gift choice and address are saved')")
        codes = phone.inner_text("#links")
        assert "ANA15" in codes and "15 % off" in codes and "/r/" in codes
        phone.select_option("#submit select[name=kind]", "live")
        phone.fill("#submit input[name=url]", LIVE)
        phone.fill("#submit textarea[name=note]", "Posted tonight!")
        phone.click("#submit button:has-text('Send for review')")
        phone.wait_for_selector("#submit .submissions")
        assert "pending" in phone.inner_text("#submit .submissions")
        assert phone.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
        _shot(phone, "portal")

        page = chromium.new_context(viewport=LAPTOP).new_page()
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
        page.goto(f"{served.base}/campaigns/{served.campaign}")
        page.fill("input[name=email]", "m@brand.example")
        page.fill("input[name=password]", PASSWORD)
        page.click("form[action='/auth/sign-in'] button[type=submit]")
        page.wait_for_url(f"**/campaigns/{served.campaign}")
        review = page.inner_text("#submissions")
        assert LIVE in review and "Posted tonight!" in review
        page.click("#submissions button:has-text('Approve')")
        page.wait_for_selector("#submissions p.empty")
        page.goto(f"{served.base}/campaigns/{served.campaign}/deals/{served.deal}")
        assert page.inner_text("#stage") == "content live"
        history = page.inner_text("#history")
        assert "accepted the brief" in history and "gift picked" in history
        assert "linked to deliverable" in history
        assert "Lyon" in page.inner_text("#gifts")
        _shot(page, "deal")
        page.goto(f"{served.base}/campaigns/{served.campaign}")
        assert "confirmed" in page.inner_text("#deliverables")
        chromium.close()
    # The refused pick answers 422, which Chromium logs; nothing else may go wrong.
    refused = [e for e in errors if "status of 422" in e]
    assert len(refused) == 1 and [e for e in errors if e not in refused] == []
