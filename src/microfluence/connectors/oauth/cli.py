"""`microfluence authorisations …`: the workspace's OAuth apps, connect links for creators,
the creators' authorisations (list, read now, revoke) and the first-party numbers they gave."""

from __future__ import annotations

import getpass
from typing import Annotated

import typer
from rich.table import Table

from microfluence.connectors.oauth import apps, flow, grants, insights
from microfluence.kernel.console import (
    DEFAULT_WS,
    DatabaseUrlOpt,
    WorkspaceOpt,
    console,
    err_console,
    friendly_errors,
    print_json,
    workspace_transaction,
)
from microfluence.tracking.links import public_base

authorisations_app = typer.Typer(
    help="Creators' authorisations (OAuth): apps, connect links, first-party insights.",
    no_args_is_help=True,
)
PlatformArg = Annotated[str, typer.Argument(help="instagram, youtube or tiktok")]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print the result as JSON.")]


def _by() -> str:
    return f"cli:{getpass.getuser()}"


@authorisations_app.command("app")
@friendly_errors
def set_app(
    platform: PlatformArg,
    client_id: Annotated[str, typer.Option("--client-id", help="App ID / client id / client key.")],
    client_secret: Annotated[
        str,
        typer.Option(
            "--client-secret",
            prompt=True,
            hide_input=True,
            envvar="MICROFLUENCE_OAUTH_CLIENT_SECRET",
            help="Asked for when not given (never echoed); stored sealed.",
        ),
    ],
    workspace: WorkspaceOpt = DEFAULT_WS,
    database_url: DatabaseUrlOpt = None,
) -> None:
    """Set the workspace's app for a platform (owners' task): its client id and secret."""
    with workspace_transaction(database_url, workspace) as (session, ws):
        made = apps.set_app(
            session, ws.id, platform, client_id=client_id, client_secret=client_secret, by=_by()
        )
    console.print(f"{made.label}: client id {made.client_id}, secret stored sealed")


@authorisations_app.command("apps")
@friendly_errors
def list_apps(
    as_json: JsonOpt = False,
    workspace: WorkspaceOpt = DEFAULT_WS,
    database_url: DatabaseUrlOpt = None,
) -> None:
    """The apps set (never their secrets)."""
    with workspace_transaction(database_url, workspace) as (session, ws):
        rows = apps.list_apps(session, ws.id)
    if as_json:
        print_json(rows)
        return
    for row in rows:
        console.print(f"{row.platform}\t{row.client_id}\tupdated {row.updated_at:%Y-%m-%d}")
    if not rows:
        err_console.print("no app yet: microfluence authorisations app PLATFORM --client-id …")


@authorisations_app.command("app-remove")
@friendly_errors
def remove_app(
    platform: PlatformArg, workspace: WorkspaceOpt = DEFAULT_WS, database_url: DatabaseUrlOpt = None
) -> None:
    """Forget the workspace's app for a platform (its authorisations stay until revoked)."""
    with workspace_transaction(database_url, workspace) as (session, ws):
        apps.delete_app(session, ws.id, platform)
    console.print(f"{platform} app removed")


@authorisations_app.command("link")
@friendly_errors
def link(  # noqa: PLR0913 - one parameter per option
    creator_id: Annotated[int, typer.Argument(help="The creator's id.")],
    platform: Annotated[str, typer.Option("--platform", help="instagram, youtube or tiktok")],
    days: Annotated[int, typer.Option("--days", help="Days the link works.")] = 7,
    base: Annotated[
        str | None,
        typer.Option("--base-url", help="Where creators reach the app (MICROFLUENCE_PUBLIC_URL)."),
    ] = None,
    workspace: WorkspaceOpt = DEFAULT_WS,
    database_url: DatabaseUrlOpt = None,
) -> None:
    """A connect link to send the creator; printed this once (the store keeps its hash)."""
    with workspace_transaction(database_url, workspace) as (session, ws):
        made = flow.create_invite(
            session, ws.id, creator_id, platform, by=_by(), days=days, base=public_base(base)
        )
    console.print(f"connect link {made.id}, until {made.expires_at:%Y-%m-%d %H:%M} UTC:")
    console.print(made.url, highlight=False, soft_wrap=True)


def _table(rows: list[grants.AuthorisationPublic]) -> Table:
    table = Table("id", "creator", "platform", "handle", "status", "read", "detail")
    for r in rows:
        read = f"{r.fetched_at:%Y-%m-%d %H:%M}" if r.fetched_at else "never"
        table.add_row(
            str(r.id), r.creator_name or str(r.creator_id), r.platform, r.handle or "",
            r.status, read, r.status_detail or "",
        )  # fmt: skip
    return table


@authorisations_app.command("list")
@friendly_errors
def list_authorisations(
    creator_id: Annotated[int | None, typer.Option("--creator-id", help="One creator's.")] = None,
    platform: Annotated[str | None, typer.Option("--platform", help="One platform's.")] = None,
    as_json: JsonOpt = False,
    workspace: WorkspaceOpt = DEFAULT_WS,
    database_url: DatabaseUrlOpt = None,
) -> None:
    """The creators' authorisations and their status (never their tokens)."""
    with workspace_transaction(database_url, workspace) as (session, ws):
        rows = grants.list_authorisations(
            session, ws.id, creator_id=creator_id, platform_name=platform
        )
    print_json(rows) if as_json else console.print(_table(rows))


@authorisations_app.command("fetch")
@friendly_errors
def fetch(
    authorisation_id: Annotated[int | None, typer.Argument(help="One authorisation.")] = None,
    every: Annotated[bool, typer.Option("--all", help="Every active authorisation.")] = False,
    as_json: JsonOpt = False,
    workspace: WorkspaceOpt = DEFAULT_WS,
    database_url: DatabaseUrlOpt = None,
) -> None:
    """Read what the authorisation allows now (refreshing its token first when due); exit 1
    when a grant was refused (the authorisation is then marked expired or revoked)."""
    if (authorisation_id is None) == (not every):
        raise typer.BadParameter("give an authorisation id or --all")
    with workspace_transaction(database_url, workspace) as (session, ws):
        if every:
            results = insights.fetch_all(session, ws.id)
        else:
            results = [insights.fetch_insights(session, ws.id, authorisation_id or 0)]
    if as_json:
        print_json(results)
    for r in results:
        if not as_json:
            console.print(
                f"{r.authorisation_id} {r.platform}: {r.status}, "
                f"{r.insights} numbers, {r.audience} audience shares"
            )
        if r.error:
            err_console.print(f"error: authorisation {r.authorisation_id}: {r.error}")
    if any(r.error for r in results):
        raise typer.Exit(1)


@authorisations_app.command("revoke")
@friendly_errors
def revoke(
    authorisation_id: Annotated[int, typer.Argument(help="The authorisation's id.")],
    workspace: WorkspaceOpt = DEFAULT_WS,
    database_url: DatabaseUrlOpt = None,
) -> None:
    """Revoke it at the platform and forget its tokens here."""
    with workspace_transaction(database_url, workspace) as (session, ws):
        done = grants.revoke(session, ws.id, authorisation_id, by=_by())
    console.print(f"authorisation {done.id}: {done.status} ({done.status_detail})")


@authorisations_app.command("insights")
@friendly_errors
def show_insights(
    account_id: Annotated[int, typer.Argument(help="The account's id.")],
    as_json: JsonOpt = False,
    workspace: WorkspaceOpt = DEFAULT_WS,
    database_url: DatabaseUrlOpt = None,
) -> None:
    """The account's first-party numbers, and whether they are verified."""
    with workspace_transaction(database_url, workspace) as (session, ws):
        view = insights.account_insights(session, ws.id, account_id)
    if as_json:
        print_json(view)
        return
    if view.verified and view.verified_at:
        console.print(f"{insights.VERIFIED} on {view.verified_at:%Y-%m-%d}")
    else:
        console.print("no first-party numbers yet")
    for v in view.latest:
        console.print(f"{v.metric}\t{v.period}\t{v.end_time:%Y-%m-%d}\t{v.value}")
    for dimension, shares in view.audience.items():
        top = ", ".join(
            f"{s.key} {s.value:g}{'%' if s.unit == 'percent' else ''}" for s in shares[:5]
        )
        console.print(f"audience by {dimension}: {top}")
