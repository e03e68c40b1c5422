"""One run of outreach for a workspace: the due steps of its sequences put in the outbox, then
the outbox delivered within the day's limit. The ``outreach`` job (jobs.outreach) and
``microfluence outreach run`` call :func:`run_outreach`."""

from __future__ import annotations

import datetime as dt
import imaplib
from collections.abc import Sequence
from typing import Any

from microfluence.kernel.store import Store
from microfluence.kernel.store.tables import utcnow
from microfluence.outreach.composing import Draft, compose
from microfluence.outreach.forecast import foresee, outcomes_of, room_today
from microfluence.outreach.imap import read_replies
from microfluence.outreach.mail import SmtpConnection, Transport
from microfluence.outreach.sending import deliver_queued, store_drafts
from microfluence.outreach.sequences import queue_due
from microfluence.outreach.targets import campaign_of, deal_ids_chosen
from microfluence.outreach.template_records import find_template
from microfluence.outreach.unsubscribe import Links


def run_outreach(
    store: Store,
    workspace_id: int,
    links: Links,
    *,
    now: dt.datetime | None = None,
    transport: Transport = SmtpConnection,
    actor: str | None = None,
) -> dict[str, Any]:
    """Read replies from the workspace's mailbox (when it has one), queue the due sequence
    steps (one transaction) and deliver what is queued. ``actor`` is who started the run by
    hand (a member's e-mail, an API key's name): what it sends and the deals it moves are
    recorded as theirs; the scheduled job passes none and they are recorded as ``system``."""
    when = now or utcnow()
    try:
        replies: dict[str, Any] = read_replies(store, workspace_id)
    except (imaplib.IMAP4.error, OSError) as exc:
        replies = {"configured": True, "error": f"cannot read the mailbox: {exc}"[:300]}
    with store.transaction() as session:
        sequences = queue_due(session, workspace_id, links, now=when)
    delivery = deliver_queued(store, workspace_id, now=when, transport=transport, actor=actor)
    return {"replies": replies, "sequences": sequences, "delivery": delivery.as_dict()}


def send_campaign(  # noqa: PLR0913  the send command's options
    store: Store,
    workspace_id: int,
    links: Links,
    *,
    template: str | int,
    campaign: str | int,
    creators: Sequence[str] = (),
    stage: str | None = None,
    deal_ids: Sequence[int] = (),
    actor: str | None = None,
    dry_run: bool = False,
    now: dt.datetime | None = None,
    transport: Transport = SmtpConnection,
) -> dict[str, Any]:
    """Write to a campaign's deals with a template — those ticked (``deal_ids``), of the
    creators named, at ``stage``, or all: the messages rendered and queued (with each skip and
    its reason), then delivered within the day's limit. ``dry_run`` renders and foresees each
    message's outcome (sent, queued for tomorrow, skipped and why), storing and sending
    nothing. Each message comes back with its ``outcome`` and ``reason``."""
    when = now or utcnow()
    with store.transaction() as session:
        found = find_template(session, workspace_id, template)
        target = campaign_of(session, workspace_id, campaign)
        chosen = deal_ids_chosen(
            session, workspace_id, target.id, creators=creators, stage=stage, deal_ids=deal_ids
        )
        drafts = compose(session, workspace_id, found, chosen, links, make_portal_links=not dry_run)
        room, why_queued = room_today(session, workspace_id, when.date())
        stored = []
        if not dry_run:
            stored = [r.id for r in store_drafts(session, workspace_id, found, drafts, actor=actor)]
    delivery = None
    outcomes = foresee(drafts, room, why_queued)
    if not dry_run:
        done = deliver_queued(store, workspace_id, now=now, transport=transport, actor=actor)
        delivery = done.as_dict()
        with store.session() as session:
            outcomes = outcomes_of(session, workspace_id, stored, done.error or why_queued)
    skipped = sum(1 for d in drafts if d.skip_reason)
    return {
        "dry_run": dry_run,
        "campaign": {"id": target.id, "name": target.name},
        "template": {"id": found.id, "name": found.name},
        "queued": 0 if dry_run else len(drafts) - skipped,
        "skipped": skipped,
        "messages": [_preview(d, outcome) for d, outcome in zip(drafts, outcomes, strict=True)],
        "delivery": delivery,
    }


def _preview(draft: Draft, outcome: tuple[str, str | None]) -> dict[str, Any]:
    return {
        "deal_id": draft.deal_id,
        "creator_id": draft.creator_id,
        "to": draft.to,
        "subject": draft.subject,
        "body": draft.body,
        "skip_reason": draft.skip_reason,
        "outcome": outcome[0],
        "reason": outcome[1],
    }
