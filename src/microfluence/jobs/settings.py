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
            "The durable job queue: sqlite:///PATH (huey's SqliteHuey: a file, no server; "
            "processes of one machine) or postgresql://USER:PASSWORD@HOST:PORT/DATABASE "
            "(huey's SqlHuey, tables in the schema microfluence_queue or ?schema=NAME; workers "
            "on any machine). "
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
    worker_lease_seconds: float = Field(
        default=60.0,
        ge=15.0,
        le=3600.0,
        description=(
            "How long a worker on another machine counts as alive after its last heartbeat "
            "(every 10 s); its running jobs are retried when it runs out. Workers on the same "
            "machine are checked at once by their lock."
        ),
    )
