"""`microfluence export creators|posts`: users can always get their data out; `microfluence
privacy …`: follower samples (third parties' data) and everything held about one creator."""

from __future__ import annotations

import sys
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from microfluence.catalog.accounts import find_account_by_reference
from microfluence.catalog.followers import delete_sample, list_samples
from microfluence.export.privacy import (
    creator_record,
    export_follower_sample,
    write_creator_record,
)
from microfluence.export.tables import export_creators, export_posts
from microfluence.kernel.console import (
    DEFAULT_WS,
    DatabaseUrlOpt,
    WorkspaceOpt,
    console,
    err_console,
    friendly_errors,
    store_for,
    workspace_transaction,
)
from microfluence.kernel.workspaces import get_workspace
from microfluence.relationships.audit import command_line_actor


class Format(StrEnum):
    csv = "csv"
    json = "json"
    jsonl = "jsonl"


FormatOpt = Annotated[Format, typer.Option("--format", "-f", help="Output format.")]
OutputOpt = Annotated[
    Path | None, typer.Option("--output", "-o", help="File to write (default: stdout).")
]


class What(StrEnum):
    creators = "creators"
    posts = "posts"


@friendly_errors
def export(
    what: Annotated[What, typer.Argument(help="creators (one row per account) or posts")],
    fmt: FormatOpt = Format.csv,
    output: OutputOpt = None,
    raw: Annotated[
        bool,
        typer.Option(
            "--raw",
            help="CSV: write cells as stored. By default a text cell starting with = + - @ "
            "(a spreadsheet formula), a tab or a carriage return gets a ' in front.",
        ),
    ] = False,
    workspace: WorkspaceOpt = DEFAULT_WS,
    database_url: DatabaseUrlOpt = None,
) -> None:
    """Export every stored field of a workspace's accounts (with the latest snapshot) or posts."""
    store = store_for(database_url)
    run = export_creators if what is What.creators else export_posts
    target = output if output is not None else sys.stdout.buffer
    rows, _ = run(store, workspace, fmt.value, target, raw=raw)
    if output is not None:
        err_console.print(f"exported {rows} {what.value} rows to {output}")


privacy_app = typer.Typer(
    help="Third parties' data and people's records: follower samples, a creator's data.",
    no_args_is_help=True,
)
AccountArg = Annotated[str, typer.Argument(help="The account, as PLATFORM:HANDLE.")]


@privacy_app.command("samples")
@friendly_errors
def privacy_samples(
    workspace: WorkspaceOpt = DEFAULT_WS, database_url: DatabaseUrlOpt = None
) -> None:
    """List the accounts with a stored follower sample (other people's profiles)."""
    table = Table("account", "followers held", "sampled (UTC)", "imported (UTC)")
    with workspace_transaction(database_url, workspace) as (session, ws):
        for s in list_samples(session, ws.id):
            sampled = " – ".join(
                dict.fromkeys(f"{t:%Y-%m-%d}" for t in (s.first_sampled_at, s.last_sampled_at) if t)
            )
            imported = f"{s.last_imported_at:%Y-%m-%d %H:%M}" if s.last_imported_at else ""
            table.add_row(f"{s.platform}:{s.handle}", f"{s.followers:,}", sampled, imported)
    console.print(table)


@privacy_app.command("export-sample")
@friendly_errors
def privacy_export_sample(
    account: AccountArg,
    fmt: FormatOpt = Format.csv,
    output: OutputOpt = None,
    workspace: WorkspaceOpt = DEFAULT_WS,
    database_url: DatabaseUrlOpt = None,
) -> None:
    """Export every stored field of one account's follower sample."""
    store = store_for(database_url)
    with store.transaction() as session:
        found = find_account_by_reference(session, get_workspace(session, workspace).id, account)
        workspace_id, account_id = found.workspace_id, found.id
    target = output if output is not None else sys.stdout.buffer
    rows = export_follower_sample(store, workspace_id, account_id, fmt.value, target)
    if output is not None:
        err_console.print(f"exported {rows} followers of {account} to {output}")


@privacy_app.command("delete-sample")
@friendly_errors
def privacy_delete_sample(
    account: AccountArg,
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Do not ask for confirmation.")] = False,
    workspace: WorkspaceOpt = DEFAULT_WS,
    database_url: DatabaseUrlOpt = None,
) -> None:
    """Delete one account's stored follower sample (the account itself stays)."""
    with workspace_transaction(database_url, workspace) as (session, ws):
        found = find_account_by_reference(session, ws.id, account)
        if not yes and not typer.confirm(
            f"Delete the follower sample of {account} in {workspace}?"
        ):
            raise typer.Exit(1)
        deleted = delete_sample(session, found.workspace_id, found.id)
    console.print(f"deleted {deleted} followers of {account}", highlight=False)


@privacy_app.command("creator")
@friendly_errors
def privacy_creator(
    creator: Annotated[
        str,
        typer.Argument(help="The creator's id, or PLATFORM:HANDLE of one of their accounts."),
    ],
    output: OutputOpt = None,
    workspace: WorkspaceOpt = DEFAULT_WS,
    database_url: DatabaseUrlOpt = None,
) -> None:
    """Everything held about one creator, as one JSON document (a subject access request)."""
    with workspace_transaction(database_url, workspace) as (session, ws):
        if creator.strip().isdigit():
            workspace_id, creator_id = ws.id, int(creator)
        else:
            found = find_account_by_reference(session, ws.id, creator)
            workspace_id, creator_id = found.workspace_id, found.creator_id
        record = creator_record(session, workspace_id, creator_id, command_line_actor())
    if output is None:
        write_creator_record(record, sys.stdout.buffer)
        return
    output.parent.mkdir(parents=True, exist_ok=True)
    with output.open("wb") as handle:
        write_creator_record(record, handle)
    err_console.print(f"wrote everything held about creator {creator_id} to {output}")
