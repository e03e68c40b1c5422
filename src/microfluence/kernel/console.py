"""Options and helpers every command shares."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import wraps
from typing import Annotated, Any, TypeVar

import typer
from pydantic import BaseModel
from rich.console import Console
from rich.text import Text
from sqlalchemy.orm import Session

from microfluence.kernel.config import DEFAULT_WORKSPACE
from microfluence.kernel.errors import MicrofluenceError
from microfluence.kernel.store import Store, open_store
from microfluence.kernel.store.tables import Workspace
from microfluence.kernel.workspaces import get_workspace

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


@contextmanager
def workspace_transaction(
    database_url: str | None, workspace: str
) -> Iterator[tuple[Session, Workspace]]:
    """One transaction on the store with the named workspace in it, the store closed after: what
    every command about one workspace starts with (an unknown name is the NotFoundError shown)."""
    store = store_for(database_url)
    try:
        with store.transaction() as session:
            yield session, get_workspace(session, workspace)
    finally:
        store.dispose()


def print_json(value: Any) -> None:
    """Print a result as indented, highlighted JSON: a model, a list of models, or plain data
    (dates and decimals as the API writes them)."""
    if isinstance(value, BaseModel):
        value = value.model_dump(mode="json")
    elif isinstance(value, list):
        value = [v.model_dump(mode="json") if isinstance(v, BaseModel) else v for v in value]
    console.print_json(json.dumps(value))


def friendly_errors(func: F) -> F:
    """Show our own errors as one clear line and exit 1, instead of a traceback."""

    @wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except MicrofluenceError as exc:
            # One unwrapped line, whatever the terminal's width, so it can be read and grepped.
            err_console.print(
                Text.assemble(("error:", "bold red"), " ", str(exc)),
                highlight=False,
                soft_wrap=True,
            )
            raise typer.Exit(1) from exc

    return wrapper  # type: ignore[return-value]


class ProgressBar:
    """A Rich progress bar fed by an importer's ``progress(done, total)`` callback."""

    def __init__(self, description: str) -> None:
        from rich.progress import (
            BarColumn,
            DownloadColumn,
            Progress,
            TextColumn,
            TimeRemainingColumn,
        )

        self._progress = Progress(
            TextColumn("[bold]{task.description}"),
            BarColumn(),
            DownloadColumn(),
            TimeRemainingColumn(),
            console=err_console,
            transient=False,
        )
        self._task = self._progress.add_task(description, total=None)

    def __enter__(self) -> ProgressBar:
        self._progress.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._progress.stop()

    def __call__(self, done: int, total: int | None) -> None:
        self._progress.update(self._task, completed=done, total=total)
