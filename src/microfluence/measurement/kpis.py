"""The KPIs, from sums per group to every ratio (docs/measurement.md, "KPIs").

Sums (per deal, per campaign, per day): ``clicks`` (non-bot), ``unique_clicks``,
``bot_clicks``, ``orders``, ``revenue`` (net of discounts, before refunds), ``net_revenue``
(after refunds), ``refunds``, ``commission``, ``flat_fee``, ``product_value``,
``shipping_cost``, ``posts``, ``engagements``, ``impressions``, ``reach``, ``emv``.
Ratios are Polars expressions over those columns; a ratio whose denominator is 0 is null,
never 0 or infinity.
"""

from __future__ import annotations

import polars as pl

from microfluence.measurement.intervals import roi_bounds, wilson

CLICK_SUMS = ("clicks", "unique_clicks", "bot_clicks")
ORDER_SUMS = ("orders", "revenue", "net_revenue", "refunds", "commission")
POST_SUMS = ("posts", "engagements", "impressions", "reach", "emv")
FEE_SUMS = ("flat_fee", "product_value", "shipping_cost")
SUMS = (*CLICK_SUMS, *ORDER_SUMS, *POST_SUMS, *FEE_SUMS)
RATIOS = (
    "cost",
    "conversion_rate",
    "revenue_per_click",
    "average_order_value",
    "roi",
    "roas",
    "cpa",
    "cpc",
    "cpe",
    "cpm",
)
INTERVALS = ("conversion_rate_low", "conversion_rate_high", "roi_low", "roi_high")
ENGAGEMENT_PARTS = ("likes", "comments", "shares", "saves")
# Money sums (two decimals); the rest of SUMS are counts.
MONEY_SUMS = ("revenue", "net_revenue", "refunds", "commission", "emv", *FEE_SUMS, "cost")
COUNT_SUMS = tuple(s for s in SUMS if s not in MONEY_SUMS)


def ratio(numerator: pl.Expr | str, denominator: pl.Expr | str) -> pl.Expr:
    """``numerator / denominator``, null when the denominator is 0 or null."""
    num = pl.col(numerator) if isinstance(numerator, str) else numerator
    den = pl.col(denominator) if isinstance(denominator, str) else denominator
    return pl.when(den > 0).then(num.cast(pl.Float64) / den.cast(pl.Float64))


def click_sums(clicks: pl.DataFrame, keys: list[str]) -> pl.DataFrame:
    return clicks.group_by(keys).agg(pl.col(*CLICK_SUMS).sum())


def order_sums(orders: pl.DataFrame, keys: list[str]) -> pl.DataFrame:
    return orders.group_by(keys).agg(
        orders=pl.len(),
        revenue=pl.col("revenue").sum(),
        net_revenue=pl.col("net_revenue").sum(),
        commission=pl.col("commission").sum(),
    )


def post_sums(posts: pl.DataFrame, cpm: dict[str, float], keys: list[str]) -> pl.DataFrame:
    """Per post: engagements = likes + comments + shares + saves (an unknown count adds
    nothing); impressions = its impressions, else its views, else its reach; EMV = impressions
    / 1000 × the CPM of its platform. Then summed per group."""
    rates = pl.DataFrame(
        {"platform": list(cpm), "cpm_rate": list(cpm.values())},
        schema={"platform": pl.String, "cpm_rate": pl.Float64},
    )
    per_post = (
        posts.join(rates, on="platform", how="left")
        .with_columns(
            engagements=pl.sum_horizontal(*ENGAGEMENT_PARTS),
            seen=pl.coalesce("impressions", "views", "reach"),
            cpm_rate=pl.col("cpm_rate").fill_null(cpm.get("other", 0.0)),
        )
        .with_columns(emv=pl.col("seen").cast(pl.Float64) / 1000 * pl.col("cpm_rate"))
    )
    return per_post.group_by(keys).agg(
        posts=pl.col("post_id").n_unique(),
        engagements=pl.col("engagements").sum(),
        impressions=pl.col("seen").sum(),
        reach=pl.col("reach").sum(),
        emv=pl.col("emv").sum(),
    )


def fill_sums(frame: pl.DataFrame) -> pl.DataFrame:
    """Every sum column present, missing ones (no clicks, no orders …) as 0."""
    missing = [pl.lit(0).alias(c) for c in SUMS if c not in frame.columns]
    return frame.with_columns(missing).with_columns(pl.col(*SUMS).fill_null(0))


def with_ratios(frame: pl.DataFrame) -> pl.DataFrame:
    """The cost and every ratio, from the sums."""
    cost = pl.sum_horizontal("flat_fee", "product_value", "shipping_cost", "commission")
    frame = frame.with_columns(
        refunds=pl.col("revenue") - pl.col("net_revenue"),
        cost=cost,
    )
    low, high = wilson("orders", "unique_clicks")
    return frame.with_columns(
        conversion_rate=ratio("orders", "unique_clicks"),
        conversion_rate_low=low,
        conversion_rate_high=high,
        revenue_per_click=ratio("net_revenue", "unique_clicks"),
        average_order_value=ratio("revenue", "orders"),
        roi=ratio(pl.col("net_revenue") - pl.col("cost"), "cost"),
        roas=ratio("net_revenue", "cost"),
        cpa=ratio("cost", "orders"),
        cpc=ratio("cost", "unique_clicks"),
        cpe=ratio("cost", "engagements"),
        cpm=ratio(pl.col("cost") * 1000, "impressions"),
    )


def with_roi_interval(frame: pl.DataFrame, rate: pl.Expr) -> pl.DataFrame:
    """``roi_low`` / ``roi_high`` (intervals.roi_bounds) with ``rate`` the commission rate."""
    inputs = frame.select(
        "orders",
        "net_revenue",
        fixed_cost=pl.sum_horizontal("flat_fee", "product_value", "shipping_cost"),
        rate=rate,
    )
    return pl.concat([frame, roi_bounds(inputs)], how="horizontal")


def effective_rate() -> pl.Expr:
    """Commission per unit of net revenue, for groups of deals with different rates."""
    return ratio("commission", "net_revenue").fill_null(0.0)
