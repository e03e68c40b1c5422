"""The outbox as people read it: the workspace's messages, newest first, with the creator and
the deal they went to, filtered by status; and each message's public view, where the token of
a creator-portal link in the body is hidden: the link acts for the creator, and viewers read the
outbox (the mail sent, and the creator's privacy export, keep it whole)."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from microfluence.kernel.errors import InputError, NotFoundError
from microfluence.kernel.store.tables import Creator, utcnow
from microfluence.outreach import quota
from microfluence.outreach.tables import MESSAGE_STATUSES, MessageTemplate, OutboxMessage

MAX_LIMIT = 500
PORTAL_TOKEN = re.compile(r"(/portal/)[A-Za-z0-9_-]{16,}")
HIDDEN_TOKEN = r"\1[link hidden]"


def hide_portal_tokens(text: str) -> str:
    return PORTAL_TOKEN.sub(HIDDEN_TOKEN, text)


def public_message(
    message: OutboxMessage, creator: str | None, template: str | None
) -> dict[str, Any]:
    return {
        "id": message.id,
        "creator_id": message.creator_id,
        "creator": creator,
        "deal_id": message.deal_id,
        "template": template,
        "to": message.to_address,
        "subject": message.subject,
        "body": hide_portal_tokens(message.body),
        "status": message.status,
        "error": message.error,
        "message_id": message.message_id,
        "created_at": message.created_at,
        "sent_at": message.sent_at,
        "sequence_enrollment_id": message.enrollment_id,
    }


def list_outbox(
    session: Session,
    workspace_id: int,
    *,
    status: str | None = None,
    limit: int = 50,
    offset: int = 0,
) -> tuple[list[dict[str, Any]], int]:
    """A page of the workspace's messages (newest first) and how many there are in all."""
    if status is not None and status not in MESSAGE_STATUSES:
        raise InputError(f"one of {', '.join(MESSAGE_STATUSES)}", field="status")
    if not 1 <= limit <= MAX_LIMIT or offset < 0:
        raise InputError(f"limit is 1 to {MAX_LIMIT}, offset at least 0", field="limit")
    where = [OutboxMessage.workspace_id == workspace_id]
    if status is not None:
        where.append(OutboxMessage.status == status)
    count = session.scalar(select(func.count()).select_from(OutboxMessage).where(*where)) or 0
    rows = session.execute(
        select(OutboxMessage, Creator.name, MessageTemplate.name)
        .join(Creator, Creator.id == OutboxMessage.creator_id)
        .outerjoin(MessageTemplate, MessageTemplate.id == OutboxMessage.template_id)
        .where(*where)
        .order_by(OutboxMessage.id.desc())
        .limit(limit)
        .offset(offset)
    ).all()
    return [public_message(m, c, t) for m, c, t in rows], count


def get_message(session: Session, workspace_id: int, message_id: int) -> dict[str, Any]:
    row = session.execute(
        select(OutboxMessage, Creator.name, MessageTemplate.name)
        .join(Creator, Creator.id == OutboxMessage.creator_id)
        .outerjoin(MessageTemplate, MessageTemplate.id == OutboxMessage.template_id)
        .where(OutboxMessage.workspace_id == workspace_id, OutboxMessage.id == message_id)
    ).first()
    if row is None:
        raise NotFoundError(f"no message with id {message_id} in this workspace")
    return public_message(*row)


def status_counts(
    session: Session, workspace_id: int, day: dt.date | None = None
) -> dict[str, int]:
    """Messages per status, and how many went out on ``day`` (default: today, UTC)."""
    counts = dict(
        session.execute(
            select(OutboxMessage.status, func.count())
            .where(OutboxMessage.workspace_id == workspace_id)
            .group_by(OutboxMessage.status)
        ).all()
    )
    out = {status: int(counts.get(status, 0)) for status in MESSAGE_STATUSES}
    out["sent_today"] = quota.sent_on(session, workspace_id, day or utcnow().date())
    return out
