"""The tested creators' own rates for the planner (docs/planning.md, "What the planner reads"):
per account measured in the workspace's campaigns in the plan's currency, the Beta posterior of
its conversion rate and the gamma-gamma posterior of its order value from test-and-learn
(planning.learn_posteriors), as per-row parameters the forecasts use instead of the
workspace's funnel. Untested accounts get nulls and keep it."""

from __future__ import annotations

import polars as pl
from sqlalchemy import exists, select
from sqlalchemy.orm import Session

from microfluence.campaigns.tables import Campaign, Deal
from microfluence.planning.learn import MIN_DRAWS
from microfluence.planning.learn_data import tested_creators
from microfluence.planning.learn_posteriors import fit

# The forecasts' per-row columns (forecasts.TESTED_CVR, TESTED_AOV): CVR ~ Beta(a, b) and
# AOV = scale / θ, θ ~ Gamma(shape, rate) (scale: κ × the paying share of orders).
SCHEMA = {
    "account_id": pl.Int64,
    "tested_cvr_a": pl.Float64,
    "tested_cvr_b": pl.Float64,
    "tested_aov_scale": pl.Float64,
    "tested_aov_shape": pl.Float64,
    "tested_aov_rate": pl.Float64,
}


def empty() -> pl.DataFrame:
    return pl.DataFrame(schema=SCHEMA)


def measured_campaigns(session: Session, workspace_id: int, currency: str) -> list[Campaign]:
    """The workspace's campaigns in ``currency`` that have at least one deal (one query)."""
    has_deal = exists().where(Deal.campaign_id == Campaign.id, Deal.workspace_id == workspace_id)
    return list(
        session.scalars(
            select(Campaign)
            .where(Campaign.workspace_id == workspace_id, Campaign.currency == currency, has_deal)
            .order_by(Campaign.id)
        )
    )


def account_rates(session: Session, workspace_id: int, currency: str) -> pl.DataFrame:
    """One row per account with at least one visit (a unique click or an order) in the
    measured campaigns: ``account_id`` and its conversion posterior's Beta parameters. Empty,
    at the cost of one query, when the workspace has no such campaign."""
    campaigns = measured_campaigns(session, workspace_id, currency)
    if not campaigns:
        return empty()
    tested = tested_creators(session, workspace_id, campaigns)
    visited = pl.max_horizontal("unique_clicks", "orders") > 0
    if tested.filter(visited & pl.col("account_id").is_not_null()).height == 0:
        return empty()
    fitted = fit(tested, draws=MIN_DRAWS)
    value = fitted.priors.order_value
    return (
        fitted.frame.filter(visited & pl.col("account_id").is_not_null())
        .select(
            "account_id",
            tested_cvr_a=pl.col("conversion_alpha"),
            tested_cvr_b=pl.col("conversion_beta"),
            tested_aov_scale=pl.lit(None if value is None else value.kappa * _paying_share(tested)),
            tested_aov_shape=pl.col("order_value_theta_shape"),
            tested_aov_rate=pl.col("order_value_theta_rate"),
        )
        .filter(pl.col("tested_cvr_a").is_not_null() & pl.col("tested_cvr_b").is_not_null())
        .cast(SCHEMA)  # type: ignore[arg-type]
    )


def _paying_share(tested: pl.DataFrame) -> float:
    """The tested creators' paying orders over their orders (1 without orders): the order
    value's posterior is a paying order's, the forecast's AOV any order's."""
    orders = int(tested["orders"].sum() or 0)
    return int(tested["paying_orders"].sum() or 0) / orders if orders else 1.0


def with_tested(options: pl.DataFrame, tested: pl.DataFrame) -> pl.DataFrame:
    """``options`` with the tested posteriors joined on ``account_id`` (null: untested), in
    the order of ``options``."""
    return (
        options.with_row_index("_row")
        .join(tested, on="account_id", how="left")
        .sort("_row")
        .drop("_row")
    )
