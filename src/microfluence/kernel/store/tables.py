"""The data model: every table, declared once with SQLAlchemy 2.

Conventions (docs/data-model.md explains them for users):

* every row belongs to one workspace (``workspace_id``); every query is scoped by it;
* times are stored in UTC, without a zone (SQLite has none); code converts at the edges;
* imported rows carry their provenance: ``source`` (file, importer or API), ``imported_at`` and
  the ``import_id`` of the run that last wrote them;
* handles are stored normalised (lower case, no leading ``@``) so re-imports match;
* counts that the platform did not give stay NULL, never 0: "unknown" and "none" differ.
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
    Integer,
    MetaData,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

# SQLite only auto-increments a column declared exactly INTEGER PRIMARY KEY.
BigId = BigInteger().with_variant(Integer, "sqlite")

PLATFORMS = (
    "instagram",
    "tiktok",
    "youtube",
    "facebook",
    "x",
    "snapchat",
    "twitch",
    "pinterest",
    "blog",
)
POST_TYPES = ("image", "carousel", "video", "reel", "story", "short")

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def utcnow() -> dt.datetime:
    """Now, in UTC, without a zone: the form every time is stored in."""
    return dt.datetime.now(dt.UTC).replace(tzinfo=None)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)
    type_annotation_map = {dict[str, Any]: JSON, list[str]: JSON}


def workspace_column() -> Mapped[int]:
    """A table's ``workspace_id``: indexed, and deleted with its workspace."""
    return mapped_column(ForeignKey("workspaces.id", ondelete="CASCADE"), index=True)


class Provenance:
    """Where an imported row came from and when it was last written."""

    source: Mapped[str | None] = mapped_column(String(500))
    imported_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    import_id: Mapped[int | None] = mapped_column(
        ForeignKey("import_runs.id", ondelete="SET NULL"), index=False
    )


class Workspace(Base):
    """A brand, or one client of an agency. Everything else hangs off one workspace."""

    __tablename__ = "workspaces"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(64), unique=True)
    display_name: Mapped[str | None] = mapped_column(String(200))
    settings: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)


class ImportRun(Base):
    """One run of an importer: what it read, what it did, how it ended."""

    __tablename__ = "import_runs"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    workspace_id: Mapped[int] = workspace_column()
    kind: Mapped[str] = mapped_column(String(40))
    source: Mapped[str] = mapped_column(String(500))
    status: Mapped[str] = mapped_column(String(20), default="running")
    started_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    finished_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    created: Mapped[int] = mapped_column(Integer, default=0)
    updated: Mapped[int] = mapped_column(Integer, default=0)
    rejected: Mapped[int] = mapped_column(Integer, default=0)
    summary: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    error: Mapped[str | None] = mapped_column(Text)
    # The background job it ran for (jobs.imports), committed with the import's data: a job
    # whose worker died right after the commit is known to have succeeded (migration 0009).
    job_id: Mapped[str | None] = mapped_column(String(32), index=True)


class Creator(Provenance, Base):
    """A person, who may run accounts on several platforms."""

    __tablename__ = "creators"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    workspace_id: Mapped[int] = workspace_column()
    name: Mapped[str | None] = mapped_column(String(300))
    country: Mapped[str | None] = mapped_column(String(80))
    language: Mapped[str | None] = mapped_column(String(40))
    category: Mapped[str | None] = mapped_column(String(120))
    email: Mapped[str | None] = mapped_column(String(320))
    notes: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow, onupdate=utcnow)


class Account(Provenance, Base):
    """One creator's presence on one platform."""

    __tablename__ = "accounts"
    __table_args__ = (
        UniqueConstraint("workspace_id", "platform", "handle"),
        # Migration 0006: the lists' common filters and sorts (it also indexes country and
        # category as compared in any case: COLLATE NOCASE on SQLite, lower() on PostgreSQL).
        Index("ix_accounts_workspace_followers", "workspace_id", "followers"),
        Index("ix_accounts_workspace_platform", "workspace_id", "platform"),
        Index("ix_accounts_creator_followers", "creator_id", "followers"),
        # Migration 0010: imports match accounts by the platform's stable user id first.
        Index("ix_accounts_workspace_external", "workspace_id", "platform", "external_id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    workspace_id: Mapped[int] = workspace_column()
    creator_id: Mapped[int] = mapped_column(
        ForeignKey("creators.id", ondelete="CASCADE"), index=True
    )
    platform: Mapped[str] = mapped_column(String(20))
    handle: Mapped[str] = mapped_column(String(200))
    external_id: Mapped[str | None] = mapped_column(String(100))
    # Handles the account had before it renamed itself, oldest first (0010; ingest.write.renames).
    previous_handles: Mapped[list[str] | None] = mapped_column(JSON)
    url: Mapped[str | None] = mapped_column(String(1000))
    display_name: Mapped[str | None] = mapped_column(String(300))
    bio: Mapped[str | None] = mapped_column(Text)
    country: Mapped[str | None] = mapped_column(String(80))
    language: Mapped[str | None] = mapped_column(String(40))
    category: Mapped[str | None] = mapped_column(String(120))
    email: Mapped[str | None] = mapped_column(String(320))
    is_verified: Mapped[bool | None] = mapped_column(Boolean)
    is_business: Mapped[bool | None] = mapped_column(Boolean)
    is_private: Mapped[bool | None] = mapped_column(Boolean)
    # Averages and rates as a source reported them (a CSV export, say); ours are computed.
    reported_avg_likes: Mapped[float | None] = mapped_column(Float)
    reported_avg_comments: Mapped[float | None] = mapped_column(Float)
    reported_avg_views: Mapped[float | None] = mapped_column(Float)
    reported_engagement_rate: Mapped[float | None] = mapped_column(Float)  # a fraction
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow, onupdate=utcnow)
    # A copy of the newest snapshot (NULL while there is none), for lists to filter and sort by;
    # kept by microfluence.catalog.latest.refresh_latest, never written directly (0006).
    followers: Mapped[int | None] = mapped_column(BigInteger)
    following: Mapped[int | None] = mapped_column(BigInteger)
    posts_count: Mapped[int | None] = mapped_column(BigInteger)
    snapshot_at: Mapped[dt.datetime | None] = mapped_column(DateTime)


class AccountSnapshot(Provenance, Base):
    """An account's public numbers at one moment: metrics need history, not only today."""

    __tablename__ = "account_snapshots"
    __table_args__ = (UniqueConstraint("account_id", "captured_at"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    workspace_id: Mapped[int] = workspace_column()
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"))
    captured_at: Mapped[dt.datetime] = mapped_column(DateTime)
    followers: Mapped[int | None] = mapped_column(BigInteger)
    following: Mapped[int | None] = mapped_column(BigInteger)
    posts_count: Mapped[int | None] = mapped_column(BigInteger)


class Post(Provenance, Base):
    """One piece of content with its counts as last seen."""

    __tablename__ = "posts"
    __table_args__ = (
        UniqueConstraint("account_id", "platform_post_id"),
        Index("ix_posts_workspace_account_posted", "workspace_id", "account_id", "posted_at"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    workspace_id: Mapped[int] = mapped_column(ForeignKey("workspaces.id", ondelete="CASCADE"))
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"))
    platform_post_id: Mapped[str] = mapped_column(String(100))
    shortcode: Mapped[str | None] = mapped_column(String(100))
    url: Mapped[str | None] = mapped_column(String(1000))
    post_type: Mapped[str | None] = mapped_column(String(20))
    posted_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    caption: Mapped[str | None] = mapped_column(Text)
    hashtags: Mapped[list[str] | None] = mapped_column(JSON)
    mentions: Mapped[list[str] | None] = mapped_column(JSON)
    likes: Mapped[int | None] = mapped_column(BigInteger)
    comments: Mapped[int | None] = mapped_column(BigInteger)
    shares: Mapped[int | None] = mapped_column(BigInteger)
    saves: Mapped[int | None] = mapped_column(BigInteger)
    views: Mapped[int | None] = mapped_column(BigInteger)
    reach: Mapped[int | None] = mapped_column(BigInteger)
    impressions: Mapped[int | None] = mapped_column(BigInteger)
    is_sponsored: Mapped[bool | None] = mapped_column(Boolean)
    # Why we think it is sponsored: "paid_partnership", "caption:#ad", "source" …
    sponsor_evidence: Mapped[str | None] = mapped_column(String(300))
    sponsor_handles: Mapped[list[str] | None] = mapped_column(JSON)
    # Users tagged in the media itself (Instagram photo tags), apart from caption mentions.
    tagged_handles: Mapped[list[str] | None] = mapped_column(JSON)
    location: Mapped[str | None] = mapped_column(String(300))
    # The image's description: Instagram's accessibility caption ("Image may contain: dog")
    # or an alt text the source gives; the niche model reads it (docs/discovery.md).
    alt_text: Mapped[str | None] = mapped_column(Text)


class Comment(Provenance, Base):
    """A sample of a post's comments: raw material of the authenticity checks."""

    __tablename__ = "comments"
    __table_args__ = (UniqueConstraint("post_id", "comment_key"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    workspace_id: Mapped[int] = workspace_column()
    post_id: Mapped[int] = mapped_column(ForeignKey("posts.id", ondelete="CASCADE"))
    # The platform's comment id, or a digest of author, time and text when there is none.
    comment_key: Mapped[str] = mapped_column(String(100))
    parent_key: Mapped[str | None] = mapped_column(String(100))  # the comment a reply answers
    text: Mapped[str | None] = mapped_column(Text)
    author_handle: Mapped[str | None] = mapped_column(String(200))
    author_is_verified: Mapped[bool | None] = mapped_column(Boolean)
    posted_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    likes: Mapped[int | None] = mapped_column(BigInteger)


class Follower(Provenance, Base):
    """One member of a sample of an account's followers, with the follower's own numbers."""

    __tablename__ = "followers"
    __table_args__ = (UniqueConstraint("account_id", "username"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    workspace_id: Mapped[int] = workspace_column()
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"))
    username: Mapped[str] = mapped_column(String(200))
    full_name: Mapped[str | None] = mapped_column(String(300))
    biography: Mapped[str | None] = mapped_column(Text)
    posts_count: Mapped[int | None] = mapped_column(BigInteger)
    followers: Mapped[int | None] = mapped_column(BigInteger)
    following: Mapped[int | None] = mapped_column(BigInteger)
    has_profile_pic: Mapped[bool | None] = mapped_column(Boolean)
    is_private: Mapped[bool | None] = mapped_column(Boolean)
    is_verified: Mapped[bool | None] = mapped_column(Boolean)
    external_url: Mapped[str | None] = mapped_column(String(1000))
    sampled_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    # The picture's address when the sample gave one (0011): the labelling page's picture.
    profile_pic_url: Mapped[str | None] = mapped_column(String(1000))


class EvaluationLabel(Base):
    """Known truth about an account (the demo's planted inauthentic accounts), for evaluation."""

    __tablename__ = "evaluation_labels"
    __table_args__ = (UniqueConstraint("account_id", "label"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    workspace_id: Mapped[int] = workspace_column()
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"))
    # authentic | bought_followers | engagement_pod | bot_comments
    label: Mapped[str] = mapped_column(String(40))
    detail: Mapped[dict[str, Any] | None] = mapped_column(JSON)
