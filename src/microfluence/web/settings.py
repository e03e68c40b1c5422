"""Settings of the web face, read from the environment (prefix ``MICROFLUENCE_``)."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class WebSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="MICROFLUENCE_", extra="ignore")

    cookie_secure: bool | None = Field(
        default=None,
        description=(
            "Mark cookies Secure. Unset: Secure whenever the request came over HTTPS (behind a "
            "proxy, run uvicorn with --proxy-headers); set true in production behind TLS."
        ),
    )
    max_upload_mb: int = Field(
        default=512, ge=1, description="Largest file the import endpoint accepts, in MiB."
    )
    max_body_kb: int = Field(
        default=1024,
        ge=1,
        le=1 << 20,
        description=(
            "Largest request body other than an upload (JSON to the API, page forms), in KiB."
        ),
    )
    max_hook_kb: int = Field(
        default=512,
        ge=1,
        le=1 << 16,
        description="Largest shop webhook body (public /hooks/… routes), in KiB.",
    )
    upload_dir: Path | None = Field(
        default=None,
        description=(
            "Where uploads wait for their import job. Unset: a folder of this user's in the "
            "system's temporary folder (microfluence-uploads-UID)."
        ),
    )
    import_workers: int = Field(
        default=1, ge=1, le=8, description="Imports that run at the same time in one process."
    )
    search_warm_accounts: int = Field(
        50_000,
        ge=0,
        description=(
            "When the app starts, build the search indexes of every workspace with at least "
            "this many accounts in the background, so that its first search does not wait "
            "(about 1.5 minutes at a million accounts). 0: never; each is built by its first "
            "search."
        ),
    )
    freeze_heap: bool = Field(
        True,
        description=(
            "After start-up, and again once the search indexes are built ahead, move the "
            "objects alive then out of the garbage collector's reach (gc.freeze): its full "
            "collections otherwise pause a request for about 100 ms now and then."
        ),
    )
    follower_picture_hosts: str = Field(
        default="",
        pattern=r"^(https://(\*\.)?[A-Za-z0-9.-]+(:\d+)?( +|$))*$",
        description=(
            "Where the labelling page may load followers' pictures from: space-separated "
            "https origins, a leading *. for subdomains (https://*.cdninstagram.com "
            "https://*.fbcdn.net). Unset: no picture is loaded from another site (the browser "
            "would tell it who is looking); an initial is shown instead."
        ),
    )

    @property
    def picture_sources(self) -> tuple[str, ...]:
        return tuple(self.follower_picture_hosts.split())
