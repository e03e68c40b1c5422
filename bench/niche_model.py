"""Measure the niche model on the labelled data set and (with --write) rebuild the shipped model.

    python -m bench.niche_model /path/to/niches-kim-dev/accounts.jsonl [--folds 5] [--write]

Cross-validation and the keyword baseline (discovery.evaluation), the time to score 1,000
accounts, and the shipped model's size. Figures go in docs/discovery.md.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from microfluence.discovery.dataset import read_accounts
from microfluence.discovery.evaluation import LABELS, evaluate
from microfluence.discovery.model import SHIPPED_MODEL
from microfluence.discovery.training import train

VERSION = "niches-hashed-sgd-1"
SHIPPED = Path(__file__).parent.parent / "src/microfluence/discovery/models" / SHIPPED_MODEL


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("data", type=Path)
    parser.add_argument("--folds", type=int, default=5)
    parser.add_argument("--write", action="store_true", help="rebuild the shipped model")
    args = parser.parse_args()
    accounts = read_accounts(args.data)
    started = time.perf_counter()
    result = evaluate(accounts, folds=args.folds)
    seconds = time.perf_counter() - started
    print(f"{accounts.height:,} accounts, {args.folds}-fold CV in {seconds:.0f} s")
    for name, scores in (("model", result.model), ("keyword baseline", result.baseline)):
        print(f"{name}: accuracy {scores.accuracy:.3f}, macro-F1 {scores.macro_f1:.3f}")
        print(
            "  per niche F1: " + ", ".join(f"{k} {v:.2f}" for k, v in scores.per_niche_f1.items())
        )
    for name, (model, baseline) in result.slices.items():
        print(
            f"{name} ({model.accounts:,}): model acc {model.accuracy:.3f} macro-F1 "
            f"{model.macro_f1:.3f}; baseline acc {baseline.accuracy:.3f} "
            f"macro-F1 {baseline.macro_f1:.3f}"
        )
    print("confusion (rows true, columns predicted): " + " ".join(LABELS))
    for label, row in zip(LABELS, result.confusion, strict=True):
        print(f"  {label:>16} " + " ".join(f"{v:5d}" for v in row))
    if args.write:
        model = train(accounts, version=VERSION)
        SHIPPED.parent.mkdir(exist_ok=True)
        model.save(SHIPPED)
        print(f"wrote {SHIPPED} ({SHIPPED.stat().st_size / 1e6:.1f} MB)")
        sample = accounts.head(1000)
        started = time.perf_counter()
        model.probabilities(sample)
        print(f"scoring 1,000 accounts: {time.perf_counter() - started:.3f} s")


if __name__ == "__main__":
    main()
