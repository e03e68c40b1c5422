"""`microfluence audit followers`, `vet PLATFORM:HANDLE`, `eval authenticity|vetting`, `labels
import|list|export|status`: thin faces.

Each command parses its options, calls one service function and prints what it returns.
"""

from __future__ import annotations

import getpass
import json
import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn
from rich.table import Table

from microfluence.authenticity.evaluation.classification import (
    ClassificationMetrics,
)
from microfluence.authenticity.evaluation.coverage import (
    SHARES,
    coverage_markdown,
    simulate_coverage,
)
from microfluence.authenticity.evaluation.followers import (
    evaluate_follower_model,
    load_follower_model,
    twitter_posts_shift,
)
from microfluence.authenticity.evaluation.sources import evaluate_model_sources
from microfluence.authenticity.evaluation.vetting import VettingEvaluation, evaluate_vetting
from microfluence.authenticity.followers.audit import (
    FollowerAudit,
    audit_follower_file,
    audit_stored_sample,
)
from microfluence.authenticity.followers.fake_share import METHODS
from microfluence.authenticity.followers.labelled import FORMATS, read_labelled
from microfluence.authenticity.followers.loso import markdown_table
from microfluence.authenticity.labels.export import write_labels
from microfluence.authenticity.labels.files import import_labels_file
from microfluence.authenticity.labels.records import list_labels
from microfluence.authenticity.labels.status import LabelStatus, label_status
from microfluence.authenticity.signals.brand_safety import read_word_lists_file
from microfluence.authenticity.vetting.html import write_report
from microfluence.authenticity.vetting.report import VettingReport, vet_account
from microfluence.catalog.listing import Window
from microfluence.catalog.validation import parse_account_reference
from microfluence.kernel.console import (
    DEFAULT_WS,
    DatabaseUrlOpt,
    WorkspaceOpt,
    console,
    err_console,
    friendly_errors,
    store_for,
    workspace_transaction,
)
from microfluence.kernel.errors import InputError

audit_app = typer.Typer(help="Audit accounts' authenticity.", no_args_is_help=True)
eval_app = typer.Typer(help="Measure the product's models on labelled data.", no_args_is_help=True)

ModelOpt = Annotated[
    Path | None,
    typer.Option("--model", help="A follower model JSON (default: the shipped model)."),
]


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
    if audit.extra.get("calibrated_by_labels"):
        table.add_row("error rates", "this workspace's, from its labels (`labels status`)")
    if e.in_domain is not None:
        table.add_row(
            "domain check",
            "like the training data"
            if e.in_domain
            else "[yellow]unlike every training source: interval widened[/]",
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
    follower_model = load_follower_model(model)
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
    result = evaluate_follower_model(
        data, data_format, model=load_follower_model(model), threshold=threshold
    )
    if as_json:
        console.print_json(json.dumps(result.as_dict()))
    else:
        console.print(_metrics_table(f"Follower model on {result.name}", result.metrics))


@eval_app.command("sources")
@friendly_errors
def sources(
    kaggle: Annotated[
        Path, typer.Option("--kaggle", help="Folder with insta_train.csv and insta_test.csv.")
    ],
    twitter: Annotated[
        Path, typer.Option("--twitter", help="Folder with humans.csv and fake_followers.csv.")
    ],
    instafake: Annotated[
        Path | None,
        typer.Option("--instafake", help="InstaFake folder (evaluation only, never shipped)."),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the rows as JSON.")] = False,
    model: ModelOpt = None,
) -> None:
    """In-domain and leave-one-source-out accuracy and fake-share error, source by source.

    Re-trains the model's recipe for every left-out source (a few minutes on two cores) and
    prints the model card's table.
    """
    with err_console.status("training and testing") as status:
        rows = evaluate_model_sources(
            kaggle,
            twitter,
            instafake,
            model=load_follower_model(model),
            log=lambda m: status.update(m.strip()),
        )
    dicts = [r.as_dict() for r in rows]
    if as_json:
        typer.echo(json.dumps(dicts, indent=2))
    else:
        typer.echo(markdown_table(dicts))


@eval_app.command("coverage")
@friendly_errors
def coverage(
    data: Annotated[
        Path,
        typer.Option("--data", help="Labelled file or folder to draw audiences from."),
    ],
    data_format: Annotated[
        str | None,
        typer.Option("--format", help=f"{' | '.join(FORMATS)} (default: guessed from the file)."),
    ] = None,
    size: Annotated[int, typer.Option("--size", min=1, help="Followers per audience.")] = 500,
    audiences: Annotated[
        int, typer.Option("--audiences", min=1, help="Audiences per planted share.")
    ] = 200,
    as_json: Annotated[bool, typer.Option("--json", help="Print the rows as JSON.")] = False,
    model: ModelOpt = None,
) -> None:
    """How often the fake-share interval covers the truth on simulated audiences.

    Planted shares 0, 5, 10, 20, 30 and 50 %; each audience is estimated as the audit does.
    """
    follower_model = load_follower_model(model)
    labelled = read_labelled(data, data_format, posts_shift=twitter_posts_shift(follower_model))
    rows = simulate_coverage(
        labelled, follower_model, shares=SHARES, size=size, audiences=audiences
    )
    if as_json:
        typer.echo(json.dumps([r.as_dict() for r in rows], indent=2))
    else:
        typer.echo(coverage_markdown(labelled.name, rows))


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


eval_app.command("vetting")(eval_vetting)


# --- labels: calibration by the workspace's own labels ---------------------------------------

labels_app = typer.Typer(
    help="Label followers of the stored samples (fake, real, unsure): the model's error rates "
    "re-estimated for this workspace.",
    no_args_is_help=True,
)
ByOpt = Annotated[
    str | None,
    typer.Option("--by", help="Who gives the labels (default: cli:YOUR-LOGIN)."),
]


def _by(by: str | None) -> str:
    return by or f"cli:{getpass.getuser()}"


@labels_app.command("import")
@friendly_errors
def labels_import(
    path: Annotated[Path, typer.Argument(help="A file of username,label rows (account optional).")],
    by: ByOpt = None,
    workspace: WorkspaceOpt = DEFAULT_WS,
    database_url: DatabaseUrlOpt = None,
) -> None:
    """Label followers from a file: username, label (fake/real/unsure, or f/r/u) and optionally
    account (PLATFORM:HANDLE). All or nothing; a later label replaces an earlier one."""
    with workspace_transaction(database_url, workspace) as (session, ws):
        done = import_labels_file(session, ws.id, path, by=_by(by))
    counts = ", ".join(f"{n} {label}" for label, n in sorted(done.by_label.items()))
    console.print(
        f"labelled {done.followers} followers from {done.rows} rows ({counts})", highlight=False
    )


@labels_app.command("list")
@friendly_errors
def labels_list(
    label: Annotated[str | None, typer.Option("--label", help="Only fake, real or unsure.")] = None,
    limit: Annotated[int, typer.Option("--limit", min=1, max=500, help="Rows to show.")] = 50,
    as_json: Annotated[bool, typer.Option("--json", help="Print the labels as JSON.")] = False,
    workspace: WorkspaceOpt = DEFAULT_WS,
    database_url: DatabaseUrlOpt = None,
) -> None:
    """The workspace's labels, newest first."""
    with workspace_transaction(database_url, workspace) as (session, ws):
        rows, count = list_labels(session, ws.id, label=label, window=Window(limit=limit))
    if as_json:
        typer.echo(json.dumps({"data": [r.__dict__ for r in rows], "count": count}, default=str))
        return
    table = Table(title=f"{count:,} labels in {workspace!r}")
    for column in ("follower", "of account", "label", "by", "at (UTC)"):
        table.add_column(column)
    for r in rows:
        table.add_row(
            f"@{r.username}",
            r.account,
            r.label,
            r.labelled_by,
            r.labelled_at.strftime("%Y-%m-%d %H:%M"),
        )
    console.print(table)


@labels_app.command("export")
@friendly_errors
def labels_export(
    fmt: Annotated[str, typer.Option("--format", "-f", help="csv, json or jsonl.")] = "csv",
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="File to write (default: stdout).")
    ] = None,
    raw: Annotated[
        bool, typer.Option("--raw", help="CSV: cells as stored (no formula neutralising).")
    ] = False,
    workspace: WorkspaceOpt = DEFAULT_WS,
    database_url: DatabaseUrlOpt = None,
) -> None:
    """Every label with its follower, account, who gave it and when."""
    with workspace_transaction(database_url, workspace) as (session, ws):
        if output is None:
            rows = write_labels(session, ws.id, fmt, sys.stdout.buffer, raw=raw)
        else:
            with output.open("wb") as out:
                rows = write_labels(session, ws.id, fmt, out, raw=raw)
    if output is not None:
        err_console.print(f"exported {rows} labels to {output}", highlight=False)


def _interval(low: float | None, high: float | None) -> str:
    return "" if low is None or high is None else f" ({low:.1%} – {high:.1%})"


def _show_label_status(status: LabelStatus) -> None:
    cal = status.calibration
    c = cal.confusion
    console.print(
        f"[bold]{status.labelled:,}[/] labelled of {status.followers:,} followers: "
        f"{c.n} fake or real (tp {c.tp}, fn {c.fn}, fp {c.fp}, tn {c.tn}), {c.unsure} unsure",
        highlight=False,
    )
    accuracy = Table(
        title=f"The model on your labels (threshold {cal.operating_point.threshold:g})"
    )
    for column in ("measure", "value", f"{cal.confidence:.0%} Wilson interval", "k / n"):
        accuracy.add_column(column)
    for name, p in cal.accuracy.items():
        value = "–" if p.value is None else f"{p.value:.1%}"
        accuracy.add_row(name, value, _interval(p.low, p.high).strip(" ()"), f"{p.k} / {p.n}")
    console.print(accuracy)
    rates = Table(title=f"Error rates (the model's worth {cal.prior_labels} labels each)")
    for column in ("rate", "model", "this workspace", "credible interval"):
        rates.add_column(column)
    for name, rate in (("true-positive", cal.tpr), ("false-positive", cal.fpr)):
        rates.add_row(
            name, f"{rate.prior:.1%}", f"{rate.value:.1%}", _interval(rate.low, rate.high)
        )
    console.print(rates)
    if status.workspace is not None:
        w = status.workspace
        console.print(
            f"workspace fake share: {w.before.share:.1%} → [bold]{w.after.share:.1%}[/]"
            f"{_interval(w.after.low, w.after.high)}",
            highlight=False,
        )
    shares = Table(title="Fake share per sample, before → after; among labelled followers")
    for column in ("account", "sample", "before", "after", "labelled fake"):
        shares.add_column(column)
    for a in status.accounts:
        labelled = (
            "–"
            if a.labelled_share is None
            else f"{a.fake}/{a.fake + a.real} = {a.labelled_share:.0%}"
            + _interval(a.labelled_low, a.labelled_high)
        )
        shares.add_row(
            f"{a.platform}:{a.handle}",
            f"{a.sample:,}",
            f"{a.estimate.before.share:.1%}",
            f"{a.estimate.after.share:.1%}",
            labelled,
        )
    console.print(shares)
    for note in cal.notes:
        console.print(f"[dim]{note}[/]", highlight=False)


@labels_app.command("status")
@friendly_errors
def labels_status(
    as_json: Annotated[bool, typer.Option("--json", help="Print the status as JSON.")] = False,
    model: ModelOpt = None,
    workspace: WorkspaceOpt = DEFAULT_WS,
    database_url: DatabaseUrlOpt = None,
) -> None:
    """The model's measured accuracy on your labels, the re-estimated error rates, and every
    sample's fake share before and after calibration."""
    follower_model = load_follower_model(model)
    with workspace_transaction(database_url, workspace) as (session, ws):
        status = label_status(session, ws.id, model=follower_model)
    if as_json:
        typer.echo(json.dumps(status.as_dict(), indent=2, default=str))
    else:
        _show_label_status(status)
