"""`microfluence authorisations …`: the same services as the API — apps (the secret asked for,
never echoed), connect links, list, read now, insights, revoke — one clear line on errors."""

from __future__ import annotations

import json

from typer.testing import CliRunner

from microfluence.cli.main import app
from oauth_support import (  # noqa: F401  the fixtures
    CLIENTS,
    SECRETS,
    World,
    standin_fixture,
    world_fixture,
)


def run(store_url: str, *args: str, stdin: str | None = None):  # type: ignore[no-untyped-def]
    return CliRunner().invoke(
        app,
        ["authorisations", *args, "--workspace", "brand", "--database-url", store_url],
        input=stdin,
    )


def test_the_command_line_from_app_to_revoke(world: World, store_url: str) -> None:
    secret = SECRETS["tiktok"]
    made = run(store_url, "app", "tiktok", "--client-id", CLIENTS["tiktok"], stdin=secret + "\n")
    assert made.exit_code == 0, made.output
    assert secret not in made.output and "stored sealed" in made.output
    listed = run(store_url, "apps", "--json")
    assert json.loads(listed.output)[0]["client_id"] == CLIENTS["tiktok"]
    assert secret not in listed.output
    creator = str(world.a.creator_ids[0])
    link = run(
        store_url, "link", creator, "--platform", "tiktok", "--base-url", "http://testserver"
    )
    assert link.exit_code == 0, link.output
    path = "/connect/" + link.output.strip().rsplit("/connect/", 1)[1].replace("\n", "")
    start = world.client.post(path, follow_redirects=False)
    assert start.status_code == 303
    assert world.callback(world.consent(start.headers["location"])).status_code == 200
    rows = json.loads(run(store_url, "list", "--json", "--platform", "tiktok").output)
    assert len(rows) == 1 and rows[0]["status"] == "active"
    auth_id = str(rows[0]["id"])
    fetched = run(store_url, "fetch", auth_id)
    assert fetched.exit_code == 0 and "active" in fetched.output, fetched.output
    shown = run(store_url, "insights", str(rows[0]["account_id"]))
    assert "verified by the creator's authorisation" in shown.output
    assert "follower_count" in shown.output and "50210" in shown.output
    every = run(store_url, "fetch", "--all", "--json")
    assert every.exit_code == 0 and json.loads(every.output)[0]["insights"] > 0
    for token in world.s.issued:
        for output in (fetched.output, shown.output, every.output):
            assert token not in output
    revoked = run(store_url, "revoke", auth_id)
    assert revoked.exit_code == 0 and "revoked" in revoked.output
    assert world.s.revoked == ["tiktok"]
    refused = run(store_url, "fetch", auth_id)
    assert refused.exit_code == 1 and "must connect again" in refused.output


def test_errors_are_one_line(world: World, store_url: str) -> None:
    bad = run(store_url, "app", "myspace", "--client-id", "x", stdin="y" * 20 + "\n")
    assert bad.exit_code == 1 and "field 'platform'" in bad.output
    short = run(store_url, "app", "youtube", "--client-id", "x", stdin="short\n")
    assert short.exit_code == 1 and "field 'client_secret'" in short.output
    no_app = run(store_url, "link", str(world.a.creator_ids[0]), "--platform", "youtube")
    assert no_app.exit_code == 1 and "no youtube app" in no_app.output
    assert run(store_url, "revoke", "999").exit_code == 1
    assert run(store_url, "fetch").exit_code != 0  # neither an id nor --all
