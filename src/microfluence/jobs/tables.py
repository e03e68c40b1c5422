"""Background jobs started from the API, the pages or a schedule: imports of uploaded files and
re-scoring a workspace; and the schedules that start jobs."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    DateTime,
    ForeignKey,
    Integer,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from microfluence.kernel.store.tables import Base, utcnow

JOB_STATUSES = ("queued", "running", "cancelling", "succeeded", "failed", "cancelled")


class ImportJob(Base):
    """One uploaded file being imported in the background; its progress is polled."""

    __tablename__ = "import_jobs"

    # A random id: job ids must not reveal how many jobs other workspaces ran.
    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    workspace_id: Mapped[int] = mapped_column(
        ForeignKey("workspaces.id", ondelete="CASCADE"), index=True
    )
    kind: Mapped[str] = mapped_column(String(40))
    filename: Mapped[str] = mapped_column(String(500))
    options: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    status: Mapped[str] = mapped_column(String(20), default="queued", index=True)
    # In the importer's own unit (bytes or records read), out of progress_total when known.
    progress_done: Mapped[int] = mapped_column(BigInteger, default=0)
    progress_total: Mapped[int | None] = mapped_column(BigInteger)
    summary: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    errors: Mapped[list[Any]] = mapped_column(JSON, default=list)
    error: Mapped[str | None] = mapped_column(Text)
    import_run_id: Mapped[int | None] = mapped_column(
        ForeignKey("import_runs.id", ondelete="SET NULL")
    )
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    started_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    finished_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    # The process running it (jobs.liveness: the lock it holds while it lives): a job whose
    # owner died is retried (a queue) or failed (in-process).
    owner: Mapped[str | None] = mapped_column(String(120))
    attempts: Mapped[int] = mapped_column(Integer, default=0, server_default=text("0"))
    # A queued import's upload in the shared upload directory (a retry after a crash reads it).
    upload_path: Mapped[str | None] = mapped_column(Text)


class JobSchedule(Base):
    """A job a workspace wants run on a cron schedule (``score`` nightly, say); the workers'
    scheduler fires it at most once per matching minute, however many workers run."""

    __tablename__ = "job_schedules"
    __table_args__ = (UniqueConstraint("workspace_id", "kind", "cron"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    workspace_id: Mapped[int] = mapped_column(
        ForeignKey("workspaces.id", ondelete="CASCADE"), index=True
    )
    kind: Mapped[str] = mapped_column(String(40))
    cron: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    last_fired_at: Mapped[dt.datetime | None] = mapped_column(DateTime)


class JobWorker(Base):
    """A running ``microfluence worker``: where it runs and when it last said it was alive. A
    job owned by a worker that stopped saying so (it died, or its machine did) is retried;
    workers on this machine are also checked at once by their lock (jobs.liveness)."""

    __tablename__ = "job_workers"

    name: Mapped[str] = mapped_column(String(120), primary_key=True)
    host: Mapped[str] = mapped_column(String(255))
    pid: Mapped[int] = mapped_column(Integer)
    # The lock file it holds while it lives (jobs.uploads): on its own host, checked at once.
    lock_path: Mapped[str | None] = mapped_column(Text)
    started_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    seen_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
