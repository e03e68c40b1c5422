"""Scored accounts handed to the database's ranking query: (``account_id``, a value) rows from
NumPy arrays, as one parameter whatever their number — SQLite's ``json_each`` over a JSON list
of pairs, PostgreSQL's ``unnest`` of two arrays. Semantic search passes similarities, keyword
search its BM25 scores."""

from __future__ import annotations

import json

import numpy as np
import sqlalchemy as sa
from sqlalchemy import Float, Integer, false, literal, select
from sqlalchemy.orm import Session

_SQLITE_ROWS = (
    "SELECT CAST(json_extract(value, '$[0]') AS INTEGER) AS account_id, "
    "json_extract(value, '$[1]') AS {value} FROM json_each(:rows)"
)
_PG_ROWS = (
    "SELECT account_id, {value} FROM unnest(CAST(:ids AS integer[]), "
    "CAST(:values AS double precision[])) AS scored(account_id, {value})"
)


def rows(
    session: Session, ids: np.ndarray, values: np.ndarray, *, value: str, name: str
) -> sa.Subquery:
    """A subquery ``name`` of (``account_id``, ``value``) rows, one per id; empty for none.
    ``value`` is a column name of ours, never user input."""
    if not len(ids):
        empty = select(literal(0).label("account_id"), literal(0.0).label(value))
        return empty.where(false()).subquery(name)
    if session.get_bind().dialect.name == "sqlite":
        # ids as JSON integers (repr of a float costs ~5 times an int's), values as floats
        ints, floats = ids.astype(np.int64).tolist(), values.astype(np.float64).tolist()
        pairs = list(zip(ints, floats, strict=True))
        stmt = sa.text(_SQLITE_ROWS.format(value=value)).bindparams(rows=json.dumps(pairs))
    else:
        stmt = sa.text(_PG_ROWS.format(value=value)).bindparams(
            ids=[int(i) for i in ids.tolist()], values=[float(v) for v in values.tolist()]
        )
    return stmt.columns(account_id=Integer, **{value: Float}).subquery(name)


_SQLITE_IDS = "SELECT value AS account_id FROM json_each(:ids)"
_PG_IDS = "SELECT unnest(CAST(:ids AS integer[])) AS account_id"


def ids_only(session: Session, ids: np.ndarray, *, name: str) -> sa.Subquery:
    """A subquery ``name`` of (``account_id``) rows, one per id (JSON integers on SQLite: no
    values to parse), for asking which of them pass the filters."""
    listed = [int(i) for i in ids.tolist()]
    if not listed:
        return select(literal(0).label("account_id")).where(false()).subquery(name)
    if session.get_bind().dialect.name == "sqlite":
        stmt = sa.text(_SQLITE_IDS).bindparams(ids=json.dumps(listed))
    else:
        stmt = sa.text(_PG_IDS).bindparams(ids=listed)
    return stmt.columns(account_id=Integer).subquery(name)
