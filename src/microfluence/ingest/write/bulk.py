"""Bulk upserts of normalised Polars frames: the one write path of every importer.

Each dialect gets its fastest idempotent route:

* SQLite: one ``INSERT … ON CONFLICT DO UPDATE`` prepared once and run with the DBAPI's
  ``executemany`` over the frame's rows (C loops inside ``sqlite3``);
* PostgreSQL: the frame is written as CSV straight into ``COPY`` to a temporary staging table,
  then one ``INSERT … SELECT … ON CONFLICT DO UPDATE`` moves it into place.

On conflict, a column is only overwritten when the new value is known:
``col = COALESCE(excluded.col, stored.col)`` — re-importing a file that lacks a column never
erases what an earlier import stored.
"""

from __future__ import annotations

import io
import zlib
from collections.abc import Sequence

import polars as pl
from sqlalchemy import JSON, Connection, DateTime, Table

from microfluence.kernel.cells import encode_json

SQLITE_DATETIME = "%Y-%m-%d %H:%M:%S%.6f"  # the text form SQLAlchemy stores in SQLite
SQLITE_CACHE_KIB = 64 * 1024


def _json_columns(table: Table) -> set[str]:
    return {c.name for c in table.columns if isinstance(c.type, JSON)}


def _datetime_columns(table: Table) -> set[str]:
    return {c.name for c in table.columns if isinstance(c.type, DateTime)}


def prepare(frame: pl.DataFrame, table: Table, key: Sequence[str]) -> pl.DataFrame:
    """Keep the table's columns, drop rows repeating a key (last one wins), encode JSON."""
    known = {c.name for c in table.columns}
    unknown = [c for c in frame.columns if c not in known]
    if unknown:
        raise ValueError(f"{table.name}: no such columns {unknown}")
    frame = frame.unique(subset=list(key), keep="last", maintain_order=True)
    json_cols = _json_columns(table) & set(frame.columns)
    if json_cols:
        frame = frame.with_columns([encode_json(frame[c]) for c in json_cols])
    return frame


def upsert(
    conn: Connection,
    table: Table,
    frame: pl.DataFrame,
    key: Sequence[str],
    *,
    keep: Sequence[str] = (),
) -> int:
    """Insert or update ``frame``'s rows in ``table`` matched on ``key``; returns rows written.

    Columns in ``keep`` are written on insert but never changed on update (a creator link, say).
    """
    if frame.height == 0:
        return 0
    frame = prepare(frame, table, key)
    columns = frame.columns
    updates = [c for c in columns if c not in key and c not in keep]
    if conn.dialect.name == "postgresql":
        _upsert_postgresql(conn, table, frame, key, updates)
    else:
        _upsert_sqlite(conn, table, frame, key, updates)
    return frame.height


def _update_clause(table: Table, updates: Sequence[str], excluded: str) -> str:
    if not updates:
        return "NOTHING"
    sets = ", ".join(f'"{c}" = COALESCE({excluded}."{c}", "{table.name}"."{c}")' for c in updates)
    return f"UPDATE SET {sets}"


def _upsert_sqlite(
    conn: Connection, table: Table, frame: pl.DataFrame, key: Sequence[str], updates: list[str]
) -> None:
    dt_cols = _datetime_columns(table) & set(frame.columns)
    if dt_cols:
        frame = frame.with_columns(
            [pl.col(c).dt.strftime(SQLITE_DATETIME) for c in dt_cols if frame[c].dtype != pl.String]
        )
    # In key order, the unique index is written page after page instead of at random.
    frame = frame.sort(list(key))
    cols = ", ".join(f'"{c}"' for c in frame.columns)
    marks = ", ".join("?" for _ in frame.columns)
    conflict = ", ".join(f'"{c}"' for c in key)
    sql = (
        f'INSERT INTO "{table.name}" ({cols}) VALUES ({marks}) '
        f"ON CONFLICT ({conflict}) DO {_update_clause(table, updates, 'excluded')}"
    )
    raw = conn.connection.driver_connection
    cursor = raw.cursor()  # type: ignore[union-attr]
    try:
        # A bigger page cache keeps the unique indexes' hot pages in memory during the upsert
        # (the default 2 MiB thrashes once a table has a few hundred thousand rows).
        cursor.execute(f"PRAGMA cache_size=-{SQLITE_CACHE_KIB}")
        cursor.executemany(sql, frame.rows())
    finally:
        cursor.close()


def _upsert_postgresql(
    conn: Connection, table: Table, frame: pl.DataFrame, key: Sequence[str], updates: list[str]
) -> None:
    cols = ", ".join(f'"{c}"' for c in frame.columns)
    # One staging table per column set, dropped with the transaction.
    stage = f"_stage_{table.name}_{zlib.crc32(cols.encode()):08x}"
    conn.exec_driver_sql(
        f'CREATE TEMP TABLE IF NOT EXISTS "{stage}" ON COMMIT DROP AS '
        f'SELECT {cols} FROM "{table.name}" WITH NO DATA'
    )
    conn.exec_driver_sql(f'TRUNCATE "{stage}"')
    buffer = io.BytesIO()
    frame.write_csv(buffer, include_header=False, null_value="\\N", quote_style="non_numeric")
    raw = conn.connection.driver_connection
    with raw.cursor() as cursor:  # type: ignore[union-attr]
        with cursor.copy(f"COPY \"{stage}\" ({cols}) FROM STDIN (FORMAT csv, NULL '\\N')") as copy:
            copy.write(buffer.getbuffer())
    conflict = ", ".join(f'"{c}"' for c in key)
    # In key order, as for SQLite: the unique index is filled page after page.
    conn.exec_driver_sql(
        f'INSERT INTO "{table.name}" ({cols}) SELECT {cols} FROM "{stage}" ORDER BY {conflict} '
        f"ON CONFLICT ({conflict}) DO {_update_clause(table, updates, 'EXCLUDED')}"
    )
