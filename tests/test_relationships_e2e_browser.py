"""Issue 13 end to end, in a real browser (Chromium through Playwright, the app served by uvicorn
on 127.0.0.1, a real SMTP server from aiosmtpd): one creator walks from prospect to paid. A
member makes the campaign, its brief and a product on the pages, adds the creator from the
creators list, writes a template, previews it and sends it (a one-step sequence and the outbox's
"Send due messages now"), records the reply, moves the deal on the board by keyboard and makes a
portal link; the creator, in a second browser context with no session, accepts the brief, picks
a gift within the cap, gives an address, sees their link and code and later submits the live
post; the brand ships the gift, approves the post and moves the deal to paid. The history shows
every step in order with who did it, the statistics count the deal as paid, and no page logs a
script error."""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from sqlalchemy import update

from api_support import PASSWORD, Tenant, make_tenant, make_user, serve
from microfluence.catalog.creators import update_creator
from microfluence.catalog.schemas import CreatorUpdate
from microfluence.kernel.store import open_store
from microfluence.kernel.store.tables import Post
from microfluence.kernel.workspaces import ensure_workspace
from microfluence.outreach.settings import set_smtp
from microfluence.web.app import create_app
from outreach_support import SmtpServer, running_smtp_server
from test_pages_browser import ARGS, CHROMIUM, LAPTOP, PHONE

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("browser")]
MEMBER = "m@brand.example"
ANA_EMAIL = "ana@alpha.example"
LIVE = "https://example.social/p/ana-glow-live"


@dataclass
class World:
    base: str
    tenant: Tenant
    smtp: SmtpServer


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    """A workspace with three imported creators and their posts (Ana has an e-mail address and
    the post she will submit), a member, and the owner's SMTP setting pointing at aiosmtpd."""
    if not os.access(CHROMIUM, os.X_OK):
        pytest.skip("Debian's chromium is not installed (make system-deps installs it)")
    url = f"sqlite:///{tmp_path_factory.mktemp('e2e-browser') / 'store.sqlite'}"
    store = open_store(url)
    tenant = make_tenant(store, "brand", prefix="alpha")
    make_user(store, MEMBER, "brand", "member")
    with running_smtp_server() as smtp:
        with store.transaction() as s:
            ws = tenant.workspace_id
            update_creator(s, ws, tenant.creator_ids[0], CreatorUpdate(email=ANA_EMAIL))
            # The post Ana will submit, as the import brought it in.
            s.execute(update(Post).where(Post.platform_post_id == "alpha_ana-1").values(url=LIVE))
            set_smtp(
                s,
                ensure_workspace(s, "brand"),
                {
                    "host": smtp.host,
                    "port": smtp.port,
                    "security": "none",
                    "from_address": "team@glow.example.com",
                    "from_name": "Sam at Glow",
                },
            )
        store.dispose()
        with serve(create_app(url)) as base:
            yield World(base, tenant, smtp)


def _watch(page, errors: list[str]) -> None:  # type: ignore[no-untyped-def]
    page.on("pageerror", lambda exc: errors.append(f"{page.url}: {exc}"))
    page.on(
        "console",
        lambda m: errors.append(f"{page.url}: {m.text}") if m.type == "error" else None,
    )


def _card(page, deal: int) -> str:  # type: ignore[no-untyped-def]
    return f"#board .deal-card[data-deal='{deal}']"


def _stage_on_board(page, deal: int) -> str:  # type: ignore[no-untyped-def]
    return str(page.get_attribute(_card(page, deal), "data-stage"))


def _campaign_and_product(page, base: str) -> int:  # type: ignore[no-untyped-def]
    """Step 1 on the pages: the campaign, its brief, a product in the catalogue."""
    page.goto(base + "/campaigns")
    page.fill("form[action='/campaigns'] input[name=name]", "Glow launch")
    page.fill("form[action='/campaigns'] input[name=currency]", "EUR")
    page.click("form[action='/campaigns'] button[type=submit]")
    page.wait_for_url(re.compile(r".*/campaigns/\d+$"))
    cid = int(page.url.rsplit("/", 1)[1])
    page.click("details.edit-campaign summary")
    page.fill("#edit-campaign textarea[name=brief]", "Film your night routine with the serum.")
    page.fill("#edit-campaign textarea[name=dos]", "Tag @glowbrand\nShow the label")
    page.fill("#edit-campaign textarea[name=donts]", "No filters")
    page.fill("#edit-campaign input[name=disclosure]", "#ad")
    page.click("#edit-campaign button[type=submit]")
    page.wait_for_selector("#brief")
    assert "No filters" in str(page.text_content("#brief"))  # in a closed <details>
    page.goto(base + "/products")
    page.fill("form[action='/products'] input[name=sku]", "SER-1")
    page.fill("form[action='/products'] input[name=name]", "Night serum")
    page.fill("form[action='/products'] input[name=value]", "30")
    page.fill("form[action='/products'] input[name=currency]", "EUR")
    page.click("form[action='/products'] button[type=submit]")
    page.wait_for_selector("td:has-text('SER-1'), input[aria-label='name of SER-1']")
    return cid


def _add_prospect(page, base: str, cid: int) -> int:  # type: ignore[no-untyped-def]
    """Step 2: tick Ana on the creators list, "Add to campaign"; her card is a prospect."""
    page.goto(base + "/creators")
    page.check("input[aria-label='select alpha Ana']")
    page.select_option("#add-to-campaign select[name=campaign_id]", str(cid))
    page.click("#add-to-campaign button[type=submit]")
    page.wait_for_url(f"**/campaigns/{cid}/pipeline*")
    assert "Added 1 prospect(s)" in page.inner_text("p.notice")
    card = page.locator("#board .deal-card", has_text="alpha Ana")
    assert card.get_attribute("data-stage") == "prospect"
    assert page.locator("#board .deal-card").count() == 1
    return int(str(card.get_attribute("data-deal")))


def _send_outreach(page, world: World, cid: int, deal: int) -> None:  # type: ignore[no-untyped-def]
    """Step 3: a template, its preview, then sent by a one-step sequence and the outbox."""
    from playwright.sync_api import expect

    base = world.base
    page.goto(base + "/templates")
    page.fill("#new-template input[name=name]", "intro")
    page.fill("#new-template input[name=subject]", "A gift from Glow for {{ first_name }}")
    page.fill(
        "#new-template textarea[name=body]",
        "Hi {{ first_name }}, we would love to send you our serum. {{ offer }}",
    )
    page.click("#new-template button[type=submit]")
    page.wait_for_url("**/templates/*")
    page.select_option("#preview-deal", label="Glow launch · alpha Ana")
    expect(page.locator("#preview-to")).to_have_text(ANA_EMAIL)
    expect(page.locator("#preview-subject")).to_contain_text("A gift from Glow for ")
    expect(page.locator("#preview-body")).to_contain_text("we would love to send you our serum")
    subject = page.inner_text("#preview-subject")
    assert subject.startswith("A gift from Glow for ")
    assert "To stop receiving" in page.inner_text("#preview-body")

    page.goto(base + "/sequences")
    page.fill("#new-sequence input[name=name]", "first contact")
    page.fill("#new-sequence textarea[name=steps]", "intro:0")
    page.click("#new-sequence button[type=submit]")
    page.wait_for_url(re.compile(r".*/sequences/\d+$"))
    page.select_option("select[name=campaign_id]", str(cid))
    page.click("form[action$='/enroll'] button[type=submit]")
    page.wait_for_selector("table.data td[data-label=Deal]")
    assert world.smtp.inbox.messages == []  # enrolled, not sent yet
    page.goto(base + "/outbox")
    page.click("form[action='/outbox/run'] button[type=submit]")
    page.wait_for_selector("p.notice:has-text('Run done: 1 sent')")

    assert len(world.smtp.inbox.messages) == 1
    message = world.smtp.inbox.messages[0]
    assert message["To"] == ANA_EMAIL and message["Subject"] == subject
    body = message.get_body(preferencelist=("plain",)).get_content()  # type: ignore[union-attr]
    unsubscribe = re.search(r"http://127\.0\.0\.1:\d+/u/\S+", body)
    assert unsubscribe, body
    assert unsubscribe.group(0) in message["List-Unsubscribe"]
    assert world.smtp.inbox.envelopes[0][1] == [ANA_EMAIL]

    page.goto(f"{base}/campaigns/{cid}/pipeline")
    assert _stage_on_board(page, deal) == "contacted"


def _reply_and_negotiate(page, world: World, cid: int, deal: int) -> None:  # type: ignore[no-untyped-def]
    """Step 4: the reply recorded in the outbox; → negotiating by keyboard; fee and gift cap."""
    base = world.base
    page.goto(base + "/outbox")
    with page.expect_navigation():
        page.click("form[action='/outbox/replied'] button[type=submit]")
    page.goto(f"{base}/campaigns/{cid}/pipeline")
    assert _stage_on_board(page, deal) == "replied"
    page.focus(_card(page, deal))
    page.keyboard.press("ArrowRight")
    page.wait_for_selector(f"[data-stage=negotiating] .deal-card[data-deal='{deal}']")
    # The fee, gift cap and package: the deal page's "Edit the deal" form.
    page.goto(f"{base}/campaigns/{cid}/deals/{deal}")
    page.click("#edit-terms summary")
    form = "#edit-terms form"
    page.fill(f"{form} input[name=flat_fee]", "300")
    page.fill(f"{form} input[name=product_value]", "50")
    page.fill(f"{form} input[name=package]", "feed_post=1")
    with page.expect_navigation():
        page.click(f"{form} button[type=submit]")
    assert page.inner_text("#term-flat_fee").startswith("300.00")
    assert page.inner_text("#term-product_value").startswith("50.00")
    assert "1 × feed post" in page.inner_text("#term-package")
    page.goto(f"{base}/campaigns/{cid}/pipeline")
    assert "300" in page.inner_text(_card(page, deal))


def _tracking(page, world: World) -> str:  # type: ignore[no-untyped-def]
    """The creator's tracking link (on her profile) and discount code (on the sales page);
    returns the short link."""
    base = world.base
    page.goto(f"{base}/creators/{world.tenant.creator_ids[0]}")
    page.select_option("form.link-form select[name=account]", "instagram:alpha_ana")
    page.fill("form.link-form input[name=url]", "https://glow.example/serum")
    page.select_option("form.link-form select[name=campaign]", label="Glow launch")
    page.click("form.link-form button[type=submit]")
    page.wait_for_selector("#links .links-table tr[data-slug]")
    short = page.inner_text("#links .links-table tr[data-slug] code").strip()
    page.goto(base + "/sales")
    page.fill("#code-form input[name=creator]", "instagram:alpha_ana")
    page.fill("#code-form input[name=value]", "15")
    page.select_option("#code-form select[name=kind]", "percent")
    page.fill("#code-form input[name=code]", "ANA15")
    page.click("#code-form button[type=submit]")
    page.wait_for_selector("#codes-table td:has-text('ANA15')")
    return short


def _open_deal_page(page, base: str, cid: int) -> None:  # type: ignore[no-untyped-def]
    """The deal page, reached by links (board → campaign → deal), not by a built URL."""
    page.goto(f"{base}/campaigns/{cid}/pipeline")
    page.click(f"p.crumbs a[href$='/campaigns/{cid}']")
    page.wait_for_url(f"**/campaigns/{cid}")
    page.click("#deals a:has-text('alpha Ana')")
    page.wait_for_selector("#history")


def _portal_link(page, world: World, cid: int) -> str:  # type: ignore[no-untyped-def]
    """Step 5, brand side: a portal link made on the deal page, its URL shown once."""
    _open_deal_page(page, world.base, cid)
    page.click("#portal button:has-text('New portal link')")
    page.wait_for_selector("#new-link")
    url = page.inner_text("#new-link code.portal-url").strip()
    assert url.startswith(world.base + "/portal/")
    _open_deal_page(page, world.base, cid)
    assert url not in page.content()  # shown once only
    assert page.locator("#portal tbody tr").count() == 1
    return url


def _creator_accepts_and_picks(creator, url: str, short: str) -> None:  # type: ignore[no-untyped-def]
    """Step 5, the creator's side: brief, disclosure, acceptance, a gift within the cap."""
    base = url.split("/portal/", 1)[0]
    creator.goto(base + "/campaigns")  # no session: the brand's pages ask to sign in
    assert creator.locator("form[action='/auth/sign-in']").count() == 1
    creator.goto(url)
    assert "Glow launch" in creator.inner_text("h1")
    brief = creator.inner_text("#brief")
    assert "Film your night routine" in brief and "#ad" in brief
    assert "Tag @glowbrand" in brief and "No filters" in brief and "feed post" in brief
    creator.click("#brief button:has-text('I accept the brief')")
    creator.wait_for_selector("#accepted")
    creator.fill("#gift input[aria-label='quantity of Night serum']", "1")
    for name, value in (
        ("name", "Ana Alpha"),
        ("line1", "12 rue des Lilas"),
        ("city", "Lyon"),
        ("postal_code", "69003"),
        ("country", "FR"),
    ):
        creator.fill(f"#gift input[name={name}]", value)
    creator.click("#gift button:has-text('Save my choice')")
    creator.wait_for_selector("p.notice:has-text('gift choice and address are saved')")
    codes = creator.inner_text("#links")
    assert "ANA15" in codes and "15 % off" in codes and short in codes


def _ship(page, world: World, cid: int) -> None:  # type: ignore[no-untyped-def]
    """Step 6: the gift shipped with its carrier and tracking number."""
    _open_deal_page(page, world.base, cid)
    assert page.inner_text("#stage") == "agreed"
    assert "Lyon" in page.inner_text("#gifts")
    row = page.locator("#gifts form:has(button:has-text('Mark shipped'))")
    row.locator("input[name=carrier]").fill("La Poste")
    row.locator("input[name=tracking_number]").fill("6A123456789")
    row.locator("button:has-text('Mark shipped')").click()
    page.wait_for_selector("#gifts .pill.gift-shipped")
    assert "6A123456789" in page.inner_text("#gifts")
    assert page.inner_text("#stage") == "product shipped"


def _creator_submits(creator, url: str) -> None:  # type: ignore[no-untyped-def]
    creator.goto(url)
    creator.select_option("#submit select[name=kind]", "live")
    creator.fill("#submit input[name=url]", LIVE)
    creator.fill("#submit textarea[name=note]", "Posted tonight!")
    creator.click("#submit button:has-text('Send for review')")
    creator.wait_for_selector("#submit .submissions")
    assert "pending" in creator.inner_text("#submit .submissions")


def _approve_and_pay(page, world: World, cid: int, deal: int) -> None:  # type: ignore[no-untyped-def]
    """Step 6: the submission approved from "to review" (the post linked), then paid."""
    base = world.base
    page.goto(f"{base}/campaigns/{cid}")
    review = page.inner_text("#submissions")
    assert LIVE in review and "Posted tonight!" in review
    page.click("#submissions button:has-text('Approve')")
    page.wait_for_selector("#submissions p.empty")
    assert "confirmed" in page.inner_text("#deliverables")
    page.goto(f"{base}/campaigns/{cid}/pipeline")
    assert _stage_on_board(page, deal) == "content_live"
    page.focus(_card(page, deal))
    page.keyboard.press("ArrowRight")
    page.wait_for_selector(f"[data-stage=paid] .deal-card[data-deal='{deal}']")


def _history(page, world: World, cid: int) -> list[str]:  # type: ignore[no-untyped-def]
    _open_deal_page(page, world.base, cid)
    assert page.inner_text("#stage") == "paid"
    lines = page.locator("#history li").all_inner_texts()
    return [" ".join(line.split()) for line in reversed(lines)]  # oldest first


def _in_order(history: list[str], steps: list[str]) -> None:
    """The history, oldest first and its times left out, is exactly ``steps`` (patterns)."""
    seen = [re.sub(r"^\S+ \S+ ", "", line) for line in history]  # drop "DAY HH:MM "
    assert len(seen) == len(steps), seen
    for line, step in zip(seen, steps, strict=True):
        assert re.fullmatch(step, line), (step, seen)


def test_one_creator_from_prospect_to_paid(world: World) -> None:
    from playwright.sync_api import sync_playwright

    errors: list[str] = []
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=ARGS)
        page = chromium.new_context(viewport=LAPTOP).new_page()
        _watch(page, errors)
        page.goto(world.base + "/campaigns")
        page.fill("input[name=email]", MEMBER)
        page.fill("input[name=password]", PASSWORD)
        page.click("form[action='/auth/sign-in'] button[type=submit]")
        page.wait_for_url("**/campaigns")

        cid = _campaign_and_product(page, world.base)
        deal = _add_prospect(page, world.base, cid)
        _send_outreach(page, world, cid, deal)
        _reply_and_negotiate(page, world, cid, deal)
        short = _tracking(page, world)
        url = _portal_link(page, world, cid)

        # The creator: a second context, no session, on a phone.
        creator = chromium.new_context(viewport=PHONE, is_mobile=True, has_touch=True).new_page()
        _watch(creator, errors)
        _creator_accepts_and_picks(creator, url, short)
        _ship(page, world, cid)
        _creator_submits(creator, url)
        _approve_and_pay(page, world, cid, deal)

        history = _history(page, world, cid)
        brand = r"user m@brand\.example —"  # the member's moves
        ana = "creator alpha Ana —"  # the portal's
        _in_order(
            history,
            [
                f"{brand} added as prospect from creators",
                f"{brand} message",  # the e-mail sent by the member's outbox run
                f"{brand} moved prospect → contacted",
                r"creator m@brand\.example — reply",  # recorded by hand by the member
                r"creator m@brand\.example — moved contacted → replied",
                f"{brand} moved replied → negotiating",
                f"{ana} accepted the brief",
                f"{ana} moved negotiating → agreed",
                f"{ana} gift picked: 1 × SER-1",
                f"{brand} gift shipped \\(La Poste 6A123456789\\)",
                f"{brand} moved agreed → product shipped",
                f"{ana} submitted a live: {re.escape(LIVE)}",
                rf"{brand} review: approved \(post \d+ linked to deliverable \d+\)",
                f"{brand} moved product shipped → content live",
                f"{brand} moved content live → paid",
            ],
        )
        page.goto(f"{world.base}/campaigns/{cid}/pipeline")
        paid = page.locator("#pipeline-stats tbody tr").filter(
            has=page.locator("td[data-label=Stage]", has_text=re.compile(r"^paid$"))
        )
        assert paid.locator("td[data-label=Reached]").inner_text() == "1"
        summary = " ".join(page.inner_text("#pipeline-stats p.muted").split())
        assert summary.startswith("Reached paid: 100"), summary
        assert "of 1 deal(s)" in summary
        chromium.close()
    assert errors == []
