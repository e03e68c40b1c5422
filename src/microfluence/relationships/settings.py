"""Settings of the creator portal (prefix ``MICROFLUENCE_``; docs/relationships.md)."""

from __future__ import annotations

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class PortalSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="MICROFLUENCE_", extra="ignore")

    portal_link_days: int = Field(
        default=30,
        ge=1,
        le=365,
        description="How many days a new creator-portal link works when none is asked for.",
    )
