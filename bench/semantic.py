"""Semantic search + filters and lookalikes over N account vectors (default 1,000,000), with
the in-process index discovery.vector_index builds, next to a brute-force scan in the same run.

    python -m bench.semantic [--accounts 1000000] [--texts 200000] [--queries 200] [--exact]

Vectors: ``--texts`` synthetic account texts (demo.account_texts) embedded with the shipped
model; each of the N account vectors is one text's vector plus half of another's, normalised,
so N vectors need only ``--texts`` embeddings and keep the texts' topical structure. Filters
(platform, country, followers) are NumPy columns checked on the candidates the index returns,
the pool growing by the pass rate seen until 20 pass (semantic.next_pool, as search
does). Reports the
build time and memory, p50/p95/p99 per query kind, and recall@20 against the exact scan.
"""

from __future__ import annotations

import argparse
import resource
import time

import numpy as np

from microfluence.demo.account_texts import synthetic_texts
from microfluence.discovery import vector_index as vi
from microfluence.discovery.embedding import embed_texts
from microfluence.discovery.semantic import next_pool

K = 20
POOL = 100


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


def _filters(n: int, seed: int = 3) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    return {
        "platform": rng.integers(0, 6, n),
        "country": rng.integers(0, 12, n),
        "followers": np.exp(rng.normal(9.5, 1.6, n)).astype(np.int64),
    }


def _mask(cols: dict[str, np.ndarray], rng: np.random.Generator) -> np.ndarray:
    low = int(rng.choice([1_000, 10_000, 50_000]))
    return (
        (cols["platform"] == rng.integers(0, 6))
        & (cols["country"] == rng.integers(0, 12))
        & (cols["followers"] >= low)
    )


def _filtered(index: vi.VectorIndex, q: np.ndarray, keep: np.ndarray, exclude=None):
    pool = POOL
    while True:
        ids, sims = index.nearest(q, pool, exclude)
        passing = ids[keep[ids]]
        if len(passing) >= K or len(ids) < pool:
            return passing[:K]
        pool = next_pool(pool, len(passing), K)


def _brute(matrix: np.ndarray, q: np.ndarray, keep: np.ndarray, exclude=None) -> np.ndarray:
    sims = matrix @ q
    sims[~keep] = -np.inf
    if exclude is not None:
        sims[exclude] = -np.inf
    top = np.argpartition(-sims, K)[:K]
    return top[np.argsort(-sims[top])]


def _pcts(times: list[float]) -> str:
    p = np.percentile(np.array(times) * 1000, [50, 95, 99])
    return f"p50 {p[0]:.1f} ms  p95 {p[1]:.1f} ms  p99 {p[2]:.1f} ms"


def _run(name: str, index, matrix, cols, queries, like_sets) -> None:
    rng = np.random.default_rng(11)
    fast, slow, hits = [], [], 0
    for i, q in enumerate(queries):
        exclude = None
        if like_sets is not None:
            exclude = like_sets[i]
            q = matrix[exclude].mean(axis=0)
            q /= np.linalg.norm(q)
            keep = np.ones(len(matrix), dtype=bool)
        else:
            keep = _mask(cols, rng)
        t = time.perf_counter()
        got = _filtered(index, q, keep, exclude)
        fast.append(time.perf_counter() - t)
        t = time.perf_counter()
        truth = _brute(matrix, q.copy(), keep, exclude)
        slow.append(time.perf_counter() - t)
        hits += len(set(got.tolist()) & set(truth.tolist()))
    print(f"{name:<22} index  {_pcts(fast)}")
    print(f"{name:<22} scan   {_pcts(slow)}   recall@{K} {hits / (K * len(queries)):.3f}")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--accounts", type=int, default=1_000_000)
    parser.add_argument("--texts", type=int, default=200_000)
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument(
        "--exact", action="store_true", help="the exact index whatever the size (no HNSW build)"
    )
    args = parser.parse_args()
    n = args.accounts
    t = time.perf_counter()
    matrix = _vectors(n, min(args.texts, n))
    seconds = time.perf_counter() - t
    print(f"{n:,} vectors from {min(args.texts, n):,} embedded texts in {seconds:.0f} s")
    cols = _filters(n)
    ids = np.arange(n, dtype=np.int64)
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    t = time.perf_counter()
    index = vi.VectorIndex.build(ids, matrix, approximate=False if args.exact else None)
    built = time.perf_counter() - t
    graph = index.graph.memory_usage / 2**20 if index.graph is not None else 0.0
    kind = "HNSW (usearch, f16)" if index.approximate else "exact"
    print(
        f"index: {kind}, built in {built:.0f} s; matrix {matrix.nbytes / 2**20:.0f} MiB, "
        f"graph {graph:.0f} MiB; peak RSS {rss:.0f} MiB before the build, "
        f"{resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MiB after"
    )
    briefs = embed_texts(synthetic_texts(args.queries, seed=99))
    rng = np.random.default_rng(5)
    likes = [rng.choice(n, 3, replace=False) for _ in range(args.queries)]
    _run("semantic + filters", index, matrix, cols, briefs, None)
    _run("lookalikes (3 seeds)", index, matrix, cols, briefs, likes)


if __name__ == "__main__":
    main()
