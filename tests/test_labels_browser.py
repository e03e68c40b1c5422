"""The labelling page in a real browser (Debian's Chromium, headless, via Playwright) against the
real app served by uvicorn on 127.0.0.1: ten followers labelled with the keyboard move the
workspace's fake-share estimate; ← goes back to the last label."""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from api_support import PASSWORD, make_user, serve
from labels_support import sampled_workspace
from microfluence.kernel.store import open_store
from microfluence.web.app import create_app

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("browser")]

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--no-first-run"]
SHOTS = Path(__file__).resolve().parents[1] / "test-artifacts" / "screenshots"


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    if not os.access(CHROMIUM, os.X_OK):
        pytest.skip("Debian's chromium is not installed (make system-deps installs it)")
    url = f"sqlite:///{tmp_path_factory.mktemp('labels-browser') / 'store.sqlite'}"
    store = open_store(url)
    sampled_workspace(store)  # 30 bot-like followers the model flags, 30 person-like
    make_user(store, "labeller@acme.example", "acme", "member")
    store.dispose()
    with serve(create_app(url)) as base:
        yield base


def _percent(text: str) -> float:
    match = re.search(r"([\d.]+) %", text)
    assert match, text
    return float(match.group(1))


def test_ten_followers_labelled_with_the_keyboard_move_the_estimate(site: str) -> None:
    from playwright.sync_api import sync_playwright

    errors: list[str] = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=ARGS)
        page = browser.new_page(viewport={"width": 1280, "height": 900})
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
        page.goto(site + "/labels")
        page.fill("input[name=email]", "labeller@acme.example")
        page.fill("input[name=password]", PASSWORD)
        page.click("form[action='/auth/sign-in'] button[type=submit]")
        page.goto(site + "/labels")
        before = _percent(page.inner_text("#workspace-after"))
        assert before == _percent(page.inner_text("#workspace-before"))
        labelled, called_real = [], 0
        for _ in range(10):
            page.wait_for_load_state("load")
            card = page.locator("#label-card")
            follower = card.get_attribute("data-follower-id")
            assert "probability" not in card.inner_text()  # the verdict stays hidden
            bot_like = card.inner_text().count("@user") > 0
            # The labeller says every one is real: the bot-like ones the model flags are its
            # false positives here, so the workspace's false-positive rate rises.
            page.keyboard.press("r")
            called_real += bot_like
            page.wait_for_function(
                "id => document.getElementById('label-card')?.dataset.followerId !== id",
                arg=follower,
            )
            labelled.append(follower)
        assert len(set(labelled)) == 10  # each draw a follower not yet labelled
        assert "10 of 60 followers labelled" in page.inner_text("#labels-progress")
        assert "you said real" in page.inner_text("#label-feedback")
        after = _percent(page.inner_text("#workspace-after"))
        assert after != before
        if called_real:
            assert after < before
        SHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SHOTS / "labels.png"), full_page=True)
        # ← goes back to the last label, which a new key replaces.
        page.wait_for_load_state("load")
        page.keyboard.press("ArrowLeft")
        page.wait_for_url(f"**/labels?follower={labelled[-1]}")
        assert page.get_attribute("#label-card", "data-follower-id") == labelled[-1]
        assert "Labelled real" in page.inner_text("#label-given")
        page.wait_for_load_state("load")
        page.keyboard.press("f")
        page.wait_for_url("**/labels?last=*")
        assert "10 of 60 followers labelled" in page.inner_text("#labels-progress")
        assert "you said fake" in page.inner_text("#label-feedback")
        browser.close()
    assert errors == []
