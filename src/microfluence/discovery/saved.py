"""Saved searches: a name and a search's parameters (``SearchQuery.to_dict``), to run again.
Saving validates the parameters, so a saved search always runs."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from microfluence.catalog.schemas import UtcDateTime  # answers say UTC (RFC 3339)
from microfluence.discovery.query import SearchQuery
from microfluence.discovery.search import SearchPage, search
from microfluence.discovery.tables import SavedSearch
from microfluence.kernel.errors import ConflictError, InputError, NotFoundError
from microfluence.kernel.store.tables import utcnow

MAX_NAME = 200


@dataclass
class SavedInfo:
    id: int
    name: str
    query: dict[str, Any]
    created_by: str | None
    created_at: UtcDateTime
    updated_at: UtcDateTime


def _info(s: SavedSearch) -> SavedInfo:
    return SavedInfo(s.id, s.name, dict(s.query or {}), s.created_by, s.created_at, s.updated_at)


def find_saved(session: Session, workspace_id: int, key: int | str) -> SavedSearch:
    """A saved search by id or by name."""
    where = SavedSearch.id == key if isinstance(key, int) else SavedSearch.name == key
    found = session.scalar(
        select(SavedSearch).where(SavedSearch.workspace_id == workspace_id, where)
    )
    if found is None:
        raise NotFoundError(f"no saved search {key!r}")
    return found


def save_search(
    session: Session,
    workspace_id: int,
    name: str,
    query: SearchQuery,
    *,
    actor: str | None = None,
    replace: bool = False,
) -> SavedInfo:
    """Store ``query`` under ``name``; ConflictError when the name is taken, unless ``replace``."""
    name = (name or "").strip()
    if not 1 <= len(name) <= MAX_NAME:
        raise InputError(f"a saved search's name has 1 to {MAX_NAME} characters", field="name")
    params = query.replace(limit=query.limit, offset=0).to_dict()
    existing = session.scalar(
        select(SavedSearch).where(
            SavedSearch.workspace_id == workspace_id, SavedSearch.name == name
        )
    )
    now = utcnow()
    if existing is not None:
        if not replace:
            raise ConflictError(f"a saved search named {name!r} already exists")
        existing.query = params
        existing.updated_at = now
        session.flush()
        return _info(existing)
    saved = SavedSearch(
        workspace_id=workspace_id,
        name=name,
        query=params,
        created_by=actor,
        created_at=now,
        updated_at=now,
    )
    session.add(saved)
    session.flush()
    return _info(saved)


def list_saved(session: Session, workspace_id: int) -> list[SavedInfo]:
    rows = session.scalars(
        select(SavedSearch)
        .where(SavedSearch.workspace_id == workspace_id)
        .order_by(SavedSearch.name)
    )
    return [_info(s) for s in rows]


def get_saved(session: Session, workspace_id: int, key: int | str) -> SavedInfo:
    return _info(find_saved(session, workspace_id, key))


def delete_saved(session: Session, workspace_id: int, key: int | str) -> None:
    saved = find_saved(session, workspace_id, key)
    session.execute(
        delete(SavedSearch).where(
            SavedSearch.id == saved.id, SavedSearch.workspace_id == workspace_id
        )
    )


def run_saved(
    session: Session,
    workspace_id: int,
    key: int | str,
    *,
    limit: int | None = None,
    offset: int = 0,
    now: dt.datetime | None = None,
) -> SearchPage:
    """Run a saved search again (``limit``/``offset``: another page than it was saved with)."""
    query = SearchQuery.from_dict(find_saved(session, workspace_id, key).query)
    query = query.replace(limit=limit or query.limit, offset=offset)
    return search(session, workspace_id, query, now=now)
