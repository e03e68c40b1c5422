"""/api/v1/codes: creators' discount codes — list, create, batches, CSV out and in, disable,
and create one in a Shopify shop."""

from __future__ import annotations

import io
from decimal import Decimal
from typing import Annotated

from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import Response
from pydantic import BaseModel, Field
from starlette.concurrency import run_in_threadpool

from microfluence.catalog.schemas import Page
from microfluence.commerce.shopify_admin import push_code
from microfluence.commerce.shops import get_shop
from microfluence.kernel.errors import InputError
from microfluence.tracking import codes as C
from microfluence.tracking.code_files import export_codes, import_codes
from microfluence.web.api.common import ITEM_ERRORS, READ_ERRORS, WRITE_ERRORS
from microfluence.web.deps import ApiReader, ApiWriter, DbSession, StoreDep

router = APIRouter(prefix="/codes", tags=["codes"])
Id = Annotated[int, Path(ge=1, le=2**31 - 1)]
OptId = Annotated[int | None, Query(ge=1, le=2**31 - 1)]


class CodeIn(BaseModel):
    creator: str | None = Field(None, max_length=250, description="PLATFORM:HANDLE")
    creator_id: int | None = Field(None, ge=1, le=2**31 - 1)
    campaign: str | None = Field(None, max_length=200, description="A campaign's name.")
    kind: str = Field("percent", max_length=20, description="percent, amount or shipping")
    value: Decimal | None = Field(None, description="15 for 15 % or 15.00 off")
    code: str | None = Field(None, max_length=64, description="A code of your own, if free.")
    suffix_length: int = Field(C.SUFFIX_DEFAULT, ge=C.SUFFIX_MIN, le=C.SUFFIX_MAX)


class BatchIn(CodeIn):
    count: int = Field(ge=1, le=C.BATCH_MAX)
    batch: str = Field(min_length=1, max_length=64)
    suffix_length: int = Field(C.SUFFIX_BATCH, ge=C.SUFFIX_MIN, le=C.SUFFIX_MAX)


class Imported(BaseModel):
    imported: int


class Pushed(BaseModel):
    code_id: int
    shop_id: int
    external_id: str


def _owner(db: DbSession, workspace_id: int, body: CodeIn) -> C.CodeOwner:
    if body.creator is None and body.creator_id is None:
        raise InputError("a code is a creator's: give creator or creator_id", field="creator")
    return C.resolve_owner(
        db, workspace_id, creator=body.creator, creator_id=body.creator_id, campaign=body.campaign
    )


@router.get("", responses=READ_ERRORS)
def list_codes(
    db: DbSession,
    caller: ApiReader,
    creator_id: OptId = None,
    campaign_id: OptId = None,
    batch: Annotated[str | None, Query(max_length=64)] = None,
) -> Page[C.CodePublic]:
    """The workspace's codes, by code."""
    rows = C.list_codes(
        db, caller.workspace_id, creator_id=creator_id, campaign_id=campaign_id, batch=batch
    )
    return Page(data=[C.public(r) for r in rows], count=len(rows))


@router.post("", status_code=201, responses=WRITE_ERRORS)
def create_code(db: DbSession, caller: ApiWriter, body: CodeIn) -> C.CodePublic:
    """A creator's code: generated (``SARAH15-K7R``) or the one given, if free."""
    owner = _owner(db, caller.workspace_id, body)
    return C.public(
        C.create_code(
            db,
            caller.workspace_id,
            owner,
            kind=body.kind,
            value=body.value,
            code=body.code,
            suffix_length=body.suffix_length,
        )
    )


@router.post("/batches", status_code=201, responses=WRITE_ERRORS)
def create_batch(db: DbSession, caller: ApiWriter, body: BatchIn) -> Page[C.CodePublic]:
    """``count`` single-use codes under one batch label."""
    owner = _owner(db, caller.workspace_id, body)
    rows = C.create_batch(
        db,
        caller.workspace_id,
        owner,
        count=body.count,
        batch=body.batch,
        kind=body.kind,
        value=body.value,
        suffix_length=body.suffix_length,
    )
    return Page(data=[C.public(r) for r in rows], count=len(rows))


@router.get(
    "/export",
    response_class=Response,
    responses={**READ_ERRORS, 200: {"content": {"text/csv": {}}, "description": "The CSV."}},
)
def export(
    db: DbSession,
    caller: ApiReader,
    creator_id: OptId = None,
    campaign_id: OptId = None,
    batch: Annotated[str | None, Query(max_length=64)] = None,
) -> Response:
    """The codes as CSV (docs/commerce.md names the columns)."""
    out = io.StringIO()
    export_codes(
        db, caller.workspace_id, out, creator_id=creator_id, campaign_id=campaign_id, batch=batch
    )
    name = f"{caller.workspace_name}-codes.csv"
    return Response(
        out.getvalue(),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )


@router.post(
    "/import",
    status_code=201,
    responses=WRITE_ERRORS,
    openapi_extra={
        "requestBody": {"content": {"text/csv": {"schema": {"type": "string"}}}, "required": True}
    },
)
async def import_file(request: Request, store: StoreDep, caller: ApiWriter) -> Imported:
    """Codes from a CSV body (``Content-Type: text/csv``): all written, or none and the first
    bad row named by line."""
    data = await request.body()

    def run() -> int:
        with store.transaction() as db:
            return import_codes(db, caller.workspace_id, io.BytesIO(data), "codes.csv")

    return Imported(imported=await run_in_threadpool(run))


@router.get("/{code_id}", responses=ITEM_ERRORS)
def get_code(db: DbSession, caller: ApiReader, code_id: Id) -> C.CodePublic:
    return C.public(C.get_code(db, caller.workspace_id, code_id))


@router.post("/{code_id}/disable", responses=ITEM_ERRORS)
def disable_code(db: DbSession, caller: ApiWriter, code_id: Id) -> C.CodePublic:
    """Stop the code counting for new orders (those it earned keep it)."""
    code = C.get_code(db, caller.workspace_id, code_id)
    return C.public(C.disable_code(db, caller.workspace_id, code.code))


@router.post("/{code_id}/shops/{shop_id}", status_code=201, responses=WRITE_ERRORS)
def push_to_shop(store: StoreDep, caller: ApiWriter, code_id: Id, shop_id: Id) -> Pushed:
    """Create the code in a Shopify shop (its Admin API, with the shop's access token)."""
    with store.transaction() as db:
        code = C.get_code(db, caller.workspace_id, code_id).code
        shop = get_shop(db, caller.workspace_id, shop_id).name
    row = push_code(store, caller.workspace_id, shop, code)
    return Pushed(code_id=row.code_id, shop_id=row.shop_id, external_id=row.external_id)
