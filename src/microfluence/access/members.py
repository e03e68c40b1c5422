"""Members of a workspace and the accounts behind them: adding (the one way), roles, removal,
disabling, enabling and deleting accounts.

Who may do what:

* ``actor=None`` is the machine's operator, running the CLI on the server: trusted, may do all.
* Otherwise the actor is a ``Principal`` with the owner role in the workspace (a signed-in owner
  or an owner's API key). Roles and removal concern that workspace only. An *account* (disable,
  enable, delete) concerns every workspace its user belongs to, so an owner may act on it only
  when they own every one of those workspaces (an API key: when the user belongs to the key's
  workspace alone), and never on their own account.
* A workspace always keeps an active owner: the last one cannot be demoted, removed, disabled or
  deleted.

Disabling ends the user's sessions, revokes the API keys they made and the invitations they
sent; sign-in is refused until an owner or the operator enables the account again (the revoked
keys stay revoked). Deleting does the same and removes the account and its memberships.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from microfluence.access.api_keys import revoke_keys_made_by
from microfluence.access.errors import PermissionDeniedError
from microfluence.access.principal import Principal
from microfluence.access.roles import MANAGE, Role, parse_role
from microfluence.access.sessions import sign_out_everywhere
from microfluence.access.tables import Invitation, Membership, User, open_invitations
from microfluence.access.users import (
    create_user,
    find_membership,
    find_user,
    keep_an_owner,
    remove_membership,
    set_membership,
)
from microfluence.kernel.errors import ConflictError, InputError, NotFoundError
from microfluence.kernel.store.tables import Workspace, utcnow

Password = str | Callable[[], str] | None


@dataclass(frozen=True)
class MemberAdded:
    user: User
    membership: Membership
    created_user: bool  # the account was made now
    changed: bool  # the membership was added or its role changed


def add_member(
    session: Session,
    *,
    workspace: Workspace,
    email: str,
    role: Role | str,
    password: Password = None,
    display_name: str | None = None,
    never_lower: bool = False,
) -> MemberAdded:
    """Make ``email`` a member of ``workspace`` with ``role``: the one way anyone becomes a
    member (the operator's CLI, an accepted invitation, the demo), with one password rule.

    The caller vouches for the person's consent: faces reachable by an owner go through
    invitations instead. An unknown address gets an account with ``password`` (or what the
    callable returns, asked only then); without one it is an error. With ``never_lower``, an
    existing higher role is kept (accepting an invitation never demotes)."""
    role = parse_role(str(role))
    user = find_user(session, email)
    created = False
    if user is None:
        if password is None:
            raise InputError(
                f"{email} has no account yet: a first password is needed", field="password"
            )
        secret = password() if callable(password) else password
        user = create_user(session, email=email, password=secret, display_name=display_name)
        created = True
    existing = find_membership(session, user_id=user.id, workspace_id=workspace.id)
    if existing is not None and (
        existing.role == role.value or (never_lower and Role(existing.role).rank >= role.rank)
    ):
        return MemberAdded(user=user, membership=existing, created_user=created, changed=False)
    membership = set_membership(session, user=user, workspace=workspace, role=role)
    return MemberAdded(user=user, membership=membership, created_user=created, changed=True)


def get_member(session: Session, workspace_id: int, user_id: int) -> tuple[User, Membership]:
    """A member of the workspace by user id; the same 404 for anyone else (ids reveal
    nothing about other workspaces)."""
    row = session.execute(
        select(User, Membership)
        .join(Membership, Membership.user_id == User.id)
        .where(User.id == user_id, Membership.workspace_id == workspace_id)
    ).first()
    if row is None:
        raise NotFoundError(f"no member with id {user_id} in this workspace")
    return row[0], row[1]


def _workspace(session: Session, workspace_id: int) -> Workspace:
    workspace = session.get(Workspace, workspace_id)
    if workspace is None:
        raise NotFoundError(f"no workspace with id {workspace_id}")
    return workspace


def _check_actor(actor: Principal | None, workspace_id: int) -> None:
    if actor is not None:
        actor.require(MANAGE)
        if actor.workspace_id != workspace_id:
            raise PermissionDeniedError("an owner manages their own workspace only")


def change_role(
    session: Session,
    *,
    workspace_id: int,
    user_id: int,
    role: Role | str,
    actor: Principal | None = None,
) -> Membership:
    """Give a member of the workspace another role (not above the actor's; ``actor`` None is
    the operator)."""
    _check_actor(actor, workspace_id)
    role = parse_role(str(role))
    if actor is not None and role.rank > actor.role.rank:
        raise PermissionDeniedError(f"you may give at most the {actor.role.value} role")
    user, _ = get_member(session, workspace_id, user_id)
    return set_membership(
        session, user=user, workspace=_workspace(session, workspace_id), role=role
    )


def remove_member(
    session: Session, *, workspace_id: int, user_id: int, actor: Principal | None = None
) -> User:
    """Take a member out of the workspace; the keys they made there are revoked (so that adding
    them back later does not bring old keys back to life)."""
    _check_actor(actor, workspace_id)
    user, _ = get_member(session, workspace_id, user_id)
    remove_membership(session, user=user, workspace=_workspace(session, workspace_id))
    revoke_keys_made_by(session, user.id, workspace_id=workspace_id)
    return user


def _workspaces_of(session: Session, user_id: int, *, owner: bool = False) -> dict[int, str]:
    query = (
        select(Workspace.id, Workspace.name)
        .join(Membership, Membership.workspace_id == Workspace.id)
        .where(Membership.user_id == user_id)
    )
    if owner:
        query = query.where(Membership.role == Role.owner.value)
    return {row[0]: row[1] for row in session.execute(query)}


def check_may_manage_account(
    session: Session, actor: Principal | None, target: User, action: str
) -> None:
    """Raise PermissionDeniedError unless ``actor`` may ``action`` (disable, enable, delete)
    the account ``target``; the rule is in the module's docstring."""
    if actor is None:
        return
    actor.require(MANAGE)
    if actor.user_id == target.id:
        raise PermissionDeniedError(f"you cannot {action} your own account here")
    theirs = set(_workspaces_of(session, target.id))
    if actor.user_id is not None:
        mine = set(_workspaces_of(session, actor.user_id, owner=True))
    else:
        mine = {actor.workspace_id}
    if not theirs <= mine:
        raise PermissionDeniedError(
            f"{target.email} also belongs to workspaces you do not own: only an owner of all "
            f"of them, or the server's operator (microfluence users {action}), may {action} "
            "this account"
        )


def _keep_owners(session: Session, user: User) -> None:
    for workspace_id, name in _workspaces_of(session, user.id, owner=True).items():
        try:
            keep_an_owner(session, workspace_id, user.id)
        except ConflictError:
            raise ConflictError(
                f"{user.email} is the last active owner of {name!r}: make someone else an owner "
                "first"
            ) from None


@dataclass(frozen=True)
class AccountClosed:
    """What disabling or deleting an account ended."""

    email: str
    sessions_ended: int
    keys_revoked: int
    invitations_revoked: int


def _revoke_everything(session: Session, user: User) -> AccountClosed:
    sessions = sign_out_everywhere(session, user.id)
    keys = revoke_keys_made_by(session, user.id)
    invitations = session.execute(
        update(Invitation)
        .where(Invitation.invited_by == user.id, *open_invitations())
        .values(revoked_at=utcnow())
    )
    return AccountClosed(
        email=user.email,
        sessions_ended=sessions,
        keys_revoked=keys,
        invitations_revoked=int(invitations.rowcount or 0),  # type: ignore[attr-defined]
    )


def disable_user(session: Session, *, actor: Principal | None, user: User) -> AccountClosed:
    """Refuse the user's sign-ins from now on; end their sessions; revoke their API keys and the
    invitations they sent."""
    check_may_manage_account(session, actor, user, "disable")
    if user.is_active:
        _keep_owners(session, user)
    user.is_active = False
    closed = _revoke_everything(session, user)
    session.flush()
    return closed


def enable_user(session: Session, *, actor: Principal | None, user: User) -> User:
    """Let a disabled user sign in again (the keys revoked when they were disabled stay so)."""
    check_may_manage_account(session, actor, user, "enable")
    user.is_active = True
    session.flush()
    return user


def delete_user(session: Session, *, actor: Principal | None, user: User) -> AccountClosed:
    """Delete the account with its memberships and sessions; revoke the keys it made and the
    invitations it sent (they stay listed, as revoked)."""
    check_may_manage_account(session, actor, user, "delete")
    _keep_owners(session, user)
    closed = _revoke_everything(session, user)
    session.delete(user)
    session.flush()
    return closed
