"""Shapes of campaigns, deals and deliverables: Create / Update (what may be sent) and Public
(what is answered). Every value goes through the rules of :mod:`campaigns.values`, so the API's
422 names the same field the command's error does."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from decimal import Decimal
from typing import Annotated, Any, Literal, TypeVar

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PlainSerializer,
    ValidationError,
)
from pydantic_core import PydanticCustomError

from microfluence.campaigns import values
from microfluence.campaigns.tables import (
    CAMPAIGN_STATUSES,
    DELIVERABLE_FORMATS,
    DELIVERABLE_STATUSES,
    GOALS,
)
from microfluence.catalog.schemas import UtcDateTime
from microfluence.kernel.errors import InputError

M = TypeVar("M", bound=BaseModel)


def _check(parse: Callable[..., Any], options: dict[str, Any]) -> Callable[[Any], Any]:
    def check(value: Any) -> Any:
        try:
            return parse(value, **options)
        except InputError as exc:
            raise PydanticCustomError("invalid", exc.message) from None

    return check


def _rule(parse: Callable[..., Any], **options: Any) -> BeforeValidator:
    """A rule of campaigns.values applied to the value as sent."""
    return BeforeValidator(_check(parse, options))


def _after(parse: Callable[..., Any], **options: Any) -> AfterValidator:
    """A rule of campaigns.values applied once the value has its type."""
    return AfterValidator(_check(parse, options))


def parse_model(model: type[M], data: dict[str, Any]) -> M:
    """``model`` from ``data`` (the commands and the library), its first validation error as an
    InputError naming the field, like every other error of the faces."""
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        first = exc.errors(include_url=False)[0]
        field = ".".join(str(p) for p in first["loc"]) or None
        raise InputError(first["msg"], field=field) from None


# Money travels as a JSON string ("12.50"): exact, never a binary float.
MoneyOut = Annotated[Decimal, PlainSerializer(lambda v: f"{v:.2f}", return_type=str)]
RateOut = Annotated[Decimal, PlainSerializer(lambda v: f"{v:.4f}", return_type=str)]

Goal = Literal["awareness", "engagement", "traffic", "sales", "content"]
assert set(Goal.__args__) == set(GOALS)  # type: ignore[attr-defined]
Status = Literal["draft", "active", "paused", "ended"]
assert set(Status.__args__) == set(CAMPAIGN_STATUSES)  # type: ignore[attr-defined]
Format = Literal["feed_post", "reel", "video", "story", "short"]
assert set(Format.__args__) == set(DELIVERABLE_FORMATS)  # type: ignore[attr-defined]
PieceStatus = Literal["pending", "matched", "confirmed"]
assert set(PieceStatus.__args__) == set(DELIVERABLE_STATUSES)  # type: ignore[attr-defined]

Name = Annotated[str, Field(min_length=1, max_length=values.NAME_MAX), _rule(values.parse_name)]
Currency = Annotated[str, Field(min_length=3, max_length=3), _rule(values.parse_currency)]
Money = Annotated[Decimal, _rule(values.parse_money, field="amount")]
Rate = Annotated[Decimal, _rule(values.parse_rate)]
Tag = Annotated[str, Field(max_length=120)]
Hashtags = Annotated[
    list[Tag],
    Field(max_length=values.TAGS_MAX),
    _after(values.parse_tags, field="hashtags", sign="#"),
]
Mentions = Annotated[
    list[Tag],
    Field(max_length=values.TAGS_MAX),
    _after(values.parse_tags, field="mentions", sign="@"),
]
Targets = Annotated[
    dict[Annotated[str, Field(max_length=40)], float],
    Field(max_length=len(values.KPI_NAMES)),
    _after(values.parse_targets),
]
Package = Annotated[
    dict[Format, Annotated[int, Field(ge=0, le=values.PIECES_MAX)]], _rule(values.parse_package)
]
Day = dt.date
Notes = Annotated[str, Field(max_length=20_000), _rule(values.parse_notes)]
Brief = Annotated[str, Field(max_length=20_000), _rule(values.parse_notes, field="brief")]
Dos = Annotated[list[str], _rule(values.parse_lines, field="dos")]
Donts = Annotated[list[str], _rule(values.parse_lines, field="donts")]
Disclosure = Annotated[str, _rule(values.parse_disclosure)]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


# --- campaigns ------------------------------------------------------------------------------


class CampaignCreate(Strict):
    name: Name
    goal: Goal = "sales"
    starts_on: Day | None = None
    ends_on: Day | None = None
    budget: Money | None = None
    currency: Currency = "USD"
    targets: Targets = Field(default_factory=dict)
    hashtags: Hashtags = Field(default_factory=list)
    mentions: Mentions = Field(default_factory=list)
    attribution_days: Annotated[int, Field(ge=1, le=365)] = 30
    notes: Notes | None = None
    brief: Brief | None = None
    dos: Dos = Field(default_factory=list)
    donts: Donts = Field(default_factory=list)
    disclosure: Disclosure | None = None


class CampaignUpdate(Strict):
    """Only the fields sent are changed. ``status`` moves draft → active ↔ paused → ended."""

    name: Name | None = None
    goal: Goal | None = None
    status: Status | None = None
    starts_on: Day | None = None
    ends_on: Day | None = None
    budget: Money | None = None
    currency: Currency | None = None
    targets: Targets | None = None
    hashtags: Hashtags | None = None
    mentions: Mentions | None = None
    attribution_days: Annotated[int, Field(ge=1, le=365)] | None = None
    notes: Notes | None = None
    brief: Brief | None = None
    dos: Dos | None = None
    donts: Donts | None = None
    disclosure: Disclosure | None = None


class PieceCounts(BaseModel):
    pending: int = 0
    matched: int = 0
    confirmed: int = 0


class CampaignPublic(BaseModel):
    id: int
    name: str
    goal: str
    status: str
    starts_on: dt.date | None
    ends_on: dt.date | None
    budget: MoneyOut | None
    currency: str
    targets: dict[str, float]
    hashtags: list[str]
    mentions: list[str]
    attribution_days: int
    notes: str | None
    brief: str | None = Field(default=None, description="What creators read in the portal.")
    dos: list[str] = Field(default_factory=list)
    donts: list[str] = Field(default_factory=list)
    disclosure: str | None = Field(default=None, description="The ad disclosure required.")
    deals: int = Field(description="Creators in the campaign.")
    pieces: PieceCounts = Field(description="Deliverables by status.")
    created_at: UtcDateTime
    updated_at: UtcDateTime


# --- deals ----------------------------------------------------------------------------------

Due = Annotated[
    dt.date | dict[Literal["feed_post", "reel", "video", "story", "short", "*"], dt.date] | None,
    Field(description="One date for every piece, or format → date."),
]


class DealCreate(Strict):
    creator: Annotated[str, Field(max_length=220, description="PLATFORM:HANDLE of an account.")]
    flat_fee: Money = Decimal("0.00")
    product_value: Money = Decimal("0.00")
    shipping_cost: Money = Decimal("0.00")
    commission_rate: Rate = Decimal("0.0000")
    package: Package = Field(default_factory=dict)
    due: Due = None
    notes: Notes | None = None


class DealUpdate(Strict):
    """Only the fields sent are changed. A new ``package`` replaces the old one: pending pieces
    are added or removed, a matched or confirmed one never."""

    flat_fee: Money | None = None
    product_value: Money | None = None
    shipping_cost: Money | None = None
    commission_rate: Rate | None = None
    package: Package | None = None
    due: Due = None
    notes: Notes | None = None


class DealPublic(BaseModel):
    id: int
    campaign_id: int
    creator_id: int
    creator_name: str | None
    account_id: int | None
    account: str | None = Field(description="PLATFORM:HANDLE of the deal's account.")
    flat_fee: MoneyOut
    product_value: MoneyOut
    shipping_cost: MoneyOut
    commission_rate: RateOut
    package: dict[str, int]
    pieces: PieceCounts
    notes: str | None
    created_at: UtcDateTime
    updated_at: UtcDateTime


# --- deliverables ---------------------------------------------------------------------------


class DeliverablePublic(BaseModel):
    id: int
    deal_id: int
    creator_id: int
    creator_name: str | None
    account: str | None
    format: str
    due_on: dt.date | None
    status: str
    post_id: int | None
    post_url: str | None
    posted_at: UtcDateTime | None
    matched_by: str | None
    matched_at: UtcDateTime | None
    match_reason: str | None
    rejected_post_ids: list[int]


class AssignPost(Strict):
    post: Annotated[str, Field(min_length=1, max_length=1000, description="A post id or URL.")]


class MatchSummary(BaseModel):
    campaign_id: int
    candidates: int = Field(description="Posts of the campaign's creators within its dates.")
    matched: int = Field(description="Pieces matched by this run.")
    pending: int = Field(description="Pieces still waiting for a post.")
    deliverables: list[DeliverablePublic] = Field(description="The pieces matched by this run.")
