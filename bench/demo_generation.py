"""Demo generator throughput: posts/s and peak memory at 1M and 10M posts.

Each case runs in its own process (so peak RSS is that case's own). The baselines, in the same
run, are row-at-a-time generators of the same post columns, without and with captions
(Python's ``random``, one dict per post, then a frame) — what a straightforward implementation
would do. They produce 200,000 posts; their rate does not depend on the total.

    .venv/bin/python -m bench.demo_generation            # 1M and 10M posts
    .venv/bin/python -m bench.demo_generation --quick    # 1M only
"""

from __future__ import annotations

import json
import math
import os
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


def _cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def run_generator(size: str, text: bool) -> dict:
    from microfluence.demo.population import population_for

    accounts, posts = CASES[size]
    started, cpu = time.perf_counter(), _cpu_seconds()
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
        "posts_per_cpu_s": rows / (_cpu_seconds() - cpu),
        "peak_mib": _peak_mib(),
    }


def run_baseline(text: bool) -> dict:
    """One post at a time: the same columns (and captions), in a Python loop."""
    import datetime as dt

    import polars as pl

    from microfluence.demo import vocabulary as V

    rng = random.Random(7)
    niches = [n[0] for n in V.NICHES]
    start = dt.datetime(2026, 1, 1)
    started, cpu = time.perf_counter(), _cpu_seconds()
    rows = []
    accounts = BASELINE_POSTS // 100
    for account in range(accounts):
        followers = 10 ** min(rng.gauss(3.78, 0.5), 8.5)
        er = 0.055 * (followers / 1000) ** -0.2
        niche = V.NICHE_WORDS[rng.choice(niches)]
        handle = f"creator{account}"
        for seq in range(100):
            t = rng.uniform(0, 180)
            expected = er * followers * math.exp(rng.gauss(0, 0.5) - 0.125)
            comments = int(expected / 46)
            likes = int(expected - comments)
            video = rng.random() < 0.35
            post_id = str(3_100_000_000_000_000_000 + account * 1_000_000 + seq)
            row = {
                "account_key": account,
                "platform_post_id": post_id,
                "posted_at": start + dt.timedelta(days=t),
                "likes": likes,
                "comments": comments,
                "views": int(likes / 0.055) if video else None,
                "is_sponsored": rng.random() < 0.08,
            }
            if text:
                tags = rng.sample(niche["tags"], rng.randint(3, 10))
                row["hashtags"] = tags
                row["mentions"] = [rng.choice(niche["brands"])] if row["is_sponsored"] else []
                row["caption"] = (
                    f"{rng.choice(V.OPENERS['en'])} {rng.choice(niche['subject'])} "
                    f"{rng.choice(V.EMOJIS)} {rng.choice(V.CLOSERS['en'])}\n\n"
                    + " ".join(f"#{tag}" for tag in tags)
                )
                row["url"] = f"https://www.tiktok.com/@{handle}/video/{post_id}"
            rows.append(row)
    frame = pl.DataFrame(rows)
    seconds = time.perf_counter() - started
    return {
        "case": f"baseline: row-at-a-time loop ({'with' if text else 'no'} captions)",
        "accounts": accounts,
        "posts": frame.height,
        "seconds": seconds,
        "posts_per_s": frame.height / seconds,
        "posts_per_cpu_s": frame.height / (_cpu_seconds() - cpu),
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
        text = argv[2] == "1"
        result = run_baseline(text) if argv[1] == "baseline" else run_generator(argv[1], text)
        print(json.dumps(result))
        return 0
    sizes = ["1M"] if "--quick" in argv else ["1M", "10M"]
    load_before = os.getloadavg()[0]
    baselines = {text: _in_subprocess("baseline", text) for text in ("0", "1")}
    results = list(baselines.values())
    for size in sizes:
        results.append(_in_subprocess(size, "0"))
        results.append(_in_subprocess(size, "1"))
    print(f"load average before: {load_before:.1f}, after: {os.getloadavg()[0]:.1f}")
    print(
        f"{'case':<46} {'accounts':>9} {'posts':>11} {'s':>7} {'posts/s':>11} "
        f"{'posts/CPU-s':>12} {'peak MiB':>9}"
    )
    for r in results:
        print(
            f"{r['case']:<46} {r['accounts']:>9,} {r['posts']:>11,} {r['seconds']:>7.1f} "
            f"{r['posts_per_s']:>11,.0f} {r['posts_per_cpu_s']:>12,.0f} {r['peak_mib']:>9,.0f}"
        )
    for r in results[2:]:
        base = baselines["1" if "with captions" in r["case"] else "0"]["posts_per_s"]
        base_cpu = baselines["1" if "with captions" in r["case"] else "0"]["posts_per_cpu_s"]
        print(
            f"{r['case']}: {r['posts_per_s'] / base:.1f}x the row-at-a-time baseline's posts/s, "
            f"{r['posts_per_cpu_s'] / base_cpu:.1f}x per CPU-second"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
