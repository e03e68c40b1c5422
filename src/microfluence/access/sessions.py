"""Web sessions: password sign-in (rate-limited), the signed-in user, sign-out, switching
workspace. The cookie carries a random token; the store keeps only its digest, so a leaked
database does not sign anyone in, and signing out really ends the session."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from microfluence.access import throttle
from microfluence.access.errors import AuthenticationError
from microfluence.access.passwords import hash_password, needs_rehash, verify_password
from microfluence.access.principal import Principal
from microfluence.access.roles import Role
from microfluence.access.tables import Membership, User, WebSession
from microfluence.access.tokens import digest, new_token
from microfluence.access.touch import write_if_free
from microfluence.access.users import workspaces_of
from microfluence.kernel.errors import NotFoundError
from microfluence.kernel.store import Store
from microfluence.kernel.store.tables import Workspace, utcnow

SESSION_LIFETIME = dt.timedelta(days=14)  # sliding: renewed while the user comes back
IDLE_TIMEOUT = dt.timedelta(days=3)
TOUCH_RESOLUTION = dt.timedelta(minutes=5)


@dataclass(frozen=True)
class SignedIn:
    """A live session: who, in which workspace (None when they belong to none), with which
    role, and the CSRF token their forms must carry."""

    session_id: int
    user_id: int
    email: str
    display_name: str | None
    csrf_token: str
    principal: Principal | None
    needs_touch: bool = False


def sign_in(
    store: Store,
    *,
    email: str,
    password: str,
    ip: str | None = None,
    user_agent: str | None = None,
) -> tuple[str, SignedIn]:
    """Check the password and open a session; returns the cookie token (shown once) and it.

    Takes the store, not a session: a failed attempt must be recorded even though the sign-in
    itself fails.
    """
    email = (email or "").strip().lower()[:320]
    with store.transaction() as session:
        throttle.check_allowed(session, email, ip)
        user = session.scalar(select(User).where(User.email == email))
        ok = verify_password(user.password_hash if user else None, password)
        if user is None or not ok or not user.is_active:
            throttle.record_failure(session, email, ip)
            failed = True
        else:
            failed = False
            throttle.record_success(session, email, ip)
            if needs_rehash(user.password_hash):
                user.password_hash = hash_password(password)
            now = utcnow()
            user.last_sign_in_at = now
            memberships = workspaces_of(session, user.id)
            token = new_token(32)
            row = WebSession(
                token_hash=digest(token),
                user_id=user.id,
                workspace_id=memberships[0][0].id if memberships else None,
                csrf_token=new_token(32),
                created_at=now,
                last_seen_at=now,
                expires_at=now + SESSION_LIFETIME,
                ip=(ip or None),
                user_agent=(user_agent or "")[:300] or None,
            )
            session.add(row)
            session.flush()
            signed_in = _describe(session, row, user)
    if failed:
        raise AuthenticationError("wrong e-mail address or password")
    return token, signed_in


def resolve_session(session: Session, token: str | None, *, touch: bool = True) -> SignedIn | None:
    """The live session for a cookie token, or None (unknown, expired or idle too long).

    With ``touch``, a session last seen a while ago is renewed in ``session``'s transaction;
    without, ``needs_touch`` tells the caller to renew it (``note_seen``) when convenient."""
    if not token or len(token) > 200:
        return None
    row = session.scalar(select(WebSession).where(WebSession.token_hash == digest(token)))
    if row is None:
        return None
    now = utcnow()
    if row.expires_at <= now or now - row.last_seen_at > IDLE_TIMEOUT:
        session.delete(row)
        session.flush()
        return None
    user = session.get(User, row.user_id)
    if user is None or not user.is_active:
        return None
    stale = now - row.last_seen_at > TOUCH_RESOLUTION
    if stale and touch:
        row.last_seen_at = now
        row.expires_at = now + SESSION_LIFETIME
    return _describe(session, row, user, needs_touch=stale and not touch)


def note_seen(store: Store, session_id: int) -> None:
    """Renew a session that was used now, unless the store is busy (a later request does)."""
    now = utcnow()
    write_if_free(
        store,
        update(WebSession)
        .where(WebSession.id == session_id)
        .values(last_seen_at=now, expires_at=now + SESSION_LIFETIME),
    )


def _describe(
    session: Session, row: WebSession, user: User, *, needs_touch: bool = False
) -> SignedIn:
    principal = None
    if row.workspace_id is not None:
        found = session.execute(
            select(Workspace.name, Membership.role)
            .join(Membership, Membership.workspace_id == Workspace.id)
            .where(Workspace.id == row.workspace_id, Membership.user_id == user.id)
        ).first()
        if found is not None:  # membership may have been withdrawn since sign-in
            principal = Principal(
                workspace_id=row.workspace_id,
                workspace_name=found[0],
                role=Role(found[1]),
                user_id=user.id,
            )
    return SignedIn(
        session_id=row.id,
        user_id=user.id,
        email=user.email,
        display_name=user.display_name,
        csrf_token=row.csrf_token,
        principal=principal,
        needs_touch=needs_touch,
    )


def switch_workspace(session: Session, token: str, workspace_name: str) -> SignedIn:
    """Make the pages of this session show another of the user's workspaces."""
    signed_in = resolve_session(session, token)
    if signed_in is None:
        raise AuthenticationError("not signed in")
    for workspace, _role in workspaces_of(session, signed_in.user_id):
        if workspace.name == workspace_name:
            row = session.get(WebSession, signed_in.session_id)
            assert row is not None
            row.workspace_id = workspace.id
            session.flush()
            return resolve_session(session, token)  # type: ignore[return-value]
    # The same answer whether the workspace does not exist or is someone else's.
    raise NotFoundError(f"no workspace named {workspace_name!r}")


def sign_out(session: Session, token: str | None) -> None:
    if token:
        session.execute(delete(WebSession).where(WebSession.token_hash == digest(token)))


def sign_out_everywhere(session: Session, user_id: int) -> None:
    session.execute(delete(WebSession).where(WebSession.user_id == user_id))
