"""Shapes of a plan request and of its answer (the API's bodies, the CLI's --json)."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from microfluence.kernel.errors import InputError

Objective = Literal["engagements", "reach", "clicks", "conversions", "revenue", "roi"]
OBJECTIVES = ("engagements", "reach", "clicks", "conversions", "revenue", "roi")
PlanFormat = Literal["feed_post", "reel", "video", "story", "short", "bundle"]
Count = Annotated[int, Field(ge=0, le=100_000)]
Label = Annotated[str, Field(min_length=1, max_length=120)]


class Quota(BaseModel):
    model_config = ConfigDict(extra="forbid")
    min: Count | None = None
    max: Count | None = None


class PlanRequest(BaseModel):
    """What to plan: the budget, what to maximise, and the constraints (all optional)."""

    model_config = ConfigDict(extra="forbid")
    budget: Annotated[float, Field(gt=0, le=1e12, description="Money to spend (USD).")]
    objective: Objective = "revenue"
    min_creators: Count | None = None
    max_creators: Count | None = None
    niches: Annotated[dict[Label, Quota], Field(max_length=100)] = {}
    countries: Annotated[dict[Label, Quota], Field(max_length=300)] = {}
    tiers: Annotated[dict[Label, Quota], Field(max_length=10)] = {}
    min_aqs: Annotated[float | None, Field(ge=0, le=100)] = None
    max_share: Annotated[
        float | None, Field(gt=0, le=1, description="Largest share of the budget per creator.")
    ] = None
    max_overlap: Annotated[
        float | None,
        Field(ge=0, le=1, description="Largest audience overlap of two chosen accounts."),
    ] = None
    formats: Annotated[list[PlanFormat] | None, Field(max_length=6)] = None
    shortlist: Annotated[str | None, Field(max_length=200)] = None
    seed: Annotated[int, Field(ge=0, le=2**31 - 1)] = 0


class Interval(BaseModel):
    mean: float
    low: float
    high: float


class PlanItem(BaseModel):
    account_id: int
    account: str
    creator_id: int
    creator_name: str
    format: str
    package: dict[str, int]
    tier: str
    niche: str
    country: str
    aqs: float | None
    price: Interval
    expected: dict[str, Interval]


class PlanOutcome(BaseModel):
    """One plan: its creators, cost, expected totals with 90 % ranges, ROI and P(ROI > 0)."""

    name: str
    items: list[PlanItem]
    cost: float
    objective_value: float
    totals: dict[str, Interval]
    roi: Interval | None
    p_roi_positive: float | None
    # The simulated distribution, as its 5 %, 10 % … 95 % quantiles: the objective's total
    # (revenue for ROI) and ROI (empty without cost), for charts.
    quantiles: dict[str, list[float]] = {}


class SolverInfo(BaseModel):
    status: str
    options: int
    seconds: float
    gap: float | None
    bound: float | None


class PlanResult(BaseModel):
    request: PlanRequest
    currency: str = "USD"
    candidates: int
    plan: PlanOutcome
    single_creator: PlanOutcome | None
    unconstrained: PlanOutcome
    solver: SolverInfo
    price_basis: str
    forecast_basis: str
    notes: list[str]


class PlanDealsItem(BaseModel):
    model_config = ConfigDict(extra="forbid")
    account: Annotated[str, Field(max_length=220, description="PLATFORM:HANDLE")]
    format: PlanFormat
    fee: Annotated[float, Field(ge=0, le=1e10)]


class PlanDeals(BaseModel):
    """Turn a plan's chosen set into deals of one campaign (an existing one, or a new one)."""

    model_config = ConfigDict(extra="forbid")
    campaign_id: Annotated[int | None, Field(ge=1, le=2**31 - 1)] = None
    campaign_name: Annotated[str | None, Field(min_length=1, max_length=200)] = None
    items: Annotated[list[PlanDealsItem], Field(min_length=1, max_length=1000)]


def parse_quotas(texts: list[str] | None, field: str) -> dict[str, Quota]:
    """``NAME=MIN:MAX`` texts (either side may be empty; ``NAME=N`` is exactly N) as quotas;
    a bad one is an InputError naming the option and the text."""
    out: dict[str, Quota] = {}
    for text in texts or []:
        name, sep, bounds = text.partition("=")
        low, colon, high = bounds.partition(":")
        if not colon:
            high = low
        try:
            quota = Quota(
                min=int(low) if low.strip() else None, max=int(high) if high.strip() else None
            )
        except ValueError:
            quota = None
        if (
            not sep
            or not name.strip()
            or quota is None
            or (quota.min is None and quota.max is None)
        ):
            raise InputError(
                f"{text[:100]!r} is not NAME=MIN:MAX (e.g. beauty=2:5, FR=3:, micro=:4)",
                field=field,
            )
        if quota.min is not None and quota.max is not None and quota.min > quota.max:
            raise InputError(f"{text[:100]!r}: the minimum is more than the maximum", field=field)
        out[name.strip()] = quota
    return out


def plan_request(**fields: object) -> PlanRequest:
    """A PlanRequest from the faces' values (None: not given), its first validation error as an
    InputError naming the field."""
    try:
        return PlanRequest.model_validate({k: v for k, v in fields.items() if v is not None})
    except ValidationError as exc:
        first = exc.errors(include_url=False)[0]
        field = ".".join(str(p) for p in first["loc"]) or None
        raise InputError(first["msg"], field=field) from None
