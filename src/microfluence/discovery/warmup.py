"""Search indexes built ahead, so that a server's first search of a large workspace is fast.

The keyword index (``term_index``), the search columns (``columns``) and the vector index
(``vector_index``) live in the process and are otherwise built by a workspace's first search:
about 1.5 minutes at a million accounts (docs/benchmarks.md). :func:`warm_indexes` builds them
for every workspace with at least ``min_accounts`` accounts, largest first; the app runs it in
a background thread when it starts (``MICROFLUENCE_SEARCH_WARM_ACCOUNTS``, docs/discovery.md
"Index choices"). A search that arrives meanwhile waits on the same per-workspace lock
(``discovery.locks``) for the index being built instead of building a second copy; other
workspaces are served as usual.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

from sqlalchemy import func, select

from microfluence.discovery import columns, term_index, vector_index
from microfluence.kernel.store import Store
from microfluence.kernel.store.tables import Account

log = logging.getLogger(__name__)


def large_workspaces(store: Store, min_accounts: int) -> list[tuple[int, int]]:
    """(workspace id, accounts) of the workspaces with at least ``min_accounts``, largest first."""
    count = func.count(Account.id)
    query = (
        select(Account.workspace_id, count)
        .group_by(Account.workspace_id)
        .having(count >= max(min_accounts, 1))
        .order_by(count.desc(), Account.workspace_id)
    )
    with store.session() as session:
        return [(int(ws), int(n)) for ws, n in session.execute(query)]


def warm_indexes(
    store: Store,
    min_accounts: int,
    *,
    stop: threading.Event | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> list[int]:
    """Build the keyword and vector indexes and read the search columns of the large
    workspaces; their ids, in order.

    ``stop`` ends the work between two workspaces (the app sets it when it shuts down);
    ``progress(workspace_id, accounts)`` is called before each workspace is built.
    """
    done = []
    for workspace_id, accounts in large_workspaces(store, min_accounts):
        if stop is not None and stop.is_set():
            break
        if progress is not None:
            progress(workspace_id, accounts)
        with store.session() as session:
            term_index.index_for(session, workspace_id)
            columns.columns_for(session, workspace_id)
            if not vector_index.server_side(session):
                vector_index.index_for(session, workspace_id)
        done.append(workspace_id)
    return done


def warm_in_background(
    store: Store, min_accounts: int, *, done: Callable[[], object] | None = None
) -> threading.Event:
    """:func:`warm_indexes` in a daemon thread, logged; the event that stops it. ``done`` is
    called when every workspace is built (not when stopped or failed)."""
    stop = threading.Event()

    def report(workspace_id: int, accounts: int) -> None:
        log.info("search indexes of workspace %s (%s accounts): building", workspace_id, accounts)

    def run() -> None:
        try:
            warm_indexes(store, min_accounts, stop=stop, progress=report)
            if done is not None and not stop.is_set():
                done()
        except Exception:  # a failed warm-up only means the first search builds them
            if not stop.is_set():
                log.exception("building the search indexes ahead failed")

    threading.Thread(target=run, name="microfluence-search-warmup", daemon=True).start()
    return stop
