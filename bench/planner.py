"""Benchmark: the budget planner over 100,000 candidate creators (issue 15).

    .venv/bin/python -m bench.planner [--candidates 100000] [--budget 50000] [--seed 1]

Synthetic candidates (platform, followers log-uniform 1K–2M, ER, niche, country, AQS), each
with every format its platform offers (~3.5 options per candidate), priced by the published
bands (planning.prices, no deals) and forecast (planning.forecasts, default funnel). Then, for
the objectives revenue and clicks, with and without constraints (at most 60 creators, at least
5 in each of three niches, at least 10 micro creators, AQS ≥ 40, at most 10 % of the budget per
creator):

* the mixed-integer program by HiGHS (planning.milp): solve time, its objective, HiGHS's
  reported gap and dual bound;
* the greedy baseline in the same run (best value per price, one per creator, budget and count
  only): its objective, and how far below the MILP's it is.

Prefilter (exact): of one creator's options, those that cost at least as much as another of
its options and bring no more value are dropped, since at most one option per creator is
taken, one that is dominated this way never needs to be chosen. The options left are counted.
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import polars as pl

from microfluence.planning import forecasts, milp, prices
from microfluence.planning.planner import build_program, options_frame, value_of
from microfluence.planning.rates import tier_of
from microfluence.planning.schemas import PlanRequest, Quota

NICHES = ("beauty", "food", "travel", "fitness", "gaming", "fashion", "tech", "parenting")
COUNTRIES = ("US", "GB", "FR", "DE", "ES", "IT", "BR", "IN")
PLATFORMS = ("instagram", "tiktok", "youtube")


def candidates(n: int, seed: int) -> pl.DataFrame:
    rng = np.random.default_rng(seed)
    followers = np.exp(rng.uniform(np.log(1_000), np.log(2_000_000), n)).round()
    er = np.clip(0.06 * (followers / 3_000) ** -0.25 * np.exp(rng.normal(0, 0.5, n)), 1e-3, 0.5)
    return pl.DataFrame(
        {
            "account_id": np.arange(1, n + 1),
            "creator_id": np.arange(1, n + 1),
            "creator_name": [f"c{i}" for i in range(n)],
            "handle": [f"h{i}" for i in range(n)],
            "platform": rng.choice(PLATFORMS, n, p=[0.6, 0.3, 0.1]),
            "followers": followers,
            "er": er,
            "er_median_lo": er / 1.3,
            "er_median_hi": er * 1.3,
            "niche": rng.choice(NICHES, n),
            "country": rng.choice(COUNTRIES, n),
            "aqs": rng.uniform(0, 100, n),
        }
    )


def priced(frame: pl.DataFrame) -> pl.DataFrame:
    funnel = forecasts.funnel_rates(0, 0, 0, 0, 0)
    options = prices.predict(prices.fit_prices(pl.DataFrame()), options_frame(frame))
    options = options.with_columns(tier=pl.Series(tier_of(options["followers"].to_numpy())))
    return pl.concat([options, forecasts.expected(options, funnel)], how="horizontal")


def pareto(options: pl.DataFrame, objective: str) -> pl.DataFrame:
    """Drop options another option of the same creator beats on price and value (exact)."""
    values = value_of(options, options["price_mid"].to_numpy(), objective)
    frame = options.with_columns(value=pl.Series(values)).filter(pl.col("value") > 0)
    frame = frame.sort("creator_id", "price_mid", pl.col("value"), descending=[False, False, True])
    best_before = pl.col("value").cum_max().shift(1).over("creator_id")
    return frame.filter(best_before.is_null() | (pl.col("value") > best_before)).drop("value")


def constrained(budget: float, objective: str) -> PlanRequest:
    return PlanRequest(
        budget=budget,
        objective=objective,
        max_creators=60,
        niches={n: Quota(min=5) for n in NICHES[:3]},
        tiers={"micro": Quota(min=10)},
        min_aqs=40,
        max_share=0.1,
    )


def run(options: pl.DataFrame, request: PlanRequest) -> None:
    kept = options.filter(pl.col("price_mid") <= request.budget)
    if request.min_aqs is not None:
        kept = kept.filter(pl.col("aqs") >= request.min_aqs)
    if request.max_share is not None:
        kept = kept.filter(pl.col("price_mid") <= request.max_share * request.budget)
    started = time.perf_counter()
    kept = pareto(kept, request.objective)
    program = build_program(kept, request, constrained=request.max_creators is not None)
    built = time.perf_counter() - started
    values = program.values
    greedy_started = time.perf_counter()
    taken = milp.greedy(
        values,
        kept["price_mid"].to_numpy(),
        kept["creator_id"].to_numpy(),
        request.budget,
        request.max_creators,
    )
    greedy_seconds = time.perf_counter() - greedy_started
    greedy_value = float(values[taken].sum())
    incumbent = np.zeros(len(values))
    incumbent[taken] = 1.0
    solution = milp.solve(program, incumbent=incumbent)
    label = "constrained" if request.max_creators is not None else "budget only"
    gap = "n/a" if solution.gap is None else f"{solution.gap:.4%}"
    print(
        f"{request.objective:>8} {label:<12} options {kept.height:>7,}  build {built:5.2f} s  "
        f"solve {solution.seconds:6.2f} s  MILP {solution.objective:14,.1f}  "
        f"bound {solution.bound or 0:14,.1f}  gap {gap:>8}  greedy {greedy_value:14,.1f} "
        f"({greedy_value / solution.objective - 1:+.2%}, {greedy_seconds:.2f} s)  "
        f"chosen {len(solution.chosen)}"
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--candidates", type=int, default=100_000)
    parser.add_argument("--budget", type=float, default=50_000)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    started = time.perf_counter()
    options = priced(candidates(args.candidates, args.seed))
    print(
        f"{args.candidates:,} candidates, {options.height:,} options priced and forecast in "
        f"{time.perf_counter() - started:.2f} s; budget {args.budget:,.0f}"
    )
    for objective in ("revenue", "clicks"):
        run(options, PlanRequest(budget=args.budget, objective=objective))
        run(options, constrained(args.budget, objective))


if __name__ == "__main__":
    main()
