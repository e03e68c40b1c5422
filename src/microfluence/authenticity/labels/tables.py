"""The ``follower_labels`` table: a workspace's own verdicts on followers of its stored samples.

One label per follower (a row of ``followers``) per workspace; a later label replaces the
earlier one (no history), keeping who gave it and when. Deleting a follower sample (or the
workspace) deletes its labels with it: they are judgements about third parties.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import CheckConstraint, DateTime, ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from microfluence.kernel.store.tables import Base, BigId, utcnow

FAKE, REAL, UNSURE = "fake", "real", "unsure"
LABELS = (FAKE, REAL, UNSURE)


class FollowerLabel(Base):
    """A person's verdict on one follower: fake, real or unsure (0011)."""

    __tablename__ = "follower_labels"
    __table_args__ = (
        UniqueConstraint("workspace_id", "follower_id"),
        CheckConstraint("label IN ('fake', 'real', 'unsure')", name="label"),
        Index("ix_follower_labels_workspace_labelled_at", "workspace_id", "labelled_at"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    workspace_id: Mapped[int] = mapped_column(ForeignKey("workspaces.id", ondelete="CASCADE"))
    follower_id: Mapped[int] = mapped_column(
        ForeignKey("followers.id", ondelete="CASCADE"), index=True
    )
    label: Mapped[str] = mapped_column(String(10))
    # Who gave it: a user's e-mail address, "api key NAME (mfk_…)", or "cli:USER".
    labelled_by: Mapped[str] = mapped_column(String(320))
    labelled_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
