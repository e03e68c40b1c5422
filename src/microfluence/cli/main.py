"""The root command. Each capability adds its sub-commands here, in one line each.

Sub-commands are loaded when they are used, not when the program starts: `microfluence vet`
should not pay for importing the metrics engines, the web app and the importers. Each entry
names the module and the Typer app or command function that implements it.
"""

from __future__ import annotations

import gc
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from importlib import import_module
from typing import Any

import typer
from typer.core import TyperGroup

from microfluence import __version__

# name -> "module:attribute" (a Typer app, or a command function), or a function building one.
COMMANDS: dict[str, str | Callable[[], Any]] = {
    "db": "microfluence.cli.db:app",
    "demo": "microfluence.demo.cli:demo",
    "workspaces": "microfluence.access.cli:workspaces_app",
    "users": "microfluence.access.cli:users_app",
    "api-keys": "microfluence.access.cli:api_keys_app",
    "invitations": "microfluence.access.cli:invitations_app",
    "serve": "microfluence.web.cli:serve",
    "demo-user": "microfluence.demo.cli:demo_user",
    "import": "microfluence.ingest.cli:app",
    "jobs": lambda: _with_job_kinds("microfluence.jobs.cli:app"),
    "worker": lambda: _with_job_kinds("microfluence.jobs.cli:worker"),
    "export": "microfluence.export.cli:export",
    "privacy": "microfluence.export.cli:privacy_app",
    "score": "microfluence.metrics.cli:score",
    "audit": "microfluence.authenticity.cli:audit_app",
    "eval": "microfluence.authenticity.cli:eval_app",
    "niches": "microfluence.discovery.cli:niches_app",
    "vet": "microfluence.authenticity.cli:vet",
    "labels": "microfluence.authenticity.cli:labels_app",
    "campaigns": "microfluence.campaigns.cli:campaigns_app",
    "deals": "microfluence.campaigns.cli:deals_app",
    "products": "microfluence.campaigns.cli:products_app",
    "gifts": "microfluence.relationships.cli:gifts_app",
    "portal-links": "microfluence.relationships.cli:portal_app",
    "submissions": "microfluence.relationships.cli:submissions_app",
    "deliverables": "microfluence.tracking.cli:deliverables_app",
    "utm": "microfluence.tracking.cli:utm",
    "links": "microfluence.tracking.cli:links_app",
    "codes": "microfluence.commerce.cli:codes_app",
    "shops": "microfluence.commerce.cli:shops_app",
    "orders": "microfluence.commerce.cli:orders_app",
    "report": "microfluence.measurement.cli:report_app",
    "learn": "microfluence.planning.cli:learn",
    "pipeline": "microfluence.relationships.cli:pipeline_app",
    "reminders": "microfluence.relationships.cli:reminders",
    "tasks": "microfluence.relationships.cli:tasks_app",
    "templates": "microfluence.outreach.cli:templates_app",
    "outreach": "microfluence.outreach.cli:outreach_app",
    "relations": "microfluence.relationships.cli:relations_app",
    "search": "microfluence.discovery.cli:search_cmd",
    "shortlists": "microfluence.discovery.cli:shortlists_app",
    "searches": "microfluence.discovery.cli:searches_app",
    "authorisations": "microfluence.connectors.oauth.cli:authorisations_app",
    "connect": "microfluence.connectors.cli:connect_app",
    "fetch": "microfluence.connectors.cli:fetch_app",
    "refresh": "microfluence.connectors.cli:refresh",
    "prices": "microfluence.planning.cli:prices",
    "plan": "microfluence.planning.cli:plan",
}


# Modules that register job kinds of capabilities above the jobs layer (jobs.kinds): a worker
# imports them before it runs jobs.
JOB_KIND_MODULES = ("microfluence.connectors.jobs",)


def _with_job_kinds(target: str) -> Any:
    for module in JOB_KIND_MODULES:
        import_module(module)
    return _resolve(target)


def _resolve(target: str | Callable[[], Any]) -> Any:
    if callable(target):
        return target()
    module, _, attribute = target.partition(":")
    return getattr(import_module(module), attribute)


@contextmanager
def _collector_paused() -> Iterator[None]:
    """Imports without the cyclic garbage collector, which they trigger again and again.

    An import makes many long-lived objects (classes, SQLAlchemy tables, pydantic models,
    routes) and hardly any garbage, yet its allocations set the collector off again and again,
    its full collections walking every object made so far: about 0.4 s of a command's start-up
    (docs/benchmarks.md, "Start-up"). The collector runs as usual once the modules are in.
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def load_command(name: str) -> Any:
    """The click command behind ``microfluence NAME``, importing its module now."""
    with _collector_paused():
        obj = _resolve(COMMANDS[name])
    # Mount it on a throw-away parent exactly as eager registration would (a Typer app stays
    # a group even with one command), then take it out again.
    parent = typer.Typer()
    if isinstance(obj, typer.Typer):
        parent.add_typer(obj, name=name)
    else:
        parent.command(name)(obj)
    parent.callback()(lambda: None)
    group = typer.main.get_command(parent)
    assert isinstance(group, TyperGroup)
    return group.commands[name]


class LazyGroup(TyperGroup):
    """A Typer group whose sub-commands are imported on first use."""

    def list_commands(self, ctx: Any) -> list[str]:
        return list(COMMANDS)

    def get_command(self, ctx: Any, cmd_name: str) -> Any:
        if cmd_name not in COMMANDS:
            return None
        if cmd_name not in self.commands:
            self.commands[cmd_name] = load_command(cmd_name)
        return self.commands[cmd_name]


app = typer.Typer(
    name="microfluence",
    cls=LazyGroup,
    help="Find, vet, price, recruit, track and measure micro-influencers.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)


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
