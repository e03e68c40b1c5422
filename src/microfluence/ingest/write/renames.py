"""Accounts that rename themselves, recognised by the platform's stable user id.

A handle changes; the platform's user id (Instagram's owner id, YouTube's channel id, TikTok's
user id, a table's ``user_id`` / ``channel_id`` / ``external_id`` column) does not. Before the
writer matches accounts by (workspace, platform, handle), :func:`plan_renames` matches the rows
that carry an id by (workspace, platform, external_id) — in bulk: one indexed ``IN`` query per
500 ids (index ``ix_accounts_workspace_external``, migration 0010) and Polars joins, never a
query per row — and works out:

* **within the import**, the handle an id has *now*: the last one read (a folder of old post
  files and a fresh profile: the profile is read last, or at least the same id's rows agree);
  the id's other handles of the import are its previous ones;
* **against the store**, which stored account each id is: an account with that id under another
  handle has renamed itself — its handle is updated and the old one added to
  ``previous_handles``, so its snapshots, posts, followers and metrics stay its own, and a
  search by the old handle still finds it (:func:`catalog.accounts.find_account_by_handle`);
* the **collisions** a rename can meet, each refused with an error naming both accounts
  (nothing is written, the import is one transaction):

  - the new handle is stored as *another* account without an id: the two may be the same
    person (a table imported after the rename) or not — merging two histories silently would be
    worse than stopping, so the error says which two accounts to reconcile (delete one);
  - the new handle is stored as an account with *another* id that is not renamed in the same
    import: the platform gave the handle to someone else, and the stored owner's new handle is
    unknown — import that account's current profile first;
  - one import gives one handle to two ids.

  A handle passed between two accounts that both appear in the import (a swap) is fine: the
  renames are applied in two steps, through a temporary handle no real one can clash with.

Rows without an id are matched by handle alone, as before; an account found by handle that has
no id yet takes the row's id.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import polars as pl
import sqlalchemy as sa
from sqlalchemy import Connection

from microfluence.kernel.errors import InputError
from microfluence.kernel.store.tables import Account

LOOKUP_CHUNK = 500
KEY = ["platform", "handle"]
ID_KEY = ["platform", "external_id"]
_ALIAS_SCHEMA = {"platform": pl.String, "handle": pl.String, "current": pl.String}
_STORED_SCHEMA = {
    "account_id": pl.Int64,
    "creator_id": pl.Int64,
    "platform": pl.String,
    "external_id": pl.String,
    "stored_handle": pl.String,
    "stored_previous": pl.List(pl.String),
}


@dataclass
class RenamePlan:
    """What one accounts frame means for the stored accounts' handles."""

    frame: pl.DataFrame  # the frame, each id's rows under its current handle (+ previous_handles)
    renames: pl.DataFrame  # account_id, platform, stored_handle, handle (the new one)
    # platform, handle, account_id, creator_id: the accounts found by id, under their handle
    # once the renames are applied (the writer need not look them up again by handle)
    known: pl.DataFrame = field(default_factory=pl.DataFrame)
    aliases: pl.DataFrame = field(default_factory=lambda: pl.DataFrame(schema=_ALIAS_SCHEMA))


def _ids(frame: pl.DataFrame) -> pl.DataFrame:
    """The rows that carry an id: platform, handle, external_id (trimmed), in file order."""
    ext = pl.col("external_id").cast(pl.String).str.strip_chars()
    return (
        frame.select("platform", "handle", ext.alias("external_id"))
        .filter(pl.col("external_id").is_not_null() & (pl.col("external_id") != ""))
        .with_row_index("_order")
    )


def _current_handles(ids: pl.DataFrame) -> tuple[pl.DataFrame, pl.DataFrame]:
    """(platform, external_id, handle) — the last handle read for each id — and the aliases
    (platform, old handle, current handle) of the id's other handles in this frame."""
    current = (
        ids.sort("_order")
        .group_by(ID_KEY, maintain_order=True)
        .agg(pl.col("handle").last())
        .select(*ID_KEY, "handle")
    )
    aliases = (
        ids.join(current.rename({"handle": "current"}), on=ID_KEY, how="inner")
        .filter(pl.col("handle") != pl.col("current"))
        .select("platform", "handle", "current")
        .unique(maintain_order=True)
    )
    shared = (
        current.group_by(KEY)
        .agg(pl.col("external_id").unique().sort())
        .filter(pl.col("external_id").list.len() > 1)
    )
    if shared.height:
        platform, handle, ids_ = shared.row(0)
        raise InputError(
            f"the {platform} handle @{handle} is given to two different accounts in this import "
            f"(ids {' and '.join(ids_[:2])}); import them separately, the older data first",
            field="external_id",
        )
    return current, aliases


def _chunks(keys: pl.DataFrame, column: str):  # type: ignore[no-untyped-def]
    """(platform, values) pairs of at most LOOKUP_CHUNK values."""
    for (platform,), group in keys.group_by(["platform"], maintain_order=True):
        values = group[column].unique(maintain_order=True).to_list()
        for start in range(0, len(values), LOOKUP_CHUNK):
            yield platform, values[start : start + LOOKUP_CHUNK]


def stored_by_id(conn: Connection, workspace_id: int, keys: pl.DataFrame) -> pl.DataFrame:
    """The stored accounts of this workspace with these (platform, external_id)."""
    table = Account.__table__
    rows: list[tuple] = []
    for platform, chunk in _chunks(keys, "external_id"):
        rows.extend(
            conn.execute(
                sa.select(
                    table.c.id,
                    table.c.creator_id,
                    table.c.platform,
                    table.c.external_id,
                    table.c.handle,
                    table.c.previous_handles,
                ).where(
                    table.c.workspace_id == workspace_id,
                    table.c.platform == platform,
                    table.c.external_id.in_(chunk),
                )
            )
        )
    rows = [(*r[:5], list(r[5] or [])) for r in rows]
    return pl.DataFrame(rows, schema=_STORED_SCHEMA, orient="row")


def stored_by_handle(conn: Connection, workspace_id: int, keys: pl.DataFrame) -> pl.DataFrame:
    """The stored accounts of this workspace with these (platform, handle): who holds them."""
    table = Account.__table__
    rows: list[tuple] = []
    for platform, chunk in _chunks(keys, "handle"):
        rows.extend(
            conn.execute(
                sa.select(table.c.id, table.c.platform, table.c.handle, table.c.external_id).where(
                    table.c.workspace_id == workspace_id,
                    table.c.platform == platform,
                    table.c.handle.in_(chunk),
                )
            )
        )
    schema = {
        "holder_id": pl.Int64,
        "platform": pl.String,
        "handle": pl.String,
        "holder_external_id": pl.String,
    }
    return pl.DataFrame(rows, schema=schema, orient="row")


def _check_collisions(matched: pl.DataFrame, renamed_ids: pl.Series) -> None:
    """Refuse a new handle held by another stored account that is not renamed away (module
    docstring); ``matched``: platform, external_id, handle, account_id, stored_handle,
    holder_id, holder_external_id."""
    holder, target = pl.col("holder_id"), pl.col("account_id")
    clash = matched.filter(
        holder.is_not_null()
        & (target.is_null() | (holder != target))
        & ~holder.is_in(renamed_ids.implode())
        & ~(target.is_null() & pl.col("holder_external_id").is_null())
    )
    if not clash.height:
        return
    row = clash.row(0, named=True)
    more = f" ({clash.height - 1} more like it)" if clash.height > 1 else ""
    platform, handle, ext = row["platform"], row["handle"], row["external_id"]
    if row["account_id"] is not None:
        where = (
            f"the {platform} account with id {ext} (stored as @{row['stored_handle']}, "
            f"account {row['account_id']}) is now @{handle}, but @{handle} is stored as "
        )
    else:
        where = f"the {platform} account with id {ext} is @{handle}, but @{handle} is stored as "
    if row["holder_external_id"] is None:
        advice = (
            f"another account (account {row['holder_id']}) without a platform id: they may be "
            "one person or two, and their histories are not merged on a guess — delete the one "
            "you do not want, then import again"
        )
    else:
        advice = (
            f"the account with id {row['holder_external_id']} (account {row['holder_id']}): "
            "the platform gave the handle to someone else — import that account's current "
            "profile first, so its new handle is known"
        )
    raise InputError(where + advice + more, field="external_id", value=ext)


def _previous(matched: pl.DataFrame, aliases: pl.DataFrame) -> pl.DataFrame:
    """platform, handle (current), previous_handles: the stored list, the stored handle when it
    changes, then the id's other handles of this import — oldest first, each once, never the
    current handle. ``matched``: the import's ids joined to their stored accounts."""
    stored = matched.filter(pl.col("account_id").is_not_null())
    listed = (
        stored.select(*KEY, pl.col("stored_previous").alias("previous"))
        .explode("previous")
        .with_row_index("rank")
    )
    renamed = stored.select(*KEY, pl.col("stored_handle").alias("previous")).with_row_index(
        "rank", offset=listed.height
    )
    seen = aliases.select(
        "platform", pl.col("current").alias("handle"), pl.col("handle").alias("previous")
    ).with_row_index("rank", offset=listed.height + renamed.height)
    every = pl.concat([listed, renamed, seen]).filter(
        pl.col("previous").is_not_null() & (pl.col("previous") != pl.col("handle"))
    )
    return (
        every.sort("rank")
        .group_by(KEY, maintain_order=True)
        .agg(pl.col("previous").unique(maintain_order=True).alias("previous_handles"))
    )


def plan_renames(conn: Connection, workspace_id: int, frame: pl.DataFrame) -> RenamePlan:
    """Match ``frame``'s rows that carry an ``external_id`` to the stored accounts by id (module
    docstring). ``frame`` has platform and handle normalised."""
    empty = pl.DataFrame(
        schema={
            "account_id": pl.Int64,
            "platform": pl.String,
            "stored_handle": pl.String,
            "handle": pl.String,
        }
    )
    ids = _ids(frame)
    if not ids.height:
        return RenamePlan(frame, empty)
    current, aliases = _current_handles(ids)
    stored = stored_by_id(conn, workspace_id, current.select(ID_KEY))
    matched = current.join(stored, on=ID_KEY, how="left")
    renames = matched.filter(
        pl.col("account_id").is_not_null() & (pl.col("stored_handle") != pl.col("handle"))
    )
    # Only a handle its id's account does not hold already can collide: an import of unchanged
    # accounts looks up no handle here.
    moved = matched.filter(
        pl.col("account_id").is_null() | (pl.col("stored_handle") != pl.col("handle"))
    )
    holders = stored_by_handle(conn, workspace_id, moved.select(KEY))
    _check_collisions(moved.join(holders, on=KEY, how="left"), renames["account_id"])
    stored_aliases = renames.select(
        "platform", pl.col("stored_handle").alias("handle"), pl.col("handle").alias("current")
    )
    every_alias = pl.concat([aliases, stored_aliases]).unique(
        subset=KEY, keep="last", maintain_order=True
    )
    frame = _under_current_handles(frame, current, every_alias)
    previous = _previous(matched, aliases)
    if previous.height:
        frame = frame.drop("previous_handles", strict=False).join(
            previous, on=KEY, how="left", maintain_order="left"
        )
    known = matched.filter(pl.col("account_id").is_not_null()).select(
        *KEY, "account_id", "creator_id"
    )
    renamed = renames.select("account_id", "platform", "stored_handle", "handle")
    return RenamePlan(frame, renamed, known=known, aliases=every_alias)


def _under_current_handles(
    frame: pl.DataFrame, current: pl.DataFrame, aliases: pl.DataFrame
) -> pl.DataFrame:
    """Each row under its account's handle now: a row with an id under the id's current
    handle; a row without one under the new handle of an account renamed from its handle."""
    by_id = current.rename({"handle": "_by_id"})
    by_alias = aliases.rename({"current": "_by_alias"})
    return (
        frame.join(by_id, on=ID_KEY, how="left", maintain_order="left")
        .join(by_alias, on=KEY, how="left", maintain_order="left")
        .with_columns(
            pl.when(pl.col("external_id").is_not_null())
            .then(pl.coalesce("_by_id", "handle"))
            .otherwise(pl.coalesce("_by_alias", "handle"))
            .alias("handle")
        )
        .drop("_by_id", "_by_alias")
    )


def apply_renames(conn: Connection, workspace_id: int, renames: pl.DataFrame) -> None:
    """Give the renamed accounts their new handles: first a temporary handle each (no real
    handle holds a ``~``), then the new one — so handles passed between them never clash with
    the unique (workspace, platform, handle) key."""
    if not renames.height:
        return
    table = Account.__table__
    statement = (
        table.update()
        .where(table.c.id == sa.bindparam("account"), table.c.workspace_id == workspace_id)
        .values(handle=sa.bindparam("new_handle"))
    )
    ids = renames["account_id"].to_list()
    conn.execute(statement, [{"account": i, "new_handle": f"~renaming~{i}"} for i in ids])
    conn.execute(
        statement,
        [{"account": i, "new_handle": h} for i, h in zip(ids, renames["handle"], strict=True)],
    )
