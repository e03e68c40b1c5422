"""Who may do what: users, their memberships, API keys, web sessions and sign-in attempts.

Secrets are never stored: passwords as argon2 hashes, API keys and session tokens as SHA-256
digests of high-entropy random tokens (a slow hash adds nothing to a 256-bit secret).
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import (
    Boolean,
    ColumnElement,
    DateTime,
    ForeignKey,
    Integer,
    String,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from microfluence.kernel.store.tables import Base, utcnow

ROLES = ("viewer", "member", "owner")


class User(Base):
    """A person who signs in to the pages with an e-mail address and a password."""

    __tablename__ = "users"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    email: Mapped[str] = mapped_column(String(320), unique=True)
    password_hash: Mapped[str] = mapped_column(String(200))
    display_name: Mapped[str | None] = mapped_column(String(200))
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    last_sign_in_at: Mapped[dt.datetime | None] = mapped_column(DateTime)


class Membership(Base):
    """A user's role in one workspace: viewer reads, member also writes, owner also manages."""

    __tablename__ = "memberships"
    __table_args__ = (UniqueConstraint("user_id", "workspace_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    workspace_id: Mapped[int] = mapped_column(
        ForeignKey("workspaces.id", ondelete="CASCADE"), index=True
    )
    role: Mapped[str] = mapped_column(String(20))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)


class ApiKey(Base):
    """A key for the REST API. The key itself is shown once; only its digest is kept."""

    __tablename__ = "api_keys"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    workspace_id: Mapped[int] = mapped_column(
        ForeignKey("workspaces.id", ondelete="CASCADE"), index=True
    )
    name: Mapped[str] = mapped_column(String(200))
    # The visible part of the key ("mfk_" + 8 characters): it finds the row and names the key.
    prefix: Mapped[str] = mapped_column(String(20), unique=True)
    key_hash: Mapped[str] = mapped_column(String(64))
    # The most the key may do, fixed when it is made; what it may do now is the lesser of this
    # and its maker's current role (api_keys.effective_role).
    role: Mapped[str] = mapped_column(String(20))
    # The user on whose authority the key was made: directly on the settings page, or through
    # the key (created_by_key_id) that made it over the API. NULL with by_operator: the machine's
    # operator made it with the CLI; NULL without: its maker's account was deleted (it is dead).
    created_by: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_by_key_id: Mapped[int | None] = mapped_column(Integer)  # 0007
    by_operator: Mapped[bool] = mapped_column(Boolean, default=False)  # 0007
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    last_used_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    revoked_at: Mapped[dt.datetime | None] = mapped_column(DateTime)


class Invitation(Base):
    """An owner's invitation of an e-mail address to a workspace with a role (0007).

    Membership needs the invited person's consent: the invitation is a random token, kept only
    as its digest, that they accept by opening its link, signed in as that address or choosing
    the password of a new account. It ends when accepted, revoked or expired."""

    __tablename__ = "invitations"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    workspace_id: Mapped[int] = mapped_column(
        ForeignKey("workspaces.id", ondelete="CASCADE"), index=True
    )
    email: Mapped[str] = mapped_column(String(320))
    role: Mapped[str] = mapped_column(String(20))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    invited_by: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    expires_at: Mapped[dt.datetime] = mapped_column(DateTime)
    accepted_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    accepted_by: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    revoked_at: Mapped[dt.datetime | None] = mapped_column(DateTime)


def open_invitations(now: dt.datetime | None = None) -> list[ColumnElement[bool]]:
    """Where-clauses of the invitations neither accepted nor revoked, and with ``now`` not
    expired either: the one rule of what a link may still be used for (and what to revoke)."""
    where = [Invitation.accepted_at.is_(None), Invitation.revoked_at.is_(None)]
    if now is not None:
        where.append(Invitation.expires_at > now)
    return where


class WebSession(Base):
    """A signed-in browser. The cookie holds a random token; the row holds its digest."""

    __tablename__ = "web_sessions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    # The workspace the pages show (the workspace switcher changes it).
    workspace_id: Mapped[int | None] = mapped_column(
        ForeignKey("workspaces.id", ondelete="SET NULL")
    )
    csrf_token: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    last_seen_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    expires_at: Mapped[dt.datetime] = mapped_column(DateTime)
    ip: Mapped[str | None] = mapped_column(String(64))
    user_agent: Mapped[str | None] = mapped_column(String(300))


class SignInThrottle(Base):
    """Failed sign-ins for one (e-mail, IP) pair in the current window: kept in the store, so the
    limit holds across restarts and across server processes."""

    __tablename__ = "sign_in_throttles"

    key: Mapped[str] = mapped_column(String(400), primary_key=True)
    failures: Mapped[int] = mapped_column(Integer, default=0)
    window_start: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    locked_until: Mapped[dt.datetime | None] = mapped_column(DateTime)


class SiteSecret(Base):
    """Random secrets made on first use (the key that signs CSRF cookies), shared by every
    server process that opens the same store."""

    __tablename__ = "site_secrets"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
