"""Which creator earned an order, and which code orders look leaked (docs/measurement.md).

1. **A creator's code wins.** The order's codes (upper case) are matched against the workspace's
   ``discount_codes.code_key``; the first code of the order that is a creator's decides (a
   single-use batch code counts for its creator). Disabled codes still count: the order used it.
2. **Else the last click.** The order's landing URL names the click: ``mf_click=<token>`` (the
   short-link redirect appends it) is looked up first; the click counts when it is not a bot's
   and falls in the window. Else the ``utm_*`` parameters name a link (its ``utm_id``, else its
   ``utm_source``, ``utm_medium``, ``utm_campaign`` and ``utm_content`` all equal), and the last
   non-bot click on that link within the window earns the order.
3. **The window** is the link's (or code's) campaign's ``attribution_days`` (30 without a
   campaign): a click at ``t_click`` counts for an order at ``t_order`` when
   ``t_order − days ≤ t_click ≤ t_order`` — both edges included, a click after the order never.
4. Otherwise the order is ``none``.

**Leaks** (code orders only): no non-bot click on any of the creator's links within the window;
a referrer on the list of coupon sites (:data:`COUPON_SITES`, the domain or a sub-domain); or a
**burst**: at least ``burst_orders`` orders with the same creator's codes and coupon-site
referrers whose first and last are at most ``burst_hours`` apart — all of them flagged.

Everything is computed for many orders at once with Polars joins (an as-of join finds the last
click before each order) and NumPy (the bursts), then written back in one bulk update. Running it
again gives the same result: it is a function of the stored orders, codes, links and clicks.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote_plus

import numpy as np
import polars as pl
import sqlalchemy as sa
from sqlalchemy import select
from sqlalchemy.orm import Session

from microfluence.campaigns.tables import Campaign, Deal
from microfluence.commerce.attribution_write import write_changes
from microfluence.commerce.tables import Order
from microfluence.tracking.tables import DiscountCode, LinkClick, TrackingLink

DEFAULT_DAYS = 30
UTM_KEYS = ("utm_source", "utm_medium", "utm_campaign", "utm_content")
# Coupon and deal aggregators whose visitors bring codes they did not get from the creator.
COUPON_SITES = (
    "retailmenot.com",
    "honey.com",
    "joinhoney.com",
    "coupons.com",
    "couponfollow.com",
    "couponcabin.com",
    "dealspotr.com",
    "knoji.com",
    "wethrift.com",
    "slickdeals.net",
    "groupon.com",
    "vouchercodes.co.uk",
    "myvouchercodes.co.uk",
    "vouchercloud.com",
    "hotukdeals.com",
    "dealabs.com",
    "mydealz.de",
    "savings.com",
    "offers.com",
    "brandsoff.com",
    "couponbirds.com",
    "promocodes.com",
    "capitaloneshopping.com",
    "karmanow.com",
    "rakuten.com",
)


@dataclass(frozen=True)
class LeakRules:
    burst_orders: int = 3
    burst_hours: float = 24.0
    coupon_sites: tuple[str, ...] = COUPON_SITES


@dataclass
class AttributionSummary:
    orders: int
    by_code: int
    by_click: int
    unattributed: int
    leaked: int


def _frame(rows: list[Any], schema: dict[str, Any]) -> pl.DataFrame:
    return pl.DataFrame([tuple(r) for r in rows], schema=schema, orient="row")


def _raw(column: Any) -> Any:
    """Times and JSON as the driver gives them (SQLite: text, parsed below by Polars in one
    vectorised pass; PostgreSQL: already values), skipping SQLAlchemy's per-row processing."""
    if isinstance(column.type, sa.DateTime | sa.JSON):
        return sa.type_coerce(column, sa.String).label(column.key)
    return column


def _read(session: Session, query: Any, schema: dict[str, Any]) -> pl.DataFrame:
    """Run ``query`` (its columns in ``schema``'s order) into a typed frame."""
    query = query.with_only_columns(*(_raw(c) for c in query.selected_columns))
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


# -- loading ---------------------------------------------------------------------------------


# Up to this many orders named (a webhook, a small import), only they, their coupon-referred
# neighbours in time and the clicks that can concern them are read; more: everything in the span.
FEW = 2_000


def _span(session: Session, workspace_id: int, order_ids: list[int]) -> tuple[Any, Any] | None:
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


def _orders(
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
        return _read(session, query, ORDER_SCHEMA)
    span = _span(session, workspace_id, order_ids)
    if span is None:
        return pl.DataFrame(schema=ORDER_SCHEMA)
    pad = dt.timedelta(hours=hours)
    near = (Order.ordered_at >= span[0] - pad, Order.ordered_at <= span[1] + pad)
    if len(order_ids) > FEW:
        return _read(session, query.where(*near), ORDER_SCHEMA)
    # The burst rule needs the code orders from coupon sites around them; nothing else.
    neighbours = sa.and_(*near, Order.method == "code", Order.referrer_host.is_not(None))
    return _read(session, query.where(sa.or_(Order.id.in_(order_ids), neighbours)), ORDER_SCHEMA)


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


def _reference(session: Session, workspace_id: int) -> dict[str, pl.DataFrame]:
    ws = workspace_id
    codes = _frame(
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
    links = _link_keys(link_rows)
    campaigns = _frame(
        session.execute(
            select(Campaign.id, Campaign.attribution_days).where(Campaign.workspace_id == ws)
        ).all(),
        {"campaign_id": pl.Int64, "days": pl.Int64},
    )
    deals = _frame(
        session.execute(
            select(Deal.id, Deal.campaign_id, Deal.creator_id).where(Deal.workspace_id == ws)
        ).all(),
        {"deal_id": pl.Int64, "campaign_id": pl.Int64, "creator_id": pl.Int64},
    )
    return {"codes": codes, "links": links, "campaigns": campaigns, "deals": deals}


def _clicks(
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
    return _read(
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


def _needed(orders: pl.DataFrame, links: pl.DataFrame, coded: pl.DataFrame) -> tuple[list, list]:
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


# -- the steps -------------------------------------------------------------------------------


def _param(name: str) -> pl.Expr:
    return pl.col("landing").str.extract(rf"[?&]{name}=([^&#]*)", 1)


def _decoded(frame: pl.DataFrame, columns: list[str]) -> pl.DataFrame:
    """Percent-decode the extracted parameters: each distinct value decoded once."""
    values = {v for c in columns for v in frame[c].drop_nulls().unique().to_list()}
    mapping = {v: unquote_plus(v) for v in values}
    return frame.with_columns(
        pl.col(c).replace_strict(mapping, default=None, return_dtype=pl.String) for c in columns
    )


def _link_keys(rows: list[Any]) -> pl.DataFrame:
    """The links, each with the key its utm parameters make (a loop over links, not orders)."""

    def key(utm: dict[str, Any] | None) -> str:
        return "|".join(str((utm or {}).get(k) or "") for k in UTM_KEYS)

    return _frame(
        [
            (r[0], r[1], r[2], r[3], key(r[4]), str((r[4] or {}).get("utm_id") or "") or None)
            for r in rows
        ],
        {
            "link_id": pl.Int64,
            "l_creator": pl.Int64,
            "l_campaign": pl.Int64,
            "l_deal": pl.Int64,
            "utm_key": pl.String,
            "utm_id": pl.String,
        },
    )


def _with_days(frame: pl.DataFrame, campaigns: pl.DataFrame, campaign: str) -> pl.DataFrame:
    return frame.join(
        campaigns.rename({"campaign_id": campaign}), on=campaign, how="left"
    ).with_columns(pl.col("days").fill_null(DEFAULT_DAYS))


def _in_window(clicked: str = "clicked_at") -> pl.Expr:
    return (
        pl.col(clicked).is_not_null()
        & (pl.col(clicked) <= pl.col("t"))
        & (pl.col(clicked) >= pl.col("t") - pl.duration(days=pl.col("days")))
    )


def _by_code(orders: pl.DataFrame, codes: pl.DataFrame) -> pl.DataFrame:
    exploded = (
        orders.select("oid", "codes")
        .explode("codes")
        .with_columns(pos=pl.int_range(pl.len()).over("oid"))
        .select("oid", "pos", code=pl.col("codes").str.strip_chars().str.to_uppercase())
    )
    return (
        exploded.join(codes, on="code", how="inner")
        .sort("oid", "pos")
        .unique("oid", keep="first")
        .select("oid", "code_id", "c_creator", "c_campaign", "c_deal")
    )


def _by_token(
    orders: pl.DataFrame, clicks: pl.DataFrame, links: pl.DataFrame, campaigns: pl.DataFrame
) -> pl.DataFrame:
    hit = (
        orders.select("oid", "t", "token")
        .filter(pl.col("token").is_not_null())
        .join(clicks, on="token", how="inner")
        .join(
            links.select("link_id", "l_creator", "l_campaign", "l_deal"), on="link_id", how="inner"
        )
    )
    hit = _with_days(hit, campaigns, "l_campaign")
    return hit.filter(~pl.col("is_bot") & _in_window()).select(
        "oid", "link_id", "click_id", "clicked_at", "l_creator", "l_campaign", "l_deal"
    )


def _last_click(candidates: pl.DataFrame, clicks: pl.DataFrame, by: str) -> pl.DataFrame:
    """For each (order, ``by``) candidate, the last non-bot click at or before the order."""
    if candidates.is_empty():
        return candidates.with_columns(
            click_id=pl.lit(None, pl.Int64),
            clicked_at=pl.lit(None, pl.Datetime("us")),
            **({"link_id": pl.lit(None, pl.Int64)} if "link_id" not in candidates.columns else {}),
        )
    human = clicks.filter(~pl.col("is_bot")).sort("clicked_at")
    return candidates.sort("t").join_asof(
        human.select(by, "click_id", "clicked_at", *(["link_id"] if by != "link_id" else [])),
        left_on="t",
        right_on="clicked_at",
        by=by,
        strategy="backward",
        check_sortedness=False,  # sorted above; polars cannot check it within "by" groups
    )


def _by_utm(
    orders: pl.DataFrame, clicks: pl.DataFrame, links: pl.DataFrame, campaigns: pl.DataFrame
) -> pl.DataFrame:
    wanted = orders.filter(pl.col("utm_key").is_not_null() | pl.col("utm_id").is_not_null())
    by_id = wanted.filter(pl.col("utm_id").is_not_null()).join(
        links.filter(pl.col("utm_id").is_not_null()).drop("utm_key"), on="utm_id", how="inner"
    )
    by_key = wanted.join(links.drop("utm_id"), on="utm_key", how="inner")
    columns = ["oid", "t", "link_id", "l_creator", "l_campaign", "l_deal"]
    candidates = pl.concat([by_id.select(columns), by_key.select(columns)]).unique(
        ["oid", "link_id"]
    )
    candidates = _with_days(candidates, campaigns, "l_campaign")
    found = _last_click(candidates, clicks, "link_id").filter(_in_window())
    return (
        found.sort("oid", "clicked_at", descending=[False, True])
        .unique("oid", keep="first")
        .select("oid", "link_id", "click_id", "clicked_at", "l_creator", "l_campaign", "l_deal")
    )


def _creator_clicks(coded: pl.DataFrame, clicks: pl.DataFrame, links: pl.DataFrame) -> pl.DataFrame:
    """For code orders: the creator's last non-bot click in the window (None: a leak sign)."""
    creator_clicks = clicks.join(links.select("link_id", "l_creator"), on="link_id", how="inner")
    found = _last_click(
        coded.select("oid", "t", "days", "c_creator").rename({"c_creator": "l_creator"}),
        creator_clicks,
        "l_creator",
    )
    return found.with_columns(
        pl.when(_in_window()).then(pl.col("click_id")).alias("cc_click"),
        pl.when(_in_window()).then(pl.col("link_id")).alias("cc_link"),
    ).select("oid", "cc_click", "cc_link")


def _coupon(ref_host: pl.Expr, sites: tuple[str, ...]) -> pl.Expr:
    pattern = r"(^|\.)(" + "|".join(s.replace(".", r"\.") for s in sites) + r")$"
    return ref_host.fill_null("").str.to_lowercase().str.contains(pattern)


def burst_flags(creators: np.ndarray, times: np.ndarray, orders: int, seconds: float) -> np.ndarray:
    """True for each event in a burst: ``orders`` or more events of one creator whose first and
    last are at most ``seconds`` apart. ``times`` in seconds; any order."""
    n = len(times)
    if n == 0:
        return np.zeros(0, dtype=bool)
    order = np.lexsort((times, creators))
    group = np.unique(creators[order], return_inverse=True)[1].astype(np.int64)
    t = times[order].astype(np.int64)
    stride = int(t.max() - t.min()) + int(seconds) + 2
    key = group * stride + (t - t.min())
    counts = np.searchsorted(key, key + int(seconds), side="right") - np.arange(n)
    starts = np.flatnonzero(counts >= orders)
    diff = np.zeros(n + 1, dtype=np.int64)
    np.add.at(diff, starts, 1)
    np.add.at(diff, starts + counts[starts], -1)
    flags = np.empty(n, dtype=bool)
    flags[order] = np.cumsum(diff)[:n] > 0
    return flags


# -- the whole ------------------------------------------------------------------------------


def compute(
    session: Session,
    workspace_id: int,
    order_ids: list[int] | None = None,
    rules: LeakRules = LeakRules(),
) -> pl.DataFrame:
    """Attribution of the workspace's orders (or those near ``order_ids``), one row per order,
    with the columns of ``orders`` it writes."""
    orders = _orders(session, workspace_id, order_ids, rules.burst_hours)
    if orders.is_empty():
        return orders
    ref = _reference(session, workspace_id)
    links = ref["links"]
    orders = orders.with_columns(
        token=_param("mf_click"), utm_id=_param("utm_id"), **{k: _param(k) for k in UTM_KEYS}
    )
    orders = _decoded(orders, ["token", "utm_id", *UTM_KEYS])
    orders = orders.with_columns(
        utm_key=pl.when(pl.any_horizontal(pl.col(k).is_not_null() for k in UTM_KEYS)).then(
            pl.concat_str([pl.col(k).fill_null("") for k in UTM_KEYS], separator="|")
        )
    )
    coded = _with_days(
        orders.join(_by_code(orders, ref["codes"]), on="oid", how="inner"),
        ref["campaigns"],
        "c_campaign",
    )
    max_days = int(ref["campaigns"]["days"].max() or DEFAULT_DAYS)
    few = order_ids is not None and len(order_ids) <= FEW
    clicks = _clicks(
        session,
        workspace_id,
        orders["t"].min() - dt.timedelta(days=max(max_days, DEFAULT_DAYS)),  # type: ignore[operator]
        orders["t"].max(),  # type: ignore[arg-type]
        _needed(orders, links, coded) if few else None,
    )
    coded = coded.join(_creator_clicks(coded, clicks, links), on="oid", how="left")
    token = _by_token(orders, clicks, links, ref["campaigns"])
    rest = orders.join(token.select("oid"), on="oid", how="anti").join(
        coded.select("oid"), on="oid", how="anti"
    )
    clicked = pl.concat([token, _by_utm(rest, clicks, links, ref["campaigns"])]).join(
        coded.select("oid"), on="oid", how="anti"
    )
    return _assemble(orders, coded, clicked, ref["deals"], rules)


def _assemble(
    orders: pl.DataFrame,
    coded: pl.DataFrame,
    clicked: pl.DataFrame,
    deals: pl.DataFrame,
    rules: LeakRules,
) -> pl.DataFrame:
    code_part = coded.select(
        "oid",
        "code_id",
        "days",
        creator_id=pl.col("c_creator"),
        campaign_id=pl.col("c_campaign"),
        deal_id=pl.col("c_deal"),
        link_id=pl.col("cc_link"),
        click_id=pl.col("cc_click"),
        method=pl.lit("code"),
    )
    click_part = clicked.select(
        "oid",
        code_id=pl.lit(None, pl.Int64),
        days=pl.lit(None, pl.Int64),
        creator_id=pl.col("l_creator"),
        campaign_id=pl.col("l_campaign"),
        deal_id=pl.col("l_deal"),
        link_id=pl.col("link_id"),
        click_id=pl.col("click_id"),
        method=pl.lit("click"),
    )
    result = orders.select("oid", "t", "ref_host", *STORED).join(
        pl.concat([code_part, click_part]), on="oid", how="left"
    )
    # A code or link with a campaign but no deal: the creator's deal in that campaign.
    result = result.join(
        deals.rename({"deal_id": "found_deal", "creator_id": "creator_id"}),
        on=["campaign_id", "creator_id"],
        how="left",
    ).with_columns(
        deal_id=pl.coalesce("deal_id", "found_deal"), method=pl.col("method").fill_null("none")
    )
    return _leaks(result, rules)


def _leaks(result: pl.DataFrame, rules: LeakRules) -> pl.DataFrame:
    code = pl.col("method") == "code"
    coupon = code & _coupon(pl.col("ref_host"), rules.coupon_sites)
    result = result.with_columns(coupon=coupon)
    burst_rows = result.filter(pl.col("coupon"))
    flags = burst_flags(
        burst_rows["creator_id"].to_numpy(),
        burst_rows["t"].dt.epoch("s").to_numpy(),
        rules.burst_orders,
        rules.burst_hours * 3600,
    )
    bursts = burst_rows.select("oid").with_columns(burst=pl.Series(flags, dtype=pl.Boolean))
    result = result.join(bursts, on="oid", how="left").with_columns(
        pl.col("burst").fill_null(False)
    )
    reasons = pl.concat_list(
        pl.when(code & pl.col("click_id").is_null()).then(
            pl.format("no click from the creator in the {} days before", pl.col("days"))
        ),
        pl.when(pl.col("coupon")).then(
            pl.format("referred by the coupon site {}", pl.col("ref_host"))
        ),
        pl.when(pl.col("burst")).then(
            pl.lit(
                f"a burst of {rules.burst_orders}+ code orders from coupon sites "
                f"within {rules.burst_hours:g} h"
            )
        ),
    ).list.drop_nulls()
    return result.with_columns(
        leak=reasons.list.len() > 0,
        leak_reason=pl.when(reasons.list.len() > 0).then(reasons.list.join("; ")),
    ).select(
        "oid",
        "method",
        "creator_id",
        "deal_id",
        "campaign_id",
        "code_id",
        "link_id",
        "click_id",
        "leak",
        "leak_reason",
        *STORED,
    )


def changed(result: pl.DataFrame) -> pl.DataFrame:
    """The orders whose attribution differs from what is stored (nulls compared as values)."""
    differs = pl.any_horizontal(pl.col(c).ne_missing(pl.col(f"stored_{c}")) for c in RESULT)
    return result.filter(differs).select("oid", *RESULT)


def attribute(
    session: Session,
    workspace_id: int,
    order_ids: list[int] | None = None,
    rules: LeakRules = LeakRules(),
) -> AttributionSummary:
    """Attribute the workspace's orders (all, or those written now and their neighbours in
    time) and store what changed in one ``UPDATE … FROM`` (commerce.attribution_write)."""
    result = compute(session, workspace_id, order_ids, rules)
    if result.is_empty():
        return AttributionSummary(0, 0, 0, 0, 0)
    write_changes(session, changed(result))
    counts = result["method"].value_counts()
    by = dict(zip(counts["method"].to_list(), counts["count"].to_list(), strict=True))
    return AttributionSummary(
        orders=result.height,
        by_code=by.get("code", 0),
        by_click=by.get("click", 0),
        unattributed=by.get("none", 0),
        leaked=int(result["leak"].sum()),
    )


def attributed_revenue(
    session: Session, workspace_id: int, campaign_id: int | None = None
) -> pl.DataFrame:
    """One row per attributed order: its creator, deal and campaign, net revenue, refunds,
    revenue after refunds (never below 0) and the commission it owes (the deal's rate × revenue
    after refunds). The table KPIs and payouts aggregate."""
    query = (
        select(
            Order.id,
            Order.ordered_at,
            Order.method,
            Order.creator_id,
            Order.deal_id,
            Order.campaign_id,
            Order.currency,
            Order.net,
            Order.refunded,
            Order.leak,
            Deal.commission_rate,
        )
        .outerjoin(Deal, Deal.id == Order.deal_id)
        .where(Order.workspace_id == workspace_id, Order.method != "none")
    )
    if campaign_id is not None:
        query = query.where(Order.campaign_id == campaign_id)
    frame = _frame(
        session.execute(query).all(),
        {
            "order_id": pl.Int64,
            "ordered_at": pl.Datetime("us"),
            "method": pl.String,
            "creator_id": pl.Int64,
            "deal_id": pl.Int64,
            "campaign_id": pl.Int64,
            "currency": pl.String,
            "net": pl.Decimal(14, 2),
            "refunded": pl.Decimal(14, 2),
            "leak": pl.Boolean,
            "rate": pl.Decimal(7, 4),
        },
    )
    revenue = pl.max_horizontal(
        pl.col("net") - pl.col("refunded"), pl.lit(0).cast(pl.Decimal(14, 2))
    )
    return (
        frame.with_columns(revenue=revenue)
        .with_columns(commission=(pl.col("revenue") * pl.col("rate").fill_null(0)).round(2))
        .drop("rate")
    )
