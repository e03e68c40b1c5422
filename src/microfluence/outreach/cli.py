"""`microfluence templates …` and `microfluence outreach …`: message templates, sending a
template to a campaign's creators, replies recorded by hand, sequences, and a run of what is
due — the same service functions as the API and the pages."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from microfluence.kernel.console import (
    DEFAULT_WS,
    DatabaseUrlOpt,
    WorkspaceOpt,
    console,
    friendly_errors,
    store_for,
    workspace_transaction,
)
from microfluence.kernel.errors import InputError
from microfluence.kernel.store import Store
from microfluence.kernel.workspaces import get_workspace
from microfluence.outreach import outbox, sequences
from microfluence.outreach import settings as outreach_settings
from microfluence.outreach import template_records as records
from microfluence.outreach.composing import preview
from microfluence.outreach.replies import mark_replied
from microfluence.outreach.runner import run_outreach, send_campaign
from microfluence.outreach.targets import campaign_of, deal_ids_for
from microfluence.outreach.unsubscribe import links_for

templates_app = typer.Typer(
    help="Message templates: personalised in a sandbox, previewed before anything is sent.",
    no_args_is_help=True,
)
outreach_app = typer.Typer(
    help="Outreach: send templates over SMTP, record replies, run sequences of follow-ups.",
    no_args_is_help=True,
)
sequence_app = typer.Typer(help="Sequences of follow-ups.", no_args_is_help=True)
outreach_app.add_typer(sequence_app, name="sequence")

TemplateArg = Annotated[str, typer.Argument(help="The template's name (or id).")]
CampaignOpt = Annotated[str, typer.Option("--campaign", "-c", help="The campaign (name or id).")]
CreatorsArg = Annotated[
    list[str] | None,
    typer.Argument(help="PLATFORM:HANDLE of the creators; none: every deal of the campaign."),
]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print the result as JSON.")]
MAX_BODY_BYTES = 100_000


def _read(path: Path | None, text: str | None, field: str) -> str | None:
    if path is None:
        return text
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise InputError(f"cannot read it: {exc.strerror}", file=str(path)) from None
    if len(data) > MAX_BODY_BYTES:
        raise InputError(f"larger than {MAX_BODY_BYTES} bytes", file=str(path), field=field)
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise InputError(f"not UTF-8 text (byte {exc.start})", file=str(path)) from None


@contextmanager
def _store_and_workspace(database_url: str | None, workspace: str) -> Iterator[tuple[Store, int]]:
    store = store_for(database_url)
    try:
        with store.session() as session:
            workspace_id = get_workspace(session, workspace).id
        yield store, workspace_id
    finally:
        store.dispose()


# --- templates ------------------------------------------------------------------------------


@templates_app.command("list")
@friendly_errors
def templates_list(
    workspace: WorkspaceOpt = DEFAULT_WS, database_url: DatabaseUrlOpt = None
) -> None:
    """List the workspace's templates."""
    with workspace_transaction(database_url, workspace) as (session, ws):
        rows = [(t.id, t.name, t.subject) for t in records.list_templates(session, ws.id)]
    table = Table("id", "name", "subject")
    for row in rows:
        table.add_row(*(str(v) for v in row))
    console.print(table if rows else "no template yet")


@templates_app.command("add")
@friendly_errors
def templates_add(  # noqa: PLR0913 - one parameter per option
    name: TemplateArg,
    subject: Annotated[str, typer.Option("--subject", help="The subject (a template too).")],
    body: Annotated[str | None, typer.Option("--body", help="The body text.")] = None,
    body_file: Annotated[
        Path | None, typer.Option("--body-file", help="Read the body from this UTF-8 file.")
    ] = None,
    workspace: WorkspaceOpt = DEFAULT_WS,
    database_url: DatabaseUrlOpt = None,
) -> None:
    """Save a template; syntax errors and unknown fields are named with their line."""
    text = _read(body_file, body, "body")
    if text is None:
        raise InputError("give --body or --body-file", field="body")
    with workspace_transaction(database_url, workspace) as (session, ws):
        made = records.add_template(session, ws.id, name=name, subject=subject, body=text)
        line = f"template {made.id}: {made.name}"
    console.print(line)


@templates_app.command("show")
@friendly_errors
def templates_show(
    name: TemplateArg, workspace: WorkspaceOpt = DEFAULT_WS, database_url: DatabaseUrlOpt = None
) -> None:
    """Print a template's subject and body."""
    with workspace_transaction(database_url, workspace) as (session, ws):
        template = records.find_template(session, ws.id, name)
        text = f"Subject: {template.subject}\n\n{template.body}"
    console.print(text, highlight=False, markup=False)


@templates_app.command("preview")
@friendly_errors
def templates_preview(
    name: TemplateArg,
    campaign: CampaignOpt,
    creators: CreatorsArg = None,
    workspace: WorkspaceOpt = DEFAULT_WS,
    database_url: DatabaseUrlOpt = None,
) -> None:
    """Print the message the template makes for creators of a campaign, sending nothing."""
    with _store_and_workspace(database_url, workspace) as (store, ws_id):
        links = links_for(store)
        with store.session() as session:
            template = records.find_template(session, ws_id, name)
            target = campaign_of(session, ws_id, campaign)
            drafts = [
                preview(session, ws_id, deal_id, links, template=template)
                for deal_id in deal_ids_for(session, ws_id, target.id, creators or [])
            ]
    for draft in drafts:
        note = f"  (skipped: {draft.skip_reason})" if draft.skip_reason else ""
        console.print(
            f"To: {draft.to or '–'}{note}\nSubject: {draft.subject}\n\n{draft.body}\n",
            highlight=False,
            markup=False,
        )


@templates_app.command("delete")
@friendly_errors
def templates_delete(
    name: TemplateArg, workspace: WorkspaceOpt = DEFAULT_WS, database_url: DatabaseUrlOpt = None
) -> None:
    """Delete a template (not while a sequence uses it)."""
    with workspace_transaction(database_url, workspace) as (session, ws):
        template = records.find_template(session, ws.id, name)
        records.delete_template(session, ws.id, template.id)
    console.print(f"deleted template {name}")


# --- outreach -------------------------------------------------------------------------------


def _delivery_line(delivery: dict[str, Any] | None) -> str:
    if delivery is None:
        return "dry run: nothing stored or sent"
    line = (
        f"sent {delivery['sent']}, failed {delivery['failed']}, "
        f"skipped {delivery['skipped']}, still queued {delivery['deferred']}"
    )
    return line + (f" ({delivery['error']})" if delivery.get("error") else "")


@outreach_app.command("send")
@friendly_errors
def outreach_send(  # noqa: PLR0913 - one parameter per option
    template: Annotated[str, typer.Option("--template", "-t", help="The template (name or id).")],
    campaign: CampaignOpt,
    creators: CreatorsArg = None,
    stage: Annotated[
        str | None,
        typer.Option("--stage", help="Only the deals at this stage (without creators named)."),
    ] = None,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Render and list; store and send nothing.")
    ] = False,
    as_json: JsonOpt = False,
    workspace: WorkspaceOpt = DEFAULT_WS,
    database_url: DatabaseUrlOpt = None,
) -> None:
    """Send a template to a campaign's creators (all, those named, or those at a stage) within
    the day's limit; creators without an address or do-not-contact are skipped with the
    reason, those over the limit queued for tomorrow."""
    with _store_and_workspace(database_url, workspace) as (store, ws_id):
        result = send_campaign(
            store,
            ws_id,
            links_for(store),
            template=template,
            campaign=campaign,
            creators=creators or [],
            stage=stage,
            actor="cli",
            dry_run=dry_run,
        )
    if as_json:
        console.print_json(json.dumps(result, default=str))
        return
    for message in result["messages"]:
        status = message["outcome"]
        if dry_run and status == "sent":
            status = "would be sent"
        if message["reason"]:
            status += f": {message['reason']}"
        console.print(f"deal {message['deal_id']}  {message['to'] or '–'}  {status}")
    console.print(_delivery_line(result["delivery"]))


@outreach_app.command("replied")
@friendly_errors
def outreach_replied(
    creators: Annotated[list[str], typer.Argument(help="PLATFORM:HANDLE of who replied.")],
    campaign: CampaignOpt,
    note: Annotated[str | None, typer.Option("--note", help="What they said.")] = None,
    workspace: WorkspaceOpt = DEFAULT_WS,
    database_url: DatabaseUrlOpt = None,
) -> None:
    """Record replies: moves the deals from contacted to replied and stops their sequences."""
    with workspace_transaction(database_url, workspace) as (session, ws):
        target = campaign_of(session, ws.id, campaign)
        deal_ids = deal_ids_for(session, ws.id, target.id, creators)
        done = mark_replied(session, ws.id, deal_ids, actor="cli", note=note)
    console.print(
        f"recorded {len(done['deal_ids'])} replies; moved to replied: {len(done['moved'])}"
    )


@outreach_app.command("run")
@friendly_errors
def outreach_run(workspace: WorkspaceOpt = DEFAULT_WS, database_url: DatabaseUrlOpt = None) -> None:
    """Queue the due steps of the workspace's sequences and send what is queued (the
    `outreach` schedule does this in the background)."""
    with _store_and_workspace(database_url, workspace) as (store, ws_id):
        done = run_outreach(store, ws_id, links_for(store))
    steps = done["sequences"]
    console.print(
        f"sequences: {steps['queued']} queued, {steps['replied']} stopped on reply, "
        f"{steps['opted_out']} on opt-out"
    )
    console.print(_delivery_line(done["delivery"]))


@outreach_app.command("outbox")
@friendly_errors
def outreach_outbox(
    status: Annotated[
        str | None, typer.Option("--status", help="queued, sending, sent, failed or skipped.")
    ] = None,
    limit: Annotated[int, typer.Option("--limit", help="Messages shown, newest first.")] = 50,
    as_json: JsonOpt = False,
    workspace: WorkspaceOpt = DEFAULT_WS,
    database_url: DatabaseUrlOpt = None,
) -> None:
    """The outbox, newest first: each message's creator, address, subject and status."""
    with workspace_transaction(database_url, workspace) as (session, ws):
        rows, count = outbox.list_outbox(session, ws.id, status=status, limit=limit)
    if as_json:
        console.print_json(json.dumps({"data": rows, "count": count}, default=str))
        return
    table = Table("id", "creator", "to", "subject", "status", "sent (UTC)", "why")
    for m in rows:
        table.add_row(
            str(m["id"]),
            m["creator"] or "–",
            m["to"] or "–",
            m["subject"],
            m["status"],
            str(m["sent_at"] or "–"),
            m["error"] or "",
        )
    console.print(table)
    console.print(f"{count} messages")


@outreach_app.command("smtp")
@friendly_errors
def outreach_smtp(  # noqa: PLR0913 - one parameter per option
    host: Annotated[str | None, typer.Option("--host", help="The SMTP server.")] = None,
    port: Annotated[int, typer.Option("--port", help="Its port.")] = 587,
    security: Annotated[
        str, typer.Option("--security", help="none, starttls or tls.")
    ] = "starttls",
    username: Annotated[str | None, typer.Option("--username", help="User name.")] = None,
    from_address: Annotated[str | None, typer.Option("--from", help="From address.")] = None,
    from_name: Annotated[str | None, typer.Option("--from-name", help="From name.")] = None,
    reply_to: Annotated[str | None, typer.Option("--reply-to", help="Reply-To address.")] = None,
    daily_limit: Annotated[
        int | None, typer.Option("--daily-limit", help="Messages per UTC day.")
    ] = None,
    password_stdin: Annotated[
        bool, typer.Option("--password-stdin", help="Read the password from standard input.")
    ] = False,
    workspace: WorkspaceOpt = DEFAULT_WS,
    database_url: DatabaseUrlOpt = None,
) -> None:
    """Show the workspace's SMTP server and daily limit, or set them (never the password: it
    is read with --password-stdin, not given as an option shells keep in their history)."""
    password = sys.stdin.readline().rstrip("\r\n") if password_stdin else None
    with workspace_transaction(database_url, workspace) as (session, ws):
        if host is not None:
            raw = {
                "host": host,
                "port": port,
                "security": security,
                "username": username,
                "password": password,
                "from_address": from_address,
                "from_name": from_name,
                "reply_to": reply_to,
            }
            outreach_settings.set_smtp(session, ws, raw)
        if daily_limit is not None:
            outreach_settings.set_daily_limit(session, ws, daily_limit)
        shown = outreach_settings.smtp_public(ws)
    console.print_json(json.dumps(shown, default=str))


# --- sequences ------------------------------------------------------------------------------


@sequence_app.command("add")
@friendly_errors
def sequence_add(
    name: Annotated[str, typer.Argument(help="The sequence's name.")],
    steps: Annotated[
        list[str], typer.Argument(help="TEMPLATE:DAYS per step, days after the previous message.")
    ],
    workspace: WorkspaceOpt = DEFAULT_WS,
    database_url: DatabaseUrlOpt = None,
) -> None:
    """Create a sequence of follow-ups."""
    with workspace_transaction(database_url, workspace) as (session, ws):
        made = sequences.create_sequence(session, ws.id, name, steps)
        line = f"sequence {made.id}: {made.name}, {len(steps)} steps"
    console.print(line)


@sequence_app.command("list")
@friendly_errors
def sequence_list(
    workspace: WorkspaceOpt = DEFAULT_WS, database_url: DatabaseUrlOpt = None
) -> None:
    """List the workspace's sequences."""
    with workspace_transaction(database_url, workspace) as (session, ws):
        shown = [sequences.describe(session, s) for s in sequences.list_sequences(session, ws.id)]
    for s in shown:
        steps = " → ".join(f"{p['template']}(+{p['delay_days']}d)" for p in s["steps"])
        console.print(f"{s['id']}  {s['name']}  {steps}  {s['enrollments']}", highlight=False)


@sequence_app.command("show")
@friendly_errors
def sequence_show(
    name: Annotated[str, typer.Argument(help="The sequence (name or id).")],
    workspace: WorkspaceOpt = DEFAULT_WS,
    database_url: DatabaseUrlOpt = None,
) -> None:
    """A sequence's steps and enrollments."""
    with workspace_transaction(database_url, workspace) as (session, ws):
        shown = sequences.describe(session, sequences.get_sequence(session, ws.id, name))
        rows = [
            (e.deal_id, e.status, e.next_position, e.due_at, e.stopped_reason or "")
            for e in sequences.list_enrollments(session, ws.id, name)
        ]
    for step in shown["steps"]:
        console.print(f"step {step['position']}: {step['template']} +{step['delay_days']} d")
    table = Table("deal", "status", "next step", "due (UTC)", "stopped because")
    for row in rows:
        table.add_row(*(str(v) if v is not None else "–" for v in row))
    console.print(table)


@sequence_app.command("enroll")
@friendly_errors
def sequence_enroll(
    name: Annotated[str, typer.Argument(help="The sequence (name or id).")],
    campaign: CampaignOpt,
    creators: CreatorsArg = None,
    workspace: WorkspaceOpt = DEFAULT_WS,
    database_url: DatabaseUrlOpt = None,
) -> None:
    """Enroll a campaign's deals (all, or the creators named)."""
    with workspace_transaction(database_url, workspace) as (session, ws):
        target = campaign_of(session, ws.id, campaign)
        deal_ids = deal_ids_for(session, ws.id, target.id, creators or [])
        made = sequences.enroll(session, ws.id, name, deal_ids)
    console.print(f"enrolled {len(made)} deals ({len(deal_ids) - len(made)} already were)")


@sequence_app.command("delete")
@friendly_errors
def sequence_delete(
    name: Annotated[str, typer.Argument(help="The sequence (name or id).")],
    workspace: WorkspaceOpt = DEFAULT_WS,
    database_url: DatabaseUrlOpt = None,
) -> None:
    """Delete a sequence and its enrollments."""
    with workspace_transaction(database_url, workspace) as (session, ws):
        sequences.delete_sequence(session, ws.id, name)
    console.print(f"deleted sequence {name}")
