"""Semantic search + filters and lookalikes over N account vectors (default 1,000,000), with
the in-process index discovery.vector_index builds, next to a brute-force scan in the same run.

    python -m bench.semantic [--accounts 1000000] [--texts 200000] [--queries 200] [--exact]
                             [--cache DIR] [--sweep]
                             [--store | --pg-data DIR | --sqlite-store FILE]

Vectors: ``--texts`` synthetic account texts (demo.account_texts) embedded with the shipped
model; each of the N account vectors is one text's vector plus half of another's, normalised,
so N vectors need only ``--texts`` embeddings and keep the texts' topical structure.

Semantic + filters: the filters (platform, country, followers) are NumPy columns, a mask over the
synthetic population (0.3–1.3 % passing). Three ways, each query timed for each:

* **pre-filter** (search's path): the first pool (100) from the index, the filter checked on
  it; when fewer than 20 pass, the filters' accounts if they are at most
  ``semantic.PREFILTER_CAP`` — the mask's ids stand in for ``filters.candidate_ids`` (the
  database's part; see ``--store``) — ranked by ``VectorIndex.among``; past the cap, the pool
  growing as below;
* **pool**: the nearest candidates the index returns, the filter checked on them, the pool
  growing by the pass rate seen until 20 pass (``semantic.next_pool``): search's path past the
  cap;
* **scan** (baseline): one float32 product over every vector, the filter as a mask, the best 20.

``--store``: the pre-filter end to end on a real SQLite store, too: a file with the population's
``account_search`` rows (platform, country, followers: the filters' columns; the table alone,
written in bulk, where the app's triggers would write it), ``filters.candidate_ids`` for each
query (its ids checked against the mask's), then ``VectorIndex.among``.

``--pg-data DIR``: the same on PostgreSQL, over the store ``bench.search --pg-data DIR`` loaded
(its server started on that data directory and stopped at the end): the filters' columns are
that store's ``account_search`` rows (platform, the account's or else its creator's country,
followers; ids 1…N, one per vector, N its accounts), and each query's candidates come from its
``filters.candidate_ids`` (checked against the mask's). ``--sqlite-store FILE``: the same over
the SQLite file ``bench.search --keep DIR`` left (``DIR/bench.sqlite``), no server.

Lookalikes: the mean of three random accounts' vectors, those left out, no filter; index and
scan. Reports the build time and memory, p50/p95/p99 per query kind, and recall@20 against the
scan. ``--sweep``: the cost of ``VectorIndex.among`` by the number of candidates (the cap's
measurement), and of its product alone by ``einsum`` and by BLAS. ``--cache DIR`` keeps the
vectors (``.npy``) and the HNSW graph (usearch's file) in DIR and reuses them: the graph's build
time is then the one recorded when it was built.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import json
import os
import resource
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from functools import partial
from pathlib import Path

import numpy as np
import polars as pl
import sqlalchemy as sa
from sqlalchemy.orm import Session

from microfluence.demo.account_texts import synthetic_texts
from microfluence.discovery import filters
from microfluence.discovery import vector_index as vi
from microfluence.discovery.embedding import embed_texts
from microfluence.discovery.query import SearchQuery
from microfluence.discovery.search import search_plans
from microfluence.discovery.semantic import PREFILTER_CAP, next_pool
from microfluence.discovery.tables import AccountSearch
from microfluence.kernel.store import open_store
from microfluence.kernel.store.tables import PLATFORMS

K = 20
POOL = 100
SWEEP = (1_000, 2_000, 5_000, 10_000, 20_000, 50_000, 100_000)


def _vectors(n: int, texts: int, seed: int = 7) -> np.ndarray:
    base = embed_texts(synthetic_texts(texts, seed=seed))
    rng = np.random.default_rng(seed)
    out = np.empty((n, base.shape[1]), dtype=np.float32)
    step = 200_000
    for lo in range(0, n, step):
        hi = min(n, lo + step)
        a, b = rng.integers(0, texts, hi - lo), rng.integers(0, texts, hi - lo)
        block = base[a] + 0.5 * base[b]
        out[lo:hi] = block / np.linalg.norm(block, axis=1, keepdims=True)
    return out


def _cached_vectors(n: int, texts: int, cache: Path | None) -> np.ndarray:
    path = cache / f"vectors-{n}-{texts}.npy" if cache else None
    if path is not None and path.exists():
        return np.load(path)
    matrix = _vectors(n, texts)
    if path is not None:
        np.save(path, matrix)
    return matrix


def _rss() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _index(matrix: np.ndarray, exact: bool, cache: Path | None) -> tuple[vi.VectorIndex, str]:
    """The index, and how it came to be (built in s, or loaded from the cache)."""
    n = len(matrix)
    ids = np.arange(n, dtype=np.int64)
    approximate = False if exact else n >= vi.HNSW_FROM
    graph_path = cache / f"hnsw-{n}.usearch" if cache else None
    meta_path = cache / f"hnsw-{n}.json" if cache else None
    if approximate and graph_path is not None and graph_path.exists() and meta_path.exists():
        from usearch.index import Index

        graph = Index.restore(str(graph_path))
        graph.expansion_search = vi.EF_SEARCH
        meta = json.loads(meta_path.read_text())
        index = vi.VectorIndex(ids=ids, matrix=matrix, approximate=True, graph=graph)
        return index, f"loaded from {graph_path} (built in {meta['seconds']:.0f} s, {meta['when']})"
    t = time.perf_counter()
    index = vi.VectorIndex.build(ids, matrix, approximate=approximate)
    built = time.perf_counter() - t
    if index.graph is not None and graph_path is not None:
        index.graph.save(str(graph_path))
        when = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
        meta_path.write_text(json.dumps({"seconds": built, "when": when}))
    return index, f"built in {built:.0f} s"


@dataclass
class Population:
    """The filters' columns, one row per vector (row ``i`` is account ``i + 1``): platform and
    country as codes into ``platforms`` and ``countries`` (-1: none), followers (-1: none)."""

    platform: np.ndarray
    country: np.ndarray
    creator_country: np.ndarray
    followers: np.ndarray
    platforms: list[str]
    countries: list[str]


def _filters(n: int, seed: int = 3) -> Population:
    rng = np.random.default_rng(seed)
    return Population(
        platform=rng.integers(0, 6, n),
        country=rng.integers(0, 12, n),
        creator_country=np.full(n, -1),
        followers=np.exp(rng.normal(9.5, 1.6, n)).astype(np.int64),
        platforms=list(PLATFORMS[:6]),
        countries=[f"c{i}" for i in range(12)],
    )


def _codes(values: pl.Series, names: list[str]) -> np.ndarray:
    """Codes of ``values`` into the sorted ``names`` (-1 for none)."""
    at = {name: i for i, name in enumerate(names)}
    return values.cast(pl.String).replace_strict(at, default=-1, return_dtype=pl.Int64).to_numpy()


def _from_rows(engine: sa.Engine, workspace_id: int) -> Population:
    """The filters' columns of a real store: its workspace's ``account_search`` rows (the ones
    bench.search loaded: ids 1…N, one per vector)."""
    s = AccountSearch
    stmt = (
        sa.select(s.account_id, s.platform, s.country, s.creator_country, s.followers)
        .where(s.workspace_id == workspace_id)
        .order_by(s.account_id)
    )
    with engine.connect() as conn:
        rows = pl.DataFrame(
            conn.execute(stmt).all(),
            schema=["account_id", "platform", "country", "creator_country", "followers"],
            orient="row",
        )
    if not rows["account_id"].equals(pl.Series("account_id", np.arange(1, rows.height + 1))):
        raise SystemExit("the store's accounts are not numbered 1…N: load it with bench.search")
    platforms = sorted(rows["platform"].unique().to_list())
    countries = sorted(
        set(rows["country"].drop_nulls().to_list()) | set(rows["creator_country"].drop_nulls())
    )
    return Population(
        platform=_codes(rows["platform"], platforms),
        country=_codes(rows["country"], countries),
        creator_country=_codes(rows["creator_country"], countries),
        followers=rows["followers"].fill_null(-1).to_numpy(),
        platforms=platforms,
        countries=countries,
    )


def _asked(rng: np.random.Generator, cols: Population) -> tuple[int, int, int]:
    """A query's filters: (platform, country, follower floor)."""
    low = int(rng.choice([1_000, 10_000, 50_000]))
    return int(rng.integers(0, len(cols.platforms))), int(rng.integers(0, len(cols.countries))), low


def _mask(cols: Population, asked: tuple[int, int, int]) -> np.ndarray:
    """The filters as search reads them: the account's country, or else its creator's."""
    platform, country, low = asked
    where = (cols.country == country) | (cols.creator_country == country)
    return (cols.platform == platform) & where & (cols.followers >= low)


STORE_BATCH = 50_000
NOW = dt.datetime(2026, 11, 27)


def _store(cols: Population, path: Path) -> sa.Engine:
    """A SQLite file with the population's account_search rows (ids from 1, workspace 1)."""
    engine = sa.create_engine(f"sqlite:///{path}")
    AccountSearch.__table__.create(engine)
    n = len(cols.platform)
    frame = pl.DataFrame(
        {
            "account_id": np.arange(1, n + 1),
            "platform": np.array(cols.platforms)[cols.platform],
            "country": np.array(cols.countries)[cols.country],
            "followers": cols.followers,
        }
    ).with_columns(workspace_id=pl.lit(1), has_email=pl.lit(False))
    with engine.begin() as conn:
        for part in frame.iter_slices(STORE_BATCH):
            conn.execute(sa.insert(AccountSearch), part.to_dicts())
    return engine


def _query(cols: Population, asked: tuple[int, int, int]) -> SearchQuery:
    platform, country, low = asked
    return SearchQuery(
        platform=cols.platforms[platform], country=cols.countries[country], min_followers=low
    )


def _from_store(session: Session, workspace_id: int, cols: Population, asked, keep: np.ndarray):
    """filters.candidate_ids for the query, as row numbers (checked against the mask)."""
    query = _query(cols, asked)
    ids = filters.candidate_ids(session, workspace_id, query, "mediakix", NOW, cap=PREFILTER_CAP)
    if ids is not None and not np.array_equal(ids - 1, np.flatnonzero(keep)):
        raise AssertionError(f"candidate_ids disagrees with the mask for {asked}")
    return None if ids is None else ids - 1


def _pooled(index: vi.VectorIndex, q: np.ndarray, keep: np.ndarray, exclude=None, pool=POOL):
    while True:
        ids, _ = index.nearest(q, pool, exclude)
        passing = ids[keep[ids]]
        if len(passing) >= K or len(ids) < pool:
            return passing[:K]
        pool = next_pool(pool, len(passing), K)


def _searched(index: vi.VectorIndex, q: np.ndarray, keep: np.ndarray, candidates, ways: list):
    """search's path: the first pool; when it leaves the page short, the filters' accounts
    ranked exactly if ``candidates()`` gives their ids (``None`` past the cap), else the pool
    growing. ``ways`` is told which way answered."""
    ids, _ = index.nearest(q, POOL)
    passing = ids[keep[ids]]
    if len(passing) >= K or len(ids) < POOL:
        ways.append("first pool")
        return passing[:K]
    few = candidates()
    if few is None:
        ways.append("pool past the cap")
        return _pooled(index, q, keep, pool=next_pool(POOL, len(passing), K))
    ways.append("pre-filter")
    return index.among(q, few, K)[0]


def _brute(matrix: np.ndarray, q: np.ndarray, keep: np.ndarray, exclude=None) -> np.ndarray:
    sims = matrix @ q
    sims[~keep] = -np.inf
    if exclude is not None:
        sims[exclude] = -np.inf
    top = np.argpartition(-sims, K)[:K]
    top = top[np.isfinite(sims[top])]  # fewer than K pass: only those
    return top[np.argsort(-sims[top])]


def _pcts(times: list[float]) -> str:
    p = np.percentile(np.array(times) * 1000, [50, 95, 99])
    return f"p50 {p[0]:.1f} ms  p95 {p[1]:.1f} ms  p99 {p[2]:.1f} ms"


def _timed(fn, *args) -> tuple[np.ndarray, float]:
    t = time.perf_counter()
    got = fn(*args)
    return got, time.perf_counter() - t


def _hits(got: np.ndarray, truth: np.ndarray) -> int:
    return len(set(got.tolist()) & set(truth.tolist()))


def _report(name: str, way: str, times: list[float], hits: int | None, found: int) -> None:
    """``found``: the true results over all queries (``K`` each, fewer where fewer pass)."""
    recall = "" if hits is None else f"   recall@{K} {hits / max(found, 1):.3f}"
    print(f"{name:<22} {way:<18} {_pcts(times)}{recall}", flush=True)


def _semantic_filters(index, matrix, cols, briefs, store: tuple[Session, int] | None) -> None:  # noqa: PLR0914
    """``store``: (a session, the workspace) whose ``filters.candidate_ids`` the pre-filter
    asks, timed; else the mask's ids stand in for them."""
    rng = np.random.default_rng(11)
    times: dict[str, list[float]] = {"pre-filter": [], "pool": [], "scan": []}
    if store is not None:
        times = {"candidate_ids": [], "store + pre-filter": [], **times}
    hits = {"pre-filter": 0, "pool": 0}
    passing, ways, also, found = [], [], [], 0
    for q in briefs:
        asked = _asked(rng, cols)
        keep = _mask(cols, asked)
        mask_ids = np.flatnonzero(keep)  # filters.candidate_ids' sorted ids, emulated
        if store is not None:
            from_store = partial(_from_store, *store, cols, asked, keep)
            t = time.perf_counter()
            _searched(index, q, keep, from_store, also)
            times["store + pre-filter"].append(time.perf_counter() - t)
            t = time.perf_counter()
            from_store()
            times["candidate_ids"].append(time.perf_counter() - t)
        few = mask_ids if len(mask_ids) <= PREFILTER_CAP else None
        first, took = _timed(_searched, index, q, keep, lambda few=few: few, ways)
        times["pre-filter"].append(took)
        pooled, took = _timed(_pooled, index, q, keep)
        times["pool"].append(took)
        truth, took = _timed(_brute, matrix, q.copy(), keep)
        times["scan"].append(took)
        hits["pre-filter"] += _hits(first, truth)
        hits["pool"] += _hits(pooled, truth)
        found += len(truth)
        passing.append(len(mask_ids))
    share = np.array(passing) / len(matrix) * 100
    print(
        f"semantic + filters: {share.min():.2f}–{share.max():.2f} % pass "
        f"({min(passing):,}–{max(passing):,} accounts; cap {PREFILTER_CAP:,}, "
        f"answered by: {', '.join(f'{w} {ways.count(w)}' for w in sorted(set(ways)))})"
    )
    for way, spent in times.items():
        _report("semantic + filters", way, spent, hits.get(way), found)


def _lookalikes(index, matrix, briefs_n: int, seed: int = 5) -> None:
    rng = np.random.default_rng(seed)
    n = len(matrix)
    fast, slow, hits = [], [], 0
    keep = np.ones(n, dtype=bool)
    for _ in range(briefs_n):
        exclude = rng.choice(n, 3, replace=False)
        q = matrix[exclude].mean(axis=0)
        q /= np.linalg.norm(q)
        got, took = _timed(_pooled, index, q, keep, exclude)
        fast.append(took)
        truth, took = _timed(_brute, matrix, q.copy(), keep, exclude)
        slow.append(took)
        hits += _hits(got, truth)
    _report("lookalikes (3 seeds)", "index", fast, hits, K * briefs_n)
    _report("lookalikes (3 seeds)", "scan", slow, None, K * briefs_n)


def _sweep(index: vi.VectorIndex, briefs: np.ndarray) -> None:
    """VectorIndex.among's cost by the number of candidates (random ids, sorted), and, for the
    same gathered rows, the product alone by einsum (what among uses) and by BLAS (``@``)."""
    rng = np.random.default_rng(13)
    n = len(index)
    for m in SWEEP:
        if m > n:
            break
        times: dict[str, list[float]] = {"among": [], "einsum": [], "BLAS": []}
        for q in briefs:
            candidates = np.sort(rng.choice(n, m, replace=False))
            times["among"].append(_timed(index.among, q, candidates, K)[1])
            rows = index.matrix[index.rows_of(candidates)[0]]
            times["einsum"].append(_timed(np.einsum, "ij,j->i", rows, q)[1])
            times["BLAS"].append(_timed(np.matmul, rows, q)[1])
        for way, spent in times.items():
            print(f"{m:>7,} candidates  {way:<7} {_pcts(spent)}", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--accounts", type=int, default=1_000_000)
    parser.add_argument("--texts", type=int, default=200_000)
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument(
        "--exact", action="store_true", help="the exact index whatever the size (no HNSW build)"
    )
    parser.add_argument("--cache", type=Path, help="keep and reuse the vectors and the graph here")
    parser.add_argument("--sweep", action="store_true", help="VectorIndex.among by candidates")
    parser.add_argument("--store", action="store_true", help="candidate_ids from a SQLite store")
    parser.add_argument(
        "--pg-data",
        type=Path,
        help="candidate_ids and the filters' columns from the PostgreSQL store bench.search "
        "loaded in this data directory (--accounts: its accounts)",
    )
    parser.add_argument(
        "--sqlite-store",
        type=Path,
        help="the same from the SQLite file bench.search --keep left (e.g. DIR/bench.sqlite)",
    )
    args = parser.parse_args()
    with contextlib.ExitStack() as stack:
        tmp = Path(stack.enter_context(tempfile.TemporaryDirectory()))
        cols, store = _population_and_store(args, tmp, stack)
        _run(args, cols, store)


@contextlib.contextmanager
def _session_on(url: str) -> Iterator[tuple[Session, int]]:
    """A session on a store bench.search loaded, set up as search sets its transaction
    (``search_plans``: one transaction here), and its workspace."""
    from bench.search import _workspace

    engine = open_store(url).engine
    with Session(engine) as session:
        search_plans(session)
        yield session, _workspace(url)
    engine.dispose()


@contextlib.contextmanager
def _pg_store(data: Path) -> Iterator[tuple[Session, int]]:
    """A session on the PostgreSQL store bench.search left in ``data`` (its server started
    and stopped here) and its workspace."""
    from bench.search import _pg_server

    server, url, fresh = _pg_server(data)
    try:
        if fresh:
            raise SystemExit(f"no store in {data}: load one with bench.search --pg-data {data}")
        with _session_on(url) as found:
            yield found
    finally:
        server.stop()


@contextlib.contextmanager
def _sqlite_store(path: Path) -> Iterator[tuple[Session, int]]:
    """A session on the SQLite store bench.search left at ``path`` and its workspace."""
    if not path.is_file():
        raise SystemExit(f"no store at {path}: load one with bench.search --keep DIR")
    with _session_on(f"sqlite:///{path}") as found:
        yield found


def _population_and_store(args, tmp: Path, stack: contextlib.ExitStack):  # type: ignore[no-untyped-def]
    """The filters' columns and, with ``--store`` or ``--pg-data``, (a session, the workspace)
    of the store that answers ``filters.candidate_ids``."""
    if args.pg_data or args.sqlite_store:
        if args.pg_data:
            session, ws = stack.enter_context(_pg_store(args.pg_data))
        else:
            session, ws = stack.enter_context(_sqlite_store(args.sqlite_store))
        t = time.perf_counter()
        cols = _from_rows(session.get_bind(), ws)
        args.accounts = len(cols.platform)
        took = time.perf_counter() - t
        kind = session.get_bind().dialect.name
        print(f"store: {kind}, {args.accounts:,} account_search rows read in {took:.0f} s")
        return cols, (session, ws)
    cols = _filters(args.accounts)
    if not args.store:
        return cols, None
    t = time.perf_counter()
    engine = _store(cols, tmp / "search.sqlite")
    stack.callback(engine.dispose)
    print(
        f"store: {args.accounts:,} account_search rows written in {time.perf_counter() - t:.0f} s"
    )
    return cols, (stack.enter_context(Session(engine)), 1)


def _run(args, cols: Population, store: tuple[Session, int] | None) -> None:  # type: ignore[no-untyped-def]
    n, texts = args.accounts, min(args.texts, args.accounts)
    if args.cache:
        args.cache.mkdir(parents=True, exist_ok=True)
    t = time.perf_counter()
    matrix = _cached_vectors(n, texts, args.cache)
    print(f"{n:,} vectors from {texts:,} embedded texts in {time.perf_counter() - t:.0f} s")
    before = _rss()
    index, how = _index(matrix, args.exact, args.cache)
    graph = index.graph.memory_usage / 2**20 if index.graph is not None else 0.0
    kind = "HNSW (usearch, f16)" if index.approximate else "exact"
    print(
        f"index: {kind}, {how}; matrix {matrix.nbytes / 2**20:.0f} MiB, "
        f"graph {graph:.0f} MiB; peak RSS {before:.0f} MiB before the index, "
        f"{_rss():.0f} MiB after",
        flush=True,
    )
    briefs = embed_texts(synthetic_texts(args.queries, seed=99))
    if args.sweep:
        _sweep(index, briefs)
    print("load average: {:.1f} {:.1f} {:.1f}".format(*os.getloadavg()), flush=True)
    _semantic_filters(index, matrix, cols, briefs, store)
    _lookalikes(index, matrix, args.queries)
    print("load average: {:.1f} {:.1f} {:.1f}".format(*os.getloadavg()), flush=True)


if __name__ == "__main__":
    main()
