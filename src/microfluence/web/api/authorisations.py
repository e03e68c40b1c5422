"""/api/v1/oauth-apps (a workspace's OAuth apps; owners set them: they hold secrets),
/api/v1/authorisations (creators' authorisations: connect links, read now, revoke) and
/api/v1/accounts/{id}/insights (the first-party numbers, verified by the creator's
authorisation)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query, Request
from pydantic import BaseModel, Field
from starlette.concurrency import run_in_threadpool

from microfluence.catalog.schemas import Page
from microfluence.connectors.oauth import apps, flow, grants, insights
from microfluence.connectors.oauth.calls import GrantError
from microfluence.relationships.audit import actor_of
from microfluence.web.api.common import ITEM_ERRORS, READ_ERRORS, WRITE_ERRORS
from microfluence.web.api.workspace import base_url
from microfluence.web.deps import ApiOwner, ApiReader, ApiWriter, DbSession, StoreDep

router = APIRouter(tags=["creator authorisations"])
Id = Annotated[int, Path(ge=1, le=2**31 - 1)]
PlatformPath = Annotated[str, Path(max_length=20, description="instagram, youtube or tiktok")]


class AppIn(BaseModel):
    client_id: str = Field(max_length=200, description="Meta App ID, Google client id, TikTok key")
    client_secret: str = Field(max_length=500, description="Stored sealed; never returned.")


class InviteIn(BaseModel):
    creator_id: int = Field(ge=1, le=2**31 - 1)
    platform: str = Field(max_length=20, description="instagram, youtube or tiktok")
    days: int = Field(7, ge=1, le=flow.INVITE_DAYS_MAX, description="Days the link works.")


@router.get("/oauth-apps", responses=READ_ERRORS)
def list_apps(db: DbSession, caller: ApiReader) -> Page[apps.AppPublic]:
    """The workspace's OAuth apps (never their secrets)."""
    rows = apps.list_apps(db, caller.workspace_id)
    return Page(data=rows, count=len(rows))


@router.put("/oauth-apps/{platform}", responses=WRITE_ERRORS)
def set_app(db: DbSession, caller: ApiOwner, platform: PlatformPath, body: AppIn) -> apps.AppPublic:
    """Set (or replace) the app of a platform; the secret is sealed at once. Owners only."""
    by = actor_of(db, caller, "api").label
    return apps.set_app(db, caller.workspace_id, platform, **body.model_dump(), by=by)


@router.delete("/oauth-apps/{platform}", status_code=204, responses=ITEM_ERRORS)
def delete_app(db: DbSession, caller: ApiOwner, platform: PlatformPath) -> None:
    """Forget the app of a platform. Owners only."""
    apps.delete_app(db, caller.workspace_id, platform)


@router.get("/authorisations", responses=READ_ERRORS)
def list_authorisations(
    db: DbSession,
    caller: ApiReader,
    creator_id: Annotated[int | None, Query(ge=1, le=2**31 - 1)] = None,
    platform: Annotated[str | None, Query(max_length=20)] = None,
) -> Page[grants.AuthorisationPublic]:
    """Creators' authorisations with their status (never their tokens)."""
    rows = grants.list_authorisations(
        db, caller.workspace_id, creator_id=creator_id, platform_name=platform
    )
    return Page(data=rows, count=len(rows))


@router.post("/authorisations/links", status_code=201, responses=WRITE_ERRORS)
def create_link(
    request: Request, db: DbSession, caller: ApiWriter, body: InviteIn
) -> flow.InviteMade:
    """A connect link to send the creator; its URL is in this answer only."""
    return flow.create_invite(
        db,
        caller.workspace_id,
        body.creator_id,
        body.platform,
        by=actor_of(db, caller, "api").label,
        days=body.days,
        base=base_url(request),
    )


@router.get("/authorisations/{authorisation_id}", responses=ITEM_ERRORS)
def get_authorisation(
    db: DbSession, caller: ApiReader, authorisation_id: Id
) -> grants.AuthorisationPublic:
    return grants.describe(db, caller.workspace_id, authorisation_id)


@router.post("/authorisations/{authorisation_id}/fetch", responses=WRITE_ERRORS)
async def fetch(store: StoreDep, caller: ApiWriter, authorisation_id: Id) -> insights.FetchResult:
    """Read what the authorisation allows now. A refused grant (expired, revoked) answers 409
    after the authorisation is marked so; a platform out of reach answers 503."""

    def run() -> insights.FetchResult:
        with store.transaction() as db:  # committed first: the mark is kept
            result = insights.fetch_insights(db, caller.workspace_id, authorisation_id)
        if result.error:
            raise GrantError(result.error, result.status)
        return result

    return await run_in_threadpool(run)


@router.delete("/authorisations/{authorisation_id}", responses=ITEM_ERRORS)
def revoke(db: DbSession, caller: ApiWriter, authorisation_id: Id) -> grants.AuthorisationPublic:
    """Revoke it at the platform and forget its tokens."""
    by = actor_of(db, caller, "api").label or "api"
    return grants.revoke(db, caller.workspace_id, authorisation_id, by=by)


@router.get("/accounts/{account_id}/insights", responses=ITEM_ERRORS)
def account_insights(
    db: DbSession, caller: ApiReader, account_id: Id
) -> insights.AccountInsightsPublic:
    """The account's first-party numbers, marked verified by the creator's authorisation."""
    return insights.account_insights(db, caller.workspace_id, account_id)
