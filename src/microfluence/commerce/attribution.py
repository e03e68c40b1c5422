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
from urllib.parse import unquote_plus

import polars as pl
from sqlalchemy.orm import Session

from microfluence.commerce import attribution_load as load
from microfluence.commerce.attribution_load import DEFAULT_DAYS, FEW, RESULT, STORED, UTM_KEYS
from microfluence.commerce.attribution_write import write_changes
from microfluence.commerce.leaks import COUPON_SITES, LeakRules, burst_flags, flag_leaks
from microfluence.commerce.revenue import attributed_revenue

__all__ = [
    "COUPON_SITES",
    "DEFAULT_DAYS",
    "AttributionSummary",
    "LeakRules",
    "attribute",
    "attributed_revenue",
    "burst_flags",
    "changed",
    "compute",
]


@dataclass
class AttributionSummary:
    orders: int
    by_code: int
    by_click: int
    unattributed: int
    leaked: int


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


# -- the whole ------------------------------------------------------------------------------


def compute(
    session: Session,
    workspace_id: int,
    order_ids: list[int] | None = None,
    rules: LeakRules = LeakRules(),
) -> pl.DataFrame:
    """Attribution of the workspace's orders (or those near ``order_ids``), one row per order,
    with the columns of ``orders`` it writes."""
    orders = load.orders(session, workspace_id, order_ids, rules.burst_hours)
    if orders.is_empty():
        return orders
    ref = load.reference(session, workspace_id)
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
    clicks = load.clicks(
        session,
        workspace_id,
        orders["t"].min() - dt.timedelta(days=max(max_days, DEFAULT_DAYS)),  # type: ignore[operator]
        orders["t"].max(),  # type: ignore[arg-type]
        load.needed(orders, links, coded) if few else None,
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
    return flag_leaks(result, rules)


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
