"""Import posts from a table (scraper output): one post a row, keyed by account and post id.

A post is identified by its account (platform + handle) and the platform's post id; importing
it again updates its counts. Accounts are created for handles not seen before. Hashtags and
mentions come from their columns when given, else from the caption.
"""

from __future__ import annotations

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
    caption_hashtags,
    caption_mentions,
    run_table_import,
)
from microfluence.ingest.values.columns import POST_FIELDS, parse_mapping
from microfluence.ingest.write.writer import StoreWriter
from microfluence.kernel.store import Store

POST_SPECS: dict[str, FieldSpec] = {
    "platform": FieldSpec("platform"),
    "handle": FieldSpec("handle"),
    "display_name": FieldSpec("text", 300),
    "post_id": FieldSpec("text", 100, required=True),
    "shortcode": FieldSpec("text", 100),
    "url": FieldSpec("url", 1000),
    "post_type": FieldSpec("post_type"),
    "posted_at": FieldSpec("time"),
    "caption": FieldSpec("text", 100_000, blanks=False),
    "likes": FieldSpec("interactions"),
    "comments": FieldSpec("interactions"),
    "shares": FieldSpec("interactions"),
    "saves": FieldSpec("interactions"),
    "views": FieldSpec("interactions"),
    "reach": FieldSpec("interactions"),
    "impressions": FieldSpec("interactions"),
    "is_sponsored": FieldSpec("bool"),
    "sponsor_handles": FieldSpec("handles"),
    "hashtags": FieldSpec("tags"),
    "mentions": FieldSpec("handles"),
    "location": FieldSpec("text", 300),
    "alt_text": FieldSpec("text", 5_000, blanks=False),
    "external_id": FieldSpec("text", 100),
}
POST_COLUMNS = (
    "shortcode",
    "url",
    "post_type",
    "posted_at",
    "caption",
    "likes",
    "comments",
    "shares",
    "saves",
    "views",
    "reach",
    "impressions",
    "is_sponsored",
    "sponsor_handles",
    "location",
    "alt_text",
)


def _write(writer: StoreWriter, values: pl.DataFrame, report: ImportReport) -> None:
    keys = ["platform", "handle"]
    extra = [c for c in ("display_name", "external_id") if c in values.columns]
    people = values.select(*keys, *extra)
    if "external_id" in values.columns:
        # Every author with an id goes through the accounts: a renamed one is recognised by it.
        writer.accounts(people)
    else:
        people = people.unique(subset=keys, keep="last", maintain_order=True)
        known = writer.account_ids(people.select(keys))
        new = people.filter(known.is_null())
        if new.height:
            writer.accounts(new)
    columns = [pl.col(c) for c in POST_COLUMNS if c in values.columns]
    if "caption" in values.columns:
        for name, extract in (("hashtags", caption_hashtags), ("mentions", caption_mentions)):
            found = extract(pl.col("caption"))
            columns.append(
                (pl.coalesce(pl.col(name), found) if name in values.columns else found).alias(name)
            )
    else:
        columns.extend(pl.col(c) for c in ("hashtags", "mentions") if c in values.columns)
    if "is_sponsored" in values.columns:
        columns.append(
            pl.when(pl.col("is_sponsored").is_not_null())
            .then(pl.lit("source"))
            .alias("sponsor_evidence")
        )
    posts = values.select(*keys, pl.col("post_id").alias("platform_post_id"), *columns)
    writer.posts(posts)


def import_posts(
    store: Store,
    workspace: str,
    path: str | Path,
    *,
    platform: str | None = None,
    mapping: Mapping[str, str] | Sequence[str] | None = None,
    skip_invalid: bool = False,
    rejects_path: str | Path | None = None,
    progress: ProgressCallback | None = None,
    chunk_rows: int | None = None,
    cancel: CancelCheck | None = None,
) -> ImportReport:
    """Import a posts table (CSV, TSV, JSON Lines or Parquet) into ``workspace``.

    Each row needs a handle and a post id; its platform is the row's ``platform`` column or
    ``platform``. Errors and ``skip_invalid`` work as in
    :func:`microfluence.ingest.tables.creators.import_creators`.
    """
    table = TableKind("posts", POST_FIELDS, POST_SPECS, _write, required=("handle", "post_id"))
    options = TableOptions(
        platform=platform,
        mapping=parse_mapping(mapping),
        skip_invalid=skip_invalid,
        rejects_path=rejects_path,
        progress=progress,
        chunk_rows=chunk_rows,
        cancel=cancel,
    )
    return run_table_import(store, workspace, path, table, options)
