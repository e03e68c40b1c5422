"""Short links: create (a creator's link to a tagged destination), list with counts, disable.

A link's destination is tagged with these UTM defaults (docs/tracking.md, "Link defaults"),
each overridable:

    utm_source   = the creator's platform      (instagram, tiktok …)
    utm_medium   = influencer
    utm_campaign = the campaign's name as a slug ("Spring Launch 2026" → spring-launch-2026),
                   none without a campaign
    utm_content  = the creator's handle

Slugs are 10 random base-62 characters (about 59.5 bits, from ``secrets``), unique across every
workspace because ``/r/{slug}`` is one public namespace.
"""

from __future__ import annotations

import datetime as dt
import re
import secrets
import string
import unicodedata
from typing import Any

import polars as pl
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from microfluence.campaigns.tables import Campaign, Deal
from microfluence.catalog.accounts import find_account_by_reference
from microfluence.kernel.config import get_settings
from microfluence.kernel.errors import InputError, NotFoundError
from microfluence.kernel.store.tables import Account, utcnow
from microfluence.tracking.counts import COUNT_SCHEMA, click_counts
from microfluence.tracking.tables import TrackingLink
from microfluence.tracking.utm import UTM_KEYS, clean_url, tag_url

ALPHABET = string.ascii_letters + string.digits
SLUG_LENGTH = 10
DEFAULT_MEDIUM = "influencer"
DEFAULT_BASE = "http://127.0.0.1:8000"


class LinkCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    creator: str = Field(max_length=200, description="The creator's account, PLATFORM:HANDLE.")
    url: str = Field(max_length=4000, description="Where the link goes (http or https).")
    campaign: str | None = Field(default=None, max_length=200, description="A campaign's name.")
    utm: dict[str, str] = Field(
        default_factory=dict,
        description="UTM values that replace the defaults: source, medium, campaign, content, "
        "term, id.",
    )


class LinkPublic(BaseModel):
    id: int
    slug: str
    short_url: str
    destination: str = Field(description="The tagged URL the redirect goes to.")
    creator_id: int | None
    account_id: int | None
    campaign_id: int | None
    deal_id: int | None
    utm: dict[str, Any]
    created_at: dt.datetime
    disabled_at: dt.datetime | None
    clicks: int = 0
    unique_clicks: int = 0
    bot_clicks: int = 0


def public_base(base: str | None = None) -> str:
    """Where visitors reach ``/r/``: ``base``, else MICROFLUENCE_PUBLIC_URL, else 127.0.0.1."""
    return (base or get_settings().public_url or DEFAULT_BASE).rstrip("/")


def short_url(slug: str, base: str | None = None) -> str:
    return f"{public_base(base)}/r/{slug}"


def new_slug() -> str:
    while True:  # never all digits: a command tells a link's id from its slug that way
        slug = "".join(secrets.choice(ALPHABET) for _ in range(SLUG_LENGTH))
        if not slug.isdigit():
            return slug


def name_slug(name: str) -> str:
    """A campaign name as GA-friendly text: ASCII, lower case, words joined by ``-``."""
    ascii_name = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "-", ascii_name.lower()).strip("-")


def find_campaign(session: Session, workspace_id: int, name: str) -> Campaign:
    if any(ord(c) < 0x20 or ord(c) == 0x7F for c in name):
        raise InputError("contains control characters", field="campaign")
    campaign = session.scalar(
        select(Campaign).where(Campaign.workspace_id == workspace_id, Campaign.name == name)
    )
    if campaign is None:
        raise NotFoundError(f"no campaign named {name!r} in this workspace")
    return campaign


def default_utm(account: Account, campaign: Campaign | None) -> dict[str, str]:
    values = {"source": account.platform, "medium": DEFAULT_MEDIUM, "content": account.handle}
    if campaign is not None:
        values["campaign"] = name_slug(campaign.name) or f"campaign-{campaign.id}"
    return values


def _utm_values(account: Account, campaign: Campaign | None, overrides: dict[str, str]) -> dict:
    unknown = sorted(set(overrides) - set(UTM_KEYS))
    if unknown:
        raise InputError(f"unknown UTM key(s) {', '.join(unknown)}", field="utm")
    values = {**default_utm(account, campaign), **overrides}
    return {k: values[k] for k in UTM_KEYS if values.get(k)}


def create_link(
    session: Session, workspace_id: int, data: LinkCreate, *, base: str | None = None
) -> LinkPublic:
    """A new short link of the creator whose account ``data.creator`` names."""
    clean_url(data.url)
    account = find_account_by_reference(session, workspace_id, data.creator)
    campaign = find_campaign(session, workspace_id, data.campaign) if data.campaign else None
    deal_id = None
    if campaign is not None:
        deal_id = session.scalar(
            select(Deal.id).where(
                Deal.workspace_id == workspace_id,
                Deal.campaign_id == campaign.id,
                Deal.creator_id == account.creator_id,
            )
        )
    utm = _utm_values(account, campaign, data.utm)
    destination = tag_url(data.url, **utm)
    for _ in range(5):  # a clash of 59.5 random bits: in practice never; retried anyway
        link = TrackingLink(
            workspace_id=workspace_id,
            slug=new_slug(),
            destination=destination,
            creator_id=account.creator_id,
            account_id=account.id,
            campaign_id=campaign.id if campaign else None,
            deal_id=deal_id,
            utm=utm,
        )
        try:
            with session.begin_nested():
                session.add(link)
        except IntegrityError:
            continue
        return _public(link, base)
    raise RuntimeError("could not find a free slug")  # pragma: no cover


def _public(
    link: TrackingLink, base: str | None, counts: dict[str, int] | None = None
) -> LinkPublic:
    return LinkPublic(
        id=link.id,
        slug=link.slug,
        short_url=short_url(link.slug, base),
        destination=link.destination,
        creator_id=link.creator_id,
        account_id=link.account_id,
        campaign_id=link.campaign_id,
        deal_id=link.deal_id,
        utm=link.utm,
        created_at=link.created_at,
        disabled_at=link.disabled_at,
        **(counts or {}),
    )


def find_link(session: Session, workspace_id: int, ref: int | str) -> TrackingLink:
    """A link of this workspace by id or slug."""
    where = TrackingLink.id == ref if isinstance(ref, int) else TrackingLink.slug == ref
    link = session.scalar(
        select(TrackingLink).where(where, TrackingLink.workspace_id == workspace_id)
    )
    if link is None:
        raise NotFoundError(f"no link {ref} in this workspace")
    return link


def list_links(
    session: Session,
    workspace_id: int,
    *,
    creator_id: int | None = None,
    campaign_id: int | None = None,
    include_disabled: bool = True,
    base: str | None = None,
) -> list[LinkPublic]:
    """The workspace's links, newest first, each with its counts."""
    query = select(TrackingLink).where(TrackingLink.workspace_id == workspace_id)
    if creator_id is not None:
        query = query.where(TrackingLink.creator_id == creator_id)
    if campaign_id is not None:
        query = query.where(TrackingLink.campaign_id == campaign_id)
    if not include_disabled:
        query = query.where(TrackingLink.disabled_at.is_(None))
    links = list(session.scalars(query.order_by(TrackingLink.id.desc())))
    counts = click_counts(session, workspace_id, by="link", ids=[link.id for link in links])
    by_link = {row["link_id"]: row for row in counts.iter_rows(named=True)}
    empty = dict.fromkeys(COUNT_SCHEMA, 0)
    return [
        _public(link, base, {k: by_link.get(link.id, empty)[k] for k in COUNT_SCHEMA})
        for link in links
    ]


def get_link(
    session: Session, workspace_id: int, link_id: int, *, base: str | None = None
) -> LinkPublic:
    link = find_link(session, workspace_id, link_id)
    counts = click_counts(session, workspace_id, by="link", ids=[link.id])
    row = counts.row(0, named=True) if counts.height else dict.fromkeys(COUNT_SCHEMA, 0)
    return _public(link, base, {k: row[k] for k in COUNT_SCHEMA})


def disable_link(
    session: Session, workspace_id: int, ref: int | str, *, base: str | None = None
) -> LinkPublic:
    """Stop the link redirecting (its clicks stay); disabling twice is harmless."""
    link = find_link(session, workspace_id, ref)
    if link.disabled_at is None:
        link.disabled_at = utcnow()
        session.flush()
    return get_link(session, workspace_id, link.id, base=base)


def daily_counts(session: Session, workspace_id: int, link_id: int) -> pl.DataFrame:
    """The link's counts per UTC day."""
    find_link(session, workspace_id, link_id)
    return click_counts(session, workspace_id, by="link", daily=True, ids=[link_id])
