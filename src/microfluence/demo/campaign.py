"""The demo workspace's running campaign (docs/demo.md, "The running campaign").

A beauty brand (Glow Lab) runs *Summer Glow* around the demo's last day: about twenty of the
demo's creators — nano, micro and mid-tier, on Instagram and TikTok, chosen with their terms by
:mod:`demo.roster` — each with a deal (a flat fee or none, the gifted kit, a commission),
deliverables, a short link and a personal code, and a Shopify shop. Some of their posts in the
campaign's dates carry the campaign's hashtag, and the real matcher
(:func:`tracking.deliverables.match_deliverables`) links them to the deliverables.
Clicks, orders and refunds (:mod:`demo.traffic`) are written through the tables' own write paths
(``tracking.clicks.insert_clicks``, ``commerce.orders.upsert`` and ``refresh_refunded``), then
the real attribution (:func:`commerce.attribution.attribute`) decides who earned what — every KPI
of the dashboard comes from the product's code.

Everything runs on the demo's connection, inside its one transaction; the creators, their deal
terms, their outcomes and the traffic come from a generator seeded with the demo's seed.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from dataclasses import dataclass
from decimal import Decimal

import numpy as np
import polars as pl
import sqlalchemy as sa
from sqlalchemy import Connection, select
from sqlalchemy.orm import Session

from microfluence.campaigns.campaigns import create_campaign, find_campaign, update_campaign
from microfluence.campaigns.deals import add_deal
from microfluence.campaigns.schemas import CampaignCreate, CampaignUpdate, DealCreate
from microfluence.campaigns.tables import Campaign
from microfluence.commerce.attribution import AttributionSummary, attribute
from microfluence.commerce.orders import ORDER_FIELDS, refresh_refunded, upsert
from microfluence.commerce.shops import create_shop
from microfluence.commerce.tables import Order, Refund, Shop
from microfluence.demo import traffic
from microfluence.demo.population import Population
from microfluence.demo.roster import (
    KIT_SHIPPING,
    KIT_VALUE,
    campaign_posts,
    choose_creators,
    creator_ids,
    deal_terms,
)
from microfluence.kernel.errors import ConflictError
from microfluence.kernel.store.tables import Post
from microfluence.relationships.stages import move_deals
from microfluence.tracking.clicks import COLUMNS as CLICK_COLUMNS
from microfluence.tracking.clicks import insert_clicks
from microfluence.tracking.codes import ALPHABET as CODE_ALPHABET
from microfluence.tracking.codes import create_code, resolve_owner, stem_of
from microfluence.tracking.deliverables import match_deliverables
from microfluence.tracking.links import LinkCreate, create_link

CAMPAIGN = "Summer Glow"
BRAND = "glowlab"
HASHTAG = "glowlabsummer"
SHOP = "glowlab"
SHOP_DOMAIN = "glowlab-demo.myshopify.com"
STORE_URL = "https://glowlab.example/"
PRODUCT_URL = "https://glowlab.example/products/summer-glow-kit"
# How the campaign sits around the demo's last day.
DAYS_BEFORE, DAYS_AFTER = 24, 10


@dataclass
class CampaignSummary:
    """What the demo campaign holds once built."""

    campaign_id: int
    name: str
    deals: int
    matched: int
    clicks: int
    orders: int
    refunds: int
    attribution: AttributionSummary


def clear_campaign(conn: Connection, workspace_id: int) -> dict[str, int]:
    """Delete the demo's campaign and shop (their deals, links, codes, orders … go with them)."""
    removed = {}
    for table, name in ((Shop.__table__, SHOP), (Campaign.__table__, CAMPAIGN)):
        result = conn.execute(
            sa.delete(table).where(table.c.workspace_id == workspace_id, table.c.name == name)
        )
        removed[table.name] = result.rowcount or 0
    return removed


# -- writing it ------------------------------------------------------------------------------


def _create_campaign(
    session: Session, workspace_id: int, days: tuple[dt.date, dt.date], terms: pl.DataFrame
) -> Campaign:
    fixed = float(terms["fixed_cost"].sum())
    budget = Decimal(int(np.ceil(fixed * 1.25 / 500) * 500))
    data = CampaignCreate(
        name=CAMPAIGN,
        goal="sales",
        starts_on=days[0],
        ends_on=days[1],
        budget=budget,
        currency="USD",
        targets={"net_revenue": float(budget) * 2.5, "roi": 1.5, "orders": float(budget) / 25},
        hashtags=[HASHTAG],
        mentions=[BRAND],
        notes="Demo: Glow Lab's summer kit, gifted to creators with a personal 15 % code.",
    )
    public = create_campaign(session, workspace_id, data)
    update_campaign(session, workspace_id, public.id, CampaignUpdate(status="active"))
    campaign = find_campaign(session, workspace_id, public.id)
    campaign.brief = "Show the Summer Glow kit in your routine; share your code and link."
    campaign.dos = ["Show the kit in daylight", "Say what you liked, in your words"]
    campaign.donts = ["No medical claims", "Don't mention other skincare brands"]
    campaign.disclosure = "#ad"
    session.flush()
    return campaign


def _code(
    session: Session, workspace_id: int, ref: str, name: str, rng: np.random.Generator
) -> str:
    owner = resolve_owner(session, workspace_id, creator=ref, campaign=CAMPAIGN)
    alphabet = np.array(list(CODE_ALPHABET))
    for _ in range(12):  # a clash of two creators' stems and suffixes: draw again
        code = f"{stem_of(name)}15-{''.join(rng.choice(alphabet, 3))}"
        try:
            return create_code(
                session, workspace_id, owner, kind="percent", value=15, code=code
            ).code
        except ConflictError:
            continue
    raise ConflictError(f"no free demo code for {name}")  # pragma: no cover


def _deals(
    session: Session,
    workspace_id: int,
    campaign_id: int,
    terms: pl.DataFrame,
    due: dt.date,
    rng: np.random.Generator,
) -> pl.DataFrame:
    """A deal, a short link and a code per creator, through the services every face uses (a
    loop over the campaign's twenty-odd creators, not over rows of data)."""
    made = []
    for row in terms.iter_rows(named=True):
        ref = f"{row['platform']}:{row['handle']}"
        deal = add_deal(
            session,
            workspace_id,
            campaign_id,
            DealCreate(
                creator=ref,
                flat_fee=Decimal(f"{row['flat_fee']:.2f}"),
                product_value=KIT_VALUE,
                shipping_cost=KIT_SHIPPING,
                commission_rate=Decimal(f"{row['commission_rate']:.4f}"),
                package=dict(Counter(row["formats"])),
                due=due,
            ),
        )
        link = create_link(
            session, workspace_id, LinkCreate(creator=ref, url=PRODUCT_URL, campaign=CAMPAIGN)
        )
        code = _code(session, workspace_id, ref, row["creator_name"] or row["handle"], rng)
        made.append((deal.id, link.id, link.destination, code))
    ids = pl.DataFrame(
        made,
        schema={
            "deal_id": pl.Int64,
            "link_id": pl.Int64,
            "destination": pl.String,
            "code": pl.String,
        },
        orient="row",
    )
    return pl.concat([terms, ids], how="horizontal")


def _tag_posts(
    session: Session, workspace_id: int, posts: pl.DataFrame, plan: pl.DataFrame
) -> None:
    """The campaign posts carry the hashtag, the brand, the code and the #ad disclosure."""
    if posts.is_empty():
        return
    table = Post.__table__
    rows = session.execute(
        select(table.c.id, table.c.caption, table.c.hashtags, table.c.mentions).where(
            table.c.workspace_id == workspace_id, table.c.id.in_(posts["post_id"].to_list())
        )
    ).all()
    stored = pl.DataFrame(
        [tuple(r) for r in rows],
        schema={
            "post_id": pl.Int64,
            "caption": pl.String,
            "hashtags": pl.List(pl.String),
            "mentions": pl.List(pl.String),
        },
        orient="row",
    )
    tagged = stored.join(posts.select("post_id", "account_id"), on="post_id").join(
        plan.select("account_id", "code"), on="account_id"
    )
    tagged = tagged.select(
        b_id=pl.col("post_id"),
        b_caption=pl.concat_str(
            pl.col("caption").fill_null(""),
            pl.lit("\n\nMy summer routine with @glowlab ✨ Code "),
            pl.col("code"),
            pl.lit(f" for 15% off #{HASHTAG} #ad"),
        ),
        b_tags=pl.col("hashtags").fill_null([]).list.concat(pl.lit([HASHTAG, "ad"])),
        b_mentions=pl.col("mentions").fill_null([]).list.concat(pl.lit([BRAND])),
    )
    session.execute(
        sa.update(table)
        .where(table.c.id == sa.bindparam("b_id"))
        .values(
            caption=sa.bindparam("b_caption"),
            hashtags=sa.bindparam("b_tags"),
            mentions=sa.bindparam("b_mentions"),
            is_sponsored=True,
            sponsor_evidence="caption:#ad",
            sponsor_handles=[BRAND],
        ),
        tagged.to_dicts(),
    )


def _post_times(plan: pl.DataFrame, posts: pl.DataFrame) -> np.ndarray:
    """Per plan row, its campaign posts' times (earliest first), NaT-padded."""
    times = np.full((plan.height, 2), np.datetime64("NaT"), dtype="datetime64[us]")
    placed = (
        posts.join(plan.select("account_id").with_row_index("row"), on="account_id")
        .sort("account_id", "posted_at")
        .with_columns(nth=pl.int_range(pl.len()).over("account_id"))
    )
    times[placed["row"].to_numpy(), placed["nth"].to_numpy()] = placed["posted_at"].to_numpy()
    return times


def _write_traffic(
    session: Session, workspace_id: int, plan: pl.DataFrame, times: np.ndarray, span: tuple
) -> tuple[int, int, int]:
    """Clicks, orders and refunds, written as the real paths write them; their counts."""
    start, clock_end, rng = span
    clicks = traffic.clicks(plan, times, clock_end, rng)
    insert_clicks(session.connection(), clicks.select(CLICK_COLUMNS))
    orders = traffic.orders(
        plan, clicks, start=start, clock_end=clock_end, rng=rng, shop_url=STORE_URL
    )
    refunds = traffic.refunds(orders, clock_end, rng)
    orders = traffic.with_refund_status(orders, refunds)
    shop = session.scalar(select(Shop).where(Shop.workspace_id == workspace_id, Shop.name == SHOP))
    assert shop is not None
    ids = {"workspace_id": pl.lit(workspace_id), "shop_id": pl.lit(shop.id)}
    order_rows = orders.drop("row").with_columns(
        **ids,
        refunded=pl.lit(0).cast(pl.Decimal(14, 2)),
        method=pl.lit("none"),
        leak=pl.lit(False),
        created_at=pl.col("ordered_at"),
        updated_at=pl.col("shop_updated_at"),
    )
    keys = ["shop_id", "external_id"]
    upsert(session, Order, order_rows.to_dicts(), keys, ORDER_FIELDS, newer="shop_updated_at")
    refund_rows = refunds.with_columns(**ids, created_at=pl.col("refunded_at"))
    upsert(
        session,
        Refund,
        refund_rows.to_dicts(),
        keys,
        ("refunded_at", "amount", "order_external_id"),
    )
    refresh_refunded(session, shop, refunds["order_external_id"].unique().sort().to_list())
    return clicks.height, orders.height, refunds.height


def build_campaign(
    conn: Connection, workspace_id: int, population: Population, account_ids: np.ndarray
) -> CampaignSummary | None:
    """Build the demo campaign in ``workspace_id`` on ``conn`` (in its transaction), for the
    population just written (``account_ids``: its accounts' stored ids). None when the
    population has no creator on Instagram or TikTok."""
    spec = population.spec
    rng = np.random.default_rng([spec.seed, 0x6361])  # the campaign's own stream of the seed
    clock_end = dt.datetime.combine(spec.end + dt.timedelta(days=1), dt.time())
    starts_on = max(spec.start, spec.end - dt.timedelta(days=DAYS_BEFORE))
    ends_on = spec.end + dt.timedelta(days=DAYS_AFTER)
    with Session(bind=conn, autoflush=False) as session:
        creators = creator_ids(session, choose_creators(population, account_ids, rng))
        if creators.is_empty():
            return None
        window = (
            dt.datetime.combine(starts_on + dt.timedelta(days=1), dt.time()),
            clock_end - dt.timedelta(hours=12),
        )
        posts = campaign_posts(session, creators, window, rng)
        terms = deal_terms(creators, posts, rng)
        campaign = _create_campaign(session, workspace_id, (starts_on, ends_on), terms)
        create_shop(
            session, workspace_id, platform="shopify", name=SHOP, domain=SHOP_DOMAIN, currency="USD"
        )
        plan = _deals(
            session, workspace_id, campaign.id, terms, ends_on - dt.timedelta(days=3), rng
        )
        _tag_posts(session, workspace_id, posts, plan)
        matched = match_deliverables(session, workspace_id, campaign.id).matched
        live = plan.filter(pl.col("posts") > 0)["deal_id"].to_list()
        waiting = plan.filter(pl.col("posts") == 0)["deal_id"].to_list()
        at = dt.datetime.combine(starts_on, dt.time())
        for ids, stage in ((live, "content_live"), (waiting, "product_shipped")):
            if ids:
                move_deals(
                    session, workspace_id, ids, stage, actor="demo", actor_kind="system", at=at
                )
        plan = traffic.expected_orders(plan.with_columns(workspace_id=pl.lit(workspace_id)), rng)
        start = dt.datetime.combine(starts_on, dt.time())
        clicks, orders, refunds = _write_traffic(
            session, workspace_id, plan, _post_times(plan, posts), (start, clock_end, rng)
        )
        attribution = attribute(session, workspace_id)
        session.flush()
        return CampaignSummary(
            campaign_id=campaign.id,
            name=CAMPAIGN,
            deals=plan.height,
            matched=matched,
            clicks=clicks,
            orders=orders,
            refunds=refunds,
            attribution=attribution,
        )
