"""`make bench`: run every benchmark in bench/, each in its own process, one after the other.

Each benchmark compares against its baseline in the same run and prints its figures;
`docs/benchmarks.md` records them. Pass names to run only some: `python -m bench import_posts`.
"""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).parent


def main(names: list[str]) -> int:
    # A benchmark is a module that runs as a script; the others are its helpers.
    available = sorted(
        p.stem
        for p in HERE.glob("*.py")
        if not p.stem.startswith("_") and 'if __name__ == "__main__"' in p.read_text()
    )
    chosen = names or available
    unknown = [n for n in chosen if n not in available]
    if unknown:
        print(f"unknown benchmark(s): {', '.join(unknown)}; available: {', '.join(available)}")
        return 2
    failed = []
    for name in chosen:
        print(f"\n=== bench.{name} ===", flush=True)
        started = time.perf_counter()
        code = subprocess.call([sys.executable, "-m", f"bench.{name}"], cwd=HERE.parent)
        print(f"=== bench.{name}: exit {code} in {time.perf_counter() - started:.1f}s ===")
        if code:
            failed.append(name)
    if failed:
        print(f"failed: {', '.join(failed)}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
