"""/api/v1/exports: the workspace's data as CSV, JSON or JSONL files."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable
from enum import StrEnum
from typing import Annotated, BinaryIO

from fastapi import APIRouter, Query
from fastapi.responses import FileResponse
from starlette.background import BackgroundTask

from microfluence.export.tables import export_creators, export_posts
from microfluence.web.api.common import READ_ERRORS
from microfluence.web.deps import ApiReader, StoreDep

router = APIRouter(prefix="/exports", tags=["exports"])


class ExportFormat(StrEnum):
    csv = "csv"
    json = "json"
    jsonl = "jsonl"


MEDIA_TYPES = {
    ExportFormat.csv: "text/csv; charset=utf-8",
    ExportFormat.json: "application/json",
    ExportFormat.jsonl: "application/x-ndjson",
}
FILE_RESPONSE = {
    200: {
        "description": "The file, as an attachment.",
        "content": {media: {} for media in MEDIA_TYPES.values()},
    }
}
FormatQ = Annotated[ExportFormat, Query(alias="format", description="csv, json or jsonl.")]
RawQ = Annotated[
    bool,
    Query(
        description="CSV: cells as stored. By default a text cell starting with = + - @, a tab "
        "or a carriage return gets a ' in front, so that spreadsheets do not run it as a formula."
    ),
]


def file_response(
    write: Callable[[BinaryIO], object], fmt: ExportFormat, *, what: str, filename: str
) -> FileResponse:
    """``write`` fills a temporary file (an export streams from the database in batches), which
    is then sent as ``filename`` and deleted: memory stays flat however large the workspace.
    Every file download of the API and the pages goes through here."""
    handle, path = tempfile.mkstemp(prefix=f"microfluence-{what}-", suffix=f".{fmt.value}")
    try:
        with os.fdopen(handle, "wb") as out:
            write(out)
    except BaseException:
        os.unlink(path)
        raise
    return FileResponse(
        path,
        media_type=MEDIA_TYPES[fmt],
        filename=filename,
        background=BackgroundTask(os.unlink, path),
    )


def _send(store: StoreDep, caller: ApiReader, export, fmt: ExportFormat, what: str, raw: bool):  # type: ignore[no-untyped-def]
    return file_response(
        lambda out: export(store, caller.workspace_name, fmt.value, out, raw=raw),
        fmt,
        what=what,
        filename=f"{caller.workspace_name}-{what}.{fmt.value}",
    )


@router.get("/creators", response_class=FileResponse, responses={**READ_ERRORS, **FILE_RESPONSE})
def export_creators_file(
    store: StoreDep, caller: ApiReader, fmt: FormatQ = ExportFormat.csv, raw: RawQ = False
) -> FileResponse:
    """One row per account: every stored field, its creator, its latest snapshot."""
    return _send(store, caller, export_creators, fmt, "creators", raw)


@router.get("/posts", response_class=FileResponse, responses={**READ_ERRORS, **FILE_RESPONSE})
def export_posts_file(
    store: StoreDep, caller: ApiReader, fmt: FormatQ = ExportFormat.csv, raw: RawQ = False
) -> FileResponse:
    """One row per post, with its account's platform and handle."""
    return _send(store, caller, export_posts, fmt, "posts", raw)
