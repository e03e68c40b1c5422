"""Niches on the creator profile: each account's niches with confidences, and the form a
member corrects them with (``POST /accounts/{id}/niches``)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Path
from fastapi.responses import RedirectResponse
from sqlalchemy.orm import Session

from microfluence.catalog.accounts import find_account
from microfluence.catalog.schemas import ID_MAX
from microfluence.discovery.niches import get_niches, set_niches
from microfluence.discovery.taxonomy import LABELS, NICHES
from microfluence.relationships.audit import actor_of
from microfluence.web.deps import CsrfChecked, DbSession, PageWriter

router = APIRouter(tags=["pages"], include_in_schema=False)
Id = Annotated[int, Path(ge=1, le=ID_MAX)]


def account_niches(db: Session, workspace_id: int, account_ids: list[int]) -> dict:
    """What the profile's niche lines show: each account's niches, and the names to pick."""
    return {
        "niches_of": {i: get_niches(db, workspace_id, i) for i in account_ids},
        "niche_names": [(n, LABELS[n]) for n in NICHES],
    }


@router.post("/accounts/{account_id}/niches", dependencies=[CsrfChecked])
def correct_niches(
    db: DbSession,
    caller: PageWriter,
    account_id: Id,
    niches: Annotated[list[str] | None, Form(max_length=20)] = None,
) -> RedirectResponse:
    """Store the ticked niches as the account's hand correction (none ticked: remove it)."""
    account = find_account(db, caller.workspace_id, account_id)
    set_niches(
        db, caller.workspace_id, account_id, niches or [], by=actor_of(db, caller, "page").label
    )
    return RedirectResponse(f"/creators/{account.creator_id}#niches-{account_id}", status_code=303)
