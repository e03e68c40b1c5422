"""One run of outreach for a workspace: the due steps of its sequences put in the outbox, then
the outbox delivered within the day's limit. The ``outreach`` job (jobs.outreach) and
``microfluence outreach run`` call :func:`run_outreach`."""

from __future__ import annotations

import datetime as dt
from typing import Any

from microfluence.kernel.store import Store
from microfluence.kernel.store.tables import utcnow
from microfluence.outreach.mail import SmtpConnection, Transport
from microfluence.outreach.sending import deliver_queued
from microfluence.outreach.sequences import queue_due
from microfluence.outreach.unsubscribe import Links


def run_outreach(
    store: Store,
    workspace_id: int,
    links: Links,
    *,
    now: dt.datetime | None = None,
    transport: Transport = SmtpConnection,
) -> dict[str, Any]:
    """Queue the due sequence steps (one transaction) and deliver what is queued."""
    when = now or utcnow()
    with store.transaction() as session:
        sequences = queue_due(session, workspace_id, links, now=when)
    delivery = deliver_queued(store, workspace_id, now=when, transport=transport)
    return {"sequences": sequences, "delivery": delivery.as_dict()}
