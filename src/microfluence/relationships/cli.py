"""The relationships commands, over the services the API and the pages call:

* `microfluence pipeline …`: a campaign's deals by stage, moving them, a deal's history, the
  pipeline's statistics, and adding creators as prospects (relationships.pipeline,
  .pipeline_stats, .prospects);
* `microfluence relations …`: the record kept on each creator — contact details, tags, rating,
  do-not-contact, partners and their perks, deals with results, erasure, the contact audit log;
* `microfluence gifts|portal-links|submissions …`: a deal's gifts, its creator-portal links
  and the drafts and live posts submitted for review (a deal is named by its campaign and one of
  its creator's accounts, PLATFORM:HANDLE, as in `microfluence deals`);
* `microfluence reminders` and `microfluence tasks …`: what needs attention today, and the
  workspace's tasks (relationships.reminders, .tasks). See docs/relationships.md."""

from __future__ import annotations

import datetime as dt
import getpass
import json
from typing import Annotated, Any

import typer
from rich.table import Table
from sqlalchemy.orm import Session

from microfluence.campaigns.campaigns import find_campaign_by_name
from microfluence.campaigns.deals import find_deal_by_reference
from microfluence.campaigns.schemas import parse_model
from microfluence.catalog.accounts import find_account_by_reference
from microfluence.catalog.listing import MAX_LIMIT, Window
from microfluence.kernel.console import (
    DEFAULT_WS,
    DatabaseUrlOpt,
    WorkspaceOpt,
    console,
    friendly_errors,
    print_json,
    workspace_transaction,
)
from microfluence.kernel.errors import InputError
from microfluence.relationships import (
    gifting,
    pipeline,
    portal,
    prospects,
    records,
    reminder_settings,
    submissions,
)
from microfluence.relationships.audit import audit_log, command_line_actor
from microfluence.relationships.contact import lift_do_not_contact
from microfluence.relationships.history import DealHistory, deals_with_results
from microfluence.relationships.partners import set_partner
from microfluence.relationships.pipeline_stats import pipeline_stats
from microfluence.relationships.privacy import erase_creator
from microfluence.relationships.records import RelationRecord
from microfluence.relationships.reminders import KIND_LABELS, Reminders
from microfluence.relationships.reminders import reminders as find
from microfluence.relationships.schemas import Board, Card, Event, Stats
from microfluence.relationships.tables import TASK_KINDS
from microfluence.relationships.task_schemas import TaskCreate, TaskPublic, TaskUpdate
from microfluence.relationships.tasks import (
    complete_task,
    create_task,
    delete_task,
    list_tasks,
    reopen_task,
    update_task,
)
from microfluence.tracking.links import public_base

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


ACTOR = "command line"
CampaignOpt = Annotated[str | None, typer.Option("--campaign", help="Only this campaign (name).")]
AssigneeOpt = Annotated[
    str | None, typer.Option("--assignee", help="Only tasks assigned to this e-mail address.")
]
TaskArg = Annotated[int, typer.Argument(help="The task's id (see `microfluence tasks list`).")]
KindOpt = Annotated[str | None, typer.Option("--kind", help=", ".join(TASK_KINDS) + ".")]
DueOpt = Annotated[
    str | None,
    typer.Option("--due", help="Due date: YYYY-MM-DD, today, tomorrow or +3d (days from today)."),
]

tasks_app = typer.Typer(
    help="Tasks: follow-ups, shipments, reviews and deliverables, with due dates.",
    no_args_is_help=True,
)


def _day(text: str | None, field: str) -> dt.date | None:
    if text is None:
        return None
    try:
        return dt.date.fromisoformat(text.strip())
    except ValueError:
        raise InputError(f"not a date (YYYY-MM-DD): {text[:40]!r}", field=field) from None


def _campaign_id(session: Session, workspace_id: int, name: str | None) -> int | None:
    return None if name is None else find_campaign_by_name(session, workspace_id, name).id


def _when(days: int) -> str:
    if days > 0:
        return f"{days} day{'s' * (days != 1)} late"
    if days == 0:
        return "due today"
    return f"in {-days} day{'s' * (days != -1)}"


def print_reminders(found: Reminders) -> None:
    if not found.items:
        console.print(f"Nothing needs attention on {found.today}.", highlight=False)
        return
    table = Table("kind", "what", "creator", "campaign", "due", "when", title=str(found.today))
    for item in found.items:
        table.add_row(
            KIND_LABELS[item.kind],
            item.title,
            item.creator_name or "–",
            item.campaign_name or "–",
            str(item.due_on),
            _when(item.days_overdue),
            style="red" if item.overdue else None,
        )
    console.print(table)
    counts = ", ".join(f"{n} {KIND_LABELS[k].lower()}" for k, n in found.counts.items() if n)
    console.print(f"{found.overdue} overdue; {counts}.", highlight=False, soft_wrap=True)


@friendly_errors
def reminders(  # noqa: PLR0913  a command's options are its parameters
    campaign: CampaignOpt = None,
    assignee: AssigneeOpt = None,
    today: Annotated[
        str | None,
        typer.Option("--today", help="As of this day, YYYY-MM-DD (default: today in UTC)."),
    ] = None,
    set_: Annotated[
        list[str] | None,
        typer.Option("--set", help="NAME=DAYS, repeatable: save a threshold for the workspace."),
    ] = None,
    reset: Annotated[
        bool, typer.Option("--reset", help="Forget the workspace's own thresholds first.")
    ] = False,
    as_json: JsonOpt = False,
    workspace: WorkspaceOpt = DEFAULT_WS,
    database_url: DatabaseUrlOpt = None,
) -> None:
    """What needs attention: tasks due, late deliverables, gifts to ship or to check, drafts to
    review, creators to follow up — most overdue first."""
    day = _day(today, "today")
    with workspace_transaction(database_url, workspace) as (session, ws):
        if set_ or reset:
            pairs = reminder_settings.parse_pairs(set_ or [])
            reminder_settings.set_thresholds(session, ws, pairs, reset=reset)
        campaign_id = _campaign_id(session, ws.id, campaign)
        found = find(session, ws.id, today=day, campaign_id=campaign_id, assignee=assignee)
    if as_json:
        print_json(found)
        return
    print_reminders(found)


def print_tasks(tasks: list[TaskPublic]) -> None:
    table = Table("id", "kind", "title", "due", "status", "assignee", "creator", "campaign")
    for t in tasks:
        table.add_row(
            str(t.id),
            t.kind,
            t.title,
            str(t.due_on or "–"),
            t.status,
            t.assignee or "–",
            t.creator_name or "–",
            t.campaign_name or "–",
        )
    console.print(table)


def _show(task: TaskPublic, as_json: bool, verb: str) -> None:
    if as_json:
        print_json(task)
    else:
        console.print(f"Task {task.id} {verb}: {task.title}", highlight=False, soft_wrap=True)


@tasks_app.command("list")
@friendly_errors
def tasks_list(  # noqa: PLR0913  a command's options are its parameters
    status: Annotated[str, typer.Option("--status", help="open, done or all.")] = "open",
    campaign: CampaignOpt = None,
    assignee: AssigneeOpt = None,
    kind: KindOpt = None,
    as_json: JsonOpt = False,
    workspace: WorkspaceOpt = DEFAULT_WS,
    database_url: DatabaseUrlOpt = None,
) -> None:
    """The workspace's tasks, open ones first, soonest due first."""
    with workspace_transaction(database_url, workspace) as (session, ws):
        campaign_id = _campaign_id(session, ws.id, campaign)
        tasks = list_tasks(
            session, ws.id, status=status, campaign_id=campaign_id, assignee=assignee, kind=kind
        )
    print_json(tasks) if as_json else print_tasks(tasks)


def _subject(
    session: Session, workspace_id: int, deal: int | None, campaign: str | None, creator: str | None
) -> dict[str, int | None]:
    """The deal and creator a task is about, from ``--deal ID``, or ``--creator PLATFORM:HANDLE``
    alone (the creator) or with ``--campaign`` (the creator's deal in that campaign)."""
    if deal is not None:
        return {"deal_id": deal}
    if creator is None:
        if campaign is not None:
            raise InputError("name the creator whose deal it is (--creator)", field="creator")
        return {}
    if campaign is not None:
        campaign_id = find_campaign_by_name(session, workspace_id, campaign).id
        return {"deal_id": find_deal_by_reference(session, workspace_id, campaign_id, creator).id}
    account = find_account_by_reference(session, workspace_id, creator)
    return {"creator_id": account.creator_id}


@tasks_app.command("add")
@friendly_errors
def tasks_add(  # noqa: PLR0913  a command's options are its parameters
    title: Annotated[str, typer.Argument(help="What is to be done.")],
    kind: KindOpt = "other",
    due: DueOpt = None,
    deal: Annotated[int | None, typer.Option("--deal", help="The deal's id.")] = None,
    campaign: Annotated[
        str | None, typer.Option("--campaign", help="With --creator: their deal in this campaign.")
    ] = None,
    creator: Annotated[
        str | None, typer.Option("--creator", help="PLATFORM:HANDLE of the creator's account.")
    ] = None,
    assignee: Annotated[
        str | None, typer.Option("--assignee", help="E-mail address of who does it.")
    ] = None,
    as_json: JsonOpt = False,
    workspace: WorkspaceOpt = DEFAULT_WS,
    database_url: DatabaseUrlOpt = None,
) -> None:
    """Add a task, about a deal, a creator, or neither."""
    with workspace_transaction(database_url, workspace) as (session, ws):
        about = _subject(session, ws.id, deal, campaign, creator)
        data = parse_model(
            TaskCreate,
            {"title": title, "kind": kind, "due_on": due, "assignee": assignee, **about},
        )
        task = create_task(session, ws.id, data, actor=ACTOR)
    _show(task, as_json, "added")


@tasks_app.command("edit")
@friendly_errors
def tasks_edit(  # noqa: PLR0913  a command's options are its parameters
    task_id: TaskArg,
    title: Annotated[str | None, typer.Option("--title", help="A new title.")] = None,
    kind: KindOpt = None,
    due: DueOpt = None,
    assignee: Annotated[
        str | None, typer.Option("--assignee", help="E-mail address; an empty text clears it.")
    ] = None,
    as_json: JsonOpt = False,
    workspace: WorkspaceOpt = DEFAULT_WS,
    database_url: DatabaseUrlOpt = None,
) -> None:
    """Change a task's title, kind, due date or assignee (only the options given)."""
    sent = {"title": title, "kind": kind, "due_on": due, "assignee": assignee}
    data = parse_model(TaskUpdate, {k: v for k, v in sent.items() if v is not None})
    with workspace_transaction(database_url, workspace) as (session, ws):
        task = update_task(session, ws.id, task_id, data, actor=ACTOR)
    _show(task, as_json, "changed")


@tasks_app.command("done")
@friendly_errors
def tasks_done(
    task_id: TaskArg,
    as_json: JsonOpt = False,
    workspace: WorkspaceOpt = DEFAULT_WS,
    database_url: DatabaseUrlOpt = None,
) -> None:
    """Mark a task done."""
    with workspace_transaction(database_url, workspace) as (session, ws):
        task = complete_task(session, ws.id, task_id, actor=ACTOR)
    _show(task, as_json, "done")


@tasks_app.command("reopen")
@friendly_errors
def tasks_reopen(
    task_id: TaskArg,
    as_json: JsonOpt = False,
    workspace: WorkspaceOpt = DEFAULT_WS,
    database_url: DatabaseUrlOpt = None,
) -> None:
    """Open a done task again."""
    with workspace_transaction(database_url, workspace) as (session, ws):
        task = reopen_task(session, ws.id, task_id, actor=ACTOR)
    _show(task, as_json, "reopened")


@tasks_app.command("remove")
@friendly_errors
def tasks_remove(
    task_id: TaskArg,
    workspace: WorkspaceOpt = DEFAULT_WS,
    database_url: DatabaseUrlOpt = None,
) -> None:
    """Delete a task (its deal's history keeps a trace of it)."""
    with workspace_transaction(database_url, workspace) as (session, ws):
        delete_task(session, ws.id, task_id, actor=ACTOR)
    console.print(f"Task {task_id} removed.", highlight=False)


relations_app = typer.Typer(
    help="The record kept on each creator: contact, tags, rating, do-not-contact, partners, "
    "deals with results, erasure and the contact audit log.",
    no_args_is_help=True,
)
RecordArg = Annotated[
    str, typer.Argument(help="The creator's id, or PLATFORM:HANDLE of one of their accounts.")
]
ReasonOpt = Annotated[str, typer.Option("--reason", help="Why (kept in the audit log).")]


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


def _print_deal_results(history: DealHistory) -> None:
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
def show_relation(
    creator: RecordArg,
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
    _print_deal_results(history)


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
    creator: RecordArg,
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
    creator: RecordArg,
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
        print_json(page)
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
    creator: RecordArg,
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
    creator: RecordArg,
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
    creator: RecordArg,
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
def relation_history(
    creator: RecordArg,
    as_json: JsonOpt = False,
    workspace: WorkspaceOpt = DEFAULT_WS,
    database_url: DatabaseUrlOpt = None,
) -> None:
    """The creator's deals across campaigns with cost, revenue and ROI."""
    with workspace_transaction(database_url, workspace) as (session, ws):
        cid = records.creator_id_of(session, ws.id, creator)
        result = deals_with_results(session, ws, cid)
    if as_json:
        print_json(result)
        return
    _print_deal_results(result)


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
        print_json(page)
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
    creator: RecordArg,
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

GiftArg = Annotated[int, typer.Argument(help="The gift's id (gifts list).")]
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
