"""Reading what attribution needs, into Polars frames: the orders (with what is stored for
them now), the workspace's codes, links, campaigns and deals, and the clicks — all of them in a
span of time for a batch; for a few orders (a webhook), only their coupon-referred neighbours and
the clicks that can concern them. Times and JSON are read as the driver gives them and parsed by
Polars in one pass (SQLAlchemy's per-row processing was half the cost)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import polars as pl
import sqlalchemy as sa
from sqlalchemy import select
from sqlalchemy.orm import Session

from microfluence.campaigns.tables import Campaign, Deal
from microfluence.commerce.tables import Order
from microfluence.tracking.tables import DiscountCode, LinkClick, TrackingLink

DEFAULT_DAYS = 30
UTM_KEYS = ("utm_source", "utm_medium", "utm_campaign", "utm_content")


def frame(rows: list[Any], schema: dict[str, Any]) -> pl.DataFrame:
    return pl.DataFrame([tuple(r) for r in rows], schema=schema, orient="row")


def raw(column: Any) -> Any:
    """Times and JSON as the driver gives them (SQLite: text, parsed below by Polars in one
    vectorised pass; PostgreSQL: already values), skipping SQLAlchemy's per-row processing."""
    if isinstance(column.type, sa.DateTime | sa.JSON):
        return sa.type_coerce(column, sa.String).label(column.key)
    return column


def read(session: Session, query: Any, schema: dict[str, Any]) -> pl.DataFrame:
    """Run ``query`` (its columns in ``schema``'s order) into a typed frame."""
    query = query.with_only_columns(*(raw(c) for c in query.selected_columns))
    rows = session.execute(query).all()
    if not rows:
        return pl.DataFrame(schema=schema)
    data = {}
    for index, (name, dtype) in enumerate(schema.items()):
        values = [r[index] for r in rows]
        if dtype == pl.Datetime("us") and isinstance(
            next((v for v in values if v is not None), None), str
        ):
            data[name] = pl.Series(values, dtype=pl.String).str.to_datetime(
                "%Y-%m-%d %H:%M:%S%.f", time_unit="us", strict=False
            )
        elif isinstance(dtype, pl.List) and isinstance(
            next((v for v in values if v is not None), None), str
        ):
            data[name] = pl.Series(values, dtype=pl.String).str.json_decode(dtype)
        else:
            data[name] = pl.Series(values, dtype=dtype, strict=False)
    return pl.DataFrame(data)


# Up to this many orders named (a webhook, a small import), only they, their coupon-referred
# neighbours in time and the clicks that can concern them are read; more: everything in the span.
FEW = 2_000


def time_span(session: Session, workspace_id: int, order_ids: list[int]) -> tuple[Any, Any] | None:
    lows, highs = [], []
    for start in range(0, len(order_ids), 1000):
        low, high = session.execute(
            select(sa.func.min(Order.ordered_at), sa.func.max(Order.ordered_at)).where(
                Order.workspace_id == workspace_id, Order.id.in_(order_ids[start : start + 1000])
            )
        ).one()
        if low is not None:
            lows.append(low)
            highs.append(high)
    return (min(lows), max(highs)) if lows else None


def orders(
    session: Session, workspace_id: int, order_ids: list[int] | None, hours: float
) -> pl.DataFrame:
    query = select(
        Order.id,
        Order.ordered_at,
        Order.codes,
        Order.landing_url,
        Order.referrer_host,
        *(getattr(Order, c) for c in RESULT),
    ).where(Order.workspace_id == workspace_id)
    if order_ids is None:
        return read(session, query, ORDER_SCHEMA)
    span = time_span(session, workspace_id, order_ids)
    if span is None:
        return pl.DataFrame(schema=ORDER_SCHEMA)
    pad = dt.timedelta(hours=hours)
    near = (Order.ordered_at >= span[0] - pad, Order.ordered_at <= span[1] + pad)
    if len(order_ids) > FEW:
        return read(session, query.where(*near), ORDER_SCHEMA)
    # The burst rule needs the code orders from coupon sites around them; nothing else.
    neighbours = sa.and_(*near, Order.method == "code", Order.referrer_host.is_not(None))
    return read(session, query.where(sa.or_(Order.id.in_(order_ids), neighbours)), ORDER_SCHEMA)


# What attribution writes to each order, with its type.
RESULT = {
    "method": pl.String,
    "creator_id": pl.Int64,
    "deal_id": pl.Int64,
    "campaign_id": pl.Int64,
    "code_id": pl.Int64,
    "link_id": pl.Int64,
    "click_id": pl.Int64,
    "leak": pl.Boolean,
    "leak_reason": pl.String,
}
STORED = [f"stored_{c}" for c in RESULT]
ORDER_SCHEMA = {
    "oid": pl.Int64,
    "t": pl.Datetime("us"),
    "codes": pl.List(pl.String),
    "landing": pl.String,
    "ref_host": pl.String,
    **{f"stored_{c}": dtype for c, dtype in RESULT.items()},
}


def reference(session: Session, workspace_id: int) -> dict[str, pl.DataFrame]:
    ws = workspace_id
    codes = frame(
        session.execute(
            select(
                DiscountCode.id,
                DiscountCode.code_key,
                DiscountCode.creator_id,
                DiscountCode.campaign_id,
                DiscountCode.deal_id,
            ).where(DiscountCode.workspace_id == ws, DiscountCode.creator_id.is_not(None))
        ).all(),
        {
            "code_id": pl.Int64,
            "code": pl.String,
            "c_creator": pl.Int64,
            "c_campaign": pl.Int64,
            "c_deal": pl.Int64,
        },
    )
    link_rows = session.execute(
        select(
            TrackingLink.id,
            TrackingLink.creator_id,
            TrackingLink.campaign_id,
            TrackingLink.deal_id,
            TrackingLink.utm,
        ).where(TrackingLink.workspace_id == ws, TrackingLink.creator_id.is_not(None))
    ).all()
    links = link_keys(link_rows)
    campaigns = frame(
        session.execute(
            select(Campaign.id, Campaign.attribution_days).where(Campaign.workspace_id == ws)
        ).all(),
        {"campaign_id": pl.Int64, "days": pl.Int64},
    )
    deals = frame(
        session.execute(
            select(Deal.id, Deal.campaign_id, Deal.creator_id).where(Deal.workspace_id == ws)
        ).all(),
        {"deal_id": pl.Int64, "campaign_id": pl.Int64, "creator_id": pl.Int64},
    )
    return {"codes": codes, "links": links, "campaigns": campaigns, "deals": deals}


def clicks(
    session: Session,
    workspace_id: int,
    start: dt.datetime,
    end: dt.datetime,
    only: tuple[list[str], list[int]] | None = None,
) -> pl.DataFrame:
    """The clicks in the span; with ``only`` (tokens, link ids), just those that can matter."""
    query = select(
        LinkClick.id,
        LinkClick.token,
        LinkClick.link_id,
        LinkClick.clicked_at,
        LinkClick.is_bot,
    ).where(
        LinkClick.workspace_id == workspace_id,
        LinkClick.clicked_at >= start,
        LinkClick.clicked_at <= end,
    )
    if only is not None:
        tokens, link_ids = only
        query = query.where(
            sa.or_(LinkClick.token.in_(tokens or [""]), LinkClick.link_id.in_(link_ids or [0]))
        )
    return read(
        session,
        query,
        {
            "click_id": pl.Int64,
            "token": pl.String,
            "link_id": pl.Int64,
            "clicked_at": pl.Datetime("us"),
            "is_bot": pl.Boolean,
        },
    )


def needed(orders: pl.DataFrame, links: pl.DataFrame, coded: pl.DataFrame) -> tuple[list, list]:
    """The tokens the orders name, and the links that can earn them or speak for their codes'
    creators (utm matches; every link of a creator whose code an order used)."""
    by_key = orders.select("utm_key").drop_nulls().join(links, on="utm_key").select("link_id")
    by_id = (
        orders.select("utm_id")
        .drop_nulls()
        .join(links.drop_nulls("utm_id"), on="utm_id")
        .select("link_id")
    )
    creators = coded.select(l_creator=pl.col("c_creator")).unique()
    by_creator = links.join(creators, on="l_creator").select("link_id")
    link_ids = pl.concat([by_key, by_id, by_creator])["link_id"].unique().to_list()
    return orders["token"].drop_nulls().unique().to_list(), link_ids


def link_keys(rows: list[Any]) -> pl.DataFrame:
    """The links, each with the key its utm parameters make (a loop over links, not orders)."""

    def value(utm: dict[str, Any] | None, name: str) -> str:
        # tracking.links stores the values by their short names ("source"), as does the API;
        # "utm_source" is accepted too.
        utm = utm or {}
        return str(utm.get(name) or utm.get(name.removeprefix("utm_")) or "")

    def key(utm: dict[str, Any] | None) -> str:
        return "|".join(value(utm, k) for k in UTM_KEYS)

    return frame(
        [(r[0], r[1], r[2], r[3], key(r[4]), value(r[4], "utm_id") or None) for r in rows],
        {
            "link_id": pl.Int64,
            "l_creator": pl.Int64,
            "l_campaign": pl.Int64,
            "l_deal": pl.Int64,
            "utm_key": pl.String,
            "utm_id": pl.String,
        },
    )
