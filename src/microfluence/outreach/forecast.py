"""What a send does to each message, told before (a dry run) and after: ``sent``, ``queued``
(over the day's limit, or no SMTP server: it goes out on a later run) or ``skipped`` (no
e-mail address, do-not-contact), each with its reason.

A dry run foresees it the way delivery will decide it: the room left today is the daily limit
less the messages already sent today and those already queued ahead (delivery sends the
oldest first); the first messages that fit go out, the rest stay queued for the next UTC day.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from microfluence.kernel.store.tables import Workspace
from microfluence.outreach import quota
from microfluence.outreach.composing import Draft
from microfluence.outreach.sending import NO_SMTP
from microfluence.outreach.settings import daily_limit, smtp_config
from microfluence.outreach.tables import OutboxMessage

OVER_LIMIT = "over the daily limit of {limit}: queued for tomorrow"
STAYS_QUEUED = NO_SMTP + ": stays queued"

Outcome = tuple[str, str | None]


def room_today(session: Session, workspace_id: int, day: dt.date) -> tuple[int, str]:
    """How many more messages go out today, and why the others wait."""
    workspace = session.get_one(Workspace, workspace_id)
    if smtp_config(workspace) is None:
        return 0, STAYS_QUEUED
    limit = daily_limit(workspace)
    ahead = session.scalar(
        select(func.count())
        .select_from(OutboxMessage)
        .where(OutboxMessage.workspace_id == workspace_id, OutboxMessage.status == "queued")
    )
    room = limit - quota.sent_on(session, workspace_id, day) - int(ahead or 0)
    return max(room, 0), OVER_LIMIT.format(limit=limit)


def foresee(drafts: Sequence[Draft], room: int, why_queued: str) -> list[Outcome]:
    """Each draft's outcome, in order: skipped with its reason, sent while there is room,
    queued after."""
    outcomes: list[Outcome] = []
    for draft in drafts:
        if draft.skip_reason:
            outcomes.append(("skipped", draft.skip_reason))
        elif room > 0:
            room -= 1
            outcomes.append(("sent", None))
        else:
            outcomes.append(("queued", why_queued))
    return outcomes


def outcomes_of(
    session: Session, workspace_id: int, message_ids: Sequence[int], why_queued: str
) -> list[Outcome]:
    """What became of stored messages, in the order of ``message_ids``: their status, and the
    reason (the skip or the server's answer; why they are still queued)."""
    found = {
        row.id: (row.status, row.error)
        for row in session.execute(
            select(OutboxMessage.id, OutboxMessage.status, OutboxMessage.error).where(
                OutboxMessage.workspace_id == workspace_id, OutboxMessage.id.in_(message_ids)
            )
        )
    }
    outcomes: list[Outcome] = []
    for message_id in message_ids:
        status, error = found[message_id]
        outcomes.append((status, why_queued if status == "queued" else error))
    return outcomes
