"""Benchmark: import posts from JSON Lines (issue 2).

    .venv/bin/python -m bench.import_posts [--posts 1000000] [--accounts 5000] [--no-postgres]

Generates ``--posts`` scraper-style posts as JSON Lines (vectorised: Polars ``write_ndjson``)
and then, each in a fresh child process so that peak memory (VmHWM) is its own, on SQLite and on
PostgreSQL (a server started on 127.0.0.1 as the tests do):

* ``import``: ``import_posts`` of the whole file into a fresh store — reading, parsing every
  field, hashtags and mentions from captions, accounts created, upserts, one transaction;
* ``import ¼``: the same on the file's first quarter — peak memory must not grow with the file;
* ``bare insert``: the same rows, already parsed and in memory, inserted into the same posts
  table with nothing else — ``sqlite3`` ``executemany`` of a plain ``INSERT``, or PostgreSQL
  ``COPY`` — in one transaction: the floor an importer cannot beat.

Prints posts/s, CPU seconds (of the benchmark process; PostgreSQL's server work is not in it)
and peak RSS of each, and the import / bare-insert ratio (aim: within 2x).
"""

from __future__ import annotations

import argparse
import io
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import polars as pl

ROOT = Path(__file__).resolve().parent.parent


def generate(path: Path, posts: int, accounts: int, seed: int = 2) -> None:
    rng = np.random.default_rng(seed)
    account = rng.integers(0, accounts, posts)
    tags = np.array(["ootd", "travel", "fitness", "food", "café", "beauty", "ad", "fyp"])
    frame = pl.DataFrame(
        {
            "ownerUsername": pl.Series(account).cast(pl.String).str.pad_start(5, "0"),
            "shortcode": pl.Series(np.arange(posts)).cast(pl.String),
            "timestamp": pl.Series((1_600_000_000 + rng.integers(0, 10**8, posts)) * 1000)
            .cast(pl.Datetime("ms"))
            .dt.strftime("%Y-%m-%dT%H:%M:%SZ"),
            "t1": tags[rng.integers(0, len(tags), posts)],
            "t2": tags[rng.integers(0, len(tags), posts)],
            "brand": rng.integers(0, 200, posts),
            "likesCount": rng.zipf(1.8, posts).clip(0, 10**9),
            "commentsCount": rng.integers(0, 500, posts),
            "videoViewCount": rng.integers(0, 10**6, posts),
            "type": np.array(["Image", "Sidecar", "Video"])[rng.integers(0, 3, posts)],
        }
    ).with_columns(
        pl.format(
            "Day {} with @brand{} #{} #{} — link in bio", "shortcode", "brand", "t1", "t2"
        ).alias("caption"),
        ("u" + pl.col("ownerUsername")).alias("ownerUsername"),
        pl.when(pl.col("type") == "Video").then(pl.col("videoViewCount")).alias("videoViewCount"),
    )
    frame.drop("t1", "t2", "brand").write_ndjson(path)


def _peak_mib() -> float:
    """Peak RSS of this process (VmHWM: ru_maxrss would carry over a parent's peak)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def _cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def _fresh_store(url: str):  # type: ignore[no-untyped-def]
    from microfluence.kernel.store import open_store

    return open_store(url)


def child_import(path: str, url: str, limit: int) -> dict:
    from microfluence.ingest.tables.posts import import_posts

    source = Path(path)
    if limit:
        source = source.with_name(f"head-{limit}.jsonl")
        with open(path, "rb") as full, open(source, "wb") as part:
            for _ in range(limit):
                part.write(full.readline())
    store = _fresh_store(url)
    started, cpu = time.perf_counter(), _cpu_seconds()
    report = import_posts(store, "bench", source, platform="instagram")
    seconds, cpu = time.perf_counter() - started, _cpu_seconds() - cpu
    store.dispose()
    return {
        "rows": report.created.get("posts", 0),
        "seconds": seconds,
        "cpu": cpu,
        "peak_mib": _peak_mib(),
    }


def _prepared_rows(path: str, url: str) -> tuple[pl.DataFrame, object]:
    """The rows as the importer stores them, built outside the timed part."""
    from microfluence.ingest.tables.posts import import_posts
    from microfluence.kernel.store.tables import Post

    store = _fresh_store(url)
    # One tiny import creates the accounts so that the bare insert has account ids to use.
    frame = pl.read_ndjson(path)
    accounts = frame.select("ownerUsername").unique()
    seed = Path(path).with_name("accounts.csv")
    accounts.with_columns(pl.lit("-").alias("post_id")).rename(
        {"ownerUsername": "handle"}
    ).with_columns(pl.col("post_id") + pl.col("handle")).write_csv(seed)
    import_posts(store, "bench", seed, platform="instagram")
    with store.connection() as conn:
        ids = pl.DataFrame(
            conn.exec_driver_sql("SELECT handle, id, workspace_id FROM accounts").all(),
            schema={"handle": pl.String, "account_id": pl.Int64, "workspace_id": pl.Int64},
            orient="row",
        )
        conn.exec_driver_sql("DELETE FROM posts")
    rows = frame.join(
        ids, left_on="ownerUsername", right_on="handle", how="left", maintain_order="left"
    ).select(
        "workspace_id",
        "account_id",
        pl.col("shortcode").alias("platform_post_id"),
        pl.col("shortcode"),
        pl.col("type").str.to_lowercase().replace({"sidecar": "carousel"}).alias("post_type"),
        pl.col("timestamp").str.to_datetime("%Y-%m-%dT%H:%M:%SZ").alias("posted_at"),
        "caption",
        pl.col("caption").str.extract_all(r"#\w+").alias("hashtags"),
        pl.col("caption").str.extract_all(r"@\w+").alias("mentions"),
        pl.col("likesCount").alias("likes"),
        pl.col("commentsCount").alias("comments"),
        pl.col("videoViewCount").alias("views"),
        pl.lit(str(path)).alias("source"),
    )
    rows = rows.with_columns(
        pl.struct("hashtags").struct.json_encode().str.slice(12).str.strip_suffix("}"),
        pl.struct("mentions").struct.json_encode().str.slice(12).str.strip_suffix("}"),
    )
    assert set(rows.columns) <= set(Post.__table__.columns.keys())
    return rows, store


def child_bare(path: str, url: str) -> dict:
    from microfluence.ingest.write.bulk import SQLITE_CACHE_KIB

    rows, store = _prepared_rows(path, url)
    cols = ", ".join(rows.columns)
    engine = store.engine  # type: ignore[attr-defined]
    started, cpu = time.perf_counter(), _cpu_seconds()
    with engine.begin() as conn:  # timed through the commit, as the import is
        raw = conn.connection.driver_connection
        if engine.dialect.name == "sqlite":
            marks = ", ".join("?" for _ in rows.columns)
            rows = rows.with_columns(pl.col("posted_at").dt.strftime("%Y-%m-%d %H:%M:%S%.6f"))
            cursor = raw.cursor()
            cursor.execute(f"PRAGMA cache_size=-{SQLITE_CACHE_KIB}")  # as the importer has
            cursor.executemany(f"INSERT INTO posts ({cols}) VALUES ({marks})", rows.iter_rows())
            cursor.close()
        else:
            buffer = io.BytesIO()
            rows.write_csv(buffer, include_header=False, null_value="\\N")
            with raw.cursor() as cursor:
                with cursor.copy(f"COPY posts ({cols}) FROM STDIN (FORMAT csv, NULL '\\N')") as cp:
                    cp.write(buffer.getbuffer())
    seconds, cpu = time.perf_counter() - started, _cpu_seconds() - cpu
    store.dispose()  # type: ignore[attr-defined]
    return {"rows": rows.height, "seconds": seconds, "cpu": cpu, "peak_mib": _peak_mib()}


def run_child(kind: str, path: Path, url: str, limit: int = 0) -> dict:
    out = subprocess.run(
        [sys.executable, "-m", "bench.import_posts", "--child", kind, str(path), url, str(limit)],
        cwd=ROOT,
        check=True,
        capture_output=True,
        text=True,
        # A million posts in one import: past the server's default cap (docs/importing.md).
        env={**os.environ, "MICROFLUENCE_MAX_IMPORT_ROWS": "100000000"},
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def _sqlite_url(work: Path, name: str) -> str:
    return f"sqlite:///{work / name}.sqlite"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--posts", type=int, default=1_000_000)
    parser.add_argument("--accounts", type=int, default=5_000)
    parser.add_argument("--no-postgres", action="store_true")
    parser.add_argument(
        "--repeat", type=int, default=1, help="runs of each measurement; the fastest is shown"
    )
    parser.add_argument("--child", nargs=4, metavar=("KIND", "PATH", "URL", "LIMIT"))
    args = parser.parse_args()
    if args.child:
        kind, path, url, limit = args.child
        result = child_bare(path, url) if kind == "bare" else child_import(path, url, int(limit))
        print(json.dumps(result))
        return 0

    with tempfile.TemporaryDirectory(prefix="bench-import-posts-") as tmp:
        work = Path(tmp)
        source = work / "posts.jsonl"
        started = time.perf_counter()
        generate(source, args.posts, args.accounts)
        size_mib = source.stat().st_size / 2**20
        print(
            f"generated {args.posts:,} posts ({size_mib:,.0f} MiB JSON Lines, "
            f"{args.accounts:,} accounts) in {time.perf_counter() - started:.1f} s"
        )
        stores: list[tuple[str, object]] = [("sqlite", None)]
        server = None
        if not args.no_postgres:
            sys.path.insert(0, str(ROOT / "tests"))
            from pg_server import PostgresServer  # type: ignore[import-not-found]

            server = PostgresServer()
            server.start()
            stores.append(("postgresql", server))
        try:
            for kind, srv in stores:
                results = {}
                for label, mode, limit in [
                    ("import", "import", 0),
                    ("import ¼", "import", args.posts // 4),
                    ("bare insert", "bare", 0),
                ]:
                    name = f"{kind}_{mode}_{limit}"
                    if srv is None:
                        url = _sqlite_url(work, name)
                    else:
                        url = _new_pg_database(srv, name)
                    runs = []
                    for attempt in range(args.repeat):
                        fresh = url if attempt == 0 else _fresh_url(srv, work, f"{name}_{attempt}")
                        runs.append(run_child(mode, source, fresh, limit))
                    results[label] = min(runs, key=lambda r: r["seconds"])
                print(f"\n{kind}:")
                print(
                    f"  {'run':<12} {'posts':>10} {'seconds':>8} {'posts/s':>10} "
                    f"{'CPU s':>7} {'peak MiB':>9}"
                )
                for label, r in results.items():
                    rate = r["rows"] / r["seconds"] if r["seconds"] else float("nan")
                    print(
                        f"  {label:<12} {r['rows']:>10,} {r['seconds']:>8.1f} {rate:>10,.0f} "
                        f"{r.get('cpu', float('nan')):>7.1f} {r['peak_mib']:>9.0f}"
                    )
                ratio = results["import"]["seconds"] / results["bare insert"]["seconds"]
                print(f"  import / bare insert: {ratio:.2f}x wall-clock", end="")
                if kind == "sqlite":
                    cpu_ratio = results["import"]["cpu"] / results["bare insert"]["cpu"]
                    print(f", {cpu_ratio:.2f}x CPU", end="")
                print(f" (load average {os.getloadavg()[0]:.1f})")
        finally:
            if server is not None:
                server.stop()
    return 0


def _fresh_url(server, work: Path, name: str) -> str:  # type: ignore[no-untyped-def]
    return _sqlite_url(work, name) if server is None else _new_pg_database(server, name)


def _new_pg_database(server, name: str) -> str:  # type: ignore[no-untyped-def]
    import sqlalchemy as sa

    from microfluence.kernel.store.engine import make_engine

    engine = make_engine(server.url())
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    engine.dispose()
    return server.url(name)


if __name__ == "__main__":
    raise SystemExit(main())
