"""How an import job looks to the API and the pages."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field

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
