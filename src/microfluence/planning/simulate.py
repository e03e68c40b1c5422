"""A plan's outcome: its creators' forecasts drawn together (rows × draws, summed over rows),
the totals' means and 90 % ranges, ROI's range and the probability that the plan pays back."""

from __future__ import annotations

import numpy as np
import polars as pl

from microfluence.planning import forecasts, rates
from microfluence.planning.schemas import Interval, PlanItem, PlanOutcome

DRAWS = 2000
LEVEL = 0.9


def _interval(values: np.ndarray, mean: float | None = None) -> Interval:
    tail = (1 - LEVEL) / 2
    low, high = np.quantile(values, [tail, 1 - tail]) if values.size else (0.0, 0.0)
    centre = float(values.mean()) if mean is None and values.size else (mean or 0.0)
    return Interval(mean=round(centre, 4), low=round(float(low), 4), high=round(float(high), 4))


def plan_draws(
    chosen: pl.DataFrame, funnel: forecasts.Rates, *, draws: int = DRAWS, seed: int = 0
) -> dict[str, np.ndarray]:
    """Per outcome, the plan's total in each draw (length ``draws``), and ``roi`` per draw
    (``(revenue − cost) / cost``, cost the prices' centres)."""
    if chosen.height == 0:
        zeros = np.zeros(draws)
        return {name: zeros for name in (*forecasts.OUTCOMES, "roi")}
    sims = forecasts.draw(chosen, funnel, draws=draws, seed=seed)
    totals = {name: sims[name].sum(axis=0) for name in forecasts.OUTCOMES}
    cost = float(chosen["price_mid"].sum())
    totals["roi"] = (totals["revenue"] - cost) / cost if cost > 0 else np.zeros(draws)
    return totals


def outcome(
    name: str,
    chosen: pl.DataFrame,
    funnel: forecasts.Rates,
    objective: str,
    *,
    seed: int = 0,
) -> PlanOutcome:
    """The plan's items and its simulated totals."""
    totals = plan_draws(chosen, funnel, seed=seed)
    cost = float(chosen["price_mid"].sum()) if chosen.height else 0.0
    items = _items(chosen, funnel, seed)
    expected = forecasts.expected(chosen, funnel) if chosen.height else None
    value = 0.0
    if expected is not None:
        value = float(
            (expected["revenue"].sum() - cost) if objective == "roi" else expected[objective].sum()
        )
    return PlanOutcome(
        name=name,
        items=items,
        cost=round(cost, 2),
        objective_value=round(value, 4),
        totals={
            k: _interval(totals[k], float(expected[k].sum()) if expected is not None else 0.0)
            for k in forecasts.OUTCOMES
        },
        roi=_interval(totals["roi"]) if cost > 0 else None,
        p_roi_positive=round(float((totals["roi"] > 0).mean()), 4) if cost > 0 else None,
        quantiles=_quantiles(totals, objective, cost),
    )


QUANTILES = np.linspace(0.05, 0.95, 19)


def _quantiles(totals: dict[str, np.ndarray], objective: str, cost: float) -> dict[str, list]:
    key = "revenue" if objective == "roi" else objective
    out = {key: [round(float(v), 4) for v in np.quantile(totals[key], QUANTILES)]}
    if cost > 0:
        out["roi"] = [round(float(v), 4) for v in np.quantile(totals["roi"], QUANTILES)]
    return out


def _items(chosen: pl.DataFrame, funnel: forecasts.Rates, seed: int) -> list[PlanItem]:
    if chosen.height == 0:
        return []
    fc = forecasts.forecast(chosen, funnel, draws=DRAWS, seed=seed + 1, level=LEVEL)
    out = []
    for row in fc.iter_rows(named=True):  # the chosen few, to build the answer
        out.append(
            PlanItem(
                account_id=row["account_id"],
                account=f"{row['platform']}:{row['handle']}",
                creator_id=row["creator_id"],
                creator_name=row["creator_name"],
                format=row["format"],
                package=rates.package_of(row["platform"], row["format"]),
                tier=row["tier"],
                niche=row["niche"],
                country=row["country"],
                aqs=row["aqs"],
                price=Interval(
                    mean=round(row["price_mid"], 2),
                    low=round(row["price_low"], 2),
                    high=round(row["price_high"], 2),
                ),
                expected={
                    k: Interval(
                        mean=round(row[k], 4),
                        low=round(row[f"{k}_low"], 4),
                        high=round(row[f"{k}_high"], 4),
                    )
                    for k in forecasts.OUTCOMES
                },
            )
        )
    return out
