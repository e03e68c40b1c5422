"""How jobs (imports, scoring) and schedules look to the API and the pages, and what a
request to start or schedule one holds."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from microfluence.catalog.schemas import UtcDateTime


class ImportJobPublic(BaseModel):
    id: str
    kind: str
    filename: str
    status: Literal["queued", "running", "cancelling", "succeeded", "failed", "cancelled"] = Field(
        description="queued, running, succeeded or failed; cancelling (asked to stop, it stops "
        "at its next batch) then cancelled (nothing written) when an owner cancels it."
    )
    progress: float | None = Field(
        description="Share done, 0 to 1, when the importer knows the total (else null)."
    )
    progress_done: int = Field(description="Bytes (or records) read so far.")
    progress_total: int | None
    summary: dict[str, Any] = Field(description="What was read, created, updated and rejected.")
    errors: list[dict[str, Any]] = Field(
        description="Why rows were rejected (file, line, field, reason), the first 100; or why "
        "the import failed."
    )
    error: str | None
    created_at: UtcDateTime
    started_at: UtcDateTime | None
    finished_at: UtcDateTime | None


class JobStart(BaseModel):
    """A background job to start for the workspace (imports start with an upload to
    /api/v1/imports instead)."""

    model_config = ConfigDict(extra="forbid")

    kind: Literal["score"] = Field(
        description="score: recompute every metric of the workspace (as `microfluence score`)."
    )


class ScheduleCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    kind: Literal["score", "outreach", "refresh"] = Field(
        description="The job to run: score (re-score the workspace), outreach (send the due "
        "sequence steps and the queued messages) or refresh (fetch the followed accounts again "
        "from the platforms' APIs, docs/connectors.md)."
    )
    cron: str = Field(
        min_length=1,
        max_length=100,
        description='Minute hour day month day-of-week, in UTC: "0 3 * * *" is 03:00 daily.',
        examples=["0 3 * * *"],
    )


class SchedulePublic(BaseModel):
    id: int
    kind: str
    cron: str
    description: str | None = Field(
        description='The schedule in words when it is simple ("every day at 03:00 UTC").'
    )
    next_run_at: UtcDateTime | None = Field(
        description="When it fires next (UTC), if a `microfluence worker` is running."
    )
    last_fired_at: UtcDateTime | None
    created_at: UtcDateTime
