"""`microfluence search`, `shortlists` and `searches`: the same services, one-line errors."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from discovery_support import Planter
from microfluence.campaigns.campaigns import create_campaign
from microfluence.campaigns.schemas import CampaignCreate
from microfluence.cli.main import app
from microfluence.kernel.workspaces import ensure_workspace
from store_support import flat


@pytest.fixture(autouse=True)
def wide_console(monkeypatch: pytest.MonkeyPatch) -> None:
    from microfluence.kernel import console

    monkeypatch.setattr(
        console.console, "_width", 250
    )  # restored to None: width follows COLUMNS again
    monkeypatch.setattr(console.err_console, "_width", 250)


def _run(url: str, *args: str) -> tuple[int, str]:
    result = CliRunner().invoke(app, [*args, "--workspace", "acme", "--database-url", url])
    return result.exit_code, flat(result.output)


@pytest.fixture
def url(store, store_url):
    with store.transaction() as session:
        ws = ensure_workspace(session, "acme")
        p = Planter(session, ws.id)
        p.account("veganbaker", bio="vegan baking in Lyon", country="FR", er=0.04, quality=80)
        p.account("runner", platform="tiktok", bio="trail running", country="DE", er=0.01)
        create_campaign(session, ws.id, CampaignCreate(name="Spring"))
    return store_url


def test_search_prints_why_and_json(url):
    code, out = _run(url, "search", "vegan", "--country", "fr", "--min-er", "0.02")
    assert code == 0 and "instagram:veganbaker" in out and "bio: vegan" in out
    assert "runner" not in out
    result = CliRunner().invoke(
        app, ["search", "--platform", "tiktok", "--json", "-w", "acme", "--database-url", url]
    )
    page = json.loads(result.output)
    assert [r["handle"] for r in page["results"]] == ["runner"] and page["count"] == 1
    code, out = _run(url, "search", "--min-quality", "101")
    assert code == 1 and "error:" in out and "min_quality" in out
    code, out = _run(url, "search", "x", "--weights", "relevance=lots")
    assert code == 1 and "not a number" in out


def test_shortlists_round_trip(url, tmp_path):
    assert _run(url, "shortlists", "create", "Bakers")[0] == 0
    code, out = _run(url, "shortlists", "add", "1", "instagram:veganbaker", "--note", "=2+2")
    assert code == 0 and "Added 1" in out
    code, out = _run(url, "shortlists", "add", "1", "instagram:nobody")
    assert code == 1 and "nobody" in out
    assert "=2+2" in _run(url, "shortlists", "show", "1")[1]
    target = tmp_path / "list.csv"
    assert _run(url, "shortlists", "export", "1", "--out", str(target))[0] == 0
    assert "'=2+2" in target.read_text()
    code, out = _run(url, "shortlists", "to-campaign", "1", "Spring")
    assert code == 0 and "Added 1 prospects" in out
    assert "Bakers (1 creators)" in _run(url, "shortlists", "list")[1]
    assert _run(url, "shortlists", "remove", "1", "1")[0] == 0
    assert _run(url, "shortlists", "delete", "1")[0] == 0
    assert _run(url, "shortlists", "show", "1")[0] == 1


def test_saved_searches_round_trip(url):
    assert _run(url, "searches", "save", "veg", "vegan", "--country", "FR")[0] == 0
    assert "veg" in _run(url, "searches", "list")[1]
    code, out = _run(url, "searches", "run", "veg")
    assert code == 0 and "instagram:veganbaker" in out
    assert _run(url, "searches", "save", "veg", "x")[0] == 1
    assert _run(url, "searches", "delete", "veg")[0] == 0
    assert _run(url, "searches", "run", "veg")[0] == 1
    code, out = _run(url, "searches", "refresh")
    assert code == 0 and "2 accounts" in out
