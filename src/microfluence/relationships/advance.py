"""Moving a deal forward when something happens that shows it got further — the creator accepts
the brief (agreed), a gift ships (product shipped), a live post is approved (content live) —
through :func:`stages.move_deals`, so the move is recorded like any other. Never backwards: a
deal already at that stage or a later one of the pipeline stays where it is. A deal on a side
stage (declined, no reply, on hold) comes back to the pipeline, since the event shows it is
alive."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from microfluence.campaigns.tables import PIPELINE_STAGES, Deal
from microfluence.kernel.errors import NotFoundError
from microfluence.relationships.stages import move_deals


def deal_in(session: Session, workspace_id: int, deal_id: int, *, lock: bool = False) -> Deal:
    """The deal with this id in this workspace; NotFoundError otherwise. With ``lock``, its row
    is locked until the transaction ends (PostgreSQL; SQLite has one writer anyway), so two
    creators' clicks on one deal are decided one after the other."""
    query = select(Deal).where(Deal.workspace_id == workspace_id, Deal.id == deal_id)
    deal = session.scalar(query.with_for_update() if lock else query)
    if deal is None:
        raise NotFoundError(f"no deal with id {deal_id} in this workspace")
    return deal


def is_behind(current: str, stage: str) -> bool:
    """Whether a deal at ``current`` should move forward to pipeline stage ``stage``."""
    if current not in PIPELINE_STAGES:
        return True
    return PIPELINE_STAGES.index(current) < PIPELINE_STAGES.index(stage)


def advance(
    session: Session,
    workspace_id: int,
    deal_id: int,
    stage: str,
    *,
    actor: str | None,
    actor_kind: str,
    detail: Mapping[str, Any] | None = None,
) -> bool:
    """Move the deal to ``stage`` if it is behind it; whether it moved."""
    deal = deal_in(session, workspace_id, deal_id)
    if not is_behind(deal.stage, stage):
        return False
    moved = move_deals(
        session, workspace_id, [deal_id], stage, actor=actor, actor_kind=actor_kind, detail=detail
    )
    session.expire(deal)
    return bool(moved)
