"""Bookkeeping writes that must never make a request wait: when a key or session was last used.

On SQLite one writer holds the store at a time; while an import writes, such a note is skipped
(after 50 ms) rather than keeping the request waiting — it is written on a later request.
"""

from __future__ import annotations

from sqlalchemy import Executable
from sqlalchemy.exc import OperationalError

from microfluence.kernel.store import Store


def write_if_free(store: Store, statement: Executable) -> bool:
    """Run one small write now if the store is free; False when it was skipped."""
    with store.engine.connect() as conn:
        sqlite = conn.dialect.name == "sqlite"
        try:
            if sqlite:
                conn.exec_driver_sql("PRAGMA busy_timeout=50")
            conn.execute(statement)
            conn.commit()
            return True
        except OperationalError:
            conn.rollback()
            return False
        finally:
            if sqlite:
                conn.exec_driver_sql("PRAGMA busy_timeout=30000")
