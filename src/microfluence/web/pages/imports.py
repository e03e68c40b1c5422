"""The import page: upload a file, choose its kind and platform; the import runs as a
background job (the same jobs and importers as the API and the CLI) whose progress the page
polls from ``/imports/{id}/status``, and which an owner may cancel."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, File, Form, Path, Request, UploadFile
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse

from microfluence.catalog.listing import Window
from microfluence.jobs import imports
from microfluence.kernel.store.tables import PLATFORMS
from microfluence.web.api.imports import submit_upload
from microfluence.web.deps import (
    CsrfChecked,
    DbSession,
    PageOwner,
    PageReader,
    PageWriter,
    SettingsDep,
)
from microfluence.web.pages.rendering import render

router = APIRouter(include_in_schema=False)

KINDS = {
    "creators": "Creators and accounts (CSV, TSV, JSONL or Parquet table)",
    "posts": "Posts (CSV, TSV, JSONL or Parquet table)",
    "instagram": "Instagram JSON (posts, profiles or comments)",
    "followers": "Follower sample of one account (CSV)",
}
RECENT_JOBS = 20
JobId = Annotated[str, Path(min_length=1, max_length=64)]


@router.get("/imports")
def imports_page(request: Request, db: DbSession, caller: PageReader) -> HTMLResponse:
    jobs, count = imports.list_jobs(
        db, caller.workspace_id, window=Window(limit=RECENT_JOBS), kinds=imports.IMPORTERS
    )
    runner = request.app.state.jobs
    return render(
        request,
        db,
        "imports.html",
        title="Import",
        jobs=[imports.describe_job(j, runner.progress(j.id)) for j in jobs],
        count=count,
        kinds=KINDS,
        platforms=PLATFORMS,
    )


@router.post("/imports", dependencies=[CsrfChecked], response_model=None)
def start_import(
    request: Request,
    db: DbSession,
    settings: SettingsDep,
    caller: PageWriter,
    file: Annotated[UploadFile, File()],
    kind: Annotated[Literal["creators", "posts", "instagram", "followers"], Form()],
    platform: Annotated[str, Form(max_length=20)] = "",
    account: Annotated[str, Form(max_length=200)] = "",
    mapping: Annotated[str, Form(max_length=5000)] = "",
    skip_invalid: Annotated[bool, Form()] = False,
) -> RedirectResponse:
    # A form sends its empty fields as "": they mean "not given".
    options = imports.job_options(
        kind,
        platform=platform or None,
        account=account.strip() or None,
        mapping=mapping,
        skip_invalid=skip_invalid,
    )
    job = submit_upload(request, db, settings, caller.workspace_id, file, kind, options)
    return RedirectResponse(f"/imports/{job.id}", status_code=303)


@router.get("/imports/{job_id}")
def import_job_page(
    request: Request, db: DbSession, caller: PageReader, job_id: JobId
) -> HTMLResponse:
    job = imports.get_job(db, caller.workspace_id, job_id)  # 404 for other workspaces' jobs
    described = imports.describe_job(job, request.app.state.jobs.progress(job.id))
    return render(request, db, "import_job.html", title="Import", job=described, kinds=KINDS)


@router.get("/imports/{job_id}/status")
def import_job_status(
    request: Request, db: DbSession, caller: PageReader, job_id: JobId
) -> JSONResponse:
    """The job as JSON for the page's progress bar (same fields as the API's)."""
    job = imports.get_job(db, caller.workspace_id, job_id)
    described = imports.describe_job(job, request.app.state.jobs.progress(job.id))
    return JSONResponse(described.model_dump(mode="json"), headers={"Cache-Control": "no-store"})


@router.post("/imports/{job_id}/cancel", dependencies=[CsrfChecked], response_model=None)
def cancel_import(
    request: Request, db: DbSession, caller: PageOwner, job_id: JobId
) -> RedirectResponse:
    """The job page's Cancel button (owners): the same service as the API's and the CLI's."""
    # 404 for another workspace's job, 409 when it has ended.
    imports.cancel_job(db, caller.workspace_id, job_id, signal=request.app.state.jobs.cancel)
    return RedirectResponse(f"/imports/{job_id}", status_code=303)
