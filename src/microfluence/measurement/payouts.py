"""What each creator is owed for a period: commissions and fees (docs/measurement.md,
"Payouts").

For the period's UTC days ``from`` … ``to`` (both included), per creator and currency:

    commission_earned   = Σ round(rate × net, 2)     over attributed orders placed in the period
    commission_refunded = Σ round(rate × refund, 2)  over refunds made in the period, of any
                          attributed order (each capped so an order's refunds never exceed its net)
    commission_owed     = commission_earned − commission_refunded   (negative: a claw-back)
    fees_due            = Σ flat fees of deals delivered in the period
    total_owed          = commission_owed + fees_due

``rate`` is the commission rate of the order's deal (the deal attribution named, else the
creator's deal in the order's campaign). A deal is **delivered** on the day its last deliverable's
post was published, once every deliverable has a post (a deal without deliverables: on its
campaign's first day, else the day it was made); its flat fee is due in the period holding that
day. Product value and shipping are paid by the brand to others, so they are not in a payout.
"""

from __future__ import annotations

import csv
import io
from pathlib import Path
from typing import Any

import polars as pl
import sqlalchemy as sa
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from microfluence.campaigns.tables import Campaign, Deal, Deliverable
from microfluence.commerce.revenue import UNPAID, attributed_revenue
from microfluence.commerce.tables import Order, Refund
from microfluence.kernel.cells import neutralise_formulas
from microfluence.kernel.errors import InputError
from microfluence.kernel.store.tables import Account, Creator, Post
from microfluence.measurement.sources import Period

COLUMNS = (
    "creator_id",
    "creator",
    "account",
    "currency",
    "campaigns",
    "orders",
    "net_revenue",
    "refunds",
    "commission_earned",
    "commission_refunded",
    "commission_owed",
    "fees_due",
    "total_owed",
)
MONEY = COLUMNS[6:]


def _frame(rows: list[Any], schema: dict[str, Any]) -> pl.DataFrame:
    return pl.DataFrame([tuple(r) for r in rows], schema=schema, orient="row")


def _deals(session: Session, workspace_id: int, campaign_id: int | None) -> pl.DataFrame:
    """The deals (of one campaign, or all) with their rate, fee, campaign and delivery day."""
    pieces = (
        select(
            Deliverable.deal_id,
            func.count().label("pieces"),
            func.count(Deliverable.post_id).label("delivered"),
            func.max(func.coalesce(Post.posted_at, Deliverable.matched_at)).label("last"),
        )
        .outerjoin(Post, Post.id == Deliverable.post_id)
        .where(Deliverable.workspace_id == workspace_id)
        .group_by(Deliverable.deal_id)
        .subquery()
    )
    query = (
        select(
            Deal.id,
            Deal.campaign_id,
            Deal.creator_id,
            Deal.commission_rate,
            Deal.flat_fee,
            Campaign.name,
            Campaign.currency,
            Campaign.starts_on,
            Deal.created_at,
            pieces.c.pieces,
            pieces.c.delivered,
            pieces.c.last,
        )
        .join(Campaign, Campaign.id == Deal.campaign_id)
        .outerjoin(pieces, pieces.c.deal_id == Deal.id)
        .where(Deal.workspace_id == workspace_id, Campaign.workspace_id == workspace_id)
    )
    if campaign_id is not None:
        query = query.where(Deal.campaign_id == campaign_id)
    frame = _frame(
        session.execute(query).all(),
        {
            "deal_id": pl.Int64,
            "campaign_id": pl.Int64,
            "creator_id": pl.Int64,
            "rate": pl.Decimal(7, 4),
            "flat_fee": pl.Decimal(14, 2),
            "campaign": pl.String,
            "currency": pl.String,
            "starts_on": pl.Date,
            "created_at": pl.Datetime("us"),
            "pieces": pl.Int64,
            "delivered": pl.Int64,
            "last": pl.Datetime("us"),
        },
    )
    pieces_n = pl.col("pieces").fill_null(0)
    delivered_on = (
        pl.when(pieces_n == 0)
        .then(pl.coalesce("starts_on", pl.col("created_at").dt.date()))
        .when(pl.col("delivered") == pieces_n)
        .then(pl.col("last").dt.date())
    )
    return frame.with_columns(delivered_on=delivered_on)


def _with_deal(frame: pl.DataFrame, deals: pl.DataFrame) -> pl.DataFrame:
    """The deal of each row: its own ``deal_id``, else the creator's deal in its campaign."""
    by_pair = deals.select("campaign_id", "creator_id", pair_deal="deal_id")
    return (
        frame.join(by_pair, on=["campaign_id", "creator_id"], how="left")
        .with_columns(deal_id=pl.coalesce("deal_id", "pair_deal"))
        .drop("pair_deal")
        .join(deals.select("deal_id", "rate"), on="deal_id", how="inner")
    )


def _earned(
    session: Session,
    workspace_id: int,
    campaign_id: int | None,
    deals: pl.DataFrame,
    period: Period,
) -> pl.DataFrame:
    orders = attributed_revenue(session, workspace_id, campaign_id).filter(
        period.mask("ordered_at")
    )
    orders = _with_deal(orders, deals)
    return orders.group_by("deal_id").agg(
        orders=pl.len(),
        net_revenue=pl.col("net").sum(),
        commission_earned=(pl.col("rate") * pl.col("net")).round(2).sum(),
    )


def _refunded(
    session: Session,
    workspace_id: int,
    campaign_id: int | None,
    deals: pl.DataFrame,
    period: Period,
) -> pl.DataFrame:
    """Refunds made in the period of attributed orders, each capped by what the order's earlier
    refunds left of its net (a cumulative sum per order, in refund order)."""
    query = (
        select(
            Refund.id,
            Refund.refunded_at,
            Refund.amount,
            Order.id,
            Order.net,
            Order.deal_id,
            Order.campaign_id,
            Order.creator_id,
        )
        .join(
            Order,
            (Order.shop_id == Refund.shop_id) & (Order.external_id == Refund.order_external_id),
        )
        .where(
            Refund.workspace_id == workspace_id,
            Order.workspace_id == workspace_id,
            Order.method != "none",
            sa.or_(Order.financial_status.is_(None), Order.financial_status.not_in(UNPAID)),
        )
    )
    if campaign_id is not None:
        query = query.where(Order.campaign_id == campaign_id)
    if period.until is not None:
        query = query.where(Refund.refunded_at < period.until)
    refunds = _frame(
        session.execute(query).all(),
        {
            "refund_id": pl.Int64,
            "refunded_at": pl.Datetime("us"),
            "amount": pl.Decimal(14, 2),
            "order_id": pl.Int64,
            "net": pl.Decimal(14, 2),
            "deal_id": pl.Int64,
            "campaign_id": pl.Int64,
            "creator_id": pl.Int64,
        },
    )
    cum = pl.col("amount").cum_sum().over("order_id", order_by=["refunded_at", "refund_id"])
    capped = refunds.with_columns(
        counted=(
            pl.min_horizontal(cum, pl.col("net"))
            - pl.min_horizontal(cum - pl.col("amount"), pl.col("net"))
        ).clip(lower_bound=0)
    ).filter(period.mask("refunded_at"))
    capped = _with_deal(capped, deals)
    return capped.group_by("deal_id").agg(
        refunds=pl.col("counted").sum(),
        commission_refunded=(pl.col("rate") * pl.col("counted")).round(2).sum(),
    )


def _names(session: Session, workspace_id: int, creator_ids: list[int]) -> pl.DataFrame:
    first = (
        select(Account.creator_id, func.min(Account.id).label("aid"))
        .where(Account.workspace_id == workspace_id)
        .group_by(Account.creator_id)
        .subquery()
    )
    rows = session.execute(
        select(Creator.id, Creator.name, Account.platform, Account.handle)
        .outerjoin(first, first.c.creator_id == Creator.id)
        .outerjoin(Account, Account.id == first.c.aid)
        .where(Creator.workspace_id == workspace_id, Creator.id.in_(creator_ids))
    ).all()
    frame = _frame(
        rows,
        {"creator_id": pl.Int64, "creator": pl.String, "platform": pl.String, "handle": pl.String},
    )
    return frame.select(
        "creator_id",
        "creator",
        account=pl.when(pl.col("platform").is_not_null()).then(
            pl.concat_str("platform", pl.lit(":"), "handle")
        ),
    )


def payouts(
    session: Session, workspace_id: int, period: Period, *, campaign_id: int | None = None
) -> pl.DataFrame:
    """One row per creator and currency with something owed or clawed back in ``period``
    (both its days needed), columns :data:`COLUMNS`, money as Decimal; by creator name."""
    if period.start is None or period.end is None:
        raise InputError("a payout needs a period: --from and --to", field="from")
    if period.end < period.start:
        raise InputError(
            f"the period ends ({period.end}) before it starts ({period.start})", field="to"
        )
    deals = _deals(session, workspace_id, campaign_id)
    fees = deals.filter(period.mask_date("delivered_on")).select("deal_id", fees_due="flat_fee")
    per_deal = (
        deals.select("deal_id", "creator_id", "currency", "campaign")
        .join(_earned(session, workspace_id, campaign_id, deals, period), on="deal_id", how="left")
        .join(
            _refunded(session, workspace_id, campaign_id, deals, period), on="deal_id", how="left"
        )
        .join(fees, on="deal_id", how="left")
    )
    zero = pl.lit(0).cast(pl.Decimal(14, 2))
    money = ["net_revenue", "refunds", "commission_earned", "commission_refunded", "fees_due"]
    per_deal = per_deal.with_columns(
        pl.col("orders").fill_null(0),
        *(pl.col(c).cast(pl.Decimal(14, 2)).fill_null(zero) for c in money),
    ).filter((pl.col("orders") > 0) | (pl.col("refunds") != 0) | (pl.col("fees_due") != 0))
    grouped = per_deal.group_by("creator_id", "currency").agg(
        campaigns=pl.col("campaign").unique().sort().str.join("; "),
        orders=pl.col("orders").sum(),
        **{c: pl.col(c).sum() for c in money},
    )
    grouped = grouped.with_columns(
        commission_owed=pl.col("commission_earned") - pl.col("commission_refunded")
    ).with_columns(total_owed=pl.col("commission_owed") + pl.col("fees_due"))
    names = _names(session, workspace_id, grouped["creator_id"].to_list())
    return (
        grouped.join(names, on="creator_id", how="left")
        .select(COLUMNS)
        .sort("creator", "creator_id", "currency", nulls_last=True)
    )


def payout_totals(rows: pl.DataFrame) -> pl.DataFrame:
    """One totals row per currency: the sums of :func:`payouts`' money and orders."""
    return (
        rows.group_by("currency")
        .agg(pl.col("orders").sum(), *(pl.col(c).sum() for c in MONEY))
        .sort("currency")
    )


def payouts_csv(rows: pl.DataFrame) -> str:
    """The payout CSV: the creators' rows, then a ``TOTAL`` row per currency."""
    totals = (
        payout_totals(rows)
        .with_columns(
            creator_id=pl.lit(None, pl.Int64),
            creator=pl.lit("TOTAL"),
            account=pl.lit(None, pl.String),
            campaigns=pl.lit(None, pl.String),
        )
        .select(COLUMNS)
    )
    both = neutralise_formulas(pl.concat([rows, totals])).with_columns(
        pl.col(*MONEY).cast(pl.String)
    )
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(COLUMNS)
    writer.writerows(both.iter_rows())
    return out.getvalue()


def write_payouts(rows: pl.DataFrame, path: Path) -> None:
    try:
        path.write_text(payouts_csv(rows), encoding="utf-8")
    except OSError as exc:
        raise InputError(f"cannot write the payout CSV: {exc.strerror}", file=str(path)) from None
