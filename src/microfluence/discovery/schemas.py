"""What the API and the library return and accept for niches.

What the API reads for shortlists and saved searches (pydantic, unknown fields refused)."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field

from microfluence.discovery.niches import AccountNiches, NicheRun


class NichePublic(BaseModel):
    niche: str
    confidence: float
    source: str


class AccountNichesPublic(BaseModel):
    account_id: int
    niches: list[NichePublic] = Field(
        description="The account's niches: the hand correction's while there is one."
    )
    model: list[NichePublic] = Field(description="What the model said, also while corrected.")
    corrected_by: str | None
    model_version: str | None

    @classmethod
    def of(cls, result: AccountNiches) -> AccountNichesPublic:
        return cls(
            account_id=result.account_id,
            niches=[NichePublic(**vars(n)) for n in result.niches],
            model=[NichePublic(**vars(n)) for n in result.model],
            corrected_by=result.corrected_by,
            model_version=result.model_version,
        )


class NichesCorrection(BaseModel):
    model_config = ConfigDict(extra="forbid")
    niches: list[str] = Field(
        max_length=20, description="Niche names (docs/discovery.md); [] removes the correction."
    )


class NicheRecompute(BaseModel):
    model_config = ConfigDict(extra="forbid")
    all: bool = Field(False, description="Score every account, not only the changed ones.")


class NicheRunPublic(BaseModel):
    accounts: int
    scored: int
    unchanged: int
    rows: int
    by_niche: dict[str, int]

    @classmethod
    def of(cls, run: NicheRun) -> NicheRunPublic:
        return cls(**vars(run))


Id = Annotated[int, Field(ge=1, le=2**31 - 1)]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ShortlistIn(Strict):
    name: Annotated[str, Field(min_length=1, max_length=200)]
    description: Annotated[str | None, Field(max_length=5000)] = None


class ShortlistPatch(Strict):
    name: Annotated[str | None, Field(min_length=1, max_length=200)] = None
    description: Annotated[str | None, Field(max_length=5000)] = None


class EntriesIn(Strict):
    account_ids: Annotated[list[Id], Field(max_length=1000)] = Field(
        default_factory=list, description="Accounts a search found (their creators are added)."
    )
    accounts: Annotated[list[Annotated[str, Field(max_length=250)]], Field(max_length=1000)] = (
        Field(default_factory=list, description="PLATFORM:HANDLE of accounts.")
    )
    creator_ids: Annotated[list[Id], Field(max_length=1000)] = Field(default_factory=list)
    note: Annotated[str | None, Field(max_length=5000)] = None


class NoteIn(Strict):
    note: Annotated[str | None, Field(max_length=5000)] = None


class ToCampaignIn(Strict):
    campaign_id: Id


class SavedSearchIn(Strict):
    name: Annotated[str, Field(min_length=1, max_length=200)]
    query: dict[str, Any] = Field(
        description="The search's parameters, as GET /api/v1/search takes them."
    )
    replace: bool = False
