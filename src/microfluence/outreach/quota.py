"""The daily sending limit: messages a workspace sends per UTC day, counted in the store.

Each message claims one unit of its day with one conditional update (``sent = sent + 1 WHERE
sent < limit``): the database decides, so two workers sending for one workspace never go over
the limit between them (PostgreSQL re-checks the condition on the row it waited for; SQLite
has one writer at a time). A message that fails to send gives its unit back."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from microfluence.outreach.tables import SendQuota


def _ensure_day(session: Session, workspace_id: int, day: dt.date) -> None:
    exists = session.scalar(
        select(SendQuota.id).where(SendQuota.workspace_id == workspace_id, SendQuota.day == day)
    )
    if exists is not None:
        return
    try:
        with session.begin_nested():
            session.add(SendQuota(workspace_id=workspace_id, day=day, sent=0))
            session.flush()
    except IntegrityError:
        pass  # another worker made the day's row first


def claim(session: Session, workspace_id: int, day: dt.date, limit: int) -> bool:
    """Take one message of the day's allowance; False when the limit is reached."""
    _ensure_day(session, workspace_id, day)
    taken = session.execute(
        update(SendQuota)
        .where(
            SendQuota.workspace_id == workspace_id,
            SendQuota.day == day,
            SendQuota.sent < limit,
        )
        .values(sent=SendQuota.sent + 1)
        .execution_options(synchronize_session=False)
    ).rowcount
    return taken == 1


def give_back(session: Session, workspace_id: int, day: dt.date) -> None:
    session.execute(
        update(SendQuota)
        .where(SendQuota.workspace_id == workspace_id, SendQuota.day == day, SendQuota.sent > 0)
        .values(sent=SendQuota.sent - 1)
        .execution_options(synchronize_session=False)
    )


def sent_on(session: Session, workspace_id: int, day: dt.date) -> int:
    return (
        session.scalar(
            select(SendQuota.sent).where(
                SendQuota.workspace_id == workspace_id, SendQuota.day == day
            )
        )
        or 0
    )
