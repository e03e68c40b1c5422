"""`import instagram`: Instagram post and profile JSON (instaloader, web GraphQL) into the store.

Files are read in batches (a folder of 100,000 files never sits in memory at once); each batch
becomes Polars frames — owners, posts, comments — that go through the one write path
(:mod:`microfluence.ingest.write.writer`), all inside one transaction: a failure leaves the store as
it was. Re-importing the same files updates the same rows.

Which time is a follower count from? A post object carries its owner's counts as they were
when the file was fetched, not when the post was published, so ``taken_at`` would backdate
them. The capture time of a snapshot is, in order: ``captured_at`` given by the caller; a scrape
time the file states (``scraped_at``, ``fetched_at`` …); the file's modification time (instaloader
writes each JSON file when it fetches it). Within one import an account gets at most one snapshot
per UTC day: the latest.
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import polars as pl
import sqlalchemy as sa

from microfluence.ingest.instagram.files import discover, is_json_lines, iter_json_lines, read_json
from microfluence.ingest.instagram.records import (
    CommentRecord,
    Document,
    OwnerRecord,
    PostRecord,
    Reader,
)
from microfluence.ingest.report import ImportReport, Rejection, write_rejections
from microfluence.ingest.values import captions
from microfluence.ingest.write.writer import ProgressCallback, StoreWriter, import_run
from microfluence.kernel.errors import InputError
from microfluence.kernel.store import Store
from microfluence.kernel.store.tables import Account

PLATFORM = "instagram"
BATCH_FILES = 500  # files parsed before their rows are written
BATCH_BYTES = 64 * 1024 * 1024  # …or sooner, when this much JSON has been read
COMMENTS_SUFFIX = "_comments.json"  # instaloader's comment files beside each post file

ACCOUNT_SCHEMA = {
    "handle": pl.String,
    "external_id": pl.String,
    "display_name": pl.String,
    "bio": pl.String,
    "is_verified": pl.Boolean,
    "is_private": pl.Boolean,
    "is_business": pl.Boolean,
    "email": pl.String,
}
POST_SCHEMA = {
    "handle": pl.String,
    "platform_post_id": pl.String,
    "shortcode": pl.String,
    "url": pl.String,
    "post_type": pl.String,
    "posted_at": pl.Datetime("us"),
    "caption": pl.String,
    "likes": pl.Int64,
    "comments": pl.Int64,
    "views": pl.Int64,
    "location": pl.String,
    "sponsor_handles": pl.List(pl.String),
    "paid_partnership": pl.Boolean,
    "is_ad": pl.Boolean,
    "sponsor_info": pl.Boolean,
    "tagged_handles": pl.List(pl.String),
}
COMMENT_SCHEMA = {
    "handle": pl.String,
    "platform_post_id": pl.String,
    "comment_key": pl.String,
    "parent_key": pl.String,
    "text": pl.String,
    "author_handle": pl.String,
    "author_is_verified": pl.Boolean,
    "posted_at": pl.Datetime("us"),
    "likes": pl.Int64,
}


def _base_name(path: Path) -> str:
    """A post file's name without its JSON suffixes: the stem its comment file shares."""
    name = str(path)
    for suffix in (".json.xz", ".json.gz", ".json"):
        if name.lower().endswith(suffix):
            return name[: -len(suffix)]
    return name


def _is_comments_file(path: Path) -> bool:
    return path.name.lower().endswith((COMMENTS_SUFFIX, COMMENTS_SUFFIX + ".xz"))


@dataclass
class _Batch:
    owners: list[OwnerRecord] = field(default_factory=list)
    posts: list[PostRecord] = field(default_factory=list)
    # Comments of instaloader's comment files: (handle, post id, comment)
    loose_comments: list[tuple[str, str, CommentRecord]] = field(default_factory=list)
    files: int = 0
    size: int = 0

    def clear(self) -> None:
        self.owners.clear()
        self.posts.clear()
        self.loose_comments.clear()
        self.files = self.size = 0


@dataclass
class _Run:
    writer: StoreWriter
    report: ImportReport
    skip_invalid: bool
    captured_at: dt.datetime | None
    # owner id -> handle, to place posts whose owner is given by id only
    handles_by_id: dict[str, str] = field(default_factory=dict)
    # (handle, UTC day) -> latest (captured_at, followers, following, posts_count)
    snapshots: dict[tuple[str, dt.date], tuple[dt.datetime, int | None, int | None, int | None]] = (
        field(default_factory=dict)
    )
    # post files whose comment file is part of this import: base name -> (handle, post id)
    comment_targets: dict[str, tuple[str, str] | None] = field(default_factory=dict)

    def reject(self, exc: InputError, row: str | None = None) -> None:
        self.report.reject(
            Rejection(
                file=exc.file or "",
                line=exc.line,
                field=exc.field,
                reason=exc.message,
                value=None if exc.value is None else str(exc.value)[:200],
                row=row,
            )
        )

    def note_snapshot(self, owner: OwnerRecord, at: dt.datetime) -> None:
        if owner.handle is None or not owner.has_counts:
            return
        key = (owner.handle, at.date())
        known = self.snapshots.get(key)
        if known is None or at >= known[0]:
            self.snapshots[key] = (at, owner.followers, owner.following, owner.posts_count)


def _file_time(path: Path) -> dt.datetime:
    return dt.datetime.fromtimestamp(path.stat().st_mtime, dt.UTC).replace(
        tzinfo=None, microsecond=0
    )


def import_instagram(
    store: Store,
    workspace: str,
    paths: Sequence[str | os.PathLike[str]],
    *,
    skip_invalid: bool = False,
    rejects_path: str | os.PathLike[str] | None = None,
    captured_at: dt.datetime | None = None,
    progress: ProgressCallback | None = None,
) -> ImportReport:
    """Import Instagram JSON files or folders of them into ``workspace``.

    Bad input raises :class:`InputError` (file and JSON path) and nothing is written; with
    ``skip_invalid`` the bad files and posts are left out, counted, and — with
    ``rejects_path`` — written there as CSV with their reasons.
    """
    if isinstance(paths, str | os.PathLike):
        paths = [paths]  # one path, not a sequence of its characters
    if not paths:
        raise InputError("no files given")
    files = discover(paths)
    comment_files = [p for p in files if _is_comments_file(p)]
    files = [p for p in files if not _is_comments_file(p)] + comment_files
    sizes = [_size(p) for p in files]
    total = sum(sizes)
    source = "instagram-json:" + ", ".join(str(p) for p in paths)
    report = ImportReport(kind="instagram", source=source[:500], workspace=workspace)
    if captured_at is not None and captured_at.tzinfo is not None:
        captured_at = captured_at.astimezone(dt.UTC).replace(tzinfo=None)
    with import_run(store, workspace, "instagram", source, report) as writer:
        run = _Run(writer, report, skip_invalid, captured_at)
        for path in comment_files:
            name = str(path)
            stem = name[: name.lower().rindex(COMMENTS_SUFFIX)]
            run.comment_targets[stem] = None
        batch = _Batch()
        done = 0
        for path, size in zip(files, sizes, strict=True):
            _read_file(run, batch, path)
            batch.files += 1
            batch.size += size
            done += size
            if batch.files >= BATCH_FILES or batch.size >= BATCH_BYTES:
                _write_batch(run, batch)
                batch.clear()
            if progress is not None:
                progress(done, total)
        _write_batch(run, batch)
        _write_snapshots(run)
    if rejects_path is not None:
        write_rejections(report.rejections, Path(rejects_path))
    return report


def _size(path: Path) -> int:
    try:
        return path.stat().st_size
    except OSError as exc:
        raise InputError(f"cannot read: {exc.strerror or exc}", file=str(path)) from exc


def _read_file(run: _Run, batch: _Batch, path: Path) -> None:
    reader = Reader(str(path))
    if is_json_lines(path):
        try:
            _read_lines(run, batch, reader, path)
        except InputError as exc:  # unreadable or broken compression: the rest of the file
            if not run.skip_invalid:
                raise
            run.reject(exc)
        return
    try:
        data = read_json(path)
        if _is_comments_file(path):
            _read_comments_file(run, batch, reader, path, data)
            return
        doc = reader.document(data, keep_going=run.skip_invalid)
    except InputError as exc:
        if not run.skip_invalid:
            raise
        run.reject(exc)
        return
    for error in doc.errors:
        run.reject(error)
    _collect(run, batch, path, doc)


def _read_lines(run: _Run, batch: _Batch, reader: Reader, path: Path) -> None:
    """A JSON Lines file: each line a document; the batch is written as it fills up."""
    file_time = None if run.captured_at else _file_time(path)
    for number, data, failure in iter_json_lines(path):
        if failure is not None:  # this line is not JSON; the next ones may well be
            if not run.skip_invalid:
                raise failure
            run.reject(failure)
            continue
        try:
            doc = reader.document(data, keep_going=run.skip_invalid)
        except InputError as exc:
            if not run.skip_invalid:
                raise _at_line(exc, number) from exc
            run.reject(_at_line(exc, number))
            continue
        for error in doc.errors:
            run.reject(_at_line(error, number))
        _collect(run, batch, path, doc, file_time=file_time)
        if len(batch.posts) >= BATCH_FILES:
            _write_batch(run, batch)
            batch.clear()


def _at_line(exc: InputError, line: int) -> InputError:
    return InputError(exc.message, file=exc.file, line=line, field=exc.field, value=exc.value)


def _collect(
    run: _Run, batch: _Batch, path: Path, doc: Document, *, file_time: dt.datetime | None = None
) -> None:
    at = run.captured_at or doc.scraped_at or file_time or _file_time(path)
    for profile in doc.profiles:
        batch.owners.append(profile.owner)
        run.note_snapshot(profile.owner, at)
        run.report.rows_read += 1
    for post in doc.posts:
        owner = post.owner
        if owner.handle and owner.external_id:
            run.handles_by_id[owner.external_id] = owner.handle
        if owner.handle:
            batch.owners.append(owner)
            run.note_snapshot(owner, at)
        batch.posts.append(post)
        run.report.rows_read += 1
    base = _base_name(path)
    if base in run.comment_targets and len(doc.posts) == 1:
        post = doc.posts[0]
        run.comment_targets[base] = (post.owner.handle or "", post.platform_post_id)


def _read_comments_file(run: _Run, batch: _Batch, reader: Reader, path: Path, data: object) -> None:
    name = str(path)
    stem = name[: name.lower().rindex(COMMENTS_SUFFIX)]
    target = run.comment_targets.get(stem)
    if not target or not target[0]:
        raise InputError(
            "comments without their post: import the post file "
            f"({Path(stem).name}.json or .json.xz) together with it",
            file=name,
        )
    rows = reader.comment_list(data)
    batch.loose_comments.extend((target[0], target[1], row) for row in rows)
    run.report.rows_read += len(rows)


def _resolve_owners(run: _Run, batch: _Batch) -> None:
    """Posts whose owner came as an id only: find the handle in this import, then the store."""
    missing = {
        p.owner.external_id
        for p in batch.posts
        if p.owner.handle is None and p.owner.external_id not in run.handles_by_id
    }
    missing.discard(None)
    if missing:
        table = Account.__table__
        ids = sorted(m for m in missing if m is not None)
        for start in range(0, len(ids), 500):
            rows = run.writer.conn.execute(
                sa.select(table.c.external_id, table.c.handle).where(
                    table.c.workspace_id == run.writer.workspace_id,
                    table.c.platform == PLATFORM,
                    table.c.external_id.in_(ids[start : start + 500]),
                )
            )
            run.handles_by_id.update({ext: handle for ext, handle in rows})
    kept = []
    for post in batch.posts:
        if post.owner.handle is None:
            post.owner.handle = run.handles_by_id.get(post.owner.external_id or "")
        if post.owner.handle is None:
            exc = InputError(
                f"the owner (id {post.owner.external_id}) has no username, and no account "
                "with that id is known: import the owner's profile first",
                file=post.file,
                field=f"{post.where}.owner",
            )
            if not run.skip_invalid:
                raise exc
            run.reject(exc)
            continue
        kept.append(post)
    batch.posts[:] = kept


def _write_batch(run: _Run, batch: _Batch) -> None:
    _resolve_owners(run, batch)
    writer = run.writer
    if batch.owners:
        owners = pl.DataFrame(
            [{k: getattr(o, k) for k in ACCOUNT_SCHEMA} for o in batch.owners if o.handle],
            schema=ACCOUNT_SCHEMA,
            orient="row",
        )
        # One row per account: a profile file knows the bio, a post's owner does not, so each
        # field takes the last value any file of the batch gave, not the last file's NULL.
        merged = owners.group_by("handle", maintain_order=True).agg(pl.all().drop_nulls().last())
        writer.accounts(merged.with_columns(pl.lit(PLATFORM).alias("platform")))
    if batch.posts:
        rows = [
            {
                "handle": p.owner.handle,
                "platform_post_id": p.platform_post_id,
                "shortcode": p.shortcode,
                "url": p.url,
                "post_type": p.post_type,
                "posted_at": p.posted_at,
                "caption": p.caption,
                "likes": p.likes,
                "comments": p.comments,
                "views": p.views,
                "location": p.location,
                "sponsor_handles": p.sponsor_handles,
                "paid_partnership": p.paid_partnership,
                "is_ad": p.is_ad,
                "sponsor_info": p.sponsor_info,
                "tagged_handles": p.tagged_handles,
            }
            for p in batch.posts
        ]
        posts = post_frame(pl.DataFrame(rows, schema=POST_SCHEMA, orient="row"))
        writer.posts(posts.with_columns(pl.lit(PLATFORM).alias("platform")))
        comment_rows = [
            (p.owner.handle, p.platform_post_id, c) for p in batch.posts for c in p.comment_rows
        ]
    else:
        comment_rows = []
    comment_rows.extend(batch.loose_comments)
    if comment_rows:
        _write_comments(writer, comment_rows)


def post_frame(raw: pl.DataFrame) -> pl.DataFrame:
    """Posts as stored: caption hashtags and mentions, and the sponsorship with its evidence.

    A post is sponsored when Instagram marks it a paid partnership (sponsor users or
    ``is_paid_partnership``), when it is an ad (``is_ad``), or when its caption carries a
    disclosure hashtag (:data:`captions.SPONSOR_TAGS`). It is known *not* to be sponsored when
    the object carries the paid-partnership information or a caption and none of these holds;
    otherwise it stays unknown (NULL).
    """
    frame = raw.with_columns(
        captions.hashtags(pl.col("caption")).alias("hashtags"),
        captions.mentions(pl.col("caption")).alias("mentions"),
    ).with_columns(captions.sponsor_tags(pl.col("hashtags")).alias("_tags"))
    partnership = (pl.col("sponsor_handles").list.len() > 0) | pl.col("paid_partnership").fill_null(
        False
    )
    ad = pl.col("is_ad").fill_null(False)
    tags = pl.col("_tags").list.len().fill_null(0) > 0
    evidence = pl.concat_list(
        pl.when(partnership).then(pl.lit("paid_partnership")),
        pl.when(ad).then(pl.lit("ad")),
        pl.when(tags).then(
            pl.lit("caption:") + pl.col("_tags").list.eval("#" + pl.element()).list.join(",")
        ),
    ).list.drop_nulls()
    known = pl.col("sponsor_info") | pl.col("caption").is_not_null() | pl.col("is_ad").is_not_null()
    frame = frame.with_columns(
        pl.when(partnership | ad | tags)
        .then(True)
        .when(known)
        .then(False)
        .otherwise(None)
        .alias("is_sponsored"),
        pl.when(evidence.list.len() > 0)
        .then(evidence.list.join("; ").str.slice(0, 300))
        .alias("sponsor_evidence"),
        pl.when(pl.col("sponsor_handles").list.len() > 0).then(pl.col("sponsor_handles")),
    )
    return frame.drop("_tags", "paid_partnership", "is_ad", "sponsor_info")


def _write_comments(writer: StoreWriter, rows: list[tuple[str | None, str, CommentRecord]]) -> None:
    frame = pl.DataFrame(
        [
            {
                "handle": handle,
                "platform_post_id": post_id,
                "comment_key": c.comment_key,
                "parent_key": c.parent_key,
                "text": c.text,
                "author_handle": c.author_handle,
                "author_is_verified": c.author_is_verified,
                "posted_at": c.posted_at,
                "likes": c.likes,
            }
            for handle, post_id, c in rows
        ],
        schema=COMMENT_SCHEMA,
        orient="row",
    )
    account_ids = writer.account_ids(
        frame.select(pl.lit(PLATFORM).alias("platform"), pl.col("handle"))
    )
    keyed = frame.with_columns(account_ids.alias("account_id"))
    post_ids = writer.post_ids(keyed.select("account_id", "platform_post_id"))
    keyed = keyed.with_columns(post_ids.alias("post_id")).filter(pl.col("post_id").is_not_null())
    writer.comments(keyed.drop("handle", "platform_post_id", "account_id"))


def _write_snapshots(run: _Run) -> None:
    if not run.snapshots:
        return
    frame = pl.DataFrame(
        [
            {
                "handle": handle,
                "captured_at": at,
                "followers": followers,
                "following": following,
                "posts_count": posts_count,
            }
            for (handle, _day), (at, followers, following, posts_count) in run.snapshots.items()
        ],
        schema={
            "handle": pl.String,
            "captured_at": pl.Datetime("us"),
            "followers": pl.Int64,
            "following": pl.Int64,
            "posts_count": pl.Int64,
        },
        orient="row",
    )
    run.writer.snapshots(frame.with_columns(pl.lit(PLATFORM).alias("platform")))
