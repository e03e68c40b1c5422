"""What every list shares: pagination, sorting by a named key, text search."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, or_

from microfluence.kernel.errors import InputError

MAX_LIMIT = 500


@dataclass(frozen=True)
class Window:
    """Which slice of a sorted list: ``limit`` records after skipping ``offset``."""

    limit: int = 50
    offset: int = 0

    def __post_init__(self) -> None:
        if not 1 <= self.limit <= MAX_LIMIT:
            raise InputError(f"limit must be between 1 and {MAX_LIMIT}", field="limit")
        if self.offset < 0:
            raise InputError("offset must not be negative", field="offset")


def order_by(sort: str, columns: dict[str, Any], tiebreak: Any) -> list[Any]:
    """ORDER BY for ``sort`` = a key of ``columns``, '-' in front for descending; NULLs last."""
    key = (sort or "").strip()
    descending = key.startswith("-")
    key = key.lstrip("-")
    if key not in columns:
        allowed = ", ".join(sorted(columns))
        raise InputError(f"cannot sort by {key!r}: use one of {allowed}", field="sort")
    column = columns[key]
    ordered = column.desc() if descending else column.asc()
    return [ordered.nulls_last(), tiebreak.desc() if descending else tiebreak.asc()]


def like_pattern(text: str) -> str:
    """A LIKE pattern that finds ``text`` anywhere, with its own % and _ taken literally."""
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def matches_any(text: str, *columns: Any) -> ColumnElement[bool]:
    pattern = like_pattern(text.strip().lower())
    return or_(*(column.ilike(pattern, escape="\\") for column in columns))
