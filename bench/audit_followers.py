"""Benchmark: audit 1,000,000 follower rows (issue 5).

    .venv/bin/python -m bench.audit_followers [--rows 1000000] [--naive-rows 20000]

Generates a follower CSV (vectorised, 15 % fake-looking rows), then, each in a fresh child
process so that peak memory (ru_maxrss) is its own:

* ``streaming``: ``audit_follower_file`` — read, parse, score and write in batches of 100,000;
* ``in memory``: the same features and model on the whole file loaded at once (Polars);
* ``imports``: only the imports the audit needs, for the fixed part of the memory;
* ``naive``: a per-row Python loop (csv.DictReader, features in Python, each tree walked in
  Python) on the first ``--naive-rows`` rows, its rows/s extrapolated to the whole file.

Prints rows/s and peak RSS for each; docs/benchmarks.md records the figures.
"""

from __future__ import annotations

import argparse
import csv
import json
import math
import os
import re
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import polars as pl

FAKE_SHARE = 0.15


def generate(path: Path, rows: int, seed: int = 5) -> None:
    """A follower CSV with realistic columns, ``FAKE_SHARE`` of it fake-looking."""
    rng = np.random.default_rng(seed)
    fake = rng.random(rows) < FAKE_SHARE
    ids = np.arange(rows)
    digits = rng.integers(10_000_000, 99_999_999, rows)
    first = np.array(["maria", "luca", "anna", "tom", "sara", "jon", "lea", "max"])
    last = np.array(["rossi", "smith", "meyer", "dubois", "garcia", "kim", "novak", "silva"])
    f_idx, l_idx = rng.integers(0, 8, rows), rng.integers(0, 8, rows)
    frame = pl.DataFrame(
        {
            "username": np.where(
                fake,
                np.char.add("user", digits.astype(str)),
                np.char.add(np.char.add(first[f_idx], "."), last[l_idx]),
            ),
            "full_name": np.where(
                fake, "", np.char.add(np.char.add(first[f_idx], " "), last[l_idx])
            ),
            "biography": np.where(fake, "", "coffee, travel and photos"),
            "posts": np.where(fake, rng.poisson(1, rows), rng.poisson(150, rows)),
            "followers": np.where(
                fake, rng.poisson(8, rows), rng.lognormal(6, 1.2, rows).astype(int)
            ),
            "following": np.where(fake, rng.integers(1000, 7500, rows), rng.poisson(400, rows)),
            "has_profile_pic": np.where(fake, rng.random(rows) < 0.3, rng.random(rows) < 0.97),
            "is_private": rng.random(rows) < 0.35,
            "external_url": np.where(~fake & (rng.random(rows) < 0.2), "https://example.org", ""),
            "campaign": np.full(rows, "spring"),
            "row_id": ids,
        }
    )
    frame.write_csv(path)


def _peak_mib() -> float:
    """Peak RSS of this process. VmHWM, not ru_maxrss: ru_maxrss survives fork and exec, so a
    child would report its parent's peak (the generated data) when that is larger."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def run_streaming(source: Path, work: Path) -> dict[str, float]:
    from microfluence.authenticity.followers.audit import audit_follower_file

    started, cpu = time.perf_counter(), time.process_time()
    audit = audit_follower_file(source, work / "scored.csv")
    elapsed = time.perf_counter() - started
    cpu_seconds = time.process_time() - cpu  # all threads: steadier on a busy machine
    return {
        "rows": audit.estimate.n,
        "seconds": elapsed,
        "cpu_seconds": cpu_seconds,
        "share": audit.estimate.share,
    }


def run_in_memory(source: Path, work: Path) -> dict[str, float]:
    from microfluence.authenticity.followers.audit import score_followers
    from microfluence.authenticity.followers.fake_share import estimate_fake_share
    from microfluence.authenticity.followers.model import load_shipped_model

    started, cpu = time.perf_counter(), time.process_time()
    frame = pl.read_csv(source, infer_schema=False)
    scored = score_followers(frame)
    scored.write_csv(work / "scored-in-memory.csv")
    model = load_shipped_model()
    estimate = estimate_fake_share(scored["fake_probability"].to_numpy(), model.operating_point)
    elapsed = time.perf_counter() - started
    cpu_seconds = time.process_time() - cpu  # all threads: steadier on a busy machine
    return {
        "rows": frame.height,
        "seconds": elapsed,
        "cpu_seconds": cpu_seconds,
        "share": estimate.share,
    }


def run_naive(source: Path, work: Path, limit: int) -> dict[str, float]:
    """The obvious per-row code: what the vectorised path replaces."""
    from microfluence.authenticity.followers.model import load_shipped_model

    model = load_shipped_model()
    spec = json.loads(
        (
            Path(__file__).resolve().parents[1]
            / "src/microfluence/authenticity/followers/models/follower_model.json"
        ).read_text()
    )
    trees = spec["gradient_boosting"]["trees"]
    baseline = spec["gradient_boosting"]["baseline"]

    def number(text: str) -> float:
        return float("nan") if text == "" else float(text.replace(",", ""))

    def flag(text: str) -> float:
        return {"true": 1.0, "false": 0.0}.get(text.lower(), float("nan"))

    def share_digits(text: str) -> float:
        return sum(ch.isdigit() for ch in text) / len(text) if text else 0.0

    started, cpu = time.perf_counter(), time.process_time()
    flagged = 0
    with source.open(newline="") as handle, (work / "scored-naive.csv").open("w") as out:
        reader = csv.DictReader(handle)
        writer = csv.writer(out)
        for i, row in enumerate(reader):
            if i == limit:
                break
            user, name = row["username"], row["full_name"]
            posts, fol, fing = (number(row[c]) for c in ("posts", "followers", "following"))
            squash = re.sub(r"\W", "", name.lower()) == re.sub(r"\W", "", user.lower())
            x = [
                flag(row["has_profile_pic"]),
                share_digits(user),
                float(len(name.split())),
                share_digits(name),
                float(bool(name) and squash),
                float(len(row["biography"])),
                float(bool(row["external_url"])),
                flag(row["is_private"]),
                math.log1p(posts),
                math.log1p(fol),
                math.log1p(fing),
                math.log1p(fing) - math.log1p(fol),
            ]
            raw = baseline
            for tree in trees:
                node = 0
                while not tree["is_leaf"][node]:
                    value = x[tree["feature"][node]]
                    threshold = tree["threshold"][node]
                    threshold = math.inf if threshold is None else threshold
                    if math.isnan(value):
                        left = tree["missing_left"][node]
                    else:
                        left = value <= threshold
                    node = tree["left"][node] if left else tree["right"][node]
                raw += tree["value"][node]
            p = 1 / (1 + math.exp(-raw))
            flagged += p >= model.threshold
            writer.writerow([*row.values(), round(p, 6), int(p >= model.threshold)])
    elapsed = time.perf_counter() - started
    cpu_seconds = time.process_time() - cpu  # all threads: steadier on a busy machine
    return {
        "rows": min(limit, i + 1),
        "seconds": elapsed,
        "cpu_seconds": cpu_seconds,
        "flagged": flagged,
    }


def child(kind: str, source: Path, work: Path, naive_rows: int) -> None:
    if kind == "imports":
        import microfluence.authenticity.followers.audit  # noqa: F401

        result = {"rows": 0, "seconds": 0.0, "cpu_seconds": 0.0}
    elif kind == "streaming":
        result = run_streaming(source, work)
    elif kind == "in_memory":
        result = run_in_memory(source, work)
    else:
        result = run_naive(source, work, naive_rows)
    result["peak_mib"] = _peak_mib()
    sys.stdout.write(json.dumps(result) + "\n")


def _in_child(kind: str, source: Path, work: Path, naive_rows: int) -> dict[str, float]:
    args = [
        sys.executable,
        "-m",
        "bench.audit_followers",
        "--child",
        kind,
        "--source",
        str(source),
        "--work",
        str(work),
        "--naive-rows",
        str(naive_rows),
    ]
    out = subprocess.run(args, check=True, capture_output=True, text=True).stdout
    return json.loads(out.strip().splitlines()[-1])


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--naive-rows", type=int, default=20_000)
    parser.add_argument("--child")
    parser.add_argument("--source", type=Path)
    parser.add_argument("--work", type=Path)
    args = parser.parse_args()
    if args.child:
        child(args.child, args.source, args.work, args.naive_rows)
        return 0
    with tempfile.TemporaryDirectory(prefix="bench-audit-") as tmp:
        work = Path(tmp)
        source = work / "followers.csv"
        started = time.perf_counter()
        generate(source, args.rows)
        size = source.stat().st_size / 2**20
        print(
            f"generated {args.rows:,} follower rows ({size:.0f} MiB CSV) "
            f"in {time.perf_counter() - started:.1f}s"
        )
        results = {
            kind: _in_child(kind, source, work, args.naive_rows)
            for kind in ("imports", "streaming", "in_memory", "naive")
        }
    imports = results.pop("imports")
    print(
        f"\n{'method':<44}{'rows':>11}{'seconds':>10}{'rows/s':>12}"
        f"{'rows/CPU-s':>12}{'peak RSS':>12}"
    )
    labels = {
        "streaming": "microfluence, streaming (batches of 100k)",
        "in_memory": "same, whole file in memory",
        "naive": "naive per-row Python loop (extrapolated)",
    }
    for kind, r in results.items():
        rate = r["rows"] / r["seconds"]
        seconds = args.rows / rate
        per_cpu = r["rows"] / max(r["cpu_seconds"], 1e-9)
        print(
            f"{labels[kind]:<44}{args.rows:>11,}{seconds:>10.1f}{rate:>12,.0f}"
            f"{per_cpu:>12,.0f}{r['peak_mib']:>9.0f} MiB"
        )
    speedup = (results["streaming"]["rows"] / results["streaming"]["seconds"]) / (
        results["naive"]["rows"] / results["naive"]["seconds"]
    )
    print(
        f"\nstreaming vs naive: {speedup:.0f}x faster; estimated fake share "
        f"{results['streaming']['share']:.1%} (planted fake-looking rows: {FAKE_SHARE:.0%})"
    )
    print(f"load average while running: {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
    print(
        f"naive loop measured on {results['naive']['rows']:,} rows; "
        f"peak RSS after the imports alone: {imports['peak_mib']:.0f} MiB"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
