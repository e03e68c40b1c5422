"""What a campaign's dashboard shows (docs/measurement.md, "The campaign dashboard"): the report's
totals as tiles — each with its formula, why it is undefined when it is, its 95 % interval and
its progress toward the campaign's target — and the frames its charts draw: the days per
creator (the top creators by net revenue, the others summed) and each creator's ROI with the
lengths of its error bars.

Every number is the report's (:func:`measurement.report.campaign_report`) or a Polars
expression over its rows; the pages only lay them out.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

import polars as pl
from sqlalchemy.orm import Session

from microfluence.kernel.errors import InputError
from microfluence.kernel.store.tables import Workspace
from microfluence.measurement.report import campaign_days, campaign_report, check_period
from microfluence.measurement.schemas import CampaignReport, Kpis, TargetProgress
from microfluence.measurement.sources import Period

Kind = Literal["count", "money", "percent", "multiple"]
MAX_DAYS = 5 * 366  # a period longer than this is refused: the charts have one point per day
TOP_CREATORS = 8  # creators drawn one by one in the daily charts; the rest as "other creators"
OTHERS = "other creators"


@dataclass(frozen=True)
class TileSpec:
    key: str  # the Kpis field (and the target's KPI name)
    label: str
    kind: Kind
    formula: str
    denominator: str | None = None  # what is 0 when the value is undefined


GROUPS: dict[str, tuple[TileSpec, ...]] = {
    "Traffic and sales": (
        TileSpec("clicks", "Clicks", "count", "link clicks of people (bots and prefetches out)"),
        TileSpec("unique_clicks", "Unique clicks", "count", "one per visitor per link per hour"),
        TileSpec("orders", "Orders", "count", "orders attributed by code or by click"),
        TileSpec(
            "conversion_rate",
            "Conversion rate",
            "percent",
            "orders ÷ unique clicks",
            "no unique clicks",
        ),
        TileSpec("revenue", "Gross revenue", "money", "Σ order net, before refunds"),
        TileSpec("net_revenue", "Net revenue", "money", "gross revenue − refunds"),
        TileSpec(
            "revenue_per_click",
            "Revenue per click",
            "money",
            "net revenue ÷ unique clicks",
            "no unique clicks",
        ),
        TileSpec(
            "average_order_value",
            "Average order value",
            "money",
            "gross revenue ÷ orders",
            "no orders",
        ),
    ),
    "Cost and return": (
        TileSpec("cost", "Total cost", "money", "fees + commissions + product + shipping"),
        TileSpec("roi", "ROI", "percent", "(net revenue − cost) ÷ cost", "no cost"),
        TileSpec("roas", "ROAS", "multiple", "net revenue ÷ cost", "no cost"),
        TileSpec("cpa", "CPA", "money", "cost ÷ orders", "no orders"),
        TileSpec("cpc", "CPC", "money", "cost ÷ unique clicks", "no unique clicks"),
    ),
    "Content": (
        TileSpec("posts", "Posts", "count", "posts that delivered the deliverables"),
        TileSpec("engagements", "Engagements", "count", "Σ likes + comments + shares + saves"),
        TileSpec("impressions", "Impressions", "count", "Σ impressions, else views, else reach"),
        TileSpec("reach", "Reach", "count", "Σ reach of the posts"),
        TileSpec("cpe", "CPE", "money", "cost ÷ engagements", "no engagements"),
        TileSpec("cpm", "CPM", "money", "cost ÷ impressions × 1000", "no impressions"),
        TileSpec("emv", "EMV", "money", "Σ impressions ÷ 1000 × the platform's CPM"),
    ),
}
INTERVALS = {
    "conversion_rate": ("conversion_rate_low", "conversion_rate_high"),
    "roi": ("roi_low", "roi_high"),
}


@dataclass(frozen=True)
class Tile:
    key: str
    label: str
    kind: Kind
    value: Any  # int, Decimal (money sums) or float (ratios); None when undefined
    formula: str
    why_undefined: str | None  # set when value is None: the denominator that is 0
    low: float | None = None  # the 95 % interval, for the conversion rate and ROI
    high: float | None = None
    interval_note: str | None = None  # why a rate or ROI has no interval
    target: TargetProgress | None = None


@dataclass(frozen=True)
class Dashboard:
    report: CampaignReport
    groups: dict[str, list[Tile]]
    empty: bool  # no clicks and no orders in the period
    days: pl.DataFrame  # the campaign's days (report.days as a frame)
    creator_days: pl.DataFrame  # day, creator, clicks, unique_clicks, orders, revenue, net_revenue
    roi: pl.DataFrame  # creator, roi, roi_low, roi_high, minus, plus, orders, has_interval
    roi_left_out: list[str]  # creators without an ROI (no cost)


def check_span(period: Period) -> Period:
    """The report's period check, and at most :data:`MAX_DAYS` days between its ends."""
    period = check_period(period)
    if period.start and period.end and (period.end - period.start).days >= MAX_DAYS:
        raise InputError(
            f"a period of at most {MAX_DAYS} days, got {(period.end - period.start).days + 1}",
            field="to",
        )
    return period


def _interval_note(key: str, totals: Kpis) -> str | None:
    if key == "conversion_rate" and totals.conversion_rate_low is None:
        if totals.unique_clicks == 0:
            return None
        return "more orders than unique clicks (code orders need no click): not a proportion"
    if key == "roi" and totals.roi_low is None and totals.roi is not None:
        return "no orders: no order value to scale, so no interval"
    return None


def tiles(report: CampaignReport) -> dict[str, list[Tile]]:
    """Every tile of every group, from the report's totals and targets."""
    totals = report.totals
    targets = {t.kpi: t for t in report.targets}
    out: dict[str, list[Tile]] = {}
    for group, specs in GROUPS.items():
        row = []
        for spec in specs:
            value = getattr(totals, spec.key)
            bounds = INTERVALS.get(spec.key)
            low, high = (getattr(totals, b) for b in bounds) if bounds else (None, None)
            why = None if value is not None else f"{spec.denominator}: the denominator is 0"
            row.append(
                Tile(
                    key=spec.key,
                    label=spec.label,
                    kind=spec.kind,
                    value=value,
                    formula=spec.formula,
                    why_undefined=why,
                    low=low,
                    high=high,
                    interval_note=_interval_note(spec.key, totals),
                    target=targets.get(spec.key),
                )
            )
        out[group] = row
    return out


def _labels(creators: pl.DataFrame) -> pl.DataFrame:
    """A label per deal that no other deal of the campaign shares: the creator's name, with the
    account where names repeat, with the deal where both do."""
    frame = creators.with_columns(
        name=pl.coalesce("creator_name", "account", pl.format("creator {}", pl.col("creator_id")))
    )
    frame = frame.with_columns(
        label=pl.when(pl.col("name").is_duplicated())
        .then(pl.format("{} ({})", "name", pl.coalesce("account", pl.lit("no account"))))
        .otherwise("name")
    )
    return frame.with_columns(
        label=pl.when(pl.col("label").is_duplicated())
        .then(pl.format("{} · deal {}", "label", "deal_id"))
        .otherwise("label")
    )


def creator_frame(report: CampaignReport) -> pl.DataFrame:
    """The report's creators (ranked by net revenue) as a frame, with unique labels."""
    schema = {
        "deal_id": pl.Int64,
        "creator_id": pl.Int64,
        "creator_name": pl.String,
        "account": pl.String,
        "orders": pl.Int64,
        "net_revenue": pl.Float64,
        "roi": pl.Float64,
        "roi_low": pl.Float64,
        "roi_high": pl.Float64,
    }
    rows = [{k: getattr(c, k) for k in schema} for c in report.creators]
    frame = pl.DataFrame(rows, schema=schema, orient="row")
    return _labels(frame.with_row_index("rank"))


def roi_bars(creators: pl.DataFrame) -> pl.DataFrame:
    """Creators with an ROI, lowest first, with the error bars' lengths below and above it
    (null where there is no interval: no orders)."""
    return (
        creators.filter(pl.col("roi").is_not_null())
        .select(
            creator="label",
            roi="roi",
            roi_low="roi_low",
            roi_high="roi_high",
            minus=pl.col("roi") - pl.col("roi_low"),
            plus=pl.col("roi_high") - pl.col("roi"),
            orders="orders",
            has_interval=pl.col("roi_low").is_not_null(),
        )
        .sort("roi", "creator")
    )


def series_by_creator(
    days: pl.DataFrame, creators: pl.DataFrame, top: int = TOP_CREATORS
) -> pl.DataFrame:
    """Per day and creator (the ``top`` first of the report's ranking; the others summed as
    :data:`OTHERS`): clicks, unique clicks, orders, revenue and net revenue."""
    if days.is_empty():
        return pl.DataFrame(
            schema={"day": pl.Date, "creator": pl.String, "order": pl.UInt32}
            | dict.fromkeys(("clicks", "unique_clicks", "orders"), pl.Int64)
            | dict.fromkeys(("revenue", "net_revenue"), pl.Float64)
        )
    names = creators.select(
        "deal_id",
        creator=pl.when(pl.col("rank") < top).then("label").otherwise(pl.lit(OTHERS)),
        order=pl.min_horizontal("rank", pl.lit(top, pl.UInt32)),
    )
    return (
        days.join(names, on="deal_id", how="inner")
        .group_by("day", "creator", "order")
        .agg(
            pl.col("clicks", "unique_clicks", "orders").sum(),
            pl.col("revenue", "net_revenue").cast(pl.Float64).sum(),
        )
        .sort("order", "day")
    )


def days_frame(report: CampaignReport) -> pl.DataFrame:
    schema = {
        "day": pl.Date,
        "clicks": pl.Int64,
        "unique_clicks": pl.Int64,
        "orders": pl.Int64,
        "revenue": pl.Float64,
        "net_revenue": pl.Float64,
    }
    rows = [{k: getattr(d, k) for k in schema} for d in report.days]
    return pl.DataFrame(rows, schema=schema, orient="row")


def campaign_dashboard(
    session: Session, workspace: Workspace, campaign_id: int, period: Period | None = None
) -> Dashboard:
    """The dashboard of campaign ``campaign_id`` of ``workspace`` over ``period`` (all by
    default); NotFoundError when the campaign is not the workspace's, InputError (naming
    ``from`` or ``to``) for a period that ends before it starts or spans more than
    :data:`MAX_DAYS` days."""
    period = check_span(period or Period())
    report = campaign_report(session, workspace, campaign_id, period)
    creators = creator_frame(report)
    by_deal = campaign_days(session, workspace, campaign_id, period, by_deal=True)
    roi = roi_bars(creators)
    return Dashboard(
        report=report,
        groups=tiles(report),
        empty=report.totals.clicks == 0 and report.totals.orders == 0,
        days=days_frame(report),
        creator_days=series_by_creator(by_deal, creators),
        roi=roi,
        roi_left_out=creators.filter(pl.col("roi").is_null())["label"].to_list(),
    )


def period_label(report: CampaignReport) -> str:
    """ "all time", or the period's first and last day (an open end said so)."""
    if report.period_from is None and report.period_to is None:
        return "all time"
    start = report.period_from.isoformat() if report.period_from else "the start"
    end = report.period_to.isoformat() if report.period_to else "now"
    return f"{start} to {end}"
