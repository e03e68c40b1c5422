"""Exports of accounts (one row each, with the latest snapshot) and of posts.

Rows stream from the database in batches and are written as they come, so an export's memory
does not grow with the workspace. Times are written in ISO 8601 (UTC).

CSV files are opened in spreadsheets, which run a cell that starts with ``=``, ``+``, ``-`` or
``@`` as a formula (``=HYPERLINK(...)`` in a creator's name would become a live link). Following
OWASP's advice on CSV injection, a text cell starting with one of those, a tab or a carriage
return is written with a ``'`` in front, which spreadsheets show as text; numbers stay numbers.
``raw=True`` writes the cells as stored, for programs rather than spreadsheets.
"""

from __future__ import annotations

import io
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import IO

import polars as pl
import sqlalchemy as sa
from sqlalchemy import Connection, Select

from microfluence.kernel.cells import encode_json, neutralise_formulas
from microfluence.kernel.errors import InputError
from microfluence.kernel.store import Store
from microfluence.kernel.store.tables import Account, Creator, Post
from microfluence.kernel.workspaces import get_workspace
from microfluence.metrics.export_columns import metric_columns, tier_columns

EXPORT_FORMATS = ("csv", "json", "jsonl")
BATCH_ROWS = 20_000
ISO_TIME = "%Y-%m-%dT%H:%M:%S%.6f"

# Computed columns joined to the creators export: name -> function(conn, workspace_id) giving a
# select of (account_id, columns...).
CreatorColumns = Callable[[Connection, int], Select]
CREATOR_EXTENSIONS: dict[str, CreatorColumns] = {
    "tiers": tier_columns,
    "metrics": metric_columns,
}

# The latest numbers are exported under their own names, after the creator's fields.
_ACCOUNT_SKIP = {"workspace_id", "followers", "following", "posts_count", "snapshot_at"}
_POST_SKIP = {"workspace_id"}


def creators_query(conn: Connection, workspace_id: int) -> Select:
    """One row per account: every stored account field, its creator, the latest snapshot, and
    the computed tiers and metrics of the last `microfluence score` (empty before it ran)."""
    account = Account.__table__
    creator = Creator.__table__
    columns = [c.label(c.name) for c in account.columns if c.name not in _ACCOUNT_SKIP]
    columns += [
        creator.c.name.label("creator_name"),
        creator.c.country.label("creator_country"),
        creator.c.language.label("creator_language"),
        creator.c.category.label("creator_category"),
        creator.c.email.label("creator_email"),
        # The newest snapshot's numbers, as kept on the account row (migration 0006).
        account.c.snapshot_at.label("snapshot_captured_at"),
        account.c.followers.label("followers"),
        account.c.following.label("following"),
        account.c.posts_count.label("posts_count"),
    ]
    query = (
        sa.select(*columns)
        .select_from(account)
        .join(creator, creator.c.id == account.c.creator_id)
        .where(account.c.workspace_id == workspace_id)
    )
    for name, extension in CREATOR_EXTENSIONS.items():
        extra = extension(conn, workspace_id).subquery(name)
        query = query.outerjoin(extra, extra.c.account_id == account.c.id).add_columns(
            *[c for c in extra.columns if c.name != "account_id"]
        )
    return query.order_by(account.c.platform, account.c.handle)


def posts_query(conn: Connection, workspace_id: int) -> Select:
    """One row per post, with its account's platform and handle."""
    post = Post.__table__
    account = Account.__table__
    columns = [account.c.platform, account.c.handle]
    columns += [c.label(c.name) for c in post.columns if c.name not in _POST_SKIP]
    return (
        sa.select(*columns)
        .select_from(post)
        .join(account, account.c.id == post.c.account_id)
        .where(post.c.workspace_id == workspace_id)
        .order_by(account.c.platform, account.c.handle, post.c.posted_at, post.c.id)
    )


def _batches(
    store: Store, query_for: Callable[[Connection, int], Select], workspace_id: int
) -> Iterator[pl.DataFrame]:
    """The query's rows in frames of BATCH_ROWS; one empty frame when there are none, so a
    CSV export of an empty workspace still has its header."""
    with store.engine.connect() as conn:
        query = query_for(conn, workspace_id)
        result = conn.execution_options(stream_results=True, yield_per=BATCH_ROWS).execute(query)
        names = list(result.keys())
        empty = True
        for rows in result.partitions(BATCH_ROWS):
            empty = False
            yield pl.DataFrame(rows, schema=names, orient="row", infer_schema_length=None)
        if empty:
            yield pl.DataFrame(schema=names)


def _flat(frame: pl.DataFrame) -> pl.DataFrame:
    """Times as ISO 8601 text (UTC)."""
    return frame.with_columns(
        pl.col(c).dt.strftime(ISO_TIME)
        for c, t in frame.schema.items()
        if isinstance(t, pl.Datetime)
    )


def _write(batches: Iterator[pl.DataFrame], fmt: str, out: IO[bytes], *, raw: bool = False) -> int:
    if fmt not in EXPORT_FORMATS:
        raise InputError(
            f"unknown format {fmt!r}; use one of {', '.join(EXPORT_FORMATS)}", field="format"
        )
    rows = 0
    if fmt == "json":
        out.write(b"[")
    for index, frame in enumerate(batches):
        frame = _flat(frame)
        buffer = io.BytesIO()
        if fmt == "csv":
            nested = [c for c, t in frame.schema.items() if t.is_nested()]
            frame = frame.with_columns(encode_json(frame[c]) for c in nested)
            if not raw:
                frame = neutralise_formulas(frame)
            frame.write_csv(buffer, include_header=index == 0)
        elif frame.height:
            frame.write_ndjson(buffer)
            if fmt == "json":
                # Records of a JSON array: one per line, separated by commas.
                lines = buffer.getvalue().rstrip(b"\n").replace(b"\n", b",\n")
                buffer = io.BytesIO((b",\n" if rows else b"") + lines)
        out.write(buffer.getvalue())
        rows += frame.height
    if fmt == "json":
        out.write(b"]\n")
    return rows


def _export(
    store: Store,
    workspace: str,
    query_for: Callable[[Connection, int], Select],
    fmt: str,
    output: Path | IO[bytes] | None,
    raw: bool,
) -> tuple[int, bytes | None]:
    with store.session() as session:
        workspace_id = get_workspace(session, workspace).id
    batches = _batches(store, query_for, workspace_id)
    if output is None:
        buffer = io.BytesIO()
        rows = _write(batches, fmt, buffer, raw=raw)
        return rows, buffer.getvalue()
    if isinstance(output, Path):
        output.parent.mkdir(parents=True, exist_ok=True)
        with output.open("wb") as handle:
            return _write(batches, fmt, handle, raw=raw), None
    return _write(batches, fmt, output, raw=raw), None


def export_creators(
    store: Store,
    workspace: str,
    fmt: str = "csv",
    output: Path | IO[bytes] | None = None,
    *,
    raw: bool = False,
) -> tuple[int, bytes | None]:
    """Every account with every stored field and its latest snapshot; (rows, bytes if no output).
    CSV cells that a spreadsheet would run as formulas are neutralised unless ``raw``."""
    return _export(store, workspace, creators_query, fmt, output, raw)


def export_posts(
    store: Store,
    workspace: str,
    fmt: str = "csv",
    output: Path | IO[bytes] | None = None,
    *,
    raw: bool = False,
) -> tuple[int, bytes | None]:
    """Every post with its account's platform and handle; (rows, bytes if no output). CSV cells
    that a spreadsheet would run as formulas are neutralised unless ``raw``."""
    return _export(store, workspace, posts_query, fmt, output, raw)
