"""`microfluence pipeline …`: add prospects, move them, read the board, a deal's history and the
statistics, on both stores; errors as one clear line, and a refused move changes nothing."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from campaign_support import campaign, make_world
from microfluence.cli.main import app
from microfluence.kernel.store import open_store
from store_support import flat


@pytest.fixture(autouse=True)
def wide_console(monkeypatch: pytest.MonkeyPatch) -> None:
    from microfluence.kernel import console

    monkeypatch.setattr(console.console, "_width", 240)


def _run(url: str, *args: str) -> tuple[int, str]:
    result = CliRunner().invoke(app, [*args, "--workspace", "brand", "--database-url", url])
    return result.exit_code, flat(result.output)


def _json(url: str, *args: str):  # type: ignore[no-untyped-def]
    result = CliRunner().invoke(
        app, [*args, "--json", "--workspace", "brand", "--database-url", url]
    )
    assert result.exit_code == 0, result.output
    return json.loads(result.output)


def test_pipeline_round_trip(store_url):
    store = open_store(store_url)
    world = make_world(store)
    campaign(store, world)
    store.dispose()
    added = _json(store_url, "pipeline", "add", "Summer glow", "instagram:sarah", "instagram:tom")
    assert [p["creator_name"] for p in added["added"]] == ["Sarah", "Tom"]
    code, out = _run(store_url, "pipeline", "add", "Summer glow", "tiktok:sarah_tt", "youtube:uma")
    assert code == 0 and "added 1 prospect(s)" in out and "already in the campaign: Sarah" in out
    code, out = _run(
        store_url,
        "pipeline",
        "move",
        "Summer glow",
        "instagram:sarah",
        "youtube:uma",
        "--to",
        "contacted",
        "--by",
        "ann@brand.test",
    )
    assert code == 0 and "moved 2 deal(s) to contacted" in out, out
    code, out = _run(
        store_url, "pipeline", "move", "Summer glow", "instagram:sarah", "--to", "contacted"
    )
    assert code == 0 and "moved 0 deal(s)" in out and "1 already there" in out
    code, out = _run(store_url, "pipeline", "show", "Summer glow")
    assert code == 0 and "prospect 1: Tom" in out and "contacted 2:" in out, out
    listed = _json(store_url, "pipeline", "show", "Summer glow", "--list", "--sort", "-stage")
    assert [c["creator_name"] for c in listed][-1] == "Tom"
    code, out = _run(store_url, "pipeline", "show", "Summer glow", "--list", "--sort", "creator")
    assert code == 0 and out.index("Sarah") < out.index("Tom") < out.index("Uma")
    events = _json(store_url, "pipeline", "history", "Summer glow", "instagram:sarah")
    assert [(e["kind"], e["to_stage"]) for e in events] == [
        ("added", "prospect"),
        ("stage", "contacted"),
    ]
    assert events[0]["actor"].startswith("cli:") and events[1]["actor"] == "ann@brand.test"
    code, out = _run(store_url, "pipeline", "history", "Summer glow", "instagram:sarah")
    assert code == 0 and "prospect → contacted" in out and "ann@brand.test (user)" in out
    stats = _json(store_url, "pipeline", "stats", "Summer glow")
    assert stats["deals"] == 3 and stats["reached"]["contacted"] == 2
    code, out = _run(store_url, "pipeline", "stats", "Summer glow")
    assert (
        code == 0
        and "prospect → contacted: 66.7 % (2/3)" in out
        and "reached paid: 0.0 % of 3" in out
    )


def test_errors_are_one_line_and_change_nothing(store_url):
    store = open_store(store_url)
    world = make_world(store)
    campaign(store, world)
    store.dispose()
    _json(store_url, "pipeline", "add", "Summer glow", "instagram:sarah")
    before = _json(store_url, "pipeline", "show", "Summer glow")
    for args, message in (
        (
            ("move", "Summer glow", "instagram:sarah", "instagram:tom", "--to", "agreed"),
            "creators[1]: instagram:tom has no deal in this campaign",
        ),
        (("move", "Summer glow", "instagram:sarah", "--to", "signed"), "unknown stage 'signed'"),
        (("move", "Nope", "instagram:sarah", "--to", "agreed"), "Nope"),
        (("add", "Summer glow", "instagram:ghost"), "creators[0]"),
        (("add", "Summer glow", "sarah"), "creators[0]"),
        (("history", "Summer glow", "instagram:tom"), "has no deal in this campaign"),
    ):
        code, out = _run(store_url, "pipeline", *args)
        assert code == 1 and message in out and "Traceback" not in out, (args, out)
    after = _json(store_url, "pipeline", "show", "Summer glow")
    for board in (before, after):
        for column in board["columns"]:
            for card in column["cards"]:
                card.pop("days_in_stage")
    assert after == before
