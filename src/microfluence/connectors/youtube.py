"""The YouTube Data API v3 connector (an API key): channels, their recent videos, and search.

* ``channels.list`` (part ``snippet,statistics,topicDetails,brandingSettings,contentDetails``)
  by channel id (``id``), handle (``forHandle``) or legacy user name (``forUsername``). Counts
  arrive as strings; ``hiddenSubscriberCount`` true means the subscriber count is not public
  (stored as unknown, never as 0).
* the channel's uploads playlist (``contentDetails.relatedPlaylists.uploads``) through
  ``playlistItems.list``, then ``videos.list`` for those videos' statistics; a deleted or
  private video is still listed by the playlist but not returned by ``videos.list``: it is
  counted as unavailable and left out.
* ``search.list`` (type ``channel``) to discover channels by keyword: 100 units a call.

Reference: https://developers.google.com/youtube/v3/docs/channels/list,
…/playlistItems/list, …/videos/list, …/search/list; errors:
https://developers.google.com/youtube/v3/docs/errors."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote

import httpx

from microfluence.connectors.http import (
    ApiClient,
    ConnectorError,
    CredentialRejected,
    NotReadable,
    QuotaExhausted,
    Sleep,
    Verdict,
)
from microfluence.connectors.profiles import Profile, as_dict, as_list, as_text, to_int, to_time
from microfluence.connectors.quota import QuotaMeter
from microfluence.connectors.settings import ConnectorSettings

CHANNEL_PARTS = "snippet,statistics,topicDetails,brandingSettings,contentDetails"
PAGE = 50  # the most items these methods return per call
CHANNEL_ID = re.compile(r"^UC[A-Za-z0-9_-]{22}$")
_HANDLE = re.compile(r"^@?[A-Za-z0-9_.\-·]{3,100}$")
QUOTA_REASONS = {"quotaExceeded", "dailyLimitExceeded"}
RATE_REASONS = {"rateLimitExceeded", "userRateLimitExceeded"}
KEY_REASONS = {"keyInvalid", "keyExpired", "forbidden", "ipRefererBlocked", "accessNotConfigured"}
HTTP_BAD_REQUEST = 400


def _reason(body: Any) -> tuple[str | None, str]:
    """(reason, message) of a Google API error answer."""
    error = body.get("error") if isinstance(body, dict) else None
    if not isinstance(error, dict):
        return None, ""
    errors = error.get("errors") or []
    first = errors[0] if errors and isinstance(errors[0], dict) else {}
    return first.get("reason"), str(error.get("message") or "")[:300]


def classify(response: httpx.Response, body: Any) -> Verdict:
    reason, message = _reason(body)
    status = response.status_code
    if reason in QUOTA_REASONS:
        return Verdict(False, QuotaExhausted(f"YouTube says the quota is exceeded: {message}"))
    if reason in RATE_REASONS:
        return Verdict(True, ConnectorError(f"YouTube rate limit: {message}", reason=reason))
    if reason in KEY_REASONS or (status == HTTP_BAD_REQUEST and "API key" in message):
        return Verdict(
            False,
            CredentialRejected(
                f"YouTube refused the API key ({reason}): {message} — set a valid one with "
                "`microfluence connect youtube --api-key-file F`"
            ),
        )
    if reason is not None:
        return Verdict(False, ConnectorError(f"YouTube: {reason}: {message}", status=status))
    return Verdict(False, None)


def parse_target(text: str) -> tuple[str, str]:
    """How to look a channel up: ("id", "UC…"), ("forHandle", "@name") or
    ("forUsername", "name") for ``user:name``; a URL's last segment works too."""
    value = unquote((text or "").strip()).rstrip("/")
    if "/" in value:
        parts = value.split("/")
        value = parts[-1]
        if len(parts) > 1 and parts[-2] == "user":
            value = f"user:{value}"
    if CHANNEL_ID.match(value):
        return "id", value
    if value.startswith("user:") and _HANDLE.match(value[5:]):
        return "forUsername", value[5:]
    if _HANDLE.match(value):
        return "forHandle", value if value.startswith("@") else f"@{value}"
    raise NotReadable(f"{text!r} is not a YouTube channel id (UC…), handle (@name) or user:name")


def _topic(url: str) -> str:
    return unquote(url.rsplit("/", 1)[-1]).replace("_", " ")[:120]


def channel_profile(item: dict[str, Any]) -> Profile:
    """A ``channels.list`` item as a profile (no videos yet); :class:`NotReadable` for an item
    without an id."""
    snippet = as_dict(item.get("snippet"))
    stats = as_dict(item.get("statistics"))
    branding = as_dict(as_dict(item.get("brandingSettings")).get("channel"))
    topics = [
        t
        for t in as_list(as_dict(item.get("topicDetails")).get("topicCategories"))
        if isinstance(t, str)
    ]
    channel_id = as_text(item.get("id"), 100)
    if channel_id is None:
        raise NotReadable("YouTube returned a channel without an id")
    custom = (as_text(snippet.get("customUrl"), 200) or "").lstrip("@")
    hidden = stats.get("hiddenSubscriberCount") is True
    return Profile(
        platform="youtube",
        handle=custom or channel_id,
        account={
            "external_id": channel_id,
            "display_name": as_text(snippet.get("title"), 300)
            or as_text(branding.get("title"), 300),
            "bio": as_text(snippet.get("description")) or as_text(branding.get("description")),
            "url": f"https://www.youtube.com/@{custom}"
            if custom
            else f"https://www.youtube.com/channel/{channel_id}",
            "country": as_text(snippet.get("country"), 80) or as_text(branding.get("country"), 80),
            "category": _topic(topics[0]) if topics else None,
        },
        followers=None if hidden else to_int(stats.get("subscriberCount")),
        posts_count=to_int(stats.get("videoCount")),
    )


def video_post(item: dict[str, Any]) -> dict[str, Any]:
    snippet = as_dict(item.get("snippet"))
    stats = as_dict(item.get("statistics"))
    video_id = str(item["id"])[:100]
    title = as_text(snippet.get("title")) or ""
    description = as_text(snippet.get("description")) or ""
    return {
        "platform_post_id": video_id,
        "url": f"https://www.youtube.com/watch?v={video_id}",
        "post_type": "video",
        "posted_at": to_time(snippet.get("publishedAt")),
        "caption": f"{title}\n\n{description}".strip() or None,
        "likes": to_int(stats.get("likeCount")),  # absent when the creator hides likes
        "comments": to_int(stats.get("commentCount")),  # absent when comments are off
        "views": to_int(stats.get("viewCount")),
    }


@dataclass
class YouTube:
    """Calls to the API, each charged to the quota meter before it is made."""

    api: ApiClient
    meter: QuotaMeter

    def call(self, method: str, path: str, params: dict[str, Any]) -> dict[str, Any]:
        self.meter.charge(method)
        try:
            body = self.api.get(path, params)
        except QuotaExhausted:
            self.meter.mark_exhausted()
            raise
        return body if isinstance(body, dict) else {}

    def channel(self, target: str) -> dict[str, Any]:
        """The ``channels.list`` item of one channel; :class:`NotReadable` when there is none."""
        how, value = parse_target(target)
        body = self.call("channels.list", "/channels", {"part": CHANNEL_PARTS, how: value})
        items = [i for i in as_list(body.get("items")) if isinstance(i, dict)]
        if not items and how == "forHandle":  # an old channel known by its user name
            body = self.call(
                "channels.list",
                "/channels",
                {"part": CHANNEL_PARTS, "forUsername": value.lstrip("@")},
            )
            items = [i for i in as_list(body.get("items")) if isinstance(i, dict)]
        if not items:
            raise NotReadable(f"no YouTube channel {target!r}")
        return items[0]

    def channels_by_id(self, ids: list[str]) -> list[dict[str, Any]]:
        found: list[dict[str, Any]] = []
        for start in range(0, len(ids), PAGE):
            chunk = ids[start : start + PAGE]
            body = self.call(
                "channels.list", "/channels", {"part": CHANNEL_PARTS, "id": ",".join(chunk)}
            )
            found.extend(i for i in as_list(body.get("items")) if isinstance(i, dict))
        return found

    def recent_videos(self, uploads: str, limit: int) -> tuple[list[dict[str, Any]], int]:
        """(the newest ``limit`` videos' posts, how many listed videos are unavailable)."""
        ids: list[str] = []
        token: str | None = None
        while len(ids) < limit:
            params = {
                "part": "contentDetails",
                "playlistId": uploads,
                "maxResults": min(PAGE, limit - len(ids)),
            }
            if token:
                params["pageToken"] = token
            body = self.call("playlistItems.list", "/playlistItems", params)
            for item in as_list(body.get("items")):
                video = as_text(as_dict(as_dict(item).get("contentDetails")).get("videoId"), 100)
                if video:
                    ids.append(video)
            token = body.get("nextPageToken")
            if not token or not body.get("items"):
                break
        posts: list[dict[str, Any]] = []
        for start in range(0, len(ids), PAGE):
            chunk = ids[start : start + PAGE]
            body = self.call(
                "videos.list",
                "/videos",
                {"part": "snippet,statistics", "id": ",".join(chunk), "maxResults": PAGE},
            )
            posts.extend(
                video_post(item)
                for item in as_list(body.get("items"))
                if isinstance(item, dict) and as_text(item.get("id"))
            )
        return posts, len(ids) - len(posts)

    def profile(self, target: str, videos: int) -> Profile:
        item = self.channel(target)
        profile = channel_profile(item)
        uploads = ((item.get("contentDetails") or {}).get("relatedPlaylists") or {}).get("uploads")
        if uploads and videos > 0:
            profile.posts, profile.unavailable_posts = self.recent_videos(str(uploads), videos)
        return profile

    def search_channels(self, keyword: str, limit: int) -> list[str]:
        """Channel ids ``search.list`` finds for ``keyword`` (100 units a call)."""
        body = self.call(
            "search.list",
            "/search",
            {"part": "snippet", "type": "channel", "q": keyword, "maxResults": min(PAGE, limit)},
        )
        ids = [
            str((item.get("id") or {}).get("channelId") or "") for item in body.get("items") or []
        ]
        return [i for i in ids if i]


def youtube_client(
    settings: ConnectorSettings,
    api_key: str,
    meter: QuotaMeter,
    sleep: Sleep | None = None,
) -> YouTube:
    api = ApiClient(
        base_url=settings.youtube_api_url,
        headers={"X-goog-api-key": api_key, "Accept": "application/json"},
        settings=settings,
        classify=classify,
    )
    if sleep is not None:
        api.sleep = sleep
    return YouTube(api=api, meter=meter)


def unique(values: Iterable[str]) -> list[str]:
    return list(dict.fromkeys(v for v in values if v))
