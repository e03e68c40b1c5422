"""/api/v1/connectors: the workspace's connections to the platforms' APIs (credentials shown
masked, quota used today), fetching accounts, and refreshes (started as jobs, with their log).
Viewers read; members fetch and refresh; owners set and remove credentials."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Request, Response

from microfluence.catalog.schemas import ID_MAX, Page
from microfluence.connectors import credentials, refresh
from microfluence.connectors.fetching import fetch_accounts, search_youtube
from microfluence.connectors.jobs import start_refresh_job
from microfluence.connectors.schemas import (
    ConnectionPublic,
    CredentialsSet,
    FetchPublic,
    FetchRequest,
    Platform,
    RefreshRunPublic,
)
from microfluence.connectors.status import connections
from microfluence.jobs.schemas import ImportJobPublic
from microfluence.kernel.errors import InputError
from microfluence.web.api.common import ITEM_ERRORS, READ_ERRORS, WRITE_ERRORS, responses
from microfluence.web.api.jobs import public_job
from microfluence.web.deps import ApiOwner, ApiReader, ApiWriter, DbSession, StoreDep

router = APIRouter(prefix="/connectors", tags=["connectors"])
RunId = Annotated[int, Path(ge=1, le=ID_MAX)]


@router.get("", responses=READ_ERRORS)
def list_connections(db: DbSession, caller: ApiReader) -> Page[ConnectionPublic]:
    """Each platform: connected or not, the credentials masked, the quota used today."""
    found = [ConnectionPublic.of(c) for c in connections(db, caller.workspace_id)]
    return Page(data=found, count=len(found))


@router.put("/{platform}", responses=WRITE_ERRORS)
def set_connection(
    db: DbSession, caller: ApiOwner, platform: Platform, body: CredentialsSet
) -> ConnectionPublic:
    """Set (or replace) the workspace's credentials for a platform (owners); the secret is
    stored sealed and never returned."""
    credentials.set_credential(
        db,
        caller.workspace_id,
        platform,
        body.secret,
        business_account_id=body.business_account_id,
        daily_budget=body.daily_budget,
    )
    (found,) = [c for c in connections(db, caller.workspace_id) if c.platform == platform]
    return ConnectionPublic.of(found)


@router.delete("/{platform}", status_code=204, responses=responses(401, 403, 404, 422))
def remove_connection(db: DbSession, caller: ApiOwner, platform: Platform) -> Response:
    """Forget a platform's credentials (owners); what was fetched stays."""
    credentials.remove_credential(db, caller.workspace_id, platform)
    return Response(status_code=204)


@router.post("/{platform}/fetch", responses=WRITE_ERRORS)
def fetch(
    store: StoreDep, caller: ApiWriter, platform: Platform, body: FetchRequest
) -> FetchPublic:
    """Fetch accounts now (members): up to 50 handles, or a YouTube search with
    ``"confirm": true`` (100 units). A fetch stopped by the quota or a rate limit answers 200
    with ``stopped`` and what was fetched."""
    if body.search is not None:
        if platform != "youtube" or body.handles:
            raise InputError("search is YouTube's, without handles", field="search")
        outcome = search_youtube(
            store,
            caller.workspace_name,
            body.search,
            limit=body.limit,
            confirm=body.confirm,
            rescore=body.rescore,
        )
    else:
        outcome = fetch_accounts(
            store, caller.workspace_name, platform, body.handles, rescore=body.rescore
        )
    return FetchPublic(**outcome.as_dict())


@router.post("/refresh", status_code=202, responses=responses(401, 403, 422, 503))
def start_refresh(request: Request, db: DbSession, caller: ApiWriter) -> ImportJobPublic:
    """Refresh the followed accounts in the background (members): a ``refresh`` job to poll at
    ``GET /api/v1/jobs/{job_id}``; an unfinished refresh is continued."""
    runner = request.app.state.jobs
    job = start_refresh_job(db, caller.workspace_id, runner.submit_kind, runner.owner)
    return public_job(request, job)


@router.get("/refresh-runs", responses=READ_ERRORS)
def list_refresh_runs(db: DbSession, caller: ApiReader) -> Page[RefreshRunPublic]:
    """The workspace's refresh runs, newest first (the last 20)."""
    runs = [RefreshRunPublic.of(r) for r in refresh.list_runs(db, caller.workspace_id)]
    return Page(data=runs, count=len(runs))


@router.get("/refresh-runs/{run_id}", responses=ITEM_ERRORS)
def get_refresh_run(db: DbSession, caller: ApiReader, run_id: RunId) -> RefreshRunPublic:
    """A refresh run with each account's state (pending, done, failed) and error."""
    run = refresh.get_run(db, caller.workspace_id, run_id)
    return RefreshRunPublic.of(run, refresh.run_items(db, caller.workspace_id, run_id))
