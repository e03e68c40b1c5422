"""`microfluence prices` and `microfluence plan`: the planning services, one-line errors."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from microfluence.cli.main import app
from microfluence.kernel.store import open_store
from planning_support import make_plan_world
from store_support import flat


@pytest.fixture(autouse=True)
def wide_console(monkeypatch: pytest.MonkeyPatch) -> None:
    from microfluence.kernel import console

    monkeypatch.setattr(
        console.console, "_width", 250
    )  # restored to None: width follows COLUMNS again
    monkeypatch.setattr(console.err_console, "_width", 250)


@pytest.fixture(scope="module")
def url(sqlite_template: Path, tmp_path_factory: pytest.TempPathFactory) -> str:
    """One store for the module (the commands only read, but the last one's campaign)."""
    path = tmp_path_factory.mktemp("planning") / "plan.sqlite"
    shutil.copyfile(sqlite_template, path)
    store = open_store(f"sqlite:///{path}")
    make_plan_world(store)
    store.dispose()
    return f"sqlite:///{path}"


def run(url: str, *args: str) -> tuple[int, str]:
    result = CliRunner().invoke(app, [*args, "--workspace", "brand", "--database-url", url])
    return result.exit_code, flat(result.output)


def test_prices_show_every_format_with_its_basis(url):
    code, out = run(url, "prices", "instagram:bo")
    assert code == 0, out
    for fmt in ("feed_post", "reel", "story", "bundle"):
        assert fmt in out
    assert "2 deals of this workspace + prior" in out
    code, out = run(url, "prices", "instagram:bo", "--json")
    assert json.loads(out)["deals"] == 2
    code, out = run(url, "prices", "bo")
    assert code == 1 and out.startswith("error:")


def test_plan_prints_the_plan_and_its_alternatives(url):
    code, out = run(
        url,
        "plan",
        "--budget",
        "3000",
        "--objective",
        "clicks",
        "--country",
        "FR=2:",
        "--max-creators",
        "3",
    )
    assert code == 0, out
    assert "best single creator" in out and "without constraints" in out
    assert "P(ROI > 0)" in out and "solver: optimal" in out
    code, out = run(url, "plan", "--budget", "3000", "--json", "--format", "story")
    body = json.loads(out)
    assert {i["format"] for i in body["plan"]["items"]} == {"story"}


def test_plan_errors_name_the_option(url):
    code, out = run(url, "plan", "--budget", "3000", "--niche", "beauty")
    assert code == 1 and "--niche" in out and "NAME=MIN:MAX" in out
    code, out = run(url, "plan", "--budget", "3000", "--niche", "travel=3:")
    assert code == 1 and "niches.travel" in out
    code, out = run(url, "plan", "--budget", "-5")
    assert code == 1 and "budget" in out
    code, out = run(url, "plan", "--budget", "3000", "--objective", "fame")
    assert code == 1 and "objective" in out


def test_a_plan_becomes_a_new_campaign(url):
    code, out = run(url, "plan", "--budget", "1500", "--to-campaign", "Planned")
    assert code == 0, out
    assert "campaign 'Planned'" in out and "new deals" in out
    code, out = run(url, "deals", "list", "Planned")
    assert code == 0, out


def test_the_library_prices_plans_and_makes_deals(url):
    import microfluence

    with microfluence.open_workspace("brand", url, create=False) as ws:
        quoted = ws.prices("instagram:bo")
        assert quoted.deals >= 2 and quoted.prices  # the earlier tests added deals too
        result = ws.plan(2000, "reach", max_creators=2, niches={"beauty": {"min": 1}})
        assert 1 <= len(result.plan.items) <= 2
        assert any(i.niche == "beauty" for i in result.plan.items)
        campaign_id = ws.plan_to_deals(result, campaign="From the library")
        assert campaign_id > 0
