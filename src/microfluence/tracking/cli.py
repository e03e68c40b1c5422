"""`microfluence deliverables` (a campaign's deliverables, matched to posts automatically or by
hand; here, in tracking, because the matcher reads the creators' links and codes), `microfluence
utm` and `microfluence links create|list|disable`."""

from __future__ import annotations

from typing import Annotated, Any

import typer
from rich.table import Column, Table

from microfluence.campaigns.campaigns import find_campaign_by_name
from microfluence.campaigns.deliverables import (
    ROW_COLUMNS,
    as_row,
    assign_post,
    confirm_deliverable,
    list_deliverables,
    reject_match,
)
from microfluence.catalog.accounts import find_account_by_reference
from microfluence.kernel.console import (
    DEFAULT_WS,
    DatabaseUrlOpt,
    WorkspaceOpt,
    console,
    friendly_errors,
    print_json,
    workspace_transaction,
)
from microfluence.tracking import links
from microfluence.tracking.deliverables import match_deliverables
from microfluence.tracking.utm import tag_url

deliverables_app = typer.Typer(
    help="Deliverables: each piece a deal asks for, and the post that delivered it.",
    no_args_is_help=True,
)
CampaignArg = Annotated[str, typer.Argument(help="The campaign's name.")]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print the result as JSON.")]
PieceArg = Annotated[int, typer.Argument(help="The deliverable's id (deliverables list).")]


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


links_app = typer.Typer(
    help="Short links of creators (/r/SLUG) and their click counts.", no_args_is_help=True
)


@friendly_errors
def utm(
    url: Annotated[str, typer.Argument(help="The http(s) URL to tag.")],
    source: Annotated[str, typer.Option(help="utm_source: where visitors come from.")],
    medium: Annotated[str, typer.Option(help="utm_medium: the kind of channel.")],
    campaign: Annotated[str, typer.Option(help="utm_campaign: the campaign's name.")],
    content: Annotated[str | None, typer.Option(help="utm_content: which link or ad.")] = None,
    term: Annotated[str | None, typer.Option(help="utm_term: a keyword.")] = None,
    id_: Annotated[str | None, typer.Option("--id", help="utm_id: the campaign's id.")] = None,
) -> None:
    """Tag a URL with Google Analytics UTM parameters; the tagged URL is the last line."""
    tagged = tag_url(
        url, source=source, medium=medium, campaign=campaign, content=content, term=term, id=id_
    )
    typer.echo(tagged)  # plain, never wrapped: scripts take the last line


def _overrides(**values: str | None) -> dict[str, str]:
    return {k: v for k, v in values.items() if v is not None}


@links_app.command("create")
@friendly_errors
def create(
    creator: Annotated[str, typer.Option(help="The creator's account, PLATFORM:HANDLE.")],
    url: Annotated[str, typer.Option(help="Where the link goes (http or https).")],
    campaign: Annotated[str | None, typer.Option(help="A campaign's name.")] = None,
    workspace: WorkspaceOpt = DEFAULT_WS,
    source: Annotated[str | None, typer.Option(help="utm_source (default: platform).")] = None,
    medium: Annotated[str | None, typer.Option(help="utm_medium (default: influencer).")] = None,
    utm_campaign: Annotated[
        str | None, typer.Option(help="utm_campaign (default: the campaign's name as a slug).")
    ] = None,
    content: Annotated[str | None, typer.Option(help="utm_content (default: handle).")] = None,
    term: Annotated[str | None, typer.Option(help="utm_term (default: none).")] = None,
    database_url: DatabaseUrlOpt = None,
) -> None:
    """Create a creator's short link; its URL is the last line printed."""
    overrides = _overrides(
        source=source, medium=medium, campaign=utm_campaign, content=content, term=term
    )
    data = links.LinkCreate(creator=creator, url=url, campaign=campaign, utm=overrides)
    with workspace_transaction(database_url, workspace) as (session, ws):
        link = links.create_link(session, ws.id, data)
    console.print(f"link {link.id} to {link.destination}", highlight=False, soft_wrap=True)
    typer.echo(link.short_url)


@links_app.command("list")
@friendly_errors
def list_(
    workspace: WorkspaceOpt = DEFAULT_WS,
    creator: Annotated[
        str | None, typer.Option(help="Only this creator's links (PLATFORM:HANDLE).")
    ] = None,
    campaign: Annotated[str | None, typer.Option(help="Only this campaign's links.")] = None,
    database_url: DatabaseUrlOpt = None,
) -> None:
    """List the links with their clicks (people), unique clicks and bot clicks."""
    with workspace_transaction(database_url, workspace) as (session, ws):
        creator_id = (
            find_account_by_reference(session, ws.id, creator).creator_id if creator else None
        )
        campaign_id = links.find_campaign(session, ws.id, campaign).id if campaign else None
        rows = links.list_links(session, ws.id, creator_id=creator_id, campaign_id=campaign_id)
    table = Table(
        "id",
        Column("slug", no_wrap=True, min_width=10),
        Column("destination", overflow="fold"),
        "clicks",
        "unique",
        "bots",
        "status",
        caption=f"short URLs: {links.public_base()}/r/SLUG",
    )
    for link in rows:
        status = "disabled" if link.disabled_at else "active"
        table.add_row(
            str(link.id),
            link.slug,
            link.destination,
            str(link.clicks),
            str(link.unique_clicks),
            str(link.bot_clicks),
            status,
        )
    console.print(table)


@links_app.command("disable")
@friendly_errors
def disable(
    link: Annotated[str, typer.Argument(help="The link's id or slug.")],
    workspace: WorkspaceOpt = DEFAULT_WS,
    database_url: DatabaseUrlOpt = None,
) -> None:
    """Stop a link redirecting (its clicks are kept; /r/SLUG answers 404)."""
    ref: int | str = int(link) if link.isdigit() else link
    with workspace_transaction(database_url, workspace) as (session, ws):
        result = links.disable_link(session, ws.id, ref)
    console.print(f"link {result.id} ({result.slug}) disabled", highlight=False)
