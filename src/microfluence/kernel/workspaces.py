"""Workspaces: a brand, or one client of an agency. Every query is scoped to one."""

from __future__ import annotations

import re

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from microfluence.kernel.errors import ConflictError, InputError, NotFoundError
from microfluence.kernel.store.tables import Workspace

NAME_PATTERN = re.compile(r"^[a-z0-9][a-z0-9_.-]{0,63}$")


def check_name(name: str) -> str:
    """A workspace name: lower-case letters, digits, '-', '_' or '.', at most 64 characters."""
    if not isinstance(name, str) or not NAME_PATTERN.match(name):
        raise InputError(
            "a workspace name is 1-64 lower-case letters, digits, '-', '_' or '.', "
            "starting with a letter or digit",
            field="workspace",
            value=name,
        )
    return name


def find_workspace(session: Session, name: str) -> Workspace | None:
    return session.scalar(select(Workspace).where(Workspace.name == name))


def get_workspace(session: Session, name: str) -> Workspace:
    workspace = find_workspace(session, name)
    if workspace is None:
        raise NotFoundError(f"no workspace named {name!r}")
    return workspace


def create_workspace(session: Session, name: str, display_name: str | None = None) -> Workspace:
    check_name(name)
    if find_workspace(session, name) is not None:
        raise ConflictError(f"a workspace named {name!r} already exists")
    workspace = Workspace(name=name, display_name=display_name or name, settings={})
    session.add(workspace)
    try:
        session.flush()
    except IntegrityError as exc:  # a concurrent create won the race
        raise ConflictError(f"a workspace named {name!r} already exists") from exc
    return workspace


def ensure_workspace(session: Session, name: str) -> Workspace:
    """The named workspace, created on first use (importers and the demo use this)."""
    check_name(name)
    return find_workspace(session, name) or create_workspace(session, name)


def list_workspaces(session: Session) -> list[Workspace]:
    return list(session.scalars(select(Workspace).order_by(Workspace.name)))
