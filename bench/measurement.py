"""Benchmark: a campaign's report and a month's payouts (issue 12, KPIs).

    .venv/bin/python -m bench.measurement [--orders 100000] [--clicks 300000] [--creators 1000]

The workspace of ``bench.attribution`` (``--creators`` creators each with a deal, a link and a
code in one campaign; ``--clicks`` clicks over 60 days, 5 % bots; ``--orders`` orders), every
order attributed. Timed, on SQLite, median of 3:

* ``measurement.report.campaign_report``: KPIs per deal, the totals, every day, the intervals;
* ``measurement.payouts.payouts`` for the last 30 of the 60 days (when the orders are);
* the baseline, what one would write first: a Python loop over the deals, with one query for
  the deal's clicks and one for its orders (counts and sums only — no days, no intervals).

The loop's counts and net revenue are checked against the report's for every deal.
"""

from __future__ import annotations

import argparse
import datetime as dt
import statistics
import tempfile
import time
from pathlib import Path

import sqlalchemy as sa

from bench.attribution import T0, build
from microfluence.campaigns.tables import Campaign, Deal
from microfluence.commerce.attribution import attribute
from microfluence.commerce.tables import Order
from microfluence.kernel.store import open_store
from microfluence.kernel.store.tables import Workspace
from microfluence.measurement.payouts import payouts
from microfluence.measurement.report import campaign_report
from microfluence.measurement.sources import Period
from microfluence.tracking.tables import LinkClick, TrackingLink


def naive(store, ws: int, campaign_id: int) -> dict[int, tuple[int, int, int, float]]:  # type: ignore[no-untyped-def]
    """Per deal: (clicks, unique clicks, orders, net revenue), two queries per deal."""
    out = {}
    with store.session() as s:
        deals = s.execute(
            sa.select(Deal.id, Deal.creator_id).where(Deal.campaign_id == campaign_id)
        ).all()
        for deal_id, creator_id in deals:
            clicks, unique = s.execute(
                sa.select(
                    sa.func.count().filter(LinkClick.is_bot.is_(False)),
                    sa.func.count().filter(LinkClick.is_unique.is_(True)),
                ).where(
                    LinkClick.link_id.in_(
                        sa.select(TrackingLink.id).where(
                            TrackingLink.workspace_id == ws,
                            TrackingLink.campaign_id == campaign_id,
                            TrackingLink.creator_id == creator_id,
                        )
                    )
                )
            ).one()
            orders, net = s.execute(
                sa.select(
                    sa.func.count(),
                    sa.func.coalesce(
                        sa.func.sum(
                            sa.case(
                                (Order.net > Order.refunded, Order.net - Order.refunded), else_=0
                            )
                        ),
                        0,
                    ),
                ).where(
                    Order.workspace_id == ws,
                    Order.campaign_id == campaign_id,
                    Order.creator_id == creator_id,
                    Order.method != "none",
                )
            ).one()
            out[deal_id] = (int(clicks), int(unique), int(orders), float(net))
    return out


def timed(function, repeat: int = 3) -> tuple[float, object]:  # type: ignore[no-untyped-def]
    times, result = [], None
    for _ in range(repeat):
        t = time.perf_counter()
        result = function()
        times.append(time.perf_counter() - t)
    return statistics.median(times), result


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--orders", type=int, default=100_000)
    parser.add_argument("--clicks", type=int, default=300_000)
    parser.add_argument("--creators", type=int, default=1_000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        store = open_store(f"sqlite:///{Path(folder) / 'bench.sqlite'}")
        t = time.perf_counter()
        ws = build(store, args.creators, args.clicks, args.orders)
        with store.transaction() as s:
            attribute(s, ws)
            campaign_id = s.scalar(sa.select(Campaign.id).where(Campaign.workspace_id == ws))
        print(
            f"built and attributed {args.orders:,} orders, {args.clicks:,} clicks "
            f"in {time.perf_counter() - t:.1f}s"
        )

        def report():  # type: ignore[no-untyped-def]
            with store.session() as s:
                return campaign_report(s, s.get(Workspace, ws), campaign_id)

        def month():  # type: ignore[no-untyped-def]
            start = T0.date() + dt.timedelta(days=30)
            with store.session() as s:
                return payouts(s, ws, Period(start, start + dt.timedelta(days=29)))

        took, result = timed(report)
        print(
            f"campaign_report: {took:.2f}s (median of 3) for {len(result.creators):,} creators, "
            f"{len(result.days)} days; totals {result.totals.clicks:,} clicks, "
            f"{result.totals.orders:,} orders"
        )
        took_pay, rows = timed(month)
        print(f"payouts, 30 days: {took_pay:.2f}s (median of 3), {rows.height:,} creators")
        t = time.perf_counter()
        slow = naive(store, ws, campaign_id)
        took_slow = time.perf_counter() - t
        print(f"baseline (a loop, two queries per deal, sums only): {took_slow:.2f}s")
        mine = {
            c.deal_id: (c.clicks, c.unique_clicks, c.orders, round(float(c.net_revenue), 2))
            for c in result.creators
        }
        agree = sum(mine[d] == (a, b, c, round(n, 2)) for d, (a, b, c, n) in slow.items())
        print(f"the loop agrees with the report on {agree:,} of {len(slow):,} deals")
        print(f"speed-up: {took_slow / took:.1f}x (the report also computes days and intervals)")
        store.dispose()


if __name__ == "__main__":
    main()
