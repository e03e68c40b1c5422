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
from microfluence.outreach.composing import compose
from microfluence.outreach.imap import read_replies
from microfluence.outreach.mail import SmtpConnection, Transport
from microfluence.outreach.sending import deliver_queued, store_drafts
from microfluence.outreach.sequences import queue_due
from microfluence.outreach.targets import campaign_of, deal_ids_for
from microfluence.outreach.template_records import find_template
from microfluence.outreach.unsubscribe import Links


def run_outreach(
    store: Store,
    workspace_id: int,
    links: Links,
    *,
    now: dt.datetime | None = None,
    transport: Transport = SmtpConnection,
) -> dict[str, Any]:
    """Read replies from the workspace's mailbox (when it has one), queue the due sequence
    steps (one transaction) and deliver what is queued."""
    when = now or utcnow()
    try:
        replies: dict[str, Any] = read_replies(store, workspace_id)
    except (imaplib.IMAP4.error, OSError) as exc:
        replies = {"configured": True, "error": f"cannot read the mailbox: {exc}"[:300]}
    with store.transaction() as session:
        sequences = queue_due(session, workspace_id, links, now=when)
    delivery = deliver_queued(store, workspace_id, now=when, transport=transport)
    return {"replies": replies, "sequences": sequences, "delivery": delivery.as_dict()}


def send_campaign(  # noqa: PLR0913  the send command's options
    store: Store,
    workspace_id: int,
    links: Links,
    *,
    template: str | int,
    campaign: str | int,
    creators: Sequence[str] = (),
    actor: str | None = None,
    dry_run: bool = False,
    now: dt.datetime | None = None,
    transport: Transport = SmtpConnection,
) -> dict[str, Any]:
    """Write to a campaign's deals with a template: the messages rendered and queued (with
    each skip and its reason), then delivered within the day's limit. ``dry_run`` renders
    and reports, storing and sending nothing."""
    with store.transaction() as session:
        found = find_template(session, workspace_id, template)
        target = campaign_of(session, workspace_id, campaign)
        deal_ids = deal_ids_for(session, workspace_id, target.id, creators)
        drafts = compose(
            session, workspace_id, found, deal_ids, links, make_portal_links=not dry_run
        )
        if not dry_run:
            store_drafts(session, workspace_id, found, drafts, actor=actor)
    previews = [
        {
            "deal_id": d.deal_id,
            "creator_id": d.creator_id,
            "to": d.to,
            "subject": d.subject,
            "body": d.body,
            "skip_reason": d.skip_reason,
        }
        for d in drafts
    ]
    skipped = sum(1 for d in drafts if d.skip_reason)
    delivery = None
    if not dry_run:
        delivery = deliver_queued(store, workspace_id, now=now, transport=transport).as_dict()
    return {
        "dry_run": dry_run,
        "queued": 0 if dry_run else len(drafts) - skipped,
        "skipped": skipped,
        "messages": previews,
        "delivery": delivery,
    }
