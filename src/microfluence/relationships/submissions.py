"""Drafts and live posts a creator submits for approval (``deal_submissions``), and their review
by the brand.

A submission is a URL (http or https) and a note, of kind ``draft`` or ``live``, pending until a
member approves it or asks for changes; both are recorded as deal events. Approving a live post
moves the deal to content_live (never backwards) and, when the URL is that of an imported post of
the deal's creator, links it to a deliverable of the deal — the one named, else the first
pending one — through the same service as assigning a post by hand
(campaigns.deliverables.assign_post).
"""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import urlsplit

from pydantic import BaseModel, Field
from sqlalchemy import select
from sqlalchemy.orm import Session

from microfluence.campaigns.deliverables import assign_post, find_post
from microfluence.campaigns.schemas import Strict
from microfluence.campaigns.tables import Deal, Deliverable
from microfluence.catalog.schemas import UtcDateTime
from microfluence.kernel.errors import ConflictError, InputError, MicrofluenceError, NotFoundError
from microfluence.kernel.store.tables import Creator, utcnow
from microfluence.relationships.advance import advance, deal_in
from microfluence.relationships.stages import record_event
from microfluence.relationships.tables import SUBMISSION_KINDS, SUBMISSION_STATUSES, Submission

URL_MAX = 1000
NOTE_MAX = 2000
DECISIONS = ("approved", "changes_requested")


class SubmissionCreate(Strict):
    kind: Annotated[str, Field(description="draft or live")] = "draft"
    url: Annotated[str, Field(max_length=URL_MAX)]
    note: Annotated[str, Field(max_length=NOTE_MAX)] | None = None
    deliverable_id: Annotated[int, Field(ge=1, le=2**31 - 1)] | None = None


class Review(Strict):
    decision: Annotated[str, Field(description="approved or changes_requested")]
    note: Annotated[str, Field(max_length=NOTE_MAX)] | None = None


class SubmissionPublic(BaseModel):
    id: int
    deal_id: int
    creator_id: int
    creator_name: str | None
    deliverable_id: int | None
    kind: str
    url: str
    note: str | None
    status: str
    submitted_at: UtcDateTime
    submitted_by: str
    reviewed_at: UtcDateTime | None
    reviewed_by: str | None
    review_note: str | None


def parse_url(text: Any, *, field: str = "url") -> str:
    url = text.strip() if isinstance(text, str) else ""
    parts = urlsplit(url) if url else None
    if (
        parts is None
        or parts.scheme not in ("http", "https")
        or not parts.netloc
        or len(url) > URL_MAX
        or any(c <= " " or c == "\x7f" for c in url)
    ):
        raise InputError("a web address starting with https:// (or http://)", field=field)
    return url


def _note(text: str | None, field: str = "note") -> str | None:
    if text is None:
        return None
    if "\x00" in text or len(text) > NOTE_MAX:
        raise InputError(f"at most {NOTE_MAX} characters, without NUL", field=field)
    return text.strip() or None


def submit(
    session: Session,
    workspace_id: int,
    deal_id: int,
    data: SubmissionCreate,
    *,
    actor: str | None = None,
    actor_kind: str = "creator",
) -> SubmissionPublic:
    """Store a draft or a live post's URL for approval, recorded on the deal."""
    deal_in(session, workspace_id, deal_id)
    kind = data.kind.strip().lower()
    if kind not in SUBMISSION_KINDS:
        raise InputError(f"one of {', '.join(SUBMISSION_KINDS)}", field="kind", value=data.kind)
    url = parse_url(data.url)
    if data.deliverable_id is not None:
        _deliverable_of(session, workspace_id, deal_id, data.deliverable_id)
    row = Submission(
        workspace_id=workspace_id,
        deal_id=deal_id,
        deliverable_id=data.deliverable_id,
        kind=kind,
        url=url,
        note=_note(data.note),
        status="pending",
        submitted_at=utcnow(),
        submitted_by=actor_kind,
    )
    session.add(row)
    session.flush()
    record_event(
        session,
        workspace_id,
        deal_id,
        "submission",
        actor=actor,
        actor_kind=actor_kind,
        detail={"submission_id": row.id, "kind": kind, "url": url},
    )
    return _listing(session, workspace_id, Submission.id == row.id)[0]


def _deliverable_of(session: Session, workspace_id: int, deal_id: int, piece_id: int) -> int:
    found = session.scalar(
        select(Deliverable.id).where(
            Deliverable.workspace_id == workspace_id,
            Deliverable.deal_id == deal_id,
            Deliverable.id == piece_id,
        )
    )
    if found is None:
        raise InputError("not a deliverable of this deal", field="deliverable_id", value=piece_id)
    return found


def _listing(session: Session, workspace_id: int, *where: Any) -> list[SubmissionPublic]:
    rows = session.execute(
        select(Submission, Deal.creator_id, Creator.name)
        .join(Deal, Deal.id == Submission.deal_id)
        .join(Creator, Creator.id == Deal.creator_id)
        .where(Submission.workspace_id == workspace_id, *where)
        .order_by(Submission.submitted_at, Submission.id)
    ).all()
    return [
        SubmissionPublic(
            id=s.id,
            deal_id=s.deal_id,
            creator_id=creator_id,
            creator_name=name,
            deliverable_id=s.deliverable_id,
            kind=s.kind,
            url=s.url,
            note=s.note,
            status=s.status,
            submitted_at=s.submitted_at,
            submitted_by=s.submitted_by,
            reviewed_at=s.reviewed_at,
            reviewed_by=s.reviewed_by,
            review_note=s.review_note,
        )
        for s, creator_id, name in rows
    ]


def list_submissions(
    session: Session,
    workspace_id: int,
    *,
    campaign_id: int | None = None,
    deal_id: int | None = None,
    status: str | None = None,
) -> list[SubmissionPublic]:
    """Submissions of a campaign or a deal (or the workspace), oldest first."""
    where: list[Any] = []
    if campaign_id is not None:
        where.append(Deal.campaign_id == campaign_id)
    if deal_id is not None:
        where.append(Submission.deal_id == deal_id)
    if status is not None:
        if status not in SUBMISSION_STATUSES:
            raise InputError(f"one of {', '.join(SUBMISSION_STATUSES)}", field="status")
        where.append(Submission.status == status)
    return _listing(session, workspace_id, *where)


def find_submission(
    session: Session, workspace_id: int, campaign_id: int, submission_id: int
) -> tuple[Submission, Deal]:
    row = session.execute(
        select(Submission, Deal)
        .join(Deal, Deal.id == Submission.deal_id)
        .where(
            Submission.workspace_id == workspace_id,
            Submission.id == submission_id,
            Deal.campaign_id == campaign_id,
        )
        .with_for_update(of=Submission)  # two reviewers at once: one review
    ).first()
    if row is None:
        raise NotFoundError(f"no submission with id {submission_id} in this campaign")
    return row[0], row[1]


def review(  # noqa: PLR0913 - the submission, the decision and who made it
    session: Session,
    workspace_id: int,
    campaign_id: int,
    submission_id: int,
    data: Review,
    *,
    reviewer: str | None,
) -> SubmissionPublic:
    """Approve a pending submission or ask for changes (once: a reviewed one is a conflict)."""
    submission, deal = find_submission(session, workspace_id, campaign_id, submission_id)
    decision = data.decision.strip().lower()
    if decision not in DECISIONS:
        raise InputError(f"one of {', '.join(DECISIONS)}", field="decision", value=decision)
    if submission.status != "pending":
        raise ConflictError(f"this submission was already reviewed: {submission.status}")
    submission.status = decision
    submission.reviewed_at = utcnow()
    submission.reviewed_by = reviewer
    submission.review_note = _note(data.note, "note")
    detail: dict[str, Any] = {"submission_id": submission.id, "decision": decision}
    if decision == "approved" and submission.kind == "live":
        detail |= _link_post(session, workspace_id, campaign_id, deal, submission)
    record_event(session, workspace_id, deal.id, "review", actor=reviewer, detail=detail)
    if decision == "approved" and submission.kind == "live":
        advance(
            session,
            workspace_id,
            deal.id,
            "content_live",
            actor=reviewer,
            actor_kind="user",
            detail={"submission_id": submission.id},
        )
    session.flush()
    return _listing(session, workspace_id, Submission.id == submission.id)[0]


def _link_post(
    session: Session, workspace_id: int, campaign_id: int, deal: Deal, submission: Submission
) -> dict[str, Any]:
    """Link the approved live URL's imported post to a deliverable of the deal, if it can be:
    what happened, for the review's event."""
    try:
        post = find_post(session, workspace_id, submission.url)
    except MicrofluenceError:
        return {"linked": False, "why": "no imported post has this URL yet"}
    piece_id = submission.deliverable_id or session.scalar(
        select(Deliverable.id)
        .where(
            Deliverable.workspace_id == workspace_id,
            Deliverable.deal_id == deal.id,
            Deliverable.status == "pending",
        )
        .order_by(Deliverable.due_on.is_(None), Deliverable.due_on, Deliverable.id)
        .limit(1)
    )
    if piece_id is None:
        return {"linked": False, "post_id": post.id, "why": "no pending deliverable"}
    try:
        with session.begin_nested():
            assign_post(session, workspace_id, campaign_id, piece_id, str(post.id))
    except MicrofluenceError as exc:
        return {"linked": False, "post_id": post.id, "why": str(exc)[:200]}
    submission.deliverable_id = piece_id
    return {"linked": True, "post_id": post.id, "deliverable_id": piece_id}
