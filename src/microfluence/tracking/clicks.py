"""Moving logged clicks into ``link_clicks``: idempotent by token, unique clicks recomputed.

A segment of the click log is read with Polars (one JSON line per click), its clicks inserted
with ``ON CONFLICT (token) DO NOTHING`` — so a segment moved twice (a crash between the insert
and the deletion of the file, two processes recovering the same dead journal) stores each click
once — and ``is_unique`` recomputed in SQL for every (link, visitor, hour) the segment touches:

    is_unique = not is_bot and no earlier non-bot click (clicked_at, then token) of the same
                visitor hash on the same link has the same window_start (its UTC clock hour)

so the answer does not depend on the order in which processes move their segments. Moves are
serialised (SQLite's one writer; a transaction-level advisory lock on PostgreSQL), so two
processes never both see their click as the first of a window.
"""

from __future__ import annotations

import io
from collections.abc import Iterable
from pathlib import Path

import polars as pl
from sqlalchemy import Connection, and_, exists, false, select, text, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import aliased

from microfluence.kernel.store import Store
from microfluence.tracking.journal import read_segment
from microfluence.tracking.tables import LinkClick, TrackingLink

CHUNK = 2000
# pg_advisory_xact_lock key of click moves ("mf-click" in ASCII).
MOVE_LOCK = 0x6D662D636C69636B
SCHEMA = {
    "token": pl.String,
    "link_id": pl.Int64,
    "workspace_id": pl.Int64,
    "clicked_at": pl.String,
    "referrer_host": pl.String,
    "referrer": pl.String,
    "agent_class": pl.String,
    "country": pl.String,
    "visitor_hash": pl.String,
    "is_bot": pl.Boolean,
}
COLUMNS = [*SCHEMA, "window_start"]


def read_clicks(data: bytes) -> pl.DataFrame:
    """The clicks of a segment's bytes, one row per token, with their window."""
    if not data.strip():
        return pl.DataFrame(schema={**SCHEMA, "window_start": pl.Datetime("us")})
    frame = pl.read_ndjson(io.BytesIO(data), schema=SCHEMA)
    clicked = pl.col("clicked_at").str.to_datetime("%Y-%m-%dT%H:%M:%S%.f", time_unit="us")
    return (
        frame.with_columns(clicked.alias("clicked_at"))
        .with_columns(pl.col("clicked_at").dt.truncate("1h").alias("window_start"))
        .unique(subset="token", keep="first", maintain_order=True)
        .select(COLUMNS)
    )


def _insert(conn: Connection, rows: list[dict[str, object]]) -> None:
    dialect = postgresql if conn.dialect.name == "postgresql" else sqlite
    statement = dialect.insert(LinkClick).on_conflict_do_nothing(index_elements=["token"])
    conn.execute(statement, [{**row, "is_unique": False} for row in rows])


def _mark_unique(conn: Connection, frame: pl.DataFrame) -> None:
    """Recompute ``is_unique`` of every click in the windows the frame's clicks fall in."""
    earlier = aliased(LinkClick)
    first = ~exists().where(
        earlier.link_id == LinkClick.link_id,
        earlier.visitor_hash == LinkClick.visitor_hash,
        earlier.window_start == LinkClick.window_start,
        earlier.is_bot == false(),
        (earlier.clicked_at < LinkClick.clicked_at)
        | and_(earlier.clicked_at == LinkClick.clicked_at, earlier.token < LinkClick.token),
    )
    statement = (
        update(LinkClick)
        .where(
            LinkClick.link_id.in_(frame["link_id"].unique().to_list()),
            LinkClick.visitor_hash.in_(frame["visitor_hash"].unique().to_list()),
            LinkClick.window_start.in_(frame["window_start"].unique().to_list()),
        )
        .values(is_unique=and_(LinkClick.is_bot == false(), first))
        .execution_options(synchronize_session=False)
    )
    conn.execute(statement)


def _live_links(store: Store, link_ids: list[int]) -> list[int]:
    with store.connection() as conn:
        return list(conn.scalars(select(TrackingLink.id).where(TrackingLink.id.in_(link_ids))))


def store_clicks(store: Store, frame: pl.DataFrame) -> int:
    """Insert ``frame``'s clicks (those whose link still exists); returns how many rows were
    offered. Safe to repeat: a token already stored is skipped."""
    offered = 0
    for start in range(0, frame.height, CHUNK):
        chunk = frame.slice(start, CHUNK)
        live = _live_links(store, chunk["link_id"].unique().to_list())
        chunk = chunk.filter(pl.col("link_id").is_in(live))  # deleted links took their clicks
        if chunk.is_empty():
            continue
        with store.connection() as conn:
            insert_clicks(conn, chunk)
        offered += chunk.height
    return offered


def insert_clicks(conn: Connection, frame: pl.DataFrame) -> None:
    """Insert ``frame``'s clicks (columns :data:`COLUMNS`, links that exist) on ``conn``, in
    its transaction, and recompute ``is_unique`` for the windows they touch — the path every
    stored click takes (also the demo's, which writes its clicks in its own transaction)."""
    if conn.dialect.name == "postgresql":
        conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": MOVE_LOCK})
    for start in range(0, frame.height, CHUNK):
        chunk = frame.slice(start, CHUNK)
        _insert(conn, chunk.to_dicts())
        _mark_unique(conn, chunk)


def move_segments(store: Store, paths: Iterable[Path]) -> int:
    """Move closed segments into the store, deleting each once its clicks are committed."""
    moved = 0
    for path in paths:
        try:
            data = read_segment(path)
        except FileNotFoundError:  # another process moved it meanwhile
            continue
        moved += store_clicks(store, read_clicks(data))
        path.unlink(missing_ok=True)
    return moved
