"""The connectors' tables. Revision "0025" creates them.

* ``connector_credentials``: a workspace's credentials for a platform's API, one per platform —
  the secret only sealed (kernel.vault), a masked hint to show, the Instagram business account
  id the Graph API reads through, and a daily quota budget (YouTube units).
* ``connector_quota``: units spent per credential and quota day (YouTube: the Pacific day,
  connectors.quota).
* ``refresh_runs`` and ``refresh_items``: each refresh, with one row per account it covers and
  that account's state (pending, done, failed, skipped), so a run cut short continues where it
  stopped (connectors.refresh).

What the connectors read is not kept here: it goes through the importers' writer into the
accounts, snapshots and posts tables.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import (
    JSON,
    Date,
    DateTime,
    ForeignKey,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from microfluence.kernel.store.tables import Base, utcnow, workspace_column

CONNECTOR_PLATFORMS = ("youtube", "instagram")
RUN_STATUSES = ("running", "succeeded", "partial", "failed")
ITEM_STATES = ("pending", "done", "failed", "skipped")


class ConnectorCredential(Base):
    __tablename__ = "connector_credentials"
    __table_args__ = (UniqueConstraint("workspace_id", "platform"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    workspace_id: Mapped[int] = workspace_column()
    platform: Mapped[str] = mapped_column(String(20))
    sealed_secret: Mapped[str] = mapped_column(Text)  # kernel.vault.seal: never in clear
    hint: Mapped[str] = mapped_column(String(40))  # the secret masked: "AIza…x9Qk"
    business_account_id: Mapped[str | None] = mapped_column(String(40))  # Instagram only
    daily_budget: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow, onupdate=utcnow)


class ConnectorQuota(Base):
    __tablename__ = "connector_quota"
    __table_args__ = (UniqueConstraint("credential_id", "day"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    workspace_id: Mapped[int] = workspace_column()
    credential_id: Mapped[int] = mapped_column(
        ForeignKey("connector_credentials.id", ondelete="CASCADE"), index=True
    )
    day: Mapped[dt.date] = mapped_column(Date)  # the platform's quota day
    units: Mapped[int] = mapped_column(Integer, default=0)
    exhausted: Mapped[bool] = mapped_column(default=False)  # the platform said so (403)


class RefreshRun(Base):
    __tablename__ = "refresh_runs"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    workspace_id: Mapped[int] = workspace_column()
    status: Mapped[str] = mapped_column(String(20), default="running")
    source: Mapped[str] = mapped_column(String(100), default="requested")  # or "schedule 3"
    total: Mapped[int] = mapped_column(Integer, default=0)
    done: Mapped[int] = mapped_column(Integer, default=0)
    failed: Mapped[int] = mapped_column(Integer, default=0)
    attempts: Mapped[int] = mapped_column(Integer, default=1)
    summary: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    error: Mapped[str | None] = mapped_column(Text)
    started_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    finished_at: Mapped[dt.datetime | None] = mapped_column(DateTime)


class RefreshItem(Base):
    __tablename__ = "refresh_items"
    __table_args__ = (UniqueConstraint("run_id", "account_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    workspace_id: Mapped[int] = workspace_column()
    run_id: Mapped[int] = mapped_column(
        ForeignKey("refresh_runs.id", ondelete="CASCADE"), index=True
    )
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"))
    platform: Mapped[str] = mapped_column(String(20))
    handle: Mapped[str] = mapped_column(String(200))
    state: Mapped[str] = mapped_column(String(20), default="pending")
    error: Mapped[str | None] = mapped_column(Text)
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
