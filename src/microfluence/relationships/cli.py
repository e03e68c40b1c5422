"""`microfluence relations …`: the relationship record kept on each creator — contact details,
tags, rating, do-not-contact, long-term partners and their perks, the deals with spend and
results, erasure on request and the contact audit log."""

from __future__ import annotations

import json
from typing import Annotated, Any

import typer
from pydantic import BaseModel
from rich.table import Table

from microfluence.catalog.listing import MAX_LIMIT, Window
from microfluence.kernel.console import (
    DEFAULT_WS,
    DatabaseUrlOpt,
    WorkspaceOpt,
    console,
    friendly_errors,
    workspace_transaction,
)
from microfluence.kernel.errors import InputError
from microfluence.relationships import records
from microfluence.relationships.audit import audit_log, command_line_actor
from microfluence.relationships.contact import lift_do_not_contact
from microfluence.relationships.history import DealHistory, deals_with_results
from microfluence.relationships.partners import set_partner
from microfluence.relationships.privacy import erase_creator
from microfluence.relationships.records import RelationRecord

relations_app = typer.Typer(
    help="The record kept on each creator: contact, tags, rating, do-not-contact, partners, "
    "deals with results, erasure and the contact audit log.",
    no_args_is_help=True,
)
CreatorArg = Annotated[
    str, typer.Argument(help="The creator's id, or PLATFORM:HANDLE of one of their accounts.")
]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print the result as JSON.")]
ReasonOpt = Annotated[str, typer.Option("--reason", help="Why (kept in the audit log).")]


def _print_json(model: BaseModel) -> None:
    console.print_json(model.model_dump_json())


def _money(value: Any) -> str:
    return "–" if value is None else f"{value:,.2f}"


def _print_record(record: RelationRecord) -> None:
    table = Table("field", "value", title=f"creator {record.creator_id}", show_header=False)
    address = ", ".join(f"{v}" for v in record.address.values())
    perks = record.perks
    rows = [
        ("name", record.name or ""),
        ("email", record.email or ""),
        ("phone", record.phone or ""),
        ("address", address),
        ("accounts", ", ".join(f"{a.platform}:{a.handle}" for a in record.accounts)),
        ("notes", record.notes or ""),
        ("tags", ", ".join(record.tags)),
        ("rating", str(record.rating or "")),
        (
            "do not contact",
            f"yes, since {record.do_not_contact_at:%Y-%m-%d}: {record.do_not_contact_reason}"
            if record.do_not_contact and record.do_not_contact_at
            else "no",
        ),
        (
            "partner",
            f"since {record.partner_since}" if record.partner else "no",
        ),
        (
            "perks",
            "; ".join(
                p
                for p in (
                    f"code {perks.code}" if perks.code else "",
                    "early access" if perks.early_access else "",
                    perks.note or "",
                )
                if p
            ),
        ),
    ]
    if record.erased_at:
        rows.append(("erased", f"{record.erased_at:%Y-%m-%d %H:%M} UTC"))
    for name, value in rows:
        table.add_row(name, value)
    console.print(table)


def _print_history(history: DealHistory) -> None:
    table = Table(
        "deal", "campaign", "stage", "cost", "net revenue", "ROI", "orders", "clicks", title="deals"
    )
    for d in history.deals:
        roi = "–" if d.roi is None else f"{100 * d.roi:.0f} %"
        table.add_row(
            str(d.deal_id),
            d.campaign,
            d.stage,
            _money(d.cost),
            _money(d.net_revenue),
            roi,
            str(d.orders),
            str(d.unique_clicks),
        )
    console.print(table)
    t = history.totals
    roi = "–" if t.roi is None else f"{100 * t.roi:.0f} %"
    console.print(
        f"{t.deals} deals; cost {_money(t.cost)}, net revenue {_money(t.net_revenue)}, ROI {roi}"
        f" ({', '.join(t.currencies) or 'no currency'})",
        highlight=False,
    )


@relations_app.command("show")
@friendly_errors
def show(
    creator: CreatorArg,
    as_json: JsonOpt = False,
    workspace: WorkspaceOpt = DEFAULT_WS,
    database_url: DatabaseUrlOpt = None,
) -> None:
    """The creator's record and their deals with spend and results (the view is logged)."""
    with workspace_transaction(database_url, workspace) as (session, ws):
        cid = records.creator_id_of(session, ws.id, creator)
        record = records.get_record(session, ws.id, cid, command_line_actor())
        history = deals_with_results(session, ws, cid)
    if as_json:
        console.print_json(
            json.dumps(
                {
                    "record": record.model_dump(mode="json"),
                    "history": history.model_dump(mode="json"),
                }
            )
        )
        return
    _print_record(record)
    _print_history(history)


def _address(pairs: list[str] | None) -> dict[str, str] | None:
    if pairs is None:
        return None
    address = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep:
            raise InputError(f"expected FIELD=VALUE, got {pair!r}", field="address")
        address[key.strip()] = value
    return address


@relations_app.command("set")
@friendly_errors
def set_fields(  # noqa: PLR0913 - one option per field
    creator: CreatorArg,
    email: Annotated[str | None, typer.Option("--email", help="E-mail; '' clears it.")] = None,
    phone: Annotated[str | None, typer.Option("--phone", help="Phone; '' clears it.")] = None,
    address: Annotated[
        list[str] | None,
        typer.Option("--address", help="FIELD=VALUE, repeatable (line1, city, postal_code…)."),
    ] = None,
    notes: Annotated[str | None, typer.Option("--notes", help="Notes; '' clears them.")] = None,
    rating: Annotated[str | None, typer.Option("--rating", help="1 to 5; '' clears it.")] = None,
    workspace: WorkspaceOpt = DEFAULT_WS,
    database_url: DatabaseUrlOpt = None,
) -> None:
    """Change contact details, notes or rating; all are checked before any is written."""
    given = {
        "email": email,
        "phone": phone,
        "notes": notes,
        "rating": rating,
        "address": _address(address),
    }
    changes = {k: (v if v != "" else None) for k, v in given.items() if v is not None}
    with workspace_transaction(database_url, workspace) as (session, ws):
        cid = records.creator_id_of(session, ws.id, creator)
        record = records.update_record(session, ws.id, cid, changes, command_line_actor())
    _print_record(record)


@relations_app.command("tag")
@friendly_errors
def tag(
    creator: CreatorArg,
    add: Annotated[
        list[str] | None, typer.Option("--add", help="A tag to add; repeatable.")
    ] = None,
    remove: Annotated[
        list[str] | None, typer.Option("--remove", help="A tag to remove; repeatable.")
    ] = None,
    workspace: WorkspaceOpt = DEFAULT_WS,
    database_url: DatabaseUrlOpt = None,
) -> None:
    """Add and remove tags (normalised: '#Summer Gifting' is summer-gifting)."""
    with workspace_transaction(database_url, workspace) as (session, ws):
        cid = records.creator_id_of(session, ws.id, creator)
        record = records.tag_creator(
            session, ws.id, cid, command_line_actor(), add=add or [], remove=remove or []
        )
    console.print(f"tags: {', '.join(record.tags) or '(none)'}", highlight=False)


@relations_app.command("list")
@friendly_errors
def list_relations(  # noqa: PLR0913 - one option per filter
    tag_: Annotated[
        list[str] | None, typer.Option("--tag", help="Has this tag; repeatable (all of them).")
    ] = None,
    partner: Annotated[
        bool | None, typer.Option("--partner/--not-partner", help="Partners only, or none.")
    ] = None,
    dnc: Annotated[
        bool | None, typer.Option("--dnc/--contactable", help="Do-not-contact only, or none.")
    ] = None,
    min_rating: Annotated[int | None, typer.Option("--min-rating", help="1 to 5.")] = None,
    as_json: JsonOpt = False,
    workspace: WorkspaceOpt = DEFAULT_WS,
    database_url: DatabaseUrlOpt = None,
) -> None:
    """Creators with a record, filtered by tags, partner status, do-not-contact and rating."""
    with workspace_transaction(database_url, workspace) as (session, ws):
        page = records.list_records(
            session,
            ws.id,
            tags=tag_ or [],
            partner=partner,
            do_not_contact=dnc,
            min_rating=min_rating,
            window=Window(limit=MAX_LIMIT),
        )
    if as_json:
        _print_json(page)
        return
    table = Table("id", "name", "tags", "rating", "partner", "do not contact")
    for r in page.data:
        table.add_row(
            str(r.creator_id),
            r.name or "",
            ", ".join(r.tags),
            str(r.rating or ""),
            "yes" if r.partner else "",
            "yes" if r.do_not_contact else "",
        )
    console.print(table)


@relations_app.command("dnc")
@friendly_errors
def dnc(
    creator: CreatorArg,
    reason: ReasonOpt,
    workspace: WorkspaceOpt = DEFAULT_WS,
    database_url: DatabaseUrlOpt = None,
) -> None:
    """Mark the creator do-not-contact; every sending face honours it."""
    with workspace_transaction(database_url, workspace) as (session, ws):
        cid = records.creator_id_of(session, ws.id, creator)
        records.mark_do_not_contact(session, ws.id, cid, reason, command_line_actor())
    console.print(f"creator {cid} is do-not-contact", highlight=False)


@relations_app.command("lift")
@friendly_errors
def lift(
    creator: CreatorArg,
    reason: ReasonOpt,
    workspace: WorkspaceOpt = DEFAULT_WS,
    database_url: DatabaseUrlOpt = None,
) -> None:
    """Let the creator be contacted again (the command line acts as an owner)."""
    with workspace_transaction(database_url, workspace) as (session, ws):
        cid = records.creator_id_of(session, ws.id, creator)
        lift_do_not_contact(
            session, ws.id, cid, reason=reason, role="owner", actor=command_line_actor()
        )
    console.print(f"creator {cid} may be contacted again", highlight=False)


@relations_app.command("partner")
@friendly_errors
def partner(  # noqa: PLR0913 - one option per perk
    creator: CreatorArg,
    end: Annotated[bool, typer.Option("--end", help="End the partnership.")] = False,
    since: Annotated[str | None, typer.Option("--since", help="YYYY-MM-DD (today).")] = None,
    code: Annotated[str | None, typer.Option("--code", help="One of their codes.")] = None,
    new_code: Annotated[
        bool, typer.Option("--new-code", help="Make them an exclusive code.")
    ] = False,
    kind: Annotated[str, typer.Option("--kind", help="percent, amount or shipping.")] = "percent",
    value: Annotated[str | None, typer.Option("--value", help="15 = 15 % or 15.00 off.")] = None,
    early_access: Annotated[
        bool | None, typer.Option("--early-access/--no-early-access", help="Early access.")
    ] = None,
    note: Annotated[str | None, typer.Option("--note", help="Other perks, free text.")] = None,
    workspace: WorkspaceOpt = DEFAULT_WS,
    database_url: DatabaseUrlOpt = None,
) -> None:
    """Make the creator a long-term partner with perks (or --end it)."""
    with workspace_transaction(database_url, workspace) as (session, ws):
        cid = records.creator_id_of(session, ws.id, creator)
        record = set_partner(
            session,
            ws.id,
            cid,
            command_line_actor(),
            partner=not end,
            since=since,
            code=code,
            new_code={"kind": kind, "value": value} if new_code else None,
            early_access=early_access,
            note=note,
        )
    _print_record(record)


@relations_app.command("history")
@friendly_errors
def history(
    creator: CreatorArg,
    as_json: JsonOpt = False,
    workspace: WorkspaceOpt = DEFAULT_WS,
    database_url: DatabaseUrlOpt = None,
) -> None:
    """The creator's deals across campaigns with cost, revenue and ROI."""
    with workspace_transaction(database_url, workspace) as (session, ws):
        cid = records.creator_id_of(session, ws.id, creator)
        result = deals_with_results(session, ws, cid)
    if as_json:
        _print_json(result)
        return
    _print_history(result)


@relations_app.command("audit")
@friendly_errors
def audit(
    creator: Annotated[
        str | None, typer.Option("--creator", help="Id or PLATFORM:HANDLE: one creator's.")
    ] = None,
    action: Annotated[
        str | None,
        typer.Option("--action", help="view, change, export, erase or lift_do_not_contact."),
    ] = None,
    limit: Annotated[int, typer.Option("--limit", help="Entries, newest first.")] = 100,
    as_json: JsonOpt = False,
    workspace: WorkspaceOpt = DEFAULT_WS,
    database_url: DatabaseUrlOpt = None,
) -> None:
    """Who viewed or changed contact data, when and through which face."""
    with workspace_transaction(database_url, workspace) as (session, ws):
        cid = records.creator_id_of(session, ws.id, creator) if creator else None
        page = audit_log(session, ws.id, creator_id=cid, action=action, window=Window(limit=limit))
    if as_json:
        _print_json(page)
        return
    table = Table("when (UTC)", "creator", "who", "via", "action", "fields", "reason")
    for e in page.data:
        table.add_row(
            f"{e.at:%Y-%m-%d %H:%M}",
            str(e.creator_id or ""),
            f"{e.actor or ''} ({e.actor_kind})",
            e.via,
            e.action,
            ", ".join(e.fields),
            e.reason or "",
        )
    console.print(table)


@relations_app.command("erase")
@friendly_errors
def erase(
    creator: CreatorArg,
    reason: ReasonOpt,
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Do not ask for confirmation.")] = False,
    workspace: WorkspaceOpt = DEFAULT_WS,
    database_url: DatabaseUrlOpt = None,
) -> None:
    """Erase the creator's personal data on request; deals and KPIs are kept, anonymised."""
    with workspace_transaction(database_url, workspace) as (session, ws):
        cid = records.creator_id_of(session, ws.id, creator)
        if not yes and not typer.confirm(f"Erase the personal data of creator {cid}?"):
            raise typer.Exit(1)
        report = erase_creator(session, ws.id, cid, command_line_actor(), reason=reason)
    if report.already_erased:
        console.print(f"creator {cid} was already erased", highlight=False)
        return
    console.print(
        f"erased creator {cid}; {report.deals_kept} deals kept, anonymised", highlight=False
    )
