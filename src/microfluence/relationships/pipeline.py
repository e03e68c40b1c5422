"""A campaign's pipeline: its deals grouped by stage (the board, or one sorted list), moving one
or many of them, and the history of one.

Moves go through :func:`relationships.stages.move_deals` (all or nothing, one event per moved
deal, with who and when); here they are first checked to be deals of *this* campaign, named by
id or by an account of their creator.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from decimal import Decimal
from typing import Any

from sqlalchemy import case, func, select
from sqlalchemy.orm import Session

from microfluence.campaigns.campaigns import find_campaign
from microfluence.campaigns.tables import PIPELINE_STAGES, SIDE_STAGES, STAGES, Deal
from microfluence.catalog.accounts import find_account_by_reference
from microfluence.catalog.listing import order_by
from microfluence.kernel.errors import InputError, NotFoundError
from microfluence.kernel.store.tables import Account, Creator, utcnow
from microfluence.relationships.schemas import Board, Card, Column, Event, MoveResult
from microfluence.relationships.stages import check_stage, deal_history, move_deals

LIST_SORTS = ("stage", "creator", "days", "fee")
SECONDS_A_DAY = 86_400.0


def _stage_rank() -> Any:
    return case({stage: rank for rank, stage in enumerate(STAGES)}, value=Deal.stage, else_=99)


def pipeline_cards(
    session: Session,
    workspace_id: int,
    campaign_id: int,
    *,
    sort: str = "stage",
    now: dt.datetime | None = None,
    deal_id: int | None = None,
) -> list[Card]:
    """The campaign's deals as cards, sorted in the database by ``sort`` (one of
    ``LIST_SORTS``, '-' in front for descending; ``days`` is time in the stage)."""
    find_campaign(session, workspace_id, campaign_id)
    now = now or utcnow()
    first_account = (
        select(func.min(Account.id))
        .where(Account.workspace_id == workspace_id, Account.creator_id == Deal.creator_id)
        .correlate(Deal)
        .scalar_subquery()
    )
    columns = {
        "stage": _stage_rank(),
        "creator": Creator.name,
        "days": Deal.stage_changed_at,
        "fee": Deal.flat_fee,
    }
    key = sort.strip()
    if key.lstrip("-") == "days":  # more days in the stage is an earlier change
        key = key.lstrip("-") if key.startswith("-") else "-days"
    ordering = order_by(key, columns, Deal.id, allowed=LIST_SORTS)
    if key.lstrip("-") == "stage":  # within a stage: the longest there first
        ordering.insert(1, Deal.stage_changed_at.asc())
    rows = session.execute(
        select(
            Deal.id,
            Deal.creator_id,
            Creator.name,
            Account.platform,
            Account.handle,
            Deal.stage,
            Deal.stage_changed_at,
            Deal.flat_fee,
        )
        .join(Creator, Creator.id == Deal.creator_id)
        .outerjoin(Account, Account.id == func.coalesce(Deal.account_id, first_account))
        .where(Deal.workspace_id == workspace_id, Deal.campaign_id == campaign_id)
        .where(Deal.id == deal_id if deal_id is not None else Deal.id.is_not(None))
        .order_by(*ordering)
    ).all()
    return [
        Card(
            deal_id=row.id,
            creator_id=row.creator_id,
            creator_name=row.name,
            account=f"{row.platform}:{row.handle}" if row.platform else None,
            stage=row.stage,
            stage_changed_at=row.stage_changed_at,
            days_in_stage=max(0.0, (now - row.stage_changed_at).total_seconds() / SECONDS_A_DAY),
            flat_fee=row.flat_fee if row.flat_fee is not None else Decimal("0"),
            has_fee=bool(row.flat_fee),
        )
        for row in rows
    ]


def card(
    session: Session,
    workspace_id: int,
    campaign_id: int,
    deal_id: int,
    *,
    now: dt.datetime | None = None,
) -> Card:
    """One deal of the campaign as a card; NotFoundError when it is not one of its deals."""
    found = pipeline_cards(session, workspace_id, campaign_id, now=now, deal_id=deal_id)
    if not found:
        raise NotFoundError(f"no deal with id {deal_id} in this campaign")
    return found[0]


def board(
    session: Session, workspace_id: int, campaign_id: int, *, now: dt.datetime | None = None
) -> Board:
    """The campaign's board: a column per stage, the main path in order then the side stages,
    each with its deals, the longest in the stage first."""
    campaign = find_campaign(session, workspace_id, campaign_id)
    cards = pipeline_cards(session, workspace_id, campaign_id, sort="stage", now=now)
    by_stage: dict[str, list[Card]] = {stage: [] for stage in STAGES}
    for card in cards:
        by_stage.setdefault(card.stage, []).append(card)
    return Board(
        campaign_id=campaign.id,
        campaign_name=campaign.name,
        currency=campaign.currency,
        columns=[
            Column(stage=stage, main=stage in PIPELINE_STAGES, cards=by_stage[stage])
            for stage in (*PIPELINE_STAGES, *SIDE_STAGES)
        ],
    )


def deal_ids_of(
    session: Session,
    workspace_id: int,
    campaign_id: int,
    *,
    deal_ids: Sequence[int] = (),
    creators: Sequence[str] = (),
) -> list[int]:
    """The ids of these deals of the campaign, named by id or by ``PLATFORM:HANDLE`` of an
    account of their creator; NotFoundError naming the first that is not in the campaign."""
    find_campaign(session, workspace_id, campaign_id)
    wanted = set(deal_ids)
    found = set(
        session.scalars(
            select(Deal.id).where(
                Deal.workspace_id == workspace_id,
                Deal.campaign_id == campaign_id,
                Deal.id.in_(wanted),
            )
        )
    )
    if wanted - found:
        raise NotFoundError(f"no deal with id {min(wanted - found)} in this campaign")
    for index, reference in enumerate(creators):
        try:
            account = find_account_by_reference(session, workspace_id, reference)
        except InputError as exc:
            raise InputError(f"creators[{index}]: {exc.message}", field="creators") from None
        except NotFoundError as exc:
            raise NotFoundError(f"creators[{index}]: {exc}") from None
        deal_id = session.scalar(
            select(Deal.id).where(
                Deal.workspace_id == workspace_id,
                Deal.campaign_id == campaign_id,
                Deal.creator_id == account.creator_id,
            )
        )
        if deal_id is None:
            raise NotFoundError(
                f"creators[{index}]: {account.platform}:{account.handle} has no deal in this "
                "campaign"
            )
        found.add(deal_id)
    return sorted(found)


def move(
    session: Session,
    workspace_id: int,
    campaign_id: int,
    stage: str,
    *,
    deal_ids: Sequence[int] = (),
    creators: Sequence[str] = (),
    actor: str | None,
    actor_kind: str = "user",
    at: dt.datetime | None = None,
) -> MoveResult:
    """Move these deals of the campaign to ``stage``, all or none; who and when are recorded
    for each deal that moved."""
    to_stage = check_stage(stage)
    ids = deal_ids_of(session, workspace_id, campaign_id, deal_ids=deal_ids, creators=creators)
    if not ids:
        raise InputError("name at least one deal to move", field="deal_ids")
    moved = move_deals(
        session, workspace_id, ids, to_stage, actor=actor, actor_kind=actor_kind, at=at
    )
    return MoveResult(stage=to_stage, moved=sorted(moved), unchanged=sorted(set(ids) - set(moved)))


def history(session: Session, workspace_id: int, campaign_id: int, deal_id: int) -> list[Event]:
    """The deal's events, oldest first: stage moves and everything else that happened to it."""
    deal_ids_of(session, workspace_id, campaign_id, deal_ids=[deal_id])
    return [
        Event(
            id=e.id,
            deal_id=e.deal_id,
            at=e.at,
            kind=e.kind,
            actor_kind=e.actor_kind,
            actor=e.actor,
            from_stage=e.from_stage,
            to_stage=e.to_stage,
            detail=dict(e.detail or {}),
        )
        for e in deal_history(session, workspace_id, deal_id)
    ]
