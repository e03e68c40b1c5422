"""Which input column holds which canonical field.

Column names are compared by their *key*: accents removed, lower case, everything but letters
and digits dropped — so ``Followers``, ``followers_count``, ``Followers Count`` and
``followersCount`` are one name, as are ``E-mail`` and ``email``, ``Country/Region`` and
``country_region``, ``avg. likes`` and ``avg_likes``. Nested JSON keys are flattened with a dot
(``owner.username``), so their key is ``ownerusername``.

Each canonical field lists its variants in order of preference; when several columns match one
field, the column matching the earliest variant wins and the others are reported as ignored.
``--map FIELD=COLUMN`` overrides the guess for a field.
"""

from __future__ import annotations

import json
import re
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from microfluence.kernel.errors import InputError


def column_key(name: str) -> str:
    """The comparison key of a column name: 'Avg. Likes' → 'avglikes'."""
    text = unicodedata.normalize("NFKD", name)
    text = "".join(ch for ch in text if not unicodedata.combining(ch))
    return re.sub(r"[^0-9a-z]", "", text.lower())


_ACCOUNT_FIELDS: dict[str, tuple[str, ...]] = {
    "platform": ("platform", "network", "social_network", "social_platform", "site"),
    "handle": (
        "handle",
        "username",
        "user_name",
        "screen_name",
        "account",
        "account_handle",
        "account_name",
        "instagram_handle",
        "instagram_username",
        "ig_handle",
        "ig_username",
        "tiktok_handle",
        "tiktok_username",
        "youtube_handle",
        "channel_handle",
        "creator_handle",
        "influencer_handle",
        "profile_handle",
        "social_handle",
        "channel_info",
        "influencer_insta_name",
        "insta_name",
        "insta_handle",
        "tiktoker_name",
        "tiktoker",
        "youtuber_name",
        "youtuber",
        "twitter_handle",
        "twitter_username",
        "x_handle",
        "unique_id",
        "uniqueId",
        "login",
        "owner_username",
        "ownerUsername",
        "owner.username",
        "author_username",
        "author_handle",
        "authorMeta.name",
        "author.uniqueId",
        "user.username",
        "user",
        "author",
        "@handle",
        "@",
    ),
    "display_name": (
        "display_name",
        "name",
        "full_name",
        "fullname",
        "creator_name",
        "influencer_name",
        "influencer",
        "creator",
        "nickname",
        "profile_name",
        "channel_name",
        "channel_title",
        "instagram_name",
        "tiktok_name",
        "youtube_name",
        "channel",
        "title",
        "owner_full_name",
        "ownerFullName",
        "owner.full_name",
        "authorMeta.nickName",
        "author.nickname",
        "user.full_name",
    ),
}

CREATOR_FIELDS: dict[str, tuple[str, ...]] = {
    **_ACCOUNT_FIELDS,
    "followers": (
        "followers",
        "follower_count",
        "followers_count",
        "num_followers",
        "number_of_followers",
        "total_followers",
        "subscribers",
        "subscriber_count",
        "subscribers_count",
        "fans",
        "fan_count",
        "fans_count",
        "audience",
        "audience_size",
        "edge_followed_by",
        "edge_followed_by.count",
        "authorMeta.fans",
    ),
    "following": (
        "following",
        "following_count",
        "followings",
        "follows",
        "follows_count",
        "followees",
        "num_following",
        "edge_follow",
        "edge_follow.count",
        "authorMeta.following",
    ),
    "posts_count": (
        "posts_count",
        "posts",
        "post_count",
        "num_posts",
        "number_of_posts",
        "total_posts",
        "media_count",
        "mediacount",
        "uploads",
        "video_count",
        "videos",
        "videos_count",
        "edge_owner_to_timeline_media.count",
        "authorMeta.video",
    ),
    "bio": ("bio", "biography", "description", "about", "profile_description", "signature"),
    "country": ("country", "country_region", "country_code", "location_country", "nation", "geo"),
    "language": ("language", "lang", "locale", "content_language"),
    "category": (
        "category",
        "niche",
        "topic",
        "vertical",
        "genre",
        "category_name",
        "business_category",
        "business_category_name",
        "category_1",
        "main_category",
        "primary_category",
        "categories",
    ),
    "email": ("email", "contact_email", "business_email", "public_email", "email_address", "mail"),
    "url": ("url", "profile_url", "profile_link", "link", "profile", "channel_url", "account_url"),
    "avg_likes": (
        "avg_likes",
        "average_likes",
        "mean_likes",
        "likes_avg",
        "avg_likes_per_post",
        "likes_per_post",
        "avg_like",
        "average_like",
        "avg_likes_per_video",
    ),
    "avg_comments": (
        "avg_comments",
        "average_comments",
        "mean_comments",
        "comments_avg",
        "avg_comments_per_post",
        "comments_per_post",
        "avg_comment",
        "average_comment",
        "avg_comments_per_video",
    ),
    "avg_views": (
        "avg_views",
        "average_views",
        "mean_views",
        "views_avg",
        "avg_plays",
        "average_plays",
        "avg_video_views",
        "views_per_post",
        "avg_view",
        "average_view",
        "avg_views_per_video",
    ),
    "engagement_rate": (
        "engagement_rate",
        "er",
        "engagement",
        "eng_rate",
        "engagement_rate_percent",
        "engagement_rate_pct",
        "er_percent",
        "er_pct",
        "avg_engagement_rate",
        "average_engagement_rate",
        "engagement_percent",
        "60_day_eng_rate",
        "eng_rate_60_day",
        "engagement_rate_60d",
        "engagement_rate_30d",
    ),
    "is_verified": ("is_verified", "verified"),
    "is_business": ("is_business", "is_business_account", "business_account"),
    "is_private": ("is_private", "private"),
    "external_id": ("external_id", "user_id", "profile_id", "channel_id", "account_id", "pk"),
    "captured_at": (
        "captured_at",
        "snapshot_at",
        "scraped_at",
        "collected_at",
        "fetched_at",
        "as_of",
        "date_scraped",
        "scrape_date",
    ),
}

POST_FIELDS: dict[str, tuple[str, ...]] = {
    **_ACCOUNT_FIELDS,
    "post_id": (
        "platform_post_id",
        "post_id",
        "id",
        "media_id",
        "video_id",
        "aweme_id",
        "tweet_id",
        "status_id",
        "pin_id",
        "item_id",
        "pk",
        "shortcode",
        "short_code",
        "code",
    ),
    "shortcode": ("shortcode", "short_code", "code"),
    "url": ("url", "post_url", "permalink", "link", "post_link", "web_url", "web_video_url"),
    "post_type": (
        "post_type",
        "type",
        "media_type",
        "content_type",
        "product_type",
        "format",
        "typename",
        "__typename",
    ),
    "posted_at": (
        "posted_at",
        "timestamp",
        "taken_at",
        "taken_at_timestamp",
        "published_at",
        "publish_time",
        "create_time",
        "created_at",
        "created_time",
        "upload_date",
        "post_date",
        "date",
        "datetime",
        "time",
        "posted",
    ),
    "caption": ("caption", "text", "description", "desc", "title", "body", "content", "message"),
    "likes": (
        "likes",
        "like_count",
        "likes_count",
        "digg_count",
        "favorite_count",
        "favourite_count",
        "reactions",
        "reaction_count",
        "hearts",
        "edge_liked_by.count",
        "edge_media_preview_like.count",
        "stats.diggCount",
    ),
    "comments": (
        "comments",
        "comment_count",
        "comments_count",
        "num_comments",
        "reply_count",
        "replies",
        "edge_media_to_comment.count",
        "stats.commentCount",
    ),
    "shares": (
        "shares",
        "share_count",
        "shares_count",
        "retweets",
        "retweet_count",
        "reposts",
        "repost_count",
        "stats.shareCount",
    ),
    "saves": ("saves", "save_count", "saves_count", "saved", "collect_count", "bookmarks"),
    "views": (
        "views",
        "view_count",
        "views_count",
        "video_views",
        "video_view_count",
        "video_play_count",
        "plays",
        "play_count",
        "stats.playCount",
    ),
    "reach": ("reach", "accounts_reached"),
    "impressions": ("impressions", "impression_count"),
    "is_sponsored": (
        "is_sponsored",
        "sponsored",
        "is_ad",
        "ad",
        "is_paid_partnership",
        "paid_partnership",
        "branded_content",
        "is_branded_content",
    ),
    "sponsor_handles": (
        "sponsor_handles",
        "sponsors",
        "sponsor",
        "sponsor_users",
        "brand",
        "brands",
        "paid_partners",
    ),
    "hashtags": ("hashtags", "hash_tags", "tags"),
    "mentions": ("mentions", "mentioned_users", "user_mentions"),
    "location": ("location", "location_name", "place"),
    "alt_text": (
        "alt_text",
        "accessibility_caption",
        "accessibilityCaption",
        "alt",
        "image_description",
        "image_alt",
    ),
    # The author's stable platform id: a renamed account is recognised by it (ingest.write).
    "external_id": (
        "external_id",
        "user_id",
        "owner_id",
        "owner.id",
        "author_id",
        "author.id",
        "authorMeta.id",
        "channel_id",
        "author_channel_id",
    ),
}

REQUIRED = ("handle",)


@dataclass(frozen=True)
class ColumnMap:
    """Canonical field → input column, with the input columns nobody claimed."""

    fields: dict[str, str]
    ignored: list[str] = field(default_factory=list)
    # Further columns matching a field, in order of preference: JSON Lines records of several
    # shapes (an Instagram post's "shortcode", a TikTok video's "id") fill one field per row.
    alternatives: dict[str, list[str]] = field(default_factory=dict)

    def columns_for(self, name: str) -> list[str]:
        """The field's column and its alternatives, best first."""
        first = self.fields.get(name)
        return [first, *self.alternatives.get(name, [])] if first else []

    def get(self, name: str) -> str | None:
        return self.fields.get(name)

    def __contains__(self, name: object) -> bool:
        return name in self.fields


def parse_mapping(
    items: str | Sequence[str] | Mapping[str, str] | None, *, field: str = "--map"
) -> dict[str, str]:
    """Which column holds which field, as the CLI, the API and the pages give it:

    * ``["followers=Fans (total)", …]`` — the CLI's repeated ``--map FIELD=COLUMN``;
    * ``'{"followers": "Fans (total)"}'`` — a JSON object (any column name);
    * ``"handle=User name,followers=Fans"`` — pairs separated by commas;
    * a mapping, taken as it is.

    → ``{"followers": "Fans (total)"}``; anything else is an error naming ``field``.
    """
    if not items:
        return {}
    if isinstance(items, Mapping):
        return {str(k).strip(): str(v).strip() for k, v in items.items()}
    if isinstance(items, str):
        text = items.strip()
        if text.startswith("{"):
            return _json_mapping(text, field)
        items = [item for item in text.split(",") if item.strip()]
    mapping = {}
    for item in items:
        name, sep, column = item.partition("=")
        if not sep or not name.strip() or not column.strip():
            raise InputError(f"expected FIELD=COLUMN, not {item!r}", field=field)
        mapping[name.strip()] = column.strip()
    return mapping


def _json_mapping(text: str, field: str) -> dict[str, str]:
    try:
        value = json.loads(text)
    except json.JSONDecodeError as exc:
        raise InputError(f"not a JSON object: {exc}", field=field) from exc
    if not isinstance(value, dict) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in value.items()
    ):
        raise InputError("a JSON object of field names to column names", field=field)
    return {k.strip(): v.strip() for k, v in value.items()}


def resolve_columns(
    header: Sequence[str],
    fields: Mapping[str, Sequence[str]],
    mapping: Mapping[str, str] | None = None,
    *,
    file: str | None = None,
    required: Sequence[str] = REQUIRED,
) -> ColumnMap:
    """Match a file's columns to canonical fields; raise a clear error when a required one lacks."""
    mapping = dict(mapping or {})
    by_key: dict[str, list[str]] = {}
    for column in header:
        by_key.setdefault(column_key(column), []).append(column)
    chosen = _mapped_columns(header, fields, mapping, by_key, file=file)
    _guess_columns(fields, chosen, by_key)
    for name in required:
        if name not in chosen:
            variants = ", ".join(fields[name][:6])
            raise InputError(
                f"no {name} column: name one {variants} … or pass --map {name}=COLUMN "
                f"(columns are {', '.join(repr(c) for c in header) or 'none'})",
                file=file,
                field=name,
            )
    alternatives = _alternative_columns(fields, chosen, mapping, by_key)
    used = set(chosen.values()) | {c for cols in alternatives.values() for c in cols}
    ignored = [c for c in header if c not in used]
    return ColumnMap(fields=chosen, ignored=ignored, alternatives=alternatives)


def _mapped_columns(
    header: Sequence[str],
    fields: Mapping[str, Sequence[str]],
    mapping: Mapping[str, str],
    by_key: Mapping[str, list[str]],
    *,
    file: str | None,
) -> dict[str, str]:
    """The columns ``--map FIELD=COLUMN`` names (by exact name, else by key)."""
    chosen: dict[str, str] = {}
    for name, column in mapping.items():
        if name not in fields:
            raise InputError(
                f"--map: unknown field {name!r}; fields are {', '.join(fields)}",
                file=file,
                field=name,
            )
        if column in header:
            chosen[name] = column
            continue
        candidates = by_key.get(column_key(column), [])
        if not candidates:
            raise InputError(
                f"--map {name}={column}: no column {column!r}; columns are "
                f"{', '.join(repr(c) for c in header)}",
                file=file,
                field=name,
            )
        chosen[name] = candidates[0]
    return chosen


def _guess_columns(
    fields: Mapping[str, Sequence[str]], chosen: dict[str, str], by_key: Mapping[str, list[str]]
) -> None:
    """Each field not mapped: the first unclaimed column matching its earliest variant."""
    claimed = set(chosen.values())
    for name, variants in fields.items():
        if name in chosen:
            continue
        for variant in (name, *variants):
            candidates = [c for c in by_key.get(column_key(variant), []) if c not in claimed]
            if candidates:
                chosen[name] = candidates[0]
                claimed.add(candidates[0])
                break


def _alternative_columns(
    fields: Mapping[str, Sequence[str]],
    chosen: Mapping[str, str],
    mapping: Mapping[str, str],
    by_key: Mapping[str, list[str]],
) -> dict[str, list[str]]:
    """Further columns matching a guessed field, best first (they fill its empty cells)."""
    alternatives: dict[str, list[str]] = {}
    overridden = {chosen[name] for name in mapping}
    for name, variants in fields.items():
        if name not in chosen or name in mapping:
            continue
        extra: list[str] = []
        for variant in (name, *variants):
            for column in by_key.get(column_key(variant), []):
                if column != chosen[name] and column not in overridden and column not in extra:
                    extra.append(column)
        if extra:
            alternatives[name] = extra
    return alternatives


def percent_hint(column: str) -> bool:
    """A column named like 'ER (%)' or 'engagement_rate_pct' holds percentages."""
    lowered = column.lower()
    return "%" in lowered or bool(re.search(r"(?:^|[^a-z])(?:pct|percent|percentage)", lowered))
