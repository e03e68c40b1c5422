"""/api/v1/workspace: who the key is, and (for owners) the workspace's API keys."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path
from pydantic import BaseModel, Field, StringConstraints

from microfluence.access import api_keys
from microfluence.access.roles import Role
from microfluence.access.tables import ApiKey
from microfluence.catalog.schemas import Page, UtcDateTime
from microfluence.kernel.store.tables import Workspace
from microfluence.web.api.common import ITEM_ERRORS, READ_ERRORS, WRITE_ERRORS
from microfluence.web.deps import ApiOwner, ApiReader, DbSession

router = APIRouter(prefix="/workspace", tags=["workspace"])


class WhoAmI(BaseModel):
    workspace: str
    role: Role
    api_key_id: int | None


class ApiKeyPublic(BaseModel):
    id: int
    name: str
    prefix: str = Field(description="The visible start of the key, to tell keys apart.")
    role: Role
    created_at: UtcDateTime
    last_used_at: UtcDateTime | None
    revoked_at: UtcDateTime | None


class ApiKeyCreate(BaseModel):
    name: Annotated[str, StringConstraints(strip_whitespace=True, max_length=200)] | None = None
    role: Role = Role.member


class ApiKeyCreated(ApiKeyPublic):
    key: str = Field(description="The whole key. It is shown this once and never again.")


def _public(key: ApiKey) -> ApiKeyPublic:
    return ApiKeyPublic.model_validate(key, from_attributes=True)


@router.get("", responses=READ_ERRORS)
def who_am_i(caller: ApiReader) -> WhoAmI:
    """The workspace and role of the API key that calls."""
    return WhoAmI(workspace=caller.workspace_name, role=caller.role, api_key_id=caller.api_key_id)


@router.get("/api-keys", responses=READ_ERRORS)
def list_api_keys(db: DbSession, caller: ApiOwner) -> Page[ApiKeyPublic]:
    """The workspace's API keys (never the keys themselves). Owners only."""
    keys = api_keys.list_api_keys(db, caller.workspace_id)
    return Page(data=[_public(k) for k in keys], count=len(keys))


@router.post("/api-keys", status_code=201, responses=WRITE_ERRORS)
def create_api_key(db: DbSession, caller: ApiOwner, body: ApiKeyCreate) -> ApiKeyCreated:
    """Make a key; the answer is the only time the whole key is shown. Owners only."""
    workspace = db.get(Workspace, caller.workspace_id)
    assert workspace is not None
    made = api_keys.create_api_key(db, workspace=workspace, name=body.name, role=body.role)
    return ApiKeyCreated(**_public(made.key).model_dump(), key=made.secret)


@router.delete("/api-keys/{key_id}", responses=ITEM_ERRORS)
def revoke_api_key(
    db: DbSession, caller: ApiOwner, key_id: Annotated[int, Path(ge=1, le=2**31 - 1)]
) -> ApiKeyPublic:
    """Revoke a key: it stops working at once. Owners only."""
    return _public(api_keys.revoke_api_key(db, workspace_id=caller.workspace_id, key=key_id))
