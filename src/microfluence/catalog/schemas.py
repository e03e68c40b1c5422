"""Shapes of catalog records: Base (shared fields) → Create / Update / Public, and a page of a
list (``{data, count}``)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Annotated, Any, Generic, Literal, TypeVar

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    field_validator,
)
from pydantic_core import PydanticCustomError

from microfluence.catalog import validation
from microfluence.kernel.errors import InputError
from microfluence.kernel.store.tables import PLATFORMS, POST_TYPES

T = TypeVar("T")


def _rule(kind: str, parse: Callable[[Any], Any]) -> AfterValidator:
    """A rule of catalog.validation as a field check: its message, a 422 naming the field."""

    def check(value: Any) -> Any:
        try:
            return parse(value)
        except InputError as exc:
            raise PydanticCustomError(kind, exc.message) from None

    return AfterValidator(check)


def _as_utc(value: dt.datetime) -> dt.datetime:
    return validation.naive_utc(value).replace(tzinfo=dt.UTC)


# Times are stored as naive UTC; answers say so ("2026-05-01T10:00:00Z", RFC 3339). A time sent
# whose UTC a datetime cannot hold (0001-01-01T00:00:00+14:00) is a validation error, not a 500.
UtcDateTime = Annotated[dt.datetime, _rule("datetime_range", _as_utc)]
# A time as the store keeps it: naive UTC (sent with an offset: converted; without: taken as UTC).
StoredDateTime = Annotated[dt.datetime, _rule("datetime_range", validation.naive_utc)]
# Ids are the store's 32-bit integers: a larger one is a validation error, never a 500.
ID_MAX = 2**31 - 1
Id = Annotated[int, Field(ge=1, le=ID_MAX)]

Platform = Literal[
    "instagram", "tiktok", "youtube", "facebook", "x", "snapchat", "twitch", "pinterest", "blog"
]
assert set(Platform.__args__) == set(PLATFORMS)  # type: ignore[attr-defined]
PostType = Literal["image", "carousel", "video", "reel", "story", "short"]
assert set(PostType.__args__) == set(POST_TYPES)  # type: ignore[attr-defined]

Text300 = Annotated[str, StringConstraints(strip_whitespace=True, max_length=300)]
Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=300)]
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
    """Only the fields sent are changed; send null to clear one (not the name: a creator always
    has one)."""

    name: Name | None = None

    @field_validator("name")
    @classmethod
    def _keep_a_name(cls, value: str | None) -> str:
        if value is None:
            raise ValueError("a creator always has a name: it cannot be cleared")
        return value


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

# The rule of every way in (catalog.validation): '@Ana' → 'ana', letters, digits, '_', '.', '-'.
Handle = Annotated[
    str, StringConstraints(max_length=200), _rule("invalid_handle", validation.parse_handle)
]
# http or https only (a bare host gets https://); javascript:, data: … are refused.
Url = Annotated[str, StringConstraints(max_length=1000), _rule("invalid_url", validation.parse_url)]


class AccountBase(Strict):
    external_id: Annotated[str, StringConstraints(max_length=100)] | None = None
    url: Url | None = None
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
    creator_id: Id | None = Field(
        default=None,
        description="The creator who runs the account; a new creator is made when omitted.",
    )


class AccountUpdate(AccountBase):
    """Only the fields sent are changed; send null to clear one."""

    creator_id: Id | None = None


class AccountPublic(BaseModel):
    id: int
    creator_id: int
    platform: str
    handle: str
    external_id: str | None
    previous_handles: list[str] = Field(
        default_factory=list,
        description="Handles the account had before it renamed itself (recognised by its "
        "external_id), oldest first; a search by one of them finds the account.",
    )
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
    captured_at: StoredDateTime = Field(description="When the numbers were read; stored in UTC.")

    @field_validator("captured_at")
    @classmethod
    def _utc(cls, value: dt.datetime) -> dt.datetime:
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
