"""Campaigns: create, change (status draft → active ↔ paused → ended), list, read, delete."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Select, case, delete, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from microfluence.campaigns import values
from microfluence.campaigns.schemas import (
    CampaignCreate,
    CampaignPublic,
    CampaignUpdate,
    PieceCounts,
)
from microfluence.campaigns.tables import Campaign, Deal, Deliverable
from microfluence.catalog.listing import Window
from microfluence.catalog.schemas import Page
from microfluence.kernel.errors import ConflictError, NotFoundError
from microfluence.kernel.store.tables import utcnow


def find_campaign(session: Session, workspace_id: int, campaign_id: int) -> Campaign:
    """The campaign with this id in this workspace; NotFoundError otherwise, also when it
    belongs to another workspace."""
    campaign = session.scalar(
        select(Campaign).where(Campaign.id == campaign_id, Campaign.workspace_id == workspace_id)
    )
    if campaign is None:
        raise NotFoundError(f"no campaign with id {campaign_id}")
    return campaign


def lock_campaign(session: Session, workspace_id: int, campaign_id: int) -> Campaign:
    """:func:`find_campaign`, its row locked until the transaction ends (PostgreSQL; SQLite has
    one writer at a time anyway): what changes which post fills which piece runs one at a time
    per campaign, so two runs of the matcher never give one post to two pieces."""
    campaign = session.scalar(
        select(Campaign)
        .where(Campaign.id == campaign_id, Campaign.workspace_id == workspace_id)
        .with_for_update()
    )
    if campaign is None:
        raise NotFoundError(f"no campaign with id {campaign_id}")
    return campaign


def find_campaign_by_name(session: Session, workspace_id: int, name: str) -> Campaign:
    campaign = session.scalar(
        select(Campaign).where(Campaign.workspace_id == workspace_id, Campaign.name == name.strip())
    )
    if campaign is None:
        raise NotFoundError(f"no campaign named {name.strip()[:200]!r} in this workspace")
    return campaign


def piece_counts(
    session: Session, workspace_id: int, by: Any, *where: Any
) -> dict[int, PieceCounts]:
    """Deliverables by status, grouped by ``by`` (``Deal.campaign_id`` or ``Deal.id``): one
    query, counted in the database."""
    counts = {
        status: func.sum(case((Deliverable.status == status, 1), else_=0))
        for status in ("pending", "matched", "confirmed")
    }
    rows = session.execute(
        select(by, *counts.values())
        .select_from(Deliverable)
        .join(Deal, Deal.id == Deliverable.deal_id)
        .where(Deliverable.workspace_id == workspace_id, *where)
        .group_by(by)
    )
    return {
        row[0]: PieceCounts(**{k: int(v or 0) for k, v in zip(counts, row[1:], strict=True)})
        for row in rows
    }


def _public_many(
    session: Session, workspace_id: int, campaigns: list[Campaign]
) -> list[CampaignPublic]:
    ids = [c.id for c in campaigns]
    if not ids:
        return []
    deals = dict(
        session.execute(
            select(Deal.campaign_id, func.count())
            .where(Deal.workspace_id == workspace_id, Deal.campaign_id.in_(ids))
            .group_by(Deal.campaign_id)
        ).all()
    )
    pieces = piece_counts(session, workspace_id, Deal.campaign_id, Deal.campaign_id.in_(ids))
    return [
        CampaignPublic(
            id=c.id,
            name=c.name,
            goal=c.goal,
            status=c.status,
            starts_on=c.starts_on,
            ends_on=c.ends_on,
            budget=c.budget,
            currency=c.currency,
            targets=c.targets or {},
            hashtags=c.hashtags or [],
            mentions=c.mentions or [],
            attribution_days=c.attribution_days,
            notes=c.notes,
            brief=c.brief,
            dos=c.dos or [],
            donts=c.donts or [],
            disclosure=c.disclosure,
            deals=int(deals.get(c.id, 0)),
            pieces=pieces.get(c.id, PieceCounts()),
            created_at=c.created_at,
            updated_at=c.updated_at,
        )
        for c in campaigns
    ]


def _listing(workspace_id: int, status: str | None) -> Select[tuple[Campaign]]:
    query = select(Campaign).where(Campaign.workspace_id == workspace_id)
    if status:
        query = query.where(Campaign.status == values.parse_status(status))
    return query


# The newest start first, campaigns without dates last, ties by newest id.
_ORDER = (Campaign.starts_on.is_(None), Campaign.starts_on.desc(), Campaign.id.desc())


def list_campaigns(
    session: Session, workspace_id: int, *, status: str | None = None
) -> list[CampaignPublic]:
    """Every campaign of the workspace (or of one status), the newest start first."""
    query = _listing(workspace_id, status).order_by(*_ORDER)
    return _public_many(session, workspace_id, list(session.scalars(query)))


def page_of_campaigns(
    session: Session, workspace_id: int, *, status: str | None = None, window: Window | None = None
) -> Page[CampaignPublic]:
    """One page of :func:`list_campaigns`, and how many there are in all."""
    window = window or Window()
    query = _listing(workspace_id, status)
    count = session.scalar(select(func.count()).select_from(query.subquery())) or 0
    rows = session.scalars(query.order_by(*_ORDER).limit(window.limit).offset(window.offset))
    return Page(data=_public_many(session, workspace_id, list(rows)), count=count)


def get_campaign(session: Session, workspace_id: int, campaign_id: int) -> CampaignPublic:
    return _public_many(session, workspace_id, [find_campaign(session, workspace_id, campaign_id)])[
        0
    ]


def _check_unique_name(
    session: Session, workspace_id: int, name: str, exclude: int | None = None
) -> None:
    query = select(Campaign.id).where(Campaign.workspace_id == workspace_id, Campaign.name == name)
    if exclude is not None:
        query = query.where(Campaign.id != exclude)
    if session.scalar(query) is not None:
        raise ConflictError(f"a campaign named {name!r} already exists in this workspace")


def _flush(session: Session, name: str) -> None:
    try:
        with session.begin_nested():
            session.flush()
    except IntegrityError as exc:  # a concurrent create of the same name won
        raise ConflictError(f"a campaign named {name!r} already exists in this workspace") from exc


def create_campaign(session: Session, workspace_id: int, data: CampaignCreate) -> CampaignPublic:
    values.check_dates(data.starts_on, data.ends_on)
    _check_unique_name(session, workspace_id, data.name)
    now = utcnow()
    campaign = Campaign(
        workspace_id=workspace_id,
        status="draft",
        created_at=now,
        updated_at=now,
        **data.model_dump(),
    )
    session.add(campaign)
    _flush(session, data.name)
    return get_campaign(session, workspace_id, campaign.id)


def update_campaign(
    session: Session, workspace_id: int, campaign_id: int, data: CampaignUpdate
) -> CampaignPublic:
    """Change the fields sent. ``None`` clears the dates, the budget, the notes, the brief and
    the disclosure (an empty list clears the dos or don'ts); the other
    fields keep their value when sent as ``None``."""
    campaign = find_campaign(session, workspace_id, campaign_id)
    changes = data.model_dump(exclude_unset=True)
    clearable = {"starts_on", "ends_on", "budget", "notes", "brief", "disclosure"}
    changes = {k: v for k, v in changes.items() if v is not None or k in clearable}
    if "status" in changes:
        values.check_transition(campaign.status, changes["status"])
    values.check_dates(
        changes.get("starts_on", campaign.starts_on), changes.get("ends_on", campaign.ends_on)
    )
    if "name" in changes:
        _check_unique_name(session, workspace_id, changes["name"], exclude=campaign.id)
    for name, value in changes.items():
        setattr(campaign, name, value)
    campaign.updated_at = utcnow()
    _flush(session, campaign.name)
    return get_campaign(session, workspace_id, campaign_id)


def delete_campaign(session: Session, workspace_id: int, campaign_id: int) -> None:
    """Delete a campaign with its deals and deliverables; its tracking links and codes stay,
    no longer tied to it (the store's foreign keys)."""
    find_campaign(session, workspace_id, campaign_id)
    deals = select(Deal.id).where(
        Deal.workspace_id == workspace_id, Deal.campaign_id == campaign_id
    )
    session.execute(
        delete(Deliverable).where(
            Deliverable.workspace_id == workspace_id, Deliverable.deal_id.in_(deals)
        )
    )
    session.execute(
        delete(Deal).where(Deal.workspace_id == workspace_id, Deal.campaign_id == campaign_id)
    )
    session.execute(
        delete(Campaign).where(Campaign.workspace_id == workspace_id, Campaign.id == campaign_id)
    )
