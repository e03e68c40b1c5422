"""Benchmark: score a whole workspace with the Audience Quality Score (issue 5).

    .venv/bin/python -m bench.vetting [--creators 1000] [--naive-accounts 25]

Builds a demo workspace (``microfluence demo``) in a temporary SQLite file, then, each in a fresh
child process so that peak memory is its own:

* ``bulk``: ``score_workspace`` — every signal and the score for every account at once, the way
  ``microfluence eval vetting`` runs (vectorised over all accounts);
* ``per account``: ``vet_account`` called account by account (what a loop over the single-account
  report would do), on the first ``--naive-accounts`` accounts, its accounts/s extrapolated.

Prints accounts/s and peak RSS for each; docs/benchmarks.md records the figures.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def _peak_mib() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def run_mode(mode: str, url: str, naive_accounts: int) -> dict[str, float]:
    import sqlalchemy as sa

    from microfluence.authenticity.vetting import vet_account
    from microfluence.authenticity.vetting_evaluation import score_workspace
    from microfluence.kernel.store import open_store
    from microfluence.kernel.store.tables import Account

    store = open_store(url)
    with store.session() as session:
        accounts = session.execute(
            sa.select(Account.platform, Account.handle).order_by(Account.id)
        ).all()
    started = time.perf_counter()
    if mode == "bulk":
        scored = score_workspace(store, "demo")
        done = scored.height
    else:
        done = 0
        for platform, handle in accounts[:naive_accounts]:
            vet_account(store, "demo", platform, handle)
            done += 1
    seconds = time.perf_counter() - started
    return {
        "accounts": done,
        "total_accounts": len(accounts),
        "seconds": seconds,
        "accounts_per_s": done / seconds,
        "peak_mib": _peak_mib(),
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--creators", type=int, default=1000)
    parser.add_argument("--naive-accounts", type=int, default=25)
    parser.add_argument("--mode", choices=("bulk", "naive"))
    parser.add_argument("--url")
    args = parser.parse_args()
    if args.mode:
        print(json.dumps(run_mode(args.mode, args.url, args.naive_accounts)))
        return
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{Path(tmp) / 'demo.sqlite'}"
        started = time.perf_counter()
        subprocess.run(
            [
                sys.executable,
                "-m",
                "microfluence",
                "demo",
                "--creators",
                str(args.creators),
                "--database-url",
                url,
            ],
            check=True,
            stdout=subprocess.DEVNULL,
        )
        print(
            f"demo workspace of {args.creators:,} creators built in "
            f"{time.perf_counter() - started:.1f}s"
        )
        results = {}
        for mode in ("bulk", "naive"):
            out = subprocess.run(
                [
                    sys.executable,
                    "-m",
                    "bench.vetting",
                    "--mode",
                    mode,
                    "--url",
                    url,
                    "--naive-accounts",
                    str(args.naive_accounts),
                ],
                check=True,
                capture_output=True,
                text=True,
            )
            results[mode] = json.loads(out.stdout.strip().splitlines()[-1])
    bulk, naive = results["bulk"], results["naive"]
    naive_total = bulk["accounts"] / naive["accounts_per_s"]
    print(f"{'method':<34}{'accounts':>10}{'seconds':>10}{'accounts/s':>12}{'peak MiB':>10}")
    print(
        f"{'bulk (score_workspace)':<34}{bulk['accounts']:>10,}{bulk['seconds']:>10.1f}"
        f"{bulk['accounts_per_s']:>12.1f}{bulk['peak_mib']:>10.0f}"
    )
    print(
        f"{'per account (vet_account loop)':<34}{naive['accounts']:>10,}"
        f"{naive['seconds']:>10.1f}{naive['accounts_per_s']:>12.2f}{naive['peak_mib']:>10.0f}"
    )
    print(
        f"per-account loop extrapolated to {bulk['accounts']:,} accounts: {naive_total:.0f}s; "
        f"bulk is {naive_total / bulk['seconds']:.0f}x faster"
    )


if __name__ == "__main__":
    main()
