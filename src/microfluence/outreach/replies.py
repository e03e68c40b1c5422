"""Replies recorded by hand (the API, the outbox page, ``microfluence outreach replied``): a
``reply`` event on each deal (the creator's action, noted by the user), the deals at
``contacted`` moved to ``replied``, and their sequences stopped."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session

from microfluence.campaigns.tables import Deal
from microfluence.kernel.errors import InputError, NotFoundError
from microfluence.kernel.store.tables import utcnow
from microfluence.outreach.sequences import stop_for_deals
from microfluence.relationships.stages import move_deals, record_event

MAX_NOTE = 2000


def mark_replied(
    session: Session,
    workspace_id: int,
    deal_ids: Sequence[int],
    *,
    actor: str | None,
    note: str | None = None,
    at: dt.datetime | None = None,
) -> dict[str, list[int]]:
    """Record that the creators of these deals replied (all or none); which deals moved to
    ``replied`` and which enrollments stopped."""
    wanted = sorted(set(deal_ids))
    if not wanted:
        raise InputError("name at least one deal", field="deal_ids")
    if note is not None and len(note) > MAX_NOTE:
        raise InputError(f"a note is at most {MAX_NOTE} characters", field="note")
    rows = session.execute(
        select(Deal.id, Deal.stage).where(Deal.workspace_id == workspace_id, Deal.id.in_(wanted))
    ).all()
    missing = set(wanted) - {row.id for row in rows}
    if missing:
        raise NotFoundError(f"no deal with id {min(missing)} in this workspace")
    when = at or utcnow()
    detail = {"recorded_by": actor, **({"note": note} if note else {})}
    for deal_id in wanted:
        record_event(
            session,
            workspace_id,
            deal_id,
            "reply",
            actor=actor,
            actor_kind="creator",
            detail=detail,
            at=when,
        )
    contacted = [row.id for row in rows if row.stage in ("prospect", "contacted")]
    moved = (
        move_deals(
            session,
            workspace_id,
            contacted,
            "replied",
            actor=actor,
            actor_kind="creator",
            detail=detail,
            at=when,
        )
        if contacted
        else []
    )
    stopped = stop_for_deals(session, workspace_id, wanted, "the creator replied")
    return {"deal_ids": wanted, "moved": moved, "stopped_enrollments": [stopped]}
