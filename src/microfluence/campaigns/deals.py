"""Deals: one creator in one campaign, what they are paid and the package of deliverables they
owe (one ``deliverables`` row per piece)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from sqlalchemy import delete, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from microfluence.campaigns import values
from microfluence.campaigns.campaigns import find_campaign, piece_counts
from microfluence.campaigns.schemas import DealCreate, DealPublic, DealUpdate, PieceCounts
from microfluence.campaigns.tables import DELIVERABLE_FORMATS, Deal, Deliverable
from microfluence.catalog.accounts import find_account_by_handle, find_account_by_reference
from microfluence.catalog.validation import parse_account_reference
from microfluence.kernel.errors import ConflictError, InputError, NotFoundError
from microfluence.kernel.store.tables import Account, Creator, utcnow

MONEY_FIELDS = ("flat_fee", "product_value", "shipping_cost", "commission_rate")


def find_deal(session: Session, workspace_id: int, campaign_id: int, deal_id: int) -> Deal:
    """The deal with this id in this campaign of this workspace; NotFoundError otherwise."""
    deal = session.scalar(
        select(Deal).where(
            Deal.id == deal_id, Deal.campaign_id == campaign_id, Deal.workspace_id == workspace_id
        )
    )
    if deal is None:
        raise NotFoundError(f"no deal with id {deal_id} in this campaign")
    return deal


def find_deal_by_reference(
    session: Session, workspace_id: int, campaign_id: int, reference: str
) -> Deal:
    """The deal of the creator whose account ``PLATFORM:HANDLE`` names."""
    account = find_account_by_reference(session, workspace_id, reference)
    deal = session.scalar(
        select(Deal).where(
            Deal.workspace_id == workspace_id,
            Deal.campaign_id == campaign_id,
            Deal.creator_id == account.creator_id,
        )
    )
    if deal is None:
        raise NotFoundError(f"{account.platform}:{account.handle} has no deal in this campaign")
    return deal


def list_deals(session: Session, workspace_id: int, campaign_id: int) -> list[DealPublic]:
    """The campaign's deals with their package and pieces by status, by creator name."""
    find_campaign(session, workspace_id, campaign_id)
    return _public(session, workspace_id, Deal.campaign_id == campaign_id)


def get_deal(session: Session, workspace_id: int, campaign_id: int, deal_id: int) -> DealPublic:
    find_deal(session, workspace_id, campaign_id, deal_id)
    return _public(session, workspace_id, Deal.id == deal_id)[0]


def _public(session: Session, workspace_id: int, where: Any) -> list[DealPublic]:
    rows = session.execute(
        select(Deal, Creator.name, Account.platform, Account.handle)
        .join(Creator, Creator.id == Deal.creator_id)
        .outerjoin(Account, Account.id == Deal.account_id)
        .where(Deal.workspace_id == workspace_id, where)
        .order_by(Creator.name, Deal.id)
    ).all()
    ids = [row[0].id for row in rows]
    counts = piece_counts(session, workspace_id, Deal.id, Deal.id.in_(ids))
    packages: dict[int, dict[str, int]] = {i: {} for i in ids}
    for deal_id, fmt, n in session.execute(
        select(Deliverable.deal_id, Deliverable.format, func.count())
        .where(Deliverable.workspace_id == workspace_id, Deliverable.deal_id.in_(ids))
        .group_by(Deliverable.deal_id, Deliverable.format)
    ):
        packages[deal_id][fmt] = int(n)
    return [
        DealPublic(
            id=deal.id,
            campaign_id=deal.campaign_id,
            creator_id=deal.creator_id,
            creator_name=name,
            account_id=deal.account_id,
            account=f"{platform}:{handle}" if platform else None,
            flat_fee=deal.flat_fee,
            product_value=deal.product_value,
            shipping_cost=deal.shipping_cost,
            commission_rate=deal.commission_rate,
            package={
                f: packages[deal.id][f] for f in DELIVERABLE_FORMATS if f in packages[deal.id]
            },
            pieces=counts.get(deal.id, PieceCounts()),
            notes=deal.notes,
            created_at=deal.created_at,
            updated_at=deal.updated_at,
        )
        for deal, name, platform, handle in rows
    ]


def pending_due(
    session: Session, workspace_id: int, campaign_id: int, deal_id: int
) -> dict[str, dt.date]:
    """Format -> the due date its pending pieces share: a format whose pending pieces have no
    date, or several, is left out (sending this back as ``due`` changes no date)."""
    find_deal(session, workspace_id, campaign_id, deal_id)
    rows = session.execute(
        select(Deliverable.format, func.min(Deliverable.due_on))
        .where(
            Deliverable.workspace_id == workspace_id,
            Deliverable.deal_id == deal_id,
            Deliverable.status == "pending",
        )
        .group_by(Deliverable.format)
        .having(
            func.count(Deliverable.due_on) == func.count(),
            func.min(Deliverable.due_on) == func.max(Deliverable.due_on),
        )
    )
    return {fmt: day for fmt, day in rows}


def _pieces(
    workspace_id: int, deal_id: int, package: Mapping[str, int], due: Mapping[str, Any]
) -> list[dict[str, Any]]:
    now = utcnow()
    return [
        {
            "workspace_id": workspace_id,
            "deal_id": deal_id,
            "format": fmt,
            "due_on": values.due_for(due, fmt),
            "status": "pending",
            "rejected_post_ids": [],
            "created_at": now,
            "updated_at": now,
        }
        for fmt, count in package.items()
        for _ in range(count)
    ]


def _due(data: DealCreate | DealUpdate) -> dict[str, dt.date | None]:
    due = data.due
    if due is None:
        return {}
    return {"*": due} if isinstance(due, dt.date) else dict(due)


def add_deal(session: Session, workspace_id: int, campaign_id: int, data: DealCreate) -> DealPublic:
    """Add the creator of account ``data.creator`` (PLATFORM:HANDLE) to the campaign, with the
    deal's money and its package of deliverables; a creator is in a campaign at most once."""
    campaign = find_campaign(session, workspace_id, campaign_id)
    platform, handle = parse_account_reference(data.creator, field="creator")
    try:
        account = find_account_by_handle(session, workspace_id, platform, handle)
    except NotFoundError as exc:
        raise InputError(str(exc), field="creator", value=data.creator) from None
    clash = session.scalar(
        select(Deal.id).where(
            Deal.campaign_id == campaign.id, Deal.creator_id == account.creator_id
        )
    )
    if clash is not None:
        raise ConflictError(_already(account, campaign.name))
    now = utcnow()
    deal = Deal(
        workspace_id=workspace_id,
        campaign_id=campaign.id,
        creator_id=account.creator_id,
        account_id=account.id,
        notes=data.notes,
        created_at=now,
        updated_at=now,
        **{name: getattr(data, name) for name in MONEY_FIELDS},
    )
    session.add(deal)
    try:
        with session.begin_nested():
            session.flush()
    except IntegrityError as exc:  # a concurrent add of the same creator won
        raise ConflictError(_already(account, campaign.name)) from exc
    pieces = _pieces(workspace_id, deal.id, data.package, _due(data))
    if pieces:
        session.execute(Deliverable.__table__.insert(), pieces)
    return get_deal(session, workspace_id, campaign.id, deal.id)


def _already(account: Account, campaign: str) -> str:
    return (
        f"the creator of {account.platform}:{account.handle} already has a deal in campaign "
        f"{campaign!r}: change it with an update"
    )


def update_deal(
    session: Session, workspace_id: int, campaign_id: int, deal_id: int, data: DealUpdate
) -> DealPublic:
    """Change the fields sent. A new package replaces the old one: pending pieces are added or
    removed (the latest due first), never a matched or confirmed one — asking for fewer pieces of
    a format than are matched is refused. New due dates apply to the pending pieces."""
    deal = find_deal(session, workspace_id, campaign_id, deal_id)
    changes = data.model_dump(exclude_unset=True, exclude={"package", "due"})
    for name, value in changes.items():
        if value is None and name != "notes":
            raise InputError("cannot be cleared (send 0 instead)", field=name)
        setattr(deal, name, value)
    due = _due(data) if "due" in data.model_fields_set else {}
    if data.package is not None:
        _repackage(session, deal, data.package, due)
    if due:
        _redate(session, deal, due)
    deal.updated_at = utcnow()
    session.flush()
    return get_deal(session, workspace_id, campaign_id, deal_id)


def _repackage(
    session: Session, deal: Deal, package: Mapping[str, int], due: Mapping[str, Any]
) -> None:
    rows = session.execute(
        select(Deliverable.id, Deliverable.format, Deliverable.status)
        .where(Deliverable.workspace_id == deal.workspace_id, Deliverable.deal_id == deal.id)
        .order_by(
            Deliverable.format,
            Deliverable.due_on.is_(None).desc(),
            Deliverable.due_on.desc(),
            Deliverable.id.desc(),
        )
    ).all()
    removed: list[int] = []
    added: dict[str, int] = {}
    for fmt in DELIVERABLE_FORMATS:
        mine = [r for r in rows if r.format == fmt]
        held = sum(r.status != "pending" for r in mine)
        wanted = package.get(fmt, 0)
        if wanted < held:
            raise InputError(
                f"{fmt}: {held} piece(s) already matched or confirmed; the package cannot ask "
                f"for fewer (reject a match first)",
                field="package",
            )
        pending = [r.id for r in mine if r.status == "pending"]  # the latest due first
        surplus = len(mine) - wanted
        removed += pending[:surplus] if surplus > 0 else []
        added[fmt] = max(0, -surplus)
    if removed:
        session.execute(delete(Deliverable).where(Deliverable.id.in_(removed)))
    pieces = _pieces(deal.workspace_id, deal.id, added, due)
    if pieces:
        session.execute(Deliverable.__table__.insert(), pieces)


def _redate(session: Session, deal: Deal, due: Mapping[str, Any]) -> None:
    pending = session.scalars(
        select(Deliverable).where(
            Deliverable.workspace_id == deal.workspace_id,
            Deliverable.deal_id == deal.id,
            Deliverable.status == "pending",
        )
    )
    for piece in pending:
        if piece.format in due or "*" in due:
            piece.due_on = values.due_for(due, piece.format)


def remove_deal(session: Session, workspace_id: int, campaign_id: int, deal_id: int) -> None:
    """Take the creator out of the campaign, with the deal's deliverables."""
    find_deal(session, workspace_id, campaign_id, deal_id)
    session.execute(
        delete(Deliverable).where(
            Deliverable.workspace_id == workspace_id, Deliverable.deal_id == deal_id
        )
    )
    session.execute(delete(Deal).where(Deal.workspace_id == workspace_id, Deal.id == deal_id))
