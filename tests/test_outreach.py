"""Outreach services: templates saved and rendered, messages sent through a real SMTP server
on 127.0.0.1, skips, the daily limit (also with two workers on PostgreSQL), sequences that stop
on reply and on opt-out, and the unsubscribe token."""

from __future__ import annotations

import datetime as dt
import re
import threading
from collections.abc import Iterator

import httpx
import pytest
import sqlalchemy as sa

from api_support import serve
from imap_support import Mailbox, running_imap_server
from microfluence.campaigns.tables import Deal
from microfluence.jobs.outreach import create_outreach_job, run_outreach_job
from microfluence.jobs.queue import Queue
from microfluence.jobs.schedules import add_schedule, fire_due
from microfluence.jobs.tables import ImportJob
from microfluence.kernel.errors import ConflictError, InputError, NotFoundError
from microfluence.kernel.store import open_store
from microfluence.kernel.store.tables import Workspace
from microfluence.outreach import quota
from microfluence.outreach.composing import NO_EMAIL, preview
from microfluence.outreach.fields import PORTAL_CREATOR, PREVIEW_PORTAL, UNSENT_PORTAL
from microfluence.outreach.outbox import get_message
from microfluence.outreach.replies import mark_replied
from microfluence.outreach.runner import run_outreach
from microfluence.outreach.sending import deliver_queued, queue_messages
from microfluence.outreach.sequences import create_sequence, enroll, list_enrollments
from microfluence.outreach.settings import set_daily_limit, set_imap, smtp_public
from microfluence.outreach.tables import OutboxMessage, SendQuota
from microfluence.outreach.template_records import (
    add_template,
    delete_template,
    find_template,
    update_template,
)
from microfluence.outreach.unsubscribe import (
    Links,
    links_for,
    make_token,
    read_token,
    unsubscribe,
)
from microfluence.relationships.contact import relation_of, set_do_not_contact
from microfluence.relationships.portal import open_portal
from microfluence.relationships.stages import deal_history
from microfluence.relationships.tables import PortalLink
from microfluence.web.app import create_app
from outreach_support import SmtpServer, make_outreach, running_smtp_server

BODY = (
    "Hi {{ first_name }},\n\nWe loved your post {{ recent_post }} on {{ platform }} "
    "(@{{ handle }}, {{ niche }}). Our offer: {{ offer }}.\n\n{{ sender }}, {{ brand }}\n"
)
T0 = dt.datetime(2026, 6, 1, 9, 0)


@pytest.fixture
def smtp_server() -> Iterator[SmtpServer]:
    with running_smtp_server() as server:
        yield server


def links() -> Links:
    return Links(base_url="http://127.0.0.1:9", secret="s3cret")


def _template(
    store, ws: int, name: str = "intro", body: str = BODY, subject: str = "Hello {{ first_name }}"
):
    with store.transaction() as session:
        return add_template(session, ws, name=name, subject=subject, body=body).id


def test_templates_are_checked_when_saved(sqlite_store):
    world = make_outreach(sqlite_store)
    ws = world.workspace_id
    _template(sqlite_store, ws)
    with sqlite_store.transaction() as session:
        with pytest.raises(ConflictError):
            add_template(session, ws, name="intro", subject="x", body="y")
        with pytest.raises(InputError) as bad:
            add_template(session, ws, name="bad", subject="x", body="line one\n{{ first_name }")
        assert bad.value.field == "body" and bad.value.line == 2
        with pytest.raises(InputError, match="unknown field 'email'"):
            add_template(session, ws, name="bad", subject="x", body="{{ email }}")
        with pytest.raises(InputError) as bad_subject:
            add_template(session, ws, name="bad", subject="{{ secret }}", body="ok")
        assert bad_subject.value.field == "subject"
        template = find_template(session, ws, "intro")
        update_template(session, ws, template.id, body="Hi {{ name }}")
        with pytest.raises(InputError):
            update_template(session, ws, template.id, body="{{ self }}")
        assert find_template(session, ws, str(template.id)).body == "Hi {{ name }}"
        delete_template(session, ws, template.id)
        with pytest.raises(NotFoundError):
            find_template(session, ws, "intro")


def _outbox(store, ws: int) -> list[OutboxMessage]:
    with store.session() as session:
        rows = session.scalars(
            sa.select(OutboxMessage)
            .where(OutboxMessage.workspace_id == ws)
            .order_by(OutboxMessage.id)
        ).all()
        session.expunge_all()
        return list(rows)


def test_sending_through_a_real_smtp_server(store, smtp_server):
    world = make_outreach(store, smtp=smtp_server)
    ws = world.workspace_id
    template_id = _template(store, ws)
    with store.transaction() as session:
        template = find_template(session, ws, template_id)
        queue_messages(session, ws, template, list(world.deals.values()), links(), actor="me@x.io")
    report = deliver_queued(store, ws, now=T0)
    assert len(report.sent) == 2 and report.failed == [] and report.deferred == 0
    received = smtp_server.inbox.messages
    assert sorted(m["To"] for m in received) == ["ana@example.com", "bo@example.com"]
    ana = next(m for m in received if m["To"] == "ana@example.com")
    assert ana["Subject"] == "Hello Ana"
    assert ana["From"] == "Sam at Acme <team@acme.example.com>"
    assert ana["Reply-To"] == "replies@acme.example.com"
    assert ana["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    token = make_token("s3cret", ws, world.creators["Ana"])
    assert ana["List-Unsubscribe"] == (
        f"<mailto:replies@acme.example.com?subject=unsubscribe>, <http://127.0.0.1:9/u/{token}>"
    )
    body = ana.get_content()
    assert "Hi Ana," in body
    assert "https://instagram.com/p/Ana1 — “post 1 of Ana”" in body
    assert "@ana, beauty" in body and "on instagram" in body
    assert "a fee of 250.00 EUR and 10% commission on sales" in body
    assert "Sam at Acme, Acme" in body
    assert body.rstrip().endswith(f"http://127.0.0.1:9/u/{token}")  # appended: not placed
    rows = _outbox(store, ws)
    by_deal = {r.deal_id: r for r in rows}
    assert by_deal[world.deals["Ana"]].status == "sent"
    assert by_deal[world.deals["Ana"]].message_id == ana["Message-ID"]
    assert by_deal[world.deals["Cy"]].status == "skipped"
    assert by_deal[world.deals["Cy"]].error == NO_EMAIL
    with store.session() as session:
        ana_deal = session.get_one(Deal, world.deals["Ana"])
        assert ana_deal.stage == "contacted"
        assert session.get_one(Deal, world.deals["Cy"]).stage == "prospect"
        kinds = [
            (e.kind, e.detail.get("status"), e.to_stage)
            for e in deal_history(session, ws, ana_deal.id)
        ]
        assert ("message", "sent", None) in kinds and ("stage", None, "contacted") in kinds
        cy = [
            (e.kind, e.detail.get("status")) for e in deal_history(session, ws, world.deals["Cy"])
        ]
        assert cy == [("message", "skipped")]
    # Nothing queued is sent twice.
    assert deliver_queued(store, ws, now=T0).sent == []
    assert len(smtp_server.inbox.messages) == 2


def test_do_not_contact_is_skipped_even_after_queueing(store, smtp_server):
    world = make_outreach(store, smtp=smtp_server)
    ws = world.workspace_id
    template_id = _template(store, ws)
    with store.transaction() as session:
        set_do_not_contact(session, ws, world.creators["Bo"], reason="asked")
        template = find_template(session, ws, template_id)
        queue_messages(session, ws, template, [world.deals["Ana"], world.deals["Bo"]], links())
        set_do_not_contact(session, ws, world.creators["Ana"], reason="asked later")
    report = deliver_queued(store, ws, now=T0)
    assert report.sent == [] and len(report.skipped) == 1
    assert smtp_server.inbox.messages == []
    assert {r.status for r in _outbox(store, ws)} == {"skipped"}


def test_a_refused_recipient_fails_and_gives_its_unit_back(store, smtp_server):
    world = make_outreach(store, smtp=smtp_server)
    ws = world.workspace_id
    smtp_server.inbox.refuse.add("bo@example.com")
    template_id = _template(store, ws)
    with store.transaction() as session:
        template = find_template(session, ws, template_id)
        queue_messages(session, ws, template, [world.deals["Ana"], world.deals["Bo"]], links())
    report = deliver_queued(store, ws, now=T0)
    assert len(report.sent) == 1 and len(report.failed) == 1
    failed = [r for r in _outbox(store, ws) if r.status == "failed"]
    assert "550" in (failed[0].error or "")
    with store.session() as session:
        assert quota.sent_on(session, ws, T0.date()) == 1


def test_the_daily_limit_holds_messages_for_the_next_day(store, smtp_server):
    world = make_outreach(store, smtp=smtp_server)
    ws = world.workspace_id
    template_id = _template(store, ws)
    with store.transaction() as session:
        set_daily_limit(session, session.get_one(Workspace, ws), 1)
        template = find_template(session, ws, template_id)
        queue_messages(session, ws, template, [world.deals["Ana"], world.deals["Bo"]], links())
    first = deliver_queued(store, ws, now=T0)
    assert len(first.sent) == 1 and first.deferred == 1
    assert deliver_queued(store, ws, now=T0 + dt.timedelta(hours=14)).sent == []
    second = deliver_queued(store, ws, now=T0 + dt.timedelta(days=1))
    assert len(second.sent) == 1 and second.deferred == 0
    assert len(smtp_server.inbox.messages) == 2


@pytest.mark.parametrize("store_url", ["postgresql"], indirect=True)
def test_two_workers_never_overshoot_the_limit(store_url):
    """Two threads, each with its own connections, claim units of one day at once."""
    store = open_store(store_url)
    with store.transaction() as session:
        ws = make_outreach(store).workspace_id
    limit, tries, taken = 7, 20, []
    barrier = threading.Barrier(2)

    def worker() -> None:
        barrier.wait()
        for _ in range(tries):
            with store.transaction() as session:
                if quota.claim(session, ws, T0.date(), limit):
                    taken.append(1)

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert len(taken) == limit
    with store.session() as session:
        assert (
            session.scalar(sa.select(SendQuota.sent).where(SendQuota.workspace_id == ws)) == limit
        )
    store.dispose()


def test_sequences_stop_on_reply_and_on_opt_out(store, smtp_server):
    world = make_outreach(store, smtp=smtp_server)
    ws = world.workspace_id
    _template(store, ws, "first")
    _template(store, ws, "nudge", body="Just checking in, {{ first_name }}.", subject="Re: hello")
    with store.transaction() as session:
        create_sequence(session, ws, "intro", ["first:0", "nudge:3", "nudge:5"])
        enroll(session, ws, "intro", list(world.deals.values()), now=T0)
    run = run_outreach(store, ws, links(), now=T0)
    assert run["delivery"]["sent"] == 2  # Cy has no address: skipped, enrollment ended
    # Ana replies; Bo unsubscribes with the link of the message he got.
    with store.transaction() as session:
        mark_replied(
            session, ws, [world.deals["Ana"]], actor="me@x.io", at=T0 + dt.timedelta(days=1)
        )
        token = make_token("s3cret", ws, world.creators["Bo"])
        assert unsubscribe(session, "s3cret", token)
    later = run_outreach(store, ws, links(), now=T0 + dt.timedelta(days=4))
    assert later["delivery"]["sent"] == 0
    assert len(smtp_server.inbox.messages) == 2
    with store.session() as session:
        status = {
            e.deal_id: (e.status, e.next_position) for e in list_enrollments(session, ws, "intro")
        }
        assert status[world.deals["Ana"]][0] == "replied"
        assert status[world.deals["Bo"]][0] == "opted_out"
        assert status[world.deals["Cy"]][0] == "finished"
        assert session.get_one(Deal, world.deals["Ana"]).stage == "replied"
        assert relation_of(session, ws, world.creators["Bo"]).do_not_contact


def test_a_sequence_runs_to_its_end_by_the_clock(store, smtp_server):
    world = make_outreach(store, smtp=smtp_server)
    ws = world.workspace_id
    _template(store, ws, "first")
    _template(store, ws, "nudge", body="Still keen, {{ first_name }}?", subject="Re: hello")
    with store.transaction() as session:
        create_sequence(session, ws, "intro", ["first:0", "nudge:3"])
        enroll(session, ws, "intro", [world.deals["Ana"]], now=T0)
    assert run_outreach(store, ws, links(), now=T0)["delivery"]["sent"] == 1
    assert run_outreach(store, ws, links(), now=T0 + dt.timedelta(days=2))["delivery"]["sent"] == 0
    assert run_outreach(store, ws, links(), now=T0 + dt.timedelta(days=3))["delivery"]["sent"] == 1
    assert run_outreach(store, ws, links(), now=T0 + dt.timedelta(days=30))["delivery"]["sent"] == 0
    assert [m["Subject"] for m in smtp_server.inbox.messages] == ["Hello Ana", "Re: hello"]
    with store.session() as session:
        (enrollment,) = list_enrollments(session, ws, "intro")
        assert enrollment.status == "finished"


def test_unsubscribe_tokens_are_signed_and_scoped(store):
    a = make_outreach(store, "brand-a")
    b = make_outreach(store, "brand-b", prefix="b_")
    token = make_token("s3cret", a.workspace_id, a.creators["Ana"])
    assert read_token("s3cret", token) == (a.workspace_id, a.creators["Ana"])
    assert read_token("other", token) is None
    # The same signature on other ids, or another workspace with A's creator id, is refused.
    head, sig = token.split(".")
    forged = make_token("guess", b.workspace_id, b.creators["Ana"]).split(".")[0] + "." + sig
    with store.transaction() as session:
        assert not unsubscribe(session, "s3cret", forged)
        assert not unsubscribe(session, "s3cret", "nonsense")
        assert not unsubscribe(
            session, "s3cret", make_token("s3cret", b.workspace_id, a.creators["Ana"])
        )
        assert unsubscribe(session, "s3cret", token)
        assert relation_of(session, a.workspace_id, a.creators["Ana"]).do_not_contact
        assert not relation_of(session, b.workspace_id, b.creators["Ana"]).do_not_contact


def test_links_come_from_the_store_secret(sqlite_store):
    one, two = links_for(sqlite_store), links_for(sqlite_store, "https://m.example.com/")
    assert one.secret == two.secret and len(one.secret) > 40
    assert two.unsubscribe_url(1, 2).startswith("https://m.example.com/u/")


def test_smtp_settings_never_show_the_password(sqlite_store):
    world = make_outreach(sqlite_store)
    with sqlite_store.transaction() as session:
        ws = session.get_one(Workspace, world.workspace_id)
        from microfluence.outreach.settings import set_smtp

        shown = set_smtp(
            session,
            ws,
            {
                "host": "mail.example.com",
                "port": "465",
                "security": "tls",
                "username": "u",
                "password": "hunter2",
                "from_address": "a@b.example",
            },
        )
        assert "password" not in shown and shown["password_set"] is True
        again = set_smtp(session, ws, {"host": "mail.example.com", "from_address": "a@b.example"})
        assert again["password_set"] is True  # an empty password keeps the stored one
        assert "hunter2" not in repr(smtp_public(ws))
        for bad, field in (
            ({"host": "", "from_address": "a@b.example"}, "host"),
            ({"host": "h", "from_address": "nope"}, "from_address"),
            ({"host": "h", "from_address": "a@b.example", "port": "99999"}, "port"),
            ({"host": "h", "from_address": "a@b.example", "security": "ssl3"}, "security"),
            ({"host": "h", "from_address": "a@b.example", "username": "a\r\nRCPT"}, "username"),
        ):
            with pytest.raises(InputError) as error:
                set_smtp(session, ws, bad)
            assert error.value.field == field


def test_a_schedule_runs_outreach_as_a_job_on_the_queue(store, smtp_server, tmp_path):
    """The ``outreach`` kind: a schedule fires, the job goes through huey (immediate mode:
    the task runs in this thread) and sends the queued messages."""
    world = make_outreach(store, smtp=smtp_server)
    ws = world.workspace_id
    template_id = _template(store, ws)
    with store.transaction() as session:
        template = find_template(session, ws, template_id)
        queue_messages(session, ws, template, [world.deals["Ana"]], links())
        add_schedule(session, ws, "outreach", "*/15 * * * *")
    queue = Queue(f"sqlite:///{tmp_path / 'queue.db'}", store, tmp_path / "uploads")
    queue.huey.immediate = True
    (job_id,) = fire_due(store, queue.enqueue, dt.datetime(2026, 6, 1, 9, 15))
    with store.session() as session:
        job = session.get_one(ImportJob, job_id)
        assert (job.kind, job.status) == ("outreach", "succeeded"), job.error
        assert job.summary["delivery"]["sent"] == 1
    assert [m["To"] for m in smtp_server.inbox.messages] == ["ana@example.com"]
    # Run again by hand: nothing left to send, nothing sent twice.
    with store.transaction() as session:
        again = create_outreach_job(session, ws).id
    run_outreach_job(store, again)
    assert len(smtp_server.inbox.messages) == 1


def test_a_message_left_sending_is_failed_not_sent_again(store, smtp_server):
    """A process that stopped between claiming a message and recording it leaves it
    ``sending``: after 15 minutes it is failed (the server may have taken it), never resent."""
    world = make_outreach(store, smtp=smtp_server)
    ws = world.workspace_id
    template_id = _template(store, ws)
    with store.transaction() as session:
        template = find_template(session, ws, template_id)
        (row, _b, _c) = queue_messages(session, ws, template, list(world.deals.values()), links())
        row.status, row.claimed_at = "sending", T0
        stuck = row.id
    assert stuck not in deliver_queued(store, ws, now=T0 + dt.timedelta(minutes=5)).sent
    assert {r.id: r.status for r in _outbox(store, ws)}[stuck] == "sending"
    deliver_queued(store, ws, now=T0 + dt.timedelta(minutes=16))
    failed = {r.id: r for r in _outbox(store, ws)}[stuck]
    assert failed.status == "failed" and "may or may not" in (failed.error or "")
    assert "ana@example.com" not in [m["To"] for m in smtp_server.inbox.messages]


def test_replies_read_from_an_imap_mailbox_stop_the_sequence(store, smtp_server):
    world = make_outreach(store, smtp=smtp_server)
    ws = world.workspace_id
    _template(store, ws, "first")
    _template(store, ws, "nudge", body="Still keen, {{ first_name }}?", subject="Re: hello")
    with store.transaction() as session:
        create_sequence(session, ws, "intro", ["first:0", "nudge:3"])
        enroll(session, ws, "intro", [world.deals["Ana"], world.deals["Bo"]], now=T0)
    mailbox = Mailbox()
    with running_imap_server(mailbox) as (host, port):
        with store.transaction() as session:
            set_imap(
                session,
                session.get_one(Workspace, ws),
                {
                    "host": host,
                    "port": port,
                    "security": "none",
                    "username": mailbox.username,
                    "password": mailbox.password,
                },
            )
        first = run_outreach(store, ws, links(), now=T0)
        assert first["replies"] == {"configured": True, "read": 0, "replies": 0}
        assert first["delivery"]["sent"] == 2
        sent = {m["To"]: m["Message-ID"] for m in smtp_server.inbox.messages}
        mailbox.add(7, sent["ana@example.com"])
        mailbox.add(8, "<unrelated@elsewhere.example>", "<older@elsewhere.example>")
        later = run_outreach(store, ws, links(), now=T0 + dt.timedelta(days=3))
        assert later["replies"] == {"configured": True, "read": 2, "replies": 1}
        assert later["delivery"]["sent"] == 1  # Bo's nudge only
        again = run_outreach(store, ws, links(), now=T0 + dt.timedelta(days=4))
        assert again["replies"]["read"] == 0  # nothing new since UID 8
        assert "UID SEARCH UID 9:*" in mailbox.commands
        assert all("\\Seen" not in c for c in mailbox.commands)
        mailbox.password = "changed"
        failing = run_outreach(store, ws, links(), now=T0 + dt.timedelta(days=5))
        assert "cannot read the mailbox" in failing["replies"]["error"]
    with store.session() as session:
        status = {e.deal_id: e.status for e in list_enrollments(session, ws, "intro")}
        assert status == {world.deals["Ana"]: "replied", world.deals["Bo"]: "finished"}
        assert session.get_one(Deal, world.deals["Ana"]).stage == "replied"
        history = deal_history(session, ws, world.deals["Ana"])
        assert [(e.kind, e.actor) for e in history if e.kind == "reply"] == [("reply", "imap")]
    assert [m["Subject"] for m in smtp_server.inbox.messages].count("Re: hello") == 1


PORTAL_BODY = "Hi {{ first_name }}, your brief and products: {{ portal_link }}\n"


def test_a_portal_link_in_a_message_opens_that_deals_portal(store_url, smtp_server):
    """The send service makes the portal link itself (every face sends through it): the link
    in the mail received by the SMTP server opens the deal's portal on a running app, for that
    deal only; a preview makes none."""
    store = open_store(store_url)
    world = make_outreach(store, smtp=smtp_server)
    ws = world.workspace_id
    template_id = _template(store, ws, name="portal", body=PORTAL_BODY)
    app = create_app(store_url)
    with serve(app) as base:
        sending = Links(base_url=base, secret="s3cret")
        with store.transaction() as session:
            template = find_template(session, ws, template_id)
            shown = preview(session, ws, world.deals["Ana"], sending, template=template)
            assert PREVIEW_PORTAL in shown.body
            assert session.scalar(sa.select(sa.func.count()).select_from(PortalLink)) == 0
            deals = [world.deals["Ana"], world.deals["Bo"], world.deals["Cy"]]  # Cy: no address
            queue_messages(session, ws, template, deals, sending, actor="me@x.io")
        assert len(deliver_queued(store, ws, now=T0).sent) == 2
        received = {m["To"]: m.get_content() for m in smtp_server.inbox.messages}
        found = {}
        for person in ("Ana", "Bo"):
            body = received[f"{person.lower()}@example.com"]
            match = re.search(rf"{re.escape(base)}/portal/([A-Za-z0-9_-]+)", body)
            assert match, body
            found[person] = match
            page = httpx.get(match.group(0), timeout=60)
            assert page.status_code == 200
            assert f"Hello {person} Lee" in page.text
            assert all(
                f"{other} Lee" not in page.text for other in ("Ana", "Bo") if other != person
            )
        assert found["Ana"].group(1) != found["Bo"].group(1)
        with store.session() as session:
            opened = open_portal(session, found["Bo"].group(1))
            assert (opened.workspace_id, opened.deal_id) == (ws, world.deals["Bo"])
            made = session.scalars(sa.select(PortalLink.created_by)).all()
        assert made == [PORTAL_CREATOR, PORTAL_CREATOR]  # none for Cy's skipped message
        cy = next(m for m in _outbox(store, ws) if m.deal_id == world.deals["Cy"])
        assert cy.status == "skipped" and UNSENT_PORTAL in cy.body
        # The outbox as read through the faces hides the token: the link acts for the creator.
        with store.session() as session:
            ana = next(m for m in _outbox(store, ws) if m.deal_id == world.deals["Ana"])
            shown = get_message(session, ws, ana.id)["body"]
        assert found["Ana"].group(1) in ana.body and found["Ana"].group(1) not in shown
        assert f"{base}/portal/[link hidden]" in shown
        assert httpx.get(f"{base}/portal/{found['Ana'].group(1)}x", timeout=60).status_code == 404
    store.dispose()
