"""A workspace's saved message templates: add, change, list, find, delete. Every template is
checked by the sandbox's rules (outreach.templates) before it is stored."""

from __future__ import annotations

import re
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from microfluence.kernel.errors import ConflictError, InputError, NotFoundError
from microfluence.kernel.store.tables import utcnow
from microfluence.outreach.tables import MessageTemplate, SequenceStep
from microfluence.outreach.templates import check_template

NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9 _.\-]{0,99}$")


def check_name(name: Any) -> str:
    text = str(name or "").strip()
    if not NAME.match(text):
        raise InputError(
            "a template name is 1-100 letters, digits, spaces, '_', '.' or '-'", field="name"
        )
    return text


def public(template: MessageTemplate) -> dict[str, Any]:
    return {
        "id": template.id,
        "name": template.name,
        "kind": template.kind,
        "subject": template.subject,
        "body": template.body,
        "created_at": template.created_at,
        "updated_at": template.updated_at,
    }


def list_templates(session: Session, workspace_id: int) -> list[MessageTemplate]:
    return list(
        session.scalars(
            select(MessageTemplate)
            .where(MessageTemplate.workspace_id == workspace_id)
            .order_by(MessageTemplate.name)
        )
    )


def get_template(session: Session, workspace_id: int, template_id: int) -> MessageTemplate:
    template = session.scalar(
        select(MessageTemplate).where(
            MessageTemplate.workspace_id == workspace_id, MessageTemplate.id == template_id
        )
    )
    if template is None:
        raise NotFoundError(f"no template with id {template_id} in this workspace")
    return template


def find_template(session: Session, workspace_id: int, reference: str | int) -> MessageTemplate:
    """A template by id (digits) or by name."""
    text = str(reference).strip()
    if text.isdigit():
        return get_template(session, workspace_id, int(text))
    template = session.scalar(
        select(MessageTemplate).where(
            MessageTemplate.workspace_id == workspace_id, MessageTemplate.name == text
        )
    )
    if template is None:
        raise NotFoundError(f"no template named {text[:100]!r} in this workspace")
    return template


def _flush(session: Session, name: str) -> None:
    try:
        with session.begin_nested():
            session.flush()
    except IntegrityError as exc:
        raise ConflictError(f"a template named {name!r} already exists") from exc


def add_template(
    session: Session, workspace_id: int, *, name: str, subject: str, body: str
) -> MessageTemplate:
    """Save a new template, checked; a name taken in the workspace is a conflict."""
    name = check_name(name)
    subject, body = check_template(subject, body)
    taken = session.scalar(
        select(MessageTemplate.id).where(
            MessageTemplate.workspace_id == workspace_id, MessageTemplate.name == name
        )
    )
    if taken is not None:
        raise ConflictError(f"a template named {name!r} already exists")
    template = MessageTemplate(
        workspace_id=workspace_id, name=name, kind="email", subject=subject, body=body
    )
    session.add(template)
    _flush(session, name)
    return template


def update_template(
    session: Session,
    workspace_id: int,
    template_id: int,
    *,
    name: str | None = None,
    subject: str | None = None,
    body: str | None = None,
) -> MessageTemplate:
    """Change a template's name, subject or body (each checked; the rest kept)."""
    template = get_template(session, workspace_id, template_id)
    new_subject, new_body = check_template(
        template.subject if subject is None else subject, template.body if body is None else body
    )
    if name is not None:
        new_name = check_name(name)
        if new_name != template.name:
            taken = session.scalar(
                select(MessageTemplate.id).where(
                    MessageTemplate.workspace_id == workspace_id, MessageTemplate.name == new_name
                )
            )
            if taken is not None:
                raise ConflictError(f"a template named {new_name!r} already exists")
            template.name = new_name
    template.subject, template.body = new_subject, new_body
    template.updated_at = utcnow()
    _flush(session, template.name)
    return template


def delete_template(session: Session, workspace_id: int, template_id: int) -> None:
    """Delete a template; one a sequence still uses is a conflict (its messages keep their
    rendered text)."""
    template = get_template(session, workspace_id, template_id)
    used = session.scalar(
        select(SequenceStep.sequence_id).where(
            SequenceStep.workspace_id == workspace_id, SequenceStep.template_id == template.id
        )
    )
    if used is not None:
        raise ConflictError(f"template {template.name!r} is a step of a sequence: remove it there")
    session.delete(template)
    session.flush()
