"""Users and their memberships of workspaces: the primitives ``members`` builds on.

Adding someone to a workspace goes through ``members.add_member`` (the CLI's operator path, an
accepted invitation, the demo), never through ``set_membership`` directly from a face.
"""

from __future__ import annotations

import re

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from microfluence.access.passwords import hash_password
from microfluence.access.roles import Role, parse_role
from microfluence.access.tables import Membership, User
from microfluence.kernel.errors import ConflictError, InputError, NotFoundError
from microfluence.kernel.store.tables import Workspace

_EMAIL = re.compile(r"^[^@\s]{1,64}@[^@\s]+\.[^@\s]+$")


def normalise_email(email: str) -> str:
    value = (email or "").strip().lower()
    if len(value) > 320 or not _EMAIL.match(value):
        raise InputError(f"not an e-mail address: {email!r}", field="email", value=email)
    return value


def find_user(session: Session, email: str) -> User | None:
    return session.scalar(select(User).where(User.email == normalise_email(email)))


def get_user(session: Session, email: str) -> User:
    user = find_user(session, email)
    if user is None:
        raise NotFoundError(f"no user with the e-mail address {email!r}")
    return user


def create_user(
    session: Session, *, email: str, password: str, display_name: str | None = None
) -> User:
    email = normalise_email(email)
    if find_user(session, email) is not None:
        raise ConflictError(f"a user with the e-mail address {email!r} already exists")
    user = User(email=email, password_hash=hash_password(password), display_name=display_name)
    session.add(user)
    try:
        session.flush()
    except IntegrityError as exc:
        raise ConflictError(f"a user with the e-mail address {email!r} already exists") from exc
    return user


def set_password(session: Session, user: User, password: str) -> None:
    user.password_hash = hash_password(password)
    session.flush()


def find_membership(session: Session, *, user_id: int, workspace_id: int) -> Membership | None:
    return session.scalar(
        select(Membership).where(
            Membership.user_id == user_id, Membership.workspace_id == workspace_id
        )
    )


def set_membership(
    session: Session, *, user: User, workspace: Workspace, role: Role | str
) -> Membership:
    """Give ``user`` the ``role`` in ``workspace`` (adding them, or changing their role)."""
    role = parse_role(str(role))
    membership = find_membership(session, user_id=user.id, workspace_id=workspace.id)
    if membership is None:
        membership = Membership(user_id=user.id, workspace_id=workspace.id, role=role.value)
        session.add(membership)
    else:
        if membership.role == Role.owner and role != Role.owner:
            keep_an_owner(session, workspace.id, user.id)
        membership.role = role.value
    session.flush()
    return membership


def remove_membership(session: Session, *, user: User, workspace: Workspace) -> None:
    membership = find_membership(session, user_id=user.id, workspace_id=workspace.id)
    if membership is None:
        raise NotFoundError(f"{user.email} is not a member of {workspace.name!r}")
    if membership.role == Role.owner:
        keep_an_owner(session, workspace.id, user.id)
    session.delete(membership)
    session.flush()


def other_active_owners(session: Session, workspace_id: int, user_id: int) -> int:
    """Owners of the workspace, other than ``user_id``, whose accounts are not disabled."""
    return int(
        session.scalar(
            select(func.count())
            .select_from(Membership)
            .join(User, User.id == Membership.user_id)
            .where(
                Membership.workspace_id == workspace_id,
                Membership.role == Role.owner.value,
                Membership.user_id != user_id,
                User.is_active.is_(True),
            )
        )
        or 0
    )


def keep_an_owner(session: Session, workspace_id: int, user_id: int) -> None:
    """Refuse to take ``user_id``'s ownership away when no other active owner would be left."""
    if other_active_owners(session, workspace_id, user_id) == 0:
        raise ConflictError("a workspace keeps at least one owner")


def list_members(session: Session, workspace_id: int) -> list[tuple[User, Membership]]:
    rows = session.execute(
        select(User, Membership)
        .join(Membership, Membership.user_id == User.id)
        .where(Membership.workspace_id == workspace_id)
        .order_by(User.email)
    )
    return [(user, membership) for user, membership in rows]


def workspaces_of(session: Session, user_id: int) -> list[tuple[Workspace, Role]]:
    """The workspaces a user belongs to, with their role in each (for the switcher)."""
    rows = session.execute(
        select(Workspace, Membership.role)
        .join(Membership, Membership.workspace_id == Workspace.id)
        .where(Membership.user_id == user_id)
        .order_by(Workspace.name)
    )
    return [(workspace, Role(role)) for workspace, role in rows]
