"""The measured results test-and-learn starts from: per account of a tested creator, summed
over their deals in the chosen campaigns, the unique clicks, the orders and their revenue, the
posts and the cost — read with the measurement report's own sources (measurement.sources), so
the sums are the report's (docs/measurement.md, "KPIs")."""

from __future__ import annotations

from collections.abc import Iterable

import polars as pl
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from microfluence.campaigns.campaigns import find_campaign
from microfluence.campaigns.tables import Campaign, Deal
from microfluence.kernel.errors import InputError
from microfluence.kernel.store.tables import Account
from microfluence.measurement import sources
from microfluence.planning.learn_posteriors import TESTED_SCHEMA, empty_tested


def campaigns_of(
    session: Session, workspace_id: int, campaign_ids: Iterable[int]
) -> list[Campaign]:
    """The campaigns (each the workspace's, else NotFoundError), once each, in one currency."""
    ids = list(dict.fromkeys(int(i) for i in campaign_ids))
    if not ids:
        raise InputError("name at least one campaign", field="campaign")
    found = [find_campaign(session, workspace_id, i) for i in ids]
    currencies = sorted({c.currency for c in found})
    if len(currencies) > 1:
        raise InputError(
            "the campaigns are in different currencies (" + ", ".join(currencies) + "): "
            "their revenue and costs cannot be pooled",
            field="campaign",
        )
    return found


def _deal_accounts(session: Session, workspace_id: int, campaign_id: int) -> pl.DataFrame:
    """Per deal, the account it is measured on: the deal's, else the creator's first."""
    first = (
        select(func.min(Account.id))
        .where(Account.creator_id == Deal.creator_id, Account.workspace_id == workspace_id)
        .correlate(Deal)
        .scalar_subquery()
    )
    rows = session.execute(
        select(Deal.id, func.coalesce(Deal.account_id, first)).where(
            Deal.workspace_id == workspace_id, Deal.campaign_id == campaign_id
        )
    ).all()
    return pl.DataFrame(
        [tuple(r) for r in rows],
        schema={"deal_id": pl.Int64, "account_id": pl.Int64},
        orient="row",
    )


def _campaign_deals(session: Session, workspace_id: int, campaign_id: int) -> pl.DataFrame:
    """One row per deal of the campaign with its sums (the report's sources)."""
    deals = sources.deals(session, workspace_id, campaign_id)
    deal_map = deals.select("creator_id", "deal_id")
    period = sources.Period()
    clicks = (
        sources.clicks(session, workspace_id, campaign_id, deal_map, period)
        .group_by("deal_id")
        .agg(unique_clicks=pl.col("unique_clicks").sum())
    )
    orders = (
        sources.orders(session, workspace_id, campaign_id, deal_map, period)
        .with_columns(paying=pl.col("net_revenue") > 0)
        .group_by("deal_id")
        .agg(
            orders=pl.len(),
            paying_orders=pl.col("paying").sum(),
            revenue=pl.col("net_revenue").sum(),
            revenue_log_sum=pl.col("net_revenue").filter(pl.col("paying")).log().sum(),
        )
    )
    posts = (
        sources.posts(session, workspace_id, campaign_id, period)
        .group_by("deal_id")
        .agg(posts=pl.col("post_id").n_unique())
    )
    frame = deals.join(_deal_accounts(session, workspace_id, campaign_id), on="deal_id", how="left")
    for part in (clicks, orders, posts):
        frame = frame.join(part, on="deal_id", how="left")
    return frame.with_columns(
        fixed_cost=pl.sum_horizontal("flat_fee", "product_value", "shipping_cost"),
    )


def tested_creators(
    session: Session, workspace_id: int, campaigns: Iterable[Campaign]
) -> pl.DataFrame:
    """One row per account with a deal in ``campaigns`` (:data:`TESTED_SCHEMA`): the deals'
    sums added up, the commission rate their mean. A deal without any account is keyed by its
    creator alone (``account_id`` null)."""
    parts = [_campaign_deals(session, workspace_id, c.id) for c in campaigns]
    parts = [p for p in parts if p.height]
    if not parts:
        return empty_tested()
    deals = pl.concat(parts, how="diagonal_relaxed")
    counts = ("unique_clicks", "orders", "paying_orders", "posts")
    sums = ("revenue", "revenue_log_sum", "fixed_cost")
    deals = deals.with_columns(pl.col(*counts).fill_null(0), pl.col(*sums).fill_null(0.0))
    grouped = deals.group_by("account_id", "creator_id").agg(
        pl.col("creator_name").first(),
        pl.col("account").drop_nulls().first(),
        deals=pl.len(),
        **{c: pl.col(c).sum() for c in (*counts, *sums)},
        commission_rate=pl.col("commission_rate").fill_null(0.0).mean(),
    )
    return (
        grouped.select(list(TESTED_SCHEMA))
        .cast(TESTED_SCHEMA)
        .sort(  # type: ignore[arg-type]
            "creator_id", "account_id", nulls_last=True
        )
    )
