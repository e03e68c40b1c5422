"""The redirect of a short link: where ``/r/{slug}`` goes, and the click it records.

The destination gets the click's token as ``mf_click=TOKEN`` (any ``mf_click`` already in it
replaced; the fragment kept after the query), so an order's landing URL names its click: the
commerce attribution matches an order by that parameter first, then by its ``utm_`` values.
"""

from __future__ import annotations

import re
import secrets
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


@dataclass(frozen=True)
class Visit:
    """What the request says about its visitor (the face reads it from the headers)."""

    ip: str
    user_agent: str = ""
    referrer: str | None = None
    purpose: str = ""  # Sec-Purpose, Purpose, X-Purpose and X-Moz, joined
    country: str | None = None  # the trusted proxy's header, if configured
    head: bool = False


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
    return Target(*row) if row else None


def new_token() -> str:
    """A click's id: 128 random bits, URL-safe."""
    return secrets.token_urlsafe(16)


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
