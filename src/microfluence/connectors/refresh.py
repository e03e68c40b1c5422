"""Refreshing a workspace's followed accounts: a new snapshot and the new posts of each, run by
`microfluence refresh` (cron), by a ``refresh`` job on the job queue (a schedule, or "refresh
now" on the connections page) — the same function either way.

**Followed accounts** are those of a platform the workspace has credentials for that carry the
platform's own id (``accounts.external_id``): every account a connector fetched, and every
imported one whose export held its id. YouTube channels are looked up by that id (a renamed
channel is still found); Instagram accounts by their user name.

Each refresh is a ``refresh_runs`` row with one ``refresh_items`` row per account and its state.
Accounts are read and written in batches; a batch's items are marked done only once its import
run has committed. A run that stops (quota spent, rate limited, credentials refused, the
process killed) keeps its pending items, and the next refresh of the workspace continues that
run where it stopped instead of starting over."""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from microfluence.connectors.credentials import list_credentials
from microfluence.connectors.fetching import FetchOutcome, connector, read_all, save
from microfluence.connectors.http import Sleep
from microfluence.connectors.tables import ConnectorCredential, RefreshItem, RefreshRun
from microfluence.kernel.errors import ConflictError, NotFoundError
from microfluence.kernel.store import Store
from microfluence.kernel.store.tables import Account, Workspace, utcnow
from microfluence.kernel.workspaces import get_workspace
from microfluence.metrics.service import compute_metrics

log = logging.getLogger("microfluence.connectors")

BATCH = 20
UNFINISHED = ("running", "partial", "failed")
# A run marked running whose last batch is older than this is taken to have died (its process
# was killed): the next refresh continues it. A younger one is still being run: a conflict.
STALE_AFTER = dt.timedelta(minutes=30)
# (accounts done, accounts in the run)
RefreshProgress = Callable[[int, int], None]


@dataclass
class RefreshResult:
    run_id: int
    resumed: bool
    status: str
    total: int
    done: int
    failed: int
    stopped: str | None

    def as_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


def followed_accounts(session: Session, workspace_id: int) -> list[tuple[int, str, str]]:
    """(account id, platform, what to look it up by) of the workspace's followed accounts."""
    platforms = [c.platform for c in list_credentials(session, workspace_id)]
    if not platforms:
        return []
    rows = session.execute(
        select(Account.id, Account.platform, Account.handle, Account.external_id)
        .where(
            Account.workspace_id == workspace_id,
            Account.platform.in_(platforms),
            Account.external_id.is_not(None),
            Account.external_id != "",
        )
        .order_by(Account.id)
    )
    return [
        (account_id, platform, external if platform == "youtube" else handle)
        for account_id, platform, handle, external in rows
    ]


def _open_run(session: Session, workspace_id: int, source: str) -> tuple[RefreshRun, bool]:
    """The workspace's unfinished run to continue, or a new one over its followed accounts."""
    pending = (
        select(RefreshItem.run_id)
        .where(RefreshItem.workspace_id == workspace_id, RefreshItem.state == "pending")
        .scalar_subquery()
    )
    run = session.scalar(
        select(RefreshRun)
        .where(
            RefreshRun.workspace_id == workspace_id,
            RefreshRun.status.in_(UNFINISHED),
            RefreshRun.id.in_(pending),
        )
        .order_by(RefreshRun.id.desc())
        .limit(1)
    )
    if run is not None and run.status == "running" and run.updated_at > utcnow() - STALE_AFTER:
        raise ConflictError(
            f"refresh run {run.id} is under way (last progress at {run.updated_at:%H:%M} UTC); "
            "it is continued by the next refresh if it stops"
        )
    if run is not None:
        run.attempts += 1
        run.status = "running"
        run.error = None
        run.updated_at = utcnow()
        return run, True
    followed = followed_accounts(session, workspace_id)
    run = RefreshRun(
        workspace_id=workspace_id, status="running", source=source[:100], total=len(followed)
    )
    session.add(run)
    session.flush()
    session.add_all(
        RefreshItem(
            workspace_id=workspace_id,
            run_id=run.id,
            account_id=account_id,
            platform=platform,
            handle=target,
            state="pending",
        )
        for account_id, platform, target in followed
    )
    session.flush()
    return run, False


def _pending(store: Store, run_id: int, platform: str) -> list[tuple[int, str]]:
    with store.session() as session:
        return list(
            session.execute(
                select(RefreshItem.id, RefreshItem.handle)
                .where(
                    RefreshItem.run_id == run_id,
                    RefreshItem.platform == platform,
                    RefreshItem.state == "pending",
                )
                .order_by(RefreshItem.id)
            ).all()
        )


def _mark(store: Store, run_id: int, items: dict[str, list[int]], errors: dict[int, str]) -> None:
    """Record the items' states and the run's counts (one short transaction)."""
    with store.transaction() as session:
        for state, ids in items.items():
            for start in range(0, len(ids), 500):
                chunk = ids[start : start + 500]
                session.execute(
                    update(RefreshItem)
                    .where(RefreshItem.id.in_(chunk))
                    .values(state=state, updated_at=utcnow())
                )
        for item_id, error in errors.items():
            session.execute(
                update(RefreshItem).where(RefreshItem.id == item_id).values(error=error[:2000])
            )
        counts = dict(
            session.execute(
                select(RefreshItem.state, func.count())
                .where(RefreshItem.run_id == run_id)
                .group_by(RefreshItem.state)
            ).all()
        )
        session.execute(
            update(RefreshRun)
            .where(RefreshRun.id == run_id)
            .values(
                done=counts.get("done", 0),
                failed=counts.get("failed", 0),
                updated_at=utcnow(),
            )
        )


def _refresh_platform(
    store: Store,
    workspace: str,
    workspace_id: int,
    run_id: int,
    platform: str,
    tick: Callable[[], None],
    sleep: Sleep | None,
) -> str | None:
    """Refresh the run's pending accounts of one platform; why it stopped early, if it did."""
    pending = _pending(store, run_id, platform)
    with connector(store, workspace_id, platform, sleep) as client:
        for start in range(0, len(pending), BATCH):
            batch = pending[start : start + BATCH]
            targets = [target for _id, target in batch]
            outcome = FetchOutcome(platform=platform)
            profiles = read_all(client, targets, outcome, lambda *_a: tick())
            save(store, workspace, outcome, profiles, rescore=False)
            tried = set(targets) - set(outcome.not_tried)
            failed = {i: outcome.not_readable[t] for i, t in batch if t in outcome.not_readable}
            done = [i for i, t in batch if t in tried and i not in failed]
            _mark(store, run_id, {"done": done, "failed": list(failed)}, failed)
            if outcome.stopped:
                return outcome.stopped
    return None


def refresh_workspace(
    store: Store,
    workspace: str,
    *,
    source: str = "requested",
    progress: RefreshProgress | None = None,
    rescore: bool = True,
    sleep: Sleep | None = None,
) -> RefreshResult:
    """Refresh the followed accounts of ``workspace`` (or continue its unfinished refresh)."""
    with store.transaction() as session:
        workspace_id = get_workspace(session, workspace).id
        run, resumed = _open_run(session, workspace_id, source)
        run_id, total = run.id, run.total
        done_before = session.scalar(
            select(func.count()).where(RefreshItem.run_id == run_id, RefreshItem.state != "pending")
        )
    counter = {"done": done_before or 0}

    def tick() -> None:
        counter["done"] += 1
        if progress is not None:
            progress(counter["done"], total)

    stopped: list[str] = []
    try:
        platforms = [c.platform for c in _credentials(store, workspace_id)]
        for platform in platforms:
            why = _refresh_platform(store, workspace, workspace_id, run_id, platform, tick, sleep)
            if why:
                stopped.append(f"{platform}: {why}")
    except BaseException as exc:
        _finish(store, run_id, "failed", str(exc) or type(exc).__name__)
        log.warning("refresh run %s of %s failed: %s", run_id, workspace, exc)
        raise
    status = "partial" if stopped else "succeeded"
    _finish(store, run_id, status, "; ".join(stopped) or None)
    log.info(
        "refresh run %s of %s %s%s", run_id, workspace, status, f": {stopped}" if stopped else ""
    )
    if rescore:
        compute_metrics(store, workspace)
    with store.session() as session:
        run = session.get(RefreshRun, run_id)
        assert run is not None
        return RefreshResult(
            run_id=run_id,
            resumed=resumed,
            status=run.status,
            total=run.total,
            done=run.done,
            failed=run.failed,
            stopped=run.error,
        )


def _credentials(store: Store, workspace_id: int) -> list[Any]:
    with store.session() as session:
        return list_credentials(session, workspace_id)


def _finish(store: Store, run_id: int, status: str, error: str | None) -> None:
    with store.transaction() as session:
        session.execute(
            update(RefreshRun)
            .where(RefreshRun.id == run_id)
            .values(status=status, error=error, finished_at=utcnow(), updated_at=utcnow())
        )


def workspaces_to_refresh(store: Store) -> list[str]:
    """Every workspace with connector credentials (what `microfluence refresh` covers without
    ``--workspace``)."""
    with store.session() as session:
        return list(
            session.scalars(
                select(Workspace.name)
                .where(Workspace.id.in_(select(ConnectorCredential.workspace_id)))
                .order_by(Workspace.name)
            )
        )


def list_runs(session: Session, workspace_id: int, limit: int = 20) -> list[RefreshRun]:
    return list(
        session.scalars(
            select(RefreshRun)
            .where(RefreshRun.workspace_id == workspace_id)
            .order_by(RefreshRun.id.desc())
            .limit(limit)
        )
    )


def get_run(session: Session, workspace_id: int, run_id: int) -> RefreshRun:
    run = session.scalar(
        select(RefreshRun).where(RefreshRun.id == run_id, RefreshRun.workspace_id == workspace_id)
    )
    if run is None:
        raise NotFoundError(f"no refresh run {run_id}")
    return run


def run_items(session: Session, workspace_id: int, run_id: int) -> list[RefreshItem]:
    get_run(session, workspace_id, run_id)
    return list(
        session.scalars(
            select(RefreshItem)
            .where(RefreshItem.run_id == run_id, RefreshItem.workspace_id == workspace_id)
            .order_by(RefreshItem.id)
        )
    )
