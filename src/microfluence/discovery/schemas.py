"""What the API reads for shortlists and saved searches (pydantic, unknown fields refused)."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field

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
