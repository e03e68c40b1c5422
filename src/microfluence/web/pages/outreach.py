"""The outreach pages: templates (edit, with a live preview, and send to a campaign's
creators with a dry run first), the outbox (and replies recorded
by hand, a run now), sequences and their enrollments, and the SMTP settings (owners). Viewers
read; members change; the same service functions as the API and the CLI."""

from __future__ import annotations

from collections import Counter
from typing import Annotated, Any

from fastapi import APIRouter, Form, Path, Query, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse
from sqlalchemy.orm import Session

from microfluence.access.principal import Principal
from microfluence.campaigns.campaigns import find_campaign, list_campaigns
from microfluence.campaigns.tables import STAGES
from microfluence.kernel.errors import InputError
from microfluence.kernel.store.tables import Workspace, utcnow
from microfluence.outreach import outbox, sequences, settings
from microfluence.outreach import template_records as records
from microfluence.outreach.composing import preview
from microfluence.outreach.replies import mark_replied
from microfluence.outreach.runner import run_outreach, send_campaign
from microfluence.outreach.tables import MESSAGE_STATUSES
from microfluence.outreach.targets import campaign_deals, deal_choices, deal_ids_for
from microfluence.outreach.templates import FIELDS
from microfluence.web.api.outreach import actor_of
from microfluence.web.api.templates import message_links
from microfluence.web.deps import (
    CsrfChecked,
    DbSession,
    PageOwner,
    PageReader,
    PageWriter,
    StoreDep,
)
from microfluence.web.pages.rendering import render

router = APIRouter(include_in_schema=False)
Id = Annotated[int, Path(ge=1, le=2**31 - 1)]
Text = Annotated[str, Form(max_length=20_000)]
PAGE = 50


# --- templates ------------------------------------------------------------------------------


@router.get("/templates")
def templates_page(request: Request, db: DbSession, caller: PageReader) -> HTMLResponse:
    return render(
        request,
        db,
        "outreach_templates.html",
        title="Templates",
        templates=records.list_templates(db, caller.workspace_id),
        fields=FIELDS,
    )


@router.post("/templates", dependencies=[CsrfChecked])
def create_template(
    request: Request,
    db: DbSession,
    caller: PageWriter,
    name: Annotated[str, Form(max_length=100)],
    subject: Annotated[str, Form(max_length=300)],
    body: Text,
) -> Any:
    try:
        made = records.add_template(db, caller.workspace_id, name=name, subject=subject, body=body)
    except InputError as exc:
        return render(
            request,
            db,
            "outreach_templates.html",
            status_code=422,
            title="Templates",
            templates=records.list_templates(db, caller.workspace_id),
            fields=FIELDS,
            error=exc.describe(),
            draft={"name": name, "subject": subject, "body": body},
        )
    return RedirectResponse(f"/templates/{made.id}", status_code=303)


def _edit_page(
    request: Request,
    db: Session,
    caller: Principal,
    template: Any,
    *,
    store: Any,
    deal_id: int | None = None,
    **extra: Any,
) -> HTMLResponse:
    shown = None
    problem = None
    if deal_id is not None:
        try:
            shown = preview(
                db, caller.workspace_id, deal_id, message_links(request, store), template=template
            )
        except (InputError, LookupError) as exc:
            problem = str(exc)
    return render(
        request,
        db,
        "outreach_template.html",
        title=f"Template {template.name}",
        item=template,
        deals=deal_choices(db, caller.workspace_id),
        deal_id=deal_id,
        preview=shown,
        preview_error=problem,
        fields=FIELDS,
        scripts=["outreach.js"],
        **extra,
    )


@router.get("/templates/{template_id}")
def template_page(
    request: Request,
    db: DbSession,
    store: StoreDep,
    caller: PageReader,
    template_id: Id,
    deal_id: Annotated[int | None, Query(ge=1, le=2**31 - 1)] = None,
) -> HTMLResponse:
    """A template, its form (members) and its preview for a deal of the workspace."""
    template = records.get_template(db, caller.workspace_id, template_id)
    return _edit_page(request, db, caller, template, store=store, deal_id=deal_id)


@router.post("/templates/{template_id}", dependencies=[CsrfChecked])
def update_template(  # noqa: PLR0913  one parameter per form field
    request: Request,
    db: DbSession,
    store: StoreDep,
    caller: PageWriter,
    template_id: Id,
    name: Annotated[str, Form(max_length=100)],
    subject: Annotated[str, Form(max_length=300)],
    body: Text,
) -> Any:
    try:
        records.update_template(
            db, caller.workspace_id, template_id, name=name, subject=subject, body=body
        )
    except InputError as exc:
        db.rollback()
        template = records.get_template(db, caller.workspace_id, template_id)
        page = _edit_page(
            request,
            db,
            caller,
            template,
            store=store,
            error=exc.describe(),
            draft={"name": name, "subject": subject, "body": body},
        )
        page.status_code = 422
        return page
    return RedirectResponse(f"/templates/{template_id}", status_code=303)


@router.post("/templates/{template_id}/delete", dependencies=[CsrfChecked])
def delete_template(db: DbSession, caller: PageWriter, template_id: Id) -> RedirectResponse:
    records.delete_template(db, caller.workspace_id, template_id)
    return RedirectResponse("/templates", status_code=303)


@router.post("/templates-preview", dependencies=[CsrfChecked])
def live_preview(  # noqa: PLR0913  one parameter per form field
    request: Request,
    db: DbSession,
    store: StoreDep,
    caller: PageWriter,
    deal_id: Annotated[int, Form(ge=1, le=2**31 - 1)],
    subject: Annotated[str, Form(max_length=300)],
    body: Text,
) -> JSONResponse:
    """The edit form's live preview: the message the unsaved subject and body make for a
    deal, or what is wrong with them (JSON; nothing stored)."""
    try:
        draft = preview(
            db,
            caller.workspace_id,
            deal_id,
            message_links(request, store),
            subject=subject,
            body=body,
        )
    except InputError as exc:
        return JSONResponse({"error": exc.describe()})
    return JSONResponse(
        {"to": draft.to, "subject": draft.subject, "body": draft.body, "skip": draft.skip_reason}
    )


# --- sending a template ---------------------------------------------------------------------


def _send_page(  # noqa: PLR0913  the form's state
    request: Request,
    db: Session,
    caller: Principal,
    template: Any,
    campaign_id: int | None,
    *,
    status_code: int = 200,
    **shown: Any,
) -> HTMLResponse:
    campaign = None
    if campaign_id is not None:
        campaign = find_campaign(db, caller.workspace_id, campaign_id)
    deals = campaign_deals(db, caller.workspace_id, campaign.id) if campaign else []
    return render(
        request,
        db,
        "outreach_send.html",
        status_code=status_code,
        title=f"Send {template.name}",
        item=template,
        campaigns=list_campaigns(db, caller.workspace_id),
        campaign=campaign,
        deals=deals,
        by_deal={d["id"]: d for d in deals},
        stages=STAGES,
        **{"stage": "prospect", "choose": "stage", "ticked": [], **shown},
    )


@router.get("/templates/{template_id}/send")
def send_form(
    request: Request,
    db: DbSession,
    caller: PageWriter,
    template_id: Id,
    campaign_id: Annotated[int | None, Query(ge=1, le=2**31 - 1)] = None,
) -> HTMLResponse:
    """The send form (members): the campaign, then its deals at a stage or those ticked."""
    template = records.get_template(db, caller.workspace_id, template_id)
    return _send_page(request, db, caller, template, campaign_id)


@router.post("/templates/{template_id}/send", dependencies=[CsrfChecked])
def send_template(  # noqa: PLR0913  one parameter per form field
    request: Request,
    db: DbSession,
    store: StoreDep,
    caller: PageWriter,
    template_id: Id,
    campaign_id: Annotated[int, Form(ge=1, le=2**31 - 1)],
    choose: Annotated[str, Form(pattern="^(stage|ticked)$")] = "stage",
    stage: Annotated[str, Form(max_length=20)] = "prospect",
    deal_ids: Annotated[list[int] | None, Form(max_length=500)] = None,
    action: Annotated[str, Form(pattern="^(dry_run|send)$")] = "dry_run",
) -> HTMLResponse:
    """A dry run (who would get what, who is skipped or queued and why) or the send itself,
    through the same service as `POST /api/v1/outreach/send`; the page lists the outcome."""
    template = records.get_template(db, caller.workspace_id, template_id)
    find_campaign(db, caller.workspace_id, campaign_id)
    ticked = [i for i in deal_ids or [] if 1 <= i <= 2**31 - 1]
    form = {"stage": stage, "choose": choose, "ticked": ticked}
    if choose == "ticked" and not ticked:
        problem = "deal_ids: tick at least one creator, or choose a stage"
        return _send_page(
            request, db, caller, template, campaign_id, status_code=422, error=problem, **form
        )
    actor = actor_of(db, caller)
    db.commit()  # the send writes in transactions of its own
    shown: dict[str, Any] = dict(form)
    try:
        result = send_campaign(
            store,
            caller.workspace_id,
            message_links(request, store),
            template=template.id,
            campaign=campaign_id,
            stage=stage if choose == "stage" else None,
            deal_ids=ticked if choose == "ticked" else (),
            actor=actor,
            dry_run=action == "dry_run",
        )
    except InputError as exc:
        shown.update(status_code=422, error=exc.describe())
    else:
        counts = Counter(m["outcome"] for m in result["messages"])
        shown.update(result=result, counts=counts)
    with store.session() as view:  # the request's own transaction is committed
        template = records.get_template(view, caller.workspace_id, template_id)
        return _send_page(request, view, caller, template, campaign_id, **shown)


# --- the outbox -----------------------------------------------------------------------------


@router.get("/outbox")
def outbox_page(
    request: Request,
    db: DbSession,
    caller: PageReader,
    status: Annotated[str | None, Query(max_length=10)] = None,
    offset: Annotated[int, Query(ge=0, le=10**9)] = 0,
) -> HTMLResponse:
    chosen = status if status in MESSAGE_STATUSES else None
    rows, count = outbox.list_outbox(
        db, caller.workspace_id, status=chosen, limit=PAGE, offset=offset
    )
    workspace = db.get_one(Workspace, caller.workspace_id)
    return render(
        request,
        db,
        "outreach_outbox.html",
        title="Outbox",
        messages=rows,
        count=count,
        offset=offset,
        page=PAGE,
        status=chosen,
        statuses=MESSAGE_STATUSES,
        counts=outbox.status_counts(db, caller.workspace_id),
        daily_limit=settings.daily_limit(workspace),
        configured=settings.smtp_config(workspace) is not None,
        ran=request.query_params.get("ran"),
    )


@router.post("/outbox/run", dependencies=[CsrfChecked])
def run_now(request: Request, db: DbSession, store: StoreDep, caller: PageWriter) -> Any:
    actor = actor_of(db, caller)
    db.commit()
    done = run_outreach(store, caller.workspace_id, message_links(request, store), actor=actor)
    sent = done["delivery"]["sent"]
    return RedirectResponse(f"/outbox?ran={sent}", status_code=303)


@router.post("/outbox/replied", dependencies=[CsrfChecked])
def replied(
    db: DbSession,
    caller: PageWriter,
    deal_id: Annotated[int, Form(ge=1, le=2**31 - 1)],
    note: Annotated[str | None, Form(max_length=2000)] = None,
) -> RedirectResponse:
    mark_replied(db, caller.workspace_id, [deal_id], actor=actor_of(db, caller), note=note)
    return RedirectResponse("/outbox", status_code=303)


# --- sequences ------------------------------------------------------------------------------


@router.get("/sequences")
def sequences_page(request: Request, db: DbSession, caller: PageReader) -> HTMLResponse:
    found = sequences.list_sequences(db, caller.workspace_id)
    return render(
        request,
        db,
        "outreach_sequences.html",
        title="Sequences",
        sequences=[sequences.describe(db, s) for s in found],
        templates=records.list_templates(db, caller.workspace_id),
    )


@router.post("/sequences", dependencies=[CsrfChecked])
def create_sequence(
    db: DbSession,
    caller: PageWriter,
    name: Annotated[str, Form(max_length=100)],
    steps: Annotated[str, Form(max_length=5000)],
) -> RedirectResponse:
    """Steps are one ``TEMPLATE:DAYS`` a line."""
    lines = [line.strip() for line in steps.splitlines() if line.strip()]
    made = sequences.create_sequence(db, caller.workspace_id, name, lines)
    return RedirectResponse(f"/sequences/{made.id}", status_code=303)


@router.get("/sequences/{sequence_id}")
def sequence_page(
    request: Request, db: DbSession, caller: PageReader, sequence_id: Id
) -> HTMLResponse:
    found = sequences.get_sequence(db, caller.workspace_id, sequence_id)
    return render(
        request,
        db,
        "outreach_sequence.html",
        title=f"Sequence {found.name}",
        sequence=sequences.describe(db, found),
        enrollments=sequences.list_enrollments(db, caller.workspace_id, sequence_id),
        campaigns=list_campaigns(db, caller.workspace_id),
    )


@router.post("/sequences/{sequence_id}/enroll", dependencies=[CsrfChecked])
def enroll(
    db: DbSession,
    caller: PageWriter,
    sequence_id: Id,
    campaign_id: Annotated[int, Form(ge=1, le=2**31 - 1)],
    creators: Annotated[str, Form(max_length=20_000)] = "",
) -> RedirectResponse:
    """Enroll a campaign's deals: all, or those of the creators named (PLATFORM:HANDLE)."""
    named = creators.split()
    deal_ids = deal_ids_for(db, caller.workspace_id, campaign_id, named)
    sequences.enroll(db, caller.workspace_id, sequence_id, deal_ids, now=utcnow())
    return RedirectResponse(f"/sequences/{sequence_id}", status_code=303)


@router.post("/sequences/{sequence_id}/delete", dependencies=[CsrfChecked])
def delete_sequence(db: DbSession, caller: PageWriter, sequence_id: Id) -> RedirectResponse:
    sequences.delete_sequence(db, caller.workspace_id, sequence_id)
    return RedirectResponse("/sequences", status_code=303)


# --- SMTP settings (owners) -----------------------------------------------------------------


@router.get("/outreach/settings")
def settings_page(request: Request, db: DbSession, caller: PageOwner) -> HTMLResponse:
    workspace = db.get_one(Workspace, caller.workspace_id)
    return render(
        request,
        db,
        "outreach_settings.html",
        title="Outreach settings",
        smtp=settings.smtp_public(workspace),
        securities=settings.SECURITIES,
        imap_securities=settings.IMAP_SECURITIES,
        saved=request.query_params.get("saved"),
    )


@router.post("/outreach/settings", dependencies=[CsrfChecked])
def save_settings(  # noqa: PLR0913  one parameter per form field
    db: DbSession,
    caller: PageOwner,
    host: Annotated[str, Form(max_length=253)],
    from_address: Annotated[str, Form(max_length=320)],
    daily_limit: Annotated[int, Form(ge=1, le=100_000)],
    port: Annotated[int, Form(ge=1, le=65535)] = 587,
    security: Annotated[str, Form(max_length=10)] = "starttls",
    username: Annotated[str | None, Form(max_length=320)] = None,
    password: Annotated[str | None, Form(max_length=500)] = None,
    from_name: Annotated[str | None, Form(max_length=200)] = None,
    reply_to: Annotated[str | None, Form(max_length=320)] = None,
) -> RedirectResponse:
    workspace = db.get_one(Workspace, caller.workspace_id)
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
    settings.set_smtp(db, workspace, raw)
    settings.set_daily_limit(db, workspace, daily_limit)
    return RedirectResponse("/outreach/settings?saved=1", status_code=303)


@router.post("/outreach/settings/clear", dependencies=[CsrfChecked])
def clear_settings(db: DbSession, caller: PageOwner) -> RedirectResponse:
    settings.clear_smtp(db, db.get_one(Workspace, caller.workspace_id))
    return RedirectResponse("/outreach/settings?saved=1", status_code=303)


@router.post("/outreach/settings/imap", dependencies=[CsrfChecked])
def save_imap(  # noqa: PLR0913  one parameter per form field
    db: DbSession,
    caller: PageOwner,
    host: Annotated[str, Form(max_length=253)],
    username: Annotated[str, Form(max_length=320)],
    port: Annotated[int | None, Form(ge=1, le=65535)] = None,
    security: Annotated[str, Form(max_length=10)] = "tls",
    password: Annotated[str | None, Form(max_length=500)] = None,
    mailbox: Annotated[str, Form(max_length=200)] = "INBOX",
) -> RedirectResponse:
    """The mailbox replies are read from (each run of outreach reads its new messages)."""
    raw = {
        "host": host,
        "port": port,
        "security": security,
        "username": username,
        "password": password,
        "mailbox": mailbox,
    }
    settings.set_imap(db, db.get_one(Workspace, caller.workspace_id), raw)
    return RedirectResponse("/outreach/settings?saved=1", status_code=303)


@router.post("/outreach/settings/imap/clear", dependencies=[CsrfChecked])
def clear_imap(db: DbSession, caller: PageOwner) -> RedirectResponse:
    settings.clear_imap(db, db.get_one(Workspace, caller.workspace_id))
    return RedirectResponse("/outreach/settings?saved=1", status_code=303)
