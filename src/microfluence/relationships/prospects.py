"""Adding creators to a campaign as prospects: a deal at stage ``prospect``, no fee and no
deliverables yet, from a selection of the creators list, a search result or a list of
``PLATFORM:HANDLE`` references.

A creator already in the campaign is reported back and left as it is (whatever its stage); a
creator that does not exist in the workspace refuses the whole batch, so nothing is half-added.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from sqlalchemy import insert, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from microfluence.campaigns.campaigns import find_campaign
from microfluence.campaigns.tables import PIPELINE_STAGES, Deal
from microfluence.catalog.accounts import find_account_by_reference
from microfluence.kernel.errors import ConflictError, InputError, NotFoundError
from microfluence.kernel.store.tables import Creator, utcnow
from microfluence.relationships.schemas import Prospect, ProspectsResult
from microfluence.relationships.stages import check_actor
from microfluence.relationships.tables import DealEvent

PROSPECT = PIPELINE_STAGES[0]


def _resolve(
    session: Session, workspace_id: int, creator_ids: Sequence[int], creators: Sequence[str]
) -> dict[int, int | None]:
    """creator id -> the account the deal is about (None: any of the creator's accounts), in
    the order given; NotFoundError or InputError naming the first creator that is not there."""
    wanted: dict[int, int | None] = dict.fromkeys(creator_ids)
    known = set(
        session.scalars(
            select(Creator.id).where(
                Creator.workspace_id == workspace_id, Creator.id.in_(set(creator_ids))
            )
        )
    )
    missing = [i for i in creator_ids if i not in known]
    if missing:
        raise NotFoundError(f"creator_ids: no creator with id {missing[0]} in this workspace")
    for index, reference in enumerate(creators):
        try:
            account = find_account_by_reference(session, workspace_id, reference)
        except InputError as exc:
            raise InputError(f"creators[{index}]: {exc.message}", field="creators") from None
        except NotFoundError as exc:
            raise NotFoundError(f"creators[{index}]: {exc}") from None
        if wanted.get(account.creator_id) is None:
            wanted[account.creator_id] = account.id
    return wanted


def add_prospects(
    session: Session,
    workspace_id: int,
    campaign_id: int,
    *,
    creator_ids: Sequence[int] = (),
    creators: Sequence[str] = (),
    actor: str | None,
    actor_kind: str = "user",
    source: str | None = None,
    at: dt.datetime | None = None,
) -> ProspectsResult:
    """Add these creators (by id, or by ``PLATFORM:HANDLE`` of one of their accounts) to the
    campaign as prospects. Each new deal's history starts with an ``added`` event (who, when,
    from where: ``source``)."""
    check_actor(actor_kind)
    campaign = find_campaign(session, workspace_id, campaign_id)
    wanted = _resolve(session, workspace_id, creator_ids, creators)
    if not wanted:
        raise InputError("name at least one creator to add", field="creator_ids")
    existing = dict(
        session.execute(
            select(Deal.creator_id, Deal.id).where(
                Deal.workspace_id == workspace_id,
                Deal.campaign_id == campaign.id,
                Deal.creator_id.in_(set(wanted)),
            )
        ).all()
    )
    new = [c for c in wanted if c not in existing]
    when = at or utcnow()
    if new:
        try:
            with session.begin_nested():
                session.execute(
                    insert(Deal),
                    [
                        {
                            "workspace_id": workspace_id,
                            "campaign_id": campaign.id,
                            "creator_id": creator_id,
                            "account_id": wanted[creator_id],
                            "stage": PROSPECT,
                            "stage_changed_at": when,
                            "created_at": when,
                            "updated_at": when,
                        }
                        for creator_id in new
                    ],
                )
        except IntegrityError as exc:  # a concurrent add of one of them won
            raise ConflictError(
                "another add to this campaign ran at the same time: try again"
            ) from exc
    added_ids = _deal_ids(session, workspace_id, campaign.id, new)
    if added_ids:
        session.execute(
            insert(DealEvent),
            [
                {
                    "workspace_id": workspace_id,
                    "deal_id": deal_id,
                    "at": when,
                    "actor_kind": actor_kind,
                    "actor": actor,
                    "kind": "added",
                    "to_stage": PROSPECT,
                    "detail": {"source": source} if source else {},
                }
                for deal_id in added_ids.values()
            ],
        )
    names = _names(session, workspace_id, list(wanted))
    return ProspectsResult(
        campaign_id=campaign.id,
        added=[Prospect(creator_id=c, creator_name=names[c], deal_id=added_ids[c]) for c in new],
        already=[
            Prospect(creator_id=c, creator_name=names[c], deal_id=existing[c])
            for c in wanted
            if c in existing
        ],
    )


def _deal_ids(
    session: Session, workspace_id: int, campaign_id: int, creator_ids: list[int]
) -> dict[int, int]:
    if not creator_ids:
        return {}
    return dict(
        session.execute(
            select(Deal.creator_id, Deal.id).where(
                Deal.workspace_id == workspace_id,
                Deal.campaign_id == campaign_id,
                Deal.creator_id.in_(creator_ids),
            )
        ).all()
    )


def _names(session: Session, workspace_id: int, creator_ids: list[int]) -> dict[int, str | None]:
    return dict(
        session.execute(
            select(Creator.id, Creator.name).where(
                Creator.workspace_id == workspace_id, Creator.id.in_(creator_ids)
            )
        ).all()
    )
