"""A campaign's report: KPIs per creator (deal), the campaign's totals, the days, the targets.

Every number is a group-by over the frames of :mod:`measurement.sources` and the expressions of
:mod:`measurement.kpis`; the loops here only turn result rows (one per creator or day) into the
answer's shape.
"""

from __future__ import annotations

import datetime as dt

import polars as pl
from sqlalchemy.orm import Session

from microfluence.campaigns.campaigns import find_campaign, find_campaign_by_name
from microfluence.kernel.errors import InputError
from microfluence.kernel.store.tables import Workspace
from microfluence.measurement import kpis as K
from microfluence.measurement import sources
from microfluence.measurement.emv import emv_rates
from microfluence.measurement.schemas import CampaignReport, CreatorKpis, DayKpis, Kpis
from microfluence.measurement.sources import Period
from microfluence.measurement.targets import progress

DAILY = ("clicks", "unique_clicks", "bot_clicks", "orders", "revenue", "net_revenue", "commission")


def check_period(period: Period) -> Period:
    if period.start and period.end and period.end < period.start:
        raise InputError(
            f"the period ends ({period.end}) before it starts ({period.start})", field="to"
        )
    return period


def per_deal(
    deals: pl.DataFrame,
    clicks: pl.DataFrame,
    orders: pl.DataFrame,
    posts: pl.DataFrame,
    cpm: dict[str, float],
) -> pl.DataFrame:
    """One row per deal: the sums, the ratios, the intervals."""
    keys = ["deal_id"]
    frame = (
        deals.join(K.click_sums(clicks, keys), on=keys, how="left")
        .join(K.order_sums(orders, keys), on=keys, how="left")
        .join(K.post_sums(posts, cpm, keys), on=keys, how="left")
    )
    frame = K.with_ratios(K.fill_sums(frame))
    return K.with_roi_interval(frame, pl.col("commission_rate"))


def totals(
    deals: pl.DataFrame,
    clicks: pl.DataFrame,
    orders: pl.DataFrame,
    posts: pl.DataFrame,
    cpm: dict[str, float],
) -> pl.DataFrame:
    """One row: the campaign's sums (clicks and orders of the campaign not tied to one of its
    deals included), ratios and intervals (ROI's at the campaign's effective commission rate)."""
    one = pl.lit(1).alias("all")
    parts = [
        K.click_sums(clicks.with_columns(one), ["all"]),
        K.order_sums(orders.with_columns(one), ["all"]),
        K.post_sums(posts.with_columns(one), cpm, ["all"]),
        deals.with_columns(one).group_by("all").agg(pl.col(*K.FEE_SUMS).sum()),
    ]
    frame = pl.DataFrame({"all": [1]})
    for part in parts:
        frame = frame.join(part, on="all", how="left")
    frame = K.with_ratios(K.fill_sums(frame.drop("all")))
    return K.with_roi_interval(frame, K.effective_rate())


def daily(
    clicks: pl.DataFrame,
    orders: pl.DataFrame,
    period: Period,
    deals: pl.DataFrame | None = None,
) -> pl.DataFrame:
    """One row per UTC day from the first to the last (of the period, else of the data), days
    without clicks or orders as zeros; with ``deals``, one row per deal and day."""
    keys = ["day"] if deals is None else ["deal_id", "day"]
    if deals is not None:  # the campaign's clicks and orders tied to none of its deals: out
        clicks = clicks.filter(pl.col("deal_id").is_not_null())
        orders = orders.filter(pl.col("deal_id").is_not_null())
    sums = K.click_sums(clicks, keys).join(
        K.order_sums(orders, keys), on=keys, how="full", coalesce=True
    )
    first = period.start or sums["day"].min()
    last = period.end or sums["day"].max()
    if first is None or last is None:
        return pl.DataFrame(schema={k: pl.Int64 for k in keys} | {"day": pl.Date})
    grid = pl.DataFrame({"day": pl.date_range(first, last, "1d", eager=True)})
    if deals is not None:
        grid = deals.select("deal_id").join(grid, how="cross")
    frame = grid.join(sums, on=keys, how="left").with_columns(pl.col(*DAILY).fill_null(0))
    return frame.with_columns(
        conversion_rate=K.ratio("orders", "unique_clicks"),
        revenue_per_click=K.ratio("net_revenue", "unique_clicks"),
        average_order_value=K.ratio("revenue", "orders"),
    ).sort(keys)


def campaign_days(
    session: Session,
    workspace: Workspace,
    campaign_id: int,
    period: Period | None = None,
    *,
    by_deal: bool = False,
) -> pl.DataFrame:
    """The campaign's time series: per UTC day (and per deal with ``by_deal``) its clicks,
    unique and bot clicks, orders, revenue, net revenue, commission, conversion rate, revenue
    per click and average order value — the report's ``days``, as a frame for charts."""
    period = check_period(period or Period())
    campaign = find_campaign(session, workspace.id, campaign_id)
    deals = sources.deals(session, workspace.id, campaign.id)
    deal_map = deals.select("creator_id", "deal_id")
    clicks = sources.clicks(session, workspace.id, campaign.id, deal_map, period)
    orders = sources.orders(session, workspace.id, campaign.id, deal_map, period)
    return daily(clicks, orders, period, deals if by_deal else None)


def _rows(frame: pl.DataFrame) -> list[dict]:  # type: ignore[type-arg]
    """Result rows with ratios rounded to 6 decimals (no binary noise in the answer)."""
    floats = [c for c, t in frame.schema.items() if t == pl.Float64 and c not in K.MONEY_SUMS]
    return frame.with_columns(pl.col(floats).round(6)).to_dicts()


def _ranked(creators: pl.DataFrame) -> pl.DataFrame:
    """Creators by net revenue, then clicks, highest first; ties by deal."""
    return creators.sort("net_revenue", "unique_clicks", "deal_id", descending=[True, True, False])


def campaign_report(
    session: Session, workspace: Workspace, campaign_id: int, period: Period | None = None
) -> CampaignReport:
    """The report of campaign ``campaign_id`` of ``workspace`` over ``period`` (all by default);
    NotFoundError when the campaign is not the workspace's."""
    period = check_period(period or Period())
    campaign = find_campaign(session, workspace.id, campaign_id)
    cpm = emv_rates(workspace)
    deals = sources.deals(session, workspace.id, campaign.id)
    deal_map = deals.select("creator_id", "deal_id")
    clicks = sources.clicks(session, workspace.id, campaign.id, deal_map, period)
    orders = sources.orders(session, workspace.id, campaign.id, deal_map, period)
    posts = sources.posts(session, workspace.id, campaign.id, period)
    creators = per_deal(deals, clicks, orders, posts, cpm)
    total = totals(deals, clicks, orders, posts, cpm)
    total_row = _rows(total)[0]
    return CampaignReport(
        campaign_id=campaign.id,
        campaign=campaign.name,
        status=campaign.status,
        currency=campaign.currency,
        starts_on=campaign.starts_on,
        ends_on=campaign.ends_on,
        period_from=period.start,
        period_to=period.end,
        generated_at=dt.datetime.now(dt.UTC).replace(tzinfo=None),
        order_currencies=sorted(orders["currency"].unique().drop_nulls().to_list()),
        emv_cpm=cpm,
        totals=Kpis.model_validate(total_row),
        creators=[CreatorKpis.model_validate(r) for r in _rows(_ranked(creators))],
        days=[DayKpis.model_validate(r) for r in _rows(daily(clicks, orders, period))],
        targets=progress(campaign.targets or {}, total_row),
    )


def report_by_name(
    session: Session, workspace: Workspace, name: str, period: Period | None = None
) -> CampaignReport:
    """:func:`campaign_report` of the campaign named ``name`` (the command and the library)."""
    campaign = find_campaign_by_name(session, workspace.id, name)
    return campaign_report(session, workspace, campaign.id, period)
