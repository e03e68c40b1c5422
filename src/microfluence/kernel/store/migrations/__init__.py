"""Alembic migrations, run programmatically: ``microfluence db upgrade`` and on first use.

Each capability that adds tables adds a revision under ``versions/``.  Revisions may branch from
the same parent (capabilities are built side by side); the store is always upgraded to *all*
heads, so branches are harmless, and a merge revision joins them when convenient.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine

HERE = Path(__file__).parent


def alembic_config(engine: Engine | None = None) -> Config:
    config = Config()
    config.set_main_option("script_location", str(HERE))
    config.attributes["engine"] = engine
    return config


@cache
def script_heads() -> frozenset[str]:
    """The newest revisions the scripts define. Read once per process: alembic compiles every
    script from source to find them (about 45 ms), and every ``open_store`` asks."""
    return frozenset(ScriptDirectory.from_config(alembic_config()).get_heads())


def current_heads(engine: Engine) -> set[str]:
    with engine.connect() as conn:
        return set(MigrationContext.configure(conn).get_current_heads())


def upgrade(engine: Engine, target: str = "heads") -> None:
    command.upgrade(alembic_config(engine), target)


def downgrade(engine: Engine, target: str) -> None:
    command.downgrade(alembic_config(engine), target)


def upgrade_if_needed(engine: Engine) -> bool:
    """Upgrade to the newest schema unless already there; True when something ran."""
    if current_heads(engine) == script_heads():
        return False
    upgrade(engine)
    return True
