"""The app factory: ``microfluence.web.app:create_app`` (uvicorn ``--factory``).

Faces are routers: the REST API (``web.api``), the sign-in form posts (``web.signin``), and the
pages (``web.pages``: its ``ROUTERS``, when installed).
"""

from __future__ import annotations

import threading
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from starlette.routing import BaseRoute

from microfluence import __version__
from microfluence.access.housekeeping import prune as prune_expired
from microfluence.access.site_secrets import site_secret
from microfluence.discovery.warmup import warm_in_background
from microfluence.jobs.imports import fail_interrupted
from microfluence.jobs.queue import Queue, QueueRunner
from microfluence.jobs.recovery import recover_orphans
from microfluence.jobs.runner import JobRunner
from microfluence.jobs.settings import JobSettings
from microfluence.jobs.webhooks import retry_pending
from microfluence.kernel import heap
from microfluence.kernel.store import open_store
from microfluence.tracking.recorder import ClickRecorder
from microfluence.tracking.settings import TrackingSettings, click_log_dir
from microfluence.web import api, hooks, pages, signin
from microfluence.web.auth import CsrfCookieMiddleware
from microfluence.web.docs import install_docs
from microfluence.web.errors import install_error_handlers
from microfluence.web.headers import SecurityHeadersMiddleware
from microfluence.web.limits import MULTIPART_ENVELOPE, RequestLimitMiddleware
from microfluence.web.redirect import ShortLinks
from microfluence.web.settings import WebSettings

DESCRIPTION = """\
The REST API of microfluence. Every request carries an API key of one workspace,
`Authorization: Bearer mfk_…` (make one with `microfluence api-keys create --workspace NAME`);
every answer is about that workspace only. Errors have one shape:
`{"status", "code", "message", "details"}`.
"""


def create_app(store_url: str | None = None, settings: WebSettings | None = None) -> FastAPI:
    """The web app over the store at ``store_url`` (default: the configured store)."""
    store = open_store(store_url)
    settings = settings or WebSettings()
    job_settings = JobSettings()
    queue_url = job_settings.job_queue
    queue = (
        Queue(queue_url, store, settings.upload_dir, job_settings.worker_lease_seconds)
        if queue_url
        else None
    )
    tracking = TrackingSettings()
    clicks = ClickRecorder(
        store,
        click_log_dir(tracking, store.url),
        move_seconds=tracking.click_move_seconds,
        sync=tracking.click_log_sync == "always",
    )
    jobs: JobRunner | QueueRunner
    if queue is not None:  # workers run the jobs (microfluence worker)
        jobs = QueueRunner(queue)
    else:  # one machine: a thread pool in this process
        jobs = JobRunner(store, workers=settings.import_workers, upload_dir=settings.upload_dir)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        # Jobs of app processes or workers that died: retried on a queue, else failed. Jobs of
        # live processes (serve --workers N) are left alone.
        recover_orphans(
            store,
            jobs.upload_root,
            queue.enqueue if queue else None,
            job_settings.worker_lease_seconds,
        )
        if queue is None:
            fail_interrupted(store)
            retry_pending(store, jobs.submit_webhook, older_than=0)  # stored before a stop
        prune_expired(store)  # sign-in counts, sessions and invitations that ran out
        clicks.start()  # moves the clicks that processes killed before left in the log
        settle = heap.settle if settings.freeze_heap else None
        if settle is not None:  # what start-up made lives as long as the process
            settle()
        warming = (  # and so do the indexes: frozen again once built
            warm_in_background(store, settings.search_warm_accounts, done=settle)
            if settings.search_warm_accounts
            else None
        )
        yield
        if warming is not None:
            warming.set()  # stops between two workspaces; a build under way is dropped
        clicks.stop()
        jobs.shutdown()
        store.dispose()

    app = FastAPI(
        title="microfluence",
        version=__version__,
        description=DESCRIPTION,
        docs_url=None,
        redoc_url=None,
        openapi_url="/openapi.json",
        lifespan=lifespan,
    )
    app.state.store = store
    app.state.settings = settings
    app.state.jobs = jobs
    app.state.queue = queue  # None: no worker fires schedules (the jobs page says so)
    app.state.clicks = clicks
    app.state.csrf_secret = site_secret(store, "csrf")
    app.state.html_error_page = pages.render_error
    install_error_handlers(app)
    install_docs(app)
    app.add_middleware(CsrfCookieMiddleware, signer_secret=app.state.csrf_secret)
    # Added last, run first: bodies are refused before anything reads them, and every answer
    # (refusals included) gets its security headers.
    app.add_middleware(
        RequestLimitMiddleware,
        max_body_bytes=settings.max_body_kb << 10,
        # An upload carries a little more than the file (the multipart envelope and fields).
        max_upload_bytes=(settings.max_upload_mb << 20) + MULTIPART_ENVELOPE,
        max_hook_bytes=settings.max_hook_kb << 10,
    )
    app.add_middleware(SecurityHeadersMiddleware)
    # The public short links, /r/{slug}, before everything else (docs/tracking.md).
    app.add_middleware(
        ShortLinks,
        recorder=clicks,
        country_header=tracking.country_header,
        cache_seconds=tracking.link_cache_seconds,
    )
    _include_faces(app)
    return app


_faces: list[BaseRoute] = []
_faces_lock = threading.Lock()


def _include_faces(app: FastAPI) -> None:
    """The faces' routes, included once per process and shared by every app it creates.

    FastAPI works out an included route's parameters, models and handler on the first request
    that reaches it, per inclusion: about a second for our 360 routes. Every app of a process
    includes the same routers in the same way, so the later ones take the first one's included
    routes, with what they have already worked out. A request still sees its own app (its
    store, settings and middleware) as ``request.app``.
    """
    with _faces_lock:
        if not _faces:
            before = len(app.router.routes)
            app.include_router(api.router)
            app.include_router(signin.router)
            app.include_router(hooks.router)
            for router in pages.ROUTERS:
                app.include_router(router)
            _faces.extend(app.router.routes[before:])
            return
    app.router.routes.extend(_faces)
