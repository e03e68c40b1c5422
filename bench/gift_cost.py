"""Benchmark: a campaign's deal costs with gifts counted (issue 13, gifting).

    .venv/bin/python -m bench.gift_cost [--deals 20000] [--database-url URL]

One campaign of ``--deals`` deals (product value 30 each); half of them have three gifts each,
in every status (requested, shipped, delivered, cancelled, returned). Timed, median of 3, on
SQLite (or the store at ``--database-url``, analysed first):

* ``measurement.sources.deals``: every deal's money, its product cost the gifts' Σ value ×
  quantity (not cancelled or returned) when it has gifts — one GROUP BY joined to the deals;
* the baseline, what one would write first: the deals, then a Python loop asking each deal's
  gifts in one query per deal.

Both product costs are checked equal for every deal.
"""

from __future__ import annotations

import argparse
import datetime as dt
import statistics
import tempfile
import time
from decimal import Decimal
from pathlib import Path

import sqlalchemy as sa

from microfluence.campaigns.tables import Campaign, Deal, Gift
from microfluence.kernel.store import open_store
from microfluence.kernel.store.tables import Creator
from microfluence.kernel.workspaces import ensure_workspace
from microfluence.measurement import sources

STATUSES = ("requested", "shipped", "delivered", "cancelled", "returned")
NOW = dt.datetime(2026, 6, 1)


def build(store, deals: int) -> tuple[int, int]:  # type: ignore[no-untyped-def]
    with store.transaction() as s:
        ws = ensure_workspace(s, "bench-gifts").id
        s.execute(sa.insert(Creator), [{"workspace_id": ws, "name": f"c{i}"} for i in range(deals)])
        creators = s.scalars(sa.select(Creator.id).where(Creator.workspace_id == ws)).all()
        campaign = Campaign(
            workspace_id=ws,
            name="gifts",
            created_at=NOW,
            updated_at=NOW,
            targets={},
            hashtags=[],
            mentions=[],
            dos=[],
            donts=[],
        )
        s.add(campaign)
        s.flush()
        money = {"flat_fee": Decimal(100), "shipping_cost": Decimal(5), "commission_rate": 0}
        s.execute(
            sa.insert(Deal),
            [
                {
                    "workspace_id": ws,
                    "campaign_id": campaign.id,
                    "creator_id": c,
                    "product_value": Decimal(30),
                    "stage": "agreed",
                    "stage_changed_at": NOW,
                    "created_at": NOW,
                    "updated_at": NOW,
                    **money,
                }
                for c in creators
            ],
        )
        ids = s.scalars(sa.select(Deal.id).where(Deal.campaign_id == campaign.id)).all()
        s.execute(
            sa.insert(Gift),
            [
                {
                    "workspace_id": ws,
                    "deal_id": d,
                    "name": "gift",
                    "value": Decimal("12.50"),
                    "quantity": 1 + k,
                    "address": {},
                    "status": STATUSES[(d + k) % 5],
                    "created_at": NOW,
                    "updated_at": NOW,
                }
                for d in ids[: deals // 2]
                for k in range(3)
            ],
        )
    with store.connection() as conn:  # statistics as autovacuum would keep them
        conn.execute(sa.text("ANALYZE"))
        conn.commit()
    return ws, campaign.id


def naive(store, ws: int, campaign_id: int) -> dict[int, float]:  # type: ignore[no-untyped-def]
    """Per deal: its product cost, one query for each deal's gifts."""
    out = {}
    with store.session() as s:
        for deal_id, value in s.execute(
            sa.select(Deal.id, Deal.product_value).where(Deal.campaign_id == campaign_id)
        ).all():
            gifts = s.execute(
                sa.select(Gift.value, Gift.quantity, Gift.status).where(
                    Gift.workspace_id == ws, Gift.deal_id == deal_id
                )
            ).all()
            counted = [v * q for v, q, status in gifts if status not in ("cancelled", "returned")]
            out[deal_id] = float(sum(counted) if gifts else value)
    return out


def timed(fn, runs: int = 3) -> tuple[float, object]:  # type: ignore[no-untyped-def]
    times, result = [], None
    for _ in range(runs):
        start = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times), result


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--deals", type=int, default=20_000)
    parser.add_argument("--database-url")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        url = args.database_url or f"sqlite:///{Path(folder) / 'gifts.sqlite'}"
        store = open_store(url)
        ws, campaign_id = build(store, args.deals)

        def vectorised():  # type: ignore[no-untyped-def]
            with store.session() as s:
                return sources.deals(s, ws, campaign_id)

        fast, frame = timed(vectorised)
        slow, loop = timed(lambda: naive(store, ws, campaign_id))
        got = dict(zip(frame["deal_id"].to_list(), frame["product_value"].to_list(), strict=True))
        assert got == loop, "the two product costs differ"
        store.dispose()
    backend = url.split(":", 1)[0]
    print(f"{backend}: {args.deals:,} deals, {3 * (args.deals // 2):,} gifts")
    print(f"  measurement.sources.deals (GROUP BY, joined): {fast * 1000:,.0f} ms")
    print(f"  a query per deal (baseline):                  {slow * 1000:,.0f} ms")
    print(f"  {slow / fast:.1f}× faster")


if __name__ == "__main__":
    main()
