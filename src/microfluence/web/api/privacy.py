"""/api/v1/follower-samples, /api/v1/accounts/{id}/followers, /api/v1/creators/{id}/record:
third parties' data and a creator's whole record, for owners."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path
from fastapi.responses import FileResponse, JSONResponse
from pydantic import BaseModel

from microfluence.access.principal import Principal
from microfluence.catalog import followers as samples
from microfluence.catalog.schemas import Page, UtcDateTime
from microfluence.export.privacy import creator_record, export_follower_sample
from microfluence.relationships.audit import actor_of
from microfluence.web.api.common import ITEM_ERRORS, READ_ERRORS
from microfluence.web.api.exports import MEDIA_TYPES, ExportFormat, FormatQ, file_response
from microfluence.web.deps import ApiOwner, DbSession, StoreDep

router = APIRouter(tags=["privacy"])
Id = Annotated[int, Path(ge=1, le=2**31 - 1)]


class SamplePublic(BaseModel):
    account_id: int
    creator_id: int
    platform: str
    handle: str
    followers: int
    first_sampled_at: UtcDateTime | None
    last_sampled_at: UtcDateTime | None
    last_imported_at: UtcDateTime | None


class SampleDeleted(BaseModel):
    account_id: int
    deleted: int


FILE = {
    200: {
        "description": "The sample, as an attachment.",
        "content": {media: {} for media in MEDIA_TYPES.values()},
    }
}


@router.get("/follower-samples", responses=READ_ERRORS)
def list_follower_samples(db: DbSession, caller: ApiOwner) -> Page[SamplePublic]:
    """Every account with a stored follower sample (other people's profiles). Owners only."""
    rows = samples.list_samples(db, caller.workspace_id)
    data = [SamplePublic.model_validate(r, from_attributes=True) for r in rows]
    return Page(data=data, count=len(data))


@router.get(
    "/accounts/{account_id}/followers",
    response_class=FileResponse,
    responses={**ITEM_ERRORS, **FILE},
)
def export_followers(
    store: StoreDep, caller: ApiOwner, account_id: Id, fmt: FormatQ = ExportFormat.csv
) -> FileResponse:
    """One account's stored follower sample, every field, as a file. Owners only."""
    return follower_file(store, caller, account_id, fmt)


def follower_file(
    store: StoreDep, caller: Principal, account_id: int, fmt: ExportFormat
) -> FileResponse:
    """The sample written to a temporary file (streamed from the database in batches), sent
    and deleted: the API's and the settings page's download."""
    return file_response(
        lambda out: export_follower_sample(store, caller.workspace_id, account_id, fmt.value, out),
        fmt,
        what="followers",
        filename=f"{caller.workspace_name}-account-{account_id}-followers.{fmt.value}",
    )


@router.delete("/accounts/{account_id}/followers", responses=ITEM_ERRORS)
def delete_followers(db: DbSession, caller: ApiOwner, account_id: Id) -> SampleDeleted:
    """Delete one account's stored follower sample; the account itself stays. Owners only."""
    deleted = samples.delete_sample(db, caller.workspace_id, account_id)
    return SampleDeleted(account_id=account_id, deleted=deleted)


@router.get("/creators/{creator_id}/record", responses=ITEM_ERRORS)
def get_creator_record(db: DbSession, caller: ApiOwner, creator_id: Id) -> JSONResponse:
    """Everything the workspace holds about one creator, as one JSON document (docs/api.md
    lists what it holds). Owners only."""
    who = actor_of(db, caller, "api")
    record: dict[str, Any] = creator_record(db, caller.workspace_id, creator_id, who)
    name = f"{caller.workspace_name}-creator-{creator_id}.json"
    return JSONResponse(record, headers={"Content-Disposition": f'attachment; filename="{name}"'})
