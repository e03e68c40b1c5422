"""`microfluence db`: the store's schema."""

from __future__ import annotations

import typer

from microfluence.kernel.console import DatabaseUrlOpt, console, friendly_errors
from microfluence.kernel.store import migrations, open_store

app = typer.Typer(help="The store: schema migrations.", no_args_is_help=True)


@app.command()
@friendly_errors
def upgrade(database_url: DatabaseUrlOpt = None) -> None:
    """Bring the store's schema up to the newest version (also done on first use)."""
    store = open_store(database_url, migrate=False)
    ran = migrations.upgrade_if_needed(store.engine)
    heads = ", ".join(sorted(migrations.current_heads(store.engine)))
    console.print(("upgraded to " if ran else "already at ") + heads)


@app.command()
@friendly_errors
def current(database_url: DatabaseUrlOpt = None) -> None:
    """Show the schema version of the store."""
    store = open_store(database_url, migrate=False)
    heads = migrations.current_heads(store.engine)
    console.print(", ".join(sorted(heads)) or "empty (no schema yet)")
