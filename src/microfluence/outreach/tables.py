"""The outreach tables. Revision "0018" creates them.

* ``message_templates``: a workspace's message templates (name unique per workspace);
* ``outreach_messages``: the outbox — every message rendered for a creator, with its status
  (queued, sent, failed, skipped and why), its Message-ID and when it was sent;
* ``outreach_quota``: messages sent per workspace per UTC day, the counter the daily limit is
  claimed from (one conditional update per message, so two workers never overshoot it);
* ``outreach_sequences`` / ``outreach_sequence_steps``: ordered follow-ups (a template, and the
  days to wait after the previous message);
* ``outreach_enrollments``: a deal going through a sequence — the next step, when it is due,
  and why it stopped (replied, opted out, do-not-contact, finished, removed).
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import (
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

TEMPLATE_KINDS = ("email",)
MESSAGE_STATUSES = ("queued", "sending", "sent", "failed", "skipped")
ENROLLMENT_STATUSES = ("active", "replied", "opted_out", "finished", "failed", "removed")


class MessageTemplate(Base):
    __tablename__ = "message_templates"
    __table_args__ = (UniqueConstraint("workspace_id", "name"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    workspace_id: Mapped[int] = workspace_column()
    name: Mapped[str] = mapped_column(String(100))
    kind: Mapped[str] = mapped_column(String(10), default="email")
    subject: Mapped[str] = mapped_column(String(300))
    body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow, onupdate=utcnow)


class OutboxMessage(Base):
    __tablename__ = "outreach_messages"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    workspace_id: Mapped[int] = workspace_column()
    creator_id: Mapped[int] = mapped_column(
        ForeignKey("creators.id", ondelete="CASCADE"), index=True
    )
    deal_id: Mapped[int | None] = mapped_column(
        ForeignKey("deals.id", ondelete="CASCADE"), index=True
    )
    template_id: Mapped[int | None] = mapped_column(
        ForeignKey("message_templates.id", ondelete="SET NULL")
    )
    enrollment_id: Mapped[int | None] = mapped_column(
        ForeignKey("outreach_enrollments.id", ondelete="SET NULL")
    )
    to_address: Mapped[str | None] = mapped_column(String(320))
    subject: Mapped[str] = mapped_column(String(300))
    body: Mapped[str] = mapped_column(Text)
    unsubscribe_url: Mapped[str | None] = mapped_column(String(500))
    status: Mapped[str] = mapped_column(String(10), default="queued", index=True)
    error: Mapped[str | None] = mapped_column(String(500))
    message_id: Mapped[str | None] = mapped_column(String(300))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    claimed_at: Mapped[dt.datetime | None] = mapped_column(DateTime)  # when sending began
    sent_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    created_by: Mapped[str | None] = mapped_column(String(320))


class SendQuota(Base):
    __tablename__ = "outreach_quota"
    __table_args__ = (UniqueConstraint("workspace_id", "day"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    workspace_id: Mapped[int] = workspace_column()
    day: Mapped[dt.date] = mapped_column(Date)
    sent: Mapped[int] = mapped_column(Integer, default=0)


class Sequence(Base):
    __tablename__ = "outreach_sequences"
    __table_args__ = (UniqueConstraint("workspace_id", "name"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    workspace_id: Mapped[int] = workspace_column()
    name: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)


class SequenceStep(Base):
    __tablename__ = "outreach_sequence_steps"
    __table_args__ = (UniqueConstraint("sequence_id", "position"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    workspace_id: Mapped[int] = workspace_column()
    sequence_id: Mapped[int] = mapped_column(
        ForeignKey("outreach_sequences.id", ondelete="CASCADE"), index=True
    )
    position: Mapped[int] = mapped_column(Integer)  # 1, 2, 3 …
    template_id: Mapped[int] = mapped_column(
        ForeignKey("message_templates.id", ondelete="RESTRICT")
    )
    delay_days: Mapped[int] = mapped_column(Integer, default=0)


class Enrollment(Base):
    __tablename__ = "outreach_enrollments"
    __table_args__ = (UniqueConstraint("sequence_id", "deal_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    workspace_id: Mapped[int] = workspace_column()
    sequence_id: Mapped[int] = mapped_column(
        ForeignKey("outreach_sequences.id", ondelete="CASCADE"), index=True
    )
    deal_id: Mapped[int] = mapped_column(ForeignKey("deals.id", ondelete="CASCADE"), index=True)
    next_position: Mapped[int] = mapped_column(Integer, default=1)
    due_at: Mapped[dt.datetime | None] = mapped_column(DateTime, index=True)
    status: Mapped[str] = mapped_column(String(12), default="active", index=True)
    stopped_reason: Mapped[str | None] = mapped_column(String(200))
    enrolled_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    last_sent_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
