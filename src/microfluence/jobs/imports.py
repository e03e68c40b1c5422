"""Imports of uploaded files as background jobs: queued, run, their progress and outcome kept
in the store (``import_jobs``) so any request can poll them.

The importers are the same as the CLI's (``microfluence.ingest``); each kind names one, with the
options it takes.

A job's status: ``queued`` → ``running`` → ``succeeded`` or ``failed``; or, when an owner
cancels it (:func:`cancel_job`), ``cancelled`` — at once while queued, else via ``cancelling``
until the import reaches its next batch and rolls back.
"""

from __future__ import annotations

import logging
import secrets
import shutil
import time
from collections.abc import Callable, Collection
from dataclasses import asdict
from pathlib import Path
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from microfluence.catalog.listing import Window
from microfluence.catalog.validation import parse_account_reference
from microfluence.ingest.guard import ImportCancelled
from microfluence.ingest.values.columns import parse_mapping
from microfluence.ingest.write.writer import for_job
from microfluence.jobs.schemas import ImportJobPublic
from microfluence.jobs.tables import ImportJob
from microfluence.kernel.errors import ConflictError, InputError, MicrofluenceError, NotFoundError
from microfluence.kernel.store import Store
from microfluence.kernel.store.tables import PLATFORMS, ImportRun, Workspace, utcnow

log = logging.getLogger("microfluence.jobs")

KEEP_ERRORS = 100  # rejected rows kept with a job (the import run counts them all)
ACTIVE = ("queued", "running", "cancelling")
CANCELLED = "cancelled by an owner: nothing was written"
# How often a running import looks in the store for a cancel made by another process (the CLI);
# a cancel made through this process's runner is seen at the very next batch.
CANCEL_POLL_SECONDS = 1.0

Importer = Callable[..., Any]


def _table_options(options: dict[str, Any]) -> dict[str, Any]:
    """What a job's stored options say to a table importer (creators, posts): both take the
    same ones, read the same way."""
    return {
        "platform": options.get("platform"),
        "mapping": options.get("mapping") or None,
        "skip_invalid": bool(options.get("skip_invalid")),
    }


def _creators(store: Store, workspace: str, path: Path, options: dict[str, Any], progress, cancel):  # type: ignore[no-untyped-def]
    from microfluence.ingest.tables.creators import import_creators

    return import_creators(
        store, workspace, path, **_table_options(options), progress=progress, cancel=cancel
    )


def _instagram(store: Store, workspace: str, path: Path, options: dict[str, Any], progress, cancel):  # type: ignore[no-untyped-def]
    from microfluence.ingest.instagram.importer import import_instagram

    return import_instagram(
        store,
        workspace,
        [str(path)],
        skip_invalid=bool(options.get("skip_invalid")),
        progress=progress,
        cancel=cancel,
    )


def _followers(store: Store, workspace: str, path: Path, options: dict[str, Any], progress, cancel):  # type: ignore[no-untyped-def]
    from microfluence.ingest.followers import import_followers

    platform, handle = account_of(options)
    return import_followers(
        store,
        workspace,
        path,
        account=f"{platform}:{handle}",
        skip_invalid=bool(options.get("skip_invalid")),
        progress=progress,
        cancel=cancel,
    )


def account_of(options: dict[str, Any]) -> tuple[str, str]:
    """The account of a follower sample: ``platform:handle``, or a bare handle on the platform
    given (Instagram by default); the one reference parser of every face."""
    default = options.get("platform") or "instagram"
    return parse_account_reference(str(options.get("account") or ""), default_platform=default)


def _posts(store: Store, workspace: str, path: Path, options: dict[str, Any], progress, cancel):  # type: ignore[no-untyped-def]
    from microfluence.ingest.tables.posts import import_posts

    return import_posts(
        store, workspace, path, **_table_options(options), progress=progress, cancel=cancel
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


def job_options(
    kind: str,
    *,
    platform: str | None = None,
    account: str | None = None,
    mapping: str | None = None,
    skip_invalid: bool = False,
) -> dict[str, Any]:
    """The options of an import job from the fields a request or a form sends (``mapping`` as
    text: JSON or ``FIELD=COLUMN`` pairs), checked now so that a bad one is refused before the
    upload is read: the one reading of these fields behind the API and the import page."""
    options = {
        "platform": platform,
        "account": account,
        "mapping": parse_mapping(mapping, field="mapping"),
        "skip_invalid": skip_invalid,
    }
    check_options(kind, options)
    return options


def create_job(
    session: Session,
    *,
    workspace_id: int,
    kind: str,
    filename: str,
    options: dict[str, Any],
    owner: str | None = None,
    upload_path: str | None = None,
) -> ImportJob:
    """Record a queued import. ``owner``: the process that will run it (in-process runner),
    None when a worker of the queue will; ``upload_path``: where its upload waits."""
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
        owner=owner,
        attempts=0,
        upload_path=upload_path,
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
    session: Session,
    workspace_id: int,
    *,
    window: Window | None = None,
    kinds: Collection[str] | None = None,
) -> tuple[list[ImportJob], int]:
    """The workspace's jobs (of ``kinds``, default all: imports and scoring), newest first,
    and how many there are."""
    window = window or Window()
    where = [ImportJob.workspace_id == workspace_id]
    if kinds is not None:
        where.append(ImportJob.kind.in_(list(kinds)))
    count = session.scalar(select(func.count()).select_from(ImportJob).where(*where)) or 0
    jobs = session.scalars(
        select(ImportJob)
        .where(*where)
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


def _noun(job: ImportJob) -> str:
    return "import" if job.kind in IMPORTERS else f"{job.kind} job"


def cancel_job(
    session: Session,
    workspace_id: int,
    job_id: str,
    *,
    signal: Callable[[str], None] | None = None,
) -> ImportJob:
    """Cancel a queued or running import job of the workspace (the faces let owners only).

    A queued job ends ``cancelled`` at once. A running one is marked ``cancelling``: the import
    stops at its next batch, rolls back — nothing it read is written — and the job ends
    ``cancelled``. ``signal`` reaches an import running in this process at once (the server's
    :class:`~microfluence.jobs.runner.JobRunner`); an import in another process sees the mark in
    the store (once ``session`` commits) within :data:`CANCEL_POLL_SECONDS` at its next batch.
    A job of another workspace is not found; a job that has already ended is a conflict.
    """
    job = get_job(session, workspace_id, job_id)
    if job.status not in ACTIVE:
        raise ConflictError(f"the {_noun(job)} has already ended ({job.status}): nothing to cancel")
    if job.kind not in IMPORTERS and job.status != "queued":
        raise ConflictError(f"a {job.kind} job cannot be stopped once it runs: it writes at once")
    if signal is not None and job.status != "queued":
        signal(job_id)  # before the write below: on SQLite, that may wait for the import's lock
    now = utcnow()
    mine = (ImportJob.id == job_id, ImportJob.workspace_id == workspace_id)
    session.execute(
        update(ImportJob)
        .where(*mine, ImportJob.status == "queued")
        .values(status="cancelled", error=CANCELLED, finished_at=now, updated_at=now),
        execution_options={"synchronize_session": False},
    )
    session.execute(
        update(ImportJob)
        .where(*mine, ImportJob.status == "running")
        .values(status="cancelling", updated_at=now),
        execution_options={"synchronize_session": False},
    )
    session.refresh(job)
    if job.status in ("succeeded", "failed"):  # it ended while the cancel was on its way
        raise ConflictError(f"the {_noun(job)} has already ended ({job.status}): nothing to cancel")
    return job


def _cancel_check(store: Store, job_id: str, stop: Callable[[], bool] | None) -> Callable[[], bool]:
    """Whether the job was cancelled: asked by the import between batches."""
    last_poll = [time.monotonic()]

    def cancelled() -> bool:
        if stop is not None and stop():
            return True
        now = time.monotonic()
        if now - last_poll[0] < CANCEL_POLL_SECONDS:
            return False
        last_poll[0] = now
        with store.transaction() as session:
            status = session.scalar(select(ImportJob.status).where(ImportJob.id == job_id))
        return status == "cancelling"

    return cancelled


def _start(
    store: Store, job_id: str, owner: str | None = None
) -> tuple[str, dict[str, Any], str] | None:
    """Mark a queued job running under ``owner`` (the process running it): (kind, options,
    workspace name), or None when it was cancelled, removed, or has already run — the
    conditional update lets one run start, however often the queue delivers it."""
    with store.transaction() as session:
        job = session.get(ImportJob, job_id)
        if job is None or job.status != "queued":
            return None
        workspace = session.get(Workspace, job.workspace_id)
        if workspace is None:
            return None
        started = session.execute(
            update(ImportJob)
            .where(ImportJob.id == job_id, ImportJob.status == "queued")
            .values(
                status="running",
                owner=owner if owner is not None else job.owner,
                attempts=ImportJob.attempts + 1,
                started_at=utcnow(),
                updated_at=utcnow(),
            )
        )
        if not started.rowcount:
            return None
        return job.kind, dict(job.options), workspace.name


def _failure(exc: MicrofluenceError, upload: Path) -> dict[str, Any]:
    details = {"message": getattr(exc, "message", str(exc))}
    for name in ("file", "line", "field"):
        value = getattr(exc, name, None)
        if value is not None:
            details[name] = Path(value).name if name == "file" else value
    return {
        "status": "failed",
        "error": _hide_path(str(exc), upload),
        "errors": [details],
    }


def _success(report: Any, upload: Path, seen: tuple[int, int | None]) -> dict[str, Any]:
    errors = []
    for rejection in report.rejections[:KEEP_ERRORS]:
        item = {k: v for k, v in asdict(rejection).items() if v is not None and k != "row"}
        if "file" in item:
            item["file"] = Path(item["file"]).name
        errors.append(item)
    summary = report.as_dict()
    summary["source"] = upload.name
    summary.pop("rejects_path", None)  # a server-side temporary file, deleted below
    done, total = seen
    return {
        "status": "succeeded",
        "summary": summary,
        "errors": errors,
        "import_run_id": report.import_id,
        "progress_done": total if total is not None else done,
        "progress_total": total,
    }


def committed_outcome(session: Session, job: ImportJob) -> dict[str, Any] | None:
    """The outcome of a job whose import committed (its run is marked with the job's id) when
    its process died before recording it in the job's row; None when nothing committed."""
    run = session.scalar(
        select(ImportRun).where(
            ImportRun.job_id == job.id,
            ImportRun.workspace_id == job.workspace_id,
            ImportRun.status == "succeeded",
        )
    )
    if run is None:
        return None
    summary = dict(run.summary or {})
    summary["source"] = job.filename
    summary.pop("rejects_path", None)
    return {
        "status": "succeeded",
        "summary": summary,
        "errors": list(summary.get("reasons") or [])[:KEEP_ERRORS],
        "import_run_id": run.id,
        "error": None,
    }


def run_job(
    store: Store,
    job_id: str,
    upload: Path,
    progress_sink: ProgressSink,
    stop: Callable[[], bool] | None = None,
    owner: str | None = None,
) -> None:
    """Run a queued import job to its end and record its outcome; removes ``upload`` (and its
    folder) afterwards. Never raises: the outcome is in the job.

    Progress goes to ``progress_sink`` (memory of the serving process), not to the store: the
    import's write phase holds SQLite's only write lock. ``stop`` tells of a cancel made in this
    process; one made elsewhere is read from the store (:func:`cancel_job`)."""
    try:
        started = _start(store, job_id, owner)
        if started is None:
            return
        kind, options, workspace_name = started
        seen: list[tuple[int, int | None]] = [(0, None)]

        def progress(done: int, total: int | None) -> None:
            seen[0] = (int(done), total)
            progress_sink(job_id, int(done), total)

        cancel = _cancel_check(store, job_id, stop)
        try:
            with for_job(job_id):  # marks its import run, committed with the data
                report = IMPORTERS[kind](store, workspace_name, upload, options, progress, cancel)
            outcome = _success(report, upload, seen[0])
        except ImportCancelled:
            outcome = {"status": "cancelled", "error": CANCELLED}
        except MicrofluenceError as exc:
            outcome = _failure(exc, upload)
        except Exception:
            log.exception("import job %s failed", job_id)
            outcome = {"status": "failed", "error": "internal error: the error was logged"}
        _set(store, job_id, **outcome, finished_at=utcnow())
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
    """Jobs without an owner left queued or running by a server that stopped (made before jobs
    named their owner, jobs.recovery handles the others): mark them failed (at start-up of an
    app without a queue — with one, a queued job without an owner waits for a worker); a job
    that was being cancelled is cancelled (its import never committed)."""
    now = utcnow()
    with store.transaction() as session:
        cancelled = session.execute(
            update(ImportJob)
            .where(ImportJob.status == "cancelling", ImportJob.owner.is_(None))
            .values(status="cancelled", error=CANCELLED, finished_at=now, updated_at=now)
        )
        result = session.execute(
            update(ImportJob)
            .where(ImportJob.status.in_(("queued", "running")), ImportJob.owner.is_(None))
            .values(
                status="failed",
                error="interrupted: the server stopped before the import finished; upload again",
                finished_at=now,
                updated_at=now,
            )
        )
        return (result.rowcount or 0) + (cancelled.rowcount or 0)
