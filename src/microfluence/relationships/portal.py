"""The creator portal: a page a creator opens from a link — no account — to read the campaign's
brief, accept it, pick gifted products and give a shipping address, see their tracking links and
discount codes, and submit drafts and live posts for approval.

The link's token is ``secrets.token_urlsafe(32)`` (256 random bits), shown once when the link is
made; the store keeps only its SHA-256 (``portal_links.token_hash``). A link expires (30 days by
default) and can be revoked; it reaches one deal, the one it was made for: every portal action
takes the deal from the link, never from the request. An unknown, expired or revoked token is
the same :class:`PortalNotFound`, so the answer tells nothing about which it was.

Everything the creator does is recorded as a deal event with ``actor_kind="creator"``, and moves
the deal where it is natural (accepting the brief → agreed), never backwards.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import secrets
from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel, Field
from sqlalchemy import delete, or_, select, update
from sqlalchemy.orm import Session

from microfluence.campaigns.products import ProductPublic, list_products
from microfluence.campaigns.tables import Campaign, Deal, Deliverable, Gift
from microfluence.catalog.schemas import UtcDateTime
from microfluence.kernel.errors import ConflictError, InputError, NotFoundError
from microfluence.kernel.store.tables import Creator, utcnow
from microfluence.relationships.advance import advance, deal_in
from microfluence.relationships.gifting import GiftPublic, list_gifts, sent_value
from microfluence.relationships.settings import PortalSettings
from microfluence.relationships.stages import record_event
from microfluence.relationships.submissions import SubmissionPublic, list_submissions
from microfluence.relationships.tables import DealEvent, PortalLink, Submission
from microfluence.tracking.links import short_url
from microfluence.tracking.tables import DiscountCode, TrackingLink

TOKEN_BYTES = 32
MAX_DAYS = 365
ACCEPTED = "brief_accepted"
PORTAL_EVENTS = (ACCEPTED, "gift", "address", "submission")
GONE = "this link does not exist or is no longer active"


class PortalNotFound(NotFoundError):
    """An unknown, expired or revoked portal token: one answer for all three."""


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()


def portal_path(token: str) -> str:
    return f"/portal/{token}"


class PortalLinkPublic(BaseModel):
    id: int
    deal_id: int
    created_by: str | None
    created_at: UtcDateTime
    expires_at: UtcDateTime
    revoked_at: UtcDateTime | None
    last_used_at: UtcDateTime | None
    status: str = Field(description="active, expired or revoked")


class PortalLinkMade(PortalLinkPublic):
    url: str = Field(description="The link to send the creator: shown this once, never again.")


def _status(link: PortalLink, now: dt.datetime) -> str:
    if link.revoked_at is not None:
        return "revoked"
    return "expired" if link.expires_at <= now else "active"


def _public(link: PortalLink, now: dt.datetime) -> PortalLinkPublic:
    return PortalLinkPublic(
        id=link.id,
        deal_id=link.deal_id,
        created_by=link.created_by,
        created_at=link.created_at,
        expires_at=link.expires_at,
        revoked_at=link.revoked_at,
        last_used_at=link.last_used_at,
        status=_status(link, now),
    )


def create_portal_link(  # noqa: PLR0913 - the deal, who, how long, where
    session: Session,
    workspace_id: int,
    deal_id: int,
    *,
    created_by: str | None,
    days: int | None = None,
    base: str | None = None,
    at: dt.datetime | None = None,
) -> PortalLinkMade:
    """A new link to the deal's portal, valid ``days`` days (MICROFLUENCE_PORTAL_LINK_DAYS when
    not given, 30 by default); its URL is in the answer only."""
    deal_in(session, workspace_id, deal_id)
    if days is None:
        days = PortalSettings().portal_link_days
    if not isinstance(days, int) or not 1 <= days <= MAX_DAYS:
        raise InputError(f"from 1 to {MAX_DAYS} days", field="days", value=days)
    now = at or utcnow()
    token = secrets.token_urlsafe(TOKEN_BYTES)
    link = PortalLink(
        workspace_id=workspace_id,
        deal_id=deal_id,
        token_hash=hash_token(token),
        created_by=created_by,
        created_at=now,
        expires_at=now + dt.timedelta(days=days),
    )
    session.add(link)
    session.flush()
    url = (base or "").rstrip("/") + portal_path(token)
    return PortalLinkMade(**_public(link, now).model_dump(), url=url)


def list_portal_links(session: Session, workspace_id: int, deal_id: int) -> list[PortalLinkPublic]:
    deal_in(session, workspace_id, deal_id)
    now = utcnow()
    rows = session.scalars(
        select(PortalLink)
        .where(PortalLink.workspace_id == workspace_id, PortalLink.deal_id == deal_id)
        .order_by(PortalLink.id.desc())
    )
    return [_public(link, now) for link in rows]


def revoke_portal_link(
    session: Session, workspace_id: int, deal_id: int, link_id: int
) -> PortalLinkPublic:
    """Stop the link working at once; revoking twice keeps the first time."""
    link = session.scalar(
        select(PortalLink).where(
            PortalLink.workspace_id == workspace_id,
            PortalLink.deal_id == deal_id,
            PortalLink.id == link_id,
        )
    )
    if link is None:
        raise NotFoundError(f"no portal link with id {link_id} for this deal")
    if link.revoked_at is None:
        link.revoked_at = utcnow()
        session.flush()
    return _public(link, utcnow())


# --- opening the portal ---------------------------------------------------------------------


@dataclass(frozen=True)
class PortalAccess:
    """What a valid token reaches: one deal of one workspace."""

    workspace_id: int
    deal_id: int
    link_id: int
    token_hash: str


def open_portal(session: Session, token: str, *, at: dt.datetime | None = None) -> PortalAccess:
    """The deal a token opens, noting when the link was used; PortalNotFound for a token that is
    unknown, expired or revoked (the same error, whichever)."""
    if not isinstance(token, str) or not 20 <= len(token) <= 100:
        raise PortalNotFound(GONE)
    digest = hash_token(token)
    link = session.scalar(select(PortalLink).where(PortalLink.token_hash == digest))
    now = at or utcnow()
    # The row was found by its hash; compare again in constant time, so neither the lookup's
    # nor the comparison's timing says how much of a guess was right.
    stored = link.token_hash if link is not None else "0" * 64
    same = hmac.compare_digest(stored, digest)
    if link is None or not same or link.revoked_at is not None or link.expires_at <= now:
        raise PortalNotFound(GONE)
    session.execute(update(PortalLink).where(PortalLink.id == link.id).values(last_used_at=now))
    return PortalAccess(link.workspace_id, link.deal_id, link.id, digest)


def form_token(secret: str, access: PortalAccess) -> str:
    """The CSRF value of the portal's forms: an HMAC of the link's token hash under the site's
    secret — the same for every form of one link, useless for another link."""
    message = f"portal:{access.token_hash}".encode()
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def check_form_token(secret: str, access: PortalAccess, submitted: str | None) -> None:
    if not submitted or not hmac.compare_digest(submitted, form_token(secret, access)):
        raise PortalFormExpired("the form has expired: reload the page and try again")


class PortalFormExpired(InputError):
    """A portal form without the link's CSRF value."""


# --- what the creator sees ------------------------------------------------------------------


@dataclass
class PortalView:
    campaign: Campaign
    creator_name: str | None
    deal: Deal
    deliverables: list[Deliverable]
    accepted_at: dt.datetime | None
    products: list[ProductPublic]
    gifts: list[GiftPublic]
    cap: Any  # Decimal: deals.product_value
    sent: Any  # Decimal: gifts already shipped or delivered
    links: list[tuple[str, str]]  # (short URL, destination)
    codes: list[tuple[str, str]]  # (code, what it gives)
    submissions: list[SubmissionPublic]
    address: dict[str, str] = field(default_factory=dict)


def accepted_at(session: Session, workspace_id: int, deal_id: int) -> dt.datetime | None:
    return session.scalar(
        select(DealEvent.at)
        .where(
            DealEvent.workspace_id == workspace_id,
            DealEvent.deal_id == deal_id,
            DealEvent.kind == ACCEPTED,
        )
        .order_by(DealEvent.at)
        .limit(1)
    )


def portal_view(session: Session, access: PortalAccess, *, base: str | None = None) -> PortalView:
    ws, deal_id = access.workspace_id, access.deal_id
    deal = deal_in(session, ws, deal_id)
    campaign = session.get(Campaign, deal.campaign_id)
    assert campaign is not None and campaign.workspace_id == ws
    gifts = list_gifts(session, ws, deal_id)
    return PortalView(
        campaign=campaign,
        creator_name=session.scalar(select(Creator.name).where(Creator.id == deal.creator_id)),
        deal=deal,
        deliverables=list(
            session.scalars(
                select(Deliverable)
                .where(Deliverable.workspace_id == ws, Deliverable.deal_id == deal_id)
                .order_by(Deliverable.due_on.is_(None), Deliverable.due_on, Deliverable.id)
            )
        ),
        accepted_at=accepted_at(session, ws, deal_id),
        products=list_products(session, ws, active_only=True),
        gifts=gifts,
        cap=deal.product_value,
        sent=sent_value(session, ws, deal_id),
        links=_links(session, deal, base),
        codes=_codes(session, deal),
        submissions=list_submissions(session, ws, deal_id=deal_id),
        address=next((g.address for g in gifts if g.status == "requested" and g.address), {}),
    )


def _links(session: Session, deal: Deal, base: str | None) -> list[tuple[str, str]]:
    rows = session.execute(
        select(TrackingLink.slug, TrackingLink.destination)
        .where(
            TrackingLink.workspace_id == deal.workspace_id,
            TrackingLink.creator_id == deal.creator_id,
            TrackingLink.disabled_at.is_(None),
            or_(
                TrackingLink.campaign_id == deal.campaign_id,
                TrackingLink.deal_id == deal.id,
                TrackingLink.campaign_id.is_(None),
            ),
        )
        .order_by(TrackingLink.id)
    )
    return [(short_url(slug, base), destination) for slug, destination in rows]


def _codes(session: Session, deal: Deal) -> list[tuple[str, str]]:
    rows = session.execute(
        select(DiscountCode.code, DiscountCode.kind, DiscountCode.value)
        .where(
            DiscountCode.workspace_id == deal.workspace_id,
            DiscountCode.creator_id == deal.creator_id,
            DiscountCode.disabled_at.is_(None),
            or_(
                DiscountCode.campaign_id == deal.campaign_id,
                DiscountCode.deal_id == deal.id,
                DiscountCode.campaign_id.is_(None),
            ),
        )
        .order_by(DiscountCode.code_key)
    )
    return [(code, _offer(kind, value)) for code, kind, value in rows]


def _offer(kind: str, value: Any) -> str:
    if kind == "percent":
        return f"{value.normalize():f} % off" if value is not None else "a discount"
    if kind == "amount":
        return f"{value} off"
    return "free shipping"


def creator_name(session: Session, access: PortalAccess) -> str | None:
    """The deal's creator, the actor of what is done through the portal."""
    return session.scalar(
        select(Creator.name)
        .join(Deal, Deal.creator_id == Creator.id)
        .where(Deal.id == access.deal_id, Deal.workspace_id == access.workspace_id)
    )


def accept_brief(
    session: Session, access: PortalAccess, *, at: dt.datetime | None = None
) -> dt.datetime:
    """The creator accepts the brief: once (ConflictError after), recorded with the link it came
    through, and the deal moves to agreed if it was not further."""
    ws, deal_id = access.workspace_id, access.deal_id
    deal_in(session, ws, deal_id, lock=True)  # two clicks at once: one acceptance
    if accepted_at(session, ws, deal_id) is not None:
        raise ConflictError("the brief was already accepted")
    creator = creator_name(session, access)
    when = at or utcnow()
    record_event(
        session,
        ws,
        deal_id,
        ACCEPTED,
        actor=creator,
        actor_kind="creator",
        detail={"portal_link_id": access.link_id},
        at=when,
    )
    advance(
        session,
        ws,
        deal_id,
        "agreed",
        actor=creator,
        actor_kind="creator",
        detail={"portal_link_id": access.link_id},
    )
    return when


# --- privacy hooks (wired into the privacy export and erasure) ------------------------------


def _deal_ids(session: Session, workspace_id: int, creator_id: int) -> list[int]:
    return list(
        session.scalars(
            select(Deal.id).where(Deal.workspace_id == workspace_id, Deal.creator_id == creator_id)
        )
    )


def portal_personal_data(session: Session, workspace_id: int, creator_id: int) -> dict[str, Any]:
    """What the portal and gifting hold about a creator: the gifts with their addresses, the
    submissions with their notes, and when their portal links were made and used."""
    deals = _deal_ids(session, workspace_id, creator_id)
    gifts = session.scalars(
        select(Gift).where(Gift.workspace_id == workspace_id, Gift.deal_id.in_(deals))
    )
    submissions = session.scalars(
        select(Submission).where(
            Submission.workspace_id == workspace_id, Submission.deal_id.in_(deals)
        )
    )
    links = session.scalars(
        select(PortalLink).where(
            PortalLink.workspace_id == workspace_id, PortalLink.deal_id.in_(deals)
        )
    )
    now = utcnow()
    return {
        "gifts": [
            {
                "deal_id": g.deal_id,
                "sku": g.sku,
                "name": g.name,
                "quantity": g.quantity,
                "address": dict(g.address or {}),
                "carrier": g.carrier,
                "tracking_number": g.tracking_number,
                "status": g.status,
            }
            for g in gifts
        ],
        "submissions": [
            {
                "deal_id": s.deal_id,
                "kind": s.kind,
                "url": s.url,
                "note": s.note,
                "status": s.status,
                "submitted_at": s.submitted_at.isoformat(),
            }
            for s in submissions
        ],
        "portal_links": [
            _public(link, now).model_dump(mode="json", exclude={"created_by"}) for link in links
        ],
    }


def erase_portal_personal_data(
    session: Session, workspace_id: int, creator_id: int
) -> dict[str, int]:
    """Erase it: gifts keep what was sent and its value (the deal's cost) but lose the address
    and tracking number; submissions lose their note (a draft its URL too); the creator's portal
    links are deleted, so no link opens their deals any more. Counts of what changed."""
    deals = _deal_ids(session, workspace_id, creator_id)
    gifts = session.execute(
        update(Gift)
        .where(Gift.workspace_id == workspace_id, Gift.deal_id.in_(deals))
        .values(address={}, tracking_number=None, updated_at=utcnow())
        .execution_options(synchronize_session=False)
    ).rowcount
    scope = (Submission.workspace_id == workspace_id, Submission.deal_id.in_(deals))
    notes = session.execute(
        update(Submission)
        .where(*scope)
        .values(note=None)
        .execution_options(synchronize_session=False)
    ).rowcount
    session.execute(
        update(Submission)
        .where(*scope, Submission.kind == "draft")
        .values(url="(erased)")
        .execution_options(synchronize_session=False)
    )
    # The submissions' events repeat their URL: kept as events, without it.
    session.execute(
        update(DealEvent)
        .where(
            DealEvent.workspace_id == workspace_id,
            DealEvent.deal_id.in_(deals),
            DealEvent.kind == "submission",
        )
        .values(detail={"erased": True})
        .execution_options(synchronize_session=False)
    )
    links = session.execute(
        delete(PortalLink).where(
            PortalLink.workspace_id == workspace_id, PortalLink.deal_id.in_(deals)
        )
    ).rowcount
    return {
        "gifts": int(gifts or 0),
        "submissions": int(notes or 0),
        "portal_links": int(links or 0),
    }
