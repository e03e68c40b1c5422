"""Processing shop webhooks as background work (kind ``webhook``): the web route stores each
delivery and answers at once; the work — reading the order, upserting it, attributing it — runs
here, on the durable queue's workers (jobs.queue) or, without a queue, in the server's thread
pool (jobs.runner). The record is the ``webhook_deliveries`` row itself (its status), so a
delivery whose job was lost (a process killed in between) is found by :func:`retry_pending`
(each worker's minutely tick, and a server's start) and queued again; processing is idempotent.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from microfluence.commerce.webhooks import pending_deliveries, process_delivery
from microfluence.kernel.store import Store

log = logging.getLogger("microfluence.jobs")

WEBHOOK = "webhook"
STALE_SECONDS = 60.0


def run_webhook(store: Store, delivery_id: int) -> None:
    """Process one delivery; never raises (a failure is logged, and the delivery stays
    ``received`` for the next retry when the store was the problem)."""
    try:
        process_delivery(store, delivery_id)
    except Exception:
        log.exception("webhook delivery %s: processing failed, will be retried", delivery_id)


def submit(store: Store, runner: Any, delivery_id: int) -> None:
    """Hand a delivery just stored to the runner (the queue, or this process's pool), with any
    left waiting for more than a minute: in-process runners have no minutely tick, so a delivery
    whose first try met a busy store is retried when the next one arrives."""
    runner.submit_webhook(delivery_id)
    retry_pending(store, runner.submit_webhook)


def retry_pending(
    store: Store, submit: Callable[[int], None], older_than: float = STALE_SECONDS
) -> int:
    """Queue again the deliveries left ``received`` for ``older_than`` seconds."""
    pending = pending_deliveries(store, older_than)
    for delivery_id in pending:
        submit(delivery_id)
    if pending:
        log.warning("queued %d webhook deliveries again", len(pending))
    return len(pending)
