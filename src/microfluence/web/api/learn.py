"""/api/v1/campaigns/{id}/learn: test-and-learn over a campaign (and others pooled with it) —
the tested creators' posteriors, flags and the next round's split (docs/planning.md)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query

from microfluence.catalog.schemas import ID_MAX
from microfluence.planning.learn import DRAWS, MAX_DRAWS, MIN_DRAWS, learn_report
from microfluence.planning.learn_schemas import LearnReport
from microfluence.planning.learn_split import DEFAULT_EXPLORE, DEFAULT_MAX_MULTIPLE
from microfluence.web.api.common import ITEM_ERRORS
from microfluence.web.deps import ApiReader, DbSession

router = APIRouter(tags=["planning"])


@router.get("/campaigns/{campaign_id}/learn", responses=ITEM_ERRORS)
def get_campaign_learn(
    db: DbSession,
    caller: ApiReader,
    campaign_id: Annotated[int, Path(ge=1, le=ID_MAX)],
    also: Annotated[
        list[Annotated[int, Query(ge=1, le=ID_MAX)]] | None,
        Query(max_length=50, description="Other campaigns to pool with this one (repeatable)."),
    ] = None,
    budget: Annotated[
        float | None,
        Query(ge=0, le=1e12, description="Next round's budget (default: the last round's fees)."),
    ] = None,
    explore: Annotated[
        float, Query(ge=0, le=1, description="Least share kept for new creators.")
    ] = DEFAULT_EXPLORE,
    max_multiple: Annotated[
        float, Query(gt=0, le=1000, description="Most a creator gets, × what they were paid.")
    ] = DEFAULT_MAX_MULTIPLE,
    draws: Annotated[int, Query(ge=MIN_DRAWS, le=MAX_DRAWS)] = DRAWS,
    seed: Annotated[int, Query(ge=0, lt=2**32)] = 0,
) -> LearnReport:
    """The tested creators ranked by posterior revenue per click, with 95 % intervals, flags
    against the pooled rates, the priors, and the next round's Thompson-sampling split."""
    return learn_report(
        db,
        caller.workspace_id,
        [campaign_id, *(also or [])],
        budget=budget,
        explore=explore,
        max_multiple=max_multiple,
        draws=draws,
        seed=seed,
    )
