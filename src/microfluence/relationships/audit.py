"""The contact audit log: who viewed or changed a creator's contact data, when, and through
which face (``contact_audit``). A change is logged with the names of the fields it touched,
never their values, so the log itself holds no contact data. Read by owners only (the faces
check the role; :func:`audit_log` serves whoever they let through)."""

from __future__ import annotations

import datetime as dt
import getpass
from collections.abc import Iterable
from dataclasses import dataclass

from pydantic import BaseModel
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from microfluence.access.principal import Principal
from microfluence.access.tables import ApiKey, User
from microfluence.catalog.listing import Window
from microfluence.catalog.schemas import UtcDateTime
from microfluence.kernel.errors import InputError
from microfluence.kernel.store.tables import utcnow
from microfluence.relationships.tables import AUDIT_ACTIONS, ContactAudit

VIAS = ("page", "api", "cli", "library")


@dataclass(frozen=True)
class Actor:
    """Who is looking or changing: ``kind`` is ``user`` (``label`` their e-mail), ``api_key``
    (``label`` the key's name and prefix) or ``cli`` (the operating-system user); ``via`` the
    face (page, api, cli, library)."""

    kind: str
    label: str | None
    via: str

    @property
    def name(self) -> str:
        """How the actor is written in deal events and do-not-contact reasons."""
        return self.label or self.kind


def actor_of(session: Session, caller: Principal, via: str) -> Actor:
    """The actor behind a request: the signed-in user's e-mail, or the API key's name."""
    if caller.user_id is not None and caller.api_key_id is None:
        email = session.scalar(select(User.email).where(User.id == caller.user_id))
        return Actor("user", email, via)
    if caller.api_key_id is not None:
        key = session.execute(
            select(ApiKey.name, ApiKey.prefix).where(ApiKey.id == caller.api_key_id)
        ).first()
        label = f"{key.name} ({key.prefix}…)" if key is not None else None
        return Actor("api_key", label, via)
    return Actor("user", None, via)


def command_line_actor(via: str = "cli") -> Actor:
    """Whoever runs the command or the library: the operating-system user."""
    try:
        who = getpass.getuser()
    except (KeyError, OSError):  # no name for this uid (a container)
        who = None
    return Actor("cli", who, via)


def log(
    session: Session,
    workspace_id: int,
    creator_id: int,
    actor: Actor,
    action: str,
    fields: Iterable[str] = (),
    *,
    reason: str | None = None,
) -> None:
    """One entry of the log (field names only)."""
    if action not in AUDIT_ACTIONS:
        raise InputError(f"action: one of {', '.join(AUDIT_ACTIONS)}, not {action!r}")
    session.add(
        ContactAudit(
            workspace_id=workspace_id,
            creator_id=creator_id,
            at=utcnow(),
            actor_kind=actor.kind,
            actor=actor.label,
            via=actor.via if actor.via in VIAS else "library",
            action=action,
            fields=sorted(set(fields)),
            reason=(reason or None) and reason[:200],
        )
    )
    session.flush()


class AuditEntry(BaseModel):
    id: int
    creator_id: int | None
    at: UtcDateTime
    actor_kind: str
    actor: str | None
    via: str
    action: str
    fields: list[str]
    reason: str | None


class AuditPage(BaseModel):
    data: list[AuditEntry]
    count: int


def audit_log(
    session: Session,
    workspace_id: int,
    *,
    creator_id: int | None = None,
    action: str | None = None,
    since: dt.datetime | None = None,
    window: Window | None = None,
) -> AuditPage:
    """The workspace's entries, newest first, optionally of one creator or one action."""
    if action is not None and action not in AUDIT_ACTIONS:
        raise InputError(f"one of {', '.join(AUDIT_ACTIONS)}", field="action", value=action)
    window = window or Window(limit=100)
    query = select(ContactAudit).where(ContactAudit.workspace_id == workspace_id)
    if creator_id is not None:
        query = query.where(ContactAudit.creator_id == creator_id)
    if action is not None:
        query = query.where(ContactAudit.action == action)
    if since is not None:
        query = query.where(ContactAudit.at >= since)
    count = session.scalar(select(func.count()).select_from(query.subquery())) or 0
    rows = session.scalars(
        query.order_by(ContactAudit.at.desc(), ContactAudit.id.desc())
        .limit(window.limit)
        .offset(window.offset)
    )
    return AuditPage(
        data=[AuditEntry.model_validate(r, from_attributes=True) for r in rows], count=count
    )
