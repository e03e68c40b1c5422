"""`microfluence import …`: the importers' command-line face."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any

import typer

from microfluence.ingest.report import ImportReport
from microfluence.kernel.console import (
    DEFAULT_WS,
    DatabaseUrlOpt,
    ProgressBar,
    WorkspaceOpt,
    friendly_errors,
    store_for,
)

app = typer.Typer(
    help="Import creators, posts, Instagram JSON and follower samples.", no_args_is_help=True
)


def run_with_progress(
    label: str,
    run: Callable[..., ImportReport],
    database_url: str | None,
    *args: Any,
    **kwargs: Any,
) -> ImportReport:
    """Run one importer on the store with a progress bar, and close the store after."""
    store = store_for(database_url)
    try:
        with ProgressBar(label) as bar:
            return run(store, *args, progress=bar, **kwargs)
    finally:
        store.dispose()


def show_report(report: ImportReport, rejects: Path | None = None) -> None:
    """An import's summary: what was created, updated and rejected (the first reasons)."""
    from microfluence.kernel.console import console

    def counts(values: dict[str, int]) -> str:
        return ", ".join(f"{n} {table}" for table, n in values.items()) or "nothing"

    console.print(
        f"[bold]{report.kind}[/] into workspace [bold]{report.workspace}[/]: "
        f"read {report.rows_read}; created {counts(report.created)}; "
        f"updated {counts(report.updated)}; rejected {report.rejected} "
        f"({report.seconds:.1f} s)",
        highlight=False,
    )
    for rejection in report.rejections[:5]:
        where = ", ".join(
            str(p)
            for p in (
                rejection.file,
                f"line {rejection.line}" if rejection.line else None,
                rejection.field,
            )
            if p
        )
        console.print(f"  rejected: {where}: {rejection.reason}", highlight=False, markup=False)
    if report.rejected > 5:
        console.print(f"  … and {report.rejected - 5} more", highlight=False)
    if rejects is not None and report.rejected:
        console.print(f"  rejected items and reasons written to {rejects}", highlight=False)
    show_renames(report)


def show_renames(report: ImportReport) -> None:
    """The accounts recognised by their platform id under a new handle (the first five)."""
    from microfluence.kernel.console import console

    for r in report.renamed[:5]:
        console.print(
            f"  renamed: {r['platform']} @{r['from']} is now @{r['to']} (same platform id; "
            "its history kept)",
            highlight=False,
            markup=False,
        )
    if len(report.renamed) > 5:
        console.print(f"  … and {len(report.renamed) - 5} more renamed", highlight=False)


@app.command("instagram")
@friendly_errors
def instagram_command(
    paths: Annotated[
        list[Path],
        typer.Argument(
            help="Post or profile JSON (.json, .json.xz, .info, .jsonl), or folders of them."
        ),
    ],
    workspace: WorkspaceOpt = DEFAULT_WS,
    database_url: DatabaseUrlOpt = None,
    skip_invalid: Annotated[
        bool,
        typer.Option(
            "--skip-invalid", help="Import the valid posts; leave out bad files and posts."
        ),
    ] = False,
    rejects: Annotated[
        Path | None,
        typer.Option("--rejects", help="With --skip-invalid: write what was left out, and why."),
    ] = None,
    captured_at: Annotated[
        dt.datetime | None,
        typer.Option(
            "--captured-at",
            help="When the files were fetched (UTC), for the follower counts they hold "
            "(default: a scrape time in the file, else the file's modification time).",
        ),
    ] = None,
) -> None:
    """Import Instagram posts, owners, comments and sponsorship from instaloader/GraphQL JSON."""
    from microfluence.ingest.instagram.importer import import_instagram

    report = run_with_progress(
        "Instagram JSON",
        import_instagram,
        database_url,
        workspace,
        [str(p) for p in paths],
        skip_invalid=skip_invalid,
        rejects_path=rejects,
        captured_at=captured_at,
    )
    show_report(report, rejects)


@app.command("followers")
@friendly_errors
def followers_command(
    path: Annotated[Path, typer.Argument(help="Follower sample: CSV, TSV, JSON Lines or Parquet.")],
    account: Annotated[
        str,
        typer.Option(
            "--account",
            help="Whose followers these are, as PLATFORM:HANDLE (created if unknown).",
        ),
    ],
    workspace: WorkspaceOpt = DEFAULT_WS,
    database_url: DatabaseUrlOpt = None,
    skip_invalid: Annotated[
        bool,
        typer.Option("--skip-invalid", help="Import the valid rows; leave out the bad ones."),
    ] = False,
    rejects: Annotated[
        Path | None,
        typer.Option("--rejects", help="With --skip-invalid: write the rejected rows, and why."),
    ] = None,
    sampled_at: Annotated[
        dt.datetime | None,
        typer.Option(
            "--sampled-at",
            help="When the sample was taken (UTC; default: the file's modification time).",
        ),
    ] = None,
) -> None:
    """Import a sample of an account's followers with their own profile numbers."""
    from microfluence.ingest.followers import import_followers

    report = run_with_progress(
        "Followers",
        import_followers,
        database_url,
        workspace,
        path,
        account=account,
        skip_invalid=skip_invalid,
        rejects_path=rejects,
        sampled_at=sampled_at,
    )
    show_report(report, rejects)


PlatformOpt = Annotated[
    str | None,
    typer.Option(
        "--platform", "-p", help="Platform of every row (a 'platform' column overrides it)."
    ),
]
MapOpt = Annotated[
    list[str] | None,
    typer.Option(
        "--map",
        help="FIELD=COLUMN: read canonical FIELD from COLUMN (repeatable), "
        "e.g. --map followers='Fans (total)'.",
    ),
]
SkipInvalidOpt = Annotated[
    bool,
    typer.Option(
        "--skip-invalid",
        help="Import the valid rows and write the rejected ones, with reasons, to a file.",
    ),
]
RejectsOpt = Annotated[
    Path | None,
    typer.Option(
        "--rejects",
        help="With --skip-invalid: where rejected rows go (default <name>.rejects.csv).",
    ),
]


def show_table_report(report: ImportReport) -> None:
    """A table of created / updated rows per table, the rejected rows and the first reasons."""
    from rich.table import Table

    from microfluence.kernel.console import console

    table = Table(title=f"{report.kind} → workspace {report.workspace}", title_justify="left")
    table.add_column("table")
    table.add_column("created", justify="right")
    table.add_column("updated", justify="right")
    for name in dict.fromkeys([*report.created, *report.updated]):
        table.add_row(name, str(report.created.get(name, 0)), str(report.updated.get(name, 0)))
    table.add_row("[bold]rows rejected[/]", "", str(report.rejected))
    console.print(table)
    console.print(
        f"read {report.rows_read} rows from {report.source} in {report.seconds:.1f} s",
        highlight=False,
    )
    if report.ignored_columns:
        console.print(
            "ignored columns: " + ", ".join(report.ignored_columns), highlight=False, markup=False
        )
    for r in report.rejections[:5]:
        console.print(
            f"  rejected line {r.line}, field {r.field}: {r.reason}", highlight=False, markup=False
        )
    if report.rejected > 5:
        console.print(f"  … and {report.rejected - 5} more", highlight=False)
    if report.rejects_path:
        console.print(f"rejected rows and reasons: {report.rejects_path}", highlight=False)
    show_renames(report)


@app.command("creators")
@friendly_errors
def creators_command(
    path: Annotated[Path, typer.Argument(help="Creators table: CSV, TSV, JSON Lines or Parquet.")],
    platform: PlatformOpt = None,
    mapping: MapOpt = None,
    workspace: WorkspaceOpt = DEFAULT_WS,
    database_url: DatabaseUrlOpt = None,
    skip_invalid: SkipInvalidOpt = False,
    rejects: RejectsOpt = None,
    captured_at: Annotated[
        dt.datetime | None,
        typer.Option(
            "--captured-at",
            help="Time of the follower counts (UTC; default: a captured_at column, else the "
            "file's modification time, so re-importing the same file updates, not duplicates).",
        ),
    ] = None,
    rate_scale: Annotated[
        str,
        typer.Option(
            "--rate-scale",
            help="Bare engagement rates: auto (above 1 is a percentage), percent or fraction.",
        ),
    ] = "auto",
) -> None:
    """Import creators: one account (and creator) per row, plus a snapshot of its counts."""
    from microfluence.ingest.tables.creators import import_creators

    report = run_with_progress(
        "Creators",
        import_creators,
        database_url,
        workspace,
        path,
        platform=platform,
        mapping=mapping,
        skip_invalid=skip_invalid,
        rejects_path=rejects,
        captured_at=captured_at,
        rate_scale=rate_scale,
    )
    show_table_report(report)


@app.command("posts")
@friendly_errors
def posts_command(
    path: Annotated[
        Path, typer.Argument(help="Posts table (scraper output): CSV, TSV, JSON Lines, Parquet.")
    ],
    platform: PlatformOpt = None,
    mapping: MapOpt = None,
    workspace: WorkspaceOpt = DEFAULT_WS,
    database_url: DatabaseUrlOpt = None,
    skip_invalid: SkipInvalidOpt = False,
    rejects: RejectsOpt = None,
) -> None:
    """Import posts with their counts; accounts are created for handles not seen before."""
    from microfluence.ingest.tables.posts import import_posts

    report = run_with_progress(
        "Posts",
        import_posts,
        database_url,
        workspace,
        path,
        platform=platform,
        mapping=mapping,
        skip_invalid=skip_invalid,
        rejects_path=rejects,
    )
    show_table_report(report)
