"""`microfluence jobs …`: the background jobs that uploads to the API and the pages start.

Thin faces over ``jobs.imports``: list a workspace's jobs, cancel one (owners do the same from
the API and the job's page).
"""

from __future__ import annotations

from typing import Annotated

import typer

from microfluence.catalog.listing import Window
from microfluence.jobs.imports import cancel_job, list_jobs
from microfluence.kernel.console import (
    DEFAULT_WS,
    DatabaseUrlOpt,
    WorkspaceOpt,
    console,
    friendly_errors,
    workspace_transaction,
)

app = typer.Typer(
    help="Background jobs: imports uploaded to the API or the pages.", no_args_is_help=True
)


@app.command("list")
@friendly_errors
def list_command(
    workspace: WorkspaceOpt = DEFAULT_WS,
    database_url: DatabaseUrlOpt = None,
    limit: Annotated[int, typer.Option("--limit", min=1, max=500, help="How many.")] = 20,
) -> None:
    """List the workspace's import jobs (uploads to the API and the pages), newest first:
    id, status, kind, when it was created (UTC) and the file."""
    with workspace_transaction(database_url, workspace) as (session, ws):
        jobs, count = list_jobs(session, ws.id, window=Window(limit=limit))
        lines = [
            f"{job.id}  {job.status:<10}  {job.kind:<9}  "
            f"{job.created_at:%Y-%m-%d %H:%M:%S}  {job.filename}"
            for job in jobs
        ]
    console.print(f"{count} import jobs in {workspace}", highlight=False)
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
