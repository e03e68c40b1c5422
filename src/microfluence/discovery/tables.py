"""The discovery tables. Revision "0022" creates them.

* ``account_niches``: an account's niches with their confidences, one row per account and
  niche. ``source`` is ``model`` (recomputed when the account's posts change) or ``user`` (a
  hand correction: never overwritten by a re-run, and while an account has one, the model's
  rows for it are not shown).
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import (
    DateTime,
    Float,
    ForeignKey,
    Integer,
    String,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from microfluence.kernel.store.tables import Base, utcnow, workspace_column

NICHE_SOURCES = ("model", "user")


class AccountNiche(Base):
    __tablename__ = "account_niches"
    __table_args__ = (UniqueConstraint("account_id", "niche", "source"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    workspace_id: Mapped[int] = workspace_column()
    account_id: Mapped[int] = mapped_column(
        ForeignKey("accounts.id", ondelete="CASCADE"), index=True
    )
    niche: Mapped[str] = mapped_column(String(40), index=True)
    confidence: Mapped[float] = mapped_column(Float)
    source: Mapped[str] = mapped_column(String(10), default="model")
    model_version: Mapped[str | None] = mapped_column(String(60))
    set_by: Mapped[str | None] = mapped_column(String(320))  # who corrected it (source user)
    # Migration 0023: what the model saw of the account (discovery.niches.fingerprints).
    fingerprint: Mapped[str | None] = mapped_column(String(200))
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow, onupdate=utcnow)
