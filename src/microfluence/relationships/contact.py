"""Whether a creator may be contacted: the do-not-contact flag of the relationship record,
honoured by every face that sends anything (outreach, sequences, the portal's reminders)."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select
from sqlalchemy.orm import Session

from microfluence.kernel.errors import NotFoundError
from microfluence.kernel.store.tables import Creator, utcnow
from microfluence.relationships.tables import CreatorRelation


def relation_of(session: Session, workspace_id: int, creator_id: int) -> CreatorRelation:
    """The creator's relationship record, created empty on first use."""
    found = session.scalar(
        select(Creator.id).where(Creator.workspace_id == workspace_id, Creator.id == creator_id)
    )
    if found is None:
        raise NotFoundError(f"no creator with id {creator_id} in this workspace")
    relation = session.scalar(
        select(CreatorRelation).where(
            CreatorRelation.workspace_id == workspace_id,
            CreatorRelation.creator_id == creator_id,
        )
    )
    if relation is None:
        relation = CreatorRelation(workspace_id=workspace_id, creator_id=creator_id)
        session.add(relation)
        session.flush()
    return relation


def set_do_not_contact(
    session: Session,
    workspace_id: int,
    creator_id: int,
    *,
    reason: str,
    at: dt.datetime | None = None,
) -> CreatorRelation:
    """Mark the creator do-not-contact (an unsubscribe, an opt-out, a request). Idempotent: the
    first time and reason are kept."""
    relation = relation_of(session, workspace_id, creator_id)
    if not relation.do_not_contact:
        relation.do_not_contact = True
        relation.do_not_contact_at = at or utcnow()
        relation.do_not_contact_reason = reason[:200]
        session.flush()
    return relation


def do_not_contact_ids(session: Session, workspace_id: int) -> set[int]:
    """The ids of the workspace's creators who must not be contacted."""
    return set(
        session.scalars(
            select(CreatorRelation.creator_id).where(
                CreatorRelation.workspace_id == workspace_id,
                CreatorRelation.do_not_contact.is_(True),
            )
        )
    )
