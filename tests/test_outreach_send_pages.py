"""Sending from the pages (the send form on a template's page: dry run, send, roles, CSRF) and
who a run started by hand is recorded as: the member on the outbox page, the API key on
`POST /api/v1/outreach/run`, `system` for the scheduled job."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from api_support import cheap_password_hashing, make_user, serve  # noqa: F401
from microfluence.access.api_keys import create_api_key
from microfluence.kernel.store.tables import Workspace
from microfluence.outreach.composing import compose
from microfluence.outreach.runner import run_outreach
from microfluence.outreach.sending import store_drafts
from microfluence.outreach.template_records import add_template
from microfluence.outreach.unsubscribe import links_for
from microfluence.relationships.tables import DealEvent
from microfluence.web.app import create_app
from outreach_support import SmtpServer, make_outreach, running_smtp_server
from pages_support import sign_in

pytestmark = pytest.mark.usefixtures("cheap_password_hashing")


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
