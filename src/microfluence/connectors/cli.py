"""`microfluence connect …` (credentials), `microfluence fetch youtube|instagram HANDLE…` and
`microfluence refresh`: the connectors' command-line face. Secrets are read from a file (or
standard input, ``-``), never from the command line, and never printed."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

from microfluence.connectors import credentials
from microfluence.connectors import jobs as _jobs  # registers the refresh job kind
from microfluence.connectors.fetching import SEARCH_COST, FetchOutcome, fetch_accounts
from microfluence.connectors.fetching import search_youtube as search_service
from microfluence.connectors.refresh import list_runs, refresh_workspace, workspaces_to_refresh
from microfluence.connectors.status import connections
from microfluence.jobs.schedules import add_schedule
from microfluence.kernel.console import (
    DEFAULT_WS,
    DatabaseUrlOpt,
    WorkspaceOpt,
    console,
    err_console,
    friendly_errors,
    store_for,
)
from microfluence.kernel.errors import InputError
from microfluence.kernel.workspaces import ensure_workspace, get_workspace

connect_app = typer.Typer(
    help="Credentials for the platforms' APIs (YouTube, Instagram), kept sealed.",
    no_args_is_help=True,
)
fetch_app = typer.Typer(
    help="Fetch accounts from YouTube or Instagram into the workspace.", no_args_is_help=True
)
MAX_SECRET_FILE = 16_384

BudgetOpt = Annotated[
    int | None,
    typer.Option(
        "--budget", min=1, help="Quota units a day this workspace may spend (YouTube: 10000)."
    ),
]


def read_secret(path: Path, field: str) -> str:
    """The secret in ``path`` (``-``: standard input), its errors naming the file."""
    name = "standard input" if str(path) == "-" else str(path)
    try:
        if str(path) == "-":
            text = sys.stdin.read(MAX_SECRET_FILE + 1)
        else:
            with path.open(encoding="utf-8") as handle:
                text = handle.read(MAX_SECRET_FILE + 1)
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"cannot read {name}: {exc.__class__.__name__}", field=field) from exc
    if len(text) > MAX_SECRET_FILE:
        raise InputError(f"{name} is too large to hold one key", field=field)
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    if len(lines) != 1:
        raise InputError(
            f"{name} must hold the secret on one line ({len(lines)} found)", field=field
        )
    try:
        return credentials.check_secret(lines[0], field)
    except InputError as exc:
        raise InputError(f"{name}: {exc.message}", field=field) from exc


def _store_secret(
    database_url: str | None,
    workspace: str,
    platform: str,
    secret: str,
    business_account_id: str | None,
    budget: int | None,
) -> None:
    store = store_for(database_url)
    try:
        with store.transaction() as session:
            ws = ensure_workspace(session, workspace)
            info = credentials.set_credential(
                session,
                ws.id,
                platform,
                secret,
                business_account_id=business_account_id,
                daily_budget=budget,
            )
    finally:
        store.dispose()
    console.print(
        f"{platform} connected for workspace [bold]{workspace}[/]: {info.hint}", highlight=False
    )


@connect_app.command("youtube")
@friendly_errors
def connect_youtube(
    api_key_file: Annotated[
        Path, typer.Option("--api-key-file", help="A file holding the API key (- : stdin).")
    ],
    budget: BudgetOpt = None,
    workspace: WorkspaceOpt = DEFAULT_WS,
    database_url: DatabaseUrlOpt = None,
) -> None:
    """Set the workspace's YouTube Data API key (docs/connectors.md says how to get one)."""
    secret = read_secret(api_key_file, "api_key")
    _store_secret(database_url, workspace, "youtube", secret, None, budget)


@connect_app.command("instagram")
@friendly_errors
def connect_instagram(
    token_file: Annotated[
        Path,
        typer.Option("--token-file", help="A file holding the user access token (- : stdin)."),
    ],
    business_account_id: Annotated[
        str,
        typer.Option(
            "--business-account-id", help="The id of your own Instagram business account."
        ),
    ],
    budget: BudgetOpt = None,
    workspace: WorkspaceOpt = DEFAULT_WS,
    database_url: DatabaseUrlOpt = None,
) -> None:
    """Set the workspace's Instagram Graph API token and business account."""
    secret = read_secret(token_file, "access_token")
    _store_secret(database_url, workspace, "instagram", secret, business_account_id, budget)


@connect_app.command("list")
@friendly_errors
def connect_list(workspace: WorkspaceOpt = DEFAULT_WS, database_url: DatabaseUrlOpt = None) -> None:
    """The workspace's connections: credentials (masked), quota used today and the budget."""
    store = store_for(database_url)
    try:
        with store.session() as session:
            found = connections(session, get_workspace(session, workspace).id)
    finally:
        store.dispose()
    for c in found:
        if not c.connected:
            console.print(f"{c.platform:<10} not connected", highlight=False)
            continue
        budget = f"{c.budget}" if c.budget is not None else "no budget"
        extra = f"  account {c.business_account_id}" if c.business_account_id else ""
        spent = " (quota exhausted)" if c.exhausted else ""
        console.print(
            f"{c.platform:<10} {c.hint}{extra}  used today {c.used_today} of {budget}{spent}",
            highlight=False,
        )


@connect_app.command("budget")
@friendly_errors
def connect_budget(
    platform: Annotated[str, typer.Argument(help="youtube or instagram")],
    units: Annotated[int, typer.Argument(min=1, help="Units a day.")],
    workspace: WorkspaceOpt = DEFAULT_WS,
    database_url: DatabaseUrlOpt = None,
) -> None:
    """Set the daily quota budget of a connection."""
    store = store_for(database_url)
    try:
        with store.transaction() as session:
            credentials.set_budget(session, get_workspace(session, workspace).id, platform, units)
    finally:
        store.dispose()
    console.print(f"{platform}: {units} units a day", highlight=False)


@connect_app.command("remove")
@friendly_errors
def connect_remove(
    platform: Annotated[str, typer.Argument(help="youtube or instagram")],
    workspace: WorkspaceOpt = DEFAULT_WS,
    database_url: DatabaseUrlOpt = None,
) -> None:
    """Forget a connection's credentials (what was fetched stays)."""
    store = store_for(database_url)
    try:
        with store.transaction() as session:
            credentials.remove_credential(session, get_workspace(session, workspace).id, platform)
    finally:
        store.dispose()
    console.print(f"{platform} disconnected from workspace {workspace}", highlight=False)


def _bar() -> Progress:
    return Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.fields[handle]}"),
        console=err_console,
    )


def show_outcome(outcome: FetchOutcome) -> None:
    report = outcome.report
    created = ", ".join(f"{n} {t}" for t, n in (report.created if report else {}).items())
    console.print(
        f"fetched {len(outcome.fetched)} {outcome.platform} account(s)"
        f" ({outcome.units} quota units); created {created or 'nothing'}"
        + ("; re-scored" if outcome.scored else ""),
        highlight=False,
    )
    for handle, why in outcome.not_readable.items():
        console.print(f"  {handle}: {why}", highlight=False, markup=False)
    if outcome.unavailable_posts:
        console.print(
            f"  {outcome.unavailable_posts} listed video(s) deleted or private: left out",
            highlight=False,
        )
    if outcome.stopped:
        console.print(
            f"stopped: {outcome.stopped}; not fetched: {', '.join(outcome.not_tried) or '–'}",
            highlight=False,
            markup=False,
        )


def _fetch(
    platform: str, handles: list[str], workspace: str, database_url: str | None, rescore: bool
) -> None:
    store = store_for(database_url)
    try:
        with _bar() as bar:
            task = bar.add_task(f"{platform}", total=len(handles), handle="")
            outcome = fetch_accounts(
                store,
                workspace,
                platform,
                handles,
                rescore=rescore,
                progress=lambda done, total, h: bar.update(task, completed=done, handle=h),
            )
    finally:
        store.dispose()
    show_outcome(outcome)
    if outcome.stopped:
        raise typer.Exit(2)


NoScoreOpt = Annotated[
    bool, typer.Option("--no-score", help="Do not re-score the workspace after the fetch.")
]


@fetch_app.command("youtube")
@friendly_errors
def fetch_youtube(
    handles: Annotated[
        list[str] | None,
        typer.Argument(help="Channel ids (UC…), @handles or user:names."),
    ] = None,
    search: Annotated[
        str | None,
        typer.Option("--search", help=f"Find channels by keyword ({SEARCH_COST} units)."),
    ] = None,
    limit: Annotated[
        int, typer.Option("--limit", min=1, max=50, help="Channels a search finds.")
    ] = 10,
    yes: Annotated[bool, typer.Option("--yes", help="Spend the search's quota units.")] = False,
    no_score: NoScoreOpt = False,
    workspace: WorkspaceOpt = DEFAULT_WS,
    database_url: DatabaseUrlOpt = None,
) -> None:
    """Fetch YouTube channels and their recent videos (1 unit a channel look-up and per 50
    videos listed; a search costs 100)."""
    if search is None:
        _fetch("youtube", handles or [], workspace, database_url, not no_score)
        return
    if handles:
        raise InputError("name channels or --search, not both", field="search")
    if not yes:
        err_console.print(
            f"a YouTube search costs {SEARCH_COST} quota units of your daily budget: "
            "run again with --yes to spend them",
            highlight=False,
        )
        raise typer.Exit(1)
    store = store_for(database_url)
    try:
        outcome = search_service(
            store, workspace, search, limit=limit, confirm=True, rescore=not no_score
        )
    finally:
        store.dispose()
    show_outcome(outcome)


@fetch_app.command("instagram")
@friendly_errors
def fetch_instagram(
    handles: Annotated[list[str], typer.Argument(help="Instagram user names.")],
    no_score: NoScoreOpt = False,
    workspace: WorkspaceOpt = DEFAULT_WS,
    database_url: DatabaseUrlOpt = None,
) -> None:
    """Fetch Instagram business and creator accounts and their recent media."""
    _fetch("instagram", handles, workspace, database_url, not no_score)


@friendly_errors
def refresh(
    workspace: Annotated[
        str | None,
        typer.Option(
            "--workspace", "-w", help="Only this workspace (default: every connected one)."
        ),
    ] = None,
    log: Annotated[
        bool, typer.Option("--log", help="Show the recent runs, refresh nothing.")
    ] = False,
    schedule: Annotated[
        str | None,
        typer.Option(
            "--schedule",
            help='Refresh on the job queue on this cron (UTC, "0 4 * * *"), instead of now.',
        ),
    ] = None,
    no_score: NoScoreOpt = False,
    database_url: DatabaseUrlOpt = None,
) -> None:
    """Refresh the followed accounts (a snapshot and new posts each); continues an unfinished
    run where it stopped. For cron: `microfluence refresh` daily."""
    store = store_for(database_url)
    try:
        names = [workspace] if workspace else workspaces_to_refresh(store)
        if schedule is not None:
            _schedule(store, workspace, schedule)
            return
        if log:
            _show_log(store, names)
            return
        stopped = False
        if not names:
            console.print("no workspace has connector credentials: nothing to refresh")
        for name in names:
            with _bar() as bar:
                task = bar.add_task(f"refresh {name}", total=None, handle="")
                result = refresh_workspace(
                    store,
                    name,
                    rescore=not no_score,
                    progress=lambda done, total, t=task: bar.update(t, completed=done, total=total),
                )
            again = " (continued)" if result.resumed else ""
            console.print(
                f"{name}: refresh run {result.run_id}{again} {result.status}: "
                f"{result.done} of {result.total} accounts done, {result.failed} failed",
                highlight=False,
            )
            if result.stopped:
                stopped = True
                console.print(f"  stopped: {result.stopped}", highlight=False, markup=False)
    finally:
        store.dispose()
    if stopped:
        raise typer.Exit(2)


def _schedule(store: Any, workspace: str | None, cron: str) -> None:
    if workspace is None:
        raise InputError("--schedule needs --workspace", field="workspace")
    with store.transaction() as session:
        made = add_schedule(session, get_workspace(session, workspace).id, _jobs.REFRESH, cron)
        line = f"schedule {made.id}: refresh on {made.cron!r} in {workspace}"
    console.print(line, highlight=False, markup=False)


def _show_log(store: object, names: list[str]) -> None:
    with store.session() as session:  # type: ignore[attr-defined]
        for name in names:
            for run in list_runs(session, get_workspace(session, name).id):
                console.print(
                    f"{name}  run {run.id}  {run.status:<9}  {run.done}/{run.total} done  "
                    f"{run.failed} failed  started {run.started_at:%Y-%m-%d %H:%M} UTC"
                    + (f"  {run.error}" if run.error else ""),
                    highlight=False,
                    markup=False,
                )
