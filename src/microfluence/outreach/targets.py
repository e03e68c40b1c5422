"""Whom a send goes to: the deals of a campaign, all of them or those of the creators named
``PLATFORM:HANDLE`` (the command's arguments, the API's ``creators``)."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session

from microfluence.campaigns.campaigns import find_campaign, find_campaign_by_name
from microfluence.campaigns.deals import find_deal_by_reference
from microfluence.campaigns.tables import Campaign, Deal
from microfluence.kernel.errors import InputError, NotFoundError
from microfluence.kernel.store.tables import Account, Creator
from microfluence.relationships.stages import check_stage

MAX_CHOICES = 500


def campaign_of(session: Session, workspace_id: int, reference: str | int) -> Campaign:
    """A campaign by id (digits) or name."""
    text = str(reference).strip()
    if text.isdigit():
        return find_campaign(session, workspace_id, int(text))
    return find_campaign_by_name(session, workspace_id, text)


def deal_ids_for(
    session: Session, workspace_id: int, campaign_id: int, creators: Sequence[str] = ()
) -> list[int]:
    """The campaign's deals (by id) — of the named creators, in their order, when any."""
    if creators:
        for n, reference in enumerate(creators, start=1):
            if ":" not in reference:
                raise InputError(
                    f"expected PLATFORM:HANDLE, got {reference[:80]!r}", field=f"creators[{n}]"
                )
        return list(
            dict.fromkeys(
                find_deal_by_reference(session, workspace_id, campaign_id, ref).id
                for ref in creators
            )
        )
    ids = list(
        session.scalars(
            select(Deal.id)
            .where(Deal.workspace_id == workspace_id, Deal.campaign_id == campaign_id)
            .order_by(Deal.id)
        )
    )
    if not ids:
        raise InputError("the campaign has no deals to write to", field="campaign")
    return ids


def deal_choices(session: Session, workspace_id: int) -> list[dict[str, object]]:
    """Deals to preview a template for, labelled ``campaign · creator`` (at most 500)."""
    rows = session.execute(
        select(Deal.id, Creator.name, Campaign.name)
        .join(Creator, Creator.id == Deal.creator_id)
        .join(Campaign, Campaign.id == Deal.campaign_id)
        .where(Deal.workspace_id == workspace_id)
        .order_by(Campaign.name, Creator.name, Deal.id)
        .limit(MAX_CHOICES)
    ).all()
    return [{"id": i, "label": f"{c} · {n or 'creator'}"} for i, n, c in rows]


def deal_ids_chosen(  # noqa: PLR0913  the three ways to choose
    session: Session,
    workspace_id: int,
    campaign_id: int,
    *,
    creators: Sequence[str] = (),
    stage: str | None = None,
    deal_ids: Sequence[int] = (),
) -> list[int]:
    """The deals a send goes to: those ticked (``deal_ids``, each of the campaign), else those
    of the creators named, else the campaign's deals at ``stage``, else all of them."""
    if deal_ids:
        wanted = list(dict.fromkeys(deal_ids))
        found = set(
            session.scalars(
                select(Deal.id).where(
                    Deal.workspace_id == workspace_id,
                    Deal.campaign_id == campaign_id,
                    Deal.id.in_(wanted),
                )
            )
        )
        missing = [i for i in wanted if i not in found]
        if missing:
            raise NotFoundError(f"deal_ids: no deal {missing[0]} in this campaign")
        return wanted
    if creators or stage is None:
        return deal_ids_for(session, workspace_id, campaign_id, creators)
    at = check_stage(stage)
    ids = list(
        session.scalars(
            select(Deal.id)
            .where(
                Deal.workspace_id == workspace_id,
                Deal.campaign_id == campaign_id,
                Deal.stage == at,
            )
            .order_by(Deal.id)
        )
    )
    if not ids:
        raise InputError(f"the campaign has no deal at stage {at}", field="stage")
    return ids


def campaign_deals(
    session: Session, workspace_id: int, campaign_id: int
) -> list[dict[str, object]]:
    """The campaign's deals to tick on the send form: id, creator, handle, stage (at most 500)."""
    rows = session.execute(
        select(Deal.id, Creator.name, Account.platform, Account.handle, Deal.stage)
        .join(Creator, Creator.id == Deal.creator_id)
        .outerjoin(Account, Account.id == Deal.account_id)
        .where(Deal.workspace_id == workspace_id, Deal.campaign_id == campaign_id)
        .order_by(Creator.name, Deal.id)
        .limit(MAX_CHOICES)
    ).all()
    return [
        {
            "id": i,
            "creator": name or "creator",
            "account": f"{platform}:{handle}" if handle else "",
            "stage": stage,
        }
        for i, name, platform, handle, stage in rows
    ]
