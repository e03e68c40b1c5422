"""The relationship tables. Revision "0016" creates them and adds ``deals.stage``.

* ``deal_events``: the history of a deal — every stage move (who, when, from, to) and every
  other thing that happened to it (a message sent, a reply, a portal action, a shipment), so the
  pipeline can show time in stage and conversion between stages, and a creator's actions in the
  portal show up where the brand works;
* ``deal_submissions``: drafts and live-post URLs a creator submits for approval (from the
  portal or entered by the brand), and their review;
* ``creator_relations``: what the workspace keeps on a creator across campaigns, one row per
  creator (created when first needed): phone, tags, rating, do-not-contact, and long-term
  partner status with its perks. The creator's name, email and notes stay on ``creators``.

Revision "0019" adds ``portal_links``: the links that open a deal's creator portal, each kept as
the SHA-256 of its token (relationships.portal).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    DateTime,
    ForeignKey,
    Integer,
    SmallInteger,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from microfluence.kernel.store.tables import Base, utcnow, workspace_column

# Who did it: a signed-in user (actor holds the email), the creator through the portal, or
# microfluence itself (a job, an import, a webhook).
ACTOR_KINDS = ("user", "creator", "system")
SUBMISSION_KINDS = ("draft", "live")
SUBMISSION_STATUSES = ("pending", "approved", "changes_requested")


class DealEvent(Base):
    __tablename__ = "deal_events"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    workspace_id: Mapped[int] = workspace_column()
    deal_id: Mapped[int] = mapped_column(ForeignKey("deals.id", ondelete="CASCADE"), index=True)
    at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow, index=True)
    actor_kind: Mapped[str] = mapped_column(String(10), default="user")
    actor: Mapped[str | None] = mapped_column(String(320))
    # "stage" for a move; other kinds name what happened ("message", "reply", "portal", ...).
    kind: Mapped[str] = mapped_column(String(30), default="stage")
    from_stage: Mapped[str | None] = mapped_column(String(20))
    to_stage: Mapped[str | None] = mapped_column(String(20))
    detail: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)


class CreatorRelation(Base):
    __tablename__ = "creator_relations"
    __table_args__ = (UniqueConstraint("workspace_id", "creator_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    workspace_id: Mapped[int] = workspace_column()
    creator_id: Mapped[int] = mapped_column(
        ForeignKey("creators.id", ondelete="CASCADE"), index=True
    )
    phone: Mapped[str | None] = mapped_column(String(50))
    tags: Mapped[list[str]] = mapped_column(JSON, default=list)
    rating: Mapped[int | None] = mapped_column(SmallInteger)  # 1 to 5
    do_not_contact: Mapped[bool] = mapped_column(Boolean, default=False)
    do_not_contact_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    do_not_contact_reason: Mapped[str | None] = mapped_column(String(200))
    partner: Mapped[bool] = mapped_column(Boolean, default=False)
    partner_since: Mapped[dt.date | None] = mapped_column(Date)
    # e.g. {"code": "SARAH15-K7Q", "early_access": true, "note": "..."}
    perks: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    # Revision "0017": where to send product (personal data, erased with the creator), and
    # when the creator's personal data was erased on request (relationships.privacy).
    address: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    erased_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow, onupdate=utcnow)


class Submission(Base):
    __tablename__ = "deal_submissions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    workspace_id: Mapped[int] = workspace_column()
    deal_id: Mapped[int] = mapped_column(ForeignKey("deals.id", ondelete="CASCADE"), index=True)
    deliverable_id: Mapped[int | None] = mapped_column(
        ForeignKey("deliverables.id", ondelete="SET NULL")
    )
    kind: Mapped[str] = mapped_column(String(10), default="draft")
    url: Mapped[str] = mapped_column(String(1000))
    note: Mapped[str | None] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(20), default="pending", index=True)
    submitted_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    submitted_by: Mapped[str] = mapped_column(String(10), default="creator")  # an actor kind
    reviewed_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    reviewed_by: Mapped[str | None] = mapped_column(String(320))
    review_note: Mapped[str | None] = mapped_column(Text)


TASK_KINDS = ("follow_up", "shipment", "review", "deliverable", "other")


class Task(Base):
    """Something a person in the workspace has to do, by a date or not: follow up with a
    creator, ship a gift, review a draft (revision "0021"). About a deal, a creator, or neither;
    open while ``done_at`` is NULL."""

    __tablename__ = "tasks"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    workspace_id: Mapped[int] = workspace_column()
    deal_id: Mapped[int | None] = mapped_column(
        ForeignKey("deals.id", ondelete="CASCADE"), index=True
    )
    creator_id: Mapped[int | None] = mapped_column(
        ForeignKey("creators.id", ondelete="CASCADE"), index=True
    )
    kind: Mapped[str] = mapped_column(String(20), default="other")
    title: Mapped[str] = mapped_column(String(300))
    due_on: Mapped[dt.date | None] = mapped_column(Date, index=True)
    done_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    done_by: Mapped[str | None] = mapped_column(String(320))
    assignee: Mapped[str | None] = mapped_column(String(320), index=True)  # an email
    created_by: Mapped[str | None] = mapped_column(String(320))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow, onupdate=utcnow)


# What the contact audit log records (revision "0017"): a view of contact data, a change (field
# names only, never values), an export of everything held, an erasure, do-not-contact lifted.
AUDIT_ACTIONS = ("view", "change", "export", "erase", "lift_do_not_contact")


class ContactAudit(Base):
    """Who viewed or changed a creator's contact data, when, through which face (revision
    "0017"). Field names only: the log itself holds no contact data."""

    __tablename__ = "contact_audit"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    workspace_id: Mapped[int] = workspace_column()
    creator_id: Mapped[int | None] = mapped_column(
        ForeignKey("creators.id", ondelete="SET NULL"), index=True
    )
    at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow, index=True)
    actor_kind: Mapped[str] = mapped_column(String(10))  # user, api_key, cli
    actor: Mapped[str | None] = mapped_column(String(320))
    via: Mapped[str] = mapped_column(String(10))  # page, api, cli, library
    action: Mapped[str] = mapped_column(String(30))
    fields: Mapped[list[str]] = mapped_column(JSON, default=list)
    reason: Mapped[str | None] = mapped_column(String(200))


class CreatorTombstone(Base):
    """What is left of an erased creator's identity (revision "0017"): keyed hashes of their
    e-mail addresses and handles, so that a re-import of the same person is recognised and kept
    do-not-contact, without keeping the address or handle itself."""

    __tablename__ = "creator_tombstones"
    __table_args__ = (UniqueConstraint("workspace_id", "digest"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    workspace_id: Mapped[int] = workspace_column()
    creator_id: Mapped[int | None] = mapped_column(
        ForeignKey("creators.id", ondelete="SET NULL"), index=True
    )
    kind: Mapped[str] = mapped_column(String(10))  # email or handle
    digest: Mapped[str] = mapped_column(String(64))
    erased_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)


class PortalLink(Base):
    """A link that opens a deal's creator portal (revision "0019"). Only the SHA-256 of the
    token is kept: the token itself is shown once, when the link is made."""

    __tablename__ = "portal_links"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    workspace_id: Mapped[int] = workspace_column()
    deal_id: Mapped[int] = mapped_column(ForeignKey("deals.id", ondelete="CASCADE"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)  # hex SHA-256
    created_by: Mapped[str | None] = mapped_column(String(320))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    expires_at: Mapped[dt.datetime] = mapped_column(DateTime)
    revoked_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    last_used_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
