"""`microfluence pipeline …`: a campaign's deals by stage, moving them, a deal's history, the
pipeline's statistics, and adding creators as prospects — over the services the API and the
pages call (relationships.pipeline, .pipeline_stats, .prospects)."""

from __future__ import annotations

import getpass
from typing import Annotated

import typer
from rich.table import Table

from microfluence.campaigns.campaigns import find_campaign_by_name
from microfluence.campaigns.deals import find_deal_by_reference
from microfluence.kernel.console import (
    DEFAULT_WS,
    DatabaseUrlOpt,
    WorkspaceOpt,
    console,
    friendly_errors,
    print_json,
    workspace_transaction,
)
from microfluence.relationships import pipeline, prospects
from microfluence.relationships.pipeline_stats import pipeline_stats
from microfluence.relationships.schemas import Board, Card, Event, Stats

pipeline_app = typer.Typer(
    help="The pipeline of a campaign: deals by stage, moves, history, statistics, prospects.",
    no_args_is_help=True,
)

CampaignArg = Annotated[str, typer.Argument(help="The campaign's name.")]
CreatorsArg = Annotated[
    list[str], typer.Argument(help="PLATFORM:HANDLE of an account of each creator.")
]
CreatorArg = Annotated[
    str, typer.Argument(help="PLATFORM:HANDLE of one of the creator's accounts.")
]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print the result as JSON.")]
ByOpt = Annotated[
    str | None,
    typer.Option("--by", help="Who is recorded as doing it (default: cli:YOUR-LOGIN)."),
]


def _by(by: str | None) -> str:
    return (by or f"cli:{getpass.getuser()}")[:320]


def _cards_table(cards: list[Card], currency: str) -> Table:
    table = Table("deal", "creator", "account", "stage", "days in stage", "fee")
    for c in cards:
        table.add_row(
            str(c.deal_id),
            c.creator_name or "",
            c.account or "–",
            c.stage,
            f"{c.days_in_stage:.1f}",
            f"{c.flat_fee} {currency}" if c.has_fee else "–",
        )
    return table


def _print_board(shown: Board) -> None:
    console.print(f"[bold]{shown.campaign_name}[/]: {len(shown.cards)} deal(s)", highlight=False)
    for column in shown.columns:
        if not column.cards:
            continue
        names = ", ".join(
            f"{c.creator_name or c.account or c.deal_id} ({c.days_in_stage:.0f} d)"
            for c in column.cards
        )
        console.print(f"  [bold]{column.stage}[/] {len(column.cards)}: {names}", highlight=False)


@pipeline_app.command("show")
@friendly_errors
def show(
    campaign: CampaignArg,
    as_list: Annotated[
        bool, typer.Option("--list", help="One table of every deal instead of the columns.")
    ] = False,
    sort: Annotated[
        str, typer.Option("--sort", help="With --list: stage, creator, days or fee; -KEY reverses.")
    ] = "stage",
    as_json: JsonOpt = False,
    workspace: WorkspaceOpt = DEFAULT_WS,
    database_url: DatabaseUrlOpt = None,
) -> None:
    """The campaign's deals by stage, with days in the stage."""
    with workspace_transaction(database_url, workspace) as (session, ws):
        found = find_campaign_by_name(session, ws.id, campaign)
        if as_list:
            cards = pipeline.pipeline_cards(session, ws.id, found.id, sort=sort)
        else:
            shown = pipeline.board(session, ws.id, found.id)
    if as_list:
        print_json(cards) if as_json else console.print(_cards_table(cards, found.currency))
        return
    print_json(shown) if as_json else _print_board(shown)


@pipeline_app.command("move")
@friendly_errors
def move(
    campaign: CampaignArg,
    creators: CreatorsArg,
    to: Annotated[str, typer.Option("--to", help="The stage to move them to.")],
    by: ByOpt = None,
    as_json: JsonOpt = False,
    workspace: WorkspaceOpt = DEFAULT_WS,
    database_url: DatabaseUrlOpt = None,
) -> None:
    """Move the deals of these creators to a stage: all of them, or none."""
    with workspace_transaction(database_url, workspace) as (session, ws):
        found = find_campaign_by_name(session, ws.id, campaign)
        done = pipeline.move(session, ws.id, found.id, to, creators=creators, actor=_by(by))
    if as_json:
        print_json(done)
        return
    console.print(
        f"moved {len(done.moved)} deal(s) to [bold]{done.stage}[/]"
        + (f"; {len(done.unchanged)} already there" if done.unchanged else ""),
        highlight=False,
    )


def _print_history(events: list[Event]) -> None:
    table = Table("when (UTC)", "what", "who")
    for e in events:
        what = f"{e.from_stage or '–'} → {e.to_stage}" if e.kind == "stage" else e.kind
        if e.kind == "added":
            what = f"added as {e.to_stage}"
        table.add_row(e.at.strftime("%Y-%m-%d %H:%M"), what, f"{e.actor or '–'} ({e.actor_kind})")
    console.print(table)


@pipeline_app.command("history")
@friendly_errors
def history(
    campaign: CampaignArg,
    creator: CreatorArg,
    as_json: JsonOpt = False,
    workspace: WorkspaceOpt = DEFAULT_WS,
    database_url: DatabaseUrlOpt = None,
) -> None:
    """The history of the creator's deal in the campaign: every move, who and when."""
    with workspace_transaction(database_url, workspace) as (session, ws):
        found = find_campaign_by_name(session, ws.id, campaign)
        deal = find_deal_by_reference(session, ws.id, found.id, creator)
        events = pipeline.history(session, ws.id, found.id, deal.id)
    print_json(events) if as_json else _print_history(events)


def _days(value: float | None) -> str:
    return "–" if value is None else f"{value:.1f}"


def _print_stats(stats: Stats) -> None:
    table = Table("stage", "deals now", "reached", "stays", "median days", "mean days")
    for s in stats.stages:
        reached = stats.reached.get(s.stage)
        table.add_row(
            s.stage,
            str(s.deals),
            "–" if reached is None else str(reached),
            f"{s.stays} ({s.open_stays} open)",
            _days(s.median_days),
            _days(s.mean_days),
        )
    console.print(table)
    for c in stats.conversions:
        rate = "–" if c.rate is None else f"{100 * c.rate:.1f} %"
        console.print(
            f"{c.from_stage} → {c.to_stage}: {rate} ({c.reached_to}/{c.reached_from})",
            highlight=False,
        )
    paid = "–" if stats.reached_paid is None else f"{100 * stats.reached_paid:.1f} %"
    console.print(f"reached paid: {paid} of {stats.deals} deal(s)", highlight=False)


@pipeline_app.command("stats")
@friendly_errors
def stats(
    campaign: CampaignArg,
    as_json: JsonOpt = False,
    workspace: WorkspaceOpt = DEFAULT_WS,
    database_url: DatabaseUrlOpt = None,
) -> None:
    """Deals per stage, time in stage and conversion between stages (docs/relationships.md)."""
    with workspace_transaction(database_url, workspace) as (session, ws):
        found = find_campaign_by_name(session, ws.id, campaign)
        computed = pipeline_stats(session, ws.id, found.id)
    print_json(computed) if as_json else _print_stats(computed)


@pipeline_app.command("add")
@friendly_errors
def add(
    campaign: CampaignArg,
    creators: CreatorsArg,
    by: ByOpt = None,
    as_json: JsonOpt = False,
    workspace: WorkspaceOpt = DEFAULT_WS,
    database_url: DatabaseUrlOpt = None,
) -> None:
    """Add creators to the campaign as prospects (no fee yet); those already in it are listed."""
    with workspace_transaction(database_url, workspace) as (session, ws):
        found = find_campaign_by_name(session, ws.id, campaign)
        done = prospects.add_prospects(
            session, ws.id, found.id, creators=creators, actor=_by(by), source="cli"
        )
    if as_json:
        print_json(done)
        return
    console.print(f"added {len(done.added)} prospect(s) to [bold]{found.name}[/]", highlight=False)
    for p in done.already:
        console.print(f"already in the campaign: {p.creator_name or p.creator_id}", highlight=False)
