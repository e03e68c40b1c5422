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


def _clean_email(email: str | None) -> str:
    return (email or "").strip().lower()[:320]


def verify_credentials(store: Store, *, email: str, password: str, ip: str | None = None) -> int:
    """The id of the active user with this e-mail address and password.

    Every call is one rate-limited password check (``throttle.reserve``, committed before the
    password is looked at); RateLimitedError beyond the limit, AuthenticationError for a wrong
    address, a wrong password or a disabled account alike. Takes the store, not a session: the
    attempt must be counted even though the check fails. The caller gives the reservation back
    with ``note_good_password`` in the transaction that acts on the success."""
    email = _clean_email(email)
    with store.transaction() as session:
        reservation = throttle.reserve(session, email, ip)
        row = None
        if reservation.allowed:
            row = session.execute(
                select(User.id, User.password_hash, User.is_active).where(User.email == email)
            ).first()
    reservation.raise_if_refused()
    # Outside any transaction: the slow hash holds no lock. An unknown address costs the same.
    ok = verify_password(row.password_hash if row else None, password)
    if row is None or not ok or not row.is_active:
        raise AuthenticationError("wrong e-mail address or password")
    return row.id


def note_good_password(session: Session, user: User, password: str, ip: str | None = None) -> None:
    """After ``verify_credentials`` succeeded: clear the failures, upgrade an old hash."""
    throttle.record_success(session, user.email, ip)
    if needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)


def start_session(
    session: Session,
    user: User,
    *,
    workspace_id: int | None = None,
    ip: str | None = None,
    user_agent: str | None = None,
) -> tuple[str, SignedIn]:
    """Open a session for ``user`` (in ``workspace_id``, else their first workspace); returns
    the cookie token (shown once) and the session."""
    if not user.is_active:
        raise AuthenticationError("wrong e-mail address or password")
    now = utcnow()
    user.last_sign_in_at = now
    if workspace_id is None:
        memberships = workspaces_of(session, user.id)
        workspace_id = memberships[0][0].id if memberships else None
    token = new_token(32)
    row = WebSession(
        token_hash=digest(token),
        user_id=user.id,
        workspace_id=workspace_id,
        csrf_token=new_token(32),
        created_at=now,
        last_seen_at=now,
        expires_at=now + SESSION_LIFETIME,
        ip=(ip or None),
        user_agent=(user_agent or "")[:300] or None,
    )
    session.add(row)
    session.flush()
    return token, _describe(session, row, user)


def sign_in(
    store: Store,
    *,
    email: str,
    password: str,
    ip: str | None = None,
    user_agent: str | None = None,
) -> tuple[str, SignedIn]:
    """Check the password (rate-limited) and open a session; returns the cookie token (shown
    once) and the session."""
    user_id = verify_credentials(store, email=email, password=password, ip=ip)
    with store.transaction() as session:
        user = session.get(User, user_id)
        if user is None:  # deleted in between
            raise AuthenticationError("wrong e-mail address or password")
        note_good_password(session, user, password, ip)
        return start_session(session, user, ip=ip, user_agent=user_agent)


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


def sign_out_everywhere(
    session: Session, user_id: int, *, except_session_id: int | None = None
) -> int:
    """End every session of a user (but ``except_session_id``); how many ended."""
    query = delete(WebSession).where(WebSession.user_id == user_id)
    if except_session_id is not None:
        query = query.where(WebSession.id != except_session_id)
    return int(session.execute(query).rowcount or 0)  # type: ignore[attr-defined]


def forget_expired(session: Session) -> int:
    """Delete sessions that have expired or been idle too long, in one statement."""
    now = utcnow()
    query = delete(WebSession).where(
        (WebSession.expires_at <= now) | (WebSession.last_seen_at < now - IDLE_TIMEOUT)
    )
    return int(session.execute(query).rowcount or 0)  # type: ignore[attr-defined]
