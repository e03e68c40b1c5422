"""The tables of creator-authorised insights (revision "0026").

* ``oauth_apps``: a workspace's app credentials per platform — the client id, and the client
  secret sealed with kernel.vault (never stored in clear).
* ``oauth_invites``: a connect link the brand sends a creator (its token's SHA-256 only).
* ``oauth_states``: one authorisation request in flight — the ``state`` (its SHA-256), the
  browser it was started in (the SHA-256 of a cookie nonce), the PKCE verifier (sealed), the
  exact redirect URI; single-use, short-lived.
* ``creator_authorisations``: a creator's grant — which account, when its tokens expire, its
  status (active, expired, revoked) and why.
* ``oauth_tokens``: the grant's access and refresh tokens, sealed, in a table of their own
  without a ``creator_id``: a creator's privacy export (export.privacy, which takes every table
  with one) lists the authorisation but never carries its tokens, even sealed.
* ``account_insights``: first-party numbers read through a grant: one metric of one account over
  one period (``period`` day, lifetime, range…; ``item_id`` for a story or a video).
* ``audience_breakdowns``: the account's audience by country, age, gender (or age and gender),
  as the platform gave it (``unit`` count or percent).
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import (
    BigInteger,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from microfluence.kernel.store.tables import Base, BigId, utcnow, workspace_column

OAUTH_PLATFORMS = ("instagram", "youtube", "tiktok")
STATUSES = ("active", "expired", "revoked")
FIRST_PARTY = "first_party"


class OAuthApp(Base):
    __tablename__ = "oauth_apps"
    __table_args__ = (UniqueConstraint("workspace_id", "platform"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    workspace_id: Mapped[int] = workspace_column()
    platform: Mapped[str] = mapped_column(String(20))
    client_id: Mapped[str] = mapped_column(String(200))
    client_secret_sealed: Mapped[str] = mapped_column(Text)
    updated_by: Mapped[str | None] = mapped_column(String(320))
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)


class OAuthInvite(Base):
    __tablename__ = "oauth_invites"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    workspace_id: Mapped[int] = workspace_column()
    creator_id: Mapped[int] = mapped_column(ForeignKey("creators.id", ondelete="CASCADE"))
    platform: Mapped[str] = mapped_column(String(20))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_by: Mapped[str | None] = mapped_column(String(320))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    expires_at: Mapped[dt.datetime] = mapped_column(DateTime)
    revoked_at: Mapped[dt.datetime | None] = mapped_column(DateTime)


class OAuthState(Base):
    __tablename__ = "oauth_states"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    workspace_id: Mapped[int] = workspace_column()
    creator_id: Mapped[int] = mapped_column(ForeignKey("creators.id", ondelete="CASCADE"))
    platform: Mapped[str] = mapped_column(String(20))
    state_hash: Mapped[str] = mapped_column(String(64), unique=True)
    browser_hash: Mapped[str] = mapped_column(String(64))
    verifier_sealed: Mapped[str | None] = mapped_column(Text)
    redirect_uri: Mapped[str] = mapped_column(String(1000))
    return_to: Mapped[str | None] = mapped_column(String(300))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    expires_at: Mapped[dt.datetime] = mapped_column(DateTime)
    used_at: Mapped[dt.datetime | None] = mapped_column(DateTime)


class OAuthToken(Base):
    __tablename__ = "oauth_tokens"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    workspace_id: Mapped[int] = workspace_column()
    authorisation_id: Mapped[int] = mapped_column(
        ForeignKey("creator_authorisations.id", ondelete="CASCADE"), unique=True
    )
    access_token_sealed: Mapped[str | None] = mapped_column(Text)
    refresh_token_sealed: Mapped[str | None] = mapped_column(Text)


class CreatorAuthorisation(Base):
    __tablename__ = "creator_authorisations"
    __table_args__ = (UniqueConstraint("workspace_id", "platform", "external_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    workspace_id: Mapped[int] = workspace_column()
    creator_id: Mapped[int] = mapped_column(
        ForeignKey("creators.id", ondelete="CASCADE"), index=True
    )
    account_id: Mapped[int | None] = mapped_column(
        ForeignKey("accounts.id", ondelete="SET NULL"), index=True
    )
    platform: Mapped[str] = mapped_column(String(20))
    external_id: Mapped[str] = mapped_column(String(100))  # IG user id, channel id, open_id
    handle: Mapped[str | None] = mapped_column(String(200))
    scopes: Mapped[str | None] = mapped_column(String(1000))
    expires_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    refresh_expires_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    status: Mapped[str] = mapped_column(String(10), default="active")
    status_detail: Mapped[str | None] = mapped_column(String(500))
    connected_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    refreshed_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    revoked_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    fetched_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    tokens: Mapped[OAuthToken | None] = relationship(
        uselist=False, cascade="all, delete-orphan", lazy="selectin"
    )

    def _token_row(self) -> OAuthToken:
        if self.tokens is None:
            self.tokens = OAuthToken(workspace_id=self.workspace_id)
        return self.tokens

    @property
    def access_token_sealed(self) -> str | None:
        return self.tokens.access_token_sealed if self.tokens is not None else None

    @access_token_sealed.setter
    def access_token_sealed(self, value: str | None) -> None:
        self._token_row().access_token_sealed = value

    @property
    def refresh_token_sealed(self) -> str | None:
        return self.tokens.refresh_token_sealed if self.tokens is not None else None

    @refresh_token_sealed.setter
    def refresh_token_sealed(self, value: str | None) -> None:
        self._token_row().refresh_token_sealed = value


class AccountInsight(Base):
    __tablename__ = "account_insights"
    __table_args__ = (
        UniqueConstraint("authorisation_id", "metric", "period", "end_time", "item_id"),
        Index("ix_account_insights_account", "workspace_id", "account_id"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    workspace_id: Mapped[int] = workspace_column()
    authorisation_id: Mapped[int] = mapped_column(
        ForeignKey("creator_authorisations.id", ondelete="CASCADE")
    )
    account_id: Mapped[int | None] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"))
    platform: Mapped[str] = mapped_column(String(20))
    metric: Mapped[str] = mapped_column(String(60))
    period: Mapped[str] = mapped_column(String(20))
    end_time: Mapped[dt.datetime] = mapped_column(DateTime)
    item_id: Mapped[str] = mapped_column(String(100), default="")
    value: Mapped[int] = mapped_column(BigInteger)
    source: Mapped[str] = mapped_column(String(20), default=FIRST_PARTY)
    fetched_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)


class AudienceBreakdown(Base):
    __tablename__ = "audience_breakdowns"
    __table_args__ = (
        UniqueConstraint("authorisation_id", "dimension", "key"),
        Index("ix_audience_breakdowns_account", "workspace_id", "account_id"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    workspace_id: Mapped[int] = workspace_column()
    authorisation_id: Mapped[int] = mapped_column(
        ForeignKey("creator_authorisations.id", ondelete="CASCADE")
    )
    account_id: Mapped[int | None] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"))
    platform: Mapped[str] = mapped_column(String(20))
    dimension: Mapped[str] = mapped_column(String(20))  # country, age, gender, age_gender
    key: Mapped[str] = mapped_column(String(40))  # "FR", "25-34", "F", "25-34/F"
    value: Mapped[float] = mapped_column(Float)
    unit: Mapped[str] = mapped_column(String(10))  # count or percent
    period: Mapped[str] = mapped_column(String(20))
    source: Mapped[str] = mapped_column(String(20), default=FIRST_PARTY)
    fetched_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
