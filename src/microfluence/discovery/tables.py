"""The discovery tables. Revision "0022" creates account_niches, "0030" account_search, "0024"
the rest.

* ``account_niches``: an account's niches with their confidences, one row per account and
  niche. ``source`` is ``model`` (recomputed when the account's posts change) or ``user`` (a
  hand correction: never overwritten by a re-run, and while an account has one, the model's
  rows for it are not shown);
* ``shortlists`` and ``shortlist_entries``: named lists of creators with notes, per workspace;
* ``saved_searches``: a named query (the search's parameters as JSON) to run again;
* ``account_vectors`` (revision "0029"): each account's sentence vector (discovery.vectors);
* ``account_text_changes`` (revision "0031"): which accounts' text changed, for the keyword
  index (discovery.term_index);
* ``account_search_changes`` (revision "0034"): which accounts' search rows changed, for the
  in-process search columns (discovery.columns).
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
    LargeBinary,
    String,
    Text,
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


class AccountQuality(Base):
    """An account's Audience Quality Score as last computed for search (revision "0024";
    discovery.quality): the score is costly (every authenticity signal), so filters and the
    ranking read it stored instead of recomputing it per query. NULL: not enough data."""

    __tablename__ = "account_quality"
    __table_args__ = (Index("ix_account_quality_workspace_aqs", "workspace_id", "aqs"),)

    account_id: Mapped[int] = mapped_column(
        ForeignKey("accounts.id", ondelete="CASCADE"), primary_key=True, autoincrement=False
    )
    workspace_id: Mapped[int] = mapped_column(ForeignKey("workspaces.id", ondelete="CASCADE"))
    aqs: Mapped[float | None] = mapped_column(Float)
    computed_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)


_COVER = ("platform", "er", "er_percentile", "aqs")  # covering: the filters' and ranking's columns
# … and the account id: SQLite's indexes carry it (the row id), PostgreSQL's include it (0033)
_IDS = {"postgresql_include": ["account_id"]}


class AccountSearch(Base):
    """One row per account with every value the search's filters and ranking read (revision
    "0030"; discovery.search_rows): written by the database's own triggers on ``accounts``,
    ``creators``, ``account_metrics``, ``account_quality`` and ``posts``, never by the services.
    Country and language lower case; ``has_email``: the account's or its creator's address is
    not blank; ``last_post_at``: the latest post's time."""

    __tablename__ = "account_search"
    __table_args__ = (
        Index("ix_account_search_country", "workspace_id", "country", "followers", *_COVER, **_IDS),
        Index(
            "ix_account_search_creator_country",
            "workspace_id",
            "creator_country",
            "followers",
            *_COVER,
            **_IDS,
        ),
        Index("ix_account_search_followers", "workspace_id", "followers", *_COVER, **_IDS),
        Index("ix_account_search_er", "workspace_id", "er"),
        Index("ix_account_search_last_post", "workspace_id", "last_post_at"),
    )

    account_id: Mapped[int] = mapped_column(
        ForeignKey("accounts.id", ondelete="CASCADE"), primary_key=True, autoincrement=False
    )
    workspace_id: Mapped[int] = mapped_column(ForeignKey("workspaces.id", ondelete="CASCADE"))
    platform: Mapped[str] = mapped_column(String(20))
    followers: Mapped[int | None] = mapped_column(BigInteger)
    country: Mapped[str | None] = mapped_column(String(80))
    creator_country: Mapped[str | None] = mapped_column(String(80))
    language: Mapped[str | None] = mapped_column(String(40))
    creator_language: Mapped[str | None] = mapped_column(String(40))
    has_email: Mapped[bool] = mapped_column(Boolean)
    er: Mapped[float | None] = mapped_column(Float)
    er_percentile: Mapped[float | None] = mapped_column(Float)
    aqs: Mapped[float | None] = mapped_column(Float)
    last_post_at: Mapped[dt.datetime | None] = mapped_column(DateTime)


class AccountTextChange(Base):
    """The latest change of an account's text (revision "0031"; discovery.term_index): written
    by the database's triggers on ``accounts`` and ``posts``, never by the services. ``stamp``:
    on SQLite the workspace's largest stamp + 1, on PostgreSQL the writing transaction's id. No
    foreign keys: a deleted account keeps its stamp; a deleted workspace's stamps are removed by
    a trigger on ``workspaces`` (revision "0032")."""

    __tablename__ = "account_text_changes"
    __table_args__ = (Index("ix_account_text_changes_stamp", "workspace_id", "stamp"),)

    account_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    workspace_id: Mapped[int] = mapped_column(Integer)
    stamp: Mapped[int] = mapped_column(BigInteger)


class AccountSearchChange(Base):
    """The latest change of an account's search row (revision "0034"; discovery.columns):
    written by the database's triggers on ``account_search``, never by the services; stamped
    as ``account_text_changes`` is. A deleted workspace's stamps are removed by a trigger on
    ``workspaces``."""

    __tablename__ = "account_search_changes"
    __table_args__ = (Index("ix_account_search_changes_stamp", "workspace_id", "stamp"),)

    account_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    workspace_id: Mapped[int] = mapped_column(Integer)
    stamp: Mapped[int] = mapped_column(BigInteger)


class Shortlist(Base):
    __tablename__ = "shortlists"
    __table_args__ = (UniqueConstraint("workspace_id", "name"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    workspace_id: Mapped[int] = workspace_column()
    name: Mapped[str] = mapped_column(String(200))
    description: Mapped[str | None] = mapped_column(Text)
    created_by: Mapped[str | None] = mapped_column(String(320))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow, onupdate=utcnow)


class ShortlistEntry(Base):
    __tablename__ = "shortlist_entries"
    __table_args__ = (UniqueConstraint("shortlist_id", "creator_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    workspace_id: Mapped[int] = workspace_column()
    shortlist_id: Mapped[int] = mapped_column(
        ForeignKey("shortlists.id", ondelete="CASCADE"), index=True
    )
    creator_id: Mapped[int] = mapped_column(
        ForeignKey("creators.id", ondelete="CASCADE"), index=True
    )
    # The account that brought the creator in (a search result is an account); NULL: any.
    account_id: Mapped[int | None] = mapped_column(ForeignKey("accounts.id", ondelete="SET NULL"))
    note: Mapped[str | None] = mapped_column(Text)
    added_by: Mapped[str | None] = mapped_column(String(320))
    added_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)


class SavedSearch(Base):
    __tablename__ = "saved_searches"
    __table_args__ = (UniqueConstraint("workspace_id", "name"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    workspace_id: Mapped[int] = workspace_column()
    name: Mapped[str] = mapped_column(String(200))
    query: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    created_by: Mapped[str | None] = mapped_column(String(320))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow, onupdate=utcnow)


class AccountVector(Base):
    """An account's sentence vector (revision "0029"; discovery.vectors): 256 float16 values
    as bytes, L2-normalised, with the model and the fingerprint of the text it came from. On
    PostgreSQL with pgvector the migration adds an ``embedding`` column, written beside it."""

    __tablename__ = "account_vectors"
    __table_args__ = (Index("ix_account_vectors_workspace_updated", "workspace_id", "updated_at"),)

    account_id: Mapped[int] = mapped_column(
        ForeignKey("accounts.id", ondelete="CASCADE"), primary_key=True, autoincrement=False
    )
    workspace_id: Mapped[int] = mapped_column(ForeignKey("workspaces.id", ondelete="CASCADE"))
    model: Mapped[str] = mapped_column(String(60))
    fingerprint: Mapped[str] = mapped_column(String(300))
    vector: Mapped[bytes] = mapped_column(LargeBinary)
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
