"""A crafted campaign whose every KPI is computed by hand in docs/measurement.md's worked
example and in tests/test_measurement.py: the "spring" campaign of commerce_support (Sarah on
Instagram, Tom on TikTok, 10 % commission each), with fees, clicks, orders, a refund and the
posts that delivered Sarah's two deliverables — rows inserted directly where easier.

    Sarah  fee 100, product 30, shipping 10; 10 clicks (8 unique) + 2 bot clicks;
           code orders of 100 (May 1), 50 (May 2, 30 refunded on May 20), 150 (May 3);
           posts: 100 likes + 10 comments + 5 shares + 5 saves, 2,000 impressions (May 5);
                  50 likes, reach 1,000 only (May 7)
    Tom    fee 50; 4 clicks (4 unique) + 1 bot click; one order of 80 by his click (May 2)
"""

from __future__ import annotations

import datetime as dt
import secrets
from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy import select, update

from commerce_support import Brand, make_brand
from microfluence.campaigns.tables import Campaign, Deal, Deliverable
from microfluence.commerce.attribution import attribute
from microfluence.commerce.orders import save_orders, save_refunds
from microfluence.commerce.payloads import OrderRecord, RefundRecord
from microfluence.commerce.shops import create_shop, find_shop
from microfluence.kernel.store import Store
from microfluence.kernel.store.tables import Account, Post
from microfluence.tracking import codes as C
from microfluence.tracking.tables import LinkClick

MAY = dt.datetime(2026, 5, 1, 10, 0, 0)
DAY = dt.timedelta(days=1)


@dataclass
class Crafted:
    brand: Brand
    tom_token: str


def click(
    store: Store, brand: Brand, who: str, at: dt.datetime, *, unique: bool, bot: bool = False
) -> str:
    token = secrets.token_urlsafe(12)
    with store.transaction() as s:
        s.add(
            LinkClick(
                workspace_id=brand.workspace_id,
                link_id=brand.links[who],
                token=token,
                clicked_at=at,
                agent_class="bot" if bot else "browser",
                visitor_hash=secrets.token_hex(8),
                is_bot=bot,
                is_unique=unique and not bot,
                window_start=at.replace(minute=0, second=0, microsecond=0),
            )
        )
    return token


def order(ext: str, at: dt.datetime, net: str, *, codes=(), landing=None) -> OrderRecord:  # type: ignore[no-untyped-def]
    return OrderRecord(
        external_id=ext,
        ordered_at=at,
        currency="USD",
        net=Decimal(net),
        gross=Decimal(net),
        total=Decimal(net),
        codes=list(codes),
        landing_url=landing,
    )


def put_orders(store: Store, brand: Brand, *records: OrderRecord) -> None:
    with store.transaction() as s:
        shop = find_shop(s, brand.workspace_id, "main")
        ids = save_orders(s, shop, list(records), key="k")
        attribute(s, brand.workspace_id, ids)


def refund(
    store: Store, brand: Brand, ext: str, order_ext: str, at: dt.datetime, amount: str
) -> None:
    with store.transaction() as s:
        shop = find_shop(s, brand.workspace_id, "main")
        save_refunds(
            s,
            shop,
            [
                RefundRecord(
                    external_id=ext,
                    order_external_id=order_ext,
                    refunded_at=at,
                    amount=Decimal(amount),
                )
            ],
        )


def post(store: Store, brand: Brand, deal: str, at: dt.datetime, **counts: int | None) -> int:
    """A post of the deal's creator's account, filling one new confirmed deliverable."""
    with store.transaction() as s:
        deal_row = s.get(Deal, brand.deals[deal])
        account = s.scalar(select(Account).where(Account.creator_id == deal_row.creator_id))
        p = Post(
            workspace_id=brand.workspace_id,
            account_id=account.id,
            platform_post_id=secrets.token_hex(6),
            posted_at=at,
            **counts,
        )
        s.add(p)
        s.flush()
        s.add(
            Deliverable(
                workspace_id=brand.workspace_id,
                deal_id=deal_row.id,
                format="feed_post",
                post_id=p.id,
                status="confirmed",
                matched_by="user",
                matched_at=at,
            )
        )
        return p.id


def crafted(store: Store, name: str = "acme") -> Crafted:
    brand = make_brand(store, name)
    with store.transaction() as s:
        s.execute(
            update(Campaign)
            .where(Campaign.id == brand.campaign_id)
            .values(
                starts_on=dt.date(2026, 5, 1),
                targets={"orders": 4, "cpa": 50, "clicks": 20},
            )
        )
        s.execute(
            update(Deal)
            .where(Deal.id == brand.deals["sarah"])
            .values(
                flat_fee=Decimal("100"), product_value=Decimal("30"), shipping_cost=Decimal("10")
            )
        )
        s.execute(update(Deal).where(Deal.id == brand.deals["tom"]).values(flat_fee=Decimal("50")))
        create_shop(s, brand.workspace_id, platform="shopify", name="main")
        owner = C.resolve_owner(
            s, brand.workspace_id, creator="instagram:sarah_k", campaign="spring"
        )
        C.create_code(s, brand.workspace_id, owner, value=15, code="SARAH15")
    for i in range(10):  # Sarah: 6 on May 1, 4 on May 2; the 2 repeats are not unique
        click(store, brand, "sarah", MAY + dt.timedelta(hours=i if i < 6 else 20 + i), unique=i < 8)
    click(store, brand, "sarah", MAY, unique=False, bot=True)
    click(store, brand, "sarah", MAY + DAY, unique=False, bot=True)
    tokens = [
        click(store, brand, "tom", MAY + dt.timedelta(hours=i), unique=True) for i in range(4)
    ]
    click(store, brand, "tom", MAY, unique=False, bot=True)
    put_orders(
        store,
        brand,
        order("s1", MAY + dt.timedelta(hours=8), "100.00", codes=["SARAH15"]),
        order("s2", MAY + DAY, "50.00", codes=["sarah15"]),
        order("s3", MAY + 2 * DAY, "150.00", codes=["SARAH15"]),
        order("t1", MAY + DAY, "80.00", landing=f"https://shop.example/?mf_click={tokens[0]}"),
    )
    refund(store, brand, "r1", "s2", MAY + 19 * DAY, "30.00")
    post(
        store,
        brand,
        "sarah",
        MAY + 4 * DAY,
        likes=100,
        comments=10,
        shares=5,
        saves=5,
        impressions=2000,
    )
    post(store, brand, "sarah", MAY + 6 * DAY, likes=50, reach=1000)
    return Crafted(brand, tokens[0])
