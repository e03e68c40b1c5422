"""The store side of every import: one workspace, one transaction, one import run.

Importers parse and validate their input into normalised Polars frames and hand them to a
:class:`StoreWriter`; :func:`run_import` wraps the whole import in one transaction so that a
failure leaves the store exactly as it was, and records the run with its summary.

Frames (columns beyond the required ones are optional; NULL means "unknown"):

* accounts:  platform, handle + any Account column (display_name, bio, url, country, …) and the
  creator fields ``creator_name``, ``creator_country``, ``creator_language``,
  ``creator_category``, ``creator_email`` used when a new creator is made for a new account;
* snapshots: platform, handle *or* account_id; captured_at, followers, following, posts_count;
* posts:     platform, handle *or* account_id; platform_post_id + any Post column;
* comments:  post_id, comment_key + any Comment column;
* followers: account_id, username + any Follower column.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field

import polars as pl
import sqlalchemy as sa
from sqlalchemy import Connection

from microfluence.catalog.latest import LATEST_COLUMNS, refresh_latest
from microfluence.ingest.guard import ImportCancelled
from microfluence.ingest.report import ImportReport
from microfluence.ingest.write import bulk, renames
from microfluence.kernel.errors import InputError
from microfluence.kernel.store import Store
from microfluence.kernel.store.tables import (
    PLATFORMS,
    Account,
    AccountSnapshot,
    Comment,
    Creator,
    EvaluationLabel,
    Follower,
    ImportRun,
    Post,
    Workspace,
    utcnow,
)
from microfluence.kernel.workspaces import ensure_workspace, find_workspace

CREATOR_FIELDS = {
    "creator_name": "name",
    "creator_country": "country",
    "creator_language": "language",
    "creator_category": "category",
    "creator_email": "email",
}
COUNTED_TABLES = {
    "creators": Creator.__table__,
    "accounts": Account.__table__,
    "snapshots": AccountSnapshot.__table__,
    "posts": Post.__table__,
    "comments": Comment.__table__,
    "followers": Follower.__table__,
}
_LOOKUP_CHUNK = 500


def normalise_handle(expr: pl.Expr) -> pl.Expr:
    """Handles match whatever their case, a leading '@' or surrounding spaces."""
    return expr.cast(pl.String).str.strip_chars().str.strip_chars_start("@").str.to_lowercase()


@dataclass
class StoreWriter:
    """Writes normalised frames into one workspace inside the caller's transaction."""

    conn: Connection
    workspace_id: int
    import_id: int | None
    source: str
    imported_at: dt.datetime = field(default_factory=utcnow)
    _account_ids: dict[tuple[str, str], int] = field(default_factory=dict)
    _creator_of: dict[int, int] = field(default_factory=dict)
    _snapshot_accounts: list[pl.Series] = field(default_factory=list)
    # (platform, handle an account had earlier in this import or in the store) → its handle now
    _aliases: pl.DataFrame = field(
        default_factory=lambda: pl.DataFrame(
            schema={"platform": pl.String, "handle": pl.String, "current": pl.String}
        )
    )
    written: dict[str, int] = field(default_factory=dict)
    renamed: list[tuple[str, str, str]] = field(default_factory=list)  # platform, old, new

    # -- helpers -----------------------------------------------------------------------------
    def _provenance(self, frame: pl.DataFrame, *, with_workspace: bool = True) -> pl.DataFrame:
        extra = [
            pl.lit(self.source, dtype=pl.String).alias("source"),
            pl.lit(self.imported_at, dtype=pl.Datetime("us")).alias("imported_at"),
            pl.lit(self.import_id, dtype=pl.Int64).alias("import_id"),
        ]
        if with_workspace:
            extra.append(pl.lit(self.workspace_id, dtype=pl.Int64).alias("workspace_id"))
        return frame.with_columns(extra)

    def _count(self, table: str, n: int) -> None:
        self.written[table] = self.written.get(table, 0) + n

    # -- accounts ------------------------------------------------------------------------------
    def _lookup(self) -> pl.DataFrame:
        # Rebuilt only when accounts were added: imports of many accounts call this per chunk.
        cached = self.__dict__.get("_lookup_frame")
        if cached is not None and cached.height == len(self._account_ids):
            return cached
        frame = pl.DataFrame(
            {
                "platform": [k[0] for k in self._account_ids],
                "handle": [k[1] for k in self._account_ids],
                "account_id": list(self._account_ids.values()),
            },
            schema={"platform": pl.String, "handle": pl.String, "account_id": pl.Int64},
        )
        self.__dict__["_lookup_frame"] = frame
        return frame

    def _current(self, keys: pl.DataFrame) -> pl.DataFrame:
        """Handles an account renamed from in this import read as its handle now."""
        if not self._aliases.height:
            return keys
        return (
            keys.join(self._aliases, on=["platform", "handle"], how="left", maintain_order="left")
            .with_columns(pl.coalesce("current", "handle").alias("handle"))
            .drop("current")
        )

    def account_ids(self, frame: pl.DataFrame) -> pl.Series:
        """The stored account id of each (platform, handle) row (NULL when not stored); a handle
        an account renamed from during this import gives that account."""
        keys = frame.select(pl.col("platform").cast(pl.String), normalise_handle(pl.col("handle")))
        keys = self._current(keys)
        unseen = keys.unique().join(self._lookup(), on=["platform", "handle"], how="anti")
        if unseen.height:
            self._load_account_ids(unseen.rows())
        joined = keys.join(
            self._lookup(), on=["platform", "handle"], how="left", maintain_order="left"
        )
        return joined["account_id"]

    def _load_account_ids(self, keys: list[tuple[str, str]]) -> None:
        table = Account.__table__
        by_platform: dict[str, list[str]] = {}
        for platform, handle in keys:
            by_platform.setdefault(platform, []).append(handle)
        for platform, handles in by_platform.items():
            for start in range(0, len(handles), _LOOKUP_CHUNK):
                chunk = handles[start : start + _LOOKUP_CHUNK]
                rows = self.conn.execute(
                    sa.select(table.c.id, table.c.handle, table.c.creator_id).where(
                        table.c.workspace_id == self.workspace_id,
                        table.c.platform == platform,
                        table.c.handle.in_(chunk),
                    )
                )
                for account_id, handle, creator_id in rows:
                    self._account_ids[(platform, handle)] = account_id
                    self._creator_of[account_id] = creator_id

    def accounts(self, frame: pl.DataFrame) -> pl.Series:
        """Create or update accounts (and a creator for each new one); returns their ids."""
        frame = frame.with_columns(
            pl.col("platform").cast(pl.String).str.to_lowercase(),
            normalise_handle(pl.col("handle")),
        )
        bad = frame.filter(~pl.col("platform").is_in(PLATFORMS))
        if bad.height:
            raise InputError(
                f"unknown platform {bad['platform'][0]!r}; expected one of {', '.join(PLATFORMS)}",
                field="platform",
            )
        if frame.filter(pl.col("handle").is_null() | (pl.col("handle") == "")).height:
            raise InputError("an account needs a handle", field="handle")
        if "external_id" in frame.columns:
            ext = pl.col("external_id").cast(pl.String).str.strip_chars()
            frame = self._follow_renames(
                frame.with_columns(pl.when(ext != "").then(ext).alias("external_id"))
            )
        unique = frame.unique(subset=["platform", "handle"], keep="last", maintain_order=True)
        known = self.account_ids(unique.select("platform", "handle"))
        new = unique.filter(known.is_null())
        creator_ids = self._create_creators(new) if new.height else []
        existing = [self._creator_of.get(i) for i in known.to_list() if i is not None]
        creators = pl.DataFrame(
            {
                "platform": pl.concat(
                    [unique["platform"].filter(known.is_not_null()), new["platform"]]
                ),
                "handle": pl.concat([unique["handle"].filter(known.is_not_null()), new["handle"]]),
                "creator_id": pl.Series(existing + creator_ids, dtype=pl.Int64),
            }
        )
        account_cols = [
            c
            for c in unique.columns
            if c in Account.__table__.columns and c != "creator_id" and c not in LATEST_COLUMNS
        ]
        accounts = unique.select(account_cols).join(
            creators, on=["platform", "handle"], how="left", maintain_order="left"
        )
        accounts = self._provenance(accounts).with_columns(
            pl.lit(self.imported_at, dtype=pl.Datetime("us")).alias("updated_at"),
            pl.lit(self.imported_at, dtype=pl.Datetime("us")).alias("created_at"),
        )
        self._count(
            "accounts",
            bulk.upsert(
                self.conn,
                Account.__table__,
                accounts,
                ["workspace_id", "platform", "handle"],
                keep=["creator_id", "created_at"],
            ),
        )
        if new.height:
            self._load_account_ids(new.select("platform", "handle").rows())
        return self.account_ids(frame.select("platform", "handle"))

    def _follow_renames(self, frame: pl.DataFrame) -> pl.DataFrame:
        """Accounts matched by the platform's id first: renamed ones get their new handle
        (:mod:`microfluence.ingest.write.renames`); returns the frame under current handles."""
        plan = renames.plan_renames(self.conn, self.workspace_id, frame)
        renames.apply_renames(self.conn, self.workspace_id, plan.renames)
        for _account_id, platform, old, _new in plan.renames.iter_rows():
            self._account_ids.pop((platform, old), None)
        # The accounts found by id, under the handles they have now: no second lookup by handle.
        for platform, handle, account_id, creator_id in plan.known.iter_rows():
            self._account_ids[(platform, handle)] = account_id
            self._creator_of[account_id] = creator_id
        self.__dict__.pop("_lookup_frame", None)
        self.renamed.extend(plan.renames.select("platform", "stored_handle", "handle").rows())
        # A handle in use again (by this frame's accounts) no longer stands for another one.
        current = plan.frame.select("platform", "handle").unique()
        self._aliases = (
            pl.concat([self._aliases, plan.aliases])
            .unique(subset=["platform", "handle"], keep="last", maintain_order=True)
            .join(current, on=["platform", "handle"], how="anti")
        )
        return plan.frame

    def _create_creators(self, new: pl.DataFrame) -> list[int]:
        values = {"name": new["display_name"] if "display_name" in new.columns else None}
        for src, dst in CREATOR_FIELDS.items():
            if src in new.columns:
                values[dst] = new[src]
            elif dst in new.columns and dst != "name":
                values[dst] = new[dst]
        present = {k: v for k, v in values.items() if v is not None}
        rows = (
            pl.DataFrame(present)
            if present
            else pl.DataFrame({"name": [None] * new.height}, schema={"name": pl.String})
        )
        rows = self._provenance(rows).with_columns(
            pl.lit(self.imported_at, dtype=pl.Datetime("us")).alias("created_at"),
            pl.lit(self.imported_at, dtype=pl.Datetime("us")).alias("updated_at"),
        )
        table = Creator.__table__
        ids = self._allocate_ids(table, rows.height)
        bulk.upsert(self.conn, table, rows.with_columns(pl.Series("id", ids, pl.Int64)), ["id"])
        self._count("creators", len(ids))
        return ids

    def _allocate_ids(self, table: sa.Table, n: int) -> list[int]:
        """``n`` fresh primary keys of ``table``, taken before its rows are written in bulk (an
        INSERT … RETURNING runs row by row: 100k creators cost seconds of the write lock)."""
        if n == 0:
            return []
        if self.conn.dialect.name == "postgresql":
            rows = self.conn.execute(
                sa.text(
                    "SELECT nextval(pg_get_serial_sequence(:t, 'id')) FROM generate_series(1, :n)"
                ),
                {"t": table.name, "n": n},
            )
            return [row[0] for row in rows]
        # SQLite: the keys after the largest, read under the write lock (a no-op write takes it),
        # so no other writer can take them first.
        self.conn.exec_driver_sql(f'UPDATE "{table.name}" SET id = id WHERE 0')
        top = self.conn.execute(
            sa.select(sa.func.coalesce(sa.func.max(table.c.id), 0))
        ).scalar_one()
        return list(range(top + 1, top + 1 + n))

    # -- dependent rows ------------------------------------------------------------------------
    def _with_account_id(self, frame: pl.DataFrame) -> pl.DataFrame:
        if "account_id" in frame.columns:
            return frame
        ids = self.account_ids(frame.select("platform", "handle"))
        if ids.null_count():
            raise InputError("rows refer to accounts that were not imported", field="handle")
        return frame.with_columns(ids.alias("account_id")).drop("platform", "handle")

    def snapshots(self, frame: pl.DataFrame) -> int:
        frame = self._provenance(self._with_account_id(frame))
        n = bulk.upsert(self.conn, AccountSnapshot.__table__, frame, ["account_id", "captured_at"])
        self._snapshot_accounts.append(frame["account_id"].unique())
        self._count("snapshots", n)
        return n

    def posts(self, frame: pl.DataFrame) -> int:
        frame = self._provenance(self._with_account_id(frame))
        n = bulk.upsert(self.conn, Post.__table__, frame, ["account_id", "platform_post_id"])
        self._count("posts", n)
        return n

    def post_ids(self, frame: pl.DataFrame) -> pl.Series:
        """Stored ids of (account_id, platform_post_id) rows, in order (NULL if not stored)."""
        table = Post.__table__
        wanted = frame.select(
            pl.col("account_id").cast(pl.Int64), pl.col("platform_post_id").cast(pl.String)
        )
        found: list[tuple[int, int, str]] = []
        # Look up only the wanted posts (through the (account_id, platform_post_id) index), not
        # every post of their accounts: batch after batch, that would grow without bound.
        keys = wanted.drop_nulls().unique()
        for start in range(0, keys.height, _LOOKUP_CHUNK):
            chunk = keys.slice(start, _LOOKUP_CHUNK)
            rows = self.conn.execute(
                sa.select(table.c.id, table.c.account_id, table.c.platform_post_id).where(
                    table.c.account_id.in_(chunk["account_id"].unique().to_list()),
                    table.c.platform_post_id.in_(chunk["platform_post_id"].unique().to_list()),
                )
            )
            found.extend(rows)
        lookup = pl.DataFrame(
            found,
            schema={"post_id": pl.Int64, "account_id": pl.Int64, "platform_post_id": pl.String},
            orient="row",
        ).unique()
        return wanted.join(
            lookup, on=["account_id", "platform_post_id"], how="left", maintain_order="left"
        )["post_id"]

    def comments(self, frame: pl.DataFrame) -> int:
        frame = self._provenance(frame)
        n = bulk.upsert(self.conn, Comment.__table__, frame, ["post_id", "comment_key"])
        self._count("comments", n)
        return n

    def followers(self, frame: pl.DataFrame) -> int:
        frame = self._provenance(self._with_account_id(frame))
        n = bulk.upsert(self.conn, Follower.__table__, frame, ["account_id", "username"])
        self._count("followers", n)
        return n

    def labels(self, frame: pl.DataFrame) -> int:
        """Known truth about accounts (account_id, label, detail): the demo's planted ones."""
        frame = frame.with_columns(pl.lit(self.workspace_id, dtype=pl.Int64).alias("workspace_id"))
        n = bulk.upsert(self.conn, EvaluationLabel.__table__, frame, ["account_id", "label"])
        self._count("labels", n)
        return n


def _table_counts(conn: Connection, workspace_id: int) -> dict[str, int]:
    counts = {}
    for name, table in COUNTED_TABLES.items():
        counts[name] = conn.execute(
            sa.select(sa.func.count())
            .select_from(table)
            .where(table.c.workspace_id == workspace_id)
        ).scalar_one()
    return counts


# The background job the imports of this context run for (jobs.imports sets it): recorded in
# the import's run, in the import's own transaction, so a job whose process died after the
# commit is known to have succeeded (jobs.recovery) instead of being imported again.
_IMPORT_JOB: ContextVar[str | None] = ContextVar("microfluence_import_job", default=None)


@contextmanager
def for_job(job_id: str) -> Iterator[None]:
    """Record ``job_id`` in the import runs made inside this block (this thread or task)."""
    token = _IMPORT_JOB.set(job_id)
    try:
        yield
    finally:
        _IMPORT_JOB.reset(token)


@contextmanager
def import_run(
    store: Store, workspace: str, kind: str, source: str, report: ImportReport | None = None
) -> Iterator[StoreWriter]:
    """One import: a transaction, a recorded run and a summary; all or nothing.

    On success the run is stored with status ``succeeded`` and ``report`` is filled in; on any
    error the transaction is rolled back — the store is as it was — and the failure is recorded
    in the import log (``import_runs``) in a transaction of its own.
    """
    report = report or ImportReport(kind=kind, source=source, workspace=workspace)
    started = time.perf_counter()
    workspace_id: int | None = None
    try:
        with store.transaction() as session:
            ws = ensure_workspace(session, workspace)
            workspace_id = ws.id
            run = ImportRun(
                workspace_id=ws.id,
                kind=kind,
                source=source[:500],
                status="running",
                job_id=_IMPORT_JOB.get(),
            )
            session.add(run)
            session.flush()
            conn = session.connection()
            before = _table_counts(conn, ws.id)
            writer = StoreWriter(
                conn=conn, workspace_id=ws.id, import_id=run.id, source=source[:500]
            )
            yield writer
            if writer._snapshot_accounts:  # their rows' copy of the newest snapshot (0006)
                touched = pl.concat(writer._snapshot_accounts).unique().drop_nulls()
                refresh_latest(conn, touched.to_list())
            after = _table_counts(conn, ws.id)
            report.import_id = run.id
            report.created = {k: after[k] - before[k] for k in after if after[k] != before[k]}
            report.updated = {
                k: max(0, n - report.created.get(k, 0))
                for k, n in writer.written.items()
                if n - report.created.get(k, 0) > 0
            }
            report.renamed = [
                {"platform": p, "from": old, "to": new} for p, old, new in writer.renamed
            ]
            report.seconds = time.perf_counter() - started
            run.status = "succeeded"
            run.finished_at = utcnow()
            run.created = sum(report.created.values())
            run.updated = sum(report.updated.values())
            run.rejected = report.rejected_count
            run.summary = report.as_dict()
    except BaseException as exc:
        _record_failure(store, workspace_id, kind, source, exc)
        raise


def _record_failure(
    store: Store, workspace_id: int | None, kind: str, source: str, exc: BaseException
) -> None:
    if workspace_id is None:
        return  # the workspace itself was not created: nothing to attach the log entry to
    try:
        with store.transaction() as session:
            if session.get(Workspace, workspace_id) is None:
                return
            session.add(
                ImportRun(
                    workspace_id=workspace_id,
                    kind=kind,
                    source=source[:500],
                    status="cancelled" if isinstance(exc, ImportCancelled) else "failed",
                    finished_at=utcnow(),
                    error=str(exc)[:2000] or type(exc).__name__,
                )
            )
    except Exception:  # noqa: BLE001 - the log entry must never hide the real error
        pass


def record_failure(
    store: Store, workspace: str, kind: str, source: str, exc: BaseException
) -> None:
    """Log an import that failed before it wrote anything (when its workspace exists)."""
    try:
        with store.transaction() as session:
            found = find_workspace(session, workspace)
            workspace_id = found.id if found is not None else None
    except Exception:  # noqa: BLE001 - the log entry must never hide the real error
        return
    _record_failure(store, workspace_id, kind, source, exc)


ProgressCallback = Callable[[int, int | None], None]
