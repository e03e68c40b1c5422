"""`import followers`: a sample of one account's followers, with each follower's own numbers.

The raw material of the fake-follower audit. The file (CSV, TSV, JSON Lines or Parquet — read in
chunks by :mod:`microfluence.ingest.tables.reader`) may have any subset of the columns below, in
any common spelling (:mod:`microfluence.ingest.values.columns`); other columns are ignored. Only the
username is required. Values are parsed column-wise (:mod:`microfluence.ingest.values.numbers`):
counts in spreadsheet styles (``1,234``, ``3.3k``), yes/no in the usual spellings.

Rows go into the ``followers`` table, one per (account, username): re-importing a sample updates
it. ``sampled_at`` is when the sample was taken: given by the caller, else the file's modification
time.
"""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path

import polars as pl

from microfluence.catalog.validation import parse_account_reference
from microfluence.ingest.guard import CancelCheck, ImportGuard
from microfluence.ingest.rejects import refused
from microfluence.ingest.report import ImportReport, Rejection
from microfluence.ingest.tables.reader import Chunk, read_table
from microfluence.ingest.values.columns import ColumnMap, resolve_columns
from microfluence.ingest.values.numbers import Parsed, blank, parse_bool, parse_count
from microfluence.ingest.values.times import file_time, naive_utc
from microfluence.ingest.write.stage import StagedImport
from microfluence.ingest.write.writer import ProgressCallback, StoreWriter
from microfluence.kernel.store import Store

FOLLOWER_FIELDS: dict[str, tuple[str, ...]] = {
    "username": (
        "username",
        "user_name",
        "handle",
        "screen_name",
        "login",
        "follower",
        "follower_username",
        "instagram_username",
        "ig_username",
        "account",
        "user",
    ),
    "full_name": ("full_name", "fullname", "name", "display_name", "real_name"),
    "biography": ("biography", "bio", "description", "about"),
    "posts_count": (
        "posts",
        "posts_count",
        "post_count",
        "media_count",
        "number_of_posts",
        "num_posts",
        "#posts",
        "usermediacount",
        "edge_owner_to_timeline_media.count",
    ),
    "followers": (
        "followers",
        "followers_count",
        "follower_count",
        "num_followers",
        "#followers",
        "userfollowercount",
        "edge_followed_by.count",
    ),
    "following": (
        "following",
        "following_count",
        "followings",
        "follows",
        "followees",
        "follow_count",
        "friends_count",
        "num_following",
        "#follows",
        "userfollowingcount",
        "edge_follow.count",
    ),
    "has_profile_pic": (
        "has_profile_pic",
        "has_profile_picture",
        "profile_pic",
        "profile_picture",
        "has_avatar",
        "userhasprofilpic",
    ),
    "profile_pic_url": ("profile_pic_url", "profile_picture_url", "avatar_url", "avatar"),
    "is_private": ("is_private", "private", "private_account", "userisprivate"),
    "is_verified": ("is_verified", "verified", "blue_check"),
    "external_url": ("external_url", "website", "url", "link", "bio_link", "external_link"),
}
REQUIRED = ("username",)
COUNTS = {"posts_count", "followers", "following"}
FLAGS = {"has_profile_pic", "is_private", "is_verified"}
TEXTS = {"full_name": 300, "biography": None}
# Instagram serves every profile without a picture this one image; its id is in the URL.
DEFAULT_AVATAR_ID = "44884218_345707102882519_2446069589734326272_n"


def import_followers(
    store: Store,
    workspace: str,
    path: str | os.PathLike[str],
    *,
    account: str,
    skip_invalid: bool = False,
    rejects_path: str | os.PathLike[str] | None = None,
    sampled_at: dt.datetime | None = None,
    progress: ProgressCallback | None = None,
    cancel: CancelCheck | None = None,
) -> ImportReport:
    """Import a follower sample of ``account`` (``PLATFORM:HANDLE``, created if unknown).

    Bad rows raise :class:`InputError` naming file, line and field, and nothing is written;
    with ``skip_invalid`` they are left out, counted and — with ``rejects_path`` — streamed
    there with their reasons. The whole file is read and checked before one transaction
    writes it (:mod:`microfluence.ingest.write.stage`); ``cancel`` may stop it between batches.
    """
    platform, handle = parse_account_reference(account, field="--account")
    file = Path(path)
    guard = ImportGuard.from_settings(cancel)
    reader = read_table(file, progress=progress, guard=guard)
    sampled_at = file_time(file) if sampled_at is None else naive_utc(sampled_at)
    source = f"followers:{file}"
    report = ImportReport(kind="followers", source=source[:500], workspace=workspace)
    with StagedImport(
        store, workspace, "followers", source, report, guard=guard, rejects_path=rejects_path
    ) as run:
        for chunk in reader:
            columns = resolve_columns(
                chunk.frame.columns, FOLLOWER_FIELDS, file=str(file), required=REQUIRED
            )
            good = _parse_chunk(chunk, columns, report, file=str(file), skip=skip_invalid)
            report.rows_read += chunk.frame.height
            run.stage("followers", good)
        account_ids: list[int] = []

        def account_id(writer: StoreWriter) -> int:
            if not account_ids:  # the account is made even for a sample without rows
                account_ids.append(_account_id(writer, platform, handle))
            return account_ids[0]

        def write(writer: StoreWriter, _tag: str, frame: pl.DataFrame) -> None:
            writer.followers(
                frame.with_columns(
                    pl.lit(account_id(writer), dtype=pl.Int64).alias("account_id"),
                    pl.lit(sampled_at, dtype=pl.Datetime("us")).alias("sampled_at"),
                )
            )

        run.write(write, finish=account_id)
    return report


def _account_id(writer: StoreWriter, platform: str, handle: str) -> int:
    key = pl.DataFrame({"platform": [platform], "handle": [handle]})
    known = writer.account_ids(key)[0]
    if known is not None:
        return int(known)
    return int(writer.accounts(key)[0])


def _parse_chunk(
    chunk: Chunk, columns: ColumnMap, report: ImportReport, *, file: str, skip: bool
) -> pl.DataFrame:
    """The chunk's valid rows as stored; bad rows raise (or, with ``skip``, are rejected)."""
    frame = chunk.frame
    schema = frame.schema
    values: list[pl.Expr] = []
    errors: list[tuple[str, str, pl.Expr]] = []  # (field, column, error expression)

    user_col = columns.fields["username"]
    username = (
        pl.col(user_col)
        .cast(pl.String)
        .str.strip_chars()
        .str.strip_chars_start("@")
        .str.to_lowercase()
    )
    values.append(username.alias("username"))
    errors.append(
        (
            "username",
            user_col,
            pl.when(blank(pl.col(user_col).cast(pl.String)))
            .then(pl.lit("missing username"))
            .when(username.str.contains(r"\s") | (username.str.len_chars() > 200))
            .then(pl.lit("not a username")),
        )
    )
    for name, limit in TEXTS.items():
        column = columns.get(name)
        if column is None:
            continue
        text = pl.col(column).cast(pl.String)
        text = pl.when(blank(text)).then(None).otherwise(text)
        values.append((text.str.slice(0, limit) if limit else text).alias(name))
    for name in COUNTS | FLAGS:
        column = columns.get(name)
        if column is None:
            continue
        parser = parse_count if name in COUNTS else parse_bool
        parsed: Parsed = parser(pl.col(column), schema[column])
        values.append(parsed.value.alias(name))
        errors.append((name, column, parsed.error))
    if columns.get("profile_pic_url"):
        url = pl.col(columns.fields["profile_pic_url"]).cast(pl.String)
        if "has_profile_pic" not in columns:
            values.append(
                pl.when(blank(url))
                .then(None)
                .otherwise(~url.str.contains(DEFAULT_AVATAR_ID, literal=True))
                .alias("has_profile_pic")
            )
        # Kept for the labelling page when it is a web address (a yes/no column is not).
        address = url.str.strip_chars()
        values.append(
            pl.when(address.str.contains(r"^https?://[^\s]+$") & (address.str.len_chars() <= 1000))
            .then(address)
            .alias("profile_pic_url")
        )
    if columns.get("external_url"):
        column = columns.fields["external_url"]
        url = pl.col(column).cast(pl.String).str.strip_chars()
        # Some data sets (the Kaggle fake-account set) only say *whether* there is a link:
        # "0"/"no" means none (NULL, as a blank cell); "1"/"yes" stays a non-blank value.
        no_link = blank(url) | url.str.to_lowercase().is_in(["0", "false", "no", "n", "f"])
        values.append(
            pl.when(no_link).then(None).otherwise(url.str.slice(0, 1000)).alias("external_url")
        )

    parsed_frame = frame.with_row_index("_row").select(
        pl.col("_row"),
        *values,
        *[e.alias(f"_error_{i}") for i, (_f, _c, e) in enumerate(errors)],
    )
    error_cols = [f"_error_{i}" for i in range(len(errors))]
    bad = parsed_frame.filter(pl.any_horizontal(pl.col(c).is_not_null() for c in error_cols))
    if bad.height:
        _reject(chunk, bad, errors, report, file=file, skip=skip)
    good = parsed_frame.join(bad.select("_row"), on="_row", how="anti")
    return good.drop("_row", *error_cols)


def _reject(
    chunk: Chunk,
    bad: pl.DataFrame,
    errors: list[tuple[str, str, pl.Expr]],
    report: ImportReport,
    *,
    file: str,
    skip: bool,
) -> None:
    """Turn the bad rows into errors (the first one raised unless ``skip``)."""
    # One reason per row: the first failing field, in column order.
    reasons = bad.select(
        "_row",
        pl.coalesce(
            pl.when(pl.col(f"_error_{i}").is_not_null()).then(pl.lit(i)) for i in range(len(errors))
        ).alias("_field"),
        pl.coalesce(pl.col(f"_error_{i}") for i in range(len(errors))).alias("_reason"),
    )
    lines = chunk.lines
    for row, field_index, reason in reasons.iter_rows():
        name, column, _expr = errors[field_index]
        raw_value = chunk.frame[column][row]
        value = None if raw_value is None else str(raw_value)[:200]
        line = int(lines[row]) if lines is not None else None
        if not skip:
            raise refused(
                f"{reason}" + (f" ({value!r})" if value and name != "username" else ""),
                file=file,
                line=line,
                field=column,
                value=value,
                others=reasons.height - 1,
            )
        report.reject(
            Rejection(
                file=file,
                line=line,
                field=column,
                reason=reason,
                value=value,
                row=chunk.raw(row),
            )
        )
