"""The workspace's labels as a file: CSV (spreadsheet-safe unless ``raw``), JSON or JSON Lines.

One row per label, newest first: follower_id, account_id, account (``PLATFORM:HANDLE``),
username, label, labelled_by, labelled_at (ISO 8601, UTC). A file written here is read back as
it is by ``microfluence labels import`` (its username, label and account columns).
"""

from __future__ import annotations

import io
from typing import IO

import polars as pl
from sqlalchemy.orm import Session

from microfluence.authenticity.labels.records import labels_query
from microfluence.kernel.cells import neutralise_formulas
from microfluence.kernel.errors import InputError

FORMATS = ("csv", "json", "jsonl")
SCHEMA = {
    "follower_id": pl.Int64,
    "account_id": pl.Int64,
    "account": pl.String,
    "username": pl.String,
    "label": pl.String,
    "labelled_by": pl.String,
    "labelled_at": pl.Datetime("us"),
}


def labels_frame(session: Session, workspace_id: int) -> pl.DataFrame:
    rows = [tuple(r) for r in session.execute(labels_query(workspace_id))]
    return pl.DataFrame(rows, schema=SCHEMA, orient="row")


def write_labels(
    session: Session, workspace_id: int, fmt: str, out: IO[bytes], *, raw: bool = False
) -> int:
    """Write the workspace's labels to ``out``; how many were written."""
    if fmt not in FORMATS:
        raise InputError(f"unknown format {fmt!r}; use one of {', '.join(FORMATS)}", field="format")
    frame = labels_frame(session, workspace_id).with_columns(
        pl.col("labelled_at").dt.strftime("%Y-%m-%dT%H:%M:%S%.6f")
    )
    buffer = io.BytesIO()
    if fmt == "csv":
        (frame if raw else neutralise_formulas(frame)).write_csv(buffer)
    elif fmt == "json":
        frame.write_json(buffer)
    else:
        frame.write_ndjson(buffer)
    out.write(buffer.getvalue())
    return frame.height
