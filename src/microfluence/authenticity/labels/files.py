"""Labels from a file or a list: ``username,label`` rows (optionally ``account``), checked whole
before anything is stored.

The file is read by the importers' reader (CSV, TSV, JSON Lines or Parquet, any encoding the
importers take, line numbers kept), so a bad row is named by its file, line and field. Every row
must name a follower of the workspace's stored samples; a row naming an account
(``PLATFORM:HANDLE``) labels that account's follower only, otherwise every follower of that
username in the workspace.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

import polars as pl
from sqlalchemy.orm import Session

from microfluence.authenticity.labels.records import followers_named, normal_labels, upsert_labels
from microfluence.catalog.accounts import find_account_by_reference
from microfluence.ingest.tables.reader import read_table
from microfluence.ingest.values.columns import column_key
from microfluence.kernel.errors import InputError, NotFoundError

FIELDS = {
    "username": ("username", "user", "handle", "follower", "screen_name", "login"),
    "label": ("label", "verdict", "class", "is_fake", "fake"),
    "account": ("account", "sample", "of_account", "influencer"),
}
MAX_ROWS = 100_000


@dataclass(frozen=True)
class LabelImport:
    """What a labels file or list did."""

    rows: int  # rows read
    followers: int  # followers labelled (a username may be in several samples)
    by_label: dict[str, int]

    def as_dict(self) -> dict[str, object]:
        return {"rows": self.rows, "followers": self.followers, "by_label": self.by_label}


def _columns(header: Iterable[str], file: str) -> dict[str, str]:
    keys = {column_key(c): c for c in header}
    found = {}
    for name, spellings in FIELDS.items():
        for spelling in spellings:
            if column_key(spelling) in keys:
                found[name] = keys[column_key(spelling)]
                break
    for name in ("username", "label"):
        if name not in found:
            raise InputError(
                f"no {name} column: the file needs username and label columns "
                f"(columns are {', '.join(repr(c) for c in header) or 'none'})",
                file=file,
                field=name,
            )
    return found


def read_labels_file(path: str | os.PathLike[str]) -> pl.DataFrame:
    """(line, username, label, account) of every row; InputError for the first bad one."""
    file = Path(path)
    frames = []
    for chunk in read_table(file):
        columns = _columns(chunk.frame.columns, str(file))
        frames.append(
            chunk.frame.select(
                pl.Series("line", chunk.lines, dtype=pl.Int64),
                *(
                    pl.col(columns[name]).cast(pl.String).alias(name)
                    if name in columns
                    else pl.lit(None, dtype=pl.String).alias(name)
                    for name in FIELDS
                ),
            )
        )
    if not frames:
        raise InputError("the file has no label rows", file=str(file))
    return checked_rows(pl.concat(frames), file=str(file))


def rows_from_records(records: Iterable[Mapping[str, object]], *, source: str) -> pl.DataFrame:
    """The same from a list of {"username", "label", "account"?} (the API's bulk form); a bad
    item is named ``source[INDEX]``."""
    items = list(records)
    frame = pl.DataFrame(
        {
            "line": list(range(len(items))),
            **{name: [_text(item.get(name)) for item in items] for name in FIELDS},
        },
        schema={"line": pl.Int64, **dict.fromkeys(FIELDS, pl.String)},
    )
    return checked_rows(frame, file=source, item_numbers=True)


def _text(value: object) -> str | None:
    return None if value is None else str(value)


def checked_rows(frame: pl.DataFrame, *, file: str, item_numbers: bool = False) -> pl.DataFrame:
    """Usernames normalised as the follower importer stores them, labels as fake/real/unsure;
    InputError naming the first bad row."""
    if frame.height > MAX_ROWS:
        raise InputError(f"at most {MAX_ROWS:,} labels at once", file=file)
    username = pl.col("username").str.strip_chars().str.strip_chars_start("@").str.to_lowercase()
    out = frame.with_columns(
        username.alias("username"),
        normal_labels(frame["label"]).alias("label"),
        pl.col("label").alias("_given"),
        pl.col("account").str.strip_chars(),
    )
    problems = out.select(
        "line",
        pl.when(pl.col("username").is_null() | (pl.col("username") == ""))
        .then(pl.lit("username:missing username"))
        .when(pl.col("username").str.contains(r"\s") | (pl.col("username").str.len_chars() > 200))
        .then(pl.lit("username:not a username"))
        .when(pl.col("label").is_null())
        .then(pl.lit("label:not a label; use fake, real or unsure (f, r, u)"))
        .alias("problem"),
        "_given",
    ).filter(pl.col("problem").is_not_null())
    if problems.height:
        line, problem, given = problems.row(0)
        field, message = problem.split(":", 1)
        if field == "label" and given:
            message = f"{given[:40]!r} is {message}"
        raise InputError(message, **_where(file, line, field, item_numbers))
    return out.drop("_given").with_columns(
        pl.when(pl.col("account") == "").then(None).otherwise(pl.col("account")).alias("account")
    )


def _where(file: str, line: int, field: str, item_numbers: bool) -> dict[str, object]:
    """Where a bad row is: file, line and field; or ``source[INDEX].field`` for a list."""
    if item_numbers:
        return {"field": f"{file}[{line}].{field}"}
    return {"file": file, "line": line, "field": field}


def _resolve(
    session: Session, workspace_id: int, rows: pl.DataFrame, file: str, item_numbers: bool
) -> pl.DataFrame:
    """(line, follower_id, label) of each row; InputError naming a row that names no follower."""
    found = []
    for account, group in rows.group_by("account", maintain_order=True):
        account_ref = account[0]
        account_id = None
        if account_ref is not None:
            try:
                account_id = find_account_by_reference(session, workspace_id, account_ref).id
            except (InputError, NotFoundError) as exc:
                message = exc.message if isinstance(exc, InputError) else str(exc)
                where = _where(file, group["line"][0], "account", item_numbers)
                raise InputError(message, **where) from exc
        named = followers_named(session, workspace_id, group["username"].to_list(), account_id)
        matched = group.join(named, on="username", how="left")
        missing = matched.filter(pl.col("follower_id").is_null())
        if missing.height:
            line, username = missing.select("line", "username").row(0)
            where = f"{account_ref}'s sample" if account_ref else "this workspace's samples"
            raise InputError(
                f"no follower @{username} in {where}",
                **_where(file, line, "username", item_numbers),
            )
        found.append(matched.select("line", "follower_id", "label"))
    return pl.concat(found).sort("line")


def store_label_rows(
    session: Session,
    workspace_id: int,
    rows: pl.DataFrame,
    *,
    by: str,
    file: str,
    item_numbers: bool = False,
) -> LabelImport:
    """Label the followers the checked rows name, all or nothing (one transaction: the
    caller's). A follower named twice keeps the label of the later row. Errors name the file
    and line, or with ``item_numbers`` the list item (``file[INDEX].field``)."""
    resolved = _resolve(session, workspace_id, rows, file, item_numbers)
    latest = resolved.unique("follower_id", keep="last", maintain_order=True)
    upsert_labels(session.connection(), workspace_id, latest, by=by)
    counts = latest.group_by("label").len()
    return LabelImport(
        rows=rows.height,
        followers=latest.height,
        by_label=dict(zip(counts["label"].to_list(), counts["len"].to_list(), strict=True)),
    )


def import_labels_file(
    session: Session, workspace_id: int, path: str | os.PathLike[str], *, by: str
) -> LabelImport:
    """Label followers from a file of ``username,label`` (and optionally ``account``) rows."""
    rows = read_labels_file(path)
    return store_label_rows(session, workspace_id, rows, by=by, file=str(path))
