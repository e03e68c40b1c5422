"""Benchmark: search over many accounts (issue 14, part B: filters, keyword + filters).

    .venv/bin/python -m bench.search [--accounts 100000] [--days 7] [--queries 100]
                                     [--database-url postgresql://… | --pg-data DIR
                                      [--shared-buffers SIZE] [--prewarm]]
                                     [--keep DIR | --reuse DIR] [--no-freeze]

Builds a store (a SQLite file unless ``--database-url``) with ``--accounts`` accounts of the demo
generator (``demo.population``: handles, names, bios, countries, e-mails) and their posts of
``--days`` days with captions and hashtags; each account its own creator, its engagement rate
(``er_median``) and percentile stored as `microfluence score` would, its generated category as
its niche (a model row at 0.8) and its tier under the default scheme (``add_labels``: a store
loaded before those were part of the bench gets them on its next run). The keyword index's change
stamps (``account_text_changes``, revision 0031) are off during the load unless
``--keep-index``: a store loaded whole needs none, the in-process index is built whole on first
use. The search rows' triggers (``account_search``) are on in every case.

Timed, ``--queries`` each, with p50/p95/p99: ``discovery.search.search`` (one page of 20, with
the explanations) for filters only (platform, country, a follower range, a minimum ER), for
a keyword from the generator's hashtags plus a country and a follower range (the filters pass
few accounts: only theirs are scored), for a keyword with a country alone (the filters pass
more than ``keyword_plan.CANDIDATE_CAP``: every match is scored, then masked), and for a
keyword among a niche's commonest hashtags with that niche and a tier. Before them, the
in-process keyword index (discovery.term_index) is built once and timed, with its memory, and
the search columns (discovery.columns) are read; then
the heap is frozen (kernel.heap.settle) as the app does once it has built its indexes ahead,
unless ``--no-freeze``.

Baseline in the same run: a brute-force scan with Polars over every row held in memory (the
accounts frame; for keywords, each account's text — handle, name, bio, captions, hashtags —
joined once, before timing), the same filters, ``str.contains`` for the word, sorted, top 20.

A million accounts take a long load: ``--keep DIR`` leaves the generated frames (Parquet) and the
SQLite file in ``DIR``, and ``--reuse DIR`` times them again (with the same ``--database-url``
for PostgreSQL) without generating or loading anything.

PostgreSQL: ``--pg-data DIR`` starts a server (tests/pg_server.py) on the data directory
``DIR``, kept between runs: a new one is initialised and loaded (from ``--reuse``'s frames when
given), one already there is timed as it is; the server stops at the end of the run. The load
is ``COPY`` (psycopg) instead of inserts — a million accounts in minutes, not an hour — with
the same triggers firing, so the search rows are what an import writes
(tests/test_bench_search.py compares the two loads row by row), then ``VACUUM (ANALYZE)``,
what autovacuum does to a freshly loaded table. ``--shared-buffers 2GB`` starts it with more
shared buffers than PostgreSQL's 128 MB (the search rows of a million accounts and their
indexes take 1.6 GB), and ``--prewarm`` reads those into them before the timing
(``pg_prewarm``), as a server that has been answering searches holds them.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import polars as pl
from sqlalchemy import JSON, insert, text

from microfluence.demo.population import PopulationSpec, generate_population
from microfluence.discovery import columns, term_index
from microfluence.discovery.query import SearchQuery
from microfluence.discovery.search import search
from microfluence.discovery.tables import AccountNiche
from microfluence.kernel import heap
from microfluence.kernel.store import open_store
from microfluence.kernel.store.tables import Account, Creator, Post, utcnow
from microfluence.kernel.workspaces import ensure_workspace, get_workspace
from microfluence.metrics.tables import AccountMetric, AccountTier, MetricRun
from microfluence.metrics.tiers import PRESETS

ROOT = Path(__file__).resolve().parent.parent
CHUNK = 20_000
# The keyword index's change stamps (revision 0031): not needed for a store loaded in one go
# (the index is built whole on first use), so dropped for the load.
TEXT_TRIGGERS = {
    "accounts_text_ins": "accounts",
    "accounts_text_upd": "accounts",
    "accounts_text_del": "accounts",
    "posts_text_ins": "posts",
    "posts_text_upd": "posts",
    "posts_text_del": "posts",
}


def _population(n: int, days: int) -> tuple[pl.DataFrame, list[pl.DataFrame]]:
    spec = PopulationSpec(
        n_creators=max(1, int(n / 1.3)), days=days, sample_share=0.0, inauthentic_share=0.0
    )
    while True:
        population = generate_population(spec)
        if population.n_accounts >= n:
            break
        spec = PopulationSpec(
            n_creators=int(spec.n_creators * 1.2) + 1,
            days=days,
            sample_share=0.0,
            inauthentic_share=0.0,
        )
    accounts = population.accounts.head(n)
    posts = []
    for lo, _hi, block in population.blocks():
        if lo >= n:
            break
        posts.append(block.posts.filter(pl.col("account_key") < n))
    return accounts, posts


def _insert(conn, table, frame: pl.DataFrame) -> None:  # type: ignore[no-untyped-def]
    for start in range(0, frame.height, CHUNK):
        conn.execute(insert(table), frame.slice(start, CHUNK).to_dicts())


COPY_CHUNK = 200_000  # rows per COPY: each fires the statement triggers once, over its rows


def _csv_ready(table, frame: pl.DataFrame) -> pl.DataFrame:  # type: ignore[no-untyped-def]
    """``frame`` as COPY's CSV reads it as the SQLAlchemy insert writes it: JSON columns as
    SQLAlchemy's JSON type serialises them (``json.dumps``; a missing list is JSON ``null``),
    the columns an insert fills from their Python defaults (``created_at``…) filled the same."""
    out = frame
    for column in table.columns:
        name = column.name
        if name in out.columns and isinstance(column.type, JSON):
            values = [json.dumps(v) for v in out[name].to_list()]
            out = out.with_columns(pl.Series(name, values, dtype=pl.String))
        elif name not in out.columns and column.default is not None and column.default.is_callable:
            out = out.with_columns(pl.lit(column.default.arg(None)).alias(name))
    return out


def _copy(conn, table, frame: pl.DataFrame) -> None:  # type: ignore[no-untyped-def]
    """PostgreSQL's ``COPY … FROM STDIN`` of ``frame`` (psycopg), in ``COPY_CHUNK`` rows: the
    rows an insert writes, at a fraction of its cost (1,000,000 accounts in minutes, not an
    hour). The triggers fire as on an insert (statement triggers over the rows copied), so the
    search rows are what an import writes. Empty strings are quoted (``FORCE_QUOTE``-like) so
    COPY tells them from NULL, which is the unquoted empty field."""
    ready = _csv_ready(table, frame)
    columns = ", ".join(f'"{c}"' for c in ready.columns)
    raw = conn.connection.driver_connection
    with raw.cursor() as cursor:
        for part in ready.iter_slices(COPY_CHUNK):
            body = part.write_csv(include_header=False, quote_style="non_numeric", null_value="")
            with cursor.copy(f"COPY {table.name} ({columns}) FROM STDIN (FORMAT csv)") as copy:
                copy.write(body)


def _drop_keyword_upkeep(conn, *, sqlite: bool, keep_index: bool) -> None:  # type: ignore[no-untyped-def]
    """The keyword index's change stamps off for the load (unless ``keep_index``)."""
    if keep_index:
        return
    for name, table in TEXT_TRIGGERS.items():
        conn.execute(text(f"DROP TRIGGER {name}" if sqlite else f"DROP TRIGGER {name} ON {table}"))


def load(
    url: str,
    accounts: pl.DataFrame,
    posts: list[pl.DataFrame],
    *,
    keep_index: bool = False,
    copy: bool = True,
) -> tuple[int, float]:
    """Write everything; returns (workspace id, load seconds).
    ``keep_index``: the keyword index's change stamps are written during the load, row by row
    on SQLite, as an import writes them. The search rows' triggers (``account_search``) are on
    in every case: that is what an import pays. ``copy``: on PostgreSQL, ``COPY`` (``_copy``)
    instead of inserts (tests/test_bench_search.py checks they write the same rows)."""
    store = open_store(url)
    sqlite = store.dialect == "sqlite"
    write = _copy if copy and not sqlite else _insert
    with store.transaction() as session:
        ws = ensure_workspace(session, "bench").id
    started = time.perf_counter()
    with store.connection() as conn:
        _drop_keyword_upkeep(conn, sqlite=sqlite, keep_index=keep_index)
        n = accounts.height
        ids = pl.Series("id", np.arange(1, n + 1))
        write(
            conn,
            Creator.__table__,
            pl.DataFrame({"id": ids, "workspace_id": ws, "name": accounts["creator_name"]}),
        )
        columns = ["platform", "handle", "display_name", "bio", "country", "language", "email"]
        write(
            conn,
            Account.__table__,
            accounts.select(columns).with_columns(
                ids,
                ids.alias("creator_id"),
                pl.lit(ws).alias("workspace_id"),
                accounts["followers_end"].cast(pl.Int64).alias("followers"),
                # handles repeat across platforms in the generator: make them unique per row
                (accounts["handle"] + "_" + ids.cast(pl.String)).alias("handle"),
            ),
        )
        for block in posts:
            frame = block.select(
                (pl.col("account_key") + 1).alias("account_id"),
                pl.lit(ws).alias("workspace_id"),
                pl.col("platform_post_id"),
                pl.col("posted_at"),
                pl.col("caption"),
                pl.col("hashtags"),
                pl.col("likes"),
                pl.col("comments"),
            )
            write(conn, Post.__table__, frame)
        run = conn.execute(
            insert(MetricRun).values(workspace_id=ws, engine="bench", now=utcnow())
        ).inserted_primary_key[0]
        er = accounts["engagement_rate"].fill_null(0.0)
        pct = er.rank("average") / er.len() * 100
        for metric, values in (("er_median", er), ("cohort_percentile", pct)):
            write(
                conn,
                AccountMetric.__table__,
                pl.DataFrame(
                    {
                        "account_id": ids,
                        "value": values,
                        "metric": metric,
                        "workspace_id": ws,
                        "run_id": run,
                    }
                ),
            )
    loaded = time.perf_counter() - started
    if not sqlite:  # what autovacuum does to a freshly loaded table, before the timing: the
        # visibility map lets the search rows' covering indexes answer without the table
        # (Index Only Scan), and the hint bits are set once, not by the first searches
        with store.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(text("VACUUM (ANALYZE)"))
    store.dispose()
    return ws, loaded


# the generator's categories as the taxonomy's niches (discovery.taxonomy)
NICHE_OF = {
    "Beauty": "beauty",
    "Fashion": "fashion",
    "Wellness": "health_wellness",
    "Home & Garden": "home_interior",
    "Fitness": "fitness",
    "Pets": "pets",
    "Parenting": "family_parenting",
    "Food & Drink": "food_drink",
    "Travel": "travel",
    "Gaming": "gaming",
    "Tech": "tech",
}
TIER_SCHEME = "mediakix"


def labels(accounts: pl.DataFrame) -> pl.DataFrame:
    """Each account's niche (its generated category, as the model's row at 0.8) and its tier
    under the default scheme (by its followers), by row: what the brute-force scan filters on
    and what ``add_labels`` stores."""
    tiers = PRESETS[TIER_SCHEME].classify(accounts["followers_end"].cast(pl.Float64).to_numpy())
    return pl.DataFrame(
        {
            "niche": accounts["category"].replace_strict(NICHE_OF, default=None),
            "tier": pl.Series(tiers.tolist(), dtype=pl.String),
        }
    )


def add_labels(url: str, ws: int, accounts: pl.DataFrame) -> float:
    """Store ``labels`` (niches in ``account_niches``, tiers in ``account_tiers`` under
    ``TIER_SCHEME``) unless the store has them: a store loaded before they were part of the
    bench gets them once. Seconds taken (0 when there)."""
    store = open_store(url)
    write = _copy if store.dialect != "sqlite" else _insert
    started = time.perf_counter()
    with store.connection() as conn:
        if conn.execute(text("SELECT count(*) FROM account_niches")).scalar():
            store.dispose()
            return 0.0
        run = conn.execute(
            insert(MetricRun).values(workspace_id=ws, engine="bench", now=utcnow())
        ).inserted_primary_key[0]
        ids = pl.Series("account_id", np.arange(1, accounts.height + 1))
        frame = labels(accounts).with_columns(ids)
        niches = frame.drop_nulls("niche").select(
            "account_id",
            "niche",
            pl.lit(ws).alias("workspace_id"),
            pl.lit(0.8).alias("confidence"),
            pl.lit("model").alias("source"),
            pl.lit(utcnow()).alias("updated_at"),
        )
        write(conn, AccountNiche.__table__, niches)
        tiers = frame.drop_nulls("tier").select(
            "account_id",
            "tier",
            pl.lit(ws).alias("workspace_id"),
            pl.lit(run).alias("run_id"),
            pl.lit(TIER_SCHEME).alias("scheme"),
        )
        write(conn, AccountTier.__table__, tiers)
    store.dispose()
    return time.perf_counter() - started


def _percentiles(times: list[float]) -> str:
    ms = np.array(times) * 1000
    p50, p95, p99 = np.percentile(ms, [50, 95, 99])
    return f"p50 {p50:7.1f} ms  p95 {p95:7.1f} ms  p99 {p99:7.1f} ms"


def queries(
    accounts: pl.DataFrame, posts: list[pl.DataFrame], k: int, seed: int = 5
) -> tuple[list[dict], list[dict], list[dict], list[dict]]:
    rng = np.random.default_rng(seed)
    countries = accounts["country"].drop_nulls().unique().sort().to_list()
    tags = (
        pl.concat([p.select("hashtags") for p in posts[:3]])
        .explode("hashtags")["hashtags"]
        .drop_nulls()
        .value_counts(sort=True)
    )
    words = tags["hashtags"].head(300).to_list()
    filters, keyword, broad, labelled = [], [], [], []
    by_niche = (  # each niche's 30 commonest hashtags
        pl.concat([p.select("account_key", "hashtags") for p in posts[:3]])
        .explode("hashtags")
        .drop_nulls("hashtags")
        .join(accounts.select("account_key", "category"), on="account_key")
        .group_by("category", "hashtags")
        .len()
        .sort("len", "hashtags", descending=[True, False])
        .group_by("category", maintain_order=True)
        .head(30)
    )
    niche_words = {
        NICHE_OF[c]: part["hashtags"].to_list()
        for (c,), part in by_niche.group_by("category", maintain_order=True)
        if c in NICHE_OF
    }
    niches = sorted(niche_words)
    pick = np.random.default_rng(seed + 1)  # its own draws: the other classes' stay as they were
    for _ in range(k):
        low = int(10 ** rng.uniform(3, 5))
        base = {
            "country": str(rng.choice(countries)),
            "min_followers": low,
            "max_followers": low * 10,
        }
        filters.append({**base, "platform": "instagram", "min_er": float(rng.uniform(0, 0.03))})
        keyword.append({**base, "q": str(rng.choice(words))})
        broad.append({"country": base["country"], "q": str(rng.choice(words))})
        niche = str(pick.choice(niches)) if niches else "fitness"
        labelled.append(
            {
                "q": str(pick.choice(niche_words.get(niche) or words)),
                "niche": niche,
                "tier": str(pick.choice(["nano", "micro", "mid"])),
            }
        )
    return filters, keyword, broad, labelled


def time_store(url: str, ws: int, cases: list[dict]) -> tuple[list[float], list[int]]:
    """Wall time per search; also prints this process's CPU time per search (on SQLite the
    engine's work included; on PostgreSQL the server's not), which a busy machine inflates
    less than the wall time."""
    store = open_store(url)
    times, cpu, counts = [], [], []
    with store.session() as session:
        search(session, ws, SearchQuery(**cases[0]))  # warm the caches once
        for case in cases:
            started, used = time.perf_counter(), time.process_time()
            page = search(session, ws, SearchQuery(limit=20, **case))
            times.append(time.perf_counter() - started)
            cpu.append(time.process_time() - used)
            counts.append(page.count)
    store.dispose()
    print(f"{'':18s} {'CPU':7s}: {_percentiles(cpu)}  (this process)")
    return times, counts


def _rss_mib() -> float:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


def _timed_build(store, get, ws: int):  # type: ignore[no-untyped-def]
    """(what ``get(session, ws)`` returns, wall s, CPU s, RSS growth MiB)."""
    before = _rss_mib()
    with store.session() as session:
        started, used = time.perf_counter(), time.process_time()
        made = get(session, ws)
        took, cpu = time.perf_counter() - started, time.process_time() - used
    return made, took, cpu, _rss_mib() - before


def build_index(url: str, ws: int) -> None:
    """Build the in-process keyword index and read the search columns once (what the first
    search of a process pays), and print their time and memory."""
    store = open_store(url)
    term_index.forget()
    index, took, cpu, grown = _timed_build(store, term_index.index_for, ws)
    main = index.blocks[0]
    nnz = main.tf.nnz + main.handle_tf.nnz
    print(
        f"keyword index: {len(index):,} accounts, {main.tf.shape[1]:,} words "
        f"({main.handle_tf.shape[1]:,} in handles), {nnz:,} non-zeros; built in {took:.1f}s "
        f"(CPU {cpu:.1f}s); arrays {index.nbytes() / 2**20:.0f} MiB "
        f"({index.nbytes() / max(len(index), 1):.0f} B/account, {index.nbytes() / max(nnz, 1):.1f} "
        f"B/non-zero); process RSS +{grown:.0f} MiB",
        flush=True,
    )
    columns.forget()
    held, took, cpu, grown = _timed_build(store, columns.columns_for, ws)
    labels = held.labels
    print(
        f"search columns: {len(held):,} accounts, {len(held.vocab):,} text values, "
        f"{len(labels.tiers)} tier schemes, {len(labels.niche_ids):,} niche rows; read in "
        f"{took:.1f}s (CPU {cpu:.1f}s); arrays {held.nbytes / 2**20:.0f} MiB "
        f"({held.nbytes / max(len(held), 1):.0f} B/account); process RSS +{grown:.0f} MiB",
        flush=True,
    )
    store.dispose()


def brute(
    accounts: pl.DataFrame, posts: list[pl.DataFrame], cases: list[dict]
) -> tuple[list[float], list[int]]:
    frame = pl.concat([accounts, labels(accounts)], how="horizontal").with_columns(
        pl.col("followers_end").alias("followers"), pl.col("engagement_rate").alias("er")
    )
    text_of = (
        pl.concat(
            [p.select("account_key", "caption", pl.col("hashtags").list.join(" ")) for p in posts]
        )
        .group_by("account_key")
        .agg(pl.concat_str("caption", "hashtags", separator=" ", ignore_nulls=True).str.join(" "))
        .rename({"caption": "posts_text"})
    )
    frame = frame.join(text_of, on="account_key", how="left").with_columns(
        pl.concat_str(
            ["handle", "display_name", "bio", "posts_text"], separator=" ", ignore_nulls=True
        )
        .str.to_lowercase()
        .alias("text")
    )
    times, counts = [], []
    for case in cases:
        started = time.perf_counter()
        cond = pl.lit(True)
        if "country" in case:
            cond &= pl.col("country").str.to_lowercase() == case["country"].lower()
        if "niche" in case:
            cond &= (pl.col("niche") == case["niche"]) & (pl.col("tier") == case["tier"])
        if "min_followers" in case:
            cond &= pl.col("followers").is_between(case["min_followers"], case["max_followers"])
        if "platform" in case:
            cond &= (pl.col("platform") == case["platform"]) & (pl.col("er") >= case["min_er"])
        if "q" in case:
            cond &= pl.col("text").str.contains(case["q"].lower(), literal=True)
            order = pl.col("text").str.count_matches(case["q"].lower(), literal=True)
        else:
            order = pl.col("er")
        hits = frame.filter(cond)
        hits.sort(order, descending=True).head(20)
        times.append(time.perf_counter() - started)
        counts.append(hits.height)
    return times, counts


def _frames(args: argparse.Namespace) -> tuple[pl.DataFrame, list[pl.DataFrame]]:
    if args.reuse:
        accounts = pl.read_parquet(Path(args.reuse) / "accounts.parquet")
        return accounts, [pl.read_parquet(Path(args.reuse) / "posts.parquet")]
    started = time.perf_counter()
    accounts, posts = _population(args.accounts, args.days)
    n_posts = sum(p.height for p in posts)
    took = time.perf_counter() - started
    print(f"generated {accounts.height:,} accounts, {n_posts:,} posts in {took:.1f}s", flush=True)
    if args.keep:
        Path(args.keep).mkdir(parents=True, exist_ok=True)
        accounts.write_parquet(Path(args.keep) / "accounts.parquet")
        pl.concat(posts).write_parquet(Path(args.keep) / "posts.parquet")
    return accounts, posts


def _pg_server(data: Path, shared_buffers: str | None = None):  # type: ignore[no-untyped-def]
    """A PostgreSQL server (tests/pg_server.py) on the data directory ``data``, kept between
    runs; returns (server, URL of its ``bench`` database, whether it was new).
    ``shared_buffers``: the server's (the tests' server keeps PostgreSQL's 128 MB)."""
    sys.path.insert(0, str(ROOT / "tests"))
    from pg_server import PostgresServer  # type: ignore[import-not-found]

    settings = {"shared_buffers": shared_buffers} if shared_buffers else None
    server = PostgresServer(data, settings=settings)
    fresh = not server.initialised()
    server.start()
    if fresh:
        server.create_database("bench")
    return server, server.url("bench"), fresh


def prewarm(url: str) -> None:
    """Read the search rows and their indexes into PostgreSQL's shared buffers (``pg_prewarm``),
    what a server that has been answering searches holds: a server just started reads each
    page from the system's cache on its first use (1,500 primary-key seeks: 36 ms cold, 5 ms
    warm, at a million accounts)."""
    store = open_store(url)
    started = time.perf_counter()
    with store.connection() as conn:
        conn.execute(text("CREATE EXTENSION IF NOT EXISTS pg_prewarm"))
        pages = conn.execute(
            text(
                "SELECT sum(pg_prewarm(c.oid)) FROM pg_class AS c WHERE c.oid = "
                "'account_search'::regclass OR c.oid IN (SELECT indexrelid FROM pg_index "
                "WHERE indrelid = 'account_search'::regclass)"
            )
        ).scalar()
    took = time.perf_counter() - started
    print(f"prewarmed {int(pages or 0) * 8 / 1024:,.0f} MiB of search rows in {took:.1f}s")
    store.dispose()


def _workspace(url: str) -> int:
    store = open_store(url)
    with store.session() as session:
        ws = get_workspace(session, "bench").id
    store.dispose()
    return ws


def _timed_runs(url: str, ws: int, accounts, posts, k: int, *, freeze: bool) -> None:  # type: ignore[no-untyped-def]
    filters, keyword, broad, labelled = queries(accounts, posts, k)
    print("load average: {:.1f} {:.1f} {:.1f}".format(*os.getloadavg()), flush=True)
    build_index(url, ws)
    if freeze:  # as the app does once the indexes are built ahead
        print(f"heap frozen: {heap.settle():,} objects", flush=True)
    print("load average: {:.1f} {:.1f} {:.1f}".format(*os.getloadavg()), flush=True)
    for name, cases in (
        ("filters only", filters),
        ("keyword + filters", keyword),
        ("keyword + country", broad),
        ("keyword+niche+tier", labelled),
    ):
        ours, found = time_store(url, ws, cases)
        base, base_found = brute(accounts, posts, cases)
        for label, times, counts in (("search", ours, found), ("brute", base, base_found)):
            matches = statistics.median(counts)
            line = f"{name:18s} {label:7s}: {_percentiles(times)}"
            print(f"{line}  (median {matches:,.0f} matches)")
    print("load average: {:.1f} {:.1f} {:.1f}".format(*os.getloadavg()), flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--accounts", type=int, default=100_000)
    parser.add_argument("--days", type=int, default=7)
    parser.add_argument("--queries", type=int, default=100)
    parser.add_argument("--database-url", default=None)
    parser.add_argument(
        "--pg-data",
        type=Path,
        default=None,
        help="PostgreSQL on this data directory, kept: loaded when new, else timed as it is",
    )
    parser.add_argument("--shared-buffers", help="with --pg-data: the server's, e.g. 2GB")
    parser.add_argument(
        "--prewarm", action="store_true", help="PostgreSQL: search rows into shared buffers first"
    )
    parser.add_argument("--keep", default=None, help="leave the frames and the SQLite file here")
    parser.add_argument("--reuse", default=None, help="time a store --keep left, without loading")
    parser.add_argument(
        "--keep-index",
        action="store_true",
        help="load with the keyword index's change stamps written row by row (what an import pays)",
    )
    parser.add_argument(
        "--no-freeze",
        action="store_true",
        help="leave the garbage collector's heap as it is (MICROFLUENCE_FREEZE_HEAP=false)",
    )
    args = parser.parse_args()
    accounts, posts = _frames(args)
    server, url, fresh = (None, args.database_url, not args.reuse)
    if args.pg_data:
        server, url, fresh = _pg_server(args.pg_data, args.shared_buffers)
    try:
        with tempfile.TemporaryDirectory() as tmp:
            where = Path(args.reuse or args.keep or tmp)
            url = url or f"sqlite:///{where / 'bench.sqlite'}"
            if fresh:
                ws, loaded = load(url, accounts, posts, keep_index=args.keep_index)
                print(f"store: {url.split(':')[0]}; rows loaded in {loaded:.1f}s", flush=True)
            else:
                ws = _workspace(url)
            if took := add_labels(url, ws, accounts):
                print(f"niches and tiers stored in {took:.1f}s", flush=True)
            if args.prewarm:
                prewarm(url)
            if args.queries:
                _timed_runs(url, ws, accounts, posts, args.queries, freeze=not args.no_freeze)
    finally:
        if server is not None:
            server.stop()


if __name__ == "__main__":
    main()
