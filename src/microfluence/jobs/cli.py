"""`microfluence jobs …` and `microfluence worker`: background jobs.

Thin faces over ``jobs``: list a workspace's jobs, cancel one (owners do the same from the API
and the job's page), schedule jobs per workspace; and the worker process that runs the durable
queue (jobs.queue).
"""

from __future__ import annotations

from typing import Annotated

import typer

from microfluence.catalog.listing import Window
from microfluence.jobs.imports import cancel_job, list_jobs
from microfluence.jobs.schedules import (
    add_schedule,
    describe_schedule,
    list_schedules,
    remove_schedule,
)
from microfluence.kernel.console import (
    DEFAULT_WS,
    DatabaseUrlOpt,
    WorkspaceOpt,
    console,
    friendly_errors,
    workspace_transaction,
)

app = typer.Typer(
    help="Background jobs: imports uploaded to the API or the pages, scheduled scoring.",
    no_args_is_help=True,
)


@app.command("list")
@friendly_errors
def list_command(
    workspace: WorkspaceOpt = DEFAULT_WS,
    database_url: DatabaseUrlOpt = None,
    limit: Annotated[int, typer.Option("--limit", min=1, max=500, help="How many.")] = 20,
) -> None:
    """List the workspace's jobs of every kind (imports uploaded to the API and the pages,
    re-scores), newest first: id, status, kind, when it was created (UTC) and the file (or who
    started it: requested, schedule ID)."""
    with workspace_transaction(database_url, workspace) as (session, ws):
        jobs, count = list_jobs(session, ws.id, window=Window(limit=limit))
        lines = [
            f"{job.id}  {job.status:<10}  {job.kind:<9}  "
            f"{job.created_at:%Y-%m-%d %H:%M:%S}  {job.filename}"
            for job in jobs
        ]
    console.print(f"{count} jobs in {workspace}", highlight=False)
    for line in lines:  # one per line, whole: ids are copied from here
        console.print(line, highlight=False, markup=False, soft_wrap=True)


@app.command("cancel")
@friendly_errors
def cancel_command(
    job_id: Annotated[str, typer.Argument(help="The job's id (see `microfluence jobs list`).")],
    workspace: WorkspaceOpt = DEFAULT_WS,
    database_url: DatabaseUrlOpt = None,
) -> None:
    """Cancel a queued or running import job; a running one stops at its next batch and
    writes nothing."""
    with workspace_transaction(database_url, workspace) as (session, ws):
        status = cancel_job(session, ws.id, job_id).status
    if status == "cancelled":
        console.print(f"import {job_id} cancelled", highlight=False)
    else:
        console.print(
            f"import {job_id} is {status}: it stops at its next batch and writes nothing",
            highlight=False,
        )


@app.command("schedule")
@friendly_errors
def schedule_command(
    kind: Annotated[
        str,
        typer.Argument(
            help="The job to run: score (re-score the workspace) or outreach (send due messages)."
        ),
    ],
    cron: Annotated[
        str,
        typer.Option(
            "--cron", help='Minute hour day month day-of-week, in UTC: "0 3 * * *" is 03:00 daily.'
        ),
    ],
    workspace: WorkspaceOpt = DEFAULT_WS,
    database_url: DatabaseUrlOpt = None,
) -> None:
    """Run a job for the workspace on a cron schedule; `microfluence worker` processes fire it
    (once per matching minute, however many run)."""
    with workspace_transaction(database_url, workspace) as (session, ws):
        schedule = add_schedule(session, ws.id, kind, cron)
        line = f"schedule {schedule.id}: {schedule.kind} on {schedule.cron!r} in {workspace}"
    console.print(line, highlight=False, markup=False)


@app.command("schedules")
@friendly_errors
def schedules_command(
    workspace: WorkspaceOpt = DEFAULT_WS, database_url: DatabaseUrlOpt = None
) -> None:
    """List the workspace's schedules: id, job, cron, when it last fired and fires next (UTC),
    and what the cron means when it is simple."""
    with workspace_transaction(database_url, workspace) as (session, ws):
        described = [describe_schedule(s) for s in list_schedules(session, ws.id)]
    lines = [
        f"{s.id}  {s.kind:<6}  {s.cron:<20}  "
        + (f"last {s.last_fired_at:%Y-%m-%d %H:%M}" if s.last_fired_at else "never fired")
        + (f", next {s.next_run_at:%Y-%m-%d %H:%M}" if s.next_run_at else "")
        + (f"  ({s.description})" if s.description else "")
        for s in described
    ]
    console.print(f"{len(lines)} schedules in {workspace}", highlight=False)
    for line in lines:
        console.print(line, highlight=False, markup=False, soft_wrap=True)


@app.command("unschedule")
@friendly_errors
def unschedule_command(
    schedule_id: Annotated[int, typer.Argument(help="The schedule's id (jobs schedules).")],
    workspace: WorkspaceOpt = DEFAULT_WS,
    database_url: DatabaseUrlOpt = None,
) -> None:
    """Remove a schedule of the workspace (jobs it started already keep running)."""
    with workspace_transaction(database_url, workspace) as (session, ws):
        remove_schedule(session, ws.id, schedule_id)
    console.print(f"schedule {schedule_id} removed", highlight=False)


@friendly_errors
def worker(
    database_url: DatabaseUrlOpt = None,
    queue: Annotated[
        str | None,
        typer.Option(
            "--queue",
            help="The job queue, sqlite:///PATH or postgresql://… "
            "(default: MICROFLUENCE_JOB_QUEUE).",
        ),
    ] = None,
    threads: Annotated[
        int | None,
        typer.Option(
            "--threads", min=1, max=32, help="Jobs run at once (MICROFLUENCE_WORKER_THREADS)."
        ),
    ] = None,
) -> None:
    """Run background jobs from the durable queue (imports, scoring, schedules) until stopped
    (Ctrl-C or SIGTERM); start as many as the machine can take."""
    import logging

    from microfluence.jobs.backends import shown_url
    from microfluence.jobs.queue import run_worker
    from microfluence.jobs.settings import JobSettings
    from microfluence.kernel.errors import InputError
    from microfluence.kernel.store import open_store

    settings = JobSettings()
    url = queue or settings.job_queue
    if not url:
        raise InputError(
            "no job queue: set MICROFLUENCE_JOB_QUEUE (or --queue) to sqlite:///PATH or "
            "postgresql://…, the same for the app processes and the workers",
            field="job_queue",
        )
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    store = open_store(database_url)
    console.print(f"microfluence worker on {shown_url(url)}", highlight=False, markup=False)
    try:
        run_worker(
            store,
            url,
            settings.upload_dir,
            threads or settings.worker_threads,
            settings.worker_lease_seconds,
        )
    finally:
        store.dispose()
