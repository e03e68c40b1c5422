"""`import instagram`: Instagram post and profile JSON (instaloader, web GraphQL) into the store.

Files are read in batches (a folder of 100,000 files never sits in memory at once, and a large
JSON list is read element by element); each batch becomes Polars frames — owners, posts,
comments — staged until every file is read and checked, then written through the one write path
(:mod:`microfluence.ingest.write.writer`) in one transaction
(:mod:`microfluence.ingest.write.stage`): a failure leaves the store as it was. Re-importing the
same files updates the same rows.

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
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import polars as pl
import sqlalchemy as sa

from microfluence.ingest.guard import CancelCheck, ImportGuard, ImportLimitError
from microfluence.ingest.instagram.files import (
    discover,
    is_json_lines,
    iter_json_lines,
    iter_json_values,
)
from microfluence.ingest.instagram.records import (
    CommentRecord,
    OwnerRecord,
    PostRecord,
    ProfileRecord,
    Reader,
)
from microfluence.ingest.rejects import with_hint
from microfluence.ingest.report import ImportReport, Rejection
from microfluence.ingest.values import captions
from microfluence.ingest.values.times import file_time, naive_utc
from microfluence.ingest.write.stage import StagedImport
from microfluence.ingest.write.writer import ProgressCallback, StoreWriter
from microfluence.kernel.errors import InputError
from microfluence.kernel.store import Store
from microfluence.kernel.store.tables import Account

PLATFORM = "instagram"
BATCH_FILES = 500  # files parsed before their rows are written
BATCH_BYTES = 64 * 1024 * 1024  # …or sooner, when this much JSON has been read
BATCH_ROWS = 20_000  # comments of a large comment file staged at a time
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
    "alt_text": pl.String,
}
# Where a post came from, for the error when its owner turns out to be unknown.
_PLACE_SCHEMA = {"owner_id": pl.String, "file": pl.String, "where": pl.String}
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
    staged: StagedImport
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

    @property
    def guard(self) -> ImportGuard:
        return self.staged.guard

    def reject(self, exc: InputError, row: str | None = None) -> None:
        """Set a bad item aside (streamed to the rejects file), or stop without skip_invalid."""
        if not self.skip_invalid:
            raise with_hint(exc)
        self.guard.count_rows(1, exc.file or "")
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


def import_instagram(
    store: Store,
    workspace: str,
    paths: Sequence[str | os.PathLike[str]],
    *,
    skip_invalid: bool = False,
    rejects_path: str | os.PathLike[str] | None = None,
    captured_at: dt.datetime | None = None,
    progress: ProgressCallback | None = None,
    cancel: CancelCheck | None = None,
) -> ImportReport:
    """Import Instagram JSON files or folders of them into ``workspace``.

    Bad input raises :class:`InputError` (file and JSON path) and nothing is written; with
    ``skip_invalid`` the bad files and posts are left out, counted, and — with
    ``rejects_path`` — streamed there as CSV with their reasons. Every file is read and
    checked before one transaction writes them (:mod:`microfluence.ingest.write.stage`);
    ``cancel`` may stop the import between batches.
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
    if captured_at is not None:
        captured_at = naive_utc(captured_at)
    guard = ImportGuard.from_settings(cancel)
    with StagedImport(
        store, workspace, "instagram", source, report, guard=guard, rejects_path=rejects_path
    ) as staged:
        run = _Run(staged, report, skip_invalid, captured_at)
        for path in comment_files:
            name = str(path)
            run.comment_targets[name[: name.lower().rindex(COMMENTS_SUFFIX)]] = None
        batch = _Batch()
        done = 0
        for path, size in zip(files, sizes, strict=True):
            guard.checkpoint()
            _read_file(run, batch, path)
            batch.files += 1
            batch.size += size
            done += size
            if batch.files >= BATCH_FILES or batch.size >= BATCH_BYTES:
                _stage_batch(run, batch)
            if progress is not None:
                progress(done, total)
        _stage_batch(run, batch)
        staged.write(
            lambda writer, tag, frame: _WRITERS[tag](run, writer, frame),
            finish=lambda writer: _write_snapshots(run, writer),
        )
    return report


def _size(path: Path) -> int:
    try:
        return path.stat().st_size
    except OSError as exc:
        raise InputError(f"cannot read: {exc.strerror or exc}", file=str(path)) from exc


def _read_file(run: _Run, batch: _Batch, path: Path) -> None:
    reader = Reader(str(path))
    try:
        if is_json_lines(path):
            _read_lines(run, batch, reader, path)
        elif _is_comments_file(path):
            _read_comments_file(run, batch, reader, path)
        else:
            _read_values(run, batch, reader, path)
    except ImportLimitError:
        raise  # the import's own limits are never skipped
    except InputError as exc:  # unreadable, broken compression: (the rest of) the file
        run.reject(exc)


def _read_values(run: _Run, batch: _Batch, reader: Reader, path: Path) -> None:
    """A JSON file: one document, or a large list read element by element."""
    modified = None if run.captured_at else file_time(path)
    for where, value in iter_json_values(path, run.guard):
        if where == "$":
            scraped = reader.scrape_time(value)
            _collect(
                run, batch, path, reader.records(value), run.captured_at or scraped or modified
            )
        else:  # one element of a list too large to parse at once
            at = run.captured_at or modified
            _collect(run, batch, path, reader.records(value, where, element=True), at)
            _stage_if_full(run, batch)


def _read_lines(run: _Run, batch: _Batch, reader: Reader, path: Path) -> None:
    """A JSON Lines file: each line a document; the batch is staged as it fills up."""
    modified = None if run.captured_at else file_time(path)
    for number, data, failure in iter_json_lines(path, run.guard):
        if failure is not None:  # this line is not JSON; the next ones may well be
            run.reject(failure)
            continue
        try:
            scraped = reader.scrape_time(data)
            records = list(reader.records(data))
        except InputError as exc:
            run.reject(_at_line(exc, number))
            continue
        records = [_at_line(r, number) if isinstance(r, InputError) else r for r in records]
        _collect(run, batch, path, iter(records), run.captured_at or scraped or modified)
        _stage_if_full(run, batch)


def _at_line(exc: InputError, line: int) -> InputError:
    return InputError(exc.message, file=exc.file, line=line, field=exc.field, value=exc.value)


def _collect(
    run: _Run,
    batch: _Batch,
    path: Path,
    records: Iterator[PostRecord | ProfileRecord | InputError],
    at: dt.datetime | None,
) -> None:
    """Posts and profiles into the batch as they are read; bad ones set aside."""
    at = at or file_time(path)
    file = str(path)
    posts = []
    for record in records:
        if isinstance(record, InputError):
            run.reject(record)
            continue
        run.guard.count_rows(1, file)
        run.report.rows_read += 1
        owner = record.owner
        if isinstance(record, ProfileRecord):
            batch.owners.append(owner)
            run.note_snapshot(owner, at)
            continue
        if owner.handle and owner.external_id:
            run.handles_by_id[owner.external_id] = owner.handle
        if owner.handle:
            batch.owners.append(owner)
            run.note_snapshot(owner, at)
        batch.posts.append(record)
        posts.append(record)
    base = _base_name(path)
    if base in run.comment_targets and len(posts) == 1:
        post = posts[0]
        run.comment_targets[base] = (post.owner.handle or "", post.platform_post_id)


def _read_comments_file(run: _Run, batch: _Batch, reader: Reader, path: Path) -> None:
    """instaloader's ``<post>_comments.json``: attached to its post file, read before it."""
    name = str(path)
    stem = name[: name.lower().rindex(COMMENTS_SUFFIX)]
    target = run.comment_targets.get(stem)
    if not target or not target[0]:
        raise InputError(
            "comments without their post: import the post file "
            f"({Path(stem).name}.json or .json.xz) together with it",
            file=name,
        )
    for index, (where, value) in enumerate(iter_json_values(path, run.guard)):
        # A whole list, or (a large file) one comment of it at a time.
        rows = reader.comment_list(value) if where == "$" else reader.comment_list([value], index)
        run.guard.count_rows(len(rows), name)
        batch.loose_comments.extend((target[0], target[1], row) for row in rows)
        run.report.rows_read += len(rows)
        _stage_if_full(run, batch, comments=True)


# -- phase 1: batches of records to staged frames -------------------------------------------------


def _stage_if_full(run: _Run, batch: _Batch, *, comments: bool = False) -> None:
    if len(batch.posts) >= BATCH_FILES or (comments and len(batch.loose_comments) >= BATCH_ROWS):
        _stage_batch(run, batch)


def _stage_batch(run: _Run, batch: _Batch) -> None:
    """The batch as frames — owners, posts, comments — kept for the write phase; then emptied."""
    if batch.owners:
        owners = pl.DataFrame(
            [{k: getattr(o, k) for k in ACCOUNT_SCHEMA} for o in batch.owners if o.handle],
            schema=ACCOUNT_SCHEMA,
            orient="row",
        )
        # One row per account: a profile file knows the bio, a post's owner does not, so each
        # field takes the last value any file of the batch gave, not the last file's NULL.
        run.staged.stage(
            "owners",
            owners.group_by("handle", maintain_order=True).agg(pl.all().drop_nulls().last()),
        )
    comments = []
    if batch.posts:
        run.staged.stage("posts", _posts_frame(batch.posts))
        comments = [(p.owner, p.platform_post_id, c) for p in batch.posts for c in p.comment_rows]
    comments.extend(
        (OwnerRecord(handle=handle), post_id, c) for handle, post_id, c in batch.loose_comments
    )
    if comments:
        run.staged.stage("comments", _comments_frame(comments))
    batch.clear()
    run.guard.checkpoint()


def _posts_frame(posts: list[PostRecord]) -> pl.DataFrame:
    rows = [
        {
            "handle": p.owner.handle,
            "owner_id": p.owner.external_id,
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
            "alt_text": p.alt_text,
            "file": p.file,
            "where": p.where,
        }
        for p in posts
    ]
    return pl.DataFrame(rows, schema=POST_SCHEMA | _PLACE_SCHEMA, orient="row")


def _comments_frame(rows: list[tuple[OwnerRecord, str, CommentRecord]]) -> pl.DataFrame:
    return pl.DataFrame(
        [
            {
                "handle": owner.handle,
                "owner_id": owner.external_id,
                "platform_post_id": post_id,
                "comment_key": c.comment_key,
                "parent_key": c.parent_key,
                "text": c.text,
                "author_handle": c.author_handle,
                "author_is_verified": c.author_is_verified,
                "posted_at": c.posted_at,
                "likes": c.likes,
            }
            for owner, post_id, c in rows
        ],
        schema=COMMENT_SCHEMA | {"owner_id": pl.String},
        orient="row",
    )


# -- phase 2: the staged frames into the store ----------------------------------------------------


def _write_owners(run: _Run, writer: StoreWriter, owners: pl.DataFrame) -> None:
    writer.accounts(owners.with_columns(pl.lit(PLATFORM).alias("platform")))


def _write_posts(run: _Run, writer: StoreWriter, posts: pl.DataFrame) -> None:
    posts = _resolve_owners(run, writer, posts)
    if posts.height:
        frame = post_frame(posts.drop(*_PLACE_SCHEMA))
        writer.posts(frame.with_columns(pl.lit(PLATFORM).alias("platform")))


def _write_comments(run: _Run, writer: StoreWriter, frame: pl.DataFrame) -> None:
    frame = _with_known_handles(run, frame).drop("owner_id")
    account_ids = writer.account_ids(
        frame.select(pl.lit(PLATFORM).alias("platform"), pl.col("handle"))
    )
    keyed = frame.with_columns(account_ids.alias("account_id"))
    post_ids = writer.post_ids(keyed.select("account_id", "platform_post_id"))
    # Comments of posts that were not written (their owner unknown) have no post id: left out.
    keyed = keyed.with_columns(post_ids.alias("post_id")).filter(pl.col("post_id").is_not_null())
    if keyed.height:
        writer.comments(keyed.drop("handle", "platform_post_id", "account_id"))


_WRITERS = {"owners": _write_owners, "posts": _write_posts, "comments": _write_comments}


def _with_known_handles(run: _Run, frame: pl.DataFrame) -> pl.DataFrame:
    """Rows whose owner came as an id only get the handle of that id, when known."""
    missing = frame.filter(pl.col("handle").is_null() & pl.col("owner_id").is_not_null())
    if not missing.height:
        return frame
    ids = missing["owner_id"].unique().to_list()
    known = {i: run.handles_by_id[i] for i in ids if i in run.handles_by_id}
    return frame.with_columns(
        pl.coalesce(
            pl.col("handle"),
            pl.col("owner_id").replace_strict(known, default=None, return_dtype=pl.String),
        ).alias("handle")
    )


def _resolve_owners(run: _Run, writer: StoreWriter, posts: pl.DataFrame) -> pl.DataFrame:
    """Posts whose owner came as an id only: find the handle in this import, then the store;
    a post whose owner is found nowhere is refused."""
    wanted = set(
        posts.filter(pl.col("handle").is_null())["owner_id"].drop_nulls().unique().to_list()
    )
    missing = sorted(wanted - run.handles_by_id.keys())
    table = Account.__table__
    for start in range(0, len(missing), 500):
        rows = writer.conn.execute(
            sa.select(table.c.external_id, table.c.handle).where(
                table.c.workspace_id == writer.workspace_id,
                table.c.platform == PLATFORM,
                table.c.external_id.in_(missing[start : start + 500]),
            )
        )
        run.handles_by_id.update({ext: handle for ext, handle in rows})
    posts = _with_known_handles(run, posts)
    for owner_id, file, where in (
        posts.filter(pl.col("handle").is_null()).select("owner_id", "file", "where").iter_rows()
    ):
        run.reject(
            InputError(
                f"the owner (id {owner_id}) has no username, and no account "
                "with that id is known: import the owner's profile first",
                file=file,
                field=f"{where}.owner",
            )
        )
    return posts.filter(pl.col("handle").is_not_null())


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


def _write_snapshots(run: _Run, writer: StoreWriter) -> None:
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
    writer.snapshots(frame.with_columns(pl.lit(PLATFORM).alias("platform")))
