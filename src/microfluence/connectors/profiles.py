"""What a connector read of one account — its profile, its counts now, its recent posts — and
how fetched profiles are written: through the importers' writer (ingest.write), in one import
run, into the same accounts, snapshots and posts tables as a file import.

A fetch adds a snapshot (captured when fetched) and upserts posts on (account, platform post
id): fetching again adds a snapshot and the new posts, and updates the counts of the posts
already stored, never duplicating one."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

import polars as pl

from microfluence.ingest.report import ImportReport
from microfluence.ingest.tables.run import caption_hashtags, caption_mentions
from microfluence.ingest.write.writer import import_run
from microfluence.kernel.store import Store
from microfluence.kernel.store.tables import utcnow

ACCOUNT_SCHEMA = {
    "handle": pl.String,
    "external_id": pl.String,
    "display_name": pl.String,
    "bio": pl.String,
    "url": pl.String,
    "country": pl.String,
    "category": pl.String,
    "is_verified": pl.Boolean,
    "is_business": pl.Boolean,
}
POST_SCHEMA = {
    "handle": pl.String,
    "platform_post_id": pl.String,
    "url": pl.String,
    "post_type": pl.String,
    "posted_at": pl.Datetime("us"),
    "caption": pl.String,
    "likes": pl.Int64,
    "comments": pl.Int64,
    "views": pl.Int64,
}
SOURCES = {"youtube": "YouTube Data API v3", "instagram": "Instagram Graph API"}


@dataclass
class Profile:
    """One account as a platform's API gave it (handle in the platform's own case)."""

    platform: str
    handle: str
    account: dict[str, Any]
    followers: int | None
    posts_count: int | None
    posts: list[dict[str, Any]] = field(default_factory=list)
    following: int | None = None
    unavailable_posts: int = 0  # deleted or private videos the uploads list still names


def as_dict(value: Any) -> dict[str, Any]:
    """An object of an API answer, or {} when the answer holds something else there."""
    return value if isinstance(value, dict) else {}


def as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def as_text(value: Any, limit: int = 10_000) -> str | None:
    """Text of an API answer (anything else is unknown), cut to ``limit`` characters."""
    return value[:limit] if isinstance(value, str) and value else None


def to_int(value: Any) -> int | None:
    """A count as the APIs give it (YouTube: a string, "12345"); anything else is unknown."""
    if value is None or isinstance(value, bool) or not isinstance(value, int | str):
        return None
    try:
        number = int(str(value).strip())
    except ValueError:
        return None
    return number if number >= 0 else None


def to_time(value: Any) -> dt.datetime | None:
    """An ISO 8601 time ("2024-01-31T10:00:00Z", or Graph's "+0000") as naive UTC."""
    if not isinstance(value, str) or not value:
        return None
    text = value.strip().replace("Z", "+00:00")
    if len(text) > 5 and text[-5] in "+-" and text[-3] != ":":  # noqa: PLR2004 - "+0000"
        text = f"{text[:-2]}:{text[-2:]}"
    try:
        moment = dt.datetime.fromisoformat(text)
    except ValueError:
        return None
    if moment.tzinfo is not None:
        moment = moment.astimezone(dt.UTC).replace(tzinfo=None)
    return moment


def frames(
    platform: str, profiles: list[Profile], captured_at: dt.datetime
) -> tuple[pl.DataFrame, pl.DataFrame, pl.DataFrame]:
    """(accounts, snapshots, posts) frames for the importers' writer."""
    accounts = pl.DataFrame(
        [{**p.account, "handle": p.handle} for p in profiles], schema=ACCOUNT_SCHEMA
    ).with_columns(pl.lit(platform).alias("platform"))
    snapshots = pl.DataFrame(
        {
            "handle": [p.handle for p in profiles],
            "followers": [p.followers for p in profiles],
            "following": [p.following for p in profiles],
            "posts_count": [p.posts_count for p in profiles],
        },
        schema={
            "handle": pl.String,
            "followers": pl.Int64,
            "following": pl.Int64,
            "posts_count": pl.Int64,
        },
    ).with_columns(
        pl.lit(platform).alias("platform"),
        pl.lit(captured_at, dtype=pl.Datetime("us")).alias("captured_at"),
    )
    rows = [{**post, "handle": p.handle} for p in profiles for post in p.posts]
    posts = pl.DataFrame(rows, schema=POST_SCHEMA).with_columns(
        pl.lit(platform).alias("platform"),
        caption_hashtags(pl.col("caption").fill_null("")).alias("hashtags"),
        caption_mentions(pl.col("caption").fill_null("")).alias("mentions"),
    )
    return accounts, snapshots, posts


def write_profiles(
    store: Store, workspace: str, platform: str, profiles: list[Profile], *, source: str = ""
) -> ImportReport:
    """Write fetched profiles in one import run (kind ``<platform>-api``): all or nothing."""
    captured_at = utcnow()
    accounts, snapshots, posts = frames(platform, profiles, captured_at)
    label = source or SOURCES[platform]
    report = ImportReport(kind=f"{platform}-api", source=label, workspace=workspace)
    report.rows_read = len(profiles)
    with import_run(store, workspace, f"{platform}-api", label, report) as writer:
        ids = writer.accounts(accounts)
        writer.snapshots(snapshots.with_columns(ids.alias("account_id")).drop("platform", "handle"))
        if posts.height:
            writer.posts(posts)
    return report
