"""`microfluence workspaces|users|api-keys`: access from the command line."""

from __future__ import annotations

import sys
from typing import Annotated

import typer
from rich.table import Column, Table

from microfluence.access import api_keys
from microfluence.access.roles import Role, parse_role
from microfluence.access.users import create_user, find_user, list_members, set_membership
from microfluence.kernel.console import DatabaseUrlOpt, console, friendly_errors, store_for
from microfluence.kernel.errors import InputError
from microfluence.kernel.workspaces import create_workspace, get_workspace, list_workspaces

workspaces_app = typer.Typer(
    help="Workspaces: a brand, or one client of an agency.", no_args_is_help=True
)
users_app = typer.Typer(
    help="Users who sign in to the pages, and their roles.", no_args_is_help=True
)
api_keys_app = typer.Typer(
    help="API keys for the REST API, one workspace each.", no_args_is_help=True
)

WorkspaceName = Annotated[str, typer.Option("--workspace", "-w", help="The workspace's name.")]
RoleOpt = Annotated[
    str, typer.Option("--role", help="viewer (reads), member (also writes), owner (also manages).")
]


def _when(value: object) -> str:
    return "" if value is None else f"{value:%Y-%m-%d %H:%M}"


@workspaces_app.command("create")
@friendly_errors
def workspaces_create(
    name: Annotated[str, typer.Argument(help="Lower-case letters, digits, '-', '_' or '.'.")],
    display_name: Annotated[str | None, typer.Option(help="A name to show.")] = None,
    database_url: DatabaseUrlOpt = None,
) -> None:
    """Create a workspace."""
    store = store_for(database_url)
    with store.transaction() as session:
        workspace = create_workspace(session, name, display_name)
        console.print(f"created workspace [bold]{workspace.name}[/]")


@workspaces_app.command("list")
@friendly_errors
def workspaces_list(database_url: DatabaseUrlOpt = None) -> None:
    """List the workspaces."""
    store = store_for(database_url)
    table = Table("name", "display name", "created (UTC)")
    with store.transaction() as session:
        for workspace in list_workspaces(session):
            table.add_row(workspace.name, workspace.display_name or "", _when(workspace.created_at))
    console.print(table)


def _stdin_is_terminal() -> bool:
    return sys.stdin.isatty()


def _read_password() -> str:
    if _stdin_is_terminal():
        return typer.prompt("Password", hide_input=True, confirmation_prompt=True)
    line = sys.stdin.readline()
    password = line.rstrip("\r\n")
    if not password:
        raise InputError("no password on standard input", field="password")
    return password


@users_app.command("create")
@friendly_errors
def users_create(
    email: Annotated[str, typer.Argument(help="The user's e-mail address (their sign-in name).")],
    workspace: WorkspaceName,
    role: RoleOpt = "member",
    display_name: Annotated[str | None, typer.Option(help="A name to show.")] = None,
    database_url: DatabaseUrlOpt = None,
) -> None:
    """Create a user with a role in a workspace (or give an existing user that role there).

    The password is asked for at a prompt, or read from the first line of standard input when
    that is not a terminal (`echo "$PASSWORD" | microfluence users create …`)."""
    parsed = parse_role(role)
    store = store_for(database_url)
    with store.transaction() as session:
        ws = get_workspace(session, workspace)
        user = find_user(session, email)
        created = user is None
        if user is None:
            user = create_user(
                session, email=email, password=_read_password(), display_name=display_name
            )
        set_membership(session, user=user, workspace=ws, role=parsed)
    what = "created user" if created else "updated user"
    console.print(f"{what} [bold]{user.email}[/]: {parsed.value} of {ws.name}")


@users_app.command("list")
@friendly_errors
def users_list(workspace: WorkspaceName, database_url: DatabaseUrlOpt = None) -> None:
    """List the members of a workspace and their roles."""
    store = store_for(database_url)
    table = Table("e-mail", "role", "last sign-in (UTC)")
    with store.transaction() as session:
        ws = get_workspace(session, workspace)
        for user, membership in list_members(session, ws.id):
            table.add_row(user.email, membership.role, _when(user.last_sign_in_at))
    console.print(table)


@api_keys_app.command("create")
@friendly_errors
def api_keys_create(
    workspace: WorkspaceName,
    name: Annotated[str | None, typer.Option("--name", help="A label for the key.")] = None,
    role: RoleOpt = Role.member.value,
    database_url: DatabaseUrlOpt = None,
) -> None:
    """Create an API key. The key is printed once, as the last line: keep it safe."""
    store = store_for(database_url)
    with store.transaction() as session:
        ws = get_workspace(session, workspace)
        made = api_keys.create_api_key(session, workspace=ws, name=name, role=role)
    console.print(
        f"created API key {made.key.prefix} ({made.key.name!r}, {made.key.role}) for {ws.name}; "
        "it is shown only now:",
        highlight=False,
    )
    typer.echo(made.secret)


@api_keys_app.command("list")
@friendly_errors
def api_keys_list(workspace: WorkspaceName, database_url: DatabaseUrlOpt = None) -> None:
    """List a workspace's API keys (their prefixes; the keys themselves are not kept)."""
    store = store_for(database_url)
    prefix = Column("prefix", no_wrap=True, min_width=12)
    table = Table("id", prefix, "name", "role", "created", "last used", "revoked")
    with store.transaction() as session:
        ws = get_workspace(session, workspace)
        for key in api_keys.list_api_keys(session, ws.id):
            table.add_row(
                str(key.id),
                key.prefix,
                key.name,
                key.role,
                _when(key.created_at),
                _when(key.last_used_at),
                _when(key.revoked_at),
            )
    console.print(table)


@api_keys_app.command("revoke")
@friendly_errors
def api_keys_revoke(
    key: Annotated[str, typer.Argument(help="The key's id or prefix (mfk_…), or the key.")],
    workspace: WorkspaceName,
    database_url: DatabaseUrlOpt = None,
) -> None:
    """Revoke an API key: it stops working at once."""
    store = store_for(database_url)
    with store.transaction() as session:
        ws = get_workspace(session, workspace)
        revoked = api_keys.revoke_api_key(session, workspace_id=ws.id, key=key)
    console.print(f"revoked API key {revoked.prefix} ({revoked.name!r})", highlight=False)
