"""A plan becomes a campaign's deals in one step: each chosen account gets a deal with the
planned fee and its format's package (campaigns.deals), in an existing campaign or a new one,
all in the caller's transaction (one failure adds none)."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

from sqlalchemy.orm import Session

from microfluence.campaigns.campaigns import create_campaign, find_campaign
from microfluence.campaigns.deals import add_deal
from microfluence.campaigns.schemas import CampaignCreate, DealCreate, DealPublic, parse_model
from microfluence.catalog.validation import parse_account_reference
from microfluence.kernel.errors import InputError
from microfluence.planning import rates
from microfluence.planning.schemas import PlanDeals


def plan_to_deals(
    session: Session, workspace_id: int, data: PlanDeals
) -> tuple[int, list[DealPublic]]:
    """The campaign's id and the deals added, one per item of the plan."""
    if (data.campaign_id is None) == (data.campaign_name is None):
        raise InputError(
            "give either campaign_id or campaign_name (a new campaign)", field="campaign_id"
        )
    seen: set[str] = set()
    for i, item in enumerate(data.items):
        platform, handle = parse_account_reference(item.account, field=f"items.{i}.account")
        if item.format not in rates.formats_for(platform):
            raise InputError(
                f"{platform} does not offer the format {item.format!r}",
                field=f"items.{i}.format",
            )
        key = f"{platform}:{handle.lower()}"
        if key in seen:
            raise InputError(f"{item.account} is in the plan twice", field=f"items.{i}.account")
        seen.add(key)
    if data.campaign_id is not None:
        campaign_id = find_campaign(session, workspace_id, data.campaign_id).id
    else:
        budget = sum(Decimal(str(item.fee)) for item in data.items)
        made = create_campaign(
            session,
            workspace_id,
            parse_model(
                CampaignCreate,
                {"name": data.campaign_name, "budget": str(_cents(budget)), "goal": "sales"},
            ),
        )
        campaign_id = made.id
    deals = []
    for i, item in enumerate(data.items):  # one deal per chosen creator: the plan's few rows
        platform, _ = parse_account_reference(item.account, field=f"items.{i}.account")
        try:
            deal = DealCreate(
                creator=item.account,
                flat_fee=_cents(Decimal(str(item.fee))),
                package=rates.package_of(platform, item.format),
            )
            deals.append(add_deal(session, workspace_id, campaign_id, deal))
        except InputError as exc:
            raise InputError(exc.message, field=f"items.{i}.{exc.field or 'account'}") from None
    return campaign_id, deals


def _cents(value: Decimal) -> Decimal:
    return value.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
