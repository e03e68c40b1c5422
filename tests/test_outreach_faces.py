"""Outreach through its faces: the API (templates, preview, send through a real SMTP server,
the outbox, replies, settings, sequences, roles), the unsubscribe link followed end to end
against the running app, the pages, and the CLI."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator

import httpx
import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from api_support import make_user, serve
from microfluence.access.api_keys import create_api_key
from microfluence.cli.main import app as cli
from microfluence.kernel.store.tables import Workspace
from microfluence.relationships.contact import relation_of
from microfluence.web.app import create_app
from outreach_support import SmtpServer, make_outreach, running_smtp_server
from pages_support import sign_in

BODY = "Hi {{ first_name }}, about {{ offer }}.\nUnsubscribe: {{ unsubscribe_link }}\n"


@pytest.fixture
def smtp_server() -> Iterator[SmtpServer]:
    with running_smtp_server() as server:
        yield server


def _keys(store, ws_name: str) -> dict[str, dict[str, str]]:
    with store.transaction() as session:
        ws = session.query(Workspace).filter(Workspace.name == ws_name).one()
        return {
            role: {
                "Authorization": "Bearer "
                + create_api_key(session, workspace=ws, name=f"{role}-o", role=role).secret
            }
            for role in ("viewer", "member", "owner")
        }


def test_the_api_from_template_to_unsubscribe_on_a_running_server(store, smtp_server):
    world = make_outreach(store, smtp=smtp_server)
    keys = _keys(store, "brand")
    app = create_app(store.url)
    with serve(app) as base, httpx.Client(base_url=base, timeout=30) as client:
        made = client.post(
            "/api/v1/templates",
            json={"name": "intro", "subject": "Hi {{ first_name }}", "body": BODY},
            headers=keys["member"],
        )
        assert made.status_code == 201, made.text
        tid = made.json()["id"]
        bad = client.post(
            "/api/v1/templates",
            json={"name": "bad", "subject": "x", "body": "ok\n{{ ''.__class__ }}"},
            headers=keys["member"],
        )
        assert bad.status_code == 422 and "attribute access" in bad.json()["message"]
        assert bad.json()["details"] == [{"line": 2, "field": "body"}]
        # Viewers read and preview, but cannot write or send.
        assert client.get("/api/v1/templates", headers=keys["viewer"]).json()["count"] == 1
        shown = client.get(
            f"/api/v1/templates/{tid}/preview",
            params={"deal_id": world.deals["Cy"]},
            headers=keys["viewer"],
        ).json()
        assert shown.get("skip_reason") == "the creator has no e-mail address", shown
        assert shown["body"].startswith("Hi Cy, about a fee of 250.00 EUR")
        send = {"template": "intro", "campaign_id": world.campaign_id}
        denied = client.post("/api/v1/outreach/send", json=send, headers=keys["viewer"])
        assert denied.status_code == 403
        dry = client.post(
            "/api/v1/outreach/send", json={**send, "dry_run": True}, headers=keys["member"]
        ).json()
        assert dry["queued"] == 0 and len(dry["messages"]) == 3 and dry["delivery"] is None
        assert smtp_server.inbox.messages == []
        sent = client.post(
            "/api/v1/outreach/send",
            json={**send, "creators": ["instagram:ana", "instagram:cy"]},
            headers=keys["member"],
        )
        assert sent.status_code == 200, sent.text
        assert sent.json()["delivery"]["sent"] == 1 and sent.json()["skipped"] == 1
        (received,) = smtp_server.inbox.messages
        link = re.search(r"Unsubscribe: (\S+)", received.get_content()).group(1)
        assert link.startswith(base + "/u/")
        assert f"<{link}>" in received["List-Unsubscribe"]
        outbox = client.get("/api/v1/outreach/messages", headers=keys["viewer"]).json()
        assert [m["status"] for m in outbox["data"]] == ["skipped", "sent"]
        # The creator follows the link: a page, then the RFC 8058 one-click POST.
        page = client.get(link.removeprefix(base))
        assert page.status_code == 200 and "Unsubscribe" in page.text
        assert "Ana" not in page.text and "Acme" not in page.text
        one_click = client.post(
            link.removeprefix(base),
            content="List-Unsubscribe=One-Click",
            headers={"Content-Type": "application/x-www-form-urlencoded"},
        )
        assert one_click.status_code == 200 and "You are unsubscribed" in one_click.text
        forged = client.post("/u/AAAAAAAAAAAAAAAAAAAAAA.AAAA")
        assert forged.status_code == 200 and forged.text == one_click.text
        with store.session() as session:
            assert relation_of(session, world.workspace_id, world.creators["Ana"]).do_not_contact
        # Honoured by the next send.
        again = client.post(
            "/api/v1/outreach/send",
            json={**send, "creators": ["instagram:ana"]},
            headers=keys["member"],
        ).json()
        assert again["messages"][0]["skip_reason"] == "the creator is do-not-contact"
        assert len(smtp_server.inbox.messages) == 1
        replied = client.post(
            "/api/v1/outreach/replied",
            json={"deal_ids": [world.deals["Bo"]], "note": "by phone"},
            headers=keys["member"],
        ).json()
        assert replied["moved"] == [world.deals["Bo"]]
    app.state.store.dispose()


def test_settings_are_for_owners_and_never_show_the_password(store):
    make_outreach(store)
    keys = _keys(store, "brand")
    smtp = {
        "host": "mail.example.com",
        "port": 465,
        "security": "tls",
        "username": "me",
        "password": "hunter2",
        "from_address": "hi@acme.example.com",
    }
    with TestClient(create_app(store.url)) as client:
        for role in ("viewer", "member"):
            assert client.get("/api/v1/outreach/settings", headers=keys[role]).status_code == 403
            put = client.put("/api/v1/outreach/settings", json={"smtp": smtp}, headers=keys[role])
            assert put.status_code == 403
        saved = client.put(
            "/api/v1/outreach/settings",
            json={"smtp": smtp, "daily_limit": 50},
            headers=keys["owner"],
        )
        assert saved.status_code == 200, saved.text
        shown = client.get("/api/v1/outreach/settings", headers=keys["owner"])
        assert "hunter2" not in shown.text and shown.json()["password_set"] is True
        assert shown.json()["daily_limit"] == 50 and shown.json()["source"] == "workspace"
        bad = client.put(
            "/api/v1/outreach/settings",
            json={"smtp": {**smtp, "from_address": "not an address"}},
            headers=keys["owner"],
        )
        assert bad.status_code == 422 and "from_address" in bad.text
        cleared = client.put(
            "/api/v1/outreach/settings", json={"clear_smtp": True}, headers=keys["owner"]
        )
        assert cleared.json()["configured"] is False


def test_sequences_through_the_api(store):
    world = make_outreach(store)
    keys = _keys(store, "brand")
    with TestClient(create_app(store.url)) as client:
        client.post(
            "/api/v1/templates",
            json={"name": "intro", "subject": "Hi", "body": "Hello {{ name }}"},
            headers=keys["member"],
        )
        made = client.post(
            "/api/v1/outreach/sequences",
            json={"name": "launch", "steps": [{"template": "intro", "delay_days": 0}]},
            headers=keys["member"],
        )
        assert made.status_code == 201, made.text
        sid = made.json()["id"]
        assert made.json()["steps"] == [{"position": 1, "template": "intro", "delay_days": 0}]
        unknown = client.post(
            "/api/v1/outreach/sequences",
            json={"name": "x", "steps": [{"template": "nope", "delay_days": 1}]},
            headers=keys["member"],
        )
        assert unknown.status_code == 404
        enrolled = client.post(
            f"/api/v1/outreach/sequences/{sid}/enrollments",
            json={"deal_ids": [world.deals["Ana"], world.deals["Bo"]]},
            headers=keys["member"],
        )
        assert enrolled.status_code == 201 and len(enrolled.json()) == 2
        denied = client.post(
            f"/api/v1/outreach/sequences/{sid}/enrollments",
            json={"deal_ids": [world.deals["Cy"]]},
            headers=keys["viewer"],
        )
        assert denied.status_code == 403
        # No SMTP server: the run queues the due step and keeps the messages queued.
        run = client.post("/api/v1/outreach/run", headers=keys["member"]).json()
        assert run["sequences"]["queued"] == 2
        assert run["delivery"]["deferred"] == 2 and "no SMTP server" in run["delivery"]["error"]
        in_use = client.delete(f"/api/v1/templates/{made.json()['id']}", headers=keys["member"])
        assert in_use.status_code in (404, 409)


def test_the_pages_for_members_and_viewers(store_url, store):
    world = make_outreach(store)
    make_user(store, "m@acme.io", "brand", "member")
    make_user(store, "v@acme.io", "brand", "viewer")
    with TestClient(create_app(store_url)) as client:
        csrf = sign_in(client, "m@acme.io")
        made = client.post(
            "/templates",
            data={
                "name": "intro",
                "subject": "Hi {{ first_name }}",
                "body": BODY,
                "csrf_token": csrf,
            },
            follow_redirects=False,
        )
        assert made.status_code == 303
        page = client.get(made.headers["location"] + f"?deal_id={world.deals['Ana']}")
        assert page.status_code == 200 and "Hi Ana, about a fee of 250.00 EUR" in page.text
        live = client.post(
            "/templates-preview",
            data={"deal_id": world.deals["Bo"], "subject": "Yo", "body": "{{ handle }}!"},
            headers={"X-CSRF-Token": csrf},
        ).json()
        assert live["body"].startswith("bo!") and live["to"] == "bo@example.com"
        broken = client.post(
            "/templates-preview",
            data={"deal_id": world.deals["Bo"], "subject": "Yo", "body": "{{ self }}"},
            headers={"X-CSRF-Token": csrf},
        ).json()
        assert "unknown field 'self'" in broken["error"]
        bad = client.post(
            "/templates",
            data={"name": "x", "subject": "s", "body": "{% include 'a' %}", "csrf_token": csrf},
        )
        assert bad.status_code == 422 and "include" in bad.text
        for path in ("/templates", "/outbox", "/sequences"):
            assert client.get(path).status_code == 200, path
        assert client.get("/outreach/settings").status_code == 403  # owners only
        client.post("/auth/sign-out", data={"csrf_token": csrf})
        csrf = sign_in(client, "v@acme.io")
        assert "Save template" not in client.get("/templates").text
        denied = client.post(
            "/templates",
            data={"name": "v", "subject": "s", "body": "b", "csrf_token": csrf},
        )
        assert denied.status_code == 403
        assert client.post("/outbox/run", data={"csrf_token": csrf}).status_code == 403


def test_the_cli(store, store_url, smtp_server, tmp_path, monkeypatch):
    world = make_outreach(store, smtp=smtp_server)
    monkeypatch.setenv("MICROFLUENCE_DATABASE_URL", store_url)
    runner = CliRunner()
    body = tmp_path / "intro.txt"
    body.write_text(BODY)

    def run(*args: str) -> str:
        result = runner.invoke(cli, list(args))
        assert result.exit_code == 0, result.output
        return result.output

    ws = ["--workspace", "brand"]
    run(
        "templates",
        "add",
        "intro",
        "--subject",
        "Hi {{ first_name }}",
        "--body-file",
        str(body),
        *ws,
    )
    assert "intro" in run("templates", "list", *ws)
    assert "Unsubscribe:" in run("templates", "show", "intro", *ws)
    shown = run("templates", "preview", "intro", "--campaign", "Launch", "instagram:ana", *ws)
    assert "Hi Ana, about a fee of 250.00 EUR" in shown
    bad = tmp_path / "bad.txt"
    bad.write_text("fine\n{{ cycler.__init__ }}\n")
    failed = runner.invoke(
        cli, ["templates", "add", "bad", "--subject", "x", "--body-file", str(bad), *ws]
    )
    assert failed.exit_code == 1 and "line 2" in failed.output
    dry = run("outreach", "send", "--template", "intro", "--campaign", "Launch", "--dry-run", *ws)
    assert "skipped" in dry and smtp_server.inbox.messages == []
    sent = run("outreach", "send", "--template", "intro", "--campaign", "Launch", *ws)
    assert "sent 2" in sent
    assert len(smtp_server.inbox.messages) == 2
    assert "1 messages" in run("outreach", "outbox", "--status", "skipped", *ws)
    listed = json.loads(run("outreach", "outbox", "--status", "skipped", "--json", *ws))
    assert [m["error"] for m in listed["data"]] == ["the creator has no e-mail address"]
    bad_status = runner.invoke(cli, ["outreach", "outbox", "--status", "lost", *ws])
    assert bad_status.exit_code == 1 and "status" in bad_status.output
    run("outreach", "replied", "instagram:ana", "--campaign", "Launch", *ws)
    run("outreach", "sequence", "add", "follow", "intro:0", "intro:3", *ws)
    run("outreach", "sequence", "enroll", "follow", "--campaign", "Launch", "instagram:bo", *ws)
    assert "active" in run("outreach", "sequence", "show", "follow", *ws)
    ran = run("outreach", "run", *ws)
    assert "sent 1" in ran
    in_use = runner.invoke(cli, ["templates", "delete", "intro", *ws])
    assert in_use.exit_code == 1 and "sequence" in in_use.output
    with store.session() as session:
        from microfluence.campaigns.tables import Deal

        assert session.get_one(Deal, world.deals["Ana"]).stage == "replied"


def test_the_library(store, store_url, smtp_server):
    from microfluence import open_workspace

    make_outreach(store, smtp=smtp_server)
    with open_workspace("brand", store_url, create=False) as ws:
        ws.add_template("intro", subject="Hi {{ first_name }}", body=BODY)
        shown = ws.preview_message("intro", "Launch", "instagram:bo")
        assert shown["to"] == "bo@example.com" and shown["subject"] == "Hi Bo"
        done = ws.send_outreach("intro", "Launch", ["instagram:bo"])
        assert done["delivery"]["sent"] == 1
        assert ws.run_outreach()["delivery"]["sent"] == 0
    assert [m["To"] for m in smtp_server.inbox.messages] == ["bo@example.com"]


def test_smtp_and_imap_settings_from_the_cli_api_and_page(store, store_url, monkeypatch):
    make_outreach(store)
    make_user(store, "o@acme.io", "brand", "owner")
    monkeypatch.setenv("MICROFLUENCE_DATABASE_URL", store_url)
    shown = CliRunner().invoke(
        cli,
        [
            "outreach",
            "smtp",
            "--host",
            "mail.example.com",
            "--from",
            "hi@acme.example.com",
            "--username",
            "me",
            "--daily-limit",
            "75",
            "--password-stdin",
            "-w",
            "brand",
        ],
        input="s3cret-pw\n",
    )
    assert shown.exit_code == 0, shown.output
    assert '"daily_limit": 75' in shown.output and "s3cret-pw" not in shown.output
    assert '"password_set": true' in shown.output
    keys = _keys(store, "brand")
    imap = {"host": "imap.example.com", "username": "me", "password": "imap-pw"}
    with TestClient(create_app(store_url)) as client:
        put = client.put("/api/v1/outreach/settings", json={"imap": imap}, headers=keys["owner"])
        assert put.status_code == 200, put.text
        assert put.json()["imap"] == {
            "host": "imap.example.com",
            "port": 993,
            "security": "tls",
            "username": "me",
            "mailbox": "INBOX",
        }
        assert "imap-pw" not in put.text and "s3cret-pw" not in put.text
        csrf = sign_in(client, "o@acme.io")
        page = client.get("/outreach/settings")
        assert "imap.example.com" in page.text and "mail.example.com" in page.text
        assert "imap-pw" not in page.text and "s3cret-pw" not in page.text
        cleared = client.post(
            "/outreach/settings/imap/clear", data={"csrf_token": csrf}, follow_redirects=False
        )
        assert cleared.status_code == 303
        assert client.get("/api/v1/outreach/settings", headers=keys["owner"]).json()["imap"] is None
