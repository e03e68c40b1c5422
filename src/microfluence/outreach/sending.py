"""Sending: messages are put in the outbox (``outreach_messages``), then delivered over SMTP
within the workspace's daily limit.

:func:`queue_messages` renders a template for deals and stores one row per deal — ``queued``,
or ``skipped`` with its reason (no e-mail address, do-not-contact), recorded on the deal's
history. :func:`deliver_queued` sends the queued ones: each is claimed (``queued`` to
``sending``, a conditional update, so two workers never send one twice), checked again against
do-not-contact, given a unit of the day's limit (outreach.quota), sent, then marked ``sent``
(with its Message-ID) or ``failed`` (with the server's answer). A message over the limit stays
queued for the next UTC day. A first message sent moves its deal from prospect to contacted.
"""

from __future__ import annotations

import datetime as dt
import logging
import smtplib
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from microfluence.campaigns.tables import Deal
from microfluence.kernel.store import Store
from microfluence.kernel.store.tables import Workspace, utcnow
from microfluence.outreach import quota
from microfluence.outreach.composing import DO_NOT_CONTACT, Draft, compose
from microfluence.outreach.mail import SmtpConnection, Transport, build_message
from microfluence.outreach.settings import daily_limit, smtp_config
from microfluence.outreach.tables import Enrollment, MessageTemplate, OutboxMessage, SequenceStep
from microfluence.outreach.unsubscribe import Links
from microfluence.relationships.contact import do_not_contact_ids
from microfluence.relationships.stages import move_deals, record_event

log = logging.getLogger("microfluence.outreach")

BATCH = 500
STUCK_AFTER = dt.timedelta(minutes=15)
INTERRUPTED = "interrupted while sending: it may or may not have gone out; send it again by hand"
NO_SMTP = "no SMTP server is configured for this workspace (outreach settings)"


def _actor_kind(actor: str | None) -> str:
    return "user" if actor else "system"


def _event(
    session: Session,
    message: OutboxMessage,
    status: str,
    at: dt.datetime | None = None,
    *,
    by: str | None = None,
    **extra: Any,
) -> None:
    """The message's event on its deal's history, recorded with ``by`` (who delivered it, for a
    run started by hand) or else whoever queued it (nobody: ``system``)."""
    if message.deal_id is None:
        return
    who = by or message.created_by
    record_event(
        session,
        message.workspace_id,
        message.deal_id,
        "message",
        actor=who,
        actor_kind=_actor_kind(who),
        detail={
            "outbox_id": message.id,
            "status": status,
            "subject": message.subject,
            "template_id": message.template_id,
            **extra,
        },
        at=at,
    )


def store_drafts(
    session: Session,
    workspace_id: int,
    template: MessageTemplate,
    drafts: Sequence[Draft],
    *,
    actor: str | None,
    enrollment_ids: dict[int, int] | None = None,
) -> list[OutboxMessage]:
    """The drafts as outbox rows: queued, or skipped (and recorded so) with their reason."""
    rows = []
    for draft in drafts:
        row = OutboxMessage(
            workspace_id=workspace_id,
            creator_id=draft.creator_id,
            deal_id=draft.deal_id,
            template_id=template.id,
            enrollment_id=(enrollment_ids or {}).get(draft.deal_id),
            to_address=draft.to,
            subject=draft.subject,
            body=draft.body,
            unsubscribe_url=draft.unsubscribe_url,
            status="skipped" if draft.skip_reason else "queued",
            error=draft.skip_reason,
            created_by=actor,
        )
        session.add(row)
        rows.append(row)
    session.flush()
    for row in rows:
        if row.status == "skipped":
            _event(session, row, "skipped", reason=row.error)
    return rows


def queue_messages(  # noqa: PLR0913  the send command's options
    session: Session,
    workspace_id: int,
    template: MessageTemplate,
    deal_ids: Sequence[int],
    links: Links,
    *,
    actor: str | None = None,
) -> list[OutboxMessage]:
    """Render ``template`` for the deals and put the messages in the outbox (one transaction:
    a template that cannot render for one deal stores none)."""
    drafts = compose(session, workspace_id, template, deal_ids, links)
    return store_drafts(session, workspace_id, template, drafts, actor=actor)


@dataclass
class Delivery:
    """What one run of :func:`deliver_queued` did."""

    sent: list[int] = field(default_factory=list)
    failed: list[int] = field(default_factory=list)
    skipped: list[int] = field(default_factory=list)
    deferred: int = 0  # still queued: the day's limit was reached
    error: str | None = None  # why nothing was sent (no SMTP server)

    def as_dict(self) -> dict[str, Any]:
        return {
            "sent": len(self.sent),
            "failed": len(self.failed),
            "skipped": len(self.skipped),
            "deferred": self.deferred,
            "error": self.error,
        }


def _claim(  # noqa: PLR0913  one message, its day and the limit
    store: Store,
    workspace_id: int,
    message_id: int,
    day: dt.date,
    limit: int,
    at: dt.datetime,
    by: str | None = None,
) -> tuple[str, OutboxMessage | None]:
    """Take a queued message for sending: ("send", a detached copy), ("skipped", None),
    ("limit", None) or ("gone", None)."""
    with store.transaction() as session:
        taken = session.execute(
            update(OutboxMessage)
            .where(
                OutboxMessage.id == message_id,
                OutboxMessage.workspace_id == workspace_id,
                OutboxMessage.status == "queued",
            )
            .values(status="sending", claimed_at=at)
            .execution_options(synchronize_session=False)
        ).rowcount
        if not taken:
            return "gone", None
        message = session.get_one(OutboxMessage, message_id)
        if message.creator_id in do_not_contact_ids(session, workspace_id):
            message.status, message.error = "skipped", DO_NOT_CONTACT
            _event(session, message, "skipped", by=by, reason=DO_NOT_CONTACT)
            _stop_enrollment(session, message, "opted_out", DO_NOT_CONTACT)
            return "skipped", None
        if not quota.claim(session, workspace_id, day, limit):
            message.status, message.claimed_at = "queued", None
            return "limit", None
        session.flush()
        session.expunge(message)
        return "send", message


def _stop_enrollment(session: Session, message: OutboxMessage, status: str, reason: str) -> None:
    if message.enrollment_id is None:
        return
    session.execute(
        update(Enrollment)
        .where(Enrollment.id == message.enrollment_id, Enrollment.status == "active")
        .values(status=status, stopped_reason=reason[:200], due_at=None)
        .execution_options(synchronize_session=False)
    )


def _advance_enrollment(session: Session, message: OutboxMessage, sent_at: dt.datetime) -> None:
    """After a sequence's message went out: the next step falls due its delay later, or the
    enrollment is finished."""
    enrollment = session.get(Enrollment, message.enrollment_id) if message.enrollment_id else None
    if enrollment is None or enrollment.status != "active":
        return
    enrollment.last_sent_at = sent_at
    delay = session.scalar(
        select(SequenceStep.delay_days).where(
            SequenceStep.sequence_id == enrollment.sequence_id,
            SequenceStep.position == enrollment.next_position,
        )
    )
    if delay is None:
        enrollment.status, enrollment.due_at = "finished", None
        enrollment.stopped_reason = "every step was sent"
    else:
        enrollment.due_at = sent_at + dt.timedelta(days=delay)


def _finish(  # noqa: PLR0913  one message, its outcome and who delivered it
    store: Store,
    message: OutboxMessage,
    sent_at: dt.datetime,
    error: str | None,
    day: dt.date,
    by: str | None = None,
) -> None:
    with store.transaction() as session:
        row = session.get_one(OutboxMessage, message.id)
        if error is None:
            row.status, row.sent_at, row.message_id = "sent", sent_at, message.message_id
            _event(session, row, "sent", at=sent_at, by=by, message_id=message.message_id)
            _advance_enrollment(session, row, sent_at)
            if row.deal_id is not None:
                stage = session.scalar(select(Deal.stage).where(Deal.id == row.deal_id))
                if stage == "prospect":
                    move_deals(
                        session,
                        row.workspace_id,
                        [row.deal_id],
                        "contacted",
                        actor=by or row.created_by,
                        actor_kind=_actor_kind(by or row.created_by),
                        detail={"outbox_id": row.id},
                        at=sent_at,
                    )
        else:
            row.status, row.error = "failed", error[:500]
            quota.give_back(session, row.workspace_id, day)
            _event(session, row, "failed", by=by, error=error[:200])
            _stop_enrollment(session, row, "failed", f"sending failed: {error}")


def _send_one(connection: SmtpConnection, message: OutboxMessage, at: dt.datetime) -> str | None:
    """Send; None when the server took it, else its answer (the message's error)."""
    try:
        email = build_message(
            connection.config,
            to=message.to_address or "",
            subject=message.subject,
            body=message.body,
            unsubscribe_url=message.unsubscribe_url or "",
            at=at,
        )
        message.message_id = str(email["Message-ID"])
        connection.send(email)
    except (smtplib.SMTPException, OSError, ValueError) as exc:
        log.warning("outreach message %s not sent: %s", message.id, exc)
        return f"{type(exc).__name__}: {exc}"
    return None


def fail_interrupted(
    store: Store, workspace_id: int, now: dt.datetime, after: dt.timedelta = STUCK_AFTER
) -> int:
    """Messages left ``sending`` for longer than ``after`` (their process stopped between
    claiming and recording): marked failed, never sent again automatically — the server may
    have taken them. Their unit of the day stays spent."""
    with store.transaction() as session:
        return session.execute(
            update(OutboxMessage)
            .where(
                OutboxMessage.workspace_id == workspace_id,
                OutboxMessage.status == "sending",
                OutboxMessage.claimed_at < now - after,
            )
            .values(status="failed", error=INTERRUPTED)
            .execution_options(synchronize_session=False)
        ).rowcount


def deliver_queued(
    store: Store,
    workspace_id: int,
    *,
    now: dt.datetime | None = None,
    transport: Transport = SmtpConnection,
    batch: int = BATCH,
    actor: str | None = None,
) -> Delivery:
    """Send the workspace's queued messages, oldest first, until the day's limit. ``actor``
    (a member's e-mail, an API key's name) is who started this delivery by hand: the sent
    messages and the moves to contacted are recorded as theirs; without one (the scheduled
    job), as whoever queued each message, ``system`` for a sequence's."""
    report = Delivery()
    fail_interrupted(store, workspace_id, now or utcnow())
    with store.session() as session:
        workspace = session.get_one(Workspace, workspace_id)
        config, limit = smtp_config(workspace), daily_limit(workspace)
        ids = list(
            session.scalars(
                select(OutboxMessage.id)
                .where(OutboxMessage.workspace_id == workspace_id, OutboxMessage.status == "queued")
                .order_by(OutboxMessage.id)
                .limit(batch)
            )
        )
    if not ids:
        return report
    if config is None:
        report.error, report.deferred = NO_SMTP, len(ids)
        return report
    with transport(config) as connection:
        try:
            connection.connect()
        except (smtplib.SMTPException, OSError) as exc:
            report.error = f"cannot reach the SMTP server {config.host}:{config.port}: {exc}"
            report.deferred = len(ids)
            return report
        for position, message_id in enumerate(ids):
            at = now or utcnow()
            day = at.date()
            outcome, message = _claim(store, workspace_id, message_id, day, limit, at, actor)
            if outcome == "limit":
                report.deferred = len(ids) - position
                break
            if outcome == "skipped":
                report.skipped.append(message_id)
            if message is None:
                continue
            error = _send_one(connection, message, at)
            _finish(store, message, at, error, day, actor)
            (report.failed if error else report.sent).append(message_id)
    return report
