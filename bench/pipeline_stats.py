"""Benchmark: a campaign's pipeline statistics and board (issue 13).

    .venv/bin/python -m bench.pipeline_stats [--deals 20000] [--moves 6] [--repeat 3]

Builds a SQLite store with one campaign of ``--deals`` deals (a creator each) and up to
``--moves`` random stage moves per deal (forward on the main path, now and then to a side stage
and back), recorded in ``deal_events`` as ``move_deals`` records them. Then times
``relationships.pipeline_stats.pipeline_stats`` (two queries into Polars: stays, their lengths,
the furthest stage per deal) and ``relationships.pipeline.board`` (one query).

Baseline in the same run: the same statistics written the obvious way — the deals and events
read the same way, then Python loops over the rows building each deal's stays in a dictionary,
the median and mean per stage with ``statistics``, and the furthest stage per deal — checked to
give the same numbers.
"""

from __future__ import annotations

import argparse
import datetime as dt
import statistics
import tempfile
import time
from collections import defaultdict
from pathlib import Path

import numpy as np
from sqlalchemy import insert, select

from microfluence.campaigns.campaigns import create_campaign
from microfluence.campaigns.schemas import CampaignCreate
from microfluence.campaigns.tables import PIPELINE_STAGES, SIDE_STAGES, Deal
from microfluence.kernel.store import open_store
from microfluence.kernel.store.tables import Creator
from microfluence.kernel.workspaces import ensure_workspace
from microfluence.relationships.pipeline import board
from microfluence.relationships.pipeline_stats import pipeline_stats
from microfluence.relationships.tables import DealEvent

T0 = dt.datetime(2026, 1, 1)
NOW = dt.datetime(2026, 6, 1)


def _history(rng: np.random.Generator, moves: int) -> list[tuple[str, str, dt.datetime]]:
    stage, at, steps = "prospect", T0, []
    for _ in range(int(rng.integers(0, moves + 1))):
        at += dt.timedelta(hours=float(rng.exponential(96)))
        rank = PIPELINE_STAGES.index(stage) if stage in PIPELINE_STAGES else 1
        if stage in SIDE_STAGES or rng.random() > 0.15:
            to = PIPELINE_STAGES[min(rank + 1 + int(rng.integers(0, 2)), 7)]
        else:
            to = str(rng.choice(SIDE_STAGES))
        if to != stage:
            steps.append((stage, to, at))
            stage = to
    return steps


def build(url: str, deals: int, moves: int, seed: int = 7) -> tuple[int, int, int]:
    rng = np.random.default_rng(seed)
    store = open_store(url)
    with store.transaction() as session:
        ws = ensure_workspace(session, "bench").id
        cid = create_campaign(session, ws, CampaignCreate(name="Bench")).id
        session.execute(
            insert(Creator), [{"workspace_id": ws, "name": f"c{i}"} for i in range(deals)]
        )
        creators = list(session.scalars(select(Creator.id).order_by(Creator.id)))
        histories = [_history(rng, moves) for _ in creators]
        session.execute(
            insert(Deal),
            [
                {
                    "workspace_id": ws,
                    "campaign_id": cid,
                    "creator_id": c,
                    "stage": h[-1][1] if h else "prospect",
                    "stage_changed_at": h[-1][2] if h else T0,
                    "created_at": T0,
                    "updated_at": T0,
                }
                for c, h in zip(creators, histories, strict=True)
            ],
        )
        deal_ids = list(session.scalars(select(Deal.id).order_by(Deal.creator_id)))
        events = [
            {
                "workspace_id": ws,
                "deal_id": d,
                "at": at,
                "actor_kind": "user",
                "actor": "bench",
                "kind": "stage",
                "from_stage": a,
                "to_stage": b,
                "detail": {},
            }
            for d, h in zip(deal_ids, histories, strict=True)
            for a, b, at in h
        ]
        for start in range(0, len(events), 20_000):
            session.execute(insert(DealEvent), events[start : start + 20_000])
    store.dispose()
    return ws, cid, len(events)


def naive(session, ws: int, cid: int) -> tuple[dict, dict]:  # type: ignore[no-untyped-def]
    deals = session.execute(
        select(Deal.id, Deal.created_at, Deal.stage).where(
            Deal.workspace_id == ws, Deal.campaign_id == cid
        )
    ).all()
    events = session.execute(
        select(
            DealEvent.deal_id, DealEvent.id, DealEvent.at, DealEvent.from_stage, DealEvent.to_stage
        )
        .join(Deal, Deal.id == DealEvent.deal_id)
        .where(Deal.campaign_id == cid, DealEvent.kind == "stage")
    ).all()
    by_deal = defaultdict(list)
    for e in events:
        by_deal[e.deal_id].append(e)
    days = defaultdict(list)
    furthest = {}
    for d in deals:
        moves = sorted(by_deal[d.id], key=lambda e: (e.at, e.id))
        stage = moves[0].from_stage if moves else d.stage
        start = min([d.created_at] + [m.at for m in moves[:1]])
        best = PIPELINE_STAGES.index(stage) if stage in PIPELINE_STAGES else 0
        for m in moves:
            days[stage].append(max(0.0, (m.at - start).total_seconds() / 86_400))
            stage, start = m.to_stage, m.at
            best = max(best, PIPELINE_STAGES.index(stage) if stage in PIPELINE_STAGES else 0)
        days[stage].append(max(0.0, (NOW - start).total_seconds() / 86_400))
        furthest[d.id] = best
    medians = {s: statistics.median(v) for s, v in days.items()}
    reached = {s: sum(f >= k for f in furthest.values()) for k, s in enumerate(PIPELINE_STAGES)}
    return medians, reached


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--deals", type=int, default=20_000)
    parser.add_argument("--moves", type=int, default=6)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        url = f"sqlite:///{Path(folder) / 'bench.sqlite'}"
        started = time.perf_counter()
        ws, cid, events = build(url, args.deals, args.moves)
        print(
            f"built {args.deals:,} deals, {events:,} stage events in "
            f"{time.perf_counter() - started:.1f}s"
        )
        store = open_store(url)
        timings: dict[str, list[float]] = defaultdict(list)
        for _ in range(args.repeat):
            with store.session() as session:
                t = time.perf_counter()
                stats = pipeline_stats(session, ws, cid, now=NOW)
                timings["pipeline_stats (Polars)"].append(time.perf_counter() - t)
                t = time.perf_counter()
                shown = board(session, ws, cid, now=NOW)
                timings["board (one query)"].append(time.perf_counter() - t)
                t = time.perf_counter()
                medians, reached = naive(session, ws, cid)
                timings["baseline: Python loops over rows"].append(time.perf_counter() - t)
        store.dispose()
    assert len(shown.cards) == args.deals
    assert reached == stats.reached, (reached, stats.reached)
    for s in stats.stages:
        if s.stays:
            assert abs(s.median_days - medians[s.stage]) < 1e-6, s.stage
    for name, values in timings.items():
        best, middle = min(values), statistics.median(values)
        print(
            f"{name:36s} best {best * 1000:8.1f} ms  median {middle * 1000:8.1f} ms"
            f"  ({args.deals / best:,.0f} deals/s)"
        )


if __name__ == "__main__":
    main()
