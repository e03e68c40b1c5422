"""Deliverables by hand: list a campaign's pieces, confirm a match, assign a post (by id or URL),
reject a match. The automatic matcher is ``tracking.deliverables`` (it also reads links and
codes); both write the same columns, and the matcher never overwrites what is done here."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from microfluence.campaigns.campaigns import find_campaign, lock_campaign
from microfluence.campaigns.schemas import DeliverablePublic
from microfluence.campaigns.tables import Deal, Deliverable
from microfluence.kernel.errors import ConflictError, InputError, NotFoundError
from microfluence.kernel.store.tables import Account, Creator, Post, utcnow

URL_MAX = 1000


def find_deliverable(
    session: Session, workspace_id: int, campaign_id: int, deliverable_id: int
) -> tuple[Deliverable, Deal]:
    """The piece with this id in this campaign of this workspace, with its deal."""
    row = session.execute(
        select(Deliverable, Deal)
        .join(Deal, Deal.id == Deliverable.deal_id)
        .where(
            Deliverable.id == deliverable_id,
            Deliverable.workspace_id == workspace_id,
            Deal.campaign_id == campaign_id,
        )
    ).first()
    if row is None:
        raise NotFoundError(f"no deliverable with id {deliverable_id} in this campaign")
    return row[0], row[1]


def list_deliverables(
    session: Session, workspace_id: int, campaign_id: int, *, ids: list[int] | None = None
) -> list[DeliverablePublic]:
    """The campaign's pieces by creator, format and due date, with the post each is linked to."""
    find_campaign(session, workspace_id, campaign_id)
    query = (
        select(
            Deliverable,
            Deal.creator_id,
            Creator.name,
            Account.platform,
            Account.handle,
            Post.url,
            Post.posted_at,
        )
        .join(Deal, Deal.id == Deliverable.deal_id)
        .join(Creator, Creator.id == Deal.creator_id)
        .outerjoin(Account, Account.id == Deal.account_id)
        .outerjoin(Post, Post.id == Deliverable.post_id)
        .where(Deliverable.workspace_id == workspace_id, Deal.campaign_id == campaign_id)
        .order_by(
            Creator.name,
            Deal.id,
            Deliverable.format,
            Deliverable.due_on.is_(None),
            Deliverable.due_on,
            Deliverable.id,
        )
    )
    if ids is not None:
        query = query.where(Deliverable.id.in_(ids))
    return [_public(*row) for row in session.execute(query)]


def _public(
    piece: Deliverable,
    creator_id: int,
    name: str | None,
    platform: str | None,
    handle: str | None,
    url: str | None,
    posted_at: Any,
) -> DeliverablePublic:
    return DeliverablePublic(
        id=piece.id,
        deal_id=piece.deal_id,
        creator_id=creator_id,
        creator_name=name,
        account=f"{platform}:{handle}" if platform else None,
        format=piece.format,
        due_on=piece.due_on,
        status=piece.status,
        post_id=piece.post_id,
        post_url=url,
        posted_at=posted_at,
        matched_by=piece.matched_by,
        matched_at=piece.matched_at,
        match_reason=piece.match_reason,
        rejected_post_ids=[int(i) for i in piece.rejected_post_ids or []],
    )


# A piece as a row of text, for the commands' tables (campaigns show, deliverables …).
ROW_COLUMNS = ("id", "creator", "format", "due", "status", "post", "reason")


def as_row(piece: DeliverablePublic) -> tuple[str, ...]:
    post = piece.post_url or (str(piece.post_id) if piece.post_id else "")
    return (
        str(piece.id),
        piece.creator_name or piece.account or "",
        piece.format,
        str(piece.due_on or "–"),
        piece.status + (f" ({piece.matched_by})" if piece.matched_by else ""),
        post,
        piece.match_reason or "",
    )


def _one(session: Session, workspace_id: int, campaign_id: int, piece_id: int) -> DeliverablePublic:
    return list_deliverables(session, workspace_id, campaign_id, ids=[piece_id])[0]


def confirm_deliverable(
    session: Session, workspace_id: int, campaign_id: int, deliverable_id: int
) -> DeliverablePublic:
    """Confirm the post matched to a piece: the matcher never changes it after."""
    piece, _deal = find_deliverable(session, workspace_id, campaign_id, deliverable_id)
    if piece.post_id is None:
        raise InputError("this deliverable has no post to confirm: assign one", field="post")
    piece.status = "confirmed"
    piece.updated_at = utcnow()
    session.flush()
    return _one(session, workspace_id, campaign_id, deliverable_id)


def find_post(session: Session, workspace_id: int, reference: str) -> Post:
    """A post of this workspace by its id (``123``) or its URL (as stored, a trailing ``/`` or
    the query string aside)."""
    text = (reference or "").strip()
    if not text or len(text) > URL_MAX or any(c < " " for c in text):
        raise InputError("expected a post id or URL", field="post", value=reference)
    where: Any
    if text.isdigit():
        if int(text) > 2**63 - 1:
            raise NotFoundError(f"no post {text[:40]} in this workspace")
        where = Post.id == int(text)
    else:
        bare = text.split("?", 1)[0].split("#", 1)[0].rstrip("/")
        where = Post.url.in_({text, bare, bare + "/"})
    post = session.scalar(
        select(Post).where(Post.workspace_id == workspace_id, where).order_by(Post.id).limit(1)
    )
    if post is None:
        raise NotFoundError(f"no post {text[:120]!r} in this workspace")
    return post


def assign_post(
    session: Session, workspace_id: int, campaign_id: int, deliverable_id: int, reference: str
) -> DeliverablePublic:
    """Link a piece to a post of the deal's creator by hand (a confirmed, user match)."""
    piece, deal = find_deliverable(session, workspace_id, campaign_id, deliverable_id)
    lock_campaign(
        session, workspace_id, campaign_id
    )  # no matcher run gives the post away meanwhile
    post = find_post(session, workspace_id, reference)
    owner = session.scalar(select(Account.creator_id).where(Account.id == post.account_id))
    if owner != deal.creator_id:
        raise InputError("the post is not one of this deal's creator's posts", field="post")
    taken = session.scalar(
        select(Deliverable.id)
        .join(Deal, Deal.id == Deliverable.deal_id)
        .where(
            Deal.campaign_id == campaign_id,
            Deliverable.workspace_id == workspace_id,
            Deliverable.post_id == post.id,
            Deliverable.id != piece.id,
        )
    )
    if taken is not None:
        raise ConflictError(f"post {post.id} already fills deliverable {taken} of this campaign")
    piece.post_id = post.id
    piece.status = "confirmed"
    piece.matched_by = "user"
    piece.matched_at = utcnow()
    piece.match_reason = "assigned by hand"
    piece.rejected_post_ids = [i for i in piece.rejected_post_ids or [] if i != post.id]
    piece.updated_at = utcnow()
    session.flush()
    return _one(session, workspace_id, campaign_id, deliverable_id)


def reject_match(
    session: Session, workspace_id: int, campaign_id: int, deliverable_id: int
) -> DeliverablePublic:
    """Unlink a piece's post: the piece is pending again and the matcher never gives it that
    post again (``rejected_post_ids``)."""
    piece, _deal = find_deliverable(session, workspace_id, campaign_id, deliverable_id)
    if piece.post_id is None:
        raise InputError("this deliverable has no post to reject", field="post")
    rejected = [int(i) for i in piece.rejected_post_ids or []]
    piece.rejected_post_ids = (
        [*rejected, piece.post_id] if piece.post_id not in rejected else rejected
    )
    piece.post_id = None
    piece.status = "pending"
    piece.matched_by = None
    piece.matched_at = None
    piece.match_reason = None
    piece.updated_at = utcnow()
    session.flush()
    return _one(session, workspace_id, campaign_id, deliverable_id)
