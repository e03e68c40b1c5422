"""Service functions over the metrics: recompute a workspace, read an account's numbers.

The CLI (`microfluence score`), the API, exports and the profile page call these; none of them
computes a metric itself.
"""

from __future__ import annotations

import datetime as dt
import io
import time
from collections.abc import Callable, Collection, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
from sqlalchemy import Connection, delete, insert, select
from sqlalchemy.orm import Session

from microfluence.kernel.errors import InputError, NotFoundError
from microfluence.kernel.store import Store
from microfluence.kernel.store.tables import Account, AccountSnapshot, Post, utcnow
from microfluence.kernel.workspaces import get_workspace
from microfluence.metrics import cluster
from microfluence.metrics.catalogue import BY_NAME, METRICS
from microfluence.metrics.cluster import SparkOptions
from microfluence.metrics.engines import ENGINES, run_pipeline, run_staged, spark_session
from microfluence.metrics.loading import load_inputs
from microfluence.metrics.settings import (
    MetricsSettings,
    get_metrics_settings,
    set_metrics_settings,
)
from microfluence.metrics.tables import AccountMetric, AccountTier, MetricRun, PostMetric
from microfluence.metrics.tiers import PRESETS, TierScheme, check_scheme, scheme_from_dict

WRITE_CHUNK = 20_000
Progress = Callable[[str], None]
# The steps compute_metrics reports to ``progress``, in order: the progress of `microfluence
# score` and of score jobs is the number of steps begun before the current one.
STEPS = (
    "reading the store",
    "loading into",
    "scoring posts",
    "scoring accounts",
    "finishing",
    "writing results",
)


def step_number(message: str) -> int:
    """How many steps of :data:`STEPS` come before the one ``message`` begins (0 if unknown)."""
    return next((i for i, step in enumerate(STEPS) if message.startswith(step)), 0)


@dataclass(frozen=True)
class ScoreSummary:
    run_id: int
    workspace: str
    engine: str
    accounts: int
    posts: int
    window: str
    seconds: float


def _epoch(moment: dt.datetime) -> int:
    if moment.tzinfo is not None:
        moment = moment.astimezone(dt.UTC).replace(tzinfo=None)
    return int(moment.replace(tzinfo=dt.UTC).timestamp())


def compute_metrics(
    store: Store,
    workspace: str,
    *,
    engine: str = "duckdb",
    now: dt.datetime | None = None,
    settings: MetricsSettings | None = None,
    progress: Progress | None = None,
    spark: Any = None,
    spark_options: SparkOptions | None = None,
) -> ScoreSummary:
    """Recompute every metric of ``workspace`` on ``engine`` and replace the stored ones.

    ``now`` (naive UTC; default: the current time) anchors day windows and "days since".
    The old results stay until the new ones are written, in one transaction.

    On Spark the workspace goes to the cluster as a Parquet snapshot and the per-post results
    come back as Parquet (``metrics.cluster``), so this process never holds every post;
    ``spark_options`` say where the cluster is (default: the ``MICROFLUENCE_SPARK_*``
    settings), or ``spark`` is a SparkSession to use as it is.
    """
    if engine not in ENGINES:
        raise InputError(f"unknown engine {engine!r}; use one of {', '.join(ENGINES)}")
    step = progress or (lambda _msg: None)
    started = time.perf_counter()
    now = now or utcnow()
    with store.session() as session:
        ws = get_workspace(session, workspace)
        ws_id = ws.id
        settings = settings or MetricsSettings.from_dict((ws.settings or {}).get("metrics"))
    if engine == "spark":
        options = spark_options or cluster.spark_options()
        counts, run_id = _compute_on_spark(store, ws_id, settings, now, step, spark, options)
    else:
        step("reading the store")
        inputs = load_inputs(store, ws_id)
        result = run_pipeline(inputs, settings, now=_epoch(now), engine=engine, progress=step)
        counts = {"accounts": inputs.accounts.num_rows, "posts": inputs.posts.num_rows}
        step("writing results")
        with store.connection() as conn:
            run_id = _start_run(conn, ws_id, engine, settings, now, counts)
            _write_accounts(conn, ws_id, run_id, result.accounts, settings)
            _write_posts(conn, ws_id, run_id, result.posts)
            _finish_run(conn, run_id)
    return ScoreSummary(
        run_id=run_id,
        workspace=workspace,
        engine=engine,
        accounts=counts["accounts"],
        posts=counts["posts"],
        window=settings.window_label,
        seconds=time.perf_counter() - started,
    )


def _compute_on_spark(
    store: Store,
    ws_id: int,
    settings: MetricsSettings,
    now: dt.datetime,
    step: Progress,
    spark: Any,
    options: SparkOptions,
) -> tuple[dict[str, int], int]:
    """Snapshot to Parquet, score on the cluster, stream the results back; (counts, run id)."""
    own_session = spark is None
    with cluster.staging_folder(options.staging) as folder:
        step("reading the store")
        counts = cluster.stage_inputs(store, ws_id, folder, batch_rows=options.batch_rows)
        session = spark or spark_session(master=options.master, conf=options.conf)
        try:
            accounts = run_staged(session, folder, settings, now=_epoch(now), progress=step)
        finally:
            if own_session and not options.local:
                # A cluster's cores are held while the application lives: give them back.
                session.stop()
        step("writing results")
        with store.connection() as conn:
            run_id = _start_run(conn, ws_id, "spark", settings, now, counts)
            _write_accounts(conn, ws_id, run_id, accounts, settings)
            for batch in cluster.iter_result_batches(
                folder / "out_posts", batch_rows=options.batch_rows
            ):
                _write_posts(conn, ws_id, run_id, batch)
            _finish_run(conn, run_id)
    return counts, run_id


def _start_run(
    conn: Connection,
    ws_id: int,
    engine: str,
    settings: MetricsSettings,
    now: dt.datetime,
    counts: dict[str, int],
) -> int:
    """Record the run and clear the workspace's previous results (same transaction)."""
    run_id = conn.execute(
        insert(MetricRun).returning(MetricRun.id),
        {
            "workspace_id": ws_id,
            "engine": engine,
            "settings": settings.to_dict(),
            "now": now.replace(tzinfo=None),
            "accounts": counts["accounts"],
            "posts": counts["posts"],
            "started_at": utcnow(),
        },
    ).scalar_one()
    for table in (PostMetric, AccountMetric, AccountTier):
        conn.execute(delete(table).where(table.workspace_id == ws_id))
    conn.execute(delete(MetricRun).where(MetricRun.workspace_id == ws_id, MetricRun.id != run_id))
    return run_id


def _finish_run(conn: Connection, run_id: int) -> None:
    conn.execute(
        MetricRun.__table__.update().where(MetricRun.id == run_id).values(finished_at=utcnow())
    )


def _times(column: pa.ChunkedArray | pa.Array) -> pa.Array:
    return pc.cast(pc.cast(column, pa.int64()), pa.timestamp("s"))


def _insert(conn: Connection, table: Any, rows: pa.Table, extra: dict[str, Any]) -> None:
    """Bulk-insert Arrow ``rows`` (plus the constant ``extra`` columns) in the open transaction.

    PostgreSQL: ``COPY … FROM STDIN`` fed with CSV that Arrow's C++ writer produces. SQLite: the
    driver's ``executemany`` over plain tuples, times formatted in SQL's text form by Arrow (the
    form SQLAlchemy writes). Both skip SQLAlchemy's per-row dictionaries.
    """
    if not rows.num_rows:
        return
    for name, value in extra.items():
        rows = rows.append_column(name, pa.array(np.full(rows.num_rows, value, dtype=np.int64)))
    names = ", ".join(rows.column_names)
    raw = conn.connection.driver_connection
    if conn.dialect.name == "postgresql":
        sql = f"COPY {table.__tablename__} ({names}) FROM STDIN WITH (FORMAT csv)"
        with raw.cursor() as cursor, cursor.copy(sql) as copy:
            for batch in rows.to_batches(max_chunksize=WRITE_CHUNK * 10):
                buffer = io.BytesIO()
                pacsv.write_csv(
                    pa.Table.from_batches([batch]),
                    buffer,
                    pacsv.WriteOptions(include_header=False, quoting_style="needed"),
                )
                copy.write(buffer.getvalue())
        return
    columns = []
    for column in rows.columns:
        if pa.types.is_timestamp(column.type):
            column = pc.strftime(column, "%Y-%m-%d %H:%M:%S.000000")
        elif pa.types.is_boolean(column.type):
            column = pc.cast(column, pa.int64())
        columns.append(column)
    marks = ", ".join("?" * len(columns))
    sql = f"INSERT INTO {table.__tablename__} ({names}) VALUES ({marks})"
    cursor = raw.cursor()
    try:
        for start in range(0, rows.num_rows, WRITE_CHUNK * 10):
            chunk = [c.slice(start, WRITE_CHUNK * 10).to_pylist() for c in columns]
            cursor.executemany(sql, zip(*chunk, strict=True))
    finally:
        cursor.close()


def _write_accounts(
    conn: Connection, ws_id: int, run_id: int, accounts: pa.Table, settings: MetricsSettings
) -> None:
    extra = {"workspace_id": ws_id, "run_id": run_id}
    ids = accounts["account_id"]
    parts = []
    for metric in METRICS:
        part = pa.table(
            {
                "account_id": ids,
                "metric": pa.array([metric.name] * accounts.num_rows, pa.string()),
                "value": pc.cast(accounts[metric.name], pa.float64()),
                "as_of": _times(accounts[metric.as_of]),
            }
        )
        parts.append(part.filter(pc.is_valid(part["value"])))
    if parts:
        _insert(conn, AccountMetric, pa.concat_tables(parts), extra)

    tiers = []
    for name in settings.schemes:
        tiers.append(
            pa.table(
                {
                    "account_id": ids,
                    "scheme": pa.array([name] * accounts.num_rows, pa.string()),
                    "tier": accounts[f"tier__{name}"],
                    "followers": pc.cast(accounts["followers"], pa.int64()),
                    "as_of": _times(accounts["followers_t"]),
                }
            )
        )
    if tiers:
        _insert(conn, AccountTier, pa.concat_tables(tiers), extra)


def _write_posts(conn: Connection, ws_id: int, run_id: int, posts: pa.Table) -> None:
    """Insert per-post results (all of them, or one batch of them)."""
    if not posts.num_rows:
        return
    rows = pa.table(
        {
            "post_id": pc.cast(posts["post_id"], pa.int64()),
            "account_id": pc.cast(posts["account_id"], pa.int64()),
            "interactions": pc.cast(posts["interactions"], pa.int64()),
            "followers_at_post": pc.cast(posts["followers_at_post"], pa.int64()),
            "snapshot_at": _times(posts["snapshot_t"]),
            "er_followers": pc.cast(posts["er_followers"], pa.float64()),
            "er_views": pc.cast(posts["er_views"], pa.float64()),
            "er_reach": pc.cast(posts["er_reach"], pa.float64()),
            "in_window": pc.cast(posts["in_window"], pa.bool_()),
        }
    )
    _insert(conn, PostMetric, rows, {"workspace_id": ws_id, "run_id": run_id})


# --- reading -------------------------------------------------------------------------------


@dataclass(frozen=True)
class MetricValue:
    name: str
    value: float | None
    as_of: dt.datetime | None
    unit: str
    label: str


@dataclass(frozen=True)
class TierValue:
    scheme: str
    tier: str | None
    followers: int | None
    as_of: dt.datetime | None


@dataclass
class AccountMetrics:
    account_id: int
    computed_at: dt.datetime | None
    engine: str | None
    window: str
    cohort_scheme: str
    metrics: dict[str, MetricValue] = field(default_factory=dict)
    tiers: dict[str, TierValue] = field(default_factory=dict)

    def value(self, name: str) -> float | None:
        metric = self.metrics.get(name)
        return metric.value if metric else None

    @property
    def cohort_tier(self) -> str | None:
        tier = self.tiers.get(self.cohort_scheme)
        return tier.tier if tier else None


def latest_run(session: Session, workspace: str) -> MetricRun | None:
    ws = get_workspace(session, workspace)
    return session.scalar(
        select(MetricRun)
        .where(MetricRun.workspace_id == ws.id)
        .order_by(MetricRun.id.desc())
        .limit(1)
    )


def _account(session: Session, workspace: str, account_id: int) -> Account:
    ws = get_workspace(session, workspace)
    account = session.get(Account, account_id)
    if account is None or account.workspace_id != ws.id:
        raise NotFoundError(f"no account {account_id} in workspace {workspace!r}")
    return account


def account_metrics(session: Session, workspace: str, account_id: int) -> AccountMetrics:
    """Every stored metric and tier of one account (values None where unknown)."""
    account = _account(session, workspace, account_id)
    run = latest_run(session, workspace)
    settings = (
        MetricsSettings.from_dict(run.settings)
        if run is not None
        else get_metrics_settings(session, workspace)
    )
    out = AccountMetrics(
        account_id=account.id,
        computed_at=run.finished_at if run else None,
        engine=run.engine if run else None,
        window=settings.window_label,
        cohort_scheme=settings.tier_scheme,
    )
    stored = {
        row.metric: row
        for row in session.scalars(
            select(AccountMetric).where(AccountMetric.account_id == account.id)
        )
    }
    for metric in METRICS:
        row = stored.get(metric.name)
        out.metrics[metric.name] = MetricValue(
            metric.name,
            row.value if row else None,
            row.as_of if row else None,
            metric.unit,
            metric.label,
        )
    for row in session.scalars(
        select(AccountTier).where(AccountTier.account_id == account.id).order_by(AccountTier.id)
    ):
        out.tiers[row.scheme] = TierValue(row.scheme, row.tier, row.followers, row.as_of)
    return out


@dataclass(frozen=True)
class PostEngagement:
    post_id: int
    posted_at: dt.datetime | None
    post_type: str | None
    url: str | None
    likes: int | None
    comments: int | None
    views: int | None
    interactions: int | None
    followers_at_post: int | None
    snapshot_at: dt.datetime | None
    er_followers: float | None
    er_views: float | None
    er_reach: float | None
    in_window: bool


def post_engagement(
    session: Session, workspace: str, account_id: int, *, limit: int = 200
) -> list[PostEngagement]:
    """The account's posts, newest first, with their interactions and rates."""
    account = _account(session, workspace, account_id)
    rows = session.execute(
        select(Post, PostMetric)
        .join(PostMetric, PostMetric.post_id == Post.id)
        .where(Post.account_id == account.id)
        .order_by(Post.posted_at.desc().nulls_last(), Post.id.desc())
        .limit(limit)
    )
    return [
        PostEngagement(
            post_id=p.id,
            posted_at=p.posted_at,
            post_type=p.post_type,
            url=p.url,
            likes=p.likes,
            comments=p.comments,
            views=p.views,
            interactions=m.interactions,
            followers_at_post=m.followers_at_post,
            snapshot_at=m.snapshot_at,
            er_followers=m.er_followers,
            er_views=m.er_views,
            er_reach=m.er_reach,
            in_window=m.in_window,
        )
        for p, m in rows
    ]


def follower_history(
    session: Session, workspace: str, account_id: int
) -> list[tuple[dt.datetime, int | None]]:
    """(captured_at, followers) in time order: the data behind the growth chart."""
    account = _account(session, workspace, account_id)
    rows = session.execute(
        select(AccountSnapshot.captured_at, AccountSnapshot.followers)
        .where(AccountSnapshot.account_id == account.id)
        .order_by(AccountSnapshot.captured_at)
    )
    return [(r.captured_at, r.followers) for r in rows]


def workspace_metrics(
    session: Session, workspace: str, metrics: Sequence[str] | None = None
) -> dict[int, dict[str, float | None]]:
    """{account_id: {metric: value}} for every scored account (for exports and lists)."""
    names = list(metrics) if metrics is not None else [m.name for m in METRICS]
    unknown = [n for n in names if n not in BY_NAME]
    if unknown:
        raise InputError(f"unknown metrics: {', '.join(unknown)}", field="metrics")
    ws = get_workspace(session, workspace)
    out: dict[int, dict[str, float | None]] = {}
    rows = session.execute(
        select(AccountMetric.account_id, AccountMetric.metric, AccountMetric.value).where(
            AccountMetric.workspace_id == ws.id, AccountMetric.metric.in_(names)
        )
    )
    for account_id, metric, value in rows:
        out.setdefault(account_id, dict.fromkeys(names))[metric] = value
    return out


def workspace_tiers(
    session: Session,
    workspace: str,
    scheme: str | None = None,
    *,
    account_ids: Collection[int] | None = None,
) -> dict[int, str | None]:
    """{account_id: tier} under ``scheme`` (default: the workspace's chosen scheme), as the last
    metrics run stored them; only the accounts in ``account_ids`` when it is given."""
    if account_ids is not None and not account_ids:
        return {}
    ws = get_workspace(session, workspace)
    scheme = scheme or get_metrics_settings(session, workspace).tier_scheme
    query = select(AccountTier.account_id, AccountTier.tier).where(
        AccountTier.workspace_id == ws.id, AccountTier.scheme == scheme
    )
    if account_ids is not None:
        query = query.where(AccountTier.account_id.in_(list(account_ids)))
    return {account_id: tier for account_id, tier in session.execute(query)}


# --- tier schemes --------------------------------------------------------------------------


@dataclass(frozen=True)
class SchemeInfo:
    name: str
    title: str
    source: str
    preset: bool
    chosen: bool
    notes: tuple[str, ...]


def tier_schemes(session: Session, workspace: str) -> list[SchemeInfo]:
    """Every scheme the workspace can use, with how its gaps and overlaps are read."""
    settings = get_metrics_settings(session, workspace)
    return [
        SchemeInfo(
            name=s.name,
            title=s.title,
            source=s.source,
            preset=s.name in PRESETS,
            chosen=s.name == settings.tier_scheme,
            notes=tuple(check_scheme(s)),
        )
        for s in settings.schemes.values()
    ]


def choose_tier_scheme(session: Session, workspace: str, name: str) -> MetricsSettings:
    """Make ``name`` (a preset or one of the workspace's own) the scheme cohorts use."""
    settings = get_metrics_settings(session, workspace)
    updated = MetricsSettings(
        window_posts=settings.window_posts,
        window_days=settings.window_days,
        components=settings.components,
        tier_scheme=name,
        custom_schemes=settings.custom_schemes,
    )
    set_metrics_settings(session, workspace, updated)
    return updated


def save_custom_scheme(
    session: Session, workspace: str, data: dict[str, Any], *, choose: bool = False
) -> TierScheme:
    """Add (or replace) a workspace-defined scheme, validated; optionally choose it."""
    scheme = scheme_from_dict(data)
    settings = get_metrics_settings(session, workspace)
    customs = {**dict(settings.custom_schemes), scheme.name: scheme}
    updated = MetricsSettings(
        window_posts=settings.window_posts,
        window_days=settings.window_days,
        components=settings.components,
        tier_scheme=scheme.name if choose else settings.tier_scheme,
        custom_schemes=customs,
    )
    set_metrics_settings(session, workspace, updated)
    return scheme


def configure_metrics(
    session: Session,
    workspace: str,
    *,
    window_posts: int | None = None,
    window_days: int | None = None,
    components: Iterable[str] | None = None,
) -> MetricsSettings:
    """Change the window (last N posts or last D days) and what counts as an interaction."""
    settings = get_metrics_settings(session, workspace)
    if window_posts is not None or window_days is not None:
        settings = settings.with_window(posts=window_posts, days=window_days)
    if components is not None:
        settings = MetricsSettings(
            window_posts=settings.window_posts,
            window_days=settings.window_days,
            components=tuple(components),
            tier_scheme=settings.tier_scheme,
            custom_schemes=settings.custom_schemes,
        )
    set_metrics_settings(session, workspace, settings)
    return settings
