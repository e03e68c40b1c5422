"""`microfluence learn CAMPAIGN…`: the tested creators ranked by their posteriors, the flags and
the next round's split (docs/planning.md, "Test-and-learn").

`microfluence prices PLATFORM:HANDLE` and `microfluence plan --budget AMOUNT --objective OBJ
[constraints…]`: thin faces over planning.prices and planning.planner (docs/planning.md)."""

from __future__ import annotations

import dataclasses
from typing import Annotated

import typer
from rich.table import Table

from microfluence.kernel.console import (
    DEFAULT_WS,
    DatabaseUrlOpt,
    WorkspaceOpt,
    console,
    friendly_errors,
    print_json,
    workspace_transaction,
)
from microfluence.planning.learn import DRAWS, report_by_names
from microfluence.planning.learn_schemas import LearnReport
from microfluence.planning.learn_split import DEFAULT_EXPLORE, DEFAULT_MAX_MULTIPLE
from microfluence.planning.planner import make_plan
from microfluence.planning.prices import account_prices
from microfluence.planning.schemas import (
    OBJECTIVES,
    PlanDeals,
    PlanOutcome,
    PlanResult,
    parse_quotas,
    plan_request,
)
from microfluence.planning.todeals import plan_to_deals


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


JsonOpt = Annotated[bool, typer.Option("--json", help="Print the answer as JSON.")]


@friendly_errors
def prices(
    account: Annotated[str, typer.Argument(help="PLATFORM:HANDLE of the account.")],
    as_json: JsonOpt = False,
    workspace: WorkspaceOpt = DEFAULT_WS,
    database_url: DatabaseUrlOpt = None,
) -> None:
    """The price range of every format the account's platform offers, with its basis."""
    with workspace_transaction(database_url, workspace) as (session, ws):
        quoted = account_prices(session, ws.id, account)
    if as_json:
        print_json(dataclasses.asdict(quoted))
        return
    table = Table(title=f"{quoted.account} · {quoted.followers:,.0f} followers · {quoted.tier}")
    for column in ("format", "low", "mid", "high", "basis"):
        table.add_column(column, justify="right" if column in ("low", "mid", "high") else "left")
    for p in quoted.prices:
        table.add_row(p.format, f"{p.low:,.2f}", f"{p.mid:,.2f}", f"{p.high:,.2f}", p.basis)
    console.print(table)
    console.print(f"90 % ranges in {quoted.currency}; published bands: {quoted.source}")


@friendly_errors
def plan(  # noqa: PLR0913  a command's options are its parameters
    budget: Annotated[float, typer.Option("--budget", help="Money to spend (USD).")],
    objective: Annotated[
        str, typer.Option("--objective", help=f"What to maximise: {', '.join(OBJECTIVES)}.")
    ] = "revenue",
    min_creators: Annotated[int | None, typer.Option("--min-creators")] = None,
    max_creators: Annotated[int | None, typer.Option("--max-creators")] = None,
    niche: Annotated[
        list[str] | None, typer.Option("--niche", help="Quota NAME=MIN:MAX, e.g. beauty=2:5.")
    ] = None,
    country: Annotated[
        list[str] | None, typer.Option("--country", help="Quota NAME=MIN:MAX, e.g. FR=3:.")
    ] = None,
    tier: Annotated[
        list[str] | None, typer.Option("--tier", help="Tier mix NAME=MIN:MAX, e.g. micro=2:.")
    ] = None,
    min_aqs: Annotated[
        float | None, typer.Option("--min-aqs", help="Minimum Audience Quality Score.")
    ] = None,
    max_share: Annotated[
        float | None, typer.Option("--max-share", help="Largest budget share per creator.")
    ] = None,
    max_overlap: Annotated[
        float | None, typer.Option("--max-overlap", help="Largest audience overlap, 0-1.")
    ] = None,
    formats: Annotated[
        list[str] | None, typer.Option("--format", help="Only these formats (repeat).")
    ] = None,
    from_shortlist: Annotated[
        str | None, typer.Option("--from-shortlist", help="Plan from this shortlist only.")
    ] = None,
    to_campaign: Annotated[
        str | None, typer.Option("--to-campaign", help="Turn the plan into a new campaign.")
    ] = None,
    seed: Annotated[int, typer.Option("--seed", help="Seed of the simulation.")] = 0,
    as_json: JsonOpt = False,
    workspace: WorkspaceOpt = DEFAULT_WS,
    database_url: DatabaseUrlOpt = None,
) -> None:
    """Choose creators and deliverables for a budget, with ranges and the alternatives."""
    request = plan_request(
        budget=budget,
        objective=objective,
        min_creators=min_creators,
        max_creators=max_creators,
        niches=parse_quotas(niche, "--niche"),
        countries=parse_quotas(country, "--country"),
        tiers=parse_quotas(tier, "--tier"),
        min_aqs=min_aqs,
        max_share=max_share,
        max_overlap=max_overlap,
        formats=formats or None,
        shortlist=from_shortlist,
        seed=seed,
    )
    with workspace_transaction(database_url, workspace) as (session, ws):
        result = make_plan(session, ws, request)
        made = None
        if to_campaign is not None and result.plan.items:
            items = [
                {"account": i.account, "format": i.format, "fee": i.price.mean}
                for i in result.plan.items
            ]
            made = plan_to_deals(session, ws.id, PlanDeals(campaign_name=to_campaign, items=items))
    if as_json:
        print_json(result)
    else:
        _show(result)
    if made is not None:
        console.print(f"campaign {to_campaign!r} (id {made[0]}) has {len(made[1])} new deals")


def _show(result: PlanResult) -> None:
    table = Table(title=f"plan for {result.request.budget:,.2f} USD · {result.request.objective}")
    for column in ("account", "format", "tier", "niche", "country", "price", "expected"):
        table.add_column(column)
    key = "revenue" if result.request.objective == "roi" else result.request.objective
    for item in result.plan.items:
        e = item.expected[key]
        table.add_row(
            item.account,
            item.format,
            item.tier,
            item.niche,
            item.country,
            f"{item.price.mean:,.0f} ({item.price.low:,.0f}–{item.price.high:,.0f})",
            f"{e.mean:,.1f} ({e.low:,.0f}–{e.high:,.0f})",
        )
    console.print(table)
    for outcome in (result.plan, result.single_creator, result.unconstrained):
        if outcome is not None:
            _line(outcome, key)
    s = result.solver
    gap = "" if s.gap is None else f", gap {s.gap:.2%}"
    console.print(f"solver: {s.status}, {s.options:,} options, {s.seconds:.2f} s{gap}")
    console.print(f"prices: {result.price_basis}; forecasts: {result.forecast_basis}")
    for note in result.notes:
        console.print(f"note: {note}")


def _line(outcome: PlanOutcome, key: str) -> None:
    t = outcome.totals[key]
    p = "n/a" if outcome.p_roi_positive is None else f"{outcome.p_roi_positive:.0%}"
    console.print(
        f"[bold]{outcome.name}[/]: {len(outcome.items)} creators, cost {outcome.cost:,.2f}, "
        f"{key} {t.mean:,.1f} (90 %: {t.low:,.0f}–{t.high:,.0f}), P(ROI > 0) {p}"
    )
