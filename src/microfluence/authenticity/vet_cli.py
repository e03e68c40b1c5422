"""`microfluence vet PLATFORM:HANDLE` and `microfluence eval vetting`: thin faces."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from microfluence.authenticity.brand_safety import read_word_lists_file
from microfluence.authenticity.report_html import write_report
from microfluence.authenticity.vetting import VettingReport, parse_account_reference, vet_account
from microfluence.authenticity.vetting_evaluation import VettingEvaluation, evaluate_vetting
from microfluence.cli.common import (
    DEFAULT_WS,
    DatabaseUrlOpt,
    WorkspaceOpt,
    console,
    err_console,
    friendly_errors,
    store_for,
)

_COLOURS = {
    "likely inauthentic": "red",
    "review": "yellow",
    "likely authentic": "green",
    "not enough data": "dim",
}


def _show(report: VettingReport) -> None:
    score = "—" if report.quality_score is None else f"{report.quality_score:.0f}"
    colour = _COLOURS.get(report.verdict, "white")
    console.print(
        f"[bold]{report.reference}[/]  Audience Quality Score [bold]{score}[/]/100  "
        f"[{colour}]{report.verdict}[/]  (threshold {report.threshold:g})",
        highlight=False,
    )
    table = Table(show_lines=False)
    table.add_column("component")
    table.add_column("score", justify="right")
    table.add_column("weight", justify="right")
    table.add_column("points", justify="right")
    table.add_column("finding")
    for c in report.components:
        finding = c.summary if c.available else f"[dim]not available: {c.reason}[/]"
        table.add_row(
            c.label,
            "n/a" if c.score is None else f"{c.score:.0f}",
            f"{c.effective_weight:.0%}",
            f"{c.contribution:.1f}",
            finding,
        )
    console.print(table)
    for note in report.notes:
        console.print(f"[dim]{note}[/]", highlight=False)


@friendly_errors
def vet(
    account: Annotated[str, typer.Argument(help="The account to vet, as PLATFORM:HANDLE.")],
    workspace: WorkspaceOpt = DEFAULT_WS,
    as_json: Annotated[bool, typer.Option("--json", help="Print the report as JSON.")] = False,
    html: Annotated[
        Path | None,
        typer.Option("--html", help="Also write a standalone HTML report (works offline)."),
    ] = None,
    word_lists: Annotated[
        Path | None,
        typer.Option(
            "--brand-safety-lists",
            help="JSON word lists for brand safety (overrides the workspace's).",
        ),
    ] = None,
    database_url: DatabaseUrlOpt = None,
) -> None:
    """Vet one account: Audience Quality Score, every component with its evidence."""
    platform, handle = parse_account_reference(account)
    overrides = read_word_lists_file(word_lists) if word_lists else None
    store = store_for(database_url)
    try:
        report = vet_account(store, workspace, platform, handle, brand_safety_overrides=overrides)
    finally:
        store.dispose()
    if as_json:
        typer.echo(report.to_json())
    else:
        _show(report)
    if html is not None:
        path = write_report(report, html)
        err_console.print(f"HTML report written to {path}", highlight=False)


def _show_evaluation(result: VettingEvaluation) -> None:
    t = result.at_threshold
    console.print(
        f"[bold]Vetting evaluation[/] of workspace {result.workspace!r}: {result.accounts:,} "
        f"labelled accounts with a score, {result.inauthentic:,} planted inauthentic",
        highlight=False,
    )
    console.print(
        f"score < {t.threshold:g}: precision [bold]{t.precision:.3f}[/], recall "
        f"[bold]{t.recall:.3f}[/], F1 {t.f1:.3f}, false-positive rate {t.false_positive_rate:.3f} "
        f"(tp {t.tp}, fp {t.fp}, tn {t.tn}, fn {t.fn})",
        highlight=False,
    )
    if result.roc_auc is not None:
        console.print(f"ROC AUC of (100 − score): {result.roc_auc:.3f}", highlight=False)
    console.print(f"engagement cohort: {result.cohort_source}", highlight=False)
    kinds = Table(title="Recall per planted kind")
    kinds.add_column("label")
    kinds.add_column("accounts", justify="right")
    kinds.add_column("recall", justify="right")
    for label, recall in result.recall_by_label.items():
        kinds.add_row(label, str(result.accounts_by_label[label]), f"{recall:.3f}")
    console.print(kinds)
    sweep = Table(title="Other thresholds")
    for column in ("threshold", "precision", "recall", "F1", "FPR"):
        sweep.add_column(column, justify="right")
    for s in result.sweep:
        sweep.add_row(
            f"{s.threshold:g}",
            f"{s.precision:.3f}",
            f"{s.recall:.3f}",
            f"{s.f1:.3f}",
            f"{s.false_positive_rate:.3f}",
        )
    console.print(sweep)


@friendly_errors
def eval_vetting(
    workspace: WorkspaceOpt = "demo",
    threshold: Annotated[
        float | None,
        typer.Option(
            "--threshold", min=0, max=100, help="Score threshold (default: the workspace's)."
        ),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the figures as JSON.")] = False,
    database_url: DatabaseUrlOpt = None,
) -> None:
    """Precision and recall of the Audience Quality Score against a workspace's planted labels."""
    store = store_for(database_url)
    try:
        with err_console.status("scoring the workspace") as status:
            result = evaluate_vetting(
                store, workspace, threshold=threshold, progress=lambda m: status.update(m)
            )
    finally:
        store.dispose()
    if as_json:
        typer.echo(json.dumps(result.to_dict(), indent=2))
    else:
        _show_evaluation(result)
