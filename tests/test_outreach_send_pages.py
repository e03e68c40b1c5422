"""Sending from the pages (the send form on a template's page: dry run, send, roles, CSRF) and
who a run started by hand is recorded as: the member on the outbox page, the API key on
`POST /api/v1/outreach/run`, `system` for the scheduled job."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest
from fastapi.testclient import TestClient
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import select
from typer.testing import CliRunner

from api_support import make_user, serve
from microfluence.access.api_keys import create_api_key
from microfluence.cli.main import app as cli
from microfluence.kernel.store.tables import Workspace
from microfluence.outreach.composing import compose
from microfluence.outreach.runner import run_outreach
from microfluence.outreach.sending import store_drafts
from microfluence.outreach.settings import set_daily_limit
from microfluence.outreach.tables import OutboxMessage
from microfluence.outreach.template_records import add_template
from microfluence.outreach.unsubscribe import links_for
from microfluence.relationships.contact import set_do_not_contact
from microfluence.relationships.tables import DealEvent
from microfluence.web.app import create_app
from outreach_support import SmtpServer, make_outreach, running_smtp_server
from pages_support import sign_in


@pytest.fixture
def smtp_server() -> Iterator[SmtpServer]:
    with running_smtp_server() as server:
        yield server


def _queue_by_nobody(store, world, names: list[str]) -> None:
    """Messages put in the outbox with no one behind them, as a sequence's step is."""
    links = links_for(store)
    with store.transaction() as session:
        template = add_template(
            session, world.workspace_id, name="nudge", subject="Hi", body="{{ first_name }}"
        )
        deal_ids = [world.deals[n] for n in names]
        drafts = compose(session, world.workspace_id, template, deal_ids, links)
        store_drafts(session, world.workspace_id, template, drafts, actor=None)


def _events(store, deal_id: int) -> list[tuple[str, str | None, str, str | None]]:
    """(kind, actor, actor_kind, to_stage) of the deal's events, oldest first."""
    with store.session() as session:
        rows = session.execute(
            select(DealEvent.kind, DealEvent.actor, DealEvent.actor_kind, DealEvent.to_stage)
            .where(DealEvent.deal_id == deal_id)
            .order_by(DealEvent.id)
        ).all()
    return [tuple(r) for r in rows]


def test_run_now_on_the_outbox_page_is_recorded_as_the_member(store, store_url, smtp_server):
    world = make_outreach(store, smtp=smtp_server)
    _queue_by_nobody(store, world, ["Ana"])
    make_user(store, "m@acme.io", "brand", "member")
    with TestClient(create_app(store_url)) as client:
        csrf = sign_in(client, "m@acme.io")
        ran = client.post("/outbox/run", data={"csrf_token": csrf}, follow_redirects=False)
        assert ran.status_code == 303 and ran.headers["location"] == "/outbox?ran=1"
    assert len(smtp_server.inbox.messages) == 1
    assert _events(store, world.deals["Ana"]) == [
        ("message", "m@acme.io", "user", None),
        ("stage", "m@acme.io", "user", "contacted"),
    ]


def test_run_through_the_api_is_recorded_as_the_key(store, smtp_server):
    world = make_outreach(store, smtp=smtp_server)
    _queue_by_nobody(store, world, ["Bo"])
    with store.transaction() as session:
        ws = session.get_one(Workspace, world.workspace_id)
        key = create_api_key(session, workspace=ws, name="crm-sync", role="member")
        secret, prefix = key.secret, key.key.prefix
    with serve(create_app(store.url)) as base, httpx.Client(base_url=base, timeout=30) as client:
        run = client.post("/api/v1/outreach/run", headers={"Authorization": f"Bearer {secret}"})
        assert run.status_code == 200, run.text
        assert run.json()["delivery"]["sent"] == 1
    who = f"api key crm-sync ({prefix}…)"
    assert _events(store, world.deals["Bo"]) == [
        ("message", who, "user", None),
        ("stage", who, "user", "contacted"),
    ]


def test_the_scheduled_run_stays_system(store, smtp_server):
    world = make_outreach(store, smtp=smtp_server)
    _queue_by_nobody(store, world, ["Ana"])
    done = run_outreach(store, world.workspace_id, links_for(store))
    assert done["delivery"]["sent"] == 1
    assert _events(store, world.deals["Ana"]) == [
        ("message", None, "system", None),
        ("stage", None, "system", "contacted"),
    ]


# --- the send form --------------------------------------------------------------------------


def _template(store, world) -> int:
    with store.transaction() as session:
        made = add_template(
            session,
            world.workspace_id,
            name="intro",
            subject="Hi {{ first_name }}",
            body="Hi {{ first_name }}, about {{ offer }}.",
        )
        return made.id


def _send(client, tid: int, csrf: str, **form):  # type: ignore[no-untyped-def]
    return client.post(f"/templates/{tid}/send", data={"csrf_token": csrf, **form})


def _outbox_size(store) -> int:
    with store.session() as session:
        return len(session.scalars(select(OutboxMessage.id)).all())


def test_dry_run_then_send_from_the_template_page(store, store_url, smtp_server):
    world = make_outreach(store, smtp=smtp_server)
    with store.transaction() as session:
        set_do_not_contact(session, world.workspace_id, world.creators["Bo"], reason="asked")
    tid = _template(store, world)
    make_user(store, "m@acme.io", "brand", "member")
    with TestClient(create_app(store_url)) as client:
        csrf = sign_in(client, "m@acme.io")
        assert f'href="/templates/{tid}/send"' in client.get(f"/templates/{tid}").text
        form = client.get(f"/templates/{tid}/send?campaign_id={world.campaign_id}")
        assert form.status_code == 200
        for name in ("Ana Lee", "Bo Lee", "Cy Lee"):
            assert name in form.text
        dry = _send(client, tid, csrf, campaign_id=world.campaign_id, stage="prospect")
        assert dry.status_code == 200, dry.text
        assert "Would send 1, queue 0 for later, skip 2." in dry.text
        assert "Hi Ana, about a fee of 250.00 EUR" in dry.text and "would be sent" in dry.text
        assert "the creator is do-not-contact" in dry.text
        assert "the creator has no e-mail address" in dry.text
        assert not smtp_server.inbox.messages and _outbox_size(store) == 0
        sent = _send(
            client, tid, csrf, campaign_id=world.campaign_id, stage="prospect", action="send"
        )
        assert sent.status_code == 200, sent.text
        assert "Sent 1, queued 0, skipped 2, failed 0." in sent.text
        assert "the creator is do-not-contact" in sent.text
        assert [m["To"] for m in smtp_server.inbox.messages] == ["ana@example.com"]
        assert _events(store, world.deals["Ana"]) == [
            ("message", "m@acme.io", "user", None),
            ("stage", "m@acme.io", "user", "contacted"),
        ]
        assert ("message", "m@acme.io", "user", None) in _events(store, world.deals["Bo"])
        # Ana is contacted now: the prospects are Bo and Cy, both skipped; ticked, Ana again.
        again = _send(client, tid, csrf, campaign_id=world.campaign_id, stage="prospect")
        assert "Would send 0, queue 0 for later, skip 2." in again.text
        with store.transaction() as session:
            set_daily_limit(session, session.get_one(Workspace, world.workspace_id), 1)
        ticked = {"campaign_id": world.campaign_id, "choose": "ticked"}
        ticked["deal_ids"] = world.deals["Ana"]
        over = _send(client, tid, csrf, **ticked)
        assert "Would send 0, queue 1 for later, skip 0." in over.text
        assert "over the daily limit of 1: queued for tomorrow" in over.text
        held = _send(client, tid, csrf, action="send", **ticked)
        assert "Sent 0, queued 1, skipped 0, failed 0." in held.text
        assert "over the daily limit of 1: queued for tomorrow" in held.text
        assert len(smtp_server.inbox.messages) == 1


def test_viewers_cannot_send_and_bad_choices_are_named(store, store_url):
    world = make_outreach(store)
    tid = _template(store, world)
    make_user(store, "m@acme.io", "brand", "member")
    make_user(store, "v@acme.io", "brand", "viewer")
    with TestClient(create_app(store_url)) as client:
        csrf = sign_in(client, "m@acme.io")
        chosen = {"campaign_id": world.campaign_id}
        assert _send(client, tid, "forged", **chosen).status_code == 403
        assert client.post(f"/templates/{tid}/send", data=chosen).status_code == 403
        none = _send(client, tid, csrf, choose="ticked", **chosen)
        assert none.status_code == 422 and "tick at least one creator" in none.text
        empty = _send(client, tid, csrf, stage="paid", **chosen)
        assert empty.status_code == 422 and "the campaign has no deal at stage paid" in empty.text
        odd = _send(client, tid, csrf, stage="<b>x</b>", **chosen)
        assert odd.status_code == 422 and "unknown stage" in odd.text and "<b>x</b>" not in odd.text
        stray = _send(client, tid, csrf, choose="ticked", deal_ids=10**6, **chosen)
        assert stray.status_code == 404
        # No SMTP server: the send keeps the message queued and says why.
        kept = _send(client, tid, csrf, action="send", **chosen)
        assert "Sent 0, queued 2, skipped 1, failed 0." in kept.text
        assert "no SMTP server is configured" in kept.text
        client.post("/auth/sign-out", data={"csrf_token": csrf})
        csrf = sign_in(client, "v@acme.io")
        assert f"/templates/{tid}/send" not in client.get(f"/templates/{tid}").text
        assert client.get(f"/templates/{tid}/send").status_code == 403
        assert _send(client, tid, csrf, **chosen).status_code == 403
    assert _outbox_size(store) == 3  # the member's one send: Ana and Bo queued, Cy skipped


def test_hostile_form_input_is_refused_cleanly(sqlite_store):
    world = make_outreach(sqlite_store)
    tid = _template(sqlite_store, world)
    make_user(sqlite_store, "m@acme.io", "brand", "member")
    with TestClient(create_app(sqlite_store.url)) as client:
        csrf = sign_in(client, "m@acme.io")

        @settings(max_examples=30, deadline=None)
        @given(
            stage=st.text(max_size=30),
            choose=st.sampled_from(["stage", "ticked", "every"]),
            action=st.sampled_from(["dry_run", "sendit"]),
        )
        def check(stage: str, choose: str, action: str) -> None:
            form = {"campaign_id": world.campaign_id, "stage": stage, "choose": choose}
            answer = _send(client, tid, csrf, action=action, **form)
            assert answer.status_code in (200, 422), answer.text
            assert "Internal" not in answer.text

        check()
    assert _outbox_size(sqlite_store) == 0


def test_the_cli_and_the_api_choose_by_stage_too(store, store_url, monkeypatch):
    world = make_outreach(store)
    _template(store, world)
    monkeypatch.setenv("MICROFLUENCE_DATABASE_URL", store_url)
    runner = CliRunner()
    send = ["outreach", "send", "--template", "intro", "--campaign", "Launch", "--workspace"]
    dry = runner.invoke(cli, [*send, "brand", "--stage", "prospect", "--dry-run"])
    assert dry.exit_code == 0, dry.output
    assert "would be sent" not in dry.output  # no SMTP server: nothing goes out today
    assert "queued: no SMTP server is configured" in dry.output
    assert "skipped: the creator has no e-mail address" in dry.output
    none = runner.invoke(cli, [*send, "brand", "--stage", "paid", "--dry-run"])
    assert none.exit_code == 1 and "no deal at stage paid" in none.output
    with store.transaction() as session:
        ws = session.get_one(Workspace, world.workspace_id)
        secret = create_api_key(session, workspace=ws, name="k", role="member").secret
    with TestClient(create_app(store_url)) as client:
        body = {"template": "intro", "campaign_id": world.campaign_id, "dry_run": True}
        auth = {"Authorization": f"Bearer {secret}"}
        bad = client.post("/api/v1/outreach/send", json={**body, "stage": "nowhere"}, headers=auth)
        assert bad.status_code == 422 and "unknown stage" in bad.text
        ok = client.post("/api/v1/outreach/send", json={**body, "stage": "prospect"}, headers=auth)
        assert ok.status_code == 200, ok.text
        outcomes = [(m["outcome"], m["reason"]) for m in ok.json()["messages"]]
        assert sorted(o for o, _ in outcomes) == ["queued", "queued", "skipped"]
    assert _outbox_size(store) == 0
