"""Moving deals through the pipeline, and the history every move leaves (``deal_events``).

A move is recorded with who made it and when; moving a deal to the stage it is already at
records nothing. Several deals move in one statement (a bulk move from the board or the CLI),
all or none: an unknown deal id, or one of another workspace, refuses the whole move.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import insert, select, update
from sqlalchemy.orm import Session

from microfluence.campaigns.tables import STAGES, Deal
from microfluence.kernel.errors import InputError, NotFoundError
from microfluence.kernel.store.tables import utcnow
from microfluence.relationships.tables import ACTOR_KINDS, DealEvent


def check_stage(stage: str, field: str = "stage") -> str:
    """The stage, normalised (``Content live`` -> ``content_live``); InputError naming the
    field and the stages otherwise."""
    value = stage.strip().lower().replace(" ", "_").replace("-", "_")
    if value not in STAGES:
        raise InputError(f"{field}: unknown stage {stage!r}; one of {', '.join(STAGES)}")
    return value


def check_actor(actor_kind: str) -> str:
    if actor_kind not in ACTOR_KINDS:
        raise InputError(f"actor_kind: one of {', '.join(ACTOR_KINDS)}, not {actor_kind!r}")
    return actor_kind


def move_deals(
    session: Session,
    workspace_id: int,
    deal_ids: Sequence[int],
    stage: str,
    *,
    actor: str | None,
    actor_kind: str = "user",
    detail: Mapping[str, Any] | None = None,
    at: dt.datetime | None = None,
) -> list[int]:
    """Move these deals of the workspace to ``stage``; the ids of the deals that moved (those
    already there are left alone). One event per moved deal, with its previous stage."""
    to_stage = check_stage(stage)
    check_actor(actor_kind)
    wanted = sorted(set(deal_ids))
    rows = session.execute(
        select(Deal.id, Deal.stage)
        .where(Deal.workspace_id == workspace_id, Deal.id.in_(wanted))
        .with_for_update()
    ).all()
    missing = set(wanted) - {row.id for row in rows}
    if missing:
        raise NotFoundError(f"no deal with id {min(missing)} in this workspace")
    moving = [row for row in rows if row.stage != to_stage]
    if not moving:
        return []
    when = at or utcnow()
    ids = [row.id for row in moving]
    session.execute(
        update(Deal)
        .where(Deal.workspace_id == workspace_id, Deal.id.in_(ids))
        .values(stage=to_stage, stage_changed_at=when, updated_at=when)
        .execution_options(synchronize_session=False)
    )
    session.execute(
        insert(DealEvent),
        [
            {
                "workspace_id": workspace_id,
                "deal_id": row.id,
                "at": when,
                "actor_kind": actor_kind,
                "actor": actor,
                "kind": "stage",
                "from_stage": row.stage,
                "to_stage": to_stage,
                "detail": dict(detail or {}),
            }
            for row in moving
        ],
    )
    return ids


def record_event(
    session: Session,
    workspace_id: int,
    deal_id: int,
    kind: str,
    *,
    actor: str | None,
    actor_kind: str = "user",
    detail: Mapping[str, Any] | None = None,
    at: dt.datetime | None = None,
) -> DealEvent:
    """Record something that happened to a deal other than a stage move (a message sent, a
    reply, a portal action, a shipment)."""
    check_actor(actor_kind)
    if kind == "stage":
        raise InputError("kind: stage moves are recorded by move_deals")
    found = session.scalar(
        select(Deal.id).where(Deal.workspace_id == workspace_id, Deal.id == deal_id)
    )
    if found is None:
        raise NotFoundError(f"no deal with id {deal_id} in this workspace")
    event = DealEvent(
        workspace_id=workspace_id,
        deal_id=deal_id,
        at=at or utcnow(),
        actor_kind=actor_kind,
        actor=actor,
        kind=kind,
        detail=dict(detail or {}),
    )
    session.add(event)
    session.flush()
    return event


def deal_history(session: Session, workspace_id: int, deal_id: int) -> list[DealEvent]:
    """The deal's events, oldest first."""
    return list(
        session.scalars(
            select(DealEvent)
            .where(DealEvent.workspace_id == workspace_id, DealEvent.deal_id == deal_id)
            .order_by(DealEvent.at, DealEvent.id)
        )
    )
