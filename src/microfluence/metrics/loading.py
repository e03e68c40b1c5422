"""Reading a workspace's accounts, snapshots and posts out of the store into Arrow.

PostgreSQL streams ``COPY … TO STDOUT`` (CSV) straight into Arrow's C++ CSV reader; SQLite is
read in large ``fetchmany`` batches turned column-wise into Arrow arrays. Both convert times to
integer seconds since the epoch inside the database (naive times are UTC by convention).

``load_inputs`` gathers whole tables (the embedded engines need them in memory);
``iter_input_batches`` yields bounded batches instead, for the Parquet snapshot a Spark cluster
reads, so the process never holds a whole table.
"""

from __future__ import annotations

import io
from collections.abc import Iterator

import pyarrow as pa
import pyarrow.csv as pacsv
from sqlalchemy import Connection

from microfluence.kernel.store import Store
from microfluence.metrics.engines import PipelineInputs, conform
from microfluence.metrics.inputs import INPUT_SCHEMAS

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


def _convert_options(name: str) -> pacsv.ConvertOptions:
    schema = INPUT_SCHEMAS[name]
    return pacsv.ConvertOptions(
        column_types={c: ARROW_TYPES[k] for c, k in schema.items()},
        true_values=["t"],
        false_values=["f"],
        strings_can_be_null=True,
    )


def _read_copy(conn: Connection, query: str, name: str) -> pa.Table:
    buffer = io.BytesIO()
    raw = conn.connection.driver_connection
    with raw.cursor() as cursor:
        with cursor.copy(f"COPY ({query}) TO STDOUT WITH (FORMAT csv, HEADER true)") as copy:
            for chunk in copy:
                buffer.write(chunk)
    buffer.seek(0)
    return pacsv.read_csv(buffer, convert_options=_convert_options(name))


def _stream_copy(
    conn: Connection, query: str, name: str, batch_rows: int
) -> Iterator[pa.RecordBatch]:
    """Parse ``COPY … TO STDOUT`` ``batch_rows`` rows at a time (the driver yields exactly one
    row per chunk, so a newline inside a quoted value cannot split a batch wrongly)."""
    names = list(INPUT_SCHEMAS[name])
    read_options = pacsv.ReadOptions(column_names=names, use_threads=False)
    convert = _convert_options(name)
    raw = conn.connection.driver_connection

    def parse(rows: list[bytes]) -> Iterator[pa.RecordBatch]:
        table = pacsv.read_csv(
            io.BytesIO(b"".join(rows)), read_options=read_options, convert_options=convert
        )
        yield from table.to_batches()

    with raw.cursor() as cursor:
        with cursor.copy(f"COPY ({query}) TO STDOUT WITH (FORMAT csv)") as copy:
            rows: list[bytes] = []
            for chunk in copy:
                rows.append(bytes(chunk))
                if len(rows) >= batch_rows:
                    yield from parse(rows)
                    rows = []
            if rows:
                yield from parse(rows)


def _column(values: tuple, arrow_type: pa.DataType) -> pa.Array:
    if arrow_type == pa.bool_():  # SQLite keeps booleans as 0/1
        return pa.array(values, pa.int64()).cast(pa.bool_())
    return pa.array(values, arrow_type)


def input_schema(name: str) -> pa.Schema:
    """The Arrow schema of input table ``name`` (as ``conform`` makes it)."""
    return pa.schema([pa.field(c, ARROW_TYPES[k]) for c, k in INPUT_SCHEMAS[name].items()])


def _stream_fetch(
    conn: Connection, query: str, name: str, batch_rows: int
) -> Iterator[pa.RecordBatch]:
    schema = input_schema(name)
    cursor = conn.connection.driver_connection.cursor()
    try:
        cursor.execute(query)
        while rows := cursor.fetchmany(batch_rows):
            columns = list(zip(*rows, strict=True))
            arrays = [_column(col, f.type) for col, f in zip(columns, schema, strict=True)]
            yield pa.record_batch(arrays, schema=schema)
    finally:
        cursor.close()


def _read_batches(conn: Connection, query: str, name: str) -> pa.Table:
    batches = list(_stream_fetch(conn, query, name, BATCH_ROWS))
    return pa.Table.from_batches(batches, schema=input_schema(name))


def iter_input_batches(
    conn: Connection, workspace_id: int, name: str, *, batch_rows: int = 50_000
) -> Iterator[pa.RecordBatch]:
    """Input table ``name`` of the workspace in batches of about ``batch_rows`` rows, conformed.

    PostgreSQL: ``COPY … TO STDOUT`` parsed by Arrow's CSV reader one batch of rows at a time;
    SQLite: ``fetchmany``. Memory stays bounded by
    the batch whatever the workspace's size.
    """
    dialect = conn.dialect.name
    query = _queries(workspace_id, dialect)[name]
    if dialect == "postgresql":
        batches = _stream_copy(conn, query, name, batch_rows)
    else:
        batches = _stream_fetch(conn, query, name, batch_rows)
    schema = input_schema(name)
    for batch in batches:
        table = conform(pa.Table.from_batches([batch]), name)
        yield from table.cast(schema).to_batches()


def load_inputs(store: Store, workspace_id: int) -> PipelineInputs:
    """The workspace's accounts, snapshots and posts, ready for ``run_pipeline``."""
    tables = {}
    with store.connection() as conn:
        read = _read_copy if store.dialect == "postgresql" else _read_batches
        for name, query in _queries(workspace_id, store.dialect).items():
            tables[name] = conform(read(conn, query, name), name)
    return PipelineInputs(**tables)
