"""`microfluence export creators|posts`: users can always get their data out."""

from __future__ import annotations

import sys
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from microfluence.export.tables import export_creators, export_posts
from microfluence.kernel.console import (
    DEFAULT_WS,
    DatabaseUrlOpt,
    WorkspaceOpt,
    err_console,
    friendly_errors,
    store_for,
)


class Format(StrEnum):
    csv = "csv"
    json = "json"
    jsonl = "jsonl"


class What(StrEnum):
    creators = "creators"
    posts = "posts"


@friendly_errors
def export(
    what: Annotated[What, typer.Argument(help="creators (one row per account) or posts")],
    fmt: Annotated[Format, typer.Option("--format", "-f", help="Output format.")] = Format.csv,
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="File to write (default: stdout).")
    ] = None,
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
