"""Reading a workspace's accounts, snapshots and posts out of the store into Arrow.

PostgreSQL streams ``COPY … TO STDOUT`` (CSV) straight into Arrow's C++ CSV reader; SQLite is
read in large ``fetchmany`` batches turned column-wise into Arrow arrays. Both convert times to
integer seconds since the epoch inside the database (naive times are UTC by convention).
"""

from __future__ import annotations

import io

import pyarrow as pa
import pyarrow.csv as pacsv
from sqlalchemy import Connection

from microfluence.kernel.store import Store
from microfluence.metrics.engines import PipelineInputs, conform
from microfluence.metrics.pipeline import INPUT_SCHEMAS

ARROW_TYPES = {"int64": pa.int64(), "string": pa.string(), "boolean": pa.bool_()}
BATCH_ROWS = 200_000


def _epoch(column: str, dialect: str) -> str:
    if dialect == "postgresql":
        return f"CAST(FLOOR(EXTRACT(EPOCH FROM {column})) AS BIGINT)"
    return f"CAST(strftime('%s', {column}) AS INTEGER)"


def _queries(workspace_id: int, dialect: str) -> dict[str, str]:
    ws = int(workspace_id)  # an integer we own: safe to inline (COPY takes no parameters)
    return {
        "accounts": (f"SELECT id AS account_id, platform FROM accounts WHERE workspace_id = {ws}"),
        "snapshots": (
            f"SELECT account_id, {_epoch('captured_at', dialect)} AS t, followers "
            f"FROM account_snapshots WHERE workspace_id = {ws}"
        ),
        "posts": (
            f"SELECT id AS post_id, account_id, {_epoch('posted_at', dialect)} AS t, post_type, "
            "likes, comments, shares, saves, views, reach, is_sponsored "
            f"FROM posts WHERE workspace_id = {ws}"
        ),
    }


def _read_copy(conn: Connection, query: str, name: str) -> pa.Table:
    schema = INPUT_SCHEMAS[name]
    buffer = io.BytesIO()
    raw = conn.connection.driver_connection
    with raw.cursor() as cursor:
        with cursor.copy(f"COPY ({query}) TO STDOUT WITH (FORMAT csv, HEADER true)") as copy:
            for chunk in copy:
                buffer.write(chunk)
    buffer.seek(0)
    return pacsv.read_csv(
        buffer,
        convert_options=pacsv.ConvertOptions(
            column_types={c: ARROW_TYPES[k] for c, k in schema.items()},
            true_values=["t"],
            false_values=["f"],
            strings_can_be_null=True,
        ),
    )


def _column(values: tuple, arrow_type: pa.DataType) -> pa.Array:
    if arrow_type == pa.bool_():  # SQLite keeps booleans as 0/1
        return pa.array(values, pa.int64()).cast(pa.bool_())
    return pa.array(values, arrow_type)


def _read_batches(conn: Connection, query: str, name: str) -> pa.Table:
    schema = INPUT_SCHEMAS[name]
    names = list(schema)
    types = [ARROW_TYPES[k] for k in schema.values()]
    cursor = conn.connection.driver_connection.cursor()
    try:
        cursor.execute(query)
        batches = []
        while rows := cursor.fetchmany(BATCH_ROWS):
            columns = list(zip(*rows, strict=True))
            arrays = [_column(col, typ) for col, typ in zip(columns, types, strict=True)]
            batches.append(pa.record_batch(arrays, names=names))
    finally:
        cursor.close()
    arrow_schema = pa.schema([pa.field(n, t) for n, t in zip(names, types, strict=True)])
    return pa.Table.from_batches(batches, schema=arrow_schema)


def load_inputs(store: Store, workspace_id: int) -> PipelineInputs:
    """The workspace's accounts, snapshots and posts, ready for ``run_pipeline``."""
    tables = {}
    with store.connection() as conn:
        read = _read_copy if store.dialect == "postgresql" else _read_batches
        for name, query in _queries(workspace_id, store.dialect).items():
            tables[name] = conform(read(conn, query, name), name)
    return PipelineInputs(**tables)
