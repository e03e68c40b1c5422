"""The connectors' settings (``MICROFLUENCE_…`` environment variables, docs/connectors.md).

The base URLs are settings so that a test, or a proxy, can stand in for the platforms; they are
read at each use, never cached."""

from __future__ import annotations

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

# Google's default allocation for a project: 10,000 units a day
# (https://developers.google.com/youtube/v3/getting-started#quota).
DEFAULT_YOUTUBE_BUDGET = 10_000


class ConnectorSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="MICROFLUENCE_", extra="ignore")

    youtube_api_url: str = Field(
        default="https://www.googleapis.com/youtube/v3",
        description="The YouTube Data API v3 base URL.",
    )
    graph_api_url: str = Field(
        default="https://graph.facebook.com/v21.0",
        description="The Instagram Graph API base URL, with its version.",
    )
    connector_timeout: float = Field(
        default=20.0, gt=0, le=300, description="Seconds to wait for one API answer."
    )
    connector_retries: int = Field(
        default=4, ge=0, le=10, description="Retries of a call answered 429 or 5xx."
    )
    connector_backoff: float = Field(
        default=1.0,
        ge=0,
        le=60,
        description="Seconds of the first retry's back-off; doubled each retry, with jitter.",
    )
    connector_max_wait: float = Field(
        default=300.0,
        ge=0,
        le=3600,
        description="The longest wait for a rate limit to lift before a run stops cleanly.",
    )
    youtube_recent_videos: int = Field(
        default=30, ge=1, le=500, description="Recent videos read per channel."
    )
    instagram_recent_media: int = Field(
        default=25, ge=1, le=100, description="Recent media read per Instagram account."
    )


def connector_settings() -> ConnectorSettings:
    return ConnectorSettings()
