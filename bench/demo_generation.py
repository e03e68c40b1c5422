"""Demo generator throughput: posts/s and peak memory at 1M and 10M posts.

Each case runs in its own process (so peak RSS is that case's own). The baseline, in the same
run, is a row-at-a-time generator of the same numeric post columns (Python's ``random``, one
dict per post, then a frame) — what a straightforward implementation would do.

    .venv/bin/python -m bench.demo_generation            # 1M and 10M posts
    .venv/bin/python -m bench.demo_generation --quick    # 1M only
"""

from __future__ import annotations

import json
import math
import random
import resource
import subprocess
import sys
import time

CASES = {
    "1M": (10_000, 1_000_000),
    "10M": (100_000, 10_000_000),
}
BASELINE_POSTS = 200_000


def _peak_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def run_generator(size: str, text: bool) -> dict:
    from microfluence.demo.population import population_for

    accounts, posts = CASES[size]
    started = time.perf_counter()
    population = population_for(accounts, posts, seed=7, snapshot_every_days=7)
    rows = 0
    for chunk in population.iter_post_chunks(1_000_000, text=text):
        rows += chunk.height
    seconds = time.perf_counter() - started
    return {
        "case": f"generator {size} ({'with' if text else 'no'} captions)",
        "accounts": population.n_accounts,
        "posts": rows,
        "seconds": seconds,
        "posts_per_s": rows / seconds,
        "peak_mib": _peak_mib(),
    }


def run_baseline() -> dict:
    """One post at a time: the same columns' arithmetic, in a Python loop."""
    import polars as pl

    rng = random.Random(7)
    started = time.perf_counter()
    rows = []
    accounts = BASELINE_POSTS // 100
    for account in range(accounts):
        followers = 10 ** min(rng.gauss(3.78, 0.5), 8.5)
        er = 0.055 * (followers / 1000) ** -0.2
        for seq in range(100):
            t = rng.uniform(0, 180)
            expected = er * followers * math.exp(rng.gauss(0, 0.5) - 0.125)
            comments = int(expected / 46)
            likes = int(expected - comments)
            video = rng.random() < 0.35
            rows.append(
                {
                    "account_key": account,
                    "platform_post_id": str(3_100_000_000_000_000_000 + account * 1_000_000 + seq),
                    "day": t,
                    "likes": likes,
                    "comments": comments,
                    "views": int(likes / 0.055) if video else None,
                    "is_sponsored": rng.random() < 0.08,
                }
            )
    frame = pl.DataFrame(rows)
    seconds = time.perf_counter() - started
    return {
        "case": "baseline: row-at-a-time loop (numbers only)",
        "accounts": accounts,
        "posts": frame.height,
        "seconds": seconds,
        "posts_per_s": frame.height / seconds,
        "peak_mib": _peak_mib(),
    }


def _in_subprocess(*args: str) -> dict:
    out = subprocess.run(
        [sys.executable, "-m", "bench.demo_generation", "--case", *args],
        check=True,
        capture_output=True,
        text=True,
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def main(argv: list[str]) -> int:
    if argv[:1] == ["--case"]:
        result = run_baseline() if argv[1] == "baseline" else run_generator(argv[1], argv[2] == "1")
        print(json.dumps(result))
        return 0
    sizes = ["1M"] if "--quick" in argv else ["1M", "10M"]
    results = [_in_subprocess("baseline")]
    for size in sizes:
        results.append(_in_subprocess(size, "0"))
        results.append(_in_subprocess(size, "1"))
    print(f"{'case':<46} {'accounts':>9} {'posts':>11} {'s':>7} {'posts/s':>11} {'peak MiB':>9}")
    for r in results:
        print(
            f"{r['case']:<46} {r['accounts']:>9,} {r['posts']:>11,} {r['seconds']:>7.1f} "
            f"{r['posts_per_s']:>11,.0f} {r['peak_mib']:>9,.0f}"
        )
    base = results[0]["posts_per_s"]
    for r in results[1:]:
        print(f"{r['case']}: {r['posts_per_s'] / base:.1f}x the baseline's posts/s")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
