"""Reading Instagram's JSON shapes into flat records: posts, their owners, comments, profiles.

The shapes (see docs/importing.md, "Instagram JSON"):

* a post object as Instagram's web GraphQL returned it (``shortcode``, ``owner``,
  ``taken_at_timestamp``, ``edge_media_preview_like`` …), alone, in a list, or as GraphQL
  edges (``{"node": {...}}``);
* instaloader's files: ``{"node": {...}, "instaloader": {"node_type": "Post"|"Profile"|…}}``,
  and its ``*_comments.json`` lists;
* GraphQL responses around them: ``{"data": {"shortcode_media": …}}``,
  ``{"graphql": {"user": …}}`` with ``edge_owner_to_timeline_media``;
* the mobile API's ``items`` (``code``, ``pk``, ``taken_at``, ``like_count`` …) where they share
  the meaning.

Values that are merely absent or null become NULL, as do counts given as an unknown marker
(``"N/A"``, ``"#N/A"``, ``"NaN"`` …, the rule of every importer). A value of the wrong type (a
count given as other text, an object where a list belongs) is an error naming the file and the
JSON path, because it means the file is not what it claims to be.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from base64 import urlsafe_b64decode, urlsafe_b64encode
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from microfluence.catalog.validation import check_handle, naive_utc
from microfluence.ingest.values.numbers import is_unknown_text
from microfluence.kernel.errors import InputError

MAX_COUNT = 2**63 - 1  # BIGINT
MAX_ALT_TEXT = 5_000  # characters of a post's image descriptions kept
# Epoch seconds accepted as a time: Instagram launched in 2010; the bound only catches garbage.
MIN_EPOCH = 946_684_800  # 2000-01-01
MAX_EPOCH = 4_102_444_800  # 2100-01-01
# Keys some scrapers put beside the data to say when they fetched it.
SCRAPE_TIME_KEYS = ("scraped_at", "_scraped_at", "fetched_at", "crawled_at", "collected_at")

TYPENAMES = {
    "GraphImage": "image",
    "GraphSidecar": "carousel",
    "GraphVideo": "video",
    "GraphStoryImage": "story",
    "GraphStoryVideo": "story",
}
# Connections of posts in GraphQL responses (profile timelines, hashtag and location pages).
POST_CONNECTIONS = (
    "edge_owner_to_timeline_media",
    "xdt_api__v1__feed__user_timeline_graphql_connection",
    "edge_hashtag_to_media",
    "edge_hashtag_to_top_posts",
    "edge_location_to_media",
)
MEDIA_TYPES = {1: "image", 2: "video", 8: "carousel"}  # the mobile API's media_type
_SHORTCODE_ALPHABET = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")


@dataclass
class OwnerRecord:
    handle: str | None
    external_id: str | None = None
    display_name: str | None = None
    bio: str | None = None
    is_verified: bool | None = None
    is_private: bool | None = None
    is_business: bool | None = None
    email: str | None = None
    followers: int | None = None
    following: int | None = None
    posts_count: int | None = None

    @property
    def has_counts(self) -> bool:
        return any(v is not None for v in (self.followers, self.following, self.posts_count))


@dataclass
class CommentRecord:
    comment_key: str
    parent_key: str | None
    text: str | None
    author_handle: str | None
    author_is_verified: bool | None
    posted_at: dt.datetime | None
    likes: int | None


@dataclass
class PostRecord:
    where: str  # JSON path of the post in its file
    owner: OwnerRecord
    platform_post_id: str
    shortcode: str | None
    post_type: str | None
    posted_at: dt.datetime | None
    caption: str | None
    likes: int | None
    comments: int | None
    views: int | None
    location: str | None
    sponsor_handles: list[str]
    paid_partnership: bool | None
    is_ad: bool | None
    sponsor_info: bool  # the object says whether it is a paid partnership
    tagged_handles: list[str] | None
    alt_text: str | None = None
    comment_rows: list[CommentRecord] = field(default_factory=list)
    file: str = ""

    @property
    def url(self) -> str | None:
        # Stories have no permanent page; a media id's shortcode would point nowhere.
        if not self.shortcode or self.post_type == "story":
            return None
        return f"https://www.instagram.com/p/{self.shortcode}/"


@dataclass
class ProfileRecord:
    where: str
    owner: OwnerRecord


@dataclass
class Document:
    """What one file holds: posts, profiles, and the scrape time if the file states it."""

    posts: list[PostRecord] = field(default_factory=list)
    profiles: list[ProfileRecord] = field(default_factory=list)
    scraped_at: dt.datetime | None = None
    # Items that could not be read, with the error (kept only when skipping invalid items).
    errors: list[InputError] = field(default_factory=list)


def shortcode_to_id(shortcode: str) -> str | None:
    """Instagram's media id is its shortcode read as URL-safe base64 (as instaloader does)."""
    if not 0 < len(shortcode) <= 11 or not set(shortcode) <= _SHORTCODE_ALPHABET:
        return None
    padded = "A" * (12 - len(shortcode)) + shortcode
    return str(int.from_bytes(urlsafe_b64decode(padded), "big"))


def id_to_shortcode(media_id: str) -> str | None:
    if not media_id.isdigit() or int(media_id) >= 2**64:
        return None
    code = urlsafe_b64encode(int(media_id).to_bytes(9, "big")).decode()
    return code.lstrip("A") or "A"


def _kind(value: Any) -> str:
    if value is None:
        return "null"
    return {
        bool: "a boolean",
        int: "a number",
        float: "a number",
        str: "text",
        list: "a list",
        dict: "an object",
    }.get(type(value), type(value).__name__)


class Reader:
    """Typed access to one file's JSON, every error naming the file and the JSON path."""

    def __init__(self, file: str) -> None:
        self.file = file

    def fail(self, where: str, message: str, value: Any = None) -> InputError:
        return InputError(message, file=self.file, field=where, value=value)

    # -- typed values ----------------------------------------------------------------------
    def obj(self, node: dict[str, Any], key: str, where: str) -> dict[str, Any] | None:
        value = node.get(key)
        if value is None or isinstance(value, dict):
            return value
        raise self.fail(f"{where}.{key}", f"expected an object, got {_kind(value)}")

    def edges(self, node: dict[str, Any], key: str, where: str) -> list[tuple[str, Any]]:
        """The nodes of a GraphQL connection ``{key: {"edges": [{"node": …}]}}``."""
        conn = self.obj(node, key, where)
        if conn is None:
            return []
        edges = conn.get("edges")
        if edges is None:
            return []
        path = f"{where}.{key}.edges"
        if not isinstance(edges, list):
            raise self.fail(path, f"expected a list, got {_kind(edges)}")
        out = []
        for i, edge in enumerate(edges):
            if not isinstance(edge, dict):
                raise self.fail(f"{path}[{i}]", f"expected an object, got {_kind(edge)}")
            node_value = edge.get("node")
            if not isinstance(node_value, dict):
                raise self.fail(f"{path}[{i}].node", f"expected an object, got {_kind(node_value)}")
            out.append((f"{path}[{i}].node", node_value))
        return out

    def connection_count(self, node: dict[str, Any], key: str, where: str) -> int | None:
        conn = self.obj(node, key, where)
        return None if conn is None else self.count(conn, "count", f"{where}.{key}")

    def text(self, node: dict[str, Any], key: str, where: str) -> str | None:
        value = node.get(key)
        if value is None or isinstance(value, str):
            return value.replace("\x00", "") if value else value
        raise self.fail(f"{where}.{key}", f"expected text, got {_kind(value)}", value)

    def ident(self, node: dict[str, Any], key: str, where: str) -> str | None:
        """An id: Instagram writes them as text, some tools as numbers."""
        value = node.get(key)
        if value is None or value == "":
            return None
        if isinstance(value, bool) or not isinstance(value, str | int):
            raise self.fail(f"{where}.{key}", f"expected an id, got {_kind(value)}", value)
        text = str(value).strip()
        if "\x00" in text:
            raise self.fail(f"{where}.{key}", "an id cannot hold a NUL character")
        if len(text) > 100:
            raise self.fail(f"{where}.{key}", "id longer than 100 characters", text[:40])
        return text or None

    def flag(self, node: dict[str, Any], key: str, where: str) -> bool | None:
        value = node.get(key)
        if value is None or isinstance(value, bool):
            return value
        raise self.fail(f"{where}.{key}", f"expected true or false, got {_kind(value)}", value)

    def count(self, node: dict[str, Any], key: str, where: str) -> int | None:
        """A count: absent, null, -1 (Instagram's "hidden"), NaN or an unknown marker as text
        (``"N/A"``, ``"#N/A"``, ``"-"`` … — :func:`values.numbers.is_unknown_text`, the rule of
        every importer) is unknown; any other text is an error."""
        value = node.get(key)
        path = f"{where}.{key}"
        if value is None or (isinstance(value, str) and is_unknown_text(value)):
            return None
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise self.fail(path, f"expected a count, got {_kind(value)}", value)
        if isinstance(value, float):
            if value != value:
                return None
            if value in (float("inf"), float("-inf")):
                raise self.fail(path, "expected a count, got a non-finite number", value)
            if not value.is_integer():
                raise self.fail(path, f"expected a whole number, got {value}", value)
        if value == -1:
            return None
        if value < 0:
            raise self.fail(path, f"a count cannot be negative ({value:.0f})", value)
        if value > MAX_COUNT:
            raise self.fail(path, "count too large (more than 2^63 - 1)", value)
        return int(value)

    def epoch(self, node: dict[str, Any], key: str, where: str) -> dt.datetime | None:
        value = node.get(key)
        path = f"{where}.{key}"
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise self.fail(path, f"expected a Unix time in seconds, got {_kind(value)}", value)
        if not MIN_EPOCH <= value < MAX_EPOCH:
            raise self.fail(path, f"time out of range (Unix time {value})", value)
        return dt.datetime.fromtimestamp(value, dt.UTC).replace(tzinfo=None, microsecond=0)

    def when(self, node: dict[str, Any], key: str, where: str) -> dt.datetime | None:
        """A time given as Unix seconds or ISO 8601 text (scrape times), in naive UTC."""
        value = node.get(key)
        if isinstance(value, str):
            try:
                parsed = dt.datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
            except ValueError as exc:
                raise self.fail(f"{where}.{key}", "expected an ISO 8601 time", value) from exc
            try:
                return naive_utc(parsed)
            except InputError as exc:
                raise self.fail(f"{where}.{key}", "time out of range in UTC", value) from exc
        return self.epoch(node, key, where)

    # -- owners and profiles ----------------------------------------------------------------
    def owner(self, node: dict[str, Any], where: str) -> OwnerRecord:
        handle = self.text(node, "username", where)
        if handle is not None:  # the one handle rule of every way in (catalog.validation)
            raw, (handle, reason) = handle, check_handle(handle)
            if reason is not None:
                raise self.fail(f"{where}.username", f"not a username: {reason}", raw[:60])
        email = self.text(node, "business_email", where) or self.text(node, "public_email", where)
        followers = self.connection_count(node, "edge_followed_by", where)
        following = self.connection_count(node, "edge_follow", where)
        posts_count = self.connection_count(node, "edge_owner_to_timeline_media", where)
        return OwnerRecord(
            handle=handle,
            external_id=self.ident(node, "id", where) or self.ident(node, "pk", where),
            display_name=(self.text(node, "full_name", where) or "")[:300] or None,
            bio=self.text(node, "biography", where),
            is_verified=self.flag(node, "is_verified", where),
            is_private=self.flag(node, "is_private", where),
            is_business=self.flag(node, "is_business_account", where),
            email=email[:320] if email else None,
            followers=followers
            if followers is not None
            else self.count(node, "follower_count", where),
            following=following
            if following is not None
            else self.count(node, "following_count", where),
            posts_count=posts_count
            if posts_count is not None
            else self.count(node, "media_count", where),
        )

    # -- posts -----------------------------------------------------------------------------
    def post(
        self,
        node: dict[str, Any],
        where: str,
        *,
        parent_owner: OwnerRecord | None = None,
        story: bool = False,
    ) -> PostRecord:
        owner = self._post_owner(node, where, parent_owner)
        media_id, shortcode = self._post_ids(node, where)
        caption = self._caption(node, where)
        likes_hidden = self.flag(node, "like_and_view_counts_disabled", where)
        likes = self._likes(node, where)
        comments = self._comment_count(node, where)
        post_type = "story" if story else self._post_type(node, where)
        views = self._views(node, where, post_type)
        if likes_hidden:
            likes = views = None
        location = self._location(node, where)
        sponsors = self._sponsors(node, where)
        paid = self.flag(node, "is_paid_partnership", where)
        tagged = self._tagged(node, where)
        record = PostRecord(
            where=where,
            owner=owner,
            platform_post_id=media_id,
            shortcode=shortcode,
            post_type=post_type,
            posted_at=self.epoch(node, "taken_at_timestamp", where)
            or self.epoch(node, "date", where)
            or self.epoch(node, "taken_at", where),
            caption=caption,
            likes=likes,
            comments=comments,
            views=views,
            location=location[:300] if location else None,
            sponsor_handles=list(dict.fromkeys(sponsors)),
            paid_partnership=paid,
            is_ad=self.flag(node, "is_ad", where),
            sponsor_info="edge_media_to_sponsor_user" in node or paid is not None,
            tagged_handles=tagged,
            alt_text=self._alt_text(node, where),
            file=self.file,
        )
        record.comment_rows = self._comments(node, where)
        return record

    def _post_owner(
        self, node: dict[str, Any], where: str, parent_owner: OwnerRecord | None
    ) -> OwnerRecord:
        """The post's ``owner`` (or the mobile API's ``user``), else the profile it is in."""
        owner_key = "owner" if "owner" in node else "user" if "user" in node else None
        owner_node = node[owner_key] if owner_key else None
        if owner_key and owner_node is None and parent_owner is None:
            raise self.fail(f"{where}.{owner_key}", "the post's owner is null")
        if owner_node is not None:
            if not isinstance(owner_node, dict):
                raise self.fail(
                    f"{where}.{owner_key}", f"expected an object, got {_kind(owner_node)}"
                )
            owner = self.owner(owner_node, f"{where}.{owner_key}")
            if parent_owner is not None and owner.handle is None:
                owner.handle = parent_owner.handle
        elif parent_owner is not None:
            owner = OwnerRecord(handle=parent_owner.handle, external_id=parent_owner.external_id)
        else:
            raise self.fail(f"{where}.owner", "the post has no owner")
        if owner.handle is None and owner.external_id is None:
            raise self.fail(f"{where}.owner", "the owner has neither a username nor an id")
        return owner

    def _post_ids(self, node: dict[str, Any], where: str) -> tuple[str, str | None]:
        """(media id, shortcode): each derived from the other when only one is given."""
        shortcode = self.text(node, "shortcode", where) or self.text(node, "code", where)
        media_id = self.ident(node, "id", where) or self.ident(node, "pk", where)
        if media_id and "_" in media_id:
            media_id = media_id.split("_", 1)[0]  # the mobile API's "<media id>_<owner id>"
        if shortcode is not None and (len(shortcode) > 100 or any(c.isspace() for c in shortcode)):
            raise self.fail(f"{where}.shortcode", "not a shortcode", shortcode[:40])
        if media_id is None and shortcode:
            media_id = shortcode_to_id(shortcode) or shortcode
        if media_id is None:
            raise self.fail(where, "a post needs an 'id' or a 'shortcode'")
        if shortcode is None:
            shortcode = id_to_shortcode(media_id)
        return media_id, shortcode

    def _likes(self, node: dict[str, Any], where: str) -> int | None:
        likes = self.connection_count(node, "edge_media_preview_like", where)
        if likes is None:
            likes = self.connection_count(node, "edge_liked_by", where)
        if likes is None:
            likes = self.count(node, "like_count", where)
        return likes

    def _comment_count(self, node: dict[str, Any], where: str) -> int | None:
        for key in (
            "edge_media_to_comment",
            "edge_media_to_parent_comment",
            "edge_media_preview_comment",
        ):
            comments = self.connection_count(node, key, where)
            if comments is not None:
                return comments
        return self.count(node, "comment_count", where)

    def _location(self, node: dict[str, Any], where: str) -> str | None:
        loc = node.get("location")
        if isinstance(loc, str):
            return loc.strip() or None
        if loc is None:
            return None
        loc_node = self.obj(node, "location", where)
        assert loc_node is not None
        return self.text(loc_node, "name", f"{where}.location")

    def _alt_text(self, node: dict[str, Any], where: str) -> str | None:
        """The image's description: ``accessibility_caption`` (web GraphQL, instaloader, the
        mobile API) or ``alt_text`` (the Graph API), and a carousel's slides' own, joined;
        at most ``MAX_ALT_TEXT`` characters."""
        texts = [
            self.text(node, "accessibility_caption", where),
            self.text(node, "alt_text", where),
        ]
        for path, child in self.edges(node, "edge_sidecar_to_children", where):
            texts.append(self.text(child, "accessibility_caption", path))
        for i, child in enumerate(node.get("carousel_media") or []):  # the mobile API
            if isinstance(child, dict):
                texts.append(
                    self.text(child, "accessibility_caption", f"{where}.carousel_media[{i}]")
                )
        kept = list(dict.fromkeys(t.strip() for t in texts if t and t.strip()))
        return "\n".join(kept)[:MAX_ALT_TEXT] or None

    def _sponsors(self, node: dict[str, Any], where: str) -> list[str]:
        """Sponsors of a paid partnership (web and mobile API shapes)."""
        sponsors = []
        for path, edge in self.edges(node, "edge_media_to_sponsor_user", where):
            sponsor = self.obj(edge, "sponsor", path)
            if sponsor is not None:
                handle = self.text(sponsor, "username", f"{path}.sponsor")
                if handle:
                    sponsors.append(handle.strip().lstrip("@").lower())
        for i, partner in enumerate(node.get("sponsor_tags") or []):  # mobile API
            if isinstance(partner, dict) and isinstance(partner.get("sponsor"), dict):
                handle = self.text(
                    partner["sponsor"], "username", f"{where}.sponsor_tags[{i}].sponsor"
                )
                if handle:
                    sponsors.append(handle.strip().lstrip("@").lower())
        return sponsors

    def _tagged(self, node: dict[str, Any], where: str) -> list[str] | None:
        """Users tagged in the picture (None when the object does not say)."""
        if "edge_media_to_tagged_user" not in node:
            return None
        tagged = []
        for path, edge in self.edges(node, "edge_media_to_tagged_user", where):
            user = self.obj(edge, "user", path)
            if user is not None:
                handle = self.text(user, "username", f"{path}.user")
                if handle:
                    tagged.append(handle.strip().lstrip("@").lower())
        return list(dict.fromkeys(tagged))

    def _caption(self, node: dict[str, Any], where: str) -> str | None:
        if node.get("edge_media_to_caption") is not None:
            edges = self.edges(node, "edge_media_to_caption", where)
            if edges:
                path, first = edges[0]
                return self.text(first, "text", path)
            return ""  # an empty connection: the post has no caption
        value = node.get("caption")
        if isinstance(value, dict):  # the mobile API: {"text": …}
            return self.text(value, "text", f"{where}.caption")
        return self.text(node, "caption", where)

    def _post_type(self, node: dict[str, Any], where: str) -> str | None:
        product = self.text(node, "product_type", where)
        if product == "clips":
            return "reel"
        if product == "igtv":
            return "video"
        typename = self.text(node, "__typename", where)
        if typename:
            typename = typename.removeprefix("XDT")  # newer web responses prefix the type
            if typename in TYPENAMES:
                return TYPENAMES[typename]
        media_type = node.get("media_type")
        if isinstance(media_type, int) and media_type in MEDIA_TYPES:
            return MEDIA_TYPES[media_type]
        is_video = self.flag(node, "is_video", where)
        if is_video is not None:
            return "video" if is_video else "image"
        return None

    def _views(self, node: dict[str, Any], where: str, post_type: str | None) -> int | None:
        views = self.count(node, "video_view_count", where)
        plays = self.count(node, "video_play_count", where)
        if views is None:
            views = self.count(node, "view_count", where)
        if plays is None:
            plays = self.count(node, "play_count", where)
        # A reel's public number is its plays; older videos only have views.
        if post_type == "reel":
            return plays if plays is not None else views
        return views if views is not None else plays

    def _comments(self, node: dict[str, Any], where: str) -> list[CommentRecord]:
        rows: dict[str, CommentRecord] = {}
        for key in (
            "edge_media_to_parent_comment",
            "edge_media_to_comment",
            "edge_media_preview_comment",
        ):
            for path, comment in self.edges(node, key, where):
                parent = self.comment(comment, path, None)
                if parent is None:
                    continue
                rows.setdefault(parent.comment_key, parent)
                for reply_path, reply in self.edges(comment, "edge_threaded_comments", path):
                    answer = self.comment(reply, reply_path, parent.comment_key)
                    if answer is not None:
                        rows.setdefault(answer.comment_key, answer)
        return list(rows.values())

    def comment(
        self, node: dict[str, Any], where: str, parent_key: str | None
    ) -> CommentRecord | None:
        """One comment (GraphQL node, or instaloader's ``_comments.json`` entry)."""
        text = self.text(node, "text", where)
        owner = self.obj(node, "owner", where)
        author = verified = None
        if owner is not None:
            author = self.text(owner, "username", f"{where}.owner")
            author = author.strip().lstrip("@").lower() if author else None
            verified = self.flag(owner, "is_verified", f"{where}.owner")
        posted_at = self.epoch(node, "created_at", where)
        likes = self.connection_count(node, "edge_liked_by", where)
        if likes is None:
            likes = self.count(node, "likes_count", where)
        key = self.ident(node, "id", where)
        if key is None:
            if text is None:
                return None  # nothing to keep
            digest = hashlib.sha1(
                f"{author}\x1f{posted_at}\x1f{text}".encode(), usedforsecurity=False
            ).hexdigest()
            key = f"sha1:{digest}"
        return CommentRecord(
            comment_key=key,
            parent_key=parent_key,
            text=text,
            author_handle=author[:200] if author else None,
            author_is_verified=verified,
            posted_at=posted_at,
            likes=likes,
        )

    def comment_list(self, data: Any, start: int = 0) -> list[CommentRecord]:
        """instaloader's ``<post>_comments.json``: a list of comments with their ``answers``
        (or a part of it, its first element at index ``start``)."""
        if not isinstance(data, list):
            raise self.fail("$", f"expected a list of comments, got {_kind(data)}")
        rows: dict[str, CommentRecord] = {}
        for i, item in enumerate(data, start=start):
            path = f"$[{i}]"
            if not isinstance(item, dict):
                raise self.fail(path, f"expected an object, got {_kind(item)}")
            parent = self.comment(item, path, None)
            if parent is None:
                continue
            rows.setdefault(parent.comment_key, parent)
            answers = item.get("answers") or []
            if not isinstance(answers, list):
                raise self.fail(f"{path}.answers", f"expected a list, got {_kind(answers)}")
            for j, answer in enumerate(answers):
                if not isinstance(answer, dict):
                    raise self.fail(
                        f"{path}.answers[{j}]", f"expected an object, got {_kind(answer)}"
                    )
                row = self.comment(answer, f"{path}.answers[{j}]", parent.comment_key)
                if row is not None:
                    rows.setdefault(row.comment_key, row)
        return list(rows.values())

    # -- documents -------------------------------------------------------------------------
    def scrape_time(self, data: Any) -> dt.datetime | None:
        """When the file says it was fetched (a top-level ``scraped_at`` …), if it does."""
        if isinstance(data, dict):
            for key in SCRAPE_TIME_KEYS:
                if data.get(key) is not None:
                    return self.when(data, key, "$")
        return None

    def records(
        self, data: Any, where: str = "$", *, element: bool = False
    ) -> Iterator[PostRecord | ProfileRecord | InputError]:
        """Every post and profile of a document — or, with ``element``, of one element of a
        list read element by element — in order, as they are read. An item that cannot be read
        comes as its :class:`InputError` instead, for the caller to raise or set aside; an error
        in the document's own structure raises."""
        items = self.element_items(data, where) if element else self._items(data, where)
        for kind, path, node, extra in items:
            try:
                if kind == "invalid":
                    raise node
                if kind == "post":
                    yield self.post(node, path, **extra)
                else:
                    yield from self._profile(node, path)
            except InputError as exc:
                yield exc

    def _profile(self, node: dict[str, Any], where: str) -> Iterator[PostRecord | ProfileRecord]:
        owner = self.owner(node, where)
        if owner.handle is None:
            raise self.fail(f"{where}.username", "a profile needs a username")
        yield ProfileRecord(where=where, owner=owner)
        for path, post in self.edges(node, "edge_owner_to_timeline_media", where):
            yield self.post(post, path, parent_owner=owner)

    def document(self, data: Any, *, keep_going: bool) -> Document:
        """Every post and profile in a file; with ``keep_going`` bad items are set aside.

        Holds them all: for files of a known small size (the importer streams
        :meth:`records` instead)."""
        doc = Document(scraped_at=self.scrape_time(data))
        for item in self.records(data):
            if isinstance(item, InputError):
                if not keep_going:
                    raise item
                doc.errors.append(item)
            elif isinstance(item, PostRecord):
                doc.posts.append(item)
            else:
                doc.profiles.append(item)
        return doc

    def element_items(self, element: Any, path: str) -> Iterator[tuple[str, str, Any, dict]]:
        """The items of one list element; a bad element spoils only itself."""
        try:
            if not isinstance(element, dict):
                raise self.fail(path, f"expected a post object, got {_kind(element)}")
            found = list(self._items(element, path))
        except InputError as exc:
            # The caller decides whether to go on.
            yield ("invalid", path, exc, {})
            return
        yield from found

    def _items(self, data: Any, where: str) -> Iterator[tuple[str, str, Any, dict]]:
        """(kind, JSON path, node, options) of each post or profile in ``data``."""
        if isinstance(data, list):
            for i, element in enumerate(data):
                yield from self.element_items(element, f"{where}[{i}]")
            return
        if not isinstance(data, dict):
            raise self.fail(where, f"expected an object, got {_kind(data)}")
        wrapper = data.get("instaloader")
        if isinstance(wrapper, dict) and "node" in data:
            yield from self._instaloader_items(data, wrapper, where)
        else:
            yield from self._object_items(data, where)

    def _instaloader_items(
        self, data: dict[str, Any], wrapper: dict[str, Any], where: str
    ) -> Iterator[tuple[str, str, Any, dict]]:
        """instaloader's ``{"node": …, "instaloader": {"node_type": …}}``."""
        node_type = wrapper.get("node_type")
        node = data["node"]
        path = f"{where}.node"
        if node_type in ("Hashtag", "FrozenNodeIterator"):
            return  # instaloader's hashtag metadata and resume files hold no posts
        if not isinstance(node, dict):
            raise self.fail(path, f"expected an object, got {_kind(node)}")
        if node_type == "Profile":
            yield ("profile", path, node, {})
        elif node_type in ("Post", "StoryItem"):
            yield ("post", path, node, {"story": node_type == "StoryItem"})
        elif node_type is None:
            yield from self._items(node, path)
        else:
            raise self.fail(f"{where}.instaloader.node_type", f"unknown node type {node_type!r}")

    def _object_items(
        self, data: dict[str, Any], where: str
    ) -> Iterator[tuple[str, str, Any, dict]]:
        """An object: a GraphQL envelope, a post, a profile, or a connection of posts."""
        for envelope in ("data", "graphql"):
            inner = data.get(envelope)
            if isinstance(inner, dict) and not ({"shortcode", "code", "username"} & data.keys()):
                yield from self._items(inner, f"{where}.{envelope}")
                return
        for key in ("shortcode_media", "xdt_shortcode_media", "media"):
            inner = data.get(key)
            if isinstance(inner, dict) and not ({"shortcode", "code"} & data.keys()):
                yield ("post", f"{where}.{key}", inner, {})
                return
        if "shortcode" in data or "code" in data or "taken_at_timestamp" in data:
            yield ("post", where, data, {})
        elif isinstance(data.get("user"), dict) and "username" not in data:
            yield from self._items(data["user"], f"{where}.user")
        elif "username" in data:
            yield ("profile", where, data, {})
        else:
            yield from self._container_items(data, where)

    def _container_items(
        self, data: dict[str, Any], where: str
    ) -> Iterator[tuple[str, str, Any, dict]]:
        """An object that only holds posts: a connection, ``edges``, ``items`` or a ``node``."""
        connection = next((k for k in POST_CONNECTIONS if isinstance(data.get(k), dict)), None)
        if connection:
            # A posts query's response: {"user": {"edge_owner_to_timeline_media": {"edges": …}}}
            yield from self._items(data[connection], f"{where}.{connection}")
        elif "edges" in data:
            edges = data["edges"]
            if not isinstance(edges, list):
                raise self.fail(f"{where}.edges", f"expected a list, got {_kind(edges)}")
            yield from self._items(edges, f"{where}.edges")
        elif "items" in data and isinstance(data["items"], list):
            yield from self._items(data["items"], f"{where}.items")
        elif isinstance(data.get("node"), dict):
            yield from self._items(data["node"], f"{where}.node")
        elif "node" in data:
            raise self.fail(f"{where}.node", f"expected an object, got {_kind(data['node'])}")
        else:
            raise self.fail(
                where, "not an Instagram post or profile (no 'shortcode', 'code' or 'username')"
            )
