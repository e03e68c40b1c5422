"""Import creators from a table: one account (and a creator for a new one) and one snapshot a row.

The snapshot's time is ``captured_at`` when given, else the row's ``captured_at`` column, else
the file's modification time (to the second): re-importing an unchanged file therefore updates
the same snapshots instead of adding new ones, while a re-exported file (a new modification
time) adds a new point to each account's history.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from pathlib import Path

import polars as pl

from microfluence.ingest.guard import CancelCheck
from microfluence.ingest.report import ImportReport
from microfluence.ingest.tables.reader import ProgressCallback
from microfluence.ingest.tables.run import (
    FieldSpec,
    TableKind,
    TableOptions,
    run_table_import,
)
from microfluence.ingest.values.columns import CREATOR_FIELDS, parse_mapping
from microfluence.ingest.values.times import file_time, naive_utc
from microfluence.ingest.write.writer import StoreWriter
from microfluence.kernel.errors import InputError
from microfluence.kernel.store import Store

CREATOR_SPECS: dict[str, FieldSpec] = {
    "platform": FieldSpec("platform"),
    "handle": FieldSpec("handle"),
    "display_name": FieldSpec("text", 300),
    "followers": FieldSpec("count"),
    "following": FieldSpec("count"),
    "posts_count": FieldSpec("count"),
    "bio": FieldSpec("text", 20_000, blanks=False),
    "country": FieldSpec("text", 80),
    "language": FieldSpec("text", 40),
    "category": FieldSpec("text", 120),
    "email": FieldSpec("email", 320),
    "url": FieldSpec("url", 1000),
    "avg_likes": FieldSpec("number"),
    "avg_comments": FieldSpec("number"),
    "avg_views": FieldSpec("number"),
    "engagement_rate": FieldSpec("rate"),
    "is_verified": FieldSpec("bool"),
    "is_business": FieldSpec("bool"),
    "is_private": FieldSpec("bool"),
    "external_id": FieldSpec("text", 100),
    "captured_at": FieldSpec("time"),
}
# canonical field → Account column (the averages and rate are kept as the source reported them)
ACCOUNT_COLUMNS = {
    "platform": "platform",
    "handle": "handle",
    "display_name": "display_name",
    "bio": "bio",
    "country": "country",
    "language": "language",
    "category": "category",
    "email": "email",
    "url": "url",
    "avg_likes": "reported_avg_likes",
    "avg_comments": "reported_avg_comments",
    "avg_views": "reported_avg_views",
    "engagement_rate": "reported_engagement_rate",
    "is_verified": "is_verified",
    "is_business": "is_business",
    "is_private": "is_private",
    "external_id": "external_id",
}
SNAPSHOT_COUNTS = ("followers", "following", "posts_count")


def _writer(default_time: dt.datetime):  # type: ignore[no-untyped-def]
    def write(writer: StoreWriter, values: pl.DataFrame, report: ImportReport) -> None:
        accounts = values.select(
            [pl.col(src).alias(dst) for src, dst in ACCOUNT_COLUMNS.items() if src in values]
        )
        writer.accounts(accounts)
        counts = [c for c in SNAPSHOT_COUNTS if c in values.columns]
        if not counts:
            return
        when = pl.lit(default_time, dtype=pl.Datetime("us"))
        if "captured_at" in values.columns:
            when = pl.coalesce(pl.col("captured_at"), when)
        snapshots = values.select("platform", "handle", when.alias("captured_at"), *counts).filter(
            pl.any_horizontal(pl.col(counts).is_not_null())
        )
        writer.snapshots(snapshots)

    return write


def import_creators(
    store: Store,
    workspace: str,
    path: str | Path,
    *,
    platform: str | None,
    mapping: Mapping[str, str] | Sequence[str] | None = None,
    skip_invalid: bool = False,
    rejects_path: str | Path | None = None,
    captured_at: dt.datetime | None = None,
    progress: ProgressCallback | None = None,
    rate_scale: str = "auto",
    chunk_rows: int | None = None,
    cancel: CancelCheck | None = None,
) -> ImportReport:
    """Import a creators table (CSV, TSV, JSON Lines or Parquet) into ``workspace``.

    Every row becomes an account on ``platform`` (or the row's own ``platform`` column) — with
    a new creator when the account is new — and, when it has follower, following or post
    counts, a snapshot at ``captured_at`` (default: the row's ``captured_at`` column, else the
    file's modification time). ``rate_scale`` says how bare engagement rates read: ``auto``
    (above 1 is a percentage), ``percent`` or ``fraction``. Bad rows stop the import with an
    :class:`InputError` naming file, line and field — nothing written — unless
    ``skip_invalid``, which writes them with reasons to ``rejects_path``
    (default ``<name>.rejects.csv`` beside the file). ``cancel`` is asked between batches
    whether to stop (:mod:`microfluence.ingest.guard`).
    """
    path = Path(path)
    if not path.exists():
        raise InputError("no such file", file=str(path))
    default_time = naive_utc(captured_at) if captured_at is not None else file_time(path)
    table = TableKind("creators", CREATOR_FIELDS, CREATOR_SPECS, _writer(default_time))
    options = TableOptions(
        platform=platform,
        mapping=parse_mapping(mapping),
        skip_invalid=skip_invalid,
        rejects_path=rejects_path,
        progress=progress,
        rate_scale=rate_scale,
        chunk_rows=chunk_rows,
        cancel=cancel,
    )
    return run_table_import(store, workspace, path, table, options)
