"""Benchmark: attributing orders to creators (issue 12).

    .venv/bin/python -m bench.attribution [--orders 100000] [--clicks 300000] [--creators 1000]

A workspace with ``--creators`` creators, each with a deal, a link and a code; ``--clicks``
clicks over 60 days (5 % bots); ``--orders`` orders, a third with a creator's code, a third
landing with a click's ``mf_click`` token, a sixth with utm parameters only, the rest with
neither. Timed, on SQLite:

* ``commerce.attribution.attribute`` on every order of the workspace: load, Polars joins and
  as-of joins, the burst rule, one bulk update, committed;
* the baseline, what one would write first: a Python loop over the orders with one query per
  order for its code, its click and the creator's last click (what ``attribute`` decides, the
  same rules), on a sample of orders, extrapolated.

The sample's answers are checked against ``attribute``'s, so the two are the same computation.
"""

from __future__ import annotations

import argparse
import datetime as dt
import random
import tempfile
import time
from decimal import Decimal
from pathlib import Path

import sqlalchemy as sa

from microfluence.campaigns.tables import Campaign, Deal
from microfluence.commerce.attribution import DEFAULT_DAYS, attribute, compute
from microfluence.commerce.shops import create_shop
from microfluence.commerce.tables import Order
from microfluence.kernel.store import open_store
from microfluence.kernel.store.tables import Creator, utcnow
from microfluence.kernel.workspaces import ensure_workspace
from microfluence.tracking.tables import DiscountCode, LinkClick, TrackingLink

T0 = dt.datetime(2026, 3, 1)


def build(store, creators: int, clicks: int, orders: int, seed: int = 7):  # type: ignore[no-untyped-def]
    rnd = random.Random(seed)
    now = utcnow()
    with store.transaction() as s:
        ws = ensure_workspace(s, "bench").id
        campaign = Campaign(
            workspace_id=ws,
            name="c",
            targets={},
            hashtags=[],
            mentions=[],
            attribution_days=DEFAULT_DAYS,
        )
        s.add(campaign)
        s.flush()
        s.execute(
            sa.insert(Creator),
            [
                {"workspace_id": ws, "name": f"C{i}", "created_at": now, "updated_at": now}
                for i in range(creators)
            ],
        )
        cids = list(
            s.scalars(sa.select(Creator.id).where(Creator.workspace_id == ws).order_by(Creator.id))
        )
        s.execute(
            sa.insert(Deal),
            [
                {
                    "workspace_id": ws,
                    "campaign_id": campaign.id,
                    "creator_id": c,
                    "commission_rate": Decimal("0.1"),
                    "flat_fee": 0,
                    "product_value": 0,
                    "shipping_cost": 0,
                    "created_at": now,
                    "updated_at": now,
                }
                for c in cids
            ],
        )

        def utm(i: int) -> dict[str, str]:
            return {
                "utm_source": "ig",
                "utm_medium": "influencer",
                "utm_campaign": "c",
                "utm_content": f"h{i}",
            }

        s.execute(
            sa.insert(TrackingLink),
            [
                {
                    "workspace_id": ws,
                    "slug": f"s{i}",
                    "destination": "https://x/",
                    "creator_id": c,
                    "campaign_id": campaign.id,
                    "utm": utm(i),
                    "created_at": now,
                }
                for i, c in enumerate(cids)
            ],
        )
        links = list(
            s.scalars(
                sa.select(TrackingLink.id)
                .where(TrackingLink.workspace_id == ws)
                .order_by(TrackingLink.id)
            )
        )
        s.execute(
            sa.insert(DiscountCode),
            [
                {
                    "workspace_id": ws,
                    "code": f"C{i}-X",
                    "code_key": f"C{i}-X",
                    "creator_id": c,
                    "campaign_id": campaign.id,
                    "kind": "percent",
                    "value": 10,
                    "single_use": False,
                    "created_at": now,
                }
                for i, c in enumerate(cids)
            ],
        )
        click_rows = []
        for k in range(clicks):
            click_rows.append(
                {
                    "workspace_id": ws,
                    "link_id": rnd.choice(links),
                    "token": f"t{k}",
                    "clicked_at": T0 + dt.timedelta(seconds=rnd.randrange(60 * 86400)),
                    "agent_class": "browser",
                    "visitor_hash": "v",
                    "is_bot": rnd.random() < 0.05,
                    "is_unique": True,
                }
            )
        for start in range(0, len(click_rows), 50_000):
            s.execute(sa.insert(LinkClick), click_rows[start : start + 50_000])
        shop_id = create_shop(s, ws, platform="shopify", name="main").shop.id
        order_rows = []
        for k in range(orders):
            kind = k % 6
            codes, landing = [], None
            if kind in (0, 1):
                codes = [f"C{rnd.randrange(creators)}-X"]
            elif kind in (2, 3):
                landing = f"/?mf_click=t{rnd.randrange(clicks)}"
            elif kind == 4:
                content = f"h{rnd.randrange(creators)}"
                landing = (
                    f"/?utm_source=ig&utm_medium=influencer&utm_campaign=c&utm_content={content}"
                )
            order_rows.append(
                {
                    "workspace_id": ws,
                    "shop_id": shop_id,
                    "external_id": str(k),
                    "ordered_at": T0 + dt.timedelta(seconds=rnd.randrange(30 * 86400, 60 * 86400)),
                    "currency": "USD",
                    "gross": 50,
                    "discounts": 0,
                    "net": 50,
                    "total": 50,
                    "refunded": 0,
                    "codes": codes,
                    "landing_url": landing,
                    "referrer_host": "retailmenot.com" if rnd.random() < 0.02 else None,
                    "source": "csv",
                    "method": "none",
                    "leak": False,
                    "created_at": now,
                    "updated_at": now,
                }
            )
        for start in range(0, len(order_rows), 50_000):
            s.execute(sa.insert(Order), order_rows[start : start + 50_000])
    return ws


def naive(store, ws: int, order_ids: list[int]) -> dict[int, tuple[str, int | None]]:  # type: ignore[no-untyped-def]
    """The same rules, one order at a time, a few queries each."""
    from urllib.parse import parse_qs, urlsplit

    out = {}
    with store.transaction() as s:
        for oid in order_ids:
            o = s.get(Order, oid)
            creator = None
            for code in o.codes or []:
                creator = s.scalar(
                    sa.select(DiscountCode.creator_id).where(
                        DiscountCode.workspace_id == ws, DiscountCode.code_key == code.upper()
                    )
                )
                if creator:
                    out[oid] = ("code", creator)
                    break
            if creator:
                continue
            params = parse_qs(urlsplit(o.landing_url or "").query)
            window = (o.ordered_at - dt.timedelta(days=DEFAULT_DAYS), o.ordered_at)
            if "mf_click" in params:
                row = s.execute(
                    sa.select(LinkClick.clicked_at, LinkClick.is_bot, TrackingLink.creator_id)
                    .join(TrackingLink, TrackingLink.id == LinkClick.link_id)
                    .where(LinkClick.token == params["mf_click"][0])
                ).first()
                if row and not row.is_bot and window[0] <= row.clicked_at <= window[1]:
                    out[oid] = ("click", row.creator_id)
                    continue
            if "utm_content" in params:
                link = s.execute(
                    sa.select(TrackingLink.id, TrackingLink.creator_id).where(
                        TrackingLink.workspace_id == ws,
                        TrackingLink.utm["utm_content"].as_string() == params["utm_content"][0],
                    )
                ).first()
                if link is not None:
                    last = s.scalar(
                        sa.select(sa.func.max(LinkClick.clicked_at)).where(
                            LinkClick.link_id == link.id,
                            LinkClick.is_bot.is_(False),
                            LinkClick.clicked_at >= window[0],
                            LinkClick.clicked_at <= window[1],
                        )
                    )
                    if last is not None:
                        out[oid] = ("click", link.creator_id)
                        continue
            out[oid] = ("none", None)
    return out


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--orders", type=int, default=100_000)
    parser.add_argument("--clicks", type=int, default=300_000)
    parser.add_argument("--creators", type=int, default=1_000)
    parser.add_argument("--sample", type=int, default=2_000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        store = open_store(f"sqlite:///{Path(folder) / 'bench.sqlite'}")
        started = time.perf_counter()
        ws = build(store, args.creators, args.clicks, args.orders)
        built = time.perf_counter() - started
        print(f"built {args.orders:,} orders, {args.clicks:,} clicks in {built:.1f}s")
        t = time.perf_counter()
        with store.transaction() as s:
            compute(s, ws)
        print(f"compute alone (load and Polars, no write): {time.perf_counter() - t:.2f}s")
        cpu, wall = time.process_time(), time.perf_counter()
        with store.transaction() as s:
            summary = attribute(s, ws)
        wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
        print(f"attribute: {summary}")
        print(
            f"attribute (Polars, one bulk update): {wall:.2f}s wall, {cpu:.2f}s CPU, "
            f"{args.orders / wall:,.0f} orders/s"
        )
        t = time.perf_counter()
        with store.transaction() as s:
            attribute(s, ws)
        print(f"attribute again, nothing changed (no write): {time.perf_counter() - t:.2f}s")
        with store.transaction() as s:
            ids = list(s.scalars(sa.select(Order.id).where(Order.workspace_id == ws)))
            sample = random.Random(3).sample(ids, min(args.sample, len(ids)))
            stored = {
                r.id: (r.method, r.creator_id)
                for r in s.execute(
                    sa.select(Order.id, Order.method, Order.creator_id).where(Order.id.in_(sample))
                )
            }
        t = time.perf_counter()
        slow = naive(store, ws, sample)
        took = time.perf_counter() - t
        rate = len(sample) / took
        print(
            f"baseline (a loop, queries per order): {rate:,.0f} orders/s on {len(sample):,}; "
            f"{args.orders / rate:.1f}s extrapolated"
        )
        mismatches = sum(stored[i] != slow[i] for i in sample)
        agree = len(sample) - mismatches
        print(f"the sample agrees with attribute on {agree:,} of {len(sample):,} orders")
        print(f"speed-up: {args.orders / wall / rate:.1f}x")
        store.dispose()


if __name__ == "__main__":
    main()
