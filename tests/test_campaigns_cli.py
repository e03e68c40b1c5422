"""`microfluence campaigns|deals|deliverables`: a round trip on both stores, and errors as one
clear line naming the field."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from typer.testing import CliRunner

from campaign_support import add_post, make_world
from microfluence.cli.main import app
from microfluence.kernel.store import open_store
from store_support import flat


@pytest.fixture(autouse=True)
def wide_console(monkeypatch: pytest.MonkeyPatch) -> None:
    """Tables wide enough that Rich does not wrap their cells."""
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


def test_round_trip(store_url):
    store = open_store(store_url)
    world = make_world(store)
    add_post(store, world, "p1", "instagram:sarah", dt.datetime(2026, 6, 3), "hello #SummerGlow")
    add_post(store, world, "p2", "instagram:sarah", dt.datetime(2026, 6, 4), "no tag", "reel")
    store.dispose()
    made = _json(
        store_url,
        "campaigns",
        "create",
        "Summer glow",
        "--goal",
        "sales",
        "--starts-on",
        "2026-06-01",
        "--ends-on",
        "2026-06-30",
        "--budget",
        "5000",
        "--currency",
        "eur",
        "--target",
        "clicks=10000",
        "--target",
        "roi=1.5",
        "--hashtag",
        "#SummerGlow",
        "--mention",
        "@GlowBrand",
    )
    assert made["currency"] == "EUR" and made["budget"] == "5000.00" and made["status"] == "draft"
    assert made["targets"] == {"clicks": 10000, "roi": 1.5} and made["hashtags"] == ["summerglow"]
    deal = _json(
        store_url,
        "deals",
        "add",
        "Summer glow",
        "instagram:@Sarah",
        "--fee",
        "500",
        "--commission",
        "10%",
        "--deliverable",
        "feed_post=1",
        "--deliverable",
        "reel=1",
        "--due",
        "2026-06-20",
    )
    assert deal["commission_rate"] == "0.1000" and deal["package"] == {"feed_post": 1, "reel": 1}
    code, out = _run(store_url, "deals", "add", "Summer glow", "tiktok:sarah_tt")
    assert code == 1 and "already has a deal" in out and "Traceback" not in out
    matched = _json(store_url, "deliverables", "match", "Summer glow")
    assert matched["matched"] == 1
    assert matched["deliverables"][0]["match_reason"] == "#summerglow in caption"
    pieces = _json(store_url, "deliverables", "list", "Summer glow")
    reel = next(p for p in pieces if p["format"] == "reel")
    code, out = _run(
        store_url,
        "deliverables",
        "assign",
        "Summer glow",
        str(reel["id"]),
        "https://example.social/p/p2",
    )
    assert code == 0 and "confirmed (user)" in out
    code, out = _run(
        store_url, "deliverables", "confirm", "Summer glow", str(matched["deliverables"][0]["id"])
    )
    assert code == 0 and "confirmed (auto)" in out
    code, out = _run(store_url, "deliverables", "reject", "Summer glow", str(reel["id"]))
    assert code == 0 and "pending" in out
    changed = _json(store_url, "campaigns", "update", "Summer glow", "--status", "active")
    assert changed["status"] == "active"
    code, out = _run(store_url, "campaigns", "update", "Summer glow", "--status", "draft")
    assert code == 1 and "field 'status'" in out and "cannot become draft" in out
    updated = _json(store_url, "deals", "update", "Summer glow", "instagram:sarah", "--fee", "650")
    assert updated["flat_fee"] == "650.00"
    shown = _json(store_url, "campaigns", "show", "Summer glow")
    assert shown["deals"] == 1 and len(shown["deliverables"]) == 2
    code, out = _run(store_url, "campaigns", "list")
    assert code == 0 and "Summer glow" in out and "active" in out
    code, out = _run(store_url, "deals", "remove", "Summer glow", "instagram:sarah")
    assert code == 0
    assert _json(store_url, "deals", "list", "Summer glow") == []
    code, out = _run(store_url, "campaigns", "delete", "Summer glow", "--yes")
    assert code == 0
    assert _json(store_url, "campaigns", "list") == []


def test_errors_are_one_line_naming_the_field(sqlite_store):
    url = str(sqlite_store.engine.url)
    make_world(sqlite_store)
    for args, words in (
        (("campaigns", "create", "X", "--currency", "EURO"), "field 'currency'"),
        (("campaigns", "create", "X", "--target", "likes=3"), "unknown KPI 'likes'"),
        (("campaigns", "create", "X", "--budget", "-5"), "field 'budget'"),
        (("campaigns", "show", "Nope"), "no campaign named 'Nope'"),
        (("deals", "add", "Nope", "instagram:sarah"), "no campaign named"),
    ):
        code, out = _run(url, *args)
        assert code == 1 and words in out and "Traceback" not in out, (args, out)
    _run(url, "campaigns", "create", "X")
    for args, words in (
        (("deals", "add", "X", "instagram:sarah", "--deliverable", "tweet=1"), "unknown format"),
        (("deals", "add", "X", "instagram:sarah", "--commission", "150%"), "commission_rate"),
        (("deals", "add", "X", "sarah"), "field 'creator'"),
        (("deliverables", "confirm", "X", "999"), "no deliverable with id 999"),
    ):
        code, out = _run(url, *args)
        assert code == 1 and words in out and "Traceback" not in out, (args, out)
