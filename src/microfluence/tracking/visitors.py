"""What a click records of its visitor: the user-agent class, the referrer, the country a
trusted proxy names, and a salted hash of the IP address (never the address itself).

* **Agent class** (docs/tracking.md, "Bots and prefetchers"): ``prefetch`` when the browser says
  the request is a speculative load (``Sec-Purpose``/``Purpose: prefetch``, ``X-Purpose:
  preview``, ``X-Moz: prefetch``); ``preview`` for the link unfurlers of chat and social apps
  (:data:`PREVIEW_TOKENS`); ``bot`` for crawlers (the uap-core rules of ``ua-parser`` put them in
  the device family ``Spider``), for an empty user agent and for HTTP libraries that do not
  claim to be a browser (``curl``, ``python-requests``: no ``Mozilla/`` prefix, no OS, no
  device); ``mobile`` for phones and tablets; else ``browser``. Only browser and mobile clicks
  count.
* **Visitor hash**: HMAC-SHA256 of ``workspace id, IP, user agent`` keyed by a random salt made
  for the UTC day and deleted the day after: a visitor can be told apart from another within a
  day (for unique clicks), never followed across days or workspaces, and once the salt is gone
  nobody — not even with the database — can test an address against a stored hash.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import threading
from functools import lru_cache
from urllib.parse import urlsplit

from sqlalchemy import delete
from ua_parser import parse as parse_agent

from microfluence.access.site_secrets import site_secret
from microfluence.access.tables import SiteSecret
from microfluence.kernel.store import Store

BROWSER, MOBILE, BOT, PREVIEW, PREFETCH = "browser", "mobile", "bot", "preview", "prefetch"
AGENT_CLASSES = (BROWSER, MOBILE, BOT, PREVIEW, PREFETCH)
NOT_PEOPLE = frozenset((BOT, PREVIEW, PREFETCH))
# Link unfurlers fetch a link when it is pasted in a chat or a post: no person clicked. uap-core
# knows most of them only as crawlers, so they are told apart by their documented tokens
# (iMessage announces itself as "facebookexternalhit/1.1 Facebot Twitterbot/1.0").
PREVIEW_TOKENS = (
    "facebookexternalhit",
    "facebot",
    "slackbot-linkexpanding",
    "slack-imgproxy",
    "twitterbot",
    "whatsapp",
    "telegrambot",
    "discordbot",
    "linkedinbot",
    "skypeuripreview",
    "pinterestbot",
    "redditbot",
    "embedly",
    "iframely",
    "google-pagerenderer",
    "snapchat",
    "viber",
    "vkshare",
    "bitlybot",
)
MOBILE_OS = frozenset(("iOS", "Android", "iPadOS", "Windows Phone", "BlackBerry OS", "KaiOS"))
MAX_AGENT = 512
MAX_REFERRER = 1000
SALT_PREFIX = "click-salt:"


@lru_cache(maxsize=4096)
def agent_class(user_agent: str, purpose: str = "") -> str:
    """The class of a request from its ``User-Agent`` and its purpose headers (joined);
    remembered for the last 4,096 agents (a campaign's visitors share a few hundred)."""
    purpose = purpose.lower()
    if "prefetch" in purpose or "preview" in purpose or "prerender" in purpose:
        return PREFETCH
    agent = user_agent.strip()[:MAX_AGENT]
    if not agent:
        return BOT
    lowered = agent.lower()
    if any(token in lowered for token in PREVIEW_TOKENS):
        return PREVIEW
    result = parse_agent(agent)
    device = result.device.family if result.device else None
    if device == "Spider":
        return BOT
    os_family = result.os.family if result.os else None
    if device is None and os_family is None and not agent.startswith("Mozilla/"):
        return BOT  # curl, python-requests, Go-http-client …: a program, not a person
    if os_family in MOBILE_OS or (device not in (None, "Other") and "Mobile" in agent):
        return MOBILE
    return BROWSER


@lru_cache(maxsize=4096)
def referrer_parts(referrer: str | None) -> tuple[str | None, str | None]:
    """The referrer's host (lower case) and the URL cut to :data:`MAX_REFERRER` characters."""
    if not referrer or not referrer.strip():
        return None, None
    referrer = referrer.strip()
    try:
        host = urlsplit(referrer).hostname
    except ValueError:
        host = None
    return (host[:255] if host else None), referrer[:MAX_REFERRER]


def country_code(value: str | None) -> str | None:
    """An ISO 3166 alpha-2 code from a proxy's header; unknown values (Cloudflare's ``XX`` and
    ``T1`` for Tor, anything not two letters) are no country."""
    if not value:
        return None
    code = value.strip().upper()
    if len(code) != 2 or not code.isascii() or not code.isalpha() or code in ("XX", "T1"):
        return None
    return code


def visitor_hash(salt: bytes, workspace_id: int, ip: str, user_agent: str) -> str:
    """HMAC-SHA256 (hex) of the visitor, keyed by the day's salt."""
    message = f"{workspace_id}\n{ip}\n{user_agent[:MAX_AGENT]}".encode()
    return hmac.digest(salt, message, hashlib.sha256).hex()


class DailySalt:
    """The salt of the UTC day, shared by every process of the store (a site secret named after
    the day), cached for the day; yesterday's and older salts are deleted by :func:`prune`."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self._lock = threading.Lock()
        self._day: dt.date | None = None
        self._salt = b""

    def for_day(self, day: dt.date) -> bytes:
        with self._lock:
            if day != self._day:
                self._salt = site_secret(self.store, f"{SALT_PREFIX}{day.isoformat()}").encode()
                self._day = day
            return self._salt

    def prune(self, today: dt.date) -> int:
        """Delete the salts of days before yesterday (yesterday's is kept for clicks still in
        flight at midnight); returns how many were deleted."""
        oldest_kept = f"{SALT_PREFIX}{(today - dt.timedelta(days=1)).isoformat()}"
        with self.store.transaction() as session:
            result = session.execute(
                delete(SiteSecret).where(
                    SiteSecret.name.like(f"{SALT_PREFIX}%"), SiteSecret.name < oldest_kept
                )
            )
        return result.rowcount or 0  # type: ignore[attr-defined]
