"""The store: one relational schema on an embedded SQLite file or a PostgreSQL server."""

from microfluence.kernel.store.engine import Store, open_store

__all__ = ["Store", "open_store"]
