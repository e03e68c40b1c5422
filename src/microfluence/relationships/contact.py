"""Whether a creator may be contacted: the do-not-contact flag of the relationship record,
honoured by every face that sends anything (outreach, sequences, the portal's reminders).

Anyone who may change data sets the flag; only an owner lifts it, with a reason that the
contact audit log keeps; a creator whose data was erased stays do-not-contact for good, and so
does a creator imported again with an erased creator's e-mail address or handle
(relationships.tombstones), found whenever the list of who may not be contacted is asked for."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select
from sqlalchemy.orm import Session

from microfluence.access.roles import MANAGE, Role, require
from microfluence.kernel.errors import ConflictError, InputError, NotFoundError
from microfluence.kernel.store.tables import Creator, utcnow
from microfluence.relationships.audit import Actor, log
from microfluence.relationships.tables import CreatorRelation
from microfluence.relationships.tombstones import flag_returning


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
    """The ids of the workspace's creators who must not be contacted (creators re-imported
    after an erasure are flagged first)."""
    flag_returning(session, workspace_id)
    return set(
        session.scalars(
            select(CreatorRelation.creator_id).where(
                CreatorRelation.workspace_id == workspace_id,
                CreatorRelation.do_not_contact.is_(True),
            )
        )
    )


def lift_do_not_contact(
    session: Session,
    workspace_id: int,
    creator_id: int,
    *,
    reason: str,
    role: Role | str,
    actor: Actor,
) -> CreatorRelation:
    """Let the creator be contacted again: owners only, with a reason (kept in the contact audit
    log); never for a creator whose data was erased."""
    require(role, MANAGE)
    why = (reason or "").strip()
    if not why:
        raise InputError("lifting do-not-contact needs a reason", field="reason")
    if len(why) > 200:
        raise InputError("at most 200 characters", field="reason")
    relation = relation_of(session, workspace_id, creator_id)
    if relation.erased_at is not None:
        raise ConflictError(
            f"creator {creator_id} was erased on request: do-not-contact stays for good"
        )
    if relation.do_not_contact:
        relation.do_not_contact = False
        relation.do_not_contact_at = None
        relation.do_not_contact_reason = None
        relation.updated_at = utcnow()
        log(
            session,
            workspace_id,
            creator_id,
            actor,
            "lift_do_not_contact",
            ["do_not_contact"],
            reason=why,
        )
        session.flush()
    return relation
