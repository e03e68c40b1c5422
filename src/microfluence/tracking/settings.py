"""Settings of the short links and their click log (prefix ``MICROFLUENCE_``; docs/tracking.md)."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Literal

from platformdirs import user_data_dir
from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict
from sqlalchemy.engine import make_url


class TrackingSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="MICROFLUENCE_", extra="ignore")

    click_log_dir: Path | None = Field(
        default=None,
        description=(
            "Folder of the durable click log (each app process appends its clicks there before "
            "answering the redirect). Unset: a folder per store in the user's data directory. "
            "All app processes of one store must share it (one machine)."
        ),
    )
    click_move_seconds: float = Field(
        default=1.0,
        gt=0,
        le=60,
        description="How often each app process moves its logged clicks into link_clicks.",
    )
    click_log_sync: Literal["always", "write"] = Field(
        default="always",
        description=(
            "always: each click is fsynced before its redirect is answered (survives a killed "
            "process and a crashed machine); write: it is handed to the kernel before the "
            "answer and synced every click_move_seconds (survives a killed process; a machine "
            "crash may lose the last second). write is several times faster on a slow disk."
        ),
    )
    link_cache_seconds: float = Field(
        default=2.0,
        ge=0,
        le=60,
        description=(
            "How long each app process remembers where a slug goes: a disabled link stops "
            "redirecting within this many seconds (0: ask the store on every redirect)."
        ),
    )
    country_header: str | None = Field(
        default=None,
        description=(
            "Request header a trusted proxy sets to the visitor's country (ISO 3166 alpha-2), "
            "e.g. CF-IPCountry behind Cloudflare. Unset: no country is recorded (never guessed)."
        ),
    )


def click_log_dir(settings: TrackingSettings, store_url: str) -> Path:
    """The click log folder of the store at ``store_url``: one per store, so that two stores on
    one machine never replay each other's clicks — beside a SQLite file, else in the user's
    data directory."""
    if settings.click_log_dir is not None:
        return settings.click_log_dir
    url = make_url(store_url)
    if url.get_backend_name() == "sqlite" and url.database and url.database != ":memory:":
        database = Path(url.database).expanduser()
        return database.with_name(database.name + "-clicks")
    key = hashlib.sha256(store_url.encode()).hexdigest()[:16]
    return Path(user_data_dir("microfluence", appauthor=False)) / "click-log" / key
