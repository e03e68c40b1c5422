"""Invitations: how an owner brings someone into a workspace, with that person's consent.

An owner invites an e-mail address with a role (at most their own). The answer is the same
whether or not the address has an account, so inviting reveals nothing about who uses the
server. The invitation is a random token (``mfi_`` + 256 bits; the store keeps its SHA-256
digest) with an expiry (``LIFETIME``); its link, ``/invitations/{token}``, is shown to the owner
once, to pass on (the product sends no e-mail yet). Whoever holds the link can accept it, so it
should travel over a channel the owner trusts.

The invited person accepts by opening the link and either clicking Accept while signed in as the
invited address, or giving a password: the password of their existing account (checked, and
rate-limited, like a sign-in) or the password of a new account for that address. The page asks
the same way in both cases. Accepting goes through ``members.add_member`` and never lowers a role
the person already has. An owner lists pending invitations and revokes them; inviting the same
address again replaces its pending invitation.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import delete, or_, select, update
from sqlalchemy.orm import Session, aliased

from microfluence.access.errors import AuthenticationError, PermissionDeniedError
from microfluence.access.members import add_member
from microfluence.access.passwords import check_password_strength
from microfluence.access.principal import Principal
from microfluence.access.roles import MANAGE, Role, parse_role
from microfluence.access.sessions import note_good_password, verify_credentials
from microfluence.access.tables import Invitation, Membership, User, open_invitations
from microfluence.access.tokens import digest, new_token
from microfluence.access.users import find_user, normalise_email
from microfluence.kernel.errors import ConflictError, NotFoundError
from microfluence.kernel.store import Store
from microfluence.kernel.store.tables import Workspace, utcnow

LIFETIME = dt.timedelta(days=7)
KEEP_ENDED = dt.timedelta(days=30)  # ended invitations stay listed this long, then are pruned
TOKEN_PREFIX = "mfi_"
PATH = "/invitations/"
_INVALID = "this invitation link is not valid"


@dataclass(frozen=True)
class NewInvitation:
    invitation: Invitation
    token: str  # shown once

    @property
    def path(self) -> str:
        return PATH + self.token

    def link(self, base_url: str) -> str:
        return base_url.rstrip("/") + self.path


@dataclass(frozen=True)
class InvitationView:
    id: int
    email: str
    role: Role
    workspace: str
    workspace_display_name: str
    invited_by: str | None  # the inviting owner's e-mail (None: the operator, or deleted)
    created_at: dt.datetime
    expires_at: dt.datetime
    status: str  # pending | accepted | revoked | expired


@dataclass(frozen=True)
class Accepted:
    user_id: int
    email: str
    workspace_id: int
    workspace: str
    role: Role
    created_user: bool


def _status(invitation: Invitation, now: dt.datetime) -> str:
    if invitation.accepted_at is not None:
        return "accepted"
    if invitation.revoked_at is not None:
        return "revoked"
    if invitation.expires_at <= now:
        return "expired"
    return "pending"


def invite(
    session: Session,
    *,
    actor: Principal | None,
    workspace: Workspace,
    email: str,
    role: Role | str = Role.member,
) -> NewInvitation:
    """Invite ``email`` to ``workspace`` with ``role``; ``actor`` None is the operator (CLI).

    The same answer whether or not the address has an account. Inviting someone who is already
    a member is a conflict (the owner sees the members anyway); inviting an address again
    replaces its pending invitation."""
    role = parse_role(str(role))
    email = normalise_email(email)
    invited_by = None
    if actor is not None:
        actor.require(MANAGE)
        if actor.workspace_id != workspace.id:
            raise PermissionDeniedError("an owner invites to their own workspace only")
        if role.rank > actor.role.rank:
            raise PermissionDeniedError(f"you may give at most the {actor.role.value} role")
        invited_by = actor.user_id
    member = session.scalar(
        select(Membership.id)
        .join(User, User.id == Membership.user_id)
        .where(Membership.workspace_id == workspace.id, User.email == email)
    )
    if member is not None:
        raise ConflictError(
            f"{email} is already a member of {workspace.name!r}: change their role instead"
        )
    now = utcnow()
    session.execute(
        update(Invitation)
        .where(
            Invitation.workspace_id == workspace.id,
            Invitation.email == email,
            *open_invitations(),
        )
        .values(revoked_at=now)
    )
    token = TOKEN_PREFIX + new_token(32)
    invitation = Invitation(
        workspace_id=workspace.id,
        email=email,
        role=role.value,
        token_hash=digest(token),
        invited_by=invited_by,
        created_at=now,
        expires_at=now + LIFETIME,
    )
    session.add(invitation)
    session.flush()
    return NewInvitation(invitation=invitation, token=token)


def _views(session: Session, *where: object) -> list[InvitationView]:
    inviter = aliased(User)
    rows = session.execute(
        select(Invitation, Workspace.name, Workspace.display_name, inviter.email)
        .join(Workspace, Workspace.id == Invitation.workspace_id)
        .outerjoin(inviter, inviter.id == Invitation.invited_by)
        .where(*where)  # type: ignore[arg-type]
        .order_by(Invitation.created_at.desc(), Invitation.id.desc())
    )
    now = utcnow()
    return [
        InvitationView(
            id=inv.id,
            email=inv.email,
            role=Role(inv.role),
            workspace=name,
            workspace_display_name=display or name,
            invited_by=inviter_email,
            created_at=inv.created_at,
            expires_at=inv.expires_at,
            status=_status(inv, now),
        )
        for inv, name, display, inviter_email in rows
    ]


def list_invitations(
    session: Session, workspace_id: int, *, pending_only: bool = True
) -> list[InvitationView]:
    """The workspace's invitations, newest first: the pending ones, or all kept."""
    where = [Invitation.workspace_id == workspace_id]
    if pending_only:
        where += open_invitations(utcnow())
    return _views(session, *where)


def revoke_invitation(session: Session, *, workspace_id: int, invitation_id: int) -> Invitation:
    """Revoke an invitation of this workspace: its link stops working at once."""
    invitation = session.scalar(
        select(Invitation).where(
            Invitation.id == invitation_id, Invitation.workspace_id == workspace_id
        )
    )
    if invitation is None:
        raise NotFoundError(f"no invitation with id {invitation_id} in this workspace")
    if invitation.accepted_at is not None:
        raise ConflictError(
            f"the invitation of {invitation.email} was accepted already: remove the member instead"
        )
    if invitation.revoked_at is None:
        invitation.revoked_at = utcnow()
        session.flush()
    return invitation


def _by_token(session: Session, token: str) -> Invitation:
    token = (token or "").strip()
    if not token.startswith(TOKEN_PREFIX) or len(token) > 100:
        raise NotFoundError(_INVALID)
    invitation = session.scalar(select(Invitation).where(Invitation.token_hash == digest(token)))
    if invitation is None:
        raise NotFoundError(_INVALID)
    return invitation


def describe_invitation(session: Session, token: str) -> InvitationView:
    """What an invitation link offers, in any state (the page tells an expired one apart)."""
    invitation = _by_token(session, token)
    return _views(session, Invitation.id == invitation.id)[0]


def _pending(session: Session, token: str) -> Invitation:
    invitation = _by_token(session, token)
    status = _status(invitation, utcnow())
    if status != "pending":
        messages = {
            "accepted": "this invitation has been accepted already",
            "revoked": "this invitation has been revoked: ask the owner for a new one",
            "expired": "this invitation has expired: ask the owner for a new one",
        }
        raise NotFoundError(messages[status])
    return invitation


def _accept(
    session: Session,
    invitation: Invitation,
    *,
    password: str | None = None,
    display_name: str | None = None,
) -> Accepted:
    now = utcnow()
    # Claim it in one statement: of two simultaneous acceptances, one wins.
    claimed = session.execute(
        update(Invitation)
        .where(Invitation.id == invitation.id, *open_invitations(now))
        .values(accepted_at=now)
    )
    if claimed.rowcount != 1:  # type: ignore[attr-defined]
        raise NotFoundError("this invitation has been accepted already")
    workspace = session.get(Workspace, invitation.workspace_id)
    assert workspace is not None
    added = add_member(
        session,
        workspace=workspace,
        email=invitation.email,
        role=invitation.role,
        password=password,
        display_name=display_name,
        never_lower=True,
    )
    session.execute(
        update(Invitation).where(Invitation.id == invitation.id).values(accepted_by=added.user.id)
    )
    return Accepted(
        user_id=added.user.id,
        email=added.user.email,
        workspace_id=workspace.id,
        workspace=workspace.name,
        role=Role(added.membership.role),
        created_user=added.created_user,
    )


def accept_as_user(session: Session, token: str, user_id: int) -> Accepted:
    """Accept for the signed-in user, who must be the invited address."""
    invitation = _pending(session, token)
    user = session.get(User, user_id)
    if user is None or not user.is_active:
        raise AuthenticationError("please sign in")
    if user.email != invitation.email:
        raise PermissionDeniedError(
            f"this invitation is for {invitation.email}, and you are signed in as {user.email}: "
            "sign out, then open the link again"
        )
    return _accept(session, invitation)


def accept_with_password(
    store: Store,
    token: str,
    *,
    password: str,
    display_name: str | None = None,
    ip: str | None = None,
) -> Accepted:
    """Accept with the password of the invited address's account (checked and rate-limited as a
    sign-in), or, when it has none, make its account with this password."""
    check_password_strength(password)  # every stored password passes it: this tells nothing
    with store.transaction() as session:
        email = _pending(session, token).email
        exists = find_user(session, email) is not None
    if exists:
        user_id = verify_credentials(store, email=email, password=password, ip=ip)
        with store.transaction() as session:
            user = session.get(User, user_id)
            if user is None:
                raise AuthenticationError("wrong e-mail address or password")
            note_good_password(session, user, password, ip)
            return _accept(session, _pending(session, token))
    with store.transaction() as session:
        name = (display_name or "").strip()[:200] or None
        return _accept(session, _pending(session, token), password=password, display_name=name)


def forget_ended(session: Session) -> int:
    """Delete invitations that ended (accepted, revoked, expired) over ``KEEP_ENDED`` ago."""
    cutoff = utcnow() - KEEP_ENDED
    result = session.execute(
        delete(Invitation).where(
            or_(
                Invitation.accepted_at < cutoff,
                Invitation.revoked_at < cutoff,
                Invitation.expires_at < cutoff,
            )
        )
    )
    return int(result.rowcount or 0)  # type: ignore[attr-defined]
