"""Storing, listing and deleting labels: one per follower per workspace, the latest one kept.

A label is written with an upsert on (workspace, follower), so labelling a follower again
replaces the label, who gave it and when. Labels by username (a CSV file, the API's bulk form)
name every follower of that username in the workspace's samples, or in one account's sample.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import polars as pl
import sqlalchemy as sa
from sqlalchemy import Connection, Select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from microfluence.authenticity.labels.tables import FAKE, REAL, UNSURE, FollowerLabel
from microfluence.catalog.listing import Window
from microfluence.kernel.errors import InputError, NotFoundError
from microfluence.kernel.store.tables import Account, Follower, utcnow

# Spellings a person types: f/r/u as on the page, and the usual words.
SPELLINGS = {
    FAKE: (FAKE, "f", "bot", "spam", "fake account", "1", "yes", "true"),
    REAL: (REAL, "r", "genuine", "authentic", "human", "0", "no", "false"),
    UNSURE: (UNSURE, "u", "?", "unknown", "skip", "not sure", "maybe"),
}
_LABEL_OF = {spelling: label for label, spellings in SPELLINGS.items() for spelling in spellings}
MAX_BY = 320
_CHUNK = 500


@dataclass(frozen=True)
class LabelRecord:
    """One stored label, with the follower it is about."""

    follower_id: int
    account_id: int
    account: str  # PLATFORM:HANDLE of the account whose sample holds the follower
    username: str
    label: str
    labelled_by: str
    labelled_at: dt.datetime


def normal_label(value: object, **where: Any) -> str:
    """``fake``, ``real`` or ``unsure`` from any usual spelling; InputError (naming ``where``:
    file, line, field) otherwise."""
    text = str(value).strip().lower() if value is not None else ""
    if text not in _LABEL_OF:
        raise InputError(
            f"not a label: {str(value)[:40]!r}; use fake, real or unsure (f, r, u)",
            value=value,
            **({"field": "label"} | where),
        )
    return _LABEL_OF[text]


def normal_labels(series: pl.Series) -> pl.Series:
    """The same, column-wise: NULL where a value is not a label."""
    mapping = pl.DataFrame({"_key": list(_LABEL_OF), "label": list(_LABEL_OF.values())})
    keys = series.cast(pl.String).str.strip_chars().str.to_lowercase().alias("_key")
    return keys.to_frame().join(mapping, on="_key", how="left", maintain_order="left")["label"]


def _who(by: str) -> str:
    by = by.strip()
    if not by:
        raise InputError("who gave the label must be named", field="labelled_by")
    return by[:MAX_BY]


def _insert(conn: Connection) -> Any:
    dialect = postgresql if conn.dialect.name == "postgresql" else sqlite
    return dialect.insert(FollowerLabel.__table__)


def upsert_labels(conn: Connection, workspace_id: int, frame: pl.DataFrame, *, by: str) -> int:
    """Store (follower_id, label) rows of ``workspace_id``'s followers; later labels replace
    earlier ones. The caller has checked that the followers are the workspace's."""
    if frame.height == 0:
        return 0
    now = utcnow()
    who = _who(by)
    rows = frame.select(
        pl.lit(workspace_id, dtype=pl.Int64).alias("workspace_id"),
        pl.col("follower_id").cast(pl.Int64),
        "label",
        pl.lit(who).alias("labelled_by"),
        pl.lit(now, dtype=pl.Datetime("us")).alias("labelled_at"),
    ).to_dicts()
    insert = _insert(conn)
    statement = insert.on_conflict_do_update(
        index_elements=["workspace_id", "follower_id"],
        set_={
            "label": insert.excluded.label,
            "labelled_by": insert.excluded.labelled_by,
            "labelled_at": insert.excluded.labelled_at,
        },
    )
    conn.execute(statement, rows)
    return len(rows)


def _follower_of(session: Session, workspace_id: int, follower_id: int) -> Follower:
    follower = session.scalar(
        sa.select(Follower).where(Follower.id == follower_id, Follower.workspace_id == workspace_id)
    )
    if follower is None:
        raise NotFoundError(f"no follower {follower_id} in this workspace's samples")
    return follower


def label_follower(
    session: Session, workspace_id: int, follower_id: int, label: str, *, by: str
) -> LabelRecord:
    """Label one follower of the workspace (NotFoundError for any other id)."""
    _follower_of(session, workspace_id, follower_id)
    value = normal_label(label)
    frame = pl.DataFrame({"follower_id": [follower_id], "label": [value]})
    upsert_labels(session.connection(), workspace_id, frame, by=by)
    return get_label(session, workspace_id, follower_id)


def delete_label(session: Session, workspace_id: int, follower_id: int) -> None:
    """Take a follower's label back (NotFoundError when it has none in this workspace)."""
    table = FollowerLabel.__table__
    result = session.execute(
        sa.delete(table).where(
            table.c.workspace_id == workspace_id, table.c.follower_id == follower_id
        )
    )
    if not result.rowcount:  # type: ignore[attr-defined]
        raise NotFoundError(f"follower {follower_id} has no label in this workspace")


def labels_query(workspace_id: int) -> Select:
    """Every label of the workspace with its follower's username and account, newest first."""
    label = FollowerLabel.__table__
    follower = Follower.__table__
    account = Account.__table__
    return (
        sa.select(
            label.c.follower_id,
            follower.c.account_id,
            (account.c.platform + ":" + account.c.handle).label("account"),
            follower.c.username,
            label.c.label,
            label.c.labelled_by,
            label.c.labelled_at,
        )
        .select_from(label)
        .join(follower, follower.c.id == label.c.follower_id)
        .join(account, account.c.id == follower.c.account_id)
        .where(label.c.workspace_id == workspace_id, follower.c.workspace_id == workspace_id)
        .order_by(label.c.labelled_at.desc(), label.c.id.desc())
    )


def get_label(session: Session, workspace_id: int, follower_id: int) -> LabelRecord:
    row = session.execute(
        labels_query(workspace_id).where(FollowerLabel.__table__.c.follower_id == follower_id)
    ).first()
    if row is None:
        raise NotFoundError(f"follower {follower_id} has no label in this workspace")
    return LabelRecord(*row)


def list_labels(
    session: Session,
    workspace_id: int,
    *,
    label: str | None = None,
    account_id: int | None = None,
    window: Window | None = None,
) -> tuple[list[LabelRecord], int]:
    """A page of the workspace's labels, newest first, and how many there are in all."""
    table = FollowerLabel.__table__
    query = labels_query(workspace_id)
    if label is not None:
        query = query.where(table.c.label == normal_label(label))
    if account_id is not None:
        query = query.where(Follower.__table__.c.account_id == account_id)
    count = session.scalar(sa.select(sa.func.count()).select_from(query.order_by(None).subquery()))
    window = window or Window()
    rows = session.execute(query.limit(window.limit).offset(window.offset))
    return [LabelRecord(*r) for r in rows], int(count or 0)


def followers_named(
    conn: Connection | Session,
    workspace_id: int,
    usernames: Sequence[str],
    account_id: int | None = None,
) -> pl.DataFrame:
    """(follower_id, username) of every stored follower with one of ``usernames``."""
    table = Follower.__table__
    names = sorted(set(usernames))
    rows: list[tuple[int, str]] = []
    for start in range(0, len(names), _CHUNK):
        query = sa.select(table.c.id, table.c.username).where(
            table.c.workspace_id == workspace_id,
            table.c.username.in_(names[start : start + _CHUNK]),
        )
        if account_id is not None:
            query = query.where(table.c.account_id == account_id)
        rows.extend((int(i), str(u)) for i, u in conn.execute(query))
    return pl.DataFrame(rows, schema={"follower_id": pl.Int64, "username": pl.String}, orient="row")
