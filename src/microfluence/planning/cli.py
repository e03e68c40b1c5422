"""`microfluence learn CAMPAIGN…`: the tested creators ranked by their posteriors, the flags and
the next round's split (docs/planning.md, "Test-and-learn")."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.table import Table

from microfluence.kernel.console import (
    DEFAULT_WS,
    DatabaseUrlOpt,
    WorkspaceOpt,
    console,
    friendly_errors,
    workspace_transaction,
)
from microfluence.planning.learn import DRAWS, report_by_names
from microfluence.planning.learn_schemas import LearnReport
from microfluence.planning.learn_split import DEFAULT_EXPLORE, DEFAULT_MAX_MULTIPLE


def _pct(value: float | None, digits: int = 1) -> str:
    return "–" if value is None else f"{value * 100:.{digits}f} %"


def _n(value: float | None, digits: int = 2) -> str:
    return "–" if value is None else f"{value:,.{digits}f}"


def _between(low: float | None, high: float | None, show) -> str:  # type: ignore[no-untyped-def]
    return "–" if low is None or high is None else f"{show(low)} – {show(high)}"


def _creators(report: LearnReport) -> Table:
    table = Table(
        "#",
        "creator",
        "clicks",
        "orders",
        "conversion",
        "95 %",
        "flag",
        "revenue/click",
        "95 %",
        "flag",
        "ROI",
        "95 %",
        "flag",
        title=f"Tested creators, best revenue per click first ({report.currency})",
    )
    for c in report.creators:
        table.add_row(
            str(c.rank),
            c.account or c.creator_name or f"creator {c.creator_id}",
            f"{c.unique_clicks:,}",
            f"{c.orders:,}",
            _pct(c.conversion_mean, 2),
            _between(c.conversion_low, c.conversion_high, lambda v: _pct(v, 2)),
            c.conversion_flag,
            _n(c.revenue_per_click_mean),
            _between(c.revenue_per_click_low, c.revenue_per_click_high, _n),
            c.revenue_flag,
            _pct(c.roi_mean, 0),
            _between(c.roi_low, c.roi_high, lambda v: _pct(v, 0)),
            c.roi_flag,
        )
    return table


def _split(report: LearnReport) -> Table:
    split = report.next_round
    table = Table(
        "creator",
        "P(best ROI)",
        "share",
        "amount",
        "price/post",
        "posts",
        "advice",
        title=f"Next round: {split.budget:,.2f} {report.currency}",
    )
    for c in split.creators:
        table.add_row(
            c.account or c.creator_name or f"creator {c.creator_id}",
            _pct(c.p_best),
            _pct(c.share),
            _n(c.amount),
            _n(c.price_per_post),
            str(c.posts),
            c.recommendation,
        )
    table.add_section()
    table.add_row(
        "[bold]new creators[/]",
        _pct(split.new_p_best),
        _pct(split.new_share),
        _n(split.new_amount),
        _n(split.median_fee),
        f"{split.new_creators} at the median fee",
        "test",
    )
    return table


def print_learn(report: LearnReport) -> None:
    names = ", ".join(c.name for c in report.campaigns)
    pooled = report.pooled
    console.print(
        f"[bold]{names}[/] · pooled conversion {_pct(pooled.conversion_rate, 2)}, "
        f"revenue per click {_n(pooled.revenue_per_click)}, ROI {_pct(pooled.roi, 0)}",
        highlight=False,
        soft_wrap=True,
    )
    console.print(_creators(report))
    console.print(_split(report))
    console.print(
        "Means and 95 % credible intervals of empirical-Bayes posteriors; a flag needs a "
        "posterior probability above 0.95 (docs/planning.md, Test-and-learn).",
        highlight=False,
    )


@friendly_errors
def learn(
    campaigns: Annotated[list[str], typer.Argument(help="The campaign(s) to learn from, by name.")],
    budget: Annotated[
        float | None,
        typer.Option("--budget", help="Next round's budget (default: the last round's fees)."),
    ] = None,
    explore: Annotated[
        float, typer.Option("--explore", help="Least share kept for new creators (0–1).")
    ] = DEFAULT_EXPLORE,
    max_multiple: Annotated[
        float,
        typer.Option("--max-multiple", help="Most a creator gets, × what they were paid."),
    ] = DEFAULT_MAX_MULTIPLE,
    draws: Annotated[int, typer.Option("--draws", help="Monte Carlo draws (100–20000).")] = DRAWS,
    seed: Annotated[int, typer.Option("--seed", help="Seed of the draws.")] = 0,
    as_json: Annotated[bool, typer.Option("--json", help="Print the result as JSON.")] = False,
    workspace: WorkspaceOpt = DEFAULT_WS,
    database_url: DatabaseUrlOpt = None,
) -> None:
    """Rank the tested creators of the campaign(s) by posterior performance, flag who is clearly
    above or below the average, and propose the next round's budget split."""
    with workspace_transaction(database_url, workspace) as (session, ws):
        report = report_by_names(
            session,
            ws.id,
            campaigns,
            budget=budget,
            explore=explore,
            max_multiple=max_multiple,
            draws=draws,
            seed=seed,
        )
    if as_json:
        typer.echo(report.model_dump_json(indent=2))
    else:
        print_learn(report)
