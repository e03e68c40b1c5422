"""Alembic environment: uses the engine handed over by microfluence, never a config file."""

from __future__ import annotations

from alembic import context

from microfluence.kernel.store.tables import Base

config = context.config
engine = config.attributes.get("engine")
if engine is None:  # pragma: no cover - only when alembic is run by hand
    from microfluence.kernel.config import get_settings
    from microfluence.kernel.store.engine import make_engine

    engine = make_engine(get_settings().database_url)

with engine.begin() as connection:
    context.configure(
        connection=connection,
        target_metadata=Base.metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()
