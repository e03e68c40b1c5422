"""`microfluence workspaces|users|api-keys`: access from the command line."""

from __future__ import annotations

import sys
from typing import Annotated

import typer
from rich.table import Column, Table

from microfluence.access import api_keys, invitations, members
from microfluence.access.account import reset_password
from microfluence.access.roles import Role
from microfluence.access.users import get_user, list_members
from microfluence.kernel.config import get_settings
from microfluence.kernel.console import (
    DatabaseUrlOpt,
    console,
    friendly_errors,
    store_for,
    workspace_transaction,
)
from microfluence.kernel.errors import InputError
from microfluence.kernel.workspaces import create_workspace, list_workspaces

workspaces_app = typer.Typer(
    help="Workspaces: a brand, or one client of an agency.", no_args_is_help=True
)
users_app = typer.Typer(
    help="Users who sign in to the pages, and their roles.", no_args_is_help=True
)
api_keys_app = typer.Typer(
    help="API keys for the REST API, one workspace each.", no_args_is_help=True
)
invitations_app = typer.Typer(
    help="Invitations to a workspace, accepted by the invited person.", no_args_is_help=True
)

WorkspaceName = Annotated[str, typer.Option("--workspace", "-w", help="The workspace's name.")]
RoleOpt = Annotated[
    str, typer.Option("--role", help="viewer (reads), member (also writes), owner (also manages).")
]
EmailArg = Annotated[str, typer.Argument(help="The user's e-mail address.")]
YesOpt = Annotated[bool, typer.Option("--yes", "-y", help="Do not ask for confirmation.")]


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

    For the operator of the server, who is trusted: owners invite people instead
    (`microfluence invitations create`), and the invited person accepts. The password is asked
    for at a prompt, or read from the first line of standard input when that is not a terminal
    (`echo "$PASSWORD" | microfluence users create …`); an existing user keeps theirs."""
    with workspace_transaction(database_url, workspace) as (session, ws):
        added = members.add_member(
            session,
            workspace=ws,
            email=email,
            role=role,
            password=_read_password,
            display_name=display_name,
        )
    what = "created user" if added.created_user else "updated user"
    console.print(f"{what} [bold]{added.user.email}[/]: {added.membership.role} of {ws.name}")


@users_app.command("list")
@friendly_errors
def users_list(workspace: WorkspaceName, database_url: DatabaseUrlOpt = None) -> None:
    """List the members of a workspace, their roles and whether their accounts are enabled."""
    table = Table("id", "e-mail", "name", "role", "account", "last sign-in (UTC)")
    with workspace_transaction(database_url, workspace) as (session, ws):
        for user, membership in list_members(session, ws.id):
            table.add_row(
                str(user.id),
                user.email,
                user.display_name or "",
                membership.role,
                "enabled" if user.is_active else "disabled",
                _when(user.last_sign_in_at),
            )
    console.print(table)


@users_app.command("set-role")
@friendly_errors
def users_set_role(
    email: EmailArg, workspace: WorkspaceName, role: RoleOpt, database_url: DatabaseUrlOpt = None
) -> None:
    """Change a member's role in a workspace (a workspace keeps at least one owner)."""
    with workspace_transaction(database_url, workspace) as (session, ws):
        user = get_user(session, email)
        membership = members.change_role(session, workspace_id=ws.id, user_id=user.id, role=role)
    console.print(f"{user.email} is now {membership.role} of {ws.name}")


@users_app.command("remove")
@friendly_errors
def users_remove(
    email: EmailArg, workspace: WorkspaceName, database_url: DatabaseUrlOpt = None
) -> None:
    """Take a user out of a workspace; the API keys they made there are revoked."""
    with workspace_transaction(database_url, workspace) as (session, ws):
        user = get_user(session, email)
        members.remove_member(session, workspace_id=ws.id, user_id=user.id)
    console.print(f"removed {user.email} from {ws.name}")


@users_app.command("set-password")
@friendly_errors
def users_set_password(email: EmailArg, database_url: DatabaseUrlOpt = None) -> None:
    """Set a user's password (the operator's reset); every session of theirs ends.

    Users change their own password on their account page (or over the API), proving the
    current one. The new password is read as by `users create`."""
    store = store_for(database_url)
    with store.transaction() as session:
        user = get_user(session, email)
        ended = reset_password(session, user, _read_password())
    console.print(f"new password set for {user.email}; {ended} session(s) ended")


def _closed(what: str, closed: members.AccountClosed) -> None:
    console.print(
        f"{what} {closed.email}: {closed.sessions_ended} session(s) ended, "
        f"{closed.keys_revoked} API key(s) and {closed.invitations_revoked} invitation(s) revoked",
        highlight=False,
    )


@users_app.command("disable")
@friendly_errors
def users_disable(email: EmailArg, database_url: DatabaseUrlOpt = None) -> None:
    """Disable an account: sign-in refused, sessions ended, the keys and invitations it made
    revoked. The last active owner of a workspace cannot be disabled."""
    store = store_for(database_url)
    with store.transaction() as session:
        closed = members.disable_user(session, actor=None, user=get_user(session, email))
    _closed("disabled", closed)


@users_app.command("enable")
@friendly_errors
def users_enable(email: EmailArg, database_url: DatabaseUrlOpt = None) -> None:
    """Enable a disabled account again (its revoked keys stay revoked)."""
    store = store_for(database_url)
    with store.transaction() as session:
        user = members.enable_user(session, actor=None, user=get_user(session, email))
    console.print(f"enabled {user.email}")


@users_app.command("delete")
@friendly_errors
def users_delete(email: EmailArg, yes: YesOpt = False, database_url: DatabaseUrlOpt = None) -> None:
    """Delete an account with its memberships and sessions; the keys and invitations it made
    are revoked. The last active owner of a workspace cannot be deleted."""
    if not yes and not typer.confirm(f"Delete the account {email} for good?"):
        raise typer.Exit(1)
    store = store_for(database_url)
    with store.transaction() as session:
        closed = members.delete_user(session, actor=None, user=get_user(session, email))
    _closed("deleted", closed)


BaseUrlOpt = Annotated[
    str | None,
    typer.Option(
        "--base-url",
        envvar="MICROFLUENCE_PUBLIC_URL",
        help="Where people reach the app, for the link (default: http://127.0.0.1:8000).",
        show_envvar=True,
    ),
]


@invitations_app.command("create")
@friendly_errors
def invitations_create(
    email: Annotated[str, typer.Argument(help="The e-mail address to invite.")],
    workspace: WorkspaceName,
    role: RoleOpt = Role.member.value,
    base_url: BaseUrlOpt = None,
    database_url: DatabaseUrlOpt = None,
) -> None:
    """Invite someone to a workspace. The link to send them is printed once, as the last line;
    they accept it by signing in as that address, or by choosing a password if they are new."""
    with workspace_transaction(database_url, workspace) as (session, ws):
        made = invitations.invite(session, actor=None, workspace=ws, email=email, role=role)
    base = base_url or get_settings().public_url or "http://127.0.0.1:8000"
    console.print(
        f"invited {made.invitation.email} as {made.invitation.role} of {ws.name} (id "
        f"{made.invitation.id}, until {_when(made.invitation.expires_at)} UTC); send them this "
        "link, shown only now:",
        highlight=False,
    )
    typer.echo(made.link(base))


@invitations_app.command("list")
@friendly_errors
def invitations_list(
    workspace: WorkspaceName,
    show_all: Annotated[
        bool, typer.Option("--all", help="Also accepted, revoked and expired ones.")
    ] = False,
    database_url: DatabaseUrlOpt = None,
) -> None:
    """List a workspace's pending invitations (the links themselves are not kept)."""
    table = Table("id", "e-mail", "role", "invited by", "created (UTC)", "expires (UTC)", "status")
    with workspace_transaction(database_url, workspace) as (session, ws):
        for view in invitations.list_invitations(session, ws.id, pending_only=not show_all):
            table.add_row(
                str(view.id),
                view.email,
                view.role.value,
                view.invited_by or "operator",
                _when(view.created_at),
                _when(view.expires_at),
                view.status,
            )
    console.print(table)


@invitations_app.command("revoke")
@friendly_errors
def invitations_revoke(
    invitation_id: Annotated[int, typer.Argument(help="The invitation's id (see list).")],
    workspace: WorkspaceName,
    database_url: DatabaseUrlOpt = None,
) -> None:
    """Revoke a pending invitation: its link stops working at once."""
    with workspace_transaction(database_url, workspace) as (session, ws):
        revoked = invitations.revoke_invitation(
            session, workspace_id=ws.id, invitation_id=invitation_id
        )
    console.print(f"revoked the invitation of {revoked.email}", highlight=False)


@api_keys_app.command("create")
@friendly_errors
def api_keys_create(
    workspace: WorkspaceName,
    name: Annotated[str | None, typer.Option("--name", help="A label for the key.")] = None,
    role: RoleOpt = Role.member.value,
    database_url: DatabaseUrlOpt = None,
) -> None:
    """Create an API key. The key is printed once, as the last line: keep it safe.

    A key made here is the operator's: it keeps its role whoever comes and goes. Keys owners
    make on the settings page act for them (docs/api.md)."""
    with workspace_transaction(database_url, workspace) as (session, ws):
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
    """List a workspace's API keys (their prefixes; the keys themselves are not kept), who made
    each and what it may do now."""
    prefix = Column("prefix", no_wrap=True, min_width=12)
    table = Table(
        "id", prefix, "name", "role", "may now", "made by", "created", "last used", "revoked"
    )
    with workspace_transaction(database_url, workspace) as (session, ws):
        for view in api_keys.describe_api_keys(session, ws.id):
            key = view.key
            table.add_row(
                str(key.id),
                key.prefix,
                key.name,
                key.role,
                view.effective_role.value if view.effective_role else "nothing",
                view.maker,
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
    """Revoke an API key, and the keys made with it: they stop working at once."""
    with workspace_transaction(database_url, workspace) as (session, ws):
        revoked = api_keys.revoke_api_key(session, workspace_id=ws.id, key=key)
    console.print(f"revoked API key {revoked.prefix} ({revoked.name!r})", highlight=False)
