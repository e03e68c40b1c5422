"""Options and helpers every command shares."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Annotated, Any, TypeVar

import typer
from rich.console import Console

from microfluence.kernel.config import DEFAULT_WORKSPACE
from microfluence.kernel.errors import MicrofluenceError
from microfluence.kernel.store import Store, open_store

console = Console()
err_console = Console(stderr=True)

WorkspaceOpt = Annotated[
    str,
    typer.Option("--workspace", "-w", help="Workspace (a brand, or an agency's client)."),
]
DatabaseUrlOpt = Annotated[
    str | None,
    typer.Option(
        "--database-url",
        envvar="MICROFLUENCE_DATABASE_URL",
        help="SQLAlchemy URL of the store (default: a SQLite file in your data directory).",
        show_envvar=True,
    ),
]
DEFAULT_WS = DEFAULT_WORKSPACE

F = TypeVar("F", bound=Callable[..., Any])


def store_for(database_url: str | None) -> Store:
    return open_store(database_url)


def friendly_errors(func: F) -> F:
    """Show our own errors as one clear line and exit 1, instead of a traceback."""

    @wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except MicrofluenceError as exc:
            err_console.print(f"[bold red]error:[/] {exc}", highlight=False, markup=True)
            raise typer.Exit(1) from exc

    return wrapper  # type: ignore[return-value]
