"""/api/v1/imports: upload a file, import it in the background, poll its progress."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, File, Form, Path, Request, UploadFile

from microfluence.catalog.listing import Window
from microfluence.catalog.schemas import Page
from microfluence.jobs import imports
from microfluence.jobs.schemas import ImportJobPublic
from microfluence.jobs.tables import ImportJob
from microfluence.web.api.common import ITEM_ERRORS, READ_ERRORS, _window, responses
from microfluence.web.deps import (
    ApiOwner,
    ApiReader,
    ApiWriter,
    DbSession,
    SettingsDep,
    StoreDep,
)

router = APIRouter(prefix="/imports", tags=["imports"])

Kind = Literal["creators", "posts", "instagram", "followers"]


def _public(request: Request, job: ImportJob) -> ImportJobPublic:
    return imports.describe_job(job, request.app.state.jobs.progress(job.id))


@router.post("", status_code=202, responses=responses(400, 401, 403, 413, 422, 503))
def start_import(
    request: Request,
    db: DbSession,
    store: StoreDep,
    settings: SettingsDep,
    caller: ApiWriter,
    file: Annotated[UploadFile, File(description="The file to import.")],
    kind: Annotated[
        Kind,
        Form(
            description="creators or posts (a CSV, TSV, JSONL or Parquet table), instagram "
            "(post or profile JSON) or followers (a follower sample CSV of one account)."
        ),
    ],
    platform: Annotated[
        str | None, Form(max_length=20, description="Platform of the accounts in a table.")
    ] = None,
    account: Annotated[
        str | None, Form(max_length=200, description="followers: the account's handle.")
    ] = None,
    mapping: Annotated[
        str | None,
        Form(max_length=5000, description='Columns: {"handle": "User name"} or handle=User name'),
    ] = None,
    skip_invalid: Annotated[
        bool, Form(description="Import the valid rows and report the others.")
    ] = False,
) -> ImportJobPublic:
    """Start importing an uploaded file; answers 202 with the job to poll."""
    options = imports.job_options(
        kind, platform=platform, account=account, mapping=mapping, skip_invalid=skip_invalid
    )
    job = submit_upload(request, db, settings, caller.workspace_id, file, kind, options)
    return _public(request, job)


def submit_upload(
    request: Request,
    db: DbSession,
    settings: SettingsDep,
    workspace_id: int,
    file: UploadFile,
    kind: str,
    options: dict[str, Any],
) -> ImportJob:
    """Keep the upload (refused past MICROFLUENCE_MAX_UPLOAD_MB), record its job and hand it to
    the app's runner — a thread of this process, or the durable queue when one is configured
    (``MICROFLUENCE_JOB_QUEUE``): the one way the API and the import page start an import."""
    runner = request.app.state.jobs
    with runner.upload(file.file, file.filename, settings.max_upload_mb << 20) as upload:
        job = imports.create_job(
            db,
            workspace_id=workspace_id,
            kind=kind,
            filename=upload.name,
            options=options,
            owner=runner.owner,
            upload_path=str(upload),
        )
        db.commit()  # the worker reads the job from its own connection
        runner.submit(job.id, upload)
    return job


@router.get("", responses=READ_ERRORS)
def list_imports(
    request: Request, db: DbSession, caller: ApiReader, window: Annotated[Window, Depends(_window)]
) -> Page[ImportJobPublic]:
    """The workspace's import jobs, newest first."""
    jobs, count = imports.list_jobs(db, caller.workspace_id, window=window, kinds=imports.IMPORTERS)
    return Page(data=[_public(request, j) for j in jobs], count=count)


@router.get("/{job_id}", responses=ITEM_ERRORS)
def get_import(
    request: Request,
    db: DbSession,
    caller: ApiReader,
    job_id: Annotated[str, Path(min_length=1, max_length=64)],
) -> ImportJobPublic:
    """An import job: status, progress, and at the end its summary or errors."""
    return _public(request, imports.get_job(db, caller.workspace_id, job_id))


@router.post("/{job_id}/cancel", responses=responses(401, 403, 404, 409, 422))
def cancel_import(
    request: Request,
    db: DbSession,
    caller: ApiOwner,
    job_id: Annotated[str, Path(min_length=1, max_length=64)],
) -> ImportJobPublic:
    """Cancel a queued or running import (owners): a queued one ends ``cancelled`` at once, a
    running one is ``cancelling`` until it stops at its next batch and rolls back. 409 when it
    has already ended."""
    runner = request.app.state.jobs
    job = imports.cancel_job(db, caller.workspace_id, job_id, signal=runner.cancel)
    return _public(request, job)
