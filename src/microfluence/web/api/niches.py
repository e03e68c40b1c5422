"""/api/v1/accounts/{id}/niches (read, correct) and /api/v1/niches/recompute."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path

from microfluence.discovery.niches import get_niches, recompute_niches, set_niches
from microfluence.discovery.schemas import (
    AccountNichesPublic,
    NicheRecompute,
    NicheRunPublic,
    NichesCorrection,
)
from microfluence.discovery.vectors import recompute_vectors
from microfluence.relationships.audit import actor_of
from microfluence.web.api.common import ITEM_ERRORS, WRITE_ERRORS
from microfluence.web.deps import ApiReader, ApiWriter, DbSession

router = APIRouter(tags=["niches"])
AccountId = Annotated[int, Path(ge=1, le=2**31 - 1)]


@router.get("/accounts/{account_id}/niches", responses=ITEM_ERRORS)
def account_niches(db: DbSession, caller: ApiReader, account_id: AccountId) -> AccountNichesPublic:
    """The account's niches with confidences (a hand correction wins) and the model's."""
    return AccountNichesPublic.of(get_niches(db, caller.workspace_id, account_id))


@router.put("/accounts/{account_id}/niches", responses=WRITE_ERRORS)
def correct_niches(
    db: DbSession, caller: ApiWriter, account_id: AccountId, body: NichesCorrection
) -> AccountNichesPublic:
    """Correct the account's niches by hand; a re-run never overwrites it. [] removes it."""
    result = set_niches(
        db, caller.workspace_id, account_id, body.niches, by=actor_of(db, caller, "api").label
    )
    return AccountNichesPublic.of(result)


@router.post("/niches/recompute", responses=WRITE_ERRORS)
def recompute(db: DbSession, caller: ApiWriter, body: NicheRecompute) -> NicheRunPublic:
    """Score the accounts whose posts or profile changed (all with `all`), in this request;
    their vectors for semantic search and lookalikes follow."""
    run = recompute_niches(db, caller.workspace_id, everything=body.all)
    recompute_vectors(db, caller.workspace_id, everything=body.all)
    return NicheRunPublic.of(run)
