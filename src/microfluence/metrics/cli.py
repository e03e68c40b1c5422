"""`microfluence score`: recompute a workspace's metrics, with progress."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer
from rich.progress import BarColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn
from rich.table import Table

from microfluence.kernel.console import (
    DEFAULT_WS,
    DatabaseUrlOpt,
    WorkspaceOpt,
    console,
    friendly_errors,
    store_for,
)
from microfluence.kernel.errors import InputError
from microfluence.metrics.cluster import spark_options
from microfluence.metrics.service import (
    STEPS,
    choose_tier_scheme,
    compute_metrics,
    configure_metrics,
    save_custom_scheme,
    step_number,
    tier_schemes,
)


@friendly_errors
def score(
    workspace: WorkspaceOpt = DEFAULT_WS,
    engine: Annotated[
        str,
        typer.Option("--engine", help="duckdb (embedded, default) or spark (local or a cluster)."),
    ] = "duckdb",
    spark_master: Annotated[
        str | None,
        typer.Option(
            "--spark-master",
            help="Spark master: local[N], spark://host:7077, sc://host:15002, yarn… "
            "(default: MICROFLUENCE_SPARK_MASTER, else local[2]).",
        ),
    ] = None,
    spark_conf: Annotated[
        list[str] | None,
        typer.Option(
            "--spark-conf",
            help="Extra Spark configuration key=value (repeatable), e.g. "
            "spark.executor.memory=4g; added to MICROFLUENCE_SPARK_CONF.",
        ),
    ] = None,
    spark_staging: Annotated[
        str | None,
        typer.Option(
            "--spark-staging",
            help="Folder the driver and every executor share for the Parquet snapshot and "
            "results (default: MICROFLUENCE_SPARK_STAGING, else a temporary folder).",
        ),
    ] = None,
    scheme: Annotated[
        str | None,
        typer.Option("--scheme", help="Tier scheme for cohorts (a preset or your own); saved."),
    ] = None,
    scheme_file: Annotated[
        Path | None,
        typer.Option("--scheme-file", help="JSON file defining your own tier scheme; saved."),
    ] = None,
    window_posts: Annotated[
        int | None, typer.Option("--window-posts", help="Window: the last N posts; saved.")
    ] = None,
    window_days: Annotated[
        int | None, typer.Option("--window-days", help="Window: the last D days; saved.")
    ] = None,
    list_schemes: Annotated[
        bool, typer.Option("--list-schemes", help="List tier schemes and exit.")
    ] = False,
    database_url: DatabaseUrlOpt = None,
) -> None:
    """Recompute tiers, engagement, growth, vendor definitions and cohorts for a workspace."""
    uses_spark = spark_master or spark_conf or spark_staging
    if uses_spark and engine != "spark":
        raise InputError("--spark-master, --spark-conf and --spark-staging need --engine spark")
    options = (
        spark_options(spark_master, spark_conf or (), spark_staging) if engine == "spark" else None
    )
    store = store_for(database_url)
    with store.transaction() as session:
        if scheme_file is not None:
            try:
                data = json.loads(scheme_file.read_text(encoding="utf-8"))
            except (OSError, ValueError) as exc:
                raise InputError(
                    f"cannot read a JSON scheme: {exc}", file=str(scheme_file)
                ) from None
            try:
                defined = save_custom_scheme(session, workspace, data, choose=scheme is None)
            except InputError as exc:
                raise InputError(exc.message, file=str(scheme_file), field=exc.field) from exc
            console.print(f"saved tier scheme [bold]{defined.name}[/]")
        if scheme is not None:
            choose_tier_scheme(session, workspace, scheme)
        if window_posts is not None or window_days is not None:
            configure_metrics(
                session, workspace, window_posts=window_posts, window_days=window_days
            )
        if list_schemes:
            _print_schemes(tier_schemes(session, workspace))
            return
    with Progress(
        SpinnerColumn(),
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        TimeElapsedColumn(),
        console=console,
        transient=True,
    ) as progress:
        task = progress.add_task("starting", total=len(STEPS))

        def step(message: str) -> None:
            progress.update(task, description=message, completed=step_number(message))

        summary = compute_metrics(
            store, workspace, engine=engine, progress=step, spark_options=options
        )
        progress.update(task, completed=len(STEPS))
    console.print(
        f"scored [bold]{summary.accounts}[/] accounts and [bold]{summary.posts}[/] posts of "
        f"workspace [bold]{summary.workspace}[/] on {summary.engine} "
        f"({summary.window}) in {summary.seconds:.1f} s"
    )


def _print_schemes(schemes) -> None:  # type: ignore[no-untyped-def]
    table = Table("", "scheme", "bands", "source", "gaps and overlaps")
    for s in schemes:
        table.add_row("*" if s.chosen else "", s.name, s.title, s.source, "\n".join(s.notes))
    console.print(table)
