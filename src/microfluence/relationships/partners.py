"""Long-term partners: a creator the brand keeps working with, since a day, with perks — an
exclusive discount code (picked from the creator's codes, or made for them through
tracking.codes), early access to launches, and perks in free text."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy.orm import Session

from microfluence.kernel.errors import ConflictError, InputError
from microfluence.kernel.store.tables import utcnow
from microfluence.relationships.audit import Actor, log
from microfluence.relationships.contact import relation_of
from microfluence.relationships.records import RelationRecord, _not_erased, _text, record_view
from microfluence.tracking.codes import create_code, find_code, resolve_owner


def _since(value: Any) -> dt.date | None:
    if value is None or value == "" or isinstance(value, dt.date):
        return value or None
    try:
        return dt.date.fromisoformat(str(value).strip())
    except ValueError:
        raise InputError(
            f"expected a day as YYYY-MM-DD, got {str(value)[:40]!r}", field="since"
        ) from None


def _code(
    session: Session,
    workspace_id: int,
    creator_id: int,
    code: str | None,
    new_code: dict[str, Any] | None,
) -> tuple[int, str] | None:
    """The partner's exclusive code: an existing one of theirs, or a new one."""
    if code and new_code is not None:
        raise InputError("pick an existing code or make a new one, not both", field="code")
    if code:
        found = find_code(session, workspace_id, code)
        if found.creator_id != creator_id:
            raise ConflictError(f"the code {found.code} is not this creator's")
        if found.disabled_at is not None:
            raise ConflictError(f"the code {found.code} is disabled")
        return found.id, found.code
    if new_code is not None:
        owner = resolve_owner(session, workspace_id, creator_id=creator_id)
        made = create_code(
            session,
            workspace_id,
            owner,
            kind=new_code.get("kind") or "percent",
            value=new_code.get("value"),
            code=new_code.get("code") or None,
        )
        return made.id, made.code
    return None


def set_partner(  # noqa: PLR0913 - each perk is its own keyword
    session: Session,
    workspace_id: int,
    creator_id: int,
    actor: Actor,
    *,
    partner: bool = True,
    since: Any = None,
    code: str | None = None,
    new_code: dict[str, Any] | None = None,
    early_access: bool | None = None,
    note: str | None = None,
) -> RelationRecord:
    """Make the creator a long-term partner (since ``since``, today by default) with its perks,
    or end the partnership (``partner=False``: perks are kept for the record). ``code`` picks one
    of the creator's codes; ``new_code`` (``kind``, ``value``, optional ``code``) makes one."""
    day = _since(since)
    text = _text(note, "note", 2000)
    relation = relation_of(session, workspace_id, creator_id)
    _not_erased(relation)
    perks = dict(relation.perks or {})
    changed: list[str] = []
    if partner != relation.partner:
        relation.partner = partner
        changed.append("partner")
    wanted_since = (
        (day or relation.partner_since or utcnow().date()) if partner else relation.partner_since
    )
    if wanted_since != relation.partner_since:
        relation.partner_since = wanted_since
        changed.append("partner_since")
    chosen = _code(session, workspace_id, creator_id, code, new_code)
    if chosen is not None and perks.get("code_id") != chosen[0]:
        perks.update(code_id=chosen[0], code=chosen[1])
        changed.append("perks.code")
    if early_access is not None and bool(perks.get("early_access")) != early_access:
        perks["early_access"] = early_access
        changed.append("perks.early_access")
    if note is not None and perks.get("note") != text:
        perks["note"] = text
        changed.append("perks.note")
    if changed:
        relation.perks = perks
        relation.updated_at = utcnow()
        log(session, workspace_id, creator_id, actor, "change", changed)
    session.flush()
    return record_view(session, workspace_id, creator_id)
