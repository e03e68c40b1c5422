"""The pipeline board in a real browser (Chromium through Playwright, the app served by uvicorn
on 127.0.0.1): add creators from the creators list, move one card with the arrow keys and one by
dragging it to another column, move two at once, and read the history — with the page's CSP in
force and no script error."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

from api_support import PASSWORD, make_tenant, make_user, serve
from microfluence.campaigns.campaigns import create_campaign
from microfluence.campaigns.schemas import CampaignCreate
from microfluence.kernel.store import open_store
from microfluence.web.app import create_app
from test_pages_browser import ARGS, CHROMIUM, LAPTOP, _shot

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("browser")]


@pytest.fixture(scope="module")
def base(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, int]]:
    if not os.access(CHROMIUM, os.X_OK):
        pytest.skip("Debian's chromium is not installed (make system-deps installs it)")
    url = f"sqlite:///{tmp_path_factory.mktemp('pipeline-browser') / 'store.sqlite'}"
    store = open_store(url)
    tenant = make_tenant(store, "brand", prefix="alpha")
    make_user(store, "m@brand.example", "brand", "member")
    with store.transaction() as session:
        cid = create_campaign(session, tenant.workspace_id, CampaignCreate(name="Spring")).id
    store.dispose()
    with serve(create_app(url)) as served:
        yield served, cid


def _column_of(page, name: str) -> str:  # type: ignore[no-untyped-def]
    card = page.locator(".deal-card", has_text=name)
    return card.get_attribute("data-stage")


def test_move_cards_by_keyboard_and_by_drag(base: tuple[str, int]) -> None:
    from playwright.sync_api import expect, sync_playwright

    root, cid = base
    errors: list[str] = []
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=ARGS)
        page = chromium.new_context(viewport=LAPTOP).new_page()
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
        page.goto(root + "/creators")
        page.fill("input[name=email]", "m@brand.example")
        page.fill("input[name=password]", PASSWORD)
        page.click("form[action='/auth/sign-in'] button[type=submit]")
        page.wait_for_url("**/creators")
        # Every creator the search finds ("alpha": all three) joins the campaign.
        page.fill("input[name=q]", "alpha")
        page.click("form.filters[role=search] button[type=submit]")
        page.wait_for_url("**/creators?*")
        page.check("#add-to-campaign input[value=matching]")
        page.select_option("#add-to-campaign select[name=campaign_id]", str(cid))
        page.click("#add-to-campaign button[type=submit]")
        page.wait_for_url(f"**/campaigns/{cid}/pipeline?*")
        assert "Added 3 prospect(s)" in page.inner_text("p.notice")
        assert page.locator("[data-stage=prospect] .deal-card").count() == 3

        # By keyboard: focus Ana's card, → moves it to "contacted", and focus comes back to it.
        page.focus(".deal-card:has-text('alpha Ana')")
        page.keyboard.press("ArrowRight")
        page.wait_for_selector("[data-stage=contacted] .deal-card:has-text('alpha Ana')")
        assert page.evaluate("document.activeElement.classList.contains('deal-card')")
        page.keyboard.press("ArrowRight")
        page.wait_for_selector("[data-stage=replied] .deal-card:has-text('alpha Ana')")
        page.keyboard.press("ArrowLeft")
        page.wait_for_selector("[data-stage=contacted] .deal-card:has-text('alpha Ana')")

        # By drag and drop: Bo's card onto the "negotiating" column.
        page.locator(".deal-card:has-text('alpha Bo')").drag_to(
            page.locator("section.stage-column[data-stage=negotiating]")
        )
        page.wait_for_selector("[data-stage=negotiating] .deal-card:has-text('alpha Bo')")
        assert _column_of(page, "alpha Bo") == "negotiating"

        # A bulk move: tick Ana and Cy, move both to "agreed".
        page.check(".deal-card:has-text('alpha Ana') input[type=checkbox]")
        page.check(".deal-card:has-text('alpha Cy') input[type=checkbox]")
        page.select_option("#bulk-move select[name=stage]", "agreed")
        page.click("#bulk-move button[type=submit]")
        page.wait_for_selector("p.notice:has-text('Moved 2 deal(s)')")
        expect(page.locator("[data-stage=agreed] .deal-card")).to_have_count(2)
        # the funnel is drawn
        expect(page.locator("#pipeline-funnel .main-svg").first).to_be_visible()
        _shot(page, "pipeline")

        # The history of Ana's deal: every move, with the member's e-mail address.
        page.click(".deal-card:has-text('alpha Ana') a.strong")
        page.wait_for_selector("#history")
        history = page.inner_text("#history")
        assert history.count("m@brand.example") == 5  # added, 3 key moves, the bulk move
        assert "prospect → contacted" in history and "contacted → agreed" in history
        # The list view, sorted by days in stage.
        page.goto(f"{root}/campaigns/{cid}/pipeline?view=list")
        page.click("#pipeline-list a:has-text('Stage')")
        page.wait_for_url("**sort=-stage*")
        assert page.locator("#pipeline-list tbody tr").count() == 3
        chromium.close()
    assert errors == []
