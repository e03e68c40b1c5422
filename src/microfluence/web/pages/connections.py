"""The connections page: the workspace's credentials for the platforms' APIs (masked; owners
set and remove them), the quota used today against the budget, a fetch form, the refresh runs
with their status and progress, "Refresh now" and the refresh schedule. The same services as
/api/v1/connectors and `microfluence connect|fetch|refresh`."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Form, Path, Request
from fastapi.responses import HTMLResponse, RedirectResponse
from sqlalchemy.orm import Session

from microfluence.access.principal import Principal
from microfluence.catalog.schemas import ID_MAX
from microfluence.connectors import credentials, refresh
from microfluence.connectors.fetching import FetchOutcome, fetch_accounts
from microfluence.connectors.jobs import REFRESH, start_refresh_job
from microfluence.connectors.status import connections
from microfluence.jobs import schedules
from microfluence.kernel.errors import ConflictError, InputError, NotFoundError
from microfluence.kernel.store.tables import utcnow
from microfluence.web.deps import (
    CsrfChecked,
    DbSession,
    PageOwner,
    PageReader,
    PageWriter,
    StoreDep,
)
from microfluence.web.errors import response_for
from microfluence.web.pages.rendering import render

router = APIRouter(prefix="/connections", include_in_schema=False)

PlatformForm = Annotated[Literal["youtube", "instagram"], Form()]
RunId = Annotated[int, Path(ge=1, le=ID_MAX)]
MAX_HANDLES = 50


def _page(
    request: Request, db: Session, caller: Principal, status_code: int = 200, **extra: object
) -> HTMLResponse:
    now = utcnow()
    return render(
        request,
        db,
        "connections.html",
        status_code=status_code,
        title="Connections",
        connections=connections(db, caller.workspace_id),
        runs=refresh.list_runs(db, caller.workspace_id),
        followed=len(refresh.followed_accounts(db, caller.workspace_id)),
        schedules=[
            schedules.describe_schedule(s, now)
            for s in schedules.list_schedules(db, caller.workspace_id)
            if s.kind == REFRESH
        ],
        has_workers=request.app.state.queue is not None,
        **extra,
    )


@router.get("")
def connections_page(request: Request, db: DbSession, caller: PageReader) -> HTMLResponse:
    return _page(request, db, caller)


@router.post("/credentials", dependencies=[CsrfChecked], response_model=None)
def set_credentials(
    request: Request,
    db: DbSession,
    caller: PageOwner,
    platform: PlatformForm,
    secret: Annotated[str, Form(max_length=4096)],
    business_account_id: Annotated[str, Form(max_length=40)] = "",
    daily_budget: Annotated[str, Form(max_length=12)] = "",
) -> RedirectResponse | HTMLResponse:
    """Owners set a platform's credentials; a bad one shows the page again with why (never
    the secret itself)."""
    try:
        budget = int(daily_budget) if daily_budget.strip() else None
    except ValueError:
        budget = -1  # refused below with the field named
    try:
        credentials.set_credential(
            db,
            caller.workspace_id,
            platform,
            secret,
            business_account_id=business_account_id or None,
            daily_budget=budget,
        )
    except InputError as exc:
        status = response_for(request, exc).status_code
        return _page(request, db, caller, status, credential_error=(platform, exc.message))
    return RedirectResponse("/connections", status_code=303)


@router.post("/{platform}/remove", dependencies=[CsrfChecked])
def remove_credentials(
    db: DbSession, caller: PageOwner, platform: Literal["youtube", "instagram"]
) -> RedirectResponse:
    credentials.remove_credential(db, caller.workspace_id, platform)  # 404: none here
    return RedirectResponse("/connections", status_code=303)


@router.post("/fetch", dependencies=[CsrfChecked], response_model=None)
def fetch(
    request: Request,
    db: DbSession,
    store: StoreDep,
    caller: PageWriter,
    platform: PlatformForm,
    handles: Annotated[str, Form(max_length=10_000)],
) -> HTMLResponse:
    """Members fetch a few accounts now; the page shows what was fetched, what could not be
    and why it stopped, if it did."""
    names = [h for h in handles.replace(",", " ").split() if h][: MAX_HANDLES + 1]
    outcome: FetchOutcome | None = None
    error = None
    try:
        if len(names) > MAX_HANDLES:
            raise InputError(f"at most {MAX_HANDLES} handles at once", field="handles")
        outcome = fetch_accounts(store, caller.workspace_name, platform, names)
    except (InputError, NotFoundError) as exc:
        error = exc.message if isinstance(exc, InputError) else str(exc)
    status = 200 if error is None else 422
    db.expire_all()
    return _page(request, db, caller, status, outcome=outcome, fetch_error=error)


@router.post("/refresh", dependencies=[CsrfChecked])
def refresh_now(request: Request, db: DbSession, caller: PageWriter) -> RedirectResponse:
    """ "Refresh now": a refresh job (continuing an unfinished run), followed on its job page."""
    runner = request.app.state.jobs
    job = start_refresh_job(db, caller.workspace_id, runner.submit_kind, runner.owner)
    return RedirectResponse(f"/jobs/{job.id}", status_code=303)


@router.post("/schedule", dependencies=[CsrfChecked], response_model=None)
def add_schedule(
    request: Request,
    db: DbSession,
    caller: PageWriter,
    cron: Annotated[str, Form(max_length=200)],
) -> RedirectResponse | HTMLResponse:
    try:
        schedules.add_schedule(db, caller.workspace_id, REFRESH, cron)
    except (InputError, ConflictError) as exc:
        status = response_for(request, exc).status_code
        message = exc.message if isinstance(exc, InputError) else str(exc)
        return _page(request, db, caller, status, schedule_error=message, schedule_cron=cron)
    return RedirectResponse("/connections#refresh", status_code=303)


@router.get("/runs/{run_id}")
def run_page(request: Request, db: DbSession, caller: PageReader, run_id: RunId) -> HTMLResponse:
    run = refresh.get_run(db, caller.workspace_id, run_id)  # 404 for another workspace's
    items = refresh.run_items(db, caller.workspace_id, run_id)
    return render(
        request, db, "refresh_run.html", title=f"Refresh run {run.id}", run=run, items=items
    )
