"""`microfluence import …`: the importers' command-line face."""

from __future__ import annotations

import typer

app = typer.Typer(
    help="Import creators, posts, Instagram JSON and follower samples.", no_args_is_help=True
)
