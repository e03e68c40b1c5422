"""`microfluence relations …` and `microfluence privacy creator`: the record, tags, partners,
do-not-contact, the deal history, the audit log and erasure from the command line (both
stores)."""

from __future__ import annotations

import json

from typer.testing import CliRunner

from api_support import make_tenant
from microfluence.cli.main import app
from microfluence.kernel.store import open_store
from store_support import flat


def test_relations_commands(store_url, monkeypatch):
    from microfluence.kernel import console

    monkeypatch.setattr(console.console, "_width", 240)
    store = open_store(store_url)
    acme = make_tenant(store, "acme")
    store.dispose()
    ana = str(acme.creator_ids[0])

    def run(*args: str, input: str | None = None):  # type: ignore[no-untyped-def]
        env = {"MICROFLUENCE_DATABASE_URL": store_url}
        return CliRunner().invoke(app, ["relations", *args, "-w", "acme"], input=input, env=env)

    made = run(
        "set",
        "instagram:acme_ana",
        "--email",
        "ana@example.com",
        "--phone",
        "+33 1 23 45 67 89",
        "--address",
        "city=Lyon",
        "--rating",
        "4",
    )
    assert made.exit_code == 0, made.output
    assert "ana@example.com" in made.output and "Lyon" in made.output
    bad = run("set", ana, "--rating", "7")
    assert bad.exit_code == 1 and "rating" in bad.output
    bad = run("set", ana, "--email", "nope")
    assert bad.exit_code == 1 and "email" in bad.output
    tagged = run("tag", ana, "--add", "#Summer Gifting", "--add", "vegan")
    assert tagged.exit_code == 0 and "summer-gifting, vegan" in tagged.output
    listed = run("list", "--tag", "vegan", "--json")
    assert [r["creator_id"] for r in json.loads(listed.stdout)["data"]] == [int(ana)]
    partner = run("partner", ana, "--new-code", "--value", "15", "--early-access")
    assert partner.exit_code == 0 and "early access" in flat(partner.output)
    assert run("dnc", ana, "--reason", "asked").exit_code == 0
    assert "yes" in run("list", "--dnc").output
    lifted = run("lift", ana, "--reason", "")
    assert lifted.exit_code == 1 and "reason" in lifted.output
    assert run("lift", ana, "--reason", "came back").exit_code == 0
    shown = run("show", ana, "--json")
    assert json.loads(shown.stdout)["record"]["phone"] == "+33 1 23 45 67 89"
    assert json.loads(run("history", ana, "--json").stdout)["totals"]["deals"] == 0
    audit = json.loads(run("audit", "--creator", ana, "--json").stdout)
    actions = [e["action"] for e in audit["data"]]
    assert actions[0] == "view" and "lift_do_not_contact" in actions
    assert all(e["via"] == "cli" for e in audit["data"])
    kept = run("erase", ana, "--reason", "her request", input="n\n")
    assert kept.exit_code == 1
    erased = run("erase", ana, "--reason", "her request", "--yes")
    assert erased.exit_code == 0 and "erased creator" in erased.output
    env = {"MICROFLUENCE_DATABASE_URL": store_url}
    record = CliRunner().invoke(app, ["privacy", "creator", ana, "-w", "acme"], env=env)
    assert "ana@example.com" not in record.stdout
    assert json.loads(record.stdout)["relationship"]["record"]["erased_at"]
    missing = run("show", "999999")
    assert missing.exit_code == 1 and "no creator with id 999999" in missing.output
