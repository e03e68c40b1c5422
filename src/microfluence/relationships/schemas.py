"""Shapes of the pipeline: what the board, a move, a deal's history, the statistics and adding
prospects answer, and what a move or an addition may send. The API answers these; the CLI, the
pages and the library read the same objects."""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, PlainSerializer, model_validator

from microfluence.catalog.schemas import ID_MAX, UtcDateTime

Id = Annotated[int, Field(ge=1, le=ID_MAX)]
Reference = Annotated[str, Field(min_length=1, max_length=230, description="PLATFORM:HANDLE")]
MoneyOut = Annotated[Decimal, PlainSerializer(lambda v: f"{v:.2f}", return_type=str)]
MAX_BULK = 5_000


class Card(BaseModel):
    """One deal on the board: who, where it stands, since when, for how much."""

    deal_id: int
    creator_id: int
    creator_name: str | None
    account: str | None = Field(
        description="PLATFORM:HANDLE of the deal's account (or the "
        "creator's first one when the deal names none)."
    )
    stage: str
    stage_changed_at: UtcDateTime
    days_in_stage: float = Field(description="Days since the deal entered its stage.")
    flat_fee: MoneyOut
    has_fee: bool = Field(description="False for a prospect whose fee is not set yet.")


class Column(BaseModel):
    stage: str
    main: bool = Field(description="True on the main path, False for the side stages.")
    cards: list[Card]


class Board(BaseModel):
    campaign_id: int
    campaign_name: str
    currency: str
    columns: list[Column]

    @property
    def cards(self) -> list[Card]:
        return [card for column in self.columns for card in column.cards]


class MoveIn(BaseModel):
    """A move of one or many deals of the campaign, named by id or by an account of their
    creator; all or nothing."""

    model_config = ConfigDict(extra="forbid")
    stage: str = Field(min_length=1, max_length=40, description="The stage to move them to.")
    deal_ids: list[Id] = Field(default_factory=list, max_length=MAX_BULK)
    creators: list[Reference] = Field(default_factory=list, max_length=MAX_BULK)

    @model_validator(mode="after")
    def _some(self) -> MoveIn:
        if not self.deal_ids and not self.creators:
            raise ValueError("name at least one deal (deal_ids) or creator (creators)")
        return self


class MoveResult(BaseModel):
    stage: str
    moved: list[int] = Field(description="Ids of the deals moved.")
    unchanged: list[int] = Field(description="Ids of the deals already at the stage.")


class Event(BaseModel):
    """One entry of a deal's history."""

    id: int
    deal_id: int
    at: UtcDateTime
    kind: str
    actor_kind: str
    actor: str | None
    from_stage: str | None
    to_stage: str | None
    detail: dict[str, Any]


class StageTime(BaseModel):
    """Time spent in one stage, over every stay of every deal (a stay still open counts up to
    now)."""

    stage: str
    deals: int = Field(description="Deals at the stage now.")
    stays: int = Field(description="Stays in the stage, ended or open.")
    open_stays: int
    median_days: float | None
    mean_days: float | None


class Conversion(BaseModel):
    """From one main stage to the next: of the deals that reached ``from_stage``, the share
    that reached ``to_stage``."""

    from_stage: str
    to_stage: str
    reached_from: int
    reached_to: int
    rate: float | None = Field(description="reached_to / reached_from; null when none reached.")


class Stats(BaseModel):
    campaign_id: int
    deals: int
    at: UtcDateTime = Field(description="The 'now' open stays are counted up to.")
    stages: list[StageTime]
    reached: dict[str, int] = Field(description="Deals that reached each main stage.")
    conversions: list[Conversion]
    reached_paid: float | None = Field(description="Share of all the deals that reached paid.")


class ProspectsIn(BaseModel):
    """Creators to add to the campaign as prospects, by id or by an account."""

    model_config = ConfigDict(extra="forbid")
    creator_ids: list[Id] = Field(default_factory=list, max_length=MAX_BULK)
    creators: list[Reference] = Field(default_factory=list, max_length=MAX_BULK)

    @model_validator(mode="after")
    def _some(self) -> ProspectsIn:
        if not self.creator_ids and not self.creators:
            raise ValueError("name at least one creator (creator_ids or creators)")
        return self


class Prospect(BaseModel):
    creator_id: int
    creator_name: str | None
    deal_id: int


class ProspectsResult(BaseModel):
    campaign_id: int
    added: list[Prospect] = Field(description="New deals, at stage prospect, without a fee.")
    already: list[Prospect] = Field(
        description="Creators already in the campaign: left as they are, whatever their stage."
    )
