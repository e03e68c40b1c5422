"""Helpers shared by the store and CLI tests: what the store holds, and CLI output unwrapped."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import sqlalchemy as sa

PROVENANCE = ("imported_at", "import_id")


def table_rows(
    store: Any, tables: Iterable[Any], *, provenance: bool = True
) -> dict[str, list[tuple[str, ...]]]:
    """Every row of each table, as text and sorted, to compare before and after an operation
    (an import that failed must change nothing). ``provenance=False`` leaves out the columns a
    re-import rewrites (``imported_at``, ``import_id``)."""
    out = {}
    with store.connection() as conn:
        for table in tables:
            t = getattr(table, "__table__", table)
            cols = [c for c in t.columns if provenance or c.name not in PROVENANCE]
            rows = conn.execute(sa.select(*cols))
            out[t.name] = sorted(tuple(str(v) for v in row) for row in rows)
    return out


def flat(output: str) -> str:
    """CLI output without the console's line wrapping."""
    return " ".join(output.split())
