"""What every list shares: pagination, sorting by a named key, text matching in any case, and
one query for a page and its total."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, Select, func, or_, select
from sqlalchemy.orm import Session

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


def order_by(
    sort: str, columns: dict[str, Any], tiebreak: Any, *, allowed: Sequence[str] = ()
) -> list[Any]:
    """ORDER BY for ``sort`` = a key of ``columns``, '-' in front for descending; NULLs last.
    ``allowed`` names every sort key (``columns`` may hold only the one needed)."""
    key = (sort or "").strip()
    descending = key.startswith("-")
    key = key.lstrip("-")
    if key not in columns:
        names = ", ".join(sorted(allowed or columns))
        raise InputError(f"cannot sort by {key!r}: use one of {names}", field="sort")
    column = columns[key]
    ordered = column.desc() if descending else column.asc()
    return [ordered.nulls_last(), tiebreak.desc() if descending else tiebreak.asc()]


def like_pattern(text: str) -> str:
    """A LIKE pattern that finds ``text`` anywhere, with its own % and _ taken literally."""
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


class Text:
    """Comparisons of text in any case, written the way each database does them fast: SQLite's
    LIKE and NOCASE already ignore (ASCII) case, and calling lower() on every row costs it twice
    the time; PostgreSQL has ILIKE and lower()."""

    def __init__(self, session: Session) -> None:
        self.sqlite = session.get_bind().dialect.name == "sqlite"

    def contains(self, text: str, *columns: Any) -> ColumnElement[bool]:
        pattern = like_pattern(text.strip())
        if self.sqlite:
            return or_(*(column.like(pattern, escape="\\") for column in columns))
        return or_(*(column.ilike(pattern, escape="\\") for column in columns))

    def equals(self, column: Any, value: str) -> ColumnElement[bool]:
        value = value.strip()
        if self.sqlite:
            return column.collate("NOCASE") == value
        return func.lower(column) == value.lower()


def page_of(
    session: Session, query: Select[Any], ordering: list[Any], window: Window, *, costly: bool
) -> tuple[list[int], int]:
    """The ids of one page of ``query`` (which selects ids) and how many rows match in all.

    When the filters or the sort are costly, the total comes with the page in the same query
    (``count(*) OVER ()``) so the filters run once; otherwise a separate count is cheaper, since
    the page itself can then stop after ``limit`` rows of an index.
    """
    paged = query.order_by(*ordering).limit(window.limit).offset(window.offset)
    if costly:
        rows = session.execute(paged.add_columns(func.count().over())).all()
        if rows or window.offset == 0:
            return [r[0] for r in rows], (rows[0][1] if rows else 0)
    count = session.scalar(select(func.count()).select_from(query.subquery())) or 0
    return list(session.scalars(paged)), count
