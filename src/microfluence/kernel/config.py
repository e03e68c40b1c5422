"""Settings, declared once, read from the environment (prefix ``MICROFLUENCE_``)."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from platformdirs import user_data_dir
from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

DEFAULT_WORKSPACE = "default"


def data_dir() -> Path:
    """The user's data directory: the default store and the secrets key file live there."""
    return Path(user_data_dir("microfluence", appauthor=False))


def default_database_url() -> str:
    """The embedded default store: a SQLite file in the user's data directory."""
    return f"sqlite:///{data_dir() / 'microfluence.sqlite'}"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="MICROFLUENCE_", extra="ignore")

    database_url: str = Field(
        default_factory=default_database_url,
        description="SQLAlchemy URL of the store; a SQLite file by default, PostgreSQL for teams.",
    )
    public_url: str | None = Field(
        default=None,
        description=(
            "Where people reach the app (https://microfluence.example.com), for the links of "
            "invitations; unset: the address a request came to (the CLI: 127.0.0.1:8000)."
        ),
    )
    import_chunk_rows: int = Field(
        default=20_000,
        ge=100,
        description="Rows parsed, validated and written per batch by the importers.",
    )
    max_import_decompressed_mb: int = Field(
        default=2048,
        ge=1,
        description="Bytes one import may read after decompression, in MiB (stops gzip bombs).",
    )
    secrets_key: str | None = Field(
        default=None,
        description=(
            "Fernet keys that encrypt stored credentials and tokens, comma-separated: the first "
            "encrypts, every one decrypts (rotation). Unset: the key file (secrets_key_file)."
        ),
    )
    secrets_key_file: Path = Field(
        default_factory=lambda: data_dir() / "secrets.key",
        description=(
            "Where the key lives when secrets_key is unset; made (mode 0600) on first use. "
            "Every app process and worker must read the same key: never keep it in the store."
        ),
    )
    max_import_rows: int = Field(
        default=250_000,
        ge=1,
        description="Records (valid or rejected) one import may read; bounds its write time.",
    )


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()
