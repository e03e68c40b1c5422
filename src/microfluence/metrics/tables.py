"""Where computed metrics are kept, so exports, the API and the pages read instead of recompute.

Account metrics are stored long (one row per account and metric) so every number carries its
own ``as_of``, and new metrics need no migration. Revision "0003" creates these tables.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    DateTime,
    Float,
    ForeignKey,
    Index,
    String,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from microfluence.kernel.store.tables import Base, BigId, utcnow


class MetricRun(Base):
    """One recomputation of a workspace's metrics: engine, settings, size, when."""

    __tablename__ = "metric_runs"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    workspace_id: Mapped[int] = mapped_column(
        ForeignKey("workspaces.id", ondelete="CASCADE"), index=True
    )
    engine: Mapped[str] = mapped_column(String(20))
    settings: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    now: Mapped[dt.datetime] = mapped_column(DateTime)
    accounts: Mapped[int] = mapped_column(BigInteger, default=0)
    posts: Mapped[int] = mapped_column(BigInteger, default=0)
    started_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    finished_at: Mapped[dt.datetime | None] = mapped_column(DateTime)


class AccountMetric(Base):
    """One metric of one account, with the time of the newest data it saw."""

    __tablename__ = "account_metrics"
    __table_args__ = (
        UniqueConstraint("account_id", "metric"),
        Index("ix_account_metrics_workspace_metric", "workspace_id", "metric"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    workspace_id: Mapped[int] = mapped_column(ForeignKey("workspaces.id", ondelete="CASCADE"))
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"))
    run_id: Mapped[int] = mapped_column(ForeignKey("metric_runs.id", ondelete="CASCADE"))
    metric: Mapped[str] = mapped_column(String(64))
    value: Mapped[float | None] = mapped_column(Float)
    as_of: Mapped[dt.datetime | None] = mapped_column(DateTime)


class AccountTier(Base):
    """An account's tier under one scheme (every preset and the workspace's own)."""

    __tablename__ = "account_tiers"
    __table_args__ = (
        UniqueConstraint("account_id", "scheme"),
        Index("ix_account_tiers_workspace_scheme", "workspace_id", "scheme"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    workspace_id: Mapped[int] = mapped_column(ForeignKey("workspaces.id", ondelete="CASCADE"))
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"))
    run_id: Mapped[int] = mapped_column(ForeignKey("metric_runs.id", ondelete="CASCADE"))
    scheme: Mapped[str] = mapped_column(String(48))
    tier: Mapped[str | None] = mapped_column(String(120))
    followers: Mapped[int | None] = mapped_column(BigInteger)
    as_of: Mapped[dt.datetime | None] = mapped_column(DateTime)


class PostMetric(Base):
    """A post's interactions and rates, with the snapshot its follower count came from."""

    __tablename__ = "post_metrics"
    __table_args__ = (Index("ix_post_metrics_workspace_account", "workspace_id", "account_id"),)

    post_id: Mapped[int] = mapped_column(
        ForeignKey("posts.id", ondelete="CASCADE"), primary_key=True, autoincrement=False
    )
    workspace_id: Mapped[int] = mapped_column(ForeignKey("workspaces.id", ondelete="CASCADE"))
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"))
    run_id: Mapped[int] = mapped_column(ForeignKey("metric_runs.id", ondelete="CASCADE"))
    interactions: Mapped[int | None] = mapped_column(BigInteger)
    followers_at_post: Mapped[int | None] = mapped_column(BigInteger)
    snapshot_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    er_followers: Mapped[float | None] = mapped_column(Float)
    er_views: Mapped[float | None] = mapped_column(Float)
    er_reach: Mapped[float | None] = mapped_column(Float)
    in_window: Mapped[bool] = mapped_column(Boolean, default=False)
