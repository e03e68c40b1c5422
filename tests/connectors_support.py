"""A stand-in for the YouTube Data API v3 and the Instagram Graph API on 127.0.0.1: a real HTTP
server answering with the response shapes the platforms document (channels.list,
playlistItems.list, videos.list, search.list; IG User business_discovery), errors included —
quotaExceeded, 429 and Graph rate-limit codes 4/17/32/613, an expired token (190), a personal
account (110 / 2207013), a deleted video (listed by the playlist, absent from videos.list).

References: https://developers.google.com/youtube/v3/docs/channels/list (and playlistItems,
videos, search, errors); https://developers.facebook.com/docs/instagram-platform/
instagram-graph-api/reference/ig-user/business_discovery;
https://developers.facebook.com/docs/graph-api/overview/rate-limiting."""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

API_KEY = "AIzaSyTEST-key-0123456789abcdefghijkl"
TOKEN = "EAAGtest0123456789tokenABCDEFGHIJKLMNOP"
IG_USER = "17841405309211844"


def channel(cid: str, handle: str, subs: str | None, videos: int, *, hidden: bool = False):
    stats: dict[str, Any] = {
        "viewCount": "123456",
        "videoCount": str(videos),
        "hiddenSubscriberCount": hidden,
    }
    if subs is not None:
        stats["subscriberCount"] = subs
    return {
        "kind": "youtube#channel",
        "etag": "x",
        "id": cid,
        "snippet": {
            "title": handle.title(),
            "description": f"The channel of {handle} #baking",
            "customUrl": f"@{handle}",
            "publishedAt": "2015-03-01T10:00:00Z",
            "country": "GB",
        },
        "contentDetails": {"relatedPlaylists": {"likes": "", "uploads": "UU" + cid[2:]}},
        "statistics": stats,
        "topicDetails": {"topicCategories": ["https://en.wikipedia.org/wiki/Food"]},
        "brandingSettings": {"channel": {"title": handle.title(), "keywords": "baking bread"}},
    }


def video(vid: str, likes: str | None = "40", comments: str | None = "5") -> dict[str, Any]:
    stats: dict[str, Any] = {"viewCount": "1000", "favoriteCount": "0"}
    if likes is not None:
        stats["likeCount"] = likes
    if comments is not None:
        stats["commentCount"] = comments
    return {
        "kind": "youtube#video",
        "id": vid,
        "snippet": {
            "publishedAt": "2026-11-01T12:00:00Z",
            "channelId": "x",
            "title": f"Video {vid}",
            "description": "Sourdough with @friend #bread",
        },
        "statistics": stats,
    }


def ig_account(username: str, followers: int, media: int = 2) -> dict[str, Any]:
    return {
        "username": username,
        "name": username.title(),
        "followers_count": followers,
        "follows_count": 310,
        "media_count": 57,
        "biography": "Plants and pots",
        "website": "https://example.com/",
        "id": str(9000 + followers % 997),
        "media": {
            "data": [
                {
                    "id": f"{username}-m{i}",
                    "like_count": 100 + i,
                    "comments_count": 4,
                    "caption": f"Post {i} #plants @pal",
                    "timestamp": f"2026-11-0{i + 1}T08:00:00+0000",
                    "media_type": "CAROUSEL_ALBUM" if i == 0 else "VIDEO",
                    "media_product_type": "FEED" if i == 0 else "REELS",
                    "permalink": f"https://www.instagram.com/p/{username}{i}/",
                }
                for i in range(media)
            ],
            "paging": {"cursors": {"after": "QVFI"}},
        },
    }


QUOTA_EXCEEDED = {
    "error": {
        "code": 403,
        "message": "The request cannot be completed because you have exceeded your quota.",
        "errors": [
            {
                "message": "The request cannot be completed because you have exceeded your quota.",
                "domain": "youtube.quota",
                "reason": "quotaExceeded",
            }
        ],
    }
}
KEY_INVALID = {
    "error": {
        "code": 400,
        "message": "API key not valid. Please pass a valid API key.",
        "errors": [
            {
                "message": "API key not valid. Please pass a valid API key.",
                "domain": "global",
                "reason": "badRequest",
            }
        ],
        "status": "INVALID_ARGUMENT",
    }
}


def graph_error(code: int, message: str, subcode: int | None = None) -> dict[str, Any]:
    error: dict[str, Any] = {
        "message": message,
        "type": "OAuthException",
        "code": code,
        "fbtrace_id": "AbCdEf",
    }
    if subcode is not None:
        error["error_subcode"] = subcode
        error["is_transient"] = False
        error["error_user_title"] = "Cannot find User"
        error["error_user_msg"] = "The user cannot be found."
    return {"error": error}


@dataclass
class Platforms:
    """What the stand-in knows and what it is told to do next."""

    channels: dict[str, dict[str, Any]] = field(default_factory=dict)
    uploads: dict[str, list[str]] = field(default_factory=dict)
    videos: dict[str, dict[str, Any]] = field(default_factory=dict)
    search: dict[str, list[str]] = field(default_factory=dict)
    ig_accounts: dict[str, dict[str, Any]] = field(default_factory=dict)
    # (path prefix, status, body, headers) answered, in order, before anything else matches
    script: list[tuple[str, int, Any, dict[str, str]]] = field(default_factory=list)
    usage_headers: dict[str, str] = field(default_factory=dict)
    requests: list[tuple[str, dict[str, str], dict[str, str]]] = field(default_factory=list)
    token_revoked: bool = False
    lock: threading.Lock = field(default_factory=threading.Lock)

    def calls(self, prefix: str) -> list[dict[str, str]]:
        return [params for path, params, _h in self.requests if path.startswith(prefix)]


def _youtube(p: Platforms, path: str, q: dict[str, str], headers) -> tuple[int, Any]:
    if headers.get("x-goog-api-key") != API_KEY:
        return 400, KEY_INVALID
    if path == "/youtube/v3/channels":
        if "id" in q:
            items = [p.channels[i] for i in q["id"].split(",") if i in p.channels]
        else:
            wanted = q.get("forHandle", q.get("forUsername", "")).lstrip("@").lower()
            items = [
                c
                for c in p.channels.values()
                if c["snippet"]["customUrl"].lstrip("@").lower() == wanted
            ]
        body: dict[str, Any] = {
            "kind": "youtube#channelListResponse",
            "etag": "e",
            "pageInfo": {"totalResults": len(items), "resultsPerPage": 5},
        }
        if items:  # no match: Google leaves "items" out
            body["items"] = items
        return 200, body
    if path == "/youtube/v3/playlistItems":
        ids = p.uploads.get(q["playlistId"], [])
        size = int(q.get("maxResults", 5))
        start = int(q.get("pageToken", "0") or 0)
        page = ids[start : start + size]
        body = {
            "kind": "youtube#playlistItemListResponse",
            "items": [
                {
                    "kind": "youtube#playlistItem",
                    "id": f"pi{v}",
                    "contentDetails": {"videoId": v, "videoPublishedAt": "2026-11-01T12:00:00Z"},
                }
                for v in page
            ],
            "pageInfo": {"totalResults": len(ids), "resultsPerPage": size},
        }
        if start + size < len(ids):
            body["nextPageToken"] = str(start + size)
        return 200, body
    if path == "/youtube/v3/videos":
        items = [p.videos[v] for v in q["id"].split(",") if v in p.videos]
        return 200, {
            "kind": "youtube#videoListResponse",
            "items": items,
            "pageInfo": {"totalResults": len(items), "resultsPerPage": len(items)},
        }
    if path == "/youtube/v3/search":
        found = p.search.get(q.get("q", ""), [])
        return 200, {
            "kind": "youtube#searchListResponse",
            "items": [
                {"kind": "youtube#searchResult", "id": {"kind": "youtube#channel", "channelId": c}}
                for c in found
            ],
            "pageInfo": {"totalResults": len(found), "resultsPerPage": 50},
        }
    return 404, {"error": {"code": 404, "message": "Not Found", "errors": []}}


_DISCOVERY = re.compile(r"business_discovery\.username\(([^)]*)\)")


def _graph(p: Platforms, path: str, q: dict[str, str], headers) -> tuple[int, Any]:
    auth = headers.get("authorization", "")
    if p.token_revoked or auth != f"Bearer {TOKEN}":
        return 400, graph_error(
            190, "Error validating access token: Session has expired on Thursday, 26-Nov-26."
        )
    if path != f"/v21.0/{IG_USER}":
        return 400, graph_error(100, "Unsupported get request.")
    match = _DISCOVERY.search(q.get("fields", ""))
    if not match:
        return 400, graph_error(100, "(#100) Missing fields")
    found = p.ig_accounts.get(match.group(1).lower())
    if found is None:  # personal, private or missing: Meta's documented answer
        return 400, graph_error(110, "Invalid user id", 2207013)
    return 200, {"business_discovery": found, "id": IG_USER}


class _Handler(BaseHTTPRequestHandler):
    platforms: Platforms

    def log_message(self, *_args: Any) -> None:
        pass

    def do_GET(self) -> None:  # noqa: N802 - http.server's name
        url = urlsplit(self.path)
        query = {k: v[-1] for k, v in parse_qs(url.query).items()}
        headers = {k.lower(): v for k, v in self.headers.items()}
        p = self.platforms
        with p.lock:
            p.requests.append((url.path, query, headers))
            scripted = next((s for s in p.script if url.path.startswith(s[0])), None)
            if scripted is not None:
                p.script.remove(scripted)
        extra: dict[str, str] = {}
        if scripted is not None:
            _prefix, status, body, extra = scripted
        elif url.path.startswith("/youtube/"):
            status, body = _youtube(p, url.path, query, headers)
        else:
            status, body = _graph(p, url.path, query, headers)
            extra = dict(p.usage_headers)
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json; charset=UTF-8")
        self.send_header("Content-Length", str(len(data)))
        for name, value in extra.items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(data)


@contextmanager
def platform_server(platforms: Platforms) -> Iterator[str]:
    """Serve ``platforms`` on 127.0.0.1; yields the base URL."""
    handler = type("Handler", (_Handler,), {"platforms": platforms})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def point_at(monkeypatch: Any, base: str) -> None:
    """Settings that send the connectors to the stand-in, with no waiting between retries."""
    monkeypatch.setenv("MICROFLUENCE_YOUTUBE_API_URL", f"{base}/youtube/v3")
    monkeypatch.setenv("MICROFLUENCE_GRAPH_API_URL", f"{base}/v21.0")
    monkeypatch.setenv("MICROFLUENCE_CONNECTOR_BACKOFF", "0")
    monkeypatch.setenv("MICROFLUENCE_CONNECTOR_RETRIES", "2")
    monkeypatch.setenv("MICROFLUENCE_YOUTUBE_RECENT_VIDEOS", "3")


def sample_platforms() -> Platforms:
    """Three channels (one hiding its subscribers), videos with one deleted; two Instagram
    business accounts."""
    p = Platforms()
    ids = {"bakerann": "UC" + "a" * 22, "breadbob": "UC" + "b" * 22, "quietcat": "UC" + "c" * 22}
    for n, (handle, cid) in enumerate(ids.items()):
        p.channels[cid] = channel(
            cid, handle, None if n == 2 else str(1000 * (n + 1)), 4, hidden=n == 2
        )
        vids = [f"{handle[:3]}v{i}" for i in range(3)]
        p.uploads["UU" + cid[2:]] = vids
        for v in vids:
            p.videos[v] = video(v, likes=None if v.endswith("2") else "40")
    del p.videos["bakv1"]  # deleted: still in the uploads playlist
    p.search["sourdough"] = [ids["bakerann"], ids["breadbob"]]
    p.ig_accounts["plantpia"] = ig_account("plantpia", 5400)
    p.ig_accounts["potpete"] = ig_account("potpete", 12000, media=1)
    return p
