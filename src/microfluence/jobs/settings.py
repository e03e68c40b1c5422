"""Settings of the background jobs, read from the environment (prefix ``MICROFLUENCE_``); the
app processes and the workers read the same ones."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class JobSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="MICROFLUENCE_", extra="ignore")

    job_queue: str | None = Field(
        default=None,
        description=(
            "The durable job queue, sqlite:///PATH (huey's SqliteHuey: a file, no server). "
            "Unset: jobs run in a thread pool inside `microfluence serve` (one machine, one "
            "process). Set: the app processes enqueue, `microfluence worker` processes run."
        ),
    )
    upload_dir: Path | None = Field(
        default=None,
        description=(
            "Where uploads wait for their import job; with a queue, a directory the app "
            "processes and the workers share. Unset: microfluence-uploads-UID in the system's "
            "temporary folder."
        ),
    )
    worker_threads: int = Field(
        default=2, ge=1, le=32, description="Jobs one `microfluence worker` runs at once."
    )
