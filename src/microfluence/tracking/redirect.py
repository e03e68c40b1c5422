"""The redirect of a short link: where ``/r/{slug}`` goes, and the click it records.

The destination gets the click's token as ``mf_click=TOKEN`` (any ``mf_click`` already in it
replaced; the fragment kept after the query), so an order's landing URL names its click: the
commerce attribution matches an order by that parameter first, then by its ``utm_`` values.
"""

from __future__ import annotations

import base64
import re
import secrets
import threading
import time
from dataclasses import dataclass

from sqlalchemy import select

from microfluence.kernel.store import Store
from microfluence.kernel.store.tables import utcnow
from microfluence.tracking.tables import TrackingLink
from microfluence.tracking.utm import append_params
from microfluence.tracking.visitors import (
    BOT,
    NOT_PEOPLE,
    DailySalt,
    agent_class,
    country_code,
    referrer_parts,
    visitor_hash,
)

CLICK_PARAM = "mf_click"
SLUG = re.compile(r"[A-Za-z0-9]{4,40}")


@dataclass(frozen=True)
class Target:
    link_id: int
    workspace_id: int
    destination: str
    # The destination cut where the token goes (made once per lookup, not per click):
    # ``head + TOKEN + tail`` is ``with_token(destination, TOKEN)``.
    head: str = ""
    tail: str = ""

    @classmethod
    def of(cls, link_id: int, workspace_id: int, destination: str) -> Target:
        marker = secrets.token_hex(16)  # hex: percent-encoding leaves it as it is
        head, _, tail = with_token(destination, marker).rpartition(marker)
        return cls(link_id, workspace_id, destination, head, tail)

    def location(self, token: str) -> str:
        return f"{self.head}{token}{self.tail}"


@dataclass(frozen=True)
class Visit:
    """What the request says about its visitor (the face reads it from the headers)."""

    ip: str
    user_agent: str = ""
    referrer: str | None = None
    purpose: str = ""  # Sec-Purpose, Purpose, X-Purpose and X-Moz, joined
    country: str | None = None  # the trusted proxy's header, if configured
    head: bool = False


class TargetCache:
    """Targets of recently asked slugs (unknown ones too), each kept for ``seconds``: a busy
    link costs one lookup per process per ``seconds``, and a flood of made-up slugs at most
    :attr:`size` entries. So a link disabled in one process stops redirecting in every process
    within ``seconds``."""

    size = 10_000

    def __init__(self, store: Store, seconds: float = 2.0) -> None:
        self.store = store
        self.seconds = seconds
        self._entries: dict[str, tuple[float, Target | None]] = {}

    def cached(self, slug: str) -> tuple[bool, Target | None]:
        """(True, its target) if ``slug`` was looked up less than ``seconds`` ago."""
        if not SLUG.fullmatch(slug):
            return True, None  # not a slug: known to lead nowhere, no lookup, nothing kept
        entry = self._entries.get(slug)
        if entry is None or entry[0] < time.monotonic():
            return False, None
        return True, entry[1]

    def lookup(self, slug: str) -> Target | None:
        """Ask the store (blocking: run it in a thread) and remember the answer."""
        target = find_target(self.store, slug)
        if self.seconds <= 0:
            return target
        if len(self._entries) >= self.size:
            self._entries.clear()
        self._entries[slug] = (time.monotonic() + self.seconds, target)
        return target


def find_target(store: Store, slug: str) -> Target | None:
    """The live link served at ``slug``, whatever its workspace; None if unknown or disabled."""
    if not SLUG.fullmatch(slug):
        return None
    with store.engine.connect() as conn:
        row = conn.execute(
            select(TrackingLink.id, TrackingLink.workspace_id, TrackingLink.destination).where(
                TrackingLink.slug == slug, TrackingLink.disabled_at.is_(None)
            )
        ).first()
    return Target.of(*row) if row else None


class Tokens:
    """Clicks' ids: 128 bits each from the system's CSPRNG, drawn 4 KiB at a time (one
    ``getrandom`` per 256 clicks), URL-safe base64 without padding (22 characters)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._pool = b""

    def new(self) -> str:
        with self._lock:
            if not self._pool:
                self._pool = secrets.token_bytes(4096)
            raw, self._pool = self._pool[:16], self._pool[16:]
        return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


_tokens = Tokens()


def new_token() -> str:
    """A click's id: 128 random bits, URL-safe."""
    return _tokens.new()


def with_token(destination: str, token: str) -> str:
    return append_params(destination, {CLICK_PARAM: token}, drop=frozenset((CLICK_PARAM,)))


def click_record(target: Target, visit: Visit, token: str, salt: DailySalt) -> dict[str, object]:
    """The click as it is logged (and later stored): never the IP, only its salted hash."""
    now = utcnow()
    kind = BOT if visit.head else agent_class(visit.user_agent, visit.purpose)
    host, referrer = referrer_parts(visit.referrer)
    return {
        "token": token,
        "link_id": target.link_id,
        "workspace_id": target.workspace_id,
        "clicked_at": now.isoformat(timespec="microseconds"),
        "referrer_host": host,
        "referrer": referrer,
        "agent_class": kind,
        "country": country_code(visit.country),
        "visitor_hash": visitor_hash(
            salt.for_day(now.date()), target.workspace_id, visit.ip, visit.user_agent
        ),
        "is_bot": kind in NOT_PEOPLE,
    }
