"""Benchmark: the metrics pipeline on a local Spark standalone cluster next to DuckDB.

    python -m bench.metrics_cluster [--posts 20000000] [--accounts 200000] [--workers 2]

The data of bench.metrics_pipeline (heavy-tailed followers, hidden likes, videos without views…)
is written once as the Parquet snapshot a cluster reads (``accounts/``, ``snapshots/``,
``posts/``). Then, each in its own fresh process so its peak memory is its own:

* ``duckdb``: the inputs loaded into the process as Arrow and ``run_pipeline`` on DuckDB (what
  ``microfluence score`` does by default);
* ``cluster``: a driver that runs ``run_staged`` on a standalone master with ``--workers``
  workers of one core each, started from pyspark's distribution on 127.0.0.1: the executors read
  the snapshot and write the per-post results as Parquet; the driver then streams them back in
  batches, as ``compute_metrics`` does before writing them to the store.

Reported: wall time, posts/s, the driver's peak memory (its Python process and its JVM), the
executors' peak memory (each executor's VmHWM, sampled while it runs). The per-account results
of both are compared. The store's own reading and writing are left out (the same for both, and
measured by bench.import_posts). Figures: docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import numpy as np
import pyarrow.parquet as pq

from bench.metrics_pipeline import NOW, WINDOW_POSTS, generate
from bench.spark_cluster import SparkCluster, executor_pids, peak_rss_mb

TABLES = ("accounts", "snapshots", "posts")


def _settings():  # type: ignore[no-untyped-def]
    from microfluence.metrics.settings import MetricsSettings

    return MetricsSettings(window_posts=WINDOW_POSTS)


def child_duckdb(folder: Path) -> dict:
    from microfluence.metrics.engines import PipelineInputs, conform, run_pipeline

    started = time.perf_counter()
    data = PipelineInputs(
        **{t: conform(pq.read_table(folder / t), t) for t in TABLES}  # type: ignore[arg-type]
    )
    result = run_pipeline(data, _settings(), now=NOW)
    seconds = time.perf_counter() - started
    pq.write_table(result.accounts, folder.parent / "accounts-duckdb.parquet")
    return {"seconds": seconds, "posts": result.posts.num_rows, "driver_mb": peak_rss_mb()}


class ExecutorWatch(threading.Thread):
    """Samples the executors' VmHWM until stopped (they exit with the application)."""

    def __init__(self) -> None:
        super().__init__(daemon=True)
        self.peaks: dict[int, float] = {}
        self.done = threading.Event()

    def run(self) -> None:
        while not self.done.wait(0.5):
            for pid in executor_pids():
                peak = peak_rss_mb(pid)
                if peak is not None:
                    self.peaks[pid] = max(self.peaks.get(pid, 0.0), peak)


def child_cluster(folder: Path, master: str, executor_memory: str) -> dict:
    from microfluence.metrics.cluster import iter_result_batches
    from microfluence.metrics.engines import run_staged, spark_session

    watch = ExecutorWatch()
    watch.start()
    started = time.perf_counter()
    spark = spark_session(
        master=master,
        conf={"spark.executor.memory": executor_memory, "spark.driver.memory": "1g"},
    )
    accounts = run_staged(spark, folder, _settings(), now=NOW)
    posts = sum(batch.num_rows for batch in iter_result_batches(folder / "out_posts"))
    seconds = time.perf_counter() - started
    jvm = peak_rss_mb(spark.sparkContext._gateway.proc.pid)
    spark.stop()
    watch.done.set()
    watch.join()
    pq.write_table(accounts, folder.parent / "accounts-cluster.parquet")
    sizes = {
        name: sum(f.stat().st_size for f in (folder / name).glob("*.parquet"))
        for name in ("posts", "out_posts")
    }
    return {
        "snapshot_bytes": sizes["posts"],
        "results_bytes": sizes["out_posts"],
        "seconds": seconds,
        "posts": posts,
        "driver_mb": peak_rss_mb(),
        "driver_jvm_mb": jvm,
        "executors_mb": sorted(watch.peaks.values()),
    }


def compare(root: Path) -> str:
    duck = pq.read_table(root / "accounts-duckdb.parquet").sort_by("account_id")
    spark = pq.read_table(root / "accounts-cluster.parquet").sort_by("account_id")
    if duck.num_rows != spark.num_rows:
        return f"DIFFER: {duck.num_rows} vs {spark.num_rows} accounts"
    bad = []
    for name in duck.column_names:
        a, b = duck[name], spark[name]
        try:
            x = a.to_numpy(zero_copy_only=False).astype("float64")
            y = b.to_numpy(zero_copy_only=False).astype("float64")
        except (TypeError, ValueError):
            if a.to_pylist() != b.to_pylist():
                bad.append(name)
            continue
        if not np.isclose(x, y, rtol=1e-9, atol=1e-12, equal_nan=True).all():
            bad.append(name)
    return "every account metric agrees" if not bad else f"DIFFER in {bad}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--posts", type=int, default=20_000_000)
    parser.add_argument("--accounts", type=int, default=200_000)
    parser.add_argument("--seed", type=int, default=4)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--worker-memory", default="3g")
    parser.add_argument("--executor-memory", default="2g")
    parser.add_argument("--child", choices=["duckdb", "cluster"])
    parser.add_argument("--data", type=Path)
    parser.add_argument("--master")
    args = parser.parse_args()
    if args.child == "duckdb":
        print(json.dumps(child_duckdb(args.data)))
        return
    if args.child == "cluster":
        print(json.dumps(child_cluster(args.data, args.master, args.executor_memory)))
        return
    with tempfile.TemporaryDirectory(prefix="bench-cluster-") as tmp:
        root = Path(tmp)
        folder = root / "snapshot"
        folder.mkdir()
        started = time.perf_counter()
        generate(args.posts, args.accounts, args.seed, root)
        for table in TABLES:
            (folder / table).mkdir()
            (root / f"{table}.parquet").rename(folder / table / "part-00000.parquet")
        print(
            f"generated {args.posts:,} posts over {args.accounts:,} accounts "
            f"in {time.perf_counter() - started:.1f}s",
            flush=True,
        )
        cluster = SparkCluster(workers=args.workers, cores=1, memory=args.worker_memory)
        cluster.start()
        results = {}
        try:
            for name in ("duckdb", "cluster"):
                cmd = [sys.executable, "-m", "bench.metrics_cluster", "--child", name]
                cmd += ["--data", str(folder), "--master", cluster.url]
                cmd += ["--executor-memory", args.executor_memory]
                out = subprocess.run(
                    cmd, capture_output=True, text=True, env=os.environ, check=False
                )
                if out.returncode:
                    print(out.stdout[-2000:], out.stderr[-4000:])
                    raise SystemExit(f"{name} failed")
                results[name] = json.loads(out.stdout.strip().splitlines()[-1])
        finally:
            cluster.stop()
        for name, r in results.items():
            extra = ""
            if name == "cluster":
                executors = ", ".join(f"{mb:.0f}" for mb in r["executors_mb"])
                extra = (
                    f", driver JVM {r['driver_jvm_mb']:.0f} MiB, executors {executors} MiB; "
                    f"staging: posts {r['snapshot_bytes'] / r['posts']:.0f} B/post, "
                    f"results {r['results_bytes'] / r['posts']:.0f} B/post"
                )
            print(
                f"{name:>8}: {r['seconds']:.1f} s, {r['posts'] / r['seconds']:,.0f} posts/s, "
                f"driver {r['driver_mb']:.0f} MiB{extra}"
            )
        print(compare(root))


if __name__ == "__main__":
    main()
