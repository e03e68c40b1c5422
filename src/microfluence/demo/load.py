"""Build the demo workspace: generate a population and write it through the importers' path.

The whole build is one import run (one transaction): an existing workspace of the same name is
emptied first, inside the same transaction, so a failed build leaves the previous demo intact.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import polars as pl
import sqlalchemy as sa
from sqlalchemy import Connection

from microfluence.demo.campaign import CampaignSummary, build_campaign, clear_campaign
from microfluence.demo.population import (
    AUTHENTIC,
    Population,
    PopulationSpec,
    generate_population,
)
from microfluence.demo.tiers import tier_of
from microfluence.discovery.niches import NicheRun, recompute_niches
from microfluence.discovery.tables import AccountNiche
from microfluence.discovery.vectors import recompute_vectors
from microfluence.ingest.report import ImportReport
from microfluence.ingest.write.writer import StoreWriter, import_run
from microfluence.kernel.store import Store
from microfluence.kernel.store.tables import (
    Account,
    AccountSnapshot,
    Comment,
    Creator,
    EvaluationLabel,
    Follower,
    Post,
    Workspace,
)
from microfluence.kernel.workspaces import get_workspace

CHUNK_ROWS = 50_000
DEFAULT_WORKSPACE = "demo"
# Children first, so no cascade has to search for them.
_CLEAR_ORDER = (EvaluationLabel, Comment, Follower, AccountSnapshot, Post, Account, Creator)

Progress = Callable[[int, int], None]


@dataclass
class DemoSummary:
    """What the demo workspace holds, read back from the store."""

    workspace: str
    replaced: dict[str, int] = field(default_factory=dict)
    creators: int = 0
    accounts: int = 0
    accounts_by_platform_tier: pl.DataFrame = field(default_factory=pl.DataFrame)
    posts: int = 0
    sponsored_posts: int = 0
    comments: int = 0
    followers: int = 0
    snapshots: int = 0
    niches: NicheRun | None = None  # the niche model's run over the demo's accounts
    labels: dict[str, int] = field(default_factory=dict)
    planted_accounts: int = 0
    seconds: float = 0.0
    campaign: CampaignSummary | None = None

    @property
    def sponsored_share(self) -> float:
        return self.sponsored_posts / self.posts if self.posts else 0.0


def build_demo(
    store: Store,
    spec: PopulationSpec | None = None,
    *,
    workspace: str = DEFAULT_WORKSPACE,
    progress: Progress | None = None,
) -> DemoSummary:
    """Generate the population of ``spec`` and write it into ``workspace`` (replacing it)."""
    spec = spec or PopulationSpec()
    population = generate_population(spec)
    source = (
        f"demo:seed={spec.seed},creators={spec.n_creators},"
        f"start={spec.start.isoformat()},end={spec.end.isoformat()}"
    )
    report = ImportReport(kind="demo", source=source, workspace=workspace)
    with import_run(store, workspace, "demo", source, report) as writer:
        replaced = clear_workspace(writer.conn, writer.workspace_id)
        account_ids = _write_accounts(writer, population)
        total = population.n_accounts
        for _lo, hi, block in population.blocks():
            _write_frame(writer.snapshots, _with_ids(block.snapshots, account_ids))
            posts = _with_ids(block.posts, account_ids).drop("platform")
            _write_frame(writer.posts, _json_lists(posts))
            if block.comments is not None and block.comments.height:
                _write_comments(writer, _with_ids(block.comments, account_ids))
            if block.followers is not None:
                _write_frame(writer.followers, _with_ids(block.followers, account_ids))
            if progress:
                progress(hi, total)
        writer.labels(_with_ids(population.labels(), account_ids))
        campaign = build_campaign(writer.conn, writer.workspace_id, population, account_ids)
    with store.transaction() as session:
        ws_id = get_workspace(session, workspace).id
        niches = recompute_niches(session, ws_id, everything=True)
        recompute_vectors(session, ws_id, everything=True)
    summary = workspace_summary(store, workspace)
    summary.niches = niches
    summary.campaign = campaign
    summary.replaced = {k: v for k, v in replaced.items() if v}
    summary.seconds = report.seconds
    return summary


def clear_workspace(conn: Connection, workspace_id: int) -> dict[str, int]:
    """Delete the demo campaign and its shop, then every creator, account and their rows in a
    workspace; returns what was there."""
    removed = clear_campaign(conn, workspace_id)
    for model in (AccountNiche, *_CLEAR_ORDER):
        table = model.__table__
        result = conn.execute(sa.delete(table).where(table.c.workspace_id == workspace_id))
        removed[table.name] = result.rowcount or 0
    return removed


def _write_frame(write: Callable[[pl.DataFrame], int], frame: pl.DataFrame) -> None:
    for start in range(0, frame.height, CHUNK_ROWS):
        write(frame.slice(start, CHUNK_ROWS))


def _with_ids(frame: pl.DataFrame, account_ids: np.ndarray) -> pl.DataFrame:
    ids = account_ids[frame["account_key"].to_numpy()]
    return frame.with_columns(pl.Series("account_id", ids, dtype=pl.Int64)).drop("account_key")


def _json_lists(frame: pl.DataFrame) -> pl.DataFrame:
    """Encode list columns as JSON text in one vectorised pass (the store's JSON columns)."""
    lists = [c for c, t in frame.schema.items() if isinstance(t, pl.List)]
    if not lists:
        return frame
    prefix = len('{"x":')
    return frame.with_columns(
        pl.when(pl.col(c).is_not_null())
        .then(
            pl.struct(pl.col(c).alias("x"))
            .struct.json_encode()
            .str.slice(prefix)
            .str.strip_suffix("}")
        )
        .alias(c)
        for c in lists
    )


def _write_accounts(writer: StoreWriter, population: Population) -> np.ndarray:
    """Write accounts (one creator each), then link each creator's accounts to one creator."""
    rows = population.account_rows()
    ids: list[pl.Series] = []
    for start in range(0, rows.height, CHUNK_ROWS):
        chunk = rows.slice(start, CHUNK_ROWS).drop("account_key", "creator_key")
        ids.append(writer.accounts(chunk))
    account_ids = pl.concat(ids).to_numpy().astype(np.int64)
    _link_creators(writer, account_ids, rows["creator_key"].to_numpy())
    return account_ids


def _link_creators(writer: StoreWriter, account_ids: np.ndarray, creator_key: np.ndarray) -> None:
    """The writer made one creator per new account; a creator with several accounts keeps one."""
    table = Account.__table__
    stored = pl.DataFrame(
        writer.conn.execute(
            sa.select(table.c.id, table.c.creator_id).where(
                table.c.workspace_id == writer.workspace_id
            )
        ).all(),
        schema={"account_id": pl.Int64, "creator_id": pl.Int64},
        orient="row",
    )
    links = (
        pl.DataFrame({"account_id": account_ids, "creator_key": creator_key})
        .join(stored, on="account_id", how="left")
        .with_columns(pl.col("creator_id").first().over("creator_key").alias("keep"))
        .filter(pl.col("creator_id") != pl.col("keep"))
    )
    if not links.height:
        return
    writer.conn.execute(
        sa.update(table)
        .where(table.c.id == sa.bindparam("account"))
        .values(creator_id=sa.bindparam("creator")),
        links.select(
            pl.col("account_id").alias("account"), pl.col("keep").alias("creator")
        ).to_dicts(),
    )
    orphans = links["creator_id"].to_list()
    creators = Creator.__table__
    for start in range(0, len(orphans), 500):
        writer.conn.execute(
            sa.delete(creators).where(creators.c.id.in_(orphans[start : start + 500]))
        )


def _write_comments(writer: StoreWriter, comments: pl.DataFrame) -> None:
    keys = comments.select("account_id", "platform_post_id").unique()
    keys = keys.with_columns(writer.post_ids(keys).alias("post_id"))
    rows = comments.join(keys, on=["account_id", "platform_post_id"], how="left").drop(
        "account_id", "platform_post_id"
    )
    _write_frame(writer.comments, rows)


# -- the summary, read back from the store ------------------------------------------------------
def workspace_summary(store: Store, workspace: str) -> DemoSummary:
    """Counts of what ``workspace`` holds: accounts by platform and tier, posts, samples, labels."""
    summary = DemoSummary(workspace=workspace)
    acc, snap, post = Account.__table__, AccountSnapshot.__table__, Post.__table__
    with store.connection() as conn:
        ws = conn.execute(
            sa.select(Workspace.__table__.c.id).where(Workspace.__table__.c.name == workspace)
        ).scalar_one_or_none()
        if ws is None:
            return summary

        def count(table: sa.Table) -> int:
            query = sa.select(sa.func.count()).select_from(table).where(table.c.workspace_id == ws)
            return int(conn.execute(query).scalar_one())

        summary.creators = count(Creator.__table__)
        summary.accounts = count(acc)
        summary.snapshots = count(snap)
        summary.comments = count(Comment.__table__)
        summary.followers = count(Follower.__table__)
        summary.posts = count(post)
        summary.sponsored_posts = int(
            conn.execute(
                sa.select(sa.func.count()).where(post.c.workspace_id == ws, post.c.is_sponsored)
            ).scalar_one()
        )
        latest = (
            sa.select(snap.c.account_id, sa.func.max(snap.c.captured_at).label("at"))
            .where(snap.c.workspace_id == ws)
            .group_by(snap.c.account_id)
            .subquery()
        )
        rows = conn.execute(
            sa.select(acc.c.platform, snap.c.followers)
            .select_from(acc)
            .outerjoin(latest, latest.c.account_id == acc.c.id)
            .outerjoin(
                snap,
                (snap.c.account_id == latest.c.account_id) & (snap.c.captured_at == latest.c.at),
            )
            .where(acc.c.workspace_id == ws)
        ).all()
        labels = EvaluationLabel.__table__
        summary.labels = {
            label: int(n)
            for label, n in conn.execute(
                sa.select(labels.c.label, sa.func.count())
                .where(labels.c.workspace_id == ws)
                .group_by(labels.c.label)
            )
        }
        summary.planted_accounts = int(
            conn.execute(
                sa.select(sa.func.count(sa.distinct(labels.c.account_id))).where(
                    labels.c.workspace_id == ws, labels.c.label != AUTHENTIC
                )
            ).scalar_one()
        )
    frame = pl.DataFrame(rows, schema={"platform": pl.String, "followers": pl.Int64}, orient="row")
    summary.accounts_by_platform_tier = (
        frame.with_columns(tier_of(pl.col("followers")).alias("tier"))
        .group_by("platform", "tier")
        .len()
        .pivot(on="tier", index="platform", values="len")
        .fill_null(0)
        .sort("platform")
    )
    return summary
