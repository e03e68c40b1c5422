"""Benchmark: the whole metrics pipeline on DuckDB vs plain pandas vs one hand-written query.

    python -m bench.metrics_pipeline [--posts 10000000] [--accounts 100000] [--repeat 3]

The posts and snapshots are generated with NumPy (heavy-tailed followers, engagement rate
falling with audience size, hidden likes, videos without views, sponsored flags), written to
Parquet once, then each contender runs in its own fresh process (so peak memory is its own):

* ``pipeline``: ``run_pipeline`` on DuckDB — every post and account metric of issue 4;
* ``pandas``: the same metrics written plainly with pandas/NumPy (the baseline);
* ``single_query``: one hand-written DuckDB query for the headline engagement rate alone
  (median and mean ER by followers at the time of the post over the last 30 posts, the follower
  count taken by an ASOF join).

Each child reports wall time and CPU seconds (data already loaded) and peak RSS; rounds
interleave the contenders and each keeps its fastest round. The parent checks that pandas and
the pipeline agree, then prints posts/s and the ratios. Figures: docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

DAY = 86_400
SPAN_DAYS = 180
NOW = 1_790_000_000  # a fixed "now" (2026-09-21 UTC) so runs are comparable
WINDOW_POSTS = 30


# --- data ----------------------------------------------------------------------------------


def generate(posts: int, accounts: int, seed: int, out: Path) -> None:
    """Write accounts, snapshots and posts as Parquet; all vectorised NumPy."""
    rng = np.random.default_rng(seed)
    ids = np.arange(1, accounts + 1, dtype=np.int64)
    platform = rng.choice(["instagram", "tiktok", "youtube"], accounts, p=[0.55, 0.3, 0.15])
    # followers: log-normal body with a Pareto tail (most nano/micro, a few mega)
    base = np.exp(rng.normal(8.8, 1.5, accounts))
    tail = rng.random(accounts) < 0.03
    base[tail] *= 1 + rng.pareto(1.1, tail.sum()) * 20
    base = np.clip(base, 20, 4e8)
    growth = rng.normal(0.0008, 0.0015, accounts)  # per day
    pq.write_table(pa.table({"account_id": ids, "platform": platform}), out / "accounts.parquet")

    # a snapshot every 15 days (some missing)
    per = SPAN_DAYS // 15 + 1
    s_acc = np.repeat(ids, per)
    s_day = np.tile(np.arange(per) * 15, accounts).astype(np.int64)
    keep = rng.random(s_acc.size) > 0.1
    s_acc, s_day = s_acc[keep], s_day[keep]
    age = SPAN_DAYS - s_day
    followers = np.round(base[s_acc - 1] * np.exp(-growth[s_acc - 1] * age)).astype(np.int64)
    t_snap = NOW - age * DAY
    pq.write_table(
        pa.table({"account_id": s_acc, "t": t_snap, "followers": followers}),
        out / "snapshots.parquet",
    )

    # posts: heavy-tailed activity per account
    weights = rng.lognormal(0, 1.0, accounts)
    counts = rng.multinomial(posts, weights / weights.sum())
    p_acc = np.repeat(ids, counts)
    n = p_acc.size
    age_s = rng.integers(0, SPAN_DAYS * DAY, n)
    t = NOW - age_s
    f_at = base[p_acc - 1] * np.exp(-growth[p_acc - 1] * age_s / DAY)
    er = np.clip(0.09 * (f_at / 1000) ** -0.22, 0.002, 0.4) * rng.lognormal(0, 0.45, n)
    inter = f_at * er
    likes = np.round(inter * 0.94).astype(np.int64)
    comments = np.round(inter * 0.04 + rng.random(n)).astype(np.int64)
    plat = platform[p_acc - 1]
    video = (plat != "instagram") | (rng.random(n) < 0.4)
    kinds = np.where(video, np.where(plat == "youtube", "video", "reel"), "image")
    views = np.round(f_at * rng.lognormal(-0.3, 0.8, n)).astype(np.int64)
    shares = np.round(inter * 0.015).astype(np.int64)
    reach = np.round(f_at * rng.uniform(0.1, 0.6, n)).astype(np.int64)
    u = rng.random(n)
    pq.write_table(
        pa.table(
            {
                "post_id": np.arange(1, n + 1, dtype=np.int64),
                "account_id": p_acc,
                "t": t,
                "post_type": pa.array(kinds).dictionary_encode(),
                "likes": pa.array(likes, mask=rng.random(n) < 0.03),  # hidden likes
                "comments": comments,
                "shares": pa.array(shares, mask=plat == "instagram"),
                "saves": pa.array(np.zeros(n, dtype=np.int64), mask=np.ones(n, dtype=bool)),
                "views": pa.array(views, mask=~video | (rng.random(n) < 0.05)),
                "reach": pa.array(reach, mask=rng.random(n) > 0.1),
                "is_sponsored": pa.array(u < 0.1, mask=u > 0.7),
            }
        ),
        out / "posts.parquet",
        row_group_size=1_000_000,
    )


# --- contenders ----------------------------------------------------------------------------


def run_pipeline_contender(data):  # type: ignore[no-untyped-def]
    from microfluence.metrics.engines import run_pipeline
    from microfluence.metrics.settings import MetricsSettings

    result = run_pipeline(data, MetricsSettings(window_posts=WINDOW_POSTS), now=NOW)
    return result.accounts, result.posts.num_rows


SINGLE_QUERY = f"""
WITH ranked AS (
    SELECT account_id, t, likes, comments, shares, saves,
           row_number() OVER (PARTITION BY account_id ORDER BY t DESC, post_id DESC) AS rn
    FROM posts WHERE t IS NOT NULL AND t <= {NOW}
), windowed AS (
    SELECT * FROM ranked WHERE rn <= {WINDOW_POSTS}
), rated AS (
    SELECT w.account_id,
           (w.likes + w.comments + coalesce(w.shares, 0) + coalesce(w.saves, 0))
             / CASE WHEN s.followers > 0 THEN s.followers END AS er
    FROM windowed w
    ASOF LEFT JOIN (SELECT * FROM snapshots WHERE followers IS NOT NULL AND t <= {NOW}) s
      ON w.account_id = s.account_id AND w.t >= s.t
)
SELECT account_id, median(er) AS er_median, avg(er) AS er_mean, count(er) AS n_er
FROM rated GROUP BY account_id ORDER BY account_id
"""


def single_query_contender(data):  # type: ignore[no-untyped-def]
    import duckdb

    con = duckdb.connect()
    con.register("posts", data.posts)
    con.register("snapshots", data.snapshots)
    table = con.execute(SINGLE_QUERY).to_arrow_table()
    return table, data.posts.num_rows


def pandas_contender(data):  # type: ignore[no-untyped-def]
    from bench.metrics_pandas import pandas_metrics

    accounts = pandas_metrics(data, now=NOW, window_posts=WINDOW_POSTS)
    return pa.Table.from_pandas(accounts, preserve_index=False), data.posts.num_rows


CONTENDERS = {
    "pipeline": run_pipeline_contender,
    "pandas": pandas_contender,
    "single_query": single_query_contender,
}


def _rss_mb() -> float:
    with open("/proc/self/statm") as fh:
        return int(fh.read().split()[1]) * resource.getpagesize() / 2**20


def _cpu() -> float:
    """CPU seconds of this process, every thread (DuckDB's too): steadier than wall time."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def child(name: str, folder: Path) -> None:
    from microfluence.metrics.engines import PipelineInputs, conform

    data = PipelineInputs(
        **{
            t: conform(pq.read_table(folder / f"{t}.parquet"), t)
            for t in ("accounts", "snapshots", "posts")
        }
    )
    loaded = _rss_mb()
    cpu0 = _cpu()
    started = time.perf_counter()
    table, n_posts = CONTENDERS[name](data)
    seconds = time.perf_counter() - started
    cpu = _cpu() - cpu0
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    pq.write_table(table, folder / f"result-{name}.parquet")
    print(
        json.dumps(
            {
                "name": name,
                "seconds": seconds,
                "cpu": cpu,
                "posts": n_posts,
                "loaded_mb": loaded,
                "peak_mb": peak,
            }
        )
    )


def _compare(folder: Path) -> list[str]:
    """Pipeline vs pandas vs single query on the columns they share."""
    pipe = pq.read_table(folder / "result-pipeline.parquet").to_pandas().set_index("account_id")
    notes = []
    # (the single query takes the latest snapshot at or before a post, not the nearest one, so
    # its numbers differ by design: it is a speed reference only)
    for other in ("pandas",):
        path = folder / f"result-{other}.parquet"
        if not path.exists():
            continue
        theirs = pq.read_table(path).to_pandas().set_index("account_id")
        shared = [c for c in theirs.columns if c in pipe.columns]
        worst = 0.0
        mismatched = []
        for column in shared:
            if not pd.api.types.is_numeric_dtype(theirs[column]):
                left = (
                    pipe[column]
                    .reindex(theirs.index)
                    .astype(object)
                    .where(pipe[column].reindex(theirs.index).notna(), None)
                )
                right = theirs[column].astype(object).where(theirs[column].notna(), None)
                differ = int((left != right).sum())
                if differ:
                    mismatched.append(f"{column}: {differ} labels differ")
                continue
            a = pipe[column].reindex(theirs.index).astype("float64").to_numpy()
            b = theirs[column].astype("float64").to_numpy()
            both = ~np.isnan(a) & ~np.isnan(b)
            nan_differs = int((np.isnan(a) != np.isnan(b)).sum())
            rel = np.abs(a[both] - b[both]) / np.maximum(np.abs(b[both]), 1e-12)
            bad = int((rel > 1e-6).sum())
            worst = max(worst, float(rel.max()) if rel.size else 0.0)
            if bad or nan_differs:
                mismatched.append(f"{column}: {bad} values, {nan_differs} NULLs differ")
        notes.append(
            f"pipeline vs {other}: {len(shared)} shared columns, "
            + ("all agree" if not mismatched else "; ".join(mismatched[:6]))
        )
    return notes


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--posts", type=int, default=10_000_000)
    parser.add_argument("--accounts", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=4)
    parser.add_argument("--repeat", type=int, default=3, help="rounds; each keeps its fastest")
    parser.add_argument("--only", nargs="*", choices=list(CONTENDERS), default=list(CONTENDERS))
    parser.add_argument("--child", choices=list(CONTENDERS))
    parser.add_argument("--data", type=Path)
    args = parser.parse_args()
    if args.child:
        child(args.child, args.data)
        return
    with tempfile.TemporaryDirectory(prefix="bench-metrics-") as tmp:
        folder = Path(tmp)
        started = time.perf_counter()
        generate(args.posts, args.accounts, args.seed, folder)
        print(
            f"generated {args.posts:,} posts over {args.accounts:,} accounts "
            f"in {time.perf_counter() - started:.1f}s"
        )
        results: dict[str, dict] = {}
        loads = []
        # Rounds interleave the contenders, so a burst of load on the shared machine hits all of
        # them alike; each contender keeps its fastest round (wall time), CPU from that round.
        for _round in range(args.repeat):
            for name in args.only:
                out = subprocess.run(
                    [
                        sys.executable,
                        "-m",
                        "bench.metrics_pipeline",
                        "--child",
                        name,
                        "--data",
                        tmp,
                    ],
                    capture_output=True,
                    text=True,
                    check=False,
                )
                loads.append(os.getloadavg()[0])
                if out.returncode:
                    print(f"{name} failed:\n{out.stderr[-3000:]}")
                    continue
                line = [x for x in out.stdout.splitlines() if x.startswith("{")][-1]
                run = json.loads(line)
                if name not in results or run["seconds"] < results[name]["seconds"]:
                    results[name] = run
        header = f"{'contender':<14}{'seconds':>9}{'CPU s':>8}{'posts/s':>13}{'posts/CPU-s':>13}"
        print(f"\n{header}{'peak RSS MB':>13}{'+ over data':>13}")
        for name, r in results.items():
            print(
                f"{name:<14}{r['seconds']:>9.2f}{r['cpu']:>8.1f}"
                f"{r['posts'] / r['seconds']:>13,.0f}{r['posts'] / r['cpu']:>13,.0f}"
                f"{r['peak_mb']:>13,.0f}{r['peak_mb'] - r['loaded_mb']:>13,.0f}"
            )
        print(
            f"best of {args.repeat} round(s); 1-min load average after each contender "
            f"{min(loads):.1f}–{max(loads):.1f} on {os.cpu_count()} cores"
        )
        if "pipeline" in results:
            p, pc = results["pipeline"]["seconds"], results["pipeline"]["cpu"]
            if "single_query" in results:
                q = results["single_query"]
                print(
                    f"pipeline / single query: {p / q['seconds']:.2f}x wall, "
                    f"{pc / q['cpu']:.2f}x CPU"
                )
            if "pandas" in results:
                b = results["pandas"]
                print(f"pandas / pipeline: {b['seconds'] / p:.2f}x wall, {b['cpu'] / pc:.2f}x CPU")
            for note in _compare(folder):
                print(note)


if __name__ == "__main__":
    main()
