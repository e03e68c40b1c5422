"""The root command. Each capability adds its sub-commands here, in one line each."""

from __future__ import annotations

import typer

from microfluence import __version__
from microfluence.access import cli as access_cli
from microfluence.authenticity import cli as authenticity_cli
from microfluence.authenticity import vet_cli
from microfluence.cli import db
from microfluence.demo.cli import demo
from microfluence.export.cli import export
from microfluence.ingest import cli as ingest_cli
from microfluence.metrics.cli import score
from microfluence.web.cli import serve
from microfluence.web.demo_user import demo_user

app = typer.Typer(
    name="microfluence",
    help="Find, vet, price, recruit, track and measure micro-influencers.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
app.add_typer(db.app, name="db")
app.command("demo")(demo)
app.add_typer(access_cli.workspaces_app, name="workspaces")
app.add_typer(access_cli.users_app, name="users")
app.add_typer(access_cli.api_keys_app, name="api-keys")
app.command("serve")(serve)
app.command("demo-user")(demo_user)
app.add_typer(authenticity_cli.audit_app, name="audit")
app.add_typer(authenticity_cli.eval_app, name="eval")
authenticity_cli.eval_app.command("vetting")(vet_cli.eval_vetting)
app.command("vet")(vet_cli.vet)
app.add_typer(ingest_cli.app, name="import")
app.command("export")(export)
app.command("score")(score)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"microfluence {__version__}")
        raise typer.Exit()


@app.callback()
def root(
    version: bool = typer.Option(
        False, "--version", callback=_version, is_eager=True, help="Show the version and exit."
    ),
) -> None:
    """microfluence: a self-hosted platform for working with micro-influencers."""


def run() -> None:
    app()
