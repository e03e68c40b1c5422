"""How connections, fetches and refresh runs look to the API and the pages, and what a request
to set credentials or fetch holds. Credentials are only ever shown masked."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from microfluence.catalog.schemas import UtcDateTime
from microfluence.connectors.status import Connection
from microfluence.connectors.tables import RefreshItem, RefreshRun

Platform = Literal["youtube", "instagram"]


class ConnectionPublic(BaseModel):
    platform: str
    connected: bool
    hint: str | None = Field(description="The secret masked (its first and last 4 characters).")
    business_account_id: str | None
    daily_budget: int | None = Field(description="The workspace's own budget (null: default).")
    budget: int | None = Field(description="The budget in force (YouTube default: 10,000 units).")
    used_today: int = Field(description="Units (YouTube) or calls (Instagram) spent today.")
    exhausted: bool = Field(description="The platform said today's quota is spent.")
    quota_day: str = Field(description="The quota day (YouTube: the date in Pacific time).")
    resets_at: UtcDateTime
    updated_at: UtcDateTime | None

    @classmethod
    def of(cls, c: Connection) -> ConnectionPublic:
        return cls(**{**c.__dict__, "quota_day": c.quota_day.isoformat()})


class CredentialsSet(BaseModel):
    model_config = ConfigDict(extra="forbid")

    secret: str = Field(
        min_length=1,
        max_length=4096,
        description="The YouTube API key, or the Instagram user access token. Stored sealed, "
        "never returned.",
    )
    business_account_id: str | None = Field(
        default=None, max_length=40, description="Instagram only: your business account's id."
    )
    daily_budget: int | None = Field(default=None, ge=1, le=100_000_000)


class FetchRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    handles: list[str] = Field(
        default_factory=list,
        max_length=50,
        description="YouTube: channel ids (UC…), @handles or user:names; Instagram: user names.",
    )
    search: str | None = Field(
        default=None,
        max_length=200,
        description="YouTube only: find channels by keyword (search.list, 100 units).",
    )
    limit: int = Field(default=10, ge=1, le=50, description="Channels a search returns.")
    confirm: bool = Field(
        default=False, description="Accept a search's cost of 100 units (refused without)."
    )
    rescore: bool = Field(default=True, description="Re-score the workspace afterwards.")


class FetchPublic(BaseModel):
    platform: str
    fetched: list[str]
    not_readable: dict[str, str] = Field(description="Handles that could not be read, and why.")
    stopped: str | None = Field(description="Why the fetch stopped early (quota, rate limit…).")
    not_tried: list[str]
    units: int
    unavailable_posts: int
    import_id: int | None
    created: dict[str, int]
    updated: dict[str, int]
    scored: bool


class RefreshItemPublic(BaseModel):
    account_id: int
    platform: str
    handle: str
    state: str
    error: str | None

    @classmethod
    def of(cls, item: RefreshItem) -> RefreshItemPublic:
        return cls(
            account_id=item.account_id,
            platform=item.platform,
            handle=item.handle,
            state=item.state,
            error=item.error,
        )


class RefreshRunPublic(BaseModel):
    id: int
    status: str = Field(description="running, succeeded, partial (stopped: resumed next) or failed")
    source: str
    total: int
    done: int
    failed: int
    attempts: int
    error: str | None
    started_at: UtcDateTime
    finished_at: UtcDateTime | None
    items: list[RefreshItemPublic] | None = None

    @classmethod
    def of(cls, run: RefreshRun, items: list[Any] | None = None) -> RefreshRunPublic:
        return cls(
            id=run.id,
            status=run.status,
            source=run.source,
            total=run.total,
            done=run.done,
            failed=run.failed,
            attempts=run.attempts,
            error=run.error,
            started_at=run.started_at,
            finished_at=run.finished_at,
            items=[RefreshItemPublic.of(i) for i in items] if items is not None else None,
        )
