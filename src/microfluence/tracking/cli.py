"""`microfluence deliverables`: a campaign's deliverables, matched to posts automatically or by
hand. Here, in tracking, because the matcher reads the creators' links and codes."""

from __future__ import annotations

import json
from typing import Annotated, Any

import typer
from pydantic import BaseModel
from rich.table import Table

from microfluence.campaigns.campaigns import find_campaign_by_name
from microfluence.campaigns.deliverables import (
    ROW_COLUMNS,
    as_row,
    assign_post,
    confirm_deliverable,
    list_deliverables,
    reject_match,
)
from microfluence.kernel.console import (
    DEFAULT_WS,
    DatabaseUrlOpt,
    WorkspaceOpt,
    console,
    friendly_errors,
    workspace_transaction,
)
from microfluence.tracking.deliverables import match_deliverables

deliverables_app = typer.Typer(
    help="Deliverables: each piece a deal asks for, and the post that delivered it.",
    no_args_is_help=True,
)
CampaignArg = Annotated[str, typer.Argument(help="The campaign's name.")]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print the result as JSON.")]
PieceArg = Annotated[int, typer.Argument(help="The deliverable's id (deliverables list).")]


def print_json(value: Any) -> None:
    if isinstance(value, list):
        value = [v.model_dump(mode="json") for v in value]
    elif isinstance(value, BaseModel):
        value = value.model_dump(mode="json")
    console.print_json(json.dumps(value))


def print_deliverables(pieces: list[Any]) -> None:
    table = Table(*ROW_COLUMNS)
    for piece in pieces:
        table.add_row(*as_row(piece))
    console.print(table)


@deliverables_app.command("list")
@friendly_errors
def deliverables_list(
    campaign: CampaignArg,
    as_json: JsonOpt = False,
    workspace: WorkspaceOpt = DEFAULT_WS,
    database_url: DatabaseUrlOpt = None,
) -> None:
    """Every piece of the campaign: status, post, why it was matched."""
    with workspace_transaction(database_url, workspace) as (session, ws):
        pieces = list_deliverables(
            session, ws.id, find_campaign_by_name(session, ws.id, campaign).id
        )
    print_json(pieces) if as_json else print_deliverables(pieces)


@deliverables_app.command("match")
@friendly_errors
def deliverables_match(
    campaign: CampaignArg,
    as_json: JsonOpt = False,
    workspace: WorkspaceOpt = DEFAULT_WS,
    database_url: DatabaseUrlOpt = None,
) -> None:
    """Match the pending pieces to the creators' posts (hashtags, mentions, links, codes within
    the campaign's dates); confirmed and hand-made matches are kept."""
    with workspace_transaction(database_url, workspace) as (session, ws):
        found = find_campaign_by_name(session, ws.id, campaign)
        summary = match_deliverables(session, ws.id, found.id)
    if as_json:
        print_json(summary)
        return
    if summary.deliverables:
        print_deliverables(summary.deliverables)
    console.print(
        f"{summary.candidates} post(s) in the campaign's dates; matched {summary.matched} "
        f"piece(s); {summary.pending} still pending",
        highlight=False,
    )


@deliverables_app.command("confirm")
@friendly_errors
def deliverables_confirm(
    campaign: CampaignArg,
    deliverable: PieceArg,
    workspace: WorkspaceOpt = DEFAULT_WS,
    database_url: DatabaseUrlOpt = None,
) -> None:
    """Confirm a piece's matched post."""
    with workspace_transaction(database_url, workspace) as (session, ws):
        found = find_campaign_by_name(session, ws.id, campaign)
        piece = confirm_deliverable(session, ws.id, found.id, deliverable)
    print_deliverables([piece])


@deliverables_app.command("assign")
@friendly_errors
def deliverables_assign(
    campaign: CampaignArg,
    deliverable: PieceArg,
    post: Annotated[str, typer.Argument(help="The post's id or URL.")],
    workspace: WorkspaceOpt = DEFAULT_WS,
    database_url: DatabaseUrlOpt = None,
) -> None:
    """Give a piece a post of the deal's creator by hand (confirmed)."""
    with workspace_transaction(database_url, workspace) as (session, ws):
        found = find_campaign_by_name(session, ws.id, campaign)
        piece = assign_post(session, ws.id, found.id, deliverable, post)
    print_deliverables([piece])


@deliverables_app.command("reject")
@friendly_errors
def deliverables_reject(
    campaign: CampaignArg,
    deliverable: PieceArg,
    workspace: WorkspaceOpt = DEFAULT_WS,
    database_url: DatabaseUrlOpt = None,
) -> None:
    """Unlink a piece's post; the matcher never gives that post to this piece again."""
    with workspace_transaction(database_url, workspace) as (session, ws):
        found = find_campaign_by_name(session, ws.id, campaign)
        piece = reject_match(session, ws.id, found.id, deliverable)
    print_deliverables([piece])
