"""`microfluence reminders` and `microfluence tasks …`: a round trip on both stores, the human
table, thresholds set from the command, and errors as one clear line naming the field."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from typer.testing import CliRunner

from campaign_support import campaign, deal, make_world
from microfluence.cli.main import app
from microfluence.kernel.store import open_store
from microfluence.relationships.stages import move_deals
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


def test_tasks_and_reminders_round_trip(store_url):
    store = open_store(store_url)
    world = make_world(store)
    cid = campaign(store, world)
    sarah = deal(store, world, cid, "instagram:sarah")
    tom = deal(store, world, cid, "instagram:tom")
    with store.transaction() as session:
        move_deals(
            session, world.workspace_id, [tom], "contacted", actor="a", at=dt.datetime(2026, 7, 1)
        )
    store.dispose()
    made = _json(
        store_url, "tasks", "add", "Ship the serum", "--kind", "shipment", "--due", "2026-07-09",
        "--campaign", "Summer glow", "--creator", "instagram:sarah", "--assignee", "Bob@brand.test",
    )  # fmt: skip
    assert (made["deal_id"], made["kind"], made["due_on"], made["assignee"]) == (
        sarah,
        "shipment",
        "2026-07-09",
        "bob@brand.test",
    )
    general = _json(store_url, "tasks", "add", "Plan Q3", "--due", "2026-07-30")
    about_uma = _json(store_url, "tasks", "add", "Ask Uma", "--creator", "youtube:uma")
    assert about_uma["creator_id"] == world.creators["Uma"] and about_uma["deal_id"] is None

    code, out = _run(store_url, "reminders", "--today", "2026-07-10")
    assert code == 0
    assert "Ship the serum" in out and "1 day late" in out
    assert "Follow up: no reply" in out and "2 days late" in out  # contacted 9 days before
    assert "Plan Q3" not in out
    assert "2 overdue; 1 tasks, 1 follow-ups." in out
    found = _json(store_url, "reminders", "--today", "2026-07-10", "--assignee", "bob@brand.test")
    assert [(i["kind"], i["item_id"]) for i in found["items"]] == [("task", made["id"])]

    # A threshold set from the command is kept for the workspace.
    found = _json(store_url, "reminders", "--today", "2026-07-10", "--set", "follow_up_days=10")
    assert found["thresholds"]["follow_up_days"] == 10 and found["counts"]["follow_up"] == 0
    again = _json(store_url, "reminders", "--today", "2026-07-10")
    assert again["thresholds"]["follow_up_days"] == 10
    assert _json(store_url, "reminders", "--reset")["thresholds"]["follow_up_days"] == 7

    code, out = _run(store_url, "tasks", "list")
    assert code == 0 and out.index("Ship the serum") < out.index("Plan Q3") < out.index("Ask Uma")
    changed = _json(store_url, "tasks", "edit", str(general["id"]), "--due", "", "--assignee", "")
    assert changed["due_on"] is None
    assert _json(store_url, "tasks", "done", str(made["id"]))["status"] == "done"
    assert [t["id"] for t in _json(store_url, "tasks", "list", "--status", "done")] == [made["id"]]
    assert _json(store_url, "tasks", "reopen", str(made["id"]))["status"] == "open"
    code, out = _run(store_url, "tasks", "remove", str(general["id"]))
    assert code == 0 and f"Task {general['id']} removed." in out
    titles = [t["title"] for t in _json(store_url, "tasks", "list", "--status", "all")]
    assert titles == ["Ship the serum", "Ask Uma"]
    code, out = _run(store_url, "reminders", "--campaign", "Summer glow", "--today", "2026-06-01")
    assert code == 0 and "Nothing needs attention on 2026-06-01." in out


def test_errors_are_one_line_naming_the_field(sqlite_store, tmp_path):
    url = str(sqlite_store.engine.url)
    make_world(sqlite_store)
    for args, expected in (
        (("tasks", "add", "x", "--due", "31/12/2026"), "field 'due_on'"),
        (("tasks", "add", "x", "--kind", "chore"), "kind"),
        (("tasks", "add", "x", "--deal", "999"), "field 'deal_id': no deal with id 999"),
        (("tasks", "add", "x", "--creator", "instagram:nobody"), "instagram:nobody"),
        (("tasks", "add", "x", "--campaign", "Summer glow"), "field 'creator'"),
        (("tasks", "add", "x", "--assignee", "bob"), "field 'assignee'"),
        (("tasks", "done", "999"), "no task with id 999"),
        (("reminders", "--set", "follow_up_days=-2"), "field 'follow_up_days'"),
        (("reminders", "--set", "nonsense=2"), "unknown threshold 'nonsense'"),
        (("reminders", "--today", "tomorrow"), "field 'today'"),
        (("reminders", "--campaign", "Nope"), "Nope"),
        (("tasks", "list", "--status", "closed"), "field 'status'"),
    ):
        code, out = _run(url, *args)
        assert code == 1 and out.startswith("error:") and expected in out, (args, out)
    assert _json(url, "tasks", "list", "--status", "all") == []
