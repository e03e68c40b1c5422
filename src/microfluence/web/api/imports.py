"""/api/v1/imports: upload a file, import it in the background, poll its progress."""

from __future__ import annotations

import json
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, File, Form, Path, Request, UploadFile

from microfluence.catalog.listing import Window
from microfluence.catalog.schemas import Page
from microfluence.jobs import imports
from microfluence.jobs.schemas import ImportJobPublic
from microfluence.jobs.tables import ImportJob
from microfluence.kernel.errors import InputError
from microfluence.web.api.common import ITEM_ERRORS, READ_ERRORS, _window, responses
from microfluence.web.deps import ApiReader, ApiWriter, DbSession, SettingsDep, StoreDep

router = APIRouter(prefix="/imports", tags=["imports"])

Kind = Literal["creators", "posts", "instagram", "followers"]


def _public(request: Request, job: ImportJob) -> ImportJobPublic:
    return imports.describe_job(job, request.app.state.jobs.progress(job.id))


def _mapping(text: str | None) -> dict[str, str]:
    """Column mapping as a JSON object or as "field=Column,field=Column"."""
    if not text or not text.strip():
        return {}
    text = text.strip()
    if text.startswith("{"):
        try:
            value = json.loads(text)
        except json.JSONDecodeError as exc:
            raise InputError(f"not a JSON object: {exc}", field="mapping") from exc
        if not isinstance(value, dict) or not all(
            isinstance(k, str) and isinstance(v, str) for k, v in value.items()
        ):
            raise InputError("a JSON object of field names to column names", field="mapping")
        return value
    pairs = {}
    for item in text.split(","):
        field, sep, column = item.partition("=")
        if not sep or not field.strip() or not column.strip():
            raise InputError(f"expected field=Column, got {item!r}", field="mapping")
        pairs[field.strip()] = column.strip()
    return pairs


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
    options = {
        "platform": platform,
        "account": account,
        "mapping": _mapping(mapping),
        "skip_invalid": skip_invalid,
    }
    imports.check_options(kind, options)
    runner = request.app.state.jobs
    with runner.upload(file.file, file.filename, settings.max_upload_mb << 20) as upload:
        job = imports.create_job(
            db,
            workspace_id=caller.workspace_id,
            kind=kind,
            filename=upload.name,
            options=options,
        )
        db.commit()  # the worker reads the job from its own connection
        runner.submit(job.id, upload)
    return _public(request, job)


@router.get("", responses=READ_ERRORS)
def list_imports(
    request: Request, db: DbSession, caller: ApiReader, window: Annotated[Window, Depends(_window)]
) -> Page[ImportJobPublic]:
    """The workspace's import jobs, newest first."""
    jobs, count = imports.list_jobs(db, caller.workspace_id, window=window)
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
