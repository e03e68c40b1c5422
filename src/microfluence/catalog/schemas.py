"""Shapes of catalog records: Base (shared fields) → Create / Update / Public, and a page of a
list (``{data, count}``)."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Generic, Literal, TypeVar

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    field_validator,
)

from microfluence.kernel.store.tables import PLATFORMS, POST_TYPES

T = TypeVar("T")


def _as_utc(value: dt.datetime) -> dt.datetime:
    return value.replace(tzinfo=dt.UTC) if value.tzinfo is None else value.astimezone(dt.UTC)


# Times are stored as naive UTC; answers say so ("2026-05-01T10:00:00Z", RFC 3339).
UtcDateTime = Annotated[dt.datetime, AfterValidator(_as_utc)]

Platform = Literal[
    "instagram", "tiktok", "youtube", "facebook", "x", "snapchat", "twitch", "pinterest", "blog"
]
assert set(Platform.__args__) == set(PLATFORMS)  # type: ignore[attr-defined]
PostType = Literal["image", "carousel", "video", "reel", "story", "short"]
assert set(PostType.__args__) == set(POST_TYPES)  # type: ignore[attr-defined]

Text300 = Annotated[str, StringConstraints(strip_whitespace=True, max_length=300)]
Text120 = Annotated[str, StringConstraints(strip_whitespace=True, max_length=120)]
Text80 = Annotated[str, StringConstraints(strip_whitespace=True, max_length=80)]
Text40 = Annotated[str, StringConstraints(strip_whitespace=True, max_length=40)]
Count = Annotated[int, Field(ge=0, le=10**15)]
Email = Annotated[
    str,
    StringConstraints(strip_whitespace=True, max_length=320, pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$"),
]


class Page(BaseModel, Generic[T]):
    """One page of a list, and how many records match in all."""

    data: list[T]
    count: int = Field(description="How many records match the filters, on every page.")


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


# --- creators ------------------------------------------------------------------------------


class CreatorBase(Strict):
    name: Text300 | None = None
    country: Text80 | None = None
    language: Text40 | None = None
    category: Text120 | None = None
    email: Email | None = None
    notes: Annotated[str, StringConstraints(max_length=20_000)] | None = None


class CreatorCreate(CreatorBase):
    name: Text300 = Field(min_length=1)


class CreatorUpdate(CreatorBase):
    """Only the fields sent are changed; send null to clear one."""


class AccountSummary(BaseModel):
    id: int
    platform: str
    handle: str
    followers: int | None


class CreatorPublic(BaseModel):
    id: int
    name: str | None
    country: str | None
    language: str | None
    category: str | None
    email: str | None
    notes: str | None
    followers: int | None = Field(
        description="Sum of the latest known follower counts of the creator's accounts."
    )
    accounts: list[AccountSummary]
    source: str | None
    imported_at: UtcDateTime | None
    created_at: UtcDateTime
    updated_at: UtcDateTime


# --- accounts ------------------------------------------------------------------------------

Handle = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200, pattern=r"^\S+$")
]


class AccountBase(Strict):
    external_id: Annotated[str, StringConstraints(max_length=100)] | None = None
    url: Annotated[str, StringConstraints(max_length=1000)] | None = None
    display_name: Text300 | None = None
    bio: Annotated[str, StringConstraints(max_length=20_000)] | None = None
    country: Text80 | None = None
    language: Text40 | None = None
    category: Text120 | None = None
    email: Email | None = None
    is_verified: bool | None = None
    is_business: bool | None = None
    is_private: bool | None = None


class AccountCreate(AccountBase):
    platform: Platform
    handle: Handle
    creator_id: int | None = Field(
        default=None,
        description="The creator who runs the account; a new creator is made when omitted.",
    )

    @field_validator("handle")
    @classmethod
    def _normalise(cls, value: str) -> str:
        value = value.lstrip("@").lower()
        if not value:
            raise ValueError("a handle needs at least one character besides '@'")
        return value


class AccountUpdate(AccountBase):
    """Only the fields sent are changed; send null to clear one."""

    creator_id: int | None = None


class AccountPublic(BaseModel):
    id: int
    creator_id: int
    platform: str
    handle: str
    external_id: str | None
    url: str | None
    display_name: str | None
    bio: str | None
    country: str | None
    language: str | None
    category: str | None
    email: str | None
    is_verified: bool | None
    is_business: bool | None
    is_private: bool | None
    followers: int | None = Field(description="From the latest snapshot.")
    following: int | None
    posts_count: int | None
    captured_at: UtcDateTime | None = Field(description="When the latest snapshot was taken.")
    reported_engagement_rate: float | None
    source: str | None
    imported_at: UtcDateTime | None
    created_at: UtcDateTime
    updated_at: UtcDateTime


# --- snapshots and posts -------------------------------------------------------------------


class SnapshotBase(Strict):
    followers: Count | None = None
    following: Count | None = None
    posts_count: Count | None = None


class SnapshotCreate(SnapshotBase):
    captured_at: dt.datetime = Field(description="When the numbers were read; stored in UTC.")

    @field_validator("captured_at")
    @classmethod
    def _utc(cls, value: dt.datetime) -> dt.datetime:
        if value.tzinfo is not None:
            value = value.astimezone(dt.UTC).replace(tzinfo=None)
        if not dt.datetime(1990, 1, 1) <= value <= dt.datetime(2200, 1, 1):
            raise ValueError("captured_at must lie between 1990 and 2200")
        return value


class SnapshotPublic(BaseModel):
    id: int
    account_id: int
    captured_at: UtcDateTime
    followers: int | None
    following: int | None
    posts_count: int | None
    source: str | None


class PostPublic(BaseModel):
    id: int
    account_id: int
    platform_post_id: str
    shortcode: str | None
    url: str | None
    post_type: str | None
    posted_at: UtcDateTime | None
    caption: str | None
    hashtags: list[str] | None
    mentions: list[str] | None
    likes: int | None
    comments: int | None
    shares: int | None
    saves: int | None
    views: int | None
    reach: int | None
    impressions: int | None
    is_sponsored: bool | None
    sponsor_evidence: str | None
    location: str | None
    source: str | None
