"""`microfluence serve`: the web app and the REST API, with uvicorn."""

from __future__ import annotations

import os
from typing import Annotated

import typer

from microfluence.kernel.console import DatabaseUrlOpt, console, friendly_errors


@friendly_errors
def serve(
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.", min=1, max=65535)] = 8000,
    database_url: DatabaseUrlOpt = None,
    proxy_headers: Annotated[
        bool, typer.Option(help="Trust X-Forwarded-* from a proxy in front (for HTTPS).")
    ] = False,
    workers: Annotated[
        int,
        typer.Option(
            "--workers",
            min=1,
            max=64,
            help="App processes on the port (sessions, sign-in throttle and jobs are shared "
            "through the store).",
        ),
    ] = 1,
    queue: Annotated[
        str | None,
        typer.Option(
            "--queue",
            help="The durable job queue, sqlite:///PATH or postgresql://… "
            "(MICROFLUENCE_JOB_QUEUE): jobs are run by `microfluence worker` processes instead "
            "of this one.",
        ),
    ] = None,
) -> None:
    """Serve the web app and the REST API (API docs at /docs)."""
    import uvicorn

    from microfluence.jobs.backends import open_huey
    from microfluence.kernel.store import open_store

    if database_url:
        os.environ["MICROFLUENCE_DATABASE_URL"] = database_url
    if queue:
        open_huey(queue)  # refused now, with a clear message, if unusable
        os.environ["MICROFLUENCE_JOB_QUEUE"] = queue
    open_store(database_url).dispose()  # migrate, and fail early with a clear message
    console.print(f"microfluence on http://{host}:{port}  (API docs: http://{host}:{port}/docs)")
    if workers > 1:
        console.print(f"{workers} app processes", highlight=False)
    uvicorn.run(
        "microfluence.web.app:create_app",
        factory=True,
        host=host,
        port=port,
        proxy_headers=proxy_headers,
        workers=workers,
        log_level="info",
    )
