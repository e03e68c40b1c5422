"""The Spark engine on a cluster: options, the Parquet snapshot, and a real standalone cluster.

The cluster test starts a master and two workers from pyspark's own distribution on 127.0.0.1,
runs ``microfluence score --engine spark --spark-master spark://…`` on a PostgreSQL store in a
separate process, and checks every stored number against DuckDB's and the driver's peak memory
at two sizes.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import sqlalchemy as sa
from bench.spark_cluster import SparkCluster, SparkConnectServer

from cluster_support import generate_workspace
from metrics_data import NOW, load_into
from microfluence.kernel.errors import InputError
from microfluence.kernel.store import Store, open_store
from microfluence.metrics import cluster
from microfluence.metrics.engines import spark_session
from microfluence.metrics.service import compute_metrics

ROOT = Path(__file__).resolve().parents[1]
ACCOUNT_METRIC_COLUMNS = ("account_id", "metric", "value", "as_of")
TIER_COLUMNS = ("account_id", "scheme", "tier", "followers", "as_of")
POST_METRIC_COLUMNS = (
    "post_id",
    "account_id",
    "interactions",
    "followers_at_post",
    "snapshot_at",
    "er_followers",
    "er_views",
    "er_reach",
    "in_window",
)


# --- options -------------------------------------------------------------------------------


def test_spark_conf_pairs_are_parsed_and_a_bad_pair_is_named():
    assert cluster.parse_conf(["spark.executor.memory=4g", " a.b = c=d "]) == {
        "spark.executor.memory": "4g",
        "a.b": "c=d",
    }
    for bad in ("spark.executor.memory", "=4g"):
        with pytest.raises(InputError) as err:
            cluster.parse_conf([bad])
        assert err.value.field == "spark_conf" and bad in str(err.value.value)


def test_flags_override_settings_and_conf_adds_to_the_setting(monkeypatch):
    monkeypatch.setenv("MICROFLUENCE_SPARK_MASTER", "spark://10.0.0.1:7077")
    monkeypatch.setenv("MICROFLUENCE_SPARK_CONF", '{"spark.executor.memory": "2g", "x.y": "1"}')
    monkeypatch.setenv("MICROFLUENCE_SPARK_STAGING", "/mnt/shared")
    options = cluster.spark_options()
    assert options.master == "spark://10.0.0.1:7077" and not options.local
    assert options.staging == "/mnt/shared"
    options = cluster.spark_options("local[3]", ["spark.executor.memory=8g"], "/other")
    assert options.local and options.master == "local[3]" and options.staging == "/other"
    assert options.conf == {"spark.executor.memory": "8g", "x.y": "1"}
    monkeypatch.setenv("MICROFLUENCE_SPARK_CONF", "not json")
    with pytest.raises(InputError) as err:
        cluster.spark_options()
    assert "MICROFLUENCE_SPARK_" in str(err.value) and "conf" in str(err.value)


def test_default_master_is_local(monkeypatch):
    monkeypatch.delenv("MICROFLUENCE_SPARK_MASTER", raising=False)
    assert cluster.spark_options().master == "local[2]"


def test_staging_is_a_shared_path_not_a_url_and_is_removed_after(tmp_path):
    with pytest.raises(InputError) as err:
        with cluster.staging_folder("s3a://bucket/x"):
            pass
    assert err.value.field == "spark_staging"
    with cluster.staging_folder(str(tmp_path / "shared")) as folder:
        assert folder.parent == tmp_path / "shared" and folder.is_dir()
        (folder / "f").write_text("x")
    assert not folder.exists()


def test_the_snapshot_holds_exactly_the_workspace_in_bounded_files(store, tmp_path):
    ids = load_into(store, "acme")
    load_into(store, "other")  # another workspace's rows never reach the snapshot
    counts = cluster.stage_inputs(store, _ws_id(store, "acme"), tmp_path, batch_rows=4)
    assert counts == {"accounts": 4, "snapshots": 5, "posts": 9}
    posts = pq.read_table(tmp_path / "posts")
    assert sorted(posts["account_id"].to_pylist()) == sorted(
        ids[n] for n in (1, 1, 1, 1, 1, 2, 2, 3, 4)
    )
    assert posts.schema.field("is_sponsored").type == pa.bool_()
    # batches of 4 rows: the file holds several row groups, never the table in one piece
    meta = pq.ParquetFile(next((tmp_path / "posts").glob("*.parquet"))).metadata
    assert meta.num_row_groups >= 3


def _ws_id(store: Store, name: str) -> int:
    with store.connection() as conn:
        return conn.execute(
            sa.text("SELECT id FROM workspaces WHERE name = :n"), {"n": name}
        ).scalar_one()


# --- stored results ------------------------------------------------------------------------


def _stored(store: Store, workspace: str) -> dict[str, pa.Table]:
    """Every stored result of ``workspace``, sorted by its key, as Arrow."""
    ws = _ws_id(store, workspace)
    queries = {
        "account_metrics": (ACCOUNT_METRIC_COLUMNS, "account_id, metric"),
        "account_tiers": (TIER_COLUMNS, "account_id, scheme"),
        "post_metrics": (POST_METRIC_COLUMNS, "post_id"),
    }
    out = {}
    with store.connection() as conn:
        for table, (columns, order) in queries.items():
            rows = conn.execute(
                sa.text(
                    f"SELECT {', '.join(columns)} FROM {table} WHERE workspace_id = {ws} "
                    f"ORDER BY {order}"
                )
            ).all()
            out[table] = pa.table({c: [r[i] for r in rows] for i, c in enumerate(columns)})
    return out


def assert_same_results(a: dict[str, pa.Table], b: dict[str, pa.Table]) -> None:
    """Equal keys, texts and times; floats equal to 1e-9 relative (the engine-agreement
    tolerance of tests/test_metrics_engines.py), NULL where the other is NULL."""
    for table in a:
        left, right = a[table], b[table]
        assert left.num_rows == right.num_rows > 0, table
        for name in left.column_names:
            x, y = left[name], right[name]
            if pa.types.is_floating(x.type):
                xs = x.to_numpy(zero_copy_only=False).astype("float64")
                ys = y.to_numpy(zero_copy_only=False).astype("float64")
                ok = np.isclose(xs, ys, rtol=1e-9, atol=1e-12, equal_nan=True)
                assert ok.all(), (table, name, xs[~ok][:5], ys[~ok][:5])
            else:
                assert x.to_pylist() == y.to_pylist(), (table, name)


@pytest.mark.spark
@pytest.mark.xdist_group("spark")
def test_spark_through_the_snapshot_matches_duckdb_on_both_stores(store):
    """The staged route (snapshot → Spark → Parquet results → store) in local mode."""
    load_into(store, "acme")
    load_into(store, "other")
    compute_metrics(store, "acme", now=NOW)
    compute_metrics(store, "other", now=NOW)
    duck, other = _stored(store, "acme"), _stored(store, "other")
    spark = spark_session(shuffle_partitions=2)
    summary = compute_metrics(store, "acme", now=NOW, engine="spark", spark=spark)
    assert (summary.engine, summary.accounts, summary.posts) == ("spark", 4, 9)
    assert_same_results(duck, _stored(store, "acme"))
    assert_same_results(other, _stored(store, "other"))  # the other workspace is untouched


# --- a real standalone cluster -------------------------------------------------------------

# Runs the CLI in this fresh process, then prints the peak memory of the process (VmHWM) and
# of the JVM it started (the Spark driver), which lives on until this process exits.
DRIVER = """
import json, sys
from bench.spark_cluster import peak_rss_mb
from microfluence.cli.main import app
try:
    app(sys.argv[1:], standalone_mode=False)
finally:
    from pyspark import SparkContext
    gateway = SparkContext._gateway
    jvm = peak_rss_mb(gateway.proc.pid) if gateway is not None else None
    print("PEAK " + json.dumps({"python": peak_rss_mb(), "jvm": jvm}))
"""


@pytest.fixture(scope="module")
def spark_cluster():
    started = SparkCluster(workers=2, cores=1, memory="1g")
    started.start()
    try:
        yield started
    finally:
        started.stop()


def _score_on_cluster(url: str, workspace: str, master: str, staging: Path) -> dict:
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(ROOT / "src"), str(ROOT)]),
        "MICROFLUENCE_SPARK_CONF": json.dumps({"spark.sql.shuffle.partitions": "4"}),
        # Batches of 5,000 rows: the small workspace already takes four, so a peak that grows
        # from one size to the other comes from the posts, not from a fuller batch.
        "MICROFLUENCE_SPARK_BATCH_ROWS": "5000",
    }
    done = subprocess.run(
        [
            sys.executable,
            "-c",
            DRIVER,
            "score",
            "--workspace",
            workspace,
            "--engine",
            "spark",
            "--spark-master",
            master,
            "--spark-conf",
            "spark.executor.memory=512m",
            "--spark-conf",
            "spark.driver.memory=512m",
            "--spark-staging",
            str(staging),
            "--database-url",
            url,
        ],  # fmt: skip
        capture_output=True,
        text=True,
        env=env,
        timeout=240,
        cwd=ROOT,
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    assert f"workspace {workspace}" in " ".join(done.stdout.split()), done.stdout
    peak = next(line for line in done.stdout.splitlines() if line.startswith("PEAK "))
    return json.loads(peak.removeprefix("PEAK "))


@contextmanager
def _pg_store(pg_server, prefix: str) -> Iterator[tuple[str, Store]]:  # type: ignore[no-untyped-def]
    """A new PostgreSQL store, disposed and dropped afterwards."""
    name = f"{prefix}_{os.getpid()}"
    pg_server.create_database(name, template="template_microfluence")
    store = open_store(pg_server.url(name))
    try:
        yield pg_server.url(name), store
    finally:
        store.dispose()
        pg_server.drop_database(name)


def _count(store: Store, workspace: str, table: str) -> int:
    ws = _ws_id(store, workspace)
    with store.connection() as conn:
        query = f"SELECT count(*) FROM {table} WHERE workspace_id = {ws}"
        return conn.execute(sa.text(query)).scalar_one()


def _same_as_duckdb(store: Store, workspace: str) -> None:
    """The stored Spark results equal DuckDB's, computed now at the Spark run's "now"."""
    on_spark = _stored(store, workspace)
    ws_id = _ws_id(store, workspace)
    with store.connection() as conn:
        query = f"SELECT engine, now FROM metric_runs WHERE workspace_id = {ws_id}"
        engine, now = conn.execute(sa.text(query)).one()
    assert engine == "spark"
    compute_metrics(store, workspace, engine="duckdb", now=now)
    assert_same_results(_stored(store, workspace), on_spark)


# Not in the "spark" xdist group: its Spark runs in a cluster and a driver process of its own,
# not in the worker's SparkSession, and it is the longest test of the run; alone, the scheduler
# can run it beside the group on the other worker.
@pytest.mark.spark
@pytest.mark.slow
def test_score_on_a_standalone_cluster_matches_duckdb_with_flat_driver_memory(
    spark_cluster, pg_server, tmp_path
):
    with _pg_store(pg_server, "cluster") as (url, store):
        sizes = {"small": 20_000, "large": 200_000}
        for workspace, posts in sizes.items():
            generate_workspace(store, workspace, accounts=200, posts=posts)
        peaks = {}
        for workspace in sizes:
            peaks[workspace] = _score_on_cluster(url, workspace, spark_cluster.url, tmp_path)
        # Every number against DuckDB on the small workspace: its 20,000 posts already cross
        # four snapshot batches and several result row groups, so batch seams are covered; the
        # large one is there for the memory, and scoring it again on DuckDB took 20 s.
        _same_as_duckdb(store, "small")
        assert _count(store, "large", "post_metrics") == sizes["large"]
        assert _count(store, "large", "account_metrics") > 0
        assert list(tmp_path.iterdir()) == []  # the snapshot and results are cleaned up
    small, large = peaks["small"], peaks["large"]
    print(f"driver peak memory (MiB): {peaks}")
    # Ten times the posts: the driver's Python process holds one batch at a time, so its peak
    # stays within a few MiB (holding the posts would add well over 50 MiB at 200k posts).
    assert large["python"] - small["python"] < 30, peaks
    assert large["jvm"] < small["jvm"] * 1.5 + 50, peaks


@pytest.fixture(scope="module")
def spark_connect():
    server = SparkConnectServer(master="local[2]")
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.mark.spark
@pytest.mark.slow
@pytest.mark.xdist_group("spark")
def test_score_through_spark_connect_matches_duckdb(spark_connect, pg_server, tmp_path):
    """``--spark-master sc://…``: the CLI is a Spark Connect client; the server reads the
    snapshot and writes the results itself; the numbers are DuckDB's."""
    with _pg_store(pg_server, "connect") as (url, store):
        generate_workspace(store, "connected", accounts=60, posts=6_000)
        _score_on_cluster(url, "connected", spark_connect.url, tmp_path)
        _same_as_duckdb(store, "connected")
        assert list(tmp_path.iterdir()) == []


@pytest.mark.spark
@pytest.mark.xdist_group("spark")
def test_a_second_master_in_a_process_running_spark_is_refused():
    running = spark_session(shuffle_partitions=2)
    assert spark_session(shuffle_partitions=2, master=running.sparkContext.master) is running
    with pytest.raises(InputError) as err:
        spark_session(master="spark://127.0.0.1:1")
    assert err.value.field == "spark_master" and "spark://127.0.0.1:1" in str(err.value)
