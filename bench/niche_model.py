"""Measure the niche model next to the other methods on the labelled data set and (with --write)
rebuild the shipped model.

    python -m bench.niche_model /path/to/niches-kim-dev/accounts.jsonl [--folds 5] [--write]
        [--by-posts]

Cross-validation of every method of discovery.candidates on the same folds (discovery.evaluation),
the scoring speed of the model in accounts per second (20,000 accounts: the data set's accounts
repeated), and the shipped model's size; with ``--by-posts`` also how the model's figure grows
with the posts an account shows (discovery.posts_curve). Deterministic for a seed (``--seed``,
default 0). Figures go in docs/discovery.md.
"""

from __future__ import annotations

import argparse
import os
import time
from pathlib import Path

import polars as pl

from microfluence.discovery.candidates import PREVIOUS, all_methods, hashed_methods
from microfluence.discovery.dataset import read_accounts
from microfluence.discovery.evaluation import LABELS, NicheEvaluation, evaluate
from microfluence.discovery.model import SHIPPED_MODEL, VERSION, NicheModel
from microfluence.discovery.posts_curve import PostsCurve, posts_curve
from microfluence.discovery.training import train

SHIPPED = Path(__file__).parent.parent / "src/microfluence/discovery/models" / SHIPPED_MODEL
SPEED_ACCOUNTS = 20_000


def report(result: NicheEvaluation) -> None:
    names = list(result.methods)
    print("accuracy / macro-F1 (8) per method: " + " | ".join(names))
    for name, scores in [("all", result.methods), *result.slices.items()]:
        n = next(iter(scores.values())).accounts
        cells = " | ".join(f"{s.accuracy:.3f} / {s.macro_f1:.3f}" for s in scores.values())
        print(f"  {name} ({n:,}): {cells}")
    print(
        "  seconds (training + scoring, all folds): "
        + ", ".join(f"{m} {s:.0f}" for m, s in result.seconds.items())
    )
    for name in (names[0], PREVIOUS, "keyword baseline"):
        if name in result.methods:
            per = result.methods[name].per_niche_f1
            print(f"  F1 per niche, {name}: " + ", ".join(f"{k} {v:.2f}" for k, v in per.items()))
    print("confusion of the model (rows true, columns predicted): " + " ".join(LABELS))
    for label, row in zip(LABELS, result.confusion, strict=True):
        print(f"  {label:>16} " + " ".join(f"{v:5d}" for v in row))


def report_posts(curve: PostsCurve) -> None:
    print("by posts, the model (accuracy / macro-F1 (8)):")
    for name, scores in [
        ("two-post accounts, both posts", curve.both),
        ("the same accounts, first post only", curve.first_only),
        *((f"pooled accounts of {k} first posts", s) for k, s in curve.pooled.items()),
    ]:
        per = ", ".join(f"{n} {f:.2f}" for n, f in scores.per_niche_f1.items())
        print(
            f"  {name} ({scores.accounts:,}): {scores.accuracy:.3f} / {scores.macro_f1:.3f} ({per})"
        )


def speed(model: NicheModel, accounts: pl.DataFrame) -> None:
    sample = pl.concat([accounts] * (SPEED_ACCOUNTS // accounts.height + 1)).head(SPEED_ACCOUNTS)
    model.probabilities(sample.head(100))  # the hashers are built on first use
    started, cpu = time.perf_counter(), time.process_time()
    for start in range(0, sample.height, 2_000):  # the batches niches.recompute_niches uses
        model.probabilities(sample.slice(start, 2_000))
    seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
    print(
        f"scoring {sample.height:,} accounts: {seconds:.1f} s, "
        f"{sample.height / seconds:,.0f} accounts/s "
        f"(1,000,000 accounts: {1e6 / sample.height * seconds / 60:.0f} min); "
        f"{cpu:.1f} s of CPU, {sample.height / cpu:,.0f} accounts per CPU-second; "
        f"load average {os.getloadavg()[0]:.1f}"
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("data", type=Path)
    parser.add_argument("--folds", type=int, default=5)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--write", action="store_true", help="rebuild the shipped model")
    parser.add_argument(
        "--no-embeddings",
        action="store_true",
        help="only the model, the previous model and the keyword baseline (faster)",
    )
    parser.add_argument(
        "--by-posts", action="store_true", help="also the model's figure by posts shown"
    )
    args = parser.parse_args()
    accounts = read_accounts(args.data)
    started = time.perf_counter()
    methods = hashed_methods() if args.no_embeddings else all_methods()
    result = evaluate(accounts, folds=args.folds, seed=args.seed, methods=methods)
    seconds = time.perf_counter() - started
    print(f"{accounts.height:,} accounts, {args.folds}-fold CV in {seconds:.0f} s")
    report(result)
    if args.by_posts:
        started = time.perf_counter()
        curve = posts_curve(accounts, folds=args.folds, seed=args.seed)
        print(f"by posts in {time.perf_counter() - started:.0f} s")
        report_posts(curve)
    if args.write:
        model = train(accounts, version=VERSION, seed=args.seed)
        SHIPPED.parent.mkdir(exist_ok=True)
        model.save(SHIPPED)
        print(f"wrote {SHIPPED} ({SHIPPED.stat().st_size / 1e6:.1f} MB)")
        speed(model, accounts)


if __name__ == "__main__":
    main()
