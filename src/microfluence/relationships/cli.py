"""`microfluence gifts|portal-links|submissions`: a deal's gifts, its creator-portal links and
the drafts and live posts submitted for review, from the command line. A deal is named by its
campaign and one of its creator's accounts (PLATFORM:HANDLE), as in `microfluence deals`."""

from __future__ import annotations

import json
from typing import Annotated, Any

import typer
from pydantic import BaseModel
from rich.table import Table
from sqlalchemy.orm import Session

from microfluence.campaigns.campaigns import find_campaign_by_name
from microfluence.campaigns.deals import find_deal_by_reference
from microfluence.campaigns.schemas import parse_model
from microfluence.kernel.console import (
    DEFAULT_WS,
    DatabaseUrlOpt,
    WorkspaceOpt,
    console,
    friendly_errors,
    workspace_transaction,
)
from microfluence.kernel.errors import InputError
from microfluence.relationships import gifting, portal, submissions
from microfluence.tracking.links import public_base

gifts_app = typer.Typer(
    help="Gifts: products sent to a creator under a deal, and their shipping.",
    no_args_is_help=True,
)
portal_app = typer.Typer(
    help="Creator-portal links: make (the URL shown once), list, revoke.", no_args_is_help=True
)
submissions_app = typer.Typer(
    help="Drafts and live posts creators submitted: list and review.", no_args_is_help=True
)

CampaignArg = Annotated[str, typer.Argument(help="The campaign's name.")]
CreatorArg = Annotated[
    str, typer.Argument(help="PLATFORM:HANDLE of one of the creator's accounts.")
]
GiftArg = Annotated[int, typer.Argument(help="The gift's id (gifts list).")]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print the result as JSON.")]
ActorOpt = Annotated[
    str | None, typer.Option("--by", help="Who did it, for the deal's history (your email).")
]
Carrier = Annotated[str | None, typer.Option("--carrier", help="The carrier, e.g. DHL.")]
TrackingOpt = Annotated[str | None, typer.Option("--tracking", help="The tracking number.")]
AddressOpt = Annotated[
    list[str] | None,
    typer.Option(
        "--address",
        help="FIELD=VALUE, repeatable: name, line1, line2, city, region, postal_code, country "
        "(2 letters), phone.",
    ),
]


def print_json(value: Any) -> None:
    if isinstance(value, BaseModel):
        value = value.model_dump(mode="json")
    elif isinstance(value, list):
        value = [v.model_dump(mode="json") for v in value]
    console.print_json(json.dumps(value))


def _deal(session: Session, workspace_id: int, campaign: str, creator: str) -> tuple[int, int]:
    found = find_campaign_by_name(session, workspace_id, campaign)
    return found.id, find_deal_by_reference(session, workspace_id, found.id, creator).id


def print_gifts(rows: list[gifting.GiftPublic]) -> None:
    table = Table("id", "item", "sku", "qty", "total", "ship to", "carrier", "status")
    for g in rows:
        where = ", ".join(v for k, v in g.address.items() if k in ("city", "country"))
        table.add_row(
            str(g.id),
            g.name,
            g.sku or "",
            str(g.quantity),
            f"{g.total:.2f}",
            where or "–",
            " ".join(x for x in (g.carrier, g.tracking_number) if x) or "–",
            g.status,
        )
    console.print(table)


def _address(pairs: list[str] | None) -> dict[str, str] | None:
    if not pairs:
        return None
    address: dict[str, str] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep:
            raise InputError("expected FIELD=VALUE", field="address", value=pair)
        address[key.strip()] = value
    return address


@gifts_app.command("list")
@friendly_errors
def gifts_list(
    campaign: CampaignArg,
    creator: CreatorArg,
    as_json: JsonOpt = False,
    workspace: WorkspaceOpt = DEFAULT_WS,
    database_url: DatabaseUrlOpt = None,
) -> None:
    """The deal's gifts with their status."""
    with workspace_transaction(database_url, workspace) as (session, ws):
        _cid, deal_id = _deal(session, ws.id, campaign, creator)
        rows = gifting.list_gifts(session, ws.id, deal_id)
    print_json(rows) if as_json else print_gifts(rows)


@gifts_app.command("add")
@friendly_errors
def gifts_add(  # noqa: PLR0913 - one parameter per option
    campaign: CampaignArg,
    creator: CreatorArg,
    sku: Annotated[str | None, typer.Option("--sku", help="A catalogue product's SKU.")] = None,
    name: Annotated[
        str | None, typer.Option("--name", help="An item not in the catalogue.")
    ] = None,
    value: Annotated[str | None, typer.Option("--value", help="Its value (each).")] = None,
    quantity: Annotated[int, typer.Option("--quantity", help="How many.")] = 1,
    address: AddressOpt = None,
    by: ActorOpt = None,
    as_json: JsonOpt = False,
    workspace: WorkspaceOpt = DEFAULT_WS,
    database_url: DatabaseUrlOpt = None,
) -> None:
    """Add a gift to the deal (status requested)."""
    data: dict[str, Any] = {"quantity": quantity, "address": _address(address)}
    data |= {k: v for k, v in {"sku": sku, "name": name, "value": value}.items() if v is not None}
    gift = parse_model(gifting.GiftCreate, data)
    with workspace_transaction(database_url, workspace) as (session, ws):
        _cid, deal_id = _deal(session, ws.id, campaign, creator)
        made = gifting.add_gift(session, ws.id, deal_id, gift, actor=by)
    print_json(made) if as_json else print_gifts([made])


def _status(
    gift_id: int,
    status: str,
    by: str | None,
    database_url: str | None,
    workspace: str,
    **fields: Any,
) -> None:
    data = parse_model(
        gifting.GiftUpdate,
        {"status": status, **{k: v for k, v in fields.items() if v is not None}},
    )
    with workspace_transaction(database_url, workspace) as (session, ws):
        deal_id = gifting.deal_of_gift(session, ws.id, gift_id)
        changed = gifting.update_gift(session, ws.id, deal_id, gift_id, data, actor=by)
    print_gifts([changed])


@gifts_app.command("ship")
@friendly_errors
def gifts_ship(  # noqa: PLR0913 - one parameter per option
    gift_id: GiftArg,
    carrier: Carrier = None,
    tracking: TrackingOpt = None,
    by: ActorOpt = None,
    workspace: WorkspaceOpt = DEFAULT_WS,
    database_url: DatabaseUrlOpt = None,
) -> None:
    """Mark the gift shipped (with its carrier and tracking number): the deal moves to
    product_shipped."""
    _status(
        gift_id, "shipped", by, database_url, workspace, carrier=carrier, tracking_number=tracking
    )


@gifts_app.command("deliver")
@friendly_errors
def gifts_deliver(
    gift_id: GiftArg,
    by: ActorOpt = None,
    workspace: WorkspaceOpt = DEFAULT_WS,
    database_url: DatabaseUrlOpt = None,
) -> None:
    """Mark a shipped gift delivered."""
    _status(gift_id, "delivered", by, database_url, workspace)


@gifts_app.command("return")
@friendly_errors
def gifts_return(
    gift_id: GiftArg,
    by: ActorOpt = None,
    workspace: WorkspaceOpt = DEFAULT_WS,
    database_url: DatabaseUrlOpt = None,
) -> None:
    """Mark a shipped or delivered gift returned (no longer in the deal's cost)."""
    _status(gift_id, "returned", by, database_url, workspace)


@gifts_app.command("cancel")
@friendly_errors
def gifts_cancel(
    gift_id: GiftArg,
    by: ActorOpt = None,
    workspace: WorkspaceOpt = DEFAULT_WS,
    database_url: DatabaseUrlOpt = None,
) -> None:
    """Cancel a gift not yet shipped (no longer in the deal's cost)."""
    _status(gift_id, "cancelled", by, database_url, workspace)


# --- portal links ---------------------------------------------------------------------------


def print_links(rows: list[portal.PortalLinkPublic]) -> None:
    table = Table("id", "made", "by", "expires", "last used", "status")
    for link in rows:
        table.add_row(
            str(link.id),
            f"{link.created_at:%Y-%m-%d %H:%M}",
            link.created_by or "–",
            f"{link.expires_at:%Y-%m-%d %H:%M}",
            f"{link.last_used_at:%Y-%m-%d %H:%M}" if link.last_used_at else "–",
            link.status,
        )
    console.print(table)


@portal_app.command("create")
@friendly_errors
def portal_create(  # noqa: PLR0913 - one parameter per option
    campaign: CampaignArg,
    creator: CreatorArg,
    days: Annotated[
        int | None,
        typer.Option("--days", help="Days the link works (MICROFLUENCE_PORTAL_LINK_DAYS, 30)."),
    ] = None,
    base: Annotated[
        str | None,
        typer.Option("--base-url", help="Where creators reach the app (MICROFLUENCE_PUBLIC_URL)."),
    ] = None,
    by: ActorOpt = None,
    workspace: WorkspaceOpt = DEFAULT_WS,
    database_url: DatabaseUrlOpt = None,
) -> None:
    """A new link to the deal's creator portal. Its URL is printed this once: the store keeps
    only a hash of it."""
    with workspace_transaction(database_url, workspace) as (session, ws):
        _cid, deal_id = _deal(session, ws.id, campaign, creator)
        made = portal.create_portal_link(
            session, ws.id, deal_id, created_by=by, days=days, base=public_base(base)
        )
    console.print(f"portal link {made.id}, until {made.expires_at:%Y-%m-%d %H:%M} UTC:")
    console.print(made.url, highlight=False, soft_wrap=True)


@portal_app.command("list")
@friendly_errors
def portal_list(
    campaign: CampaignArg,
    creator: CreatorArg,
    as_json: JsonOpt = False,
    workspace: WorkspaceOpt = DEFAULT_WS,
    database_url: DatabaseUrlOpt = None,
) -> None:
    """The deal's portal links (never their URL): active, expired or revoked."""
    with workspace_transaction(database_url, workspace) as (session, ws):
        _cid, deal_id = _deal(session, ws.id, campaign, creator)
        rows = portal.list_portal_links(session, ws.id, deal_id)
    print_json(rows) if as_json else print_links(rows)


@portal_app.command("revoke")
@friendly_errors
def portal_revoke(
    campaign: CampaignArg,
    creator: CreatorArg,
    link_id: Annotated[int, typer.Argument(help="The link's id (portal-links list).")],
    workspace: WorkspaceOpt = DEFAULT_WS,
    database_url: DatabaseUrlOpt = None,
) -> None:
    """Stop a portal link working at once."""
    with workspace_transaction(database_url, workspace) as (session, ws):
        _cid, deal_id = _deal(session, ws.id, campaign, creator)
        done = portal.revoke_portal_link(session, ws.id, deal_id, link_id)
    print_links([done])


# --- submissions ----------------------------------------------------------------------------


def print_submissions(rows: list[submissions.SubmissionPublic]) -> None:
    table = Table("id", "creator", "kind", "url", "note", "status", "review")
    for s in rows:
        table.add_row(
            str(s.id),
            s.creator_name or "",
            s.kind,
            s.url,
            (s.note or "")[:40],
            s.status,
            s.review_note or "",
        )
    console.print(table)


@submissions_app.command("list")
@friendly_errors
def submissions_list(
    campaign: CampaignArg,
    status: Annotated[
        str | None, typer.Option("--status", help="pending, approved or changes_requested.")
    ] = None,
    as_json: JsonOpt = False,
    workspace: WorkspaceOpt = DEFAULT_WS,
    database_url: DatabaseUrlOpt = None,
) -> None:
    """The campaign's submissions, oldest first."""
    with workspace_transaction(database_url, workspace) as (session, ws):
        found = find_campaign_by_name(session, ws.id, campaign)
        rows = submissions.list_submissions(session, ws.id, campaign_id=found.id, status=status)
    print_json(rows) if as_json else print_submissions(rows)


@submissions_app.command("review")
@friendly_errors
def submissions_review(  # noqa: PLR0913 - one parameter per option
    campaign: CampaignArg,
    submission_id: Annotated[int, typer.Argument(help="The submission's id.")],
    approve: Annotated[
        bool, typer.Option("--approve/--changes", help="Approve it, or ask for changes.")
    ],
    note: Annotated[str | None, typer.Option("--note", help="A word for the creator.")] = None,
    by: ActorOpt = None,
    workspace: WorkspaceOpt = DEFAULT_WS,
    database_url: DatabaseUrlOpt = None,
) -> None:
    """Review a submission (once). Approving a live post moves the deal to content_live and
    links the imported post with that URL to a deliverable."""
    data = submissions.Review(decision="approved" if approve else "changes_requested", note=note)
    with workspace_transaction(database_url, workspace) as (session, ws):
        found = find_campaign_by_name(session, ws.id, campaign)
        done = submissions.review(session, ws.id, found.id, submission_id, data, reviewer=by)
    print_submissions([done])
