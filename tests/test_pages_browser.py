"""The pages in a real browser: Debian's Chromium driven by Playwright against the real app
served by uvicorn on 127.0.0.1, over a fresh SQLite store holding a small demo population.

Screenshots of the main pages are kept in test-artifacts/screenshots/ (gitignored).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from api_support import PASSWORD, make_user, serve
from microfluence.demo.load import build_demo
from microfluence.demo.population import PopulationSpec
from microfluence.kernel.store import Store, open_store
from microfluence.metrics.service import compute_metrics
from microfluence.web.app import create_app

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("browser")]

CHROMIUM = "/usr/bin/chromium"
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
SHOTS = Path(__file__).resolve().parents[1] / "test-artifacts" / "screenshots"
LAPTOP = {"width": 1280, "height": 860}
PHONE = {"width": 390, "height": 844}
CSV = (
    "handle,platform,name,followers,country,category,bio\n"
    "zed_in_browser,instagram,Zed Browserton,18400,IS,outdoors,glaciers and long walks\n"
    "ula_in_browser,tiktok,Ula Browserton,5200,IS,food,fermenting everything\n"
)


@dataclass
class Site:
    base: str
    email: str
    workdir: Path


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    if not os.access(CHROMIUM, os.X_OK):
        pytest.skip("Debian's chromium is not installed (make system-deps installs it)")
    workdir = tmp_path_factory.mktemp("browser")
    url = f"sqlite:///{workdir / 'store.sqlite'}"
    store: Store = open_store(url)  # a fresh file, migrated on opening
    build_demo(store, PopulationSpec(n_creators=60, days=120, seed=11), workspace="demo")
    compute_metrics(store, "demo")
    make_user(store, "owner@demo.example", "demo", "owner")
    store.dispose()
    with serve(create_app(url)) as base:
        yield Site(base=base, email="owner@demo.example", workdir=workdir)


@pytest.fixture(scope="module")
def browser() -> Iterator:  # type: ignore[type-arg]
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=ARGS)
        yield chromium
        chromium.close()


def _shot(page, name: str) -> Path:  # type: ignore[no-untyped-def]
    """The whole page, and what fits the window (small enough for the README's tour)."""
    SHOTS.mkdir(parents=True, exist_ok=True)
    path = SHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    page.screenshot(path=str(SHOTS / f"{name}-window.png"))
    assert path.stat().st_size > 5_000  # a rendered page, not a blank one
    return path


def _sign_in(page, site: Site) -> None:  # type: ignore[no-untyped-def]
    page.goto(site.base + "/creators")
    assert "/sign-in" in page.url  # signed out: sent to the sign-in page
    page.fill("input[name=email]", site.email)
    page.fill("input[name=password]", PASSWORD)
    page.click("form[action='/auth/sign-in'] button[type=submit]")
    page.wait_for_url("**/creators")


def _wait_for_charts(page, count: int) -> None:  # type: ignore[no-untyped-def]
    page.wait_for_function(
        "n => document.querySelectorAll('.js-plotly-plot .main-svg').length >= n", arg=count
    )
    page.wait_for_load_state("load")
    page.wait_for_timeout(300)  # the charts fit their columns after "load"


def test_sign_in_import_find_profile_vetting(site: Site, browser) -> None:  # type: ignore[no-untyped-def]
    errors: list[str] = []
    context = browser.new_context(viewport=LAPTOP, accept_downloads=True)
    page = context.new_page()
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    _sign_in(page, site)
    assert page.locator("table.creators-table tbody tr").count() == 50  # one page of 60+
    _shot(page, "creators")

    # Import a file through the import page; the job runs in the background, the page polls.
    page.click("nav a[href='/imports']")
    upload = site.workdir / "new-creators.csv"
    upload.write_text(CSV, encoding="utf-8")
    page.set_input_files("input[type=file]", str(upload))
    page.select_option("select[name=kind]", "creators")
    page.click("#import-form button[type=submit]")
    page.wait_for_url("**/imports/*")
    page.wait_for_selector("#job-status.status-succeeded", timeout=60_000)
    assert "new-creators.csv" in page.inner_text("h1")
    _shot(page, "import-job")

    # Find the imported creator with the table's filters, open the profile.
    page.goto(site.base + "/creators")
    page.fill("input[name=q]", "browserton")
    page.select_option("select[name=platform]", "instagram")
    page.click("form.filters button[type=submit]")
    page.wait_for_url("**/creators?*q=browserton*")
    rows = page.locator("table.creators-table tbody tr")
    assert rows.count() == 1
    assert "Zed Browserton" in rows.first.inner_text()
    rows.first.locator("a.strong").click()
    page.wait_for_url("**/creators/*")
    assert page.inner_text("h1") == "Zed Browserton"
    _wait_for_charts(page, 1)  # the follower history of its one snapshot
    assert "not computed yet" in page.inner_text("main")
    profile = page.url

    # Re-score from the jobs page; the job page polls it to its end.
    page.click("nav a[href='/jobs']")
    assert "new-creators.csv" in page.inner_text("table.jobs-table")  # the import, listed
    page.click("#rescore-form button[type=submit]")
    page.wait_for_url("**/jobs/*")
    page.wait_for_selector("#job-status.status-succeeded", timeout=60_000)
    assert page.inner_text("#job-progress-text").strip() == "100 %"
    assert "accounts\t80" in page.inner_text("#job-outcome").lower()  # the demo's 80
    # A schedule: the hint says what the cron means as it is typed.
    page.click("a[href='/jobs']:has-text('All jobs')")
    page.fill("#schedule-cron", "0 3 * * *")
    page.wait_for_selector("#cron-hint:has-text('every day at 03:00 UTC')")
    page.click("#schedule-form button[type=submit]")
    page.wait_for_url("**/jobs#schedules")
    assert "every day at 03:00 UTC" in page.inner_text("table.schedules-table")
    assert "status-succeeded" in page.inner_html("table.jobs-table")
    _shot(page, "jobs")
    page.goto(profile)  # the imported creator is scored now
    assert "not computed yet" not in page.inner_text("main")

    # A scored creator of the demo: a micro-tier one, found with the tier filter.
    page.goto(site.base + "/creators?tier=micro&sort=-followers")
    first = page.locator("table.creators-table tbody tr").first
    assert "micro" in first.inner_text()
    first.locator("a.strong").click()
    page.wait_for_url("**/creators/*")
    _wait_for_charts(page, 3)
    card = page.locator("section.account-card").first
    assert card.locator(".js-plotly-plot").count() == 3  # history, growth, engagement per post
    for chart in card.locator(".js-plotly-plot").all():
        box = chart.bounding_box()
        column = chart.locator("xpath=..").bounding_box()
        assert box and column and box["width"] <= column["width"] + 1  # fits its column
    assert "Tier under each scheme" in card.inner_text()
    assert "HypeAuditor" in card.inner_text()
    _shot(page, "profile")

    # The vetting page of that account, and its standalone report.
    card.locator("a[href$='/vetting']").click()
    page.wait_for_url("**/vetting")
    assert "Audience Quality Score" in page.inner_text("main")
    assert page.locator("table.components-table tbody tr").count() >= 5
    _wait_for_charts(page, 2)
    _shot(page, "vetting")
    with page.expect_download() as download:
        page.click("a[href$='/vetting/report.html']")
    saved = site.workdir / "report.html"
    download.value.save_as(saved)
    assert "Audience Quality Score" in saved.read_text(encoding="utf-8")

    page.goto(site.base + "/settings")
    page.fill("#api-keys input[name=name]", "browser test")
    page.click("#api-keys button:has-text('Create key')")
    assert page.inner_text("#new-api-key").startswith("mfk_")
    _shot(page, "settings")
    assert not errors, errors  # no script error and no failed resource on any page
    context.close()


def test_phone_sized_screen(site: Site, browser) -> None:  # type: ignore[no-untyped-def]
    context = browser.new_context(viewport=PHONE, is_mobile=True, has_touch=True)
    page = context.new_page()
    _sign_in(page, site)
    # The page itself never scrolls sideways; the table collapses into one card per creator.
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE["width"]
    assert not page.locator("table.creators-table thead").is_visible()
    first = page.locator("table.creators-table tbody tr").first
    assert first.bounding_box()["width"] <= PHONE["width"]
    _shot(page, "phone-creators")
    first.locator("a.strong").click()
    page.wait_for_url("**/creators/*")
    _wait_for_charts(page, 1)
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    _shot(page, "phone-profile")
    context.close()


def test_tracking_links_on_the_profile(site: Site, browser) -> None:  # type: ignore[no-untyped-def]
    """Make a link with the profile's form, follow it once (not into the destination: the
    redirect is read, nothing leaves 127.0.0.1), see its click counted, disable it."""
    errors: list[str] = []
    context = browser.new_context(viewport=LAPTOP)
    page = context.new_page()
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("dialog", lambda dialog: dialog.accept())  # "Stop this link redirecting?"
    _sign_in(page, site)
    page.locator("table.creators-table tbody tr a.strong").first.click()
    page.wait_for_url("**/creators/*")
    section = page.locator("section#links")
    assert "No tracking link yet" in section.inner_text()
    section.locator("input[name=url]").fill("http://127.0.0.1:9/landing?ref=bio")
    section.locator("button:has-text('Create link')").click()
    page.wait_for_url("**/creators/*#links")
    row = page.locator("section#links tbody tr").first
    short_url = row.locator("code").inner_text()
    assert "utm_medium=influencer" in row.inner_text()
    answer = page.request.get(short_url, max_redirects=0)
    assert answer.status == 302 and "mf_click=" in answer.headers["location"]
    for _ in range(50):  # the click reaches the counts within a second or two
        page.reload()
        row = page.locator("section#links tbody tr").first
        if row.locator("td[data-label=Clicks]").inner_text() == "1":
            break
        page.wait_for_timeout(200)
    assert row.locator("td[data-label=Clicks]").inner_text() == "1"
    row.locator("button:has-text('Disable')").click()
    page.wait_for_url("**/creators/*#links")
    assert "disabled" in page.locator("section#links tbody tr").first.inner_text()
    for _ in range(40):  # every process stops redirecting it within its 2 s cache
        if page.request.get(short_url, max_redirects=0).status == 404:
            break
        page.wait_for_timeout(200)
    assert page.request.get(short_url, max_redirects=0).status == 404
    page.goto(site.base + "/links")
    assert short_url.rsplit("/", 1)[1] in page.inner_text("main")
    _shot(page, "links")
    assert not errors, errors
    context.close()
