"""Engines that run the pipeline: DuckDB (embedded, the default) and Apache Spark.

Only this module knows an engine exists. It registers the Arrow input tables, runs the
definitions in ``pipeline.py`` and hands back Arrow tables; ``finish`` then adds the few
numbers no SQL engine computes alike (the t quantile of the mean's interval) with NumPy.
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from microfluence.kernel.errors import InputError
from microfluence.metrics.inputs import INPUT_SCHEMAS
from microfluence.metrics.references import add_reference_bands
from microfluence.metrics.settings import MetricsSettings

if TYPE_CHECKING:
    import ibis

EngineName = Literal["duckdb", "spark"]
ENGINES: tuple[str, ...] = ("duckdb", "spark")
Progress = Callable[[str], None]
# The per-post results handed back (and stored): the rest of the post frame is internal.
POST_OUTPUT = (
    "post_id",
    "account_id",
    "interactions",
    "followers_at_post",
    "snapshot_t",
    "er_followers",
    "er_views",
    "er_reach",
    "in_window",
)


@dataclass
class PipelineInputs:
    accounts: pa.Table
    snapshots: pa.Table
    posts: pa.Table

    @property
    def post_count(self) -> int:
        return self.posts.num_rows


@dataclass
class PipelineResult:
    posts: pa.Table
    accounts: pa.Table
    engine: str


def conform(table: pa.Table, name: str) -> pa.Table:
    """The input table with exactly the columns and types the pipeline expects."""
    schema = INPUT_SCHEMAS[name]
    fields = []
    arrays = []
    for column, kind in schema.items():
        arrow_type = {"int64": pa.int64(), "string": pa.string(), "boolean": pa.bool_()}[kind]
        if column not in table.column_names:
            raise InputError(f"{name} needs a column {column!r}", field=column)
        arrays.append(pc.cast(table[column], arrow_type))
        fields.append(pa.field(column, arrow_type))
    return pa.Table.from_arrays(arrays, schema=pa.schema(fields))


_spark_lock = threading.Lock()
# Parquet row-group size of the per-post results a cluster writes (bounds the driver's reads).
RESULT_ROW_GROUP_BYTES = 4 << 20
LOCAL_MASTER = "local[2]"


def is_local_master(master: str) -> bool:
    """True for Spark's in-process masters (``local``, ``local[N]``, ``local[*]``…)."""
    return master == "local" or master.startswith("local[")


def spark_session(
    shuffle_partitions: int = 4,
    *,
    master: str = LOCAL_MASTER,
    conf: Mapping[str, str] | None = None,
) -> Any:
    """The process's SparkSession (Spark allows one per JVM), on ``master``.

    ``master`` is what ``spark-submit --master`` takes (``local[N]``, ``spark://host:7077``,
    ``yarn``, ``k8s://…``) or a Spark Connect endpoint (``sc://host:15002``). ``conf`` is passed
    through last, so it overrides every default here. On a cluster the shuffle partitions are
    left to Spark (adaptive execution coalesces them); locally a few suffice.
    """
    try:
        from pyspark.sql import SparkSession
    except ImportError as exc:  # pragma: no cover - pyspark is in the [spark] extra
        raise InputError(
            "the Spark engine needs pyspark: pip install 'microfluence[spark]'", field="engine"
        ) from exc
    builder = SparkSession.builder.appName("microfluence-metrics")
    if master.startswith("sc://"):
        builder = builder.remote(master)
    else:
        builder = builder.master(master).config("spark.driver.memory", "2g")
    defaults = {
        "spark.sql.session.timeZone": "UTC",
        "spark.sql.execution.arrow.pyspark.enabled": "true",
        "spark.sql.adaptive.enabled": "true",
    }
    if not master.startswith("sc://"):  # a Connect server's UI is its own (static settings)
        defaults |= {"spark.ui.enabled": "false", "spark.ui.showConsoleProgress": "false"}
    if is_local_master(master):
        defaults["spark.sql.shuffle.partitions"] = str(shuffle_partitions)
        defaults["spark.default.parallelism"] = str(shuffle_partitions)
    for key, value in {**defaults, **dict(conf or {})}.items():
        builder = builder.config(key, value)
    with _spark_lock:
        try:
            session = builder.getOrCreate()
        except ImportError as exc:  # Spark Connect's client needs grpcio and friends
            raise InputError(
                f"Spark Connect needs pyspark's connect extra: pip install 'pyspark[connect]' "
                f"({exc})",
                field="spark_master",
            ) from exc
    if not master.startswith("sc://"):
        # getOrCreate hands back a running session as it is: never score on another master
        # than the one asked for without saying so.
        running = session.sparkContext.master
        if running != master:
            raise InputError(
                f"this process already runs Spark on {running!r}; Spark allows one session per "
                f"process, so {master!r} needs a new process (or stop the running session)",
                field="spark_master",
            )
    return session


class _Run:
    """One engine connection with the inputs registered under names unique to this run."""

    def __init__(self, engine: str, spark: Any = None) -> None:
        import ibis  # the engines' front end, 0.4 s to import: only when a pipeline runs

        if engine not in ENGINES:
            raise InputError(f"unknown engine {engine!r}; use one of {ENGINES}", field="engine")
        self.engine = engine
        self.tag = uuid.uuid4().hex[:10]
        self.views: list[str] = []
        self.cached: list[ibis.Table] = []
        if engine == "duckdb":
            # Row order is never relied on (every result is keyed), so DuckDB may stream and
            # parallelise without keeping insertion order, which also lowers peak memory.
            self.con = ibis.duckdb.connect(preserve_insertion_order=False)
            self.spark = None
        else:
            self.spark = spark or spark_session()
            self.con = ibis.pyspark.connect(self.spark)

    def register(self, name: str, table: pa.Table) -> ibis.Table:
        view = f"mf_{name}_{self.tag}"
        if self.engine == "duckdb":
            self.con.con.register(view, table)
        else:
            kinds = {"int64": "bigint", "string": "string", "boolean": "boolean"}
            schema = ", ".join(f"{c} {kinds[k]}" for c, k in INPUT_SCHEMAS[name].items())
            frame = (
                self.spark.createDataFrame(table, schema=schema)
                if table.num_rows
                else self.spark.createDataFrame([], schema=schema)
            )
            frame.createOrReplaceTempView(view)
        self.views.append(view)
        return self.con.table(view)

    def materialize(self, expr: ibis.Table, output: tuple[str, ...]) -> tuple[ibis.Table, pa.Table]:
        """Compute ``expr`` once: a table later queries read, and its ``output`` columns as Arrow.

        On DuckDB the result is fetched as Arrow (the per-post output needs it anyway) and
        registered back, zero-copy: no second copy in a temporary table, no second scan.
        """
        if self.engine == "duckdb":
            table = self.con.to_pyarrow(expr)
            view = f"mf_posts_scored_{self.tag}"
            self.con.con.register(view, table)
            self.views.append(view)
            return self.con.table(view), table.select(list(output))
        cached = expr.cache()
        self.cached.append(cached)
        return cached, cached.select(*output).to_pyarrow()

    def close(self) -> None:
        for cached in self.cached:
            cached.release()
        if self.engine == "duckdb":
            self.con.disconnect()
        else:
            for view in self.views:
                self.spark.catalog.dropTempView(view)


def run_pipeline(
    inputs: PipelineInputs,
    settings: MetricsSettings,
    *,
    now: int,
    engine: str = "duckdb",
    spark: Any = None,
    progress: Progress | None = None,
    keep_posts: bool = True,
) -> PipelineResult:
    """Run the one pipeline definition on ``engine``; results as Arrow tables."""
    from microfluence.metrics.pipeline import account_frame, post_frame  # Ibis, on first run

    step = progress or (lambda _msg: None)
    run = _Run(engine, spark)
    try:
        step("loading into " + engine)
        accounts = run.register("accounts", conform(inputs.accounts, "accounts"))
        snapshots = run.register("snapshots", conform(inputs.snapshots, "snapshots"))
        posts = run.register("posts", conform(inputs.posts, "posts"))
        step("scoring posts")
        native = engine == "duckdb"  # DuckDB's max(x, n); Spark sorts each account's times
        scored = post_frame(posts, snapshots, now=now, settings=settings, native_top_n=native)
        pf, post_table = run.materialize(scored, POST_OUTPUT)
        post_table = post_table if keep_posts else pa.table({})
        step("scoring accounts")
        acc = account_frame(pf, accounts, snapshots, now=now, settings=settings)
        account_table = acc.order_by("account_id").to_pyarrow()
    finally:
        run.close()
    step("finishing")
    return PipelineResult(posts=post_table, accounts=finish(account_table), engine=engine)


def run_staged(
    spark: Any,
    folder: Path,
    settings: MetricsSettings,
    *,
    now: int,
    progress: Progress | None = None,
) -> pa.Table:
    """Run the pipeline on Spark over a Parquet snapshot; the per-post results stay on disk.

    ``folder`` holds ``accounts/``, ``snapshots/`` and ``posts/`` (Parquet, the input schemas),
    on a path every executor reads. The executors read them in parallel, and write the per-post
    results as Parquet to ``folder/out_posts`` themselves; only the per-account table (one row
    per account, whatever the number of posts) comes back to the driver, as Arrow.
    """
    import ibis

    from microfluence.metrics.pipeline import account_frame, post_frame

    step = progress or (lambda _msg: None)
    con = ibis.pyspark.connect(spark)
    tag = uuid.uuid4().hex[:10]
    kinds = {"int64": "bigint", "string": "string", "boolean": "boolean"}
    views: list[str] = []
    tables: dict[str, ibis.Table] = {}
    cached: ibis.Table | None = None
    try:
        step("loading into spark")
        for name, schema in INPUT_SCHEMAS.items():
            ddl = ", ".join(f"{c} {kinds[k]}" for c, k in schema.items())
            frame = spark.read.schema(ddl).parquet((folder / name).resolve().as_uri())
            view = f"mf_{name}_{tag}"
            frame.createOrReplaceTempView(view)
            views.append(view)
            tables[name] = con.table(view)
        step("scoring posts")
        scored = post_frame(
            tables["posts"], tables["snapshots"], now=now, settings=settings, native_top_n=False
        )
        cached = scored.cache()
        # Small row groups: the driver reads the results back one row group at a time.
        con.to_parquet(
            cached.select(*POST_OUTPUT),
            (folder / "out_posts").resolve().as_uri(),
            mode="overwrite",
            **{"parquet.block.size": str(RESULT_ROW_GROUP_BYTES)},
        )
        step("scoring accounts")
        acc = account_frame(
            cached, tables["accounts"], tables["snapshots"], now=now, settings=settings
        )
        account_table = acc.order_by("account_id").to_pyarrow()
    finally:
        if cached is not None:
            cached.release()
        for view in views:
            spark.catalog.dropTempView(view)
    step("finishing")
    return finish(account_table)


def finish(accounts: pa.Table) -> pa.Table:
    """Add the mean's 95% t-interval, mean ± t(0.975, n−1)·s/√n cut at 0, for n ≥ 2 (NumPy)."""
    n = accounts["n_er"].to_numpy(zero_copy_only=False).astype("float64")
    mean = accounts["er_mean"].to_numpy(zero_copy_only=False)
    sd = accounts["er_sd"].to_numpy(zero_copy_only=False)
    mean = np.asarray(mean, dtype="float64")
    sd = np.asarray(sd, dtype="float64")
    from scipy import stats  # scipy.stats costs about 0.9 s to import: only when used

    ok = (n >= 2) & ~np.isnan(mean) & ~np.isnan(sd)
    t = np.full(n.shape, np.nan)
    t[ok] = stats.t.ppf(0.975, n[ok] - 1)
    half = t * sd / np.sqrt(np.where(ok, n, 1))
    # A rate cannot be negative: the interval is cut at 0.
    lo = pa.array(np.where(ok, np.maximum(mean - half, 0.0), np.nan), from_pandas=True)
    hi = pa.array(np.where(ok, mean + half, np.nan), from_pandas=True)
    accounts = accounts.append_column("er_mean_lo", lo).append_column("er_mean_hi", hi)
    return add_reference_bands(accounts)
