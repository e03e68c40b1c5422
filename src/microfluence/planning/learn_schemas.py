"""Shapes of the test-and-learn report, as the API answers it and `microfluence learn --json`
prints it (docs/planning.md, "Test-and-learn"). Rates and probabilities travel as numbers,
``null`` where undefined."""

from __future__ import annotations

from pydantic import BaseModel, Field

Number = float | None


class CampaignRef(BaseModel):
    id: int
    name: str


class Pooled(BaseModel):
    conversion_rate: Number = Field(description="Σ orders / Σ visits of the tested creators.")
    revenue_per_click: Number = Field(description="Σ net revenue / Σ unique clicks.")
    roi: Number = Field(description="ROI of the creators with a fixed cost, pooled.")


class Prior(BaseModel):
    """One empirical-Bayes prior: its parameters, its mean and how it was set."""

    family: str = Field(description="beta, gamma or gamma-gamma.")
    parameters: dict[str, float]
    mean: float
    method: str


class CreatorPosterior(BaseModel):
    rank: int
    account_id: int | None
    creator_id: int
    creator_name: str | None
    account: str | None
    deals: int
    unique_clicks: int
    visits: int = Field(description="max(unique clicks, orders): the trials of the conversion.")
    orders: int
    revenue: float = Field(description="Net revenue after refunds.")
    posts: int
    fixed_cost: float = Field(description="Fees + product + shipping.")
    conversion_rate: Number = Field(description="Observed orders / visits.")
    conversion_mean: Number
    conversion_low: Number
    conversion_high: Number
    orders_per_click_mean: Number
    orders_per_click_low: Number
    orders_per_click_high: Number
    order_value_mean: Number
    order_value_low: Number
    order_value_high: Number
    revenue_per_click: Number = Field(description="Observed net revenue / unique clicks.")
    revenue_per_click_mean: Number
    revenue_per_click_low: Number
    revenue_per_click_high: Number
    clicks_per_post_mean: Number
    clicks_per_post_low: Number
    clicks_per_post_high: Number
    roi_mean: Number
    roi_low: Number
    roi_high: Number
    p_conversion_above: Number = Field(description="P(conversion rate > the pooled one).")
    p_revenue_per_click_above: Number
    p_roi_above: Number
    p_pays_back: Number = Field(description="P(ROI > 0).")
    conversion_flag: str
    revenue_flag: str
    roi_flag: str


class SplitCreator(BaseModel):
    account_id: int | None
    creator_id: int
    creator_name: str | None
    account: str | None
    p_best: float = Field(description="Share of draws in which this creator's ROI is highest.")
    share: float
    amount: float
    price_per_post: Number
    posts: int
    recommendation: str = Field(description="bundle, repeat or pause.")


class NextRound(BaseModel):
    budget: float
    explore: float = Field(description="The least share kept for new creators.")
    max_multiple: float = Field(description="The most a creator gets, × their last fixed cost.")
    new_share: float
    new_amount: float
    new_p_best: Number
    new_creators: int = Field(description="New creators the new share pays at the median fee.")
    median_fee: Number
    creators: list[SplitCreator]


class LearnReport(BaseModel):
    campaigns: list[CampaignRef]
    currency: str
    draws: int = Field(description="Monte Carlo draws used (fewer when creators are many).")
    seed: int
    pooled: Pooled
    priors: dict[str, Prior | None]
    creators: list[CreatorPosterior]
    next_round: NextRound
