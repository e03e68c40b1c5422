"""What the API and the library return and accept for niches."""

from __future__ import annotations

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
