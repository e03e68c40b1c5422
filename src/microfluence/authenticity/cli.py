"""`microfluence audit followers` and `microfluence eval authenticity`: thin faces."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer
from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn
from rich.table import Table

from microfluence.authenticity.evaluation import ClassificationMetrics, classification_metrics
from microfluence.authenticity.fake_share import METHODS
from microfluence.authenticity.follower_audit import (
    FollowerAudit,
    audit_follower_file,
    audit_stored_sample,
)
from microfluence.authenticity.follower_model import FollowerModel, load_shipped_model
from microfluence.authenticity.labelled_data import FORMATS, read_labelled
from microfluence.cli.common import (
    DEFAULT_WS,
    DatabaseUrlOpt,
    WorkspaceOpt,
    console,
    friendly_errors,
    store_for,
)
from microfluence.kernel.errors import InputError

audit_app = typer.Typer(help="Audit accounts' authenticity.", no_args_is_help=True)
eval_app = typer.Typer(help="Measure the product's models on labelled data.", no_args_is_help=True)

ModelOpt = Annotated[
    Path | None,
    typer.Option("--model", help="A follower model JSON (default: the shipped model)."),
]


def _model(path: Path | None) -> FollowerModel:
    return FollowerModel.load(path) if path else load_shipped_model()


def _show_audit(audit: FollowerAudit) -> None:
    e = audit.estimate
    pct = f"{e.confidence:.0%}"
    table = Table(title=f"Follower audit: {audit.source}", show_header=False)
    table.add_row("followers scored", f"{e.n:,}")
    table.add_row(
        f"flagged fake (p ≥ {e.threshold:g})", f"{e.flagged:,} ({e.flagged_share:.1%}, uncorrected)"
    )
    table.add_row(
        "[bold]estimated fake share[/]",
        f"[bold]{e.share:.1%}[/]  ({pct} interval {e.low:.1%} – {e.high:.1%})",
    )
    table.add_row(
        "method",
        {
            "acc": "adjusted classify-and-count (Forman 2008)",
            "em": "EM prior adjustment (Saerens et al. 2002)",
            "cc": "classify-and-count, uncorrected",
        }[e.method],
    )
    for note in e.notes:
        table.add_row("[yellow]note[/]", note)
    if audit.columns_missing:
        table.add_row("columns missing", ", ".join(audit.columns_missing))
    if audit.output:
        table.add_row("scores written to", audit.output)
    console.print(table)


@audit_app.command("followers")
@friendly_errors
def followers(
    path: Annotated[
        Path | None,
        typer.Argument(help="Follower file (CSV, TSV, JSON lines or Parquet).", show_default=False),
    ] = None,
    output: Annotated[
        Path | None,
        typer.Option(
            "--output", "-o", help="Write every row plus fake_probability and is_fake here."
        ),
    ] = None,
    account: Annotated[
        str | None,
        typer.Option("--account", help="Audit the sample stored for PLATFORM:HANDLE instead."),
    ] = None,
    method: Annotated[
        str, typer.Option("--method", help=f"Fake-share estimator: {', '.join(METHODS)}.")
    ] = "acc",
    confidence: Annotated[float, typer.Option("--confidence", help="Interval level.")] = 0.95,
    data_format: Annotated[
        str | None, typer.Option("--format", help="Input format when the extension is unusual.")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the result as JSON.")] = False,
    model: ModelOpt = None,
    workspace: WorkspaceOpt = DEFAULT_WS,
    database_url: DatabaseUrlOpt = None,
) -> None:
    """Score a follower sample: each follower's fake probability and the audience's fake share.

    fake_probability is at the model's training base rate (50 % fake).

    The fake share is corrected for the sample's own base rate, with a confidence interval.
    """
    if (path is None) == (account is None):
        raise InputError("give either a follower file or --account PLATFORM:HANDLE")
    follower_model = _model(model)
    if account is not None:
        store = store_for(database_url)
        try:
            with store.session() as session:
                audit = audit_stored_sample(
                    session,
                    workspace,
                    account,
                    model=follower_model,
                    method=method,
                    confidence=confidence,
                    output=output,
                )
        finally:
            store.dispose()
    else:
        assert path is not None
        with Progress(
            SpinnerColumn(),
            TextColumn("[progress.description]{task.description}"),
            TextColumn("{task.completed:,} rows"),
            TimeElapsedColumn(),
            console=console,
            transient=True,
            disable=as_json,
        ) as bar:
            task = bar.add_task(f"scoring {path.name}", total=None)
            audit = audit_follower_file(
                path,
                output,
                model=follower_model,
                method=method,
                confidence=confidence,
                data_format=data_format,
                progress=lambda rows: bar.advance(task, rows),
            )
    if as_json:
        console.print_json(json.dumps(audit.as_dict()))
    else:
        _show_audit(audit)


def _metrics_table(title: str, m: ClassificationMetrics) -> Table:
    table = Table(title=title, show_header=False)
    table.add_row("profiles", f"{m.n:,} ({m.positives:,} fake)")
    table.add_row("threshold", f"{m.threshold:g}")
    auc = "undefined (one class only)" if m.roc_auc is None else f"{m.roc_auc:.4f}"
    table.add_row("ROC AUC", auc)
    table.add_row("precision", f"{m.precision:.4f}")
    table.add_row("recall", f"{m.recall:.4f}")
    table.add_row("F1", f"{m.f1:.4f}")
    table.add_row("false-positive rate", f"{m.false_positive_rate:.4f}")
    table.add_row("confusion (tp fp tn fn)", f"{m.tp} {m.fp} {m.tn} {m.fn}")
    return table


@eval_app.command("authenticity")
@friendly_errors
def authenticity(
    data: Annotated[
        Path,
        typer.Option("--data", help="Labelled file (or InstaFake folder).", show_default=False),
    ],
    data_format: Annotated[
        str | None,
        typer.Option("--format", help=f"{' | '.join(FORMATS)} (default: guessed from the file)."),
    ] = None,
    threshold: Annotated[
        float | None, typer.Option("--threshold", help="Instead of the model's default.")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the metrics as JSON.")] = False,
    model: ModelOpt = None,
) -> None:
    """ROC AUC, precision, recall and F1 of the follower model on a labelled file."""
    follower_model = _model(model)
    labelled = read_labelled(data, data_format)
    probabilities = follower_model.predict_proba(labelled.x)
    metrics = classification_metrics(
        labelled.y, probabilities, follower_model.threshold if threshold is None else threshold
    )
    if as_json:
        console.print_json(json.dumps({"data": str(data), **metrics.as_dict()}))
    else:
        console.print(_metrics_table(f"Follower model on {labelled.name}", metrics))
