"""`microfluence niches` (recompute), `niches set`, `niches show`, `niches eval`."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from microfluence.catalog.accounts import find_account_by_reference
from microfluence.discovery.dataset import read_accounts
from microfluence.discovery.evaluation import LABELS, NicheEvaluation, evaluate
from microfluence.discovery.niches import AccountNiches, get_niches, recompute_niches, set_niches
from microfluence.kernel.console import (
    DEFAULT_WS,
    DatabaseUrlOpt,
    ProgressBar,
    WorkspaceOpt,
    console,
    friendly_errors,
    print_json,
    workspace_transaction,
)

niches_app = typer.Typer(
    help="Niches: recompute them (no sub-command), show or correct an account's, "
    "measure the model.",
    invoke_without_command=True,
)


@niches_app.callback()
@friendly_errors
def recompute(
    ctx: typer.Context,
    workspace: WorkspaceOpt = DEFAULT_WS,
    everything: Annotated[
        bool, typer.Option("--all", help="Score every account, not only the changed ones.")
    ] = False,
    database_url: DatabaseUrlOpt = None,
) -> None:
    """Score the accounts whose posts or profile changed since the last run."""
    if ctx.invoked_subcommand is not None:
        return
    with workspace_transaction(database_url, workspace) as (session, ws):
        with ProgressBar("niches") as bar:
            run = recompute_niches(session, ws.id, everything=everything, progress=bar)
    console.print(
        f"scored [bold]{run.scored:,}[/] of {run.accounts:,} accounts "
        f"({run.unchanged:,} unchanged), {run.rows:,} niche rows written"
    )
    for niche, count in sorted(run.by_niche.items(), key=lambda kv: -kv[1]):
        console.print(f"  {niche:<18} {count:>7,}")


def _show(result: AccountNiches, reference: str) -> None:
    table = Table(title=f"niches of {reference}")
    for column in ("niche", "confidence", "source"):
        table.add_column(column)
    for niche in result.niches:
        table.add_row(niche.niche, f"{niche.confidence:.2f}", niche.source)
    console.print(table)
    if result.corrected_by is not None or (result.model and result.niches != result.model):
        said = ", ".join(f"{n.niche} {n.confidence:.2f}" for n in result.model) or "nothing yet"
        console.print(f"corrected by {result.corrected_by or 'a user'}; the model says: {said}")


@niches_app.command("show")
@friendly_errors
def show(
    account: Annotated[str, typer.Argument(help="PLATFORM:HANDLE")],
    workspace: WorkspaceOpt = DEFAULT_WS,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
    database_url: DatabaseUrlOpt = None,
) -> None:
    """An account's niches with their confidences (a hand correction wins)."""
    with workspace_transaction(database_url, workspace) as (session, ws):
        found = find_account_by_reference(session, ws.id, account)
        result = get_niches(session, ws.id, found.id)
    if as_json:
        print_json(_as_dict(result))
    else:
        _show(result, account)


@niches_app.command("set")
@friendly_errors
def set_command(
    account: Annotated[str, typer.Argument(help="PLATFORM:HANDLE")],
    niches: Annotated[str, typer.Argument(help="NICHE[,NICHE…]; an empty string removes it.")],
    workspace: WorkspaceOpt = DEFAULT_WS,
    by: Annotated[str | None, typer.Option("--by", help="Who corrects (default: cli).")] = None,
    database_url: DatabaseUrlOpt = None,
) -> None:
    """Correct an account's niches by hand; a re-run never overwrites a correction."""
    names = [n for n in niches.split(",") if n.strip()]
    with workspace_transaction(database_url, workspace) as (session, ws):
        found = find_account_by_reference(session, ws.id, account)
        result = set_niches(session, ws.id, found.id, names, by=by or "cli")
    _show(result, account)


def _as_dict(result: AccountNiches) -> dict[str, object]:
    return {
        "account_id": result.account_id,
        "niches": [vars(n) for n in result.niches],
        "model": [vars(n) for n in result.model],
        "corrected_by": result.corrected_by,
        "model_version": result.model_version,
    }


def _print_evaluation(result: NicheEvaluation) -> None:
    table = Table(
        title=f"niche methods, {result.folds}-fold cross-validation: accuracy / macro-F1 (8)"
    )
    table.add_column("accounts")
    table.add_column("n")
    for method in result.methods:
        table.add_column(method)
    rows = [("all", result.methods)] + list(result.slices.items())
    for name, scores in rows:
        first = next(iter(scores.values()))
        table.add_row(
            name,
            f"{first.accounts:,}",
            *(f"{s.accuracy:.3f} / {s.macro_f1:.3f}" for s in scores.values()),
        )
    table.add_row("seconds", "", *(f"{result.seconds.get(m, 0.0):.0f}" for m in result.methods))
    console.print(table)
    confusion = Table(title="confusion (rows: true, columns: predicted)")
    confusion.add_column("")
    for label in LABELS:
        confusion.add_column(label[:8])
    for label, row in zip(LABELS, result.confusion, strict=True):
        confusion.add_row(label, *(str(v) for v in row))
    console.print(confusion)


@niches_app.command("eval")
@friendly_errors
def eval_command(
    data: Annotated[Path, typer.Argument(help="The labelled accounts.jsonl (niches-kim-dev).")],
    folds: Annotated[int, typer.Option("--folds", help="Cross-validation folds.")] = 5,
    limit: Annotated[
        int | None, typer.Option("--limit", help="Read only the first N accounts.")
    ] = None,
) -> None:
    """Measure the niche model by cross-validation, next to the other methods (baselines)."""
    _print_evaluation(evaluate(read_accounts(data, limit=limit), folds=folds))
