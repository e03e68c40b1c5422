"""`microfluence demo`: build the demo workspace and print what it holds."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

import typer
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from rich.table import Table

from microfluence.demo.load import DEFAULT_WORKSPACE, DemoSummary, build_demo
from microfluence.demo.population import DEFAULT_DAYS, PopulationSpec
from microfluence.demo.tiers import TIER_BANDS
from microfluence.demo.user import DEMO_EMAIL, ensure_demo_user
from microfluence.kernel.console import (
    DatabaseUrlOpt,
    console,
    err_console,
    friendly_errors,
    store_for,
)
from microfluence.kernel.errors import InputError


@friendly_errors
def demo(
    creators: Annotated[
        int, typer.Option("--creators", "-n", min=1, help="Creators to generate.")
    ] = 3000,
    seed: Annotated[int, typer.Option(help="Random seed: the same seed gives the same demo.")] = 7,
    workspace: Annotated[
        str, typer.Option("--workspace", "-w", help="Workspace to (re)build.")
    ] = DEFAULT_WORKSPACE,
    database_url: DatabaseUrlOpt = None,
    days: Annotated[int, typer.Option(min=2, help="Days of history to generate.")] = DEFAULT_DAYS,
    end: Annotated[
        str | None,
        typer.Option(help="Last day of the history, YYYY-MM-DD (default: today, UTC)."),
    ] = None,
    samples: Annotated[
        float,
        typer.Option(
            min=0.0,
            max=1.0,
            help="Share of accounts with comment and follower samples (planted ones always).",
        ),
    ] = 1.0,
    inauthentic: Annotated[
        float, typer.Option(min=0.0, max=0.9, help="Share of accounts planted as inauthentic.")
    ] = 0.10,
) -> None:
    """Build a demo workspace from a seeded synthetic population (replacing one of that name)."""
    try:
        last_day = dt.date.fromisoformat(end) if end else dt.datetime.now(dt.UTC).date()
    except ValueError as exc:
        raise InputError(f"--end: not a date: {end!r}", field="end", value=end) from exc
    spec = PopulationSpec(
        n_creators=creators,
        seed=seed,
        end=last_day,
        days=days,
        sample_share=samples,
        inauthentic_share=inauthentic,
    )
    store = store_for(database_url)
    try:
        with Progress(
            TextColumn("[bold]Demo population"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("accounts"),
            TimeElapsedColumn(),
            TimeRemainingColumn(),
            console=err_console,
        ) as bar:
            task = bar.add_task("demo", total=None)
            summary = build_demo(
                store,
                spec,
                workspace=workspace,
                progress=lambda done, total: bar.update(task, completed=done, total=total),
            )
    finally:
        store.dispose()
    show_summary(summary)


def show_summary(summary: DemoSummary) -> None:
    if summary.replaced:
        replaced = ", ".join(f"{n:,} {table}" for table, n in summary.replaced.items())
        console.print(
            f"Replaced the existing workspace [bold]{summary.workspace}[/] (removed {replaced}).",
            highlight=False,
        )
    console.print(
        f"Workspace [bold]{summary.workspace}[/] built in {summary.seconds:.1f} s: "
        f"{summary.creators:,} creators, {summary.accounts:,} accounts, "
        f"{summary.snapshots:,} snapshots, {summary.posts:,} posts "
        f"({summary.sponsored_share:.1%} sponsored), {summary.comments:,} sampled comments, "
        f"{summary.followers:,} sampled followers.",
        highlight=False,
    )
    tiers = [name for name, _ in TIER_BANDS]
    frame = summary.accounts_by_platform_tier
    table = Table(
        title="Accounts by platform and tier",
        caption="tiers by followers: nano <10k · micro <50k · mid <500k · macro <1M · mega ≥1M",
    )
    table.add_column("platform")
    for tier in tiers:
        table.add_column(tier, justify="right")
    table.add_column("total", justify="right")
    for row in frame.iter_rows(named=True):  # one row per platform
        values = [int(row.get(t) or 0) for t in tiers]
        table.add_row(row["platform"], *(f"{v:,}" for v in values), f"{sum(values):,}")
    console.print(table)
    planted = Table(
        title="Planted labels (evaluation_labels)",
        caption=f"{summary.planted_accounts:,} of {summary.accounts:,} accounts planted as "
        "inauthentic; an account may carry several kinds",
    )
    planted.add_column("label")
    planted.add_column("accounts", justify="right")
    for label, n in sorted(summary.labels.items()):
        planted.add_row(label, f"{n:,}")
    console.print(planted)
    if summary.niches is not None:
        tops = sorted(summary.niches.by_niche.items(), key=lambda kv: -kv[1])
        console.print(
            f"Niches computed for {summary.niches.scored:,} accounts: "
            + ", ".join(f"{n} {c:,}" for n, c in tops),
            highlight=False,
        )
    show_campaign(summary)


def show_campaign(summary: DemoSummary) -> None:
    made = summary.campaign
    if made is None:
        return
    by = made.attribution
    console.print(
        f"Campaign [bold]{made.name}[/] (active): {made.deals} deals, {made.matched} "
        f"deliverables matched to posts, {made.clicks:,} clicks, {made.orders:,} shop orders "
        f"({by.by_code:,} by code, {by.by_click:,} by click, {by.leaked} leaked, "
        f"{by.unattributed:,} not from creators), {made.refunds:,} refunds.\n"
        f"  Its report: microfluence report campaign {made.name!r} --workspace "
        f"{summary.workspace}",
        highlight=False,
    )


@friendly_errors
def demo_user(
    workspace: Annotated[
        str, typer.Option("--workspace", "-w", help="The demo workspace.")
    ] = "demo",
    email: Annotated[str, typer.Option(help="E-mail address to sign in with.")] = DEMO_EMAIL,
    host: Annotated[str, typer.Option(help="Where the app will be served.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Its port.", min=1, max=65535)] = 8000,
    database_url: DatabaseUrlOpt = None,
) -> None:
    """Give the demo workspace an owner with a new random password, and print how to sign in
    (demo only: run it again for a new password; the previous one stops working)."""
    store = store_for(database_url)
    try:
        made = ensure_demo_user(store, workspace, email)
    finally:
        store.dispose()
    console.print(f"\n[bold]Sign in at[/] http://{host}:{port}/sign-in")
    console.print(f"  e-mail:    {made.email}")
    console.print(f"  password:  {made.password}   [dim](demo only; new on every run)[/]\n")
