"""/api/v1/accounts/{id}/prices, /api/v1/plans (GET) and /api/v1/plans/deals: an account's price
ranges, a budget plan with its alternatives, and a plan turned into a campaign's deals
(docs/planning.md). Viewers price and plan (nothing is stored); members make the deals."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query
from pydantic import BaseModel

from microfluence.campaigns.schemas import DealPublic
from microfluence.catalog.accounts import find_account
from microfluence.kernel.store.tables import Workspace
from microfluence.planning.planner import make_plan
from microfluence.planning.prices import AccountPrices, account_prices_by_id
from microfluence.planning.schemas import (
    Objective,
    PlanDeals,
    PlanFormat,
    PlanResult,
    parse_quotas,
    plan_request,
)
from microfluence.planning.todeals import plan_to_deals
from microfluence.web.api.common import ITEM_ERRORS, WRITE_ERRORS
from microfluence.web.deps import ApiReader, ApiWriter, DbSession

router = APIRouter(tags=["planning"])
AccountId = Annotated[int, Path(ge=1, le=2**31 - 1)]


class PlanDealsResult(BaseModel):
    campaign_id: int
    deals: list[DealPublic]


@router.get("/accounts/{account_id}/prices", responses=ITEM_ERRORS)
def get_account_prices(db: DbSession, caller: ApiReader, account_id: AccountId) -> AccountPrices:
    """The price range (90 %) of every format the account's platform offers, each with its
    basis: the published band alone, or the workspace's deals over it."""
    account = find_account(db, caller.workspace_id, account_id)
    return account_prices_by_id(db, caller.workspace_id, account)


QuotaQ = Annotated[
    list[Annotated[str, Query(max_length=200)]] | None,
    Query(max_length=100, description="Quotas NAME=MIN:MAX (either side may be empty)."),
]


@router.get("/plans", responses=ITEM_ERRORS)
def get_plan(  # noqa: PLR0913  each constraint is a query parameter
    db: DbSession,
    caller: ApiReader,
    budget: Annotated[float, Query(gt=0, le=1e12, description="Money to spend (USD).")],
    objective: Annotated[Objective, Query(description="What to maximise.")] = "revenue",
    min_creators: Annotated[int | None, Query(ge=0, le=100_000)] = None,
    max_creators: Annotated[int | None, Query(ge=0, le=100_000)] = None,
    niche: QuotaQ = None,
    country: QuotaQ = None,
    tier: QuotaQ = None,
    min_aqs: Annotated[float | None, Query(ge=0, le=100)] = None,
    max_share: Annotated[float | None, Query(gt=0, le=1)] = None,
    max_overlap: Annotated[float | None, Query(ge=0, le=1)] = None,
    format_: Annotated[list[PlanFormat] | None, Query(alias="format", max_length=6)] = None,
    shortlist: Annotated[str | None, Query(max_length=200)] = None,
    seed: Annotated[int, Query(ge=0, le=2**31 - 1)] = 0,
) -> PlanResult:
    """Choose creators and deliverables for the budget and objective under the constraints:
    the plan with ranges and P(ROI > 0), the best single creator, the plan without
    constraints. Nothing is stored, so viewers may plan."""
    request = plan_request(
        budget=budget,
        objective=objective,
        min_creators=min_creators,
        max_creators=max_creators,
        niches=parse_quotas(niche, "niche"),
        countries=parse_quotas(country, "country"),
        tiers=parse_quotas(tier, "tier"),
        min_aqs=min_aqs,
        max_share=max_share,
        max_overlap=max_overlap,
        formats=format_ or None,
        shortlist=shortlist,
        seed=seed,
    )
    workspace = db.get_one(Workspace, caller.workspace_id)
    return make_plan(db, workspace, request)


@router.post("/plans/deals", status_code=201, responses=WRITE_ERRORS)
def post_plan_deals(db: DbSession, caller: ApiWriter, body: PlanDeals) -> PlanDealsResult:
    """Turn a plan's chosen set into deals (fee and package) of an existing campaign
    (`campaign_id`) or a new one (`campaign_name`), all or none."""
    campaign_id, deals = plan_to_deals(db, caller.workspace_id, body)
    return PlanDealsResult(campaign_id=campaign_id, deals=deals)
