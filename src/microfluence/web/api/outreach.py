"""/api/v1/outreach: sending a template to a campaign's creators, the outbox, replies
recorded by hand, a run of the sequences, the SMTP settings (owners) and the sequences
themselves (docs/relationships.md, "Outreach")."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query, Request, Response
from sqlalchemy.orm import Session

from microfluence.access.principal import Principal
from microfluence.catalog.listing import Window
from microfluence.kernel.store.tables import Workspace, utcnow
from microfluence.outreach import outbox, sequences, settings
from microfluence.outreach.replies import mark_replied
from microfluence.outreach.runner import run_outreach, send_campaign
from microfluence.outreach.schemas import (
    EnrollmentPublic,
    EnrollRequest,
    MessagePage,
    MessagePublic,
    OutreachSettingsPublic,
    OutreachSettingsUpdate,
    RepliedRequest,
    RepliedResult,
    RunResult,
    SendRequest,
    SendResult,
    SequenceCreate,
    SequencePublic,
)
from microfluence.outreach.tables import MESSAGE_STATUSES
from microfluence.web.api.common import ITEM_ERRORS, READ_ERRORS, WRITE_ERRORS, _window
from microfluence.web.api.labels import labeller
from microfluence.web.api.templates import message_links
from microfluence.web.deps import ApiOwner, ApiReader, ApiWriter, DbSession, StoreDep

router = APIRouter(prefix="/outreach", tags=["outreach"])
MessageId = Annotated[int, Path(ge=1, le=2**31 - 1)]
SequenceId = Annotated[int, Path(ge=1, le=2**31 - 1)]


def actor_of(db: Session, caller: Principal) -> str:
    """Who acted, for the deal's history: the user's e-mail, or ``api key NAME (PREFIX…)``,
    as the pipeline's moves are recorded."""
    return labeller(db, caller)


@router.post("/send", responses=WRITE_ERRORS)
def send(
    request: Request, db: DbSession, store: StoreDep, caller: ApiWriter, body: SendRequest
) -> SendResult:
    """Render a template for a campaign's deals (all, or the creators named), queue the
    messages and send them within the day's limit; creators without an address or
    do-not-contact are skipped with the reason. `dry_run` stores and sends nothing."""
    actor = actor_of(db, caller)
    db.commit()  # the send writes in transactions of its own
    result = send_campaign(
        store,
        caller.workspace_id,
        message_links(request, store),
        template=body.template,
        campaign=body.campaign_id,
        creators=body.creators,
        stage=body.stage,
        actor=actor,
        dry_run=body.dry_run,
    )
    return SendResult.model_validate(result)


@router.get("/messages", responses=READ_ERRORS)
def list_messages(
    db: DbSession,
    caller: ApiReader,
    window: Annotated[Window, Depends(_window)],
    status: Annotated[str | None, Query(pattern="^(" + "|".join(MESSAGE_STATUSES) + ")$")] = None,
) -> MessagePage:
    """The outbox, newest first: every message with its status (queued, sent, failed,
    skipped and why)."""
    rows, count = outbox.list_outbox(
        db, caller.workspace_id, status=status, limit=window.limit, offset=window.offset
    )
    return MessagePage(data=[MessagePublic.model_validate(r) for r in rows], count=count)


@router.get("/messages/{message_id}", responses=ITEM_ERRORS)
def get_message(db: DbSession, caller: ApiReader, message_id: MessageId) -> MessagePublic:
    return MessagePublic.model_validate(outbox.get_message(db, caller.workspace_id, message_id))


@router.post("/replied", responses=WRITE_ERRORS)
def replied(db: DbSession, caller: ApiWriter, body: RepliedRequest) -> RepliedResult:
    """Record that these deals' creators replied: a reply on each deal's history, those at
    contacted moved to replied, and their sequences stopped."""
    done = mark_replied(
        db, caller.workspace_id, body.deal_ids, actor=actor_of(db, caller), note=body.note
    )
    return RepliedResult(
        deal_ids=done["deal_ids"],
        moved=done["moved"],
        stopped_enrollments=done["stopped_enrollments"][0],
    )


@router.post("/run", responses=WRITE_ERRORS)
def run(request: Request, db: DbSession, store: StoreDep, caller: ApiWriter) -> RunResult:
    """Queue the due steps of the workspace's sequences and send what is queued, now (the
    `outreach` schedule does this in the background). What this run sends and the deals it
    moves to contacted are recorded with the API key's name."""
    actor = actor_of(db, caller)
    db.commit()
    return RunResult.model_validate(
        run_outreach(store, caller.workspace_id, message_links(request, store), actor=actor)
    )


def settings_view(db: Session, workspace: Workspace) -> OutreachSettingsPublic:
    shown = settings.smtp_public(workspace)
    shown["sent_today"] = outbox.status_counts(db, workspace.id)["sent_today"]
    return OutreachSettingsPublic.model_validate(shown)


@router.get("/settings", responses=READ_ERRORS)
def get_settings(db: DbSession, caller: ApiOwner) -> OutreachSettingsPublic:
    """The SMTP server messages go out through (never its password) and the daily limit."""
    return settings_view(db, db.get_one(Workspace, caller.workspace_id))


@router.put("/settings", responses=WRITE_ERRORS)
def put_settings(
    db: DbSession, caller: ApiOwner, body: OutreachSettingsUpdate
) -> OutreachSettingsPublic:
    """Set the workspace's SMTP server (owners; an empty password keeps the stored one),
    forget it (`clear_smtp`), set the daily limit, or the IMAP mailbox replies are read from
    (`imap`, `clear_imap`)."""
    workspace = db.get_one(Workspace, caller.workspace_id)
    if body.clear_smtp:
        settings.clear_smtp(db, workspace)
    elif body.smtp is not None:
        settings.set_smtp(db, workspace, body.smtp.model_dump())
    if body.daily_limit is not None:
        settings.set_daily_limit(db, workspace, body.daily_limit)
    if body.clear_imap:
        settings.clear_imap(db, workspace)
    elif body.imap is not None:
        settings.set_imap(db, workspace, body.imap.model_dump())
    return settings_view(db, workspace)


@router.get("/sequences", responses=READ_ERRORS)
def list_sequences(db: DbSession, caller: ApiReader) -> list[SequencePublic]:
    found = sequences.list_sequences(db, caller.workspace_id)
    return [SequencePublic.model_validate(sequences.describe(db, s)) for s in found]


@router.post("/sequences", status_code=201, responses=WRITE_ERRORS)
def create_sequence(db: DbSession, caller: ApiWriter, body: SequenceCreate) -> SequencePublic:
    """A sequence of the workspace's templates, each step its delay in days after the
    previous message."""
    made = sequences.create_sequence(
        db, caller.workspace_id, body.name, [s.model_dump() for s in body.steps]
    )
    return SequencePublic.model_validate(sequences.describe(db, made))


@router.get("/sequences/{sequence_id}", responses=ITEM_ERRORS)
def get_sequence(db: DbSession, caller: ApiReader, sequence_id: SequenceId) -> SequencePublic:
    found = sequences.get_sequence(db, caller.workspace_id, sequence_id)
    return SequencePublic.model_validate(sequences.describe(db, found))


@router.delete("/sequences/{sequence_id}", status_code=204, responses=WRITE_ERRORS)
def delete_sequence(db: DbSession, caller: ApiWriter, sequence_id: SequenceId) -> Response:
    """Delete a sequence and its enrollments (messages already sent stay in the outbox)."""
    sequences.delete_sequence(db, caller.workspace_id, sequence_id)
    return Response(status_code=204)


@router.get("/sequences/{sequence_id}/enrollments", responses=ITEM_ERRORS)
def list_enrollments(
    db: DbSession, caller: ApiReader, sequence_id: SequenceId
) -> list[EnrollmentPublic]:
    found = sequences.list_enrollments(db, caller.workspace_id, sequence_id)
    return [EnrollmentPublic.model_validate(e, from_attributes=True) for e in found]


@router.post("/sequences/{sequence_id}/enrollments", status_code=201, responses=WRITE_ERRORS)
def enroll(
    db: DbSession, caller: ApiWriter, sequence_id: SequenceId, body: EnrollRequest
) -> list[EnrollmentPublic]:
    """Enroll deals (all or none); the first step falls due its delay from now. Deals
    already enrolled are left as they are; the answer lists the new enrollments."""
    made = sequences.enroll(db, caller.workspace_id, sequence_id, body.deal_ids, now=utcnow())
    found = sequences.list_enrollments(db, caller.workspace_id, sequence_id)
    return [EnrollmentPublic.model_validate(e, from_attributes=True) for e in found if e.id in made]
