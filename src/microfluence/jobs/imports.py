"""Imports of uploaded files as background jobs: queued, run, their progress and outcome kept
in the store (``import_jobs``) so any request can poll them.

The importers are the same as the CLI's (``microfluence.ingest``); each kind names one, with the
options it takes.
"""

from __future__ import annotations

import logging
import secrets
import shutil
from collections.abc import Callable
from dataclasses import asdict
from pathlib import Path
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from microfluence.catalog.listing import Window
from microfluence.catalog.validation import parse_account_reference
from microfluence.jobs.schemas import ImportJobPublic
from microfluence.jobs.tables import ImportJob
from microfluence.kernel.errors import InputError, MicrofluenceError, NotFoundError
from microfluence.kernel.store import Store
from microfluence.kernel.store.tables import PLATFORMS, Workspace, utcnow

log = logging.getLogger("microfluence.jobs")

KEEP_ERRORS = 100  # rejected rows kept with a job (the import run counts them all)

Importer = Callable[..., Any]


def _creators(store: Store, workspace: str, path: Path, options: dict[str, Any], progress):  # type: ignore[no-untyped-def]
    from microfluence.ingest.tables.creators import import_creators

    return import_creators(
        store,
        workspace,
        path,
        platform=options.get("platform"),
        mapping=options.get("mapping") or None,
        skip_invalid=bool(options.get("skip_invalid")),
        progress=progress,
    )


def _instagram(store: Store, workspace: str, path: Path, options: dict[str, Any], progress):  # type: ignore[no-untyped-def]
    from microfluence.ingest.instagram.importer import import_instagram

    return import_instagram(
        store,
        workspace,
        [str(path)],
        skip_invalid=bool(options.get("skip_invalid")),
        progress=progress,
    )


def _followers(store: Store, workspace: str, path: Path, options: dict[str, Any], progress):  # type: ignore[no-untyped-def]
    from microfluence.ingest.followers import import_followers

    platform, handle = account_of(options)
    return import_followers(
        store,
        workspace,
        path,
        account=f"{platform}:{handle}",
        skip_invalid=bool(options.get("skip_invalid")),
        progress=progress,
    )


def account_of(options: dict[str, Any]) -> tuple[str, str]:
    """The account of a follower sample: ``platform:handle``, or a bare handle on the platform
    given (Instagram by default); the one reference parser of every face."""
    default = options.get("platform") or "instagram"
    return parse_account_reference(str(options.get("account") or ""), default_platform=default)


def _posts(store: Store, workspace: str, path: Path, options: dict[str, Any], progress):  # type: ignore[no-untyped-def]
    from microfluence.ingest.tables.posts import import_posts

    return import_posts(
        store,
        workspace,
        path,
        platform=options.get("platform"),
        mapping=options.get("mapping") or None,
        skip_invalid=bool(options.get("skip_invalid")),
        progress=progress,
    )


IMPORTERS: dict[str, Importer] = {
    "creators": _creators,  # a table of creators/accounts: CSV, TSV, JSONL or Parquet
    "instagram": _instagram,  # Instagram post/profile JSON
    "posts": _posts,  # a table of posts: CSV, TSV, JSONL or Parquet
    "followers": _followers,  # a follower sample of one account, CSV
}


def check_options(kind: str, options: dict[str, Any]) -> dict[str, Any]:
    if kind not in IMPORTERS:
        raise InputError(
            f"unknown import kind {kind!r}: use one of {', '.join(IMPORTERS)}", field="kind"
        )
    platform = options.get("platform")
    if platform is not None and platform not in PLATFORMS:
        raise InputError(
            f"unknown platform {platform!r}: use one of {', '.join(PLATFORMS)}", field="platform"
        )
    if kind == "followers":
        if not options.get("account"):
            raise InputError("a follower sample needs the account it belongs to", field="account")
        account_of(options)  # refused when the job is made, not when it runs
    return {k: v for k, v in options.items() if v not in (None, "", {})}


def create_job(
    session: Session,
    *,
    workspace_id: int,
    kind: str,
    filename: str,
    options: dict[str, Any],
) -> ImportJob:
    job = ImportJob(
        id=secrets.token_hex(16),
        workspace_id=workspace_id,
        kind=kind,
        filename=filename[:500],
        options=check_options(kind, options),
        status="queued",
        progress_done=0,
        summary={},
        errors=[],
    )
    session.add(job)
    session.flush()
    return job


def get_job(session: Session, workspace_id: int, job_id: str) -> ImportJob:
    job = session.scalar(
        select(ImportJob).where(ImportJob.id == job_id, ImportJob.workspace_id == workspace_id)
    )
    if job is None:
        raise NotFoundError(f"no import job {job_id!r}")
    return job


def list_jobs(
    session: Session, workspace_id: int, *, window: Window | None = None
) -> tuple[list[ImportJob], int]:
    window = window or Window()
    where = ImportJob.workspace_id == workspace_id
    count = session.scalar(select(func.count()).select_from(ImportJob).where(where)) or 0
    jobs = session.scalars(
        select(ImportJob)
        .where(where)
        .order_by(ImportJob.created_at.desc(), ImportJob.id)
        .limit(window.limit)
        .offset(window.offset)
    )
    return list(jobs), count


def _set(store: Store, job_id: str, **values: Any) -> None:
    with store.transaction() as session:
        session.execute(
            update(ImportJob).where(ImportJob.id == job_id).values(**values, updated_at=utcnow())
        )


ProgressSink = Callable[[str, int, int | None], None]


def run_job(store: Store, job_id: str, upload: Path, progress_sink: ProgressSink) -> None:
    """Run a queued import job to its end and record its outcome; removes ``upload`` (and its
    folder) afterwards. Never raises: the outcome is in the job.

    Progress goes to ``progress_sink`` (memory of the serving process), not to the store: on
    SQLite the import's own transaction holds the only write lock until it ends."""
    try:
        with store.transaction() as session:
            job = session.get(ImportJob, job_id)
            if job is None:
                return
            kind, options, workspace_id = job.kind, dict(job.options), job.workspace_id
            workspace = session.get(Workspace, workspace_id)
            if workspace is None:
                return
            workspace_name = workspace.name
        _set(store, job_id, status="running", started_at=utcnow())
        seen: list[tuple[int, int | None]] = [(0, None)]

        def progress(done: int, total: int | None) -> None:
            seen[0] = (int(done), total)
            progress_sink(job_id, int(done), total)

        try:
            report = IMPORTERS[kind](store, workspace_name, upload, options, progress)
        except MicrofluenceError as exc:
            details = {"message": getattr(exc, "message", str(exc))}
            for name in ("file", "line", "field"):
                value = getattr(exc, name, None)
                if value is not None:
                    details[name] = Path(value).name if name == "file" else value
            _set(
                store,
                job_id,
                status="failed",
                error=_hide_path(str(exc), upload),
                errors=[details],
                finished_at=utcnow(),
            )
            return
        except Exception:
            log.exception("import job %s failed", job_id)
            _set(
                store,
                job_id,
                status="failed",
                error="internal error: the error was logged",
                finished_at=utcnow(),
            )
            return
        errors = []
        for rejection in report.rejections[:KEEP_ERRORS]:
            item = {k: v for k, v in asdict(rejection).items() if v is not None and k != "row"}
            if "file" in item:
                item["file"] = Path(item["file"]).name
            errors.append(item)
        summary = report.as_dict()
        summary["source"] = upload.name
        summary.pop("rejects_path", None)  # a server-side temporary file, deleted below
        done, total = seen[0]
        _set(
            store,
            job_id,
            status="succeeded",
            summary=summary,
            errors=errors,
            import_run_id=report.import_id,
            progress_done=total if total is not None else done,
            progress_total=total,
            finished_at=utcnow(),
        )
    finally:
        shutil.rmtree(upload.parent, ignore_errors=True)
        progress_sink(job_id, -1, None)  # forget it: the store has the outcome


def _hide_path(text: str, upload: Path) -> str:
    """Messages name the uploaded file, not where the server keeps it."""
    return text.replace(str(upload), upload.name)


def describe_job(job: ImportJob, live: tuple[int, int | None] | None = None) -> ImportJobPublic:
    """A job as callers see it, with the live progress of a running import when known."""
    done, total = job.progress_done, job.progress_total
    if job.status == "running" and live is not None:
        done, total = live
    progress = None
    if job.status == "succeeded":
        progress = 1.0
    elif total:
        progress = min(1.0, max(0.0, done / total))
    return ImportJobPublic(
        id=job.id,
        kind=job.kind,
        filename=job.filename,
        status=job.status,  # type: ignore[arg-type]
        progress=progress,
        progress_done=done,
        progress_total=total,
        summary=job.summary or {},
        errors=job.errors or [],
        error=job.error,
        created_at=job.created_at,
        started_at=job.started_at,
        finished_at=job.finished_at,
    )


def fail_interrupted(store: Store) -> int:
    """Jobs left queued or running by a server that stopped: mark them failed (at start-up)."""
    with store.transaction() as session:
        result = session.execute(
            update(ImportJob)
            .where(ImportJob.status.in_(("queued", "running")))
            .values(
                status="failed",
                error="interrupted: the server stopped before the import finished; upload again",
                finished_at=utcnow(),
                updated_at=utcnow(),
            )
        )
        return result.rowcount or 0
