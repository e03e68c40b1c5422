"""Benchmark: vet one account, and score a whole workspace (issue 5).

    .venv/bin/python -m bench.vetting [--creators 3000] [--seed 11] [--vet-accounts 30]
                                      [--url sqlite:///existing-demo.sqlite]

Builds a demo workspace (``microfluence demo``) in a temporary SQLite file (or uses ``--url``),
then measures, each in a fresh child process so that peak memory is its own:

* ``vet, computed cohort``: ``vet_account`` on ``--vet-accounts`` accounts spread evenly over the
  workspace, before ``microfluence score`` has run: the cohort statistics are computed from every
  account of the platform (the baseline);
* ``vet, stored cohort``: the same accounts after ``microfluence score``: the cohort statistics
  come from the stored metrics in one query;
* ``bulk``: ``score_workspace`` — every signal and the score for every account at once, the way
  ``microfluence eval vetting`` runs, with the stored cohort.

Prints seconds per vet (mean, median, max), accounts/s and peak RSS; docs/benchmarks.md records
the figures.
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import sqlalchemy as sa


def _peak_mib() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def run_mode(mode: str, url: str, vet_accounts: int) -> dict[str, float]:
    from microfluence.authenticity.evaluation.vetting import score_workspace
    from microfluence.authenticity.vetting.report import vet_account
    from microfluence.kernel.store import open_store
    from microfluence.kernel.store.tables import Account

    store = open_store(url)
    with store.session() as session:
        accounts = session.execute(
            sa.select(Account.platform, Account.handle).order_by(Account.id)
        ).all()
    if mode == "bulk":
        started = time.perf_counter()
        done = score_workspace(store, "demo").height
        seconds = time.perf_counter() - started
        times = [seconds]
    else:
        step = max(1, len(accounts) // max(1, vet_accounts))
        times = []
        for platform, handle in accounts[::step][:vet_accounts]:
            started = time.perf_counter()
            vet_account(store, "demo", platform, handle)
            times.append(time.perf_counter() - started)
        done, seconds = len(times), sum(times)
    return {
        "accounts": done,
        "total_accounts": len(accounts),
        "seconds": seconds,
        "mean": statistics.fmean(times),
        "median": statistics.median(times),
        "max": max(times),
        "accounts_per_s": done / seconds,
        "peak_mib": _peak_mib(),
    }


def _child(mode: str, url: str, vet_accounts: int) -> dict[str, float]:
    out = subprocess.run(
        [sys.executable, "-m", "bench.vetting", "--mode", mode, "--url", url]
        + ["--vet-accounts", str(vet_accounts)],
        check=True,
        capture_output=True,
        text=True,
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def _cli(*args: str) -> None:
    subprocess.run(
        [sys.executable, "-m", "microfluence", *args], check=True, stdout=subprocess.DEVNULL
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--creators", type=int, default=3000)
    parser.add_argument("--seed", type=int, default=11)
    parser.add_argument("--vet-accounts", type=int, default=30)
    parser.add_argument("--mode", choices=("bulk", "vet"))
    parser.add_argument("--url", help="an existing demo store (copied, never modified)")
    args = parser.parse_args()
    if args.mode:
        print(json.dumps(run_mode(args.mode, args.url, args.vet_accounts)))
        return
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "demo.sqlite"
        url = f"sqlite:///{path}"
        started = time.perf_counter()
        if args.url:
            shutil.copyfile(args.url.removeprefix("sqlite:///"), path)
        else:
            _cli(
                "demo",
                "--creators",
                str(args.creators),
                "--seed",
                str(args.seed),
                "--database-url",
                url,
            )
        print(f"demo workspace ready in {time.perf_counter() - started:.1f}s")
        # Drop any stored metrics so the first measurement is the computed-cohort baseline.
        engine = sa.create_engine(url)
        with engine.begin() as conn:
            for table in ("post_metrics", "account_metrics", "account_tiers", "metric_runs"):
                conn.execute(sa.text(f"DELETE FROM {table}"))
        engine.dispose()
        results = {"computed": _child("vet", url, args.vet_accounts)}
        started = time.perf_counter()
        _cli("score", "--workspace", "demo", "--database-url", url)
        print(f"microfluence score: {time.perf_counter() - started:.1f}s")
        results["stored"] = _child("vet", url, args.vet_accounts)
        results["bulk"] = _child("bulk", url, args.vet_accounts)
    print(
        f"{'method':<34}{'accounts':>9}{'mean s':>9}{'median s':>9}{'max s':>8}"
        f"{'acc/s':>9}{'peak MiB':>9}"
    )
    labels = {
        "computed": "vet, computed cohort (baseline)",
        "stored": "vet, stored cohort",
        "bulk": "bulk (score_workspace)",
    }
    for key, label in labels.items():
        r = results[key]
        print(
            f"{label:<34}{r['accounts']:>9,}{r['mean']:>9.2f}{r['median']:>9.2f}{r['max']:>8.2f}"
            f"{r['accounts_per_s']:>9.1f}{r['peak_mib']:>9.0f}"
        )
    print(
        f"a single vet is {results['computed']['mean'] / results['stored']['mean']:.0f}x faster "
        "with the stored cohort"
    )


if __name__ == "__main__":
    main()
