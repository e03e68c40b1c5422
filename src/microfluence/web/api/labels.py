"""/api/v1/labels: the workspace's own labels on its followers, and what they say about the
model (docs/authenticity.md, "Calibration by your own labels").

Members label (they see followers' profiles, third parties' data, one at a time) and read the
labels back; anyone of the workspace reads the status: the model's measured accuracy and the
fake shares before and after calibration.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query, Response
from fastapi.responses import FileResponse
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy.orm import Session

from microfluence.access.principal import Principal
from microfluence.access.tables import ApiKey, User
from microfluence.authenticity.labels import records, sampling
from microfluence.authenticity.labels.export import write_labels
from microfluence.authenticity.labels.files import rows_from_records, store_label_rows
from microfluence.authenticity.labels.status import label_status
from microfluence.catalog.listing import Window
from microfluence.catalog.schemas import Page, UtcDateTime
from microfluence.web.api.common import ITEM_ERRORS, READ_ERRORS, WRITE_ERRORS, _window
from microfluence.web.api.exports import FILE_RESPONSE, ExportFormat, FormatQ, RawQ, file_response
from microfluence.web.deps import ApiReader, ApiWriter, DbSession

router = APIRouter(prefix="/labels", tags=["labels"])
FollowerId = Annotated[int, Path(ge=1, le=2**62)]
LabelText = Annotated[str, Field(min_length=1, max_length=20, description="fake, real or unsure")]
MAX_BULK = 10_000


def labeller(session: Session, caller: Principal) -> str:
    """Who a label is from: the signed-in user's e-mail address, or the API key's name."""
    if caller.user_id is not None:
        user = session.get(User, caller.user_id)
        if user is not None:
            return user.email
    if caller.api_key_id is not None:
        key = session.get(ApiKey, caller.api_key_id)
        if key is not None:
            return f"api key {key.name} ({key.prefix}…)"
    return f"workspace {caller.workspace_name} ({caller.role.value})"


class LabelIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    label: LabelText


class LabelItem(BaseModel):
    model_config = ConfigDict(extra="forbid")
    username: str = Field(min_length=1, max_length=201)
    label: LabelText
    account: str | None = Field(
        default=None, max_length=230, description="PLATFORM:HANDLE: only this account's follower."
    )


class BulkLabels(BaseModel):
    model_config = ConfigDict(extra="forbid")
    labels: list[LabelItem] = Field(min_length=1, max_length=MAX_BULK)


class LabelPublic(BaseModel):
    follower_id: int
    account_id: int
    account: str = Field(description="PLATFORM:HANDLE of the account whose sample holds it.")
    username: str
    label: str
    labelled_by: str
    labelled_at: UtcDateTime


class BulkResult(BaseModel):
    rows: int
    followers: int
    by_label: dict[str, int]


class NextFollower(BaseModel):
    follower: dict[str, Any] | None = Field(
        description="A follower not yet labelled, drawn uniformly at random (null when none "
        "is left); without the model's verdict."
    )
    followers: int
    labelled: int


def _public(record: records.LabelRecord) -> LabelPublic:
    return LabelPublic.model_validate(record, from_attributes=True)


@router.get("", responses=READ_ERRORS)
def list_labels(
    db: DbSession,
    caller: ApiWriter,
    window: Annotated[Window, Depends(_window)],
    label: Annotated[str | None, Query(max_length=20, description="fake, real or unsure")] = None,
    account_id: Annotated[int | None, Query(ge=1, le=2**31 - 1)] = None,
) -> Page[LabelPublic]:
    """The workspace's labels, newest first. Members."""
    rows, count = records.list_labels(
        db, caller.workspace_id, label=label, account_id=account_id, window=window
    )
    return Page(data=[_public(r) for r in rows], count=count)


@router.post("", responses=WRITE_ERRORS)
def label_by_username(db: DbSession, caller: ApiWriter, body: BulkLabels) -> BulkResult:
    """Label followers by username (every follower of that username in the workspace's
    samples, or the named account's): all or nothing, a bad item named `labels[INDEX]`."""
    rows = rows_from_records((i.model_dump() for i in body.labels), source="labels")
    done = store_label_rows(
        db, caller.workspace_id, rows, by=labeller(db, caller), file="labels", item_numbers=True
    )
    return BulkResult(**done.as_dict())


@router.get("/status", responses=READ_ERRORS)
def get_status(db: DbSession, caller: ApiReader) -> dict[str, Any]:
    """The model's accuracy measured on the labels (Wilson intervals), the workspace's
    re-estimated error rates, and every sample's fake share before and after calibration."""
    return _jsonable(label_status(db, caller.workspace_id).as_dict())


@router.get("/next", responses=ITEM_ERRORS)
def next_follower(
    db: DbSession,
    caller: ApiWriter,
    account_id: Annotated[int | None, Query(ge=1, le=2**31 - 1)] = None,
) -> NextFollower:
    """The next follower to label: uniform at random among those not yet labelled. Members."""
    card = sampling.draw_follower(db, caller.workspace_id, account_id=account_id)
    done = sampling.progress(db, caller.workspace_id, account_id)
    return NextFollower(
        follower=card.as_dict() if card else None,
        followers=done.followers,
        labelled=done.labelled,
    )


@router.get("/export", response_class=FileResponse, responses={**READ_ERRORS, **FILE_RESPONSE})
def export_labels(
    db: DbSession, caller: ApiWriter, fmt: FormatQ = ExportFormat.csv, raw: RawQ = False
) -> FileResponse:
    """Every label as CSV, JSON or JSON Lines. Members."""
    return file_response(
        lambda out: write_labels(db, caller.workspace_id, fmt.value, out, raw=raw),
        fmt,
        what="labels",
        filename=f"{caller.workspace_name}-labels.{fmt.value}",
    )


@router.put("/{follower_id}", responses=WRITE_ERRORS)
def put_label(
    db: DbSession, caller: ApiWriter, follower_id: FollowerId, body: LabelIn
) -> LabelPublic:
    """Label one follower (a later label replaces an earlier one). Members."""
    record = records.label_follower(
        db, caller.workspace_id, follower_id, body.label, by=labeller(db, caller)
    )
    return _public(record)


@router.delete("/{follower_id}", status_code=204, responses=ITEM_ERRORS)
def delete_label(db: DbSession, caller: ApiWriter, follower_id: FollowerId) -> Response:
    """Take a follower's label back. Members."""
    records.delete_label(db, caller.workspace_id, follower_id)
    return Response(status_code=204)


def _jsonable(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    if isinstance(value, float) and value != value:
        return None
    if isinstance(value, dt.datetime):
        return value.isoformat()
    return value
