"""Benchmark: what needs attention in a busy workspace (issue 13, reminders).

    .venv/bin/python -m bench.reminders [--deals 5000] [--repeat 5]

Builds a SQLite store with ``--deals`` creators, each with a deal in one of ten campaigns; each
deal has two deliverables (some past due), a third of them a gift (requested or shipped, of
various ages), a fifth a pending submission, half of them moved to ``contacted`` at various
ages (some with a later message or a reply), and a task for every fourth deal. Then times
``relationships.reminders.reminders`` (six SQL queries, one per kind) ``--repeat`` times.

Baseline in the same run: the same rules written the obvious way — a Python loop over the
deals, each asking the store for its deliverables, gifts, submissions, events and tasks — and
checked to find the same number of items of each kind.
"""

from __future__ import annotations

import argparse
import datetime as dt
import statistics
import tempfile
import time
from collections import Counter
from pathlib import Path

import numpy as np
from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from microfluence.campaigns.tables import Campaign, Deal, Deliverable, Gift
from microfluence.kernel.store import open_store
from microfluence.kernel.store.tables import Creator
from microfluence.kernel.workspaces import ensure_workspace
from microfluence.relationships.reminder_settings import DEFAULTS
from microfluence.relationships.reminders import CLOSED_STAGES, reminders
from microfluence.relationships.tables import DealEvent, Submission, Task

TODAY = dt.date(2026, 7, 10)


def _ago(days: int) -> dt.datetime:
    return dt.datetime.combine(TODAY, dt.time(12)) - dt.timedelta(days=int(days))


def _rows(ws: int, deal_ids: list[int], rng: np.random.Generator) -> dict[type, list[dict]]:
    rows: dict[type, list[dict]] = {Deliverable: [], Gift: [], Submission: [], DealEvent: []}
    rows[Task] = []
    for n, deal in enumerate(deal_ids):
        for _ in range(2):
            rows[Deliverable].append(
                {
                    "workspace_id": ws,
                    "deal_id": deal,
                    "format": "feed_post",
                    "due_on": TODAY - dt.timedelta(days=int(rng.integers(-10, 10))),
                    "status": "pending" if rng.random() < 0.6 else "confirmed",
                    "rejected_post_ids": [],
                }
            )
        if n % 3 == 0:
            status = "requested" if rng.random() < 0.5 else "shipped"
            age = _ago(rng.integers(0, 30))
            rows[Gift].append(
                {
                    "workspace_id": ws,
                    "deal_id": deal,
                    "name": "kit",
                    "status": status,
                    "address": {},
                    "created_at": age,
                    "updated_at": age,
                    "shipped_at": age if status == "shipped" else None,
                }
            )
        if n % 5 == 0:
            rows[Submission].append(
                {
                    "workspace_id": ws,
                    "deal_id": deal,
                    "url": "https://x.example/p",
                    "submitted_at": _ago(rng.integers(0, 6)),
                }
            )
        if n % 2 == 0 and rng.random() < 0.3:
            kind = "message" if rng.random() < 0.5 else "reply"
            rows[DealEvent].append(
                {
                    "workspace_id": ws,
                    "deal_id": deal,
                    "kind": kind,
                    "actor_kind": "user",
                    "at": _ago(rng.integers(0, 5)),
                    "detail": {},
                }
            )
        if n % 4 == 0:
            rows[Task].append(
                {
                    "workspace_id": ws,
                    "deal_id": deal,
                    "kind": "follow_up",
                    "title": "call",
                    "due_on": TODAY + dt.timedelta(days=int(rng.integers(-5, 10))),
                    "created_at": _ago(10),
                    "updated_at": _ago(10),
                }
            )
    return rows


def build(url: str, deals: int, seed: int = 13) -> int:
    rng = np.random.default_rng(seed)
    store = open_store(url)
    with store.transaction() as session:
        ws = ensure_workspace(session, "bench").id
        session.execute(
            insert(Creator), [{"workspace_id": ws, "name": f"c{i}"} for i in range(deals)]
        )
        session.execute(
            insert(Campaign),
            [
                {
                    "workspace_id": ws,
                    "name": f"campaign {i}",
                    "targets": {},
                    "hashtags": [],
                    "mentions": [],
                    "dos": [],
                    "donts": [],
                }
                for i in range(10)
            ],
        )
        creators = list(session.scalars(select(Creator.id).order_by(Creator.id)))
        campaigns = list(session.scalars(select(Campaign.id).order_by(Campaign.id)))
        contacted = rng.random(deals) < 0.5
        session.execute(
            insert(Deal),
            [
                {
                    "workspace_id": ws,
                    "campaign_id": campaigns[i % 10],
                    "creator_id": c,
                    "stage": "contacted" if contacted[i] else "agreed",
                    "stage_changed_at": _ago(rng.integers(0, 20)),
                }
                for i, c in enumerate(creators)
            ],
        )
        deal_ids = list(session.scalars(select(Deal.id).order_by(Deal.id)))
        for table, rows in _rows(ws, deal_ids, rng).items():
            session.execute(insert(table), rows)
    store.dispose()
    return ws


def _late(since: dt.datetime | None, days: int) -> bool:
    return since is not None and since.date() + dt.timedelta(days=days) < TODAY


def per_deal_loop(session: Session, ws: int) -> Counter[str]:  # noqa: C901  the baseline, as written by hand
    """The same rules, one deal at a time: what a first version would do."""
    found: Counter[str] = Counter()
    limits = DEFAULTS
    for deal in session.scalars(select(Deal).where(Deal.workspace_id == ws)):
        tasks = session.scalars(select(Task).where(Task.deal_id == deal.id))
        for task in tasks:
            horizon = TODAY + dt.timedelta(days=limits["task_horizon_days"])
            if task.done_at is None and task.due_on is not None and task.due_on <= horizon:
                found["task"] += 1
        if deal.stage in CLOSED_STAGES:
            continue
        for piece in session.scalars(select(Deliverable).where(Deliverable.deal_id == deal.id)):
            if piece.status == "pending" and piece.post_id is None and piece.due_on < TODAY:
                found["deliverable"] += 1
        for gift in session.scalars(select(Gift).where(Gift.deal_id == deal.id)):
            if gift.status == "requested" and _late(gift.created_at, limits["gift_ship_days"]):
                found["gift_unshipped"] += 1
            shipped = gift.shipped_at or gift.updated_at
            if gift.status == "shipped" and _late(shipped, limits["gift_delivery_days"]):
                found["gift_undelivered"] += 1
        for sub in session.scalars(select(Submission).where(Submission.deal_id == deal.id)):
            if sub.status == "pending" and _late(sub.submitted_at, limits["review_days"]):
                found["review"] += 1
        if deal.stage == "contacted":
            events = list(session.scalars(select(DealEvent).where(DealEvent.deal_id == deal.id)))
            touched = max([deal.stage_changed_at] + [e.at for e in events if e.kind == "message"])
            replied = any(e.kind == "reply" and e.at >= deal.stage_changed_at for e in events)
            if not replied and _late(touched, limits["follow_up_days"]):
                found["follow_up"] += 1
    return found


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--deals", type=int, default=5000)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{Path(tmp) / 'bench.sqlite'}"
        started = time.perf_counter()
        ws = build(url, args.deals)
        print(f"built {args.deals} deals in {time.perf_counter() - started:.1f}s")
        store = open_store(url)
        times = []
        for _ in range(args.repeat):
            with store.session() as session:
                started = time.perf_counter()
                result = reminders(session, ws, today=TODAY)
                times.append(time.perf_counter() - started)
        with store.session() as session:
            started = time.perf_counter()
            baseline = per_deal_loop(session, ws)
            loop = time.perf_counter() - started
        store.dispose()
    ours = {k: v for k, v in result.counts.items() if v}
    assert ours == dict(baseline), (ours, dict(baseline))
    median = statistics.median(times)
    print(f"items: {len(result.items)} {ours}")
    print(f"reminders(): median {median * 1000:.0f} ms over {args.repeat} runs")
    print(f"per-deal loop baseline: {loop * 1000:.0f} ms ({loop / median:.0f}x slower)")


if __name__ == "__main__":
    main()
