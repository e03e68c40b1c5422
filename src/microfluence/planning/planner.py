"""The budget planner: candidates × formats priced and forecast, the mixed-integer program
(planning.milp) under the user's constraints, the plan's outcome simulated, and the two
alternatives side by side — the best single creator for the same budget, and the plan without
constraints (docs/planning.md, "Planner")."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import polars as pl
from sqlalchemy.orm import Session

from microfluence.kernel.errors import InputError
from microfluence.kernel.store.tables import Workspace
from microfluence.planning import forecasts, prices, rates, tested
from microfluence.planning.candidates import load_candidates
from microfluence.planning.overlap import overlap_pairs
from microfluence.planning.schemas import PlanRequest, PlanResult, SolverInfo
from microfluence.planning.simulate import outcome

if TYPE_CHECKING:
    from microfluence.planning import milp

MAX_CANDIDATES = 200_000


def options_frame(candidates: pl.DataFrame, formats: list[str] | None = None) -> pl.DataFrame:
    """One row per candidate × format its platform offers (``formats`` restricts them)."""
    offered = pl.DataFrame(
        [
            (p, f)
            for p in {*rates.FORMAT_MULTIPLIERS, *rates.RATE_BANDS}
            for f in rates.formats_for(p)
        ],
        schema={"platform_key": pl.String, "format": pl.String},
        orient="row",
    )
    keyed = candidates.with_columns(
        platform_key=pl.when(pl.col("platform").is_in(list(rates.FORMAT_MULTIPLIERS)))
        .then(pl.col("platform"))
        .otherwise(pl.lit("other"))
    )
    frame = keyed.join(offered, on="platform_key").drop("platform_key")
    if formats:
        frame = frame.filter(pl.col("format").is_in(formats))
    return frame.sort("account_id", "format")


def value_of(expected: pl.DataFrame, price: np.ndarray, objective: str) -> np.ndarray:
    """What the program maximises per option: the expected outcome, or for ROI the expected
    net return (revenue − price), ROI's linear form at a fixed budget."""
    if objective == "roi":
        return expected["revenue"].to_numpy() - price
    return expected[objective].to_numpy()


def priced_options(
    session: Session, workspace: Workspace, request: PlanRequest
) -> tuple[pl.DataFrame, forecasts.Rates, prices.PriceModel]:
    """Every option with its price range and expected outcomes."""
    candidates = load_candidates(session, workspace.id, shortlist=request.shortlist)
    if candidates.height > MAX_CANDIDATES:
        raise InputError(
            f"{candidates.height} candidates: plan from a shortlist (at most {MAX_CANDIDATES})",
            field="shortlist",
        )
    model = prices.fit_prices(prices.deal_history(session, workspace.id))
    funnel = forecasts.workspace_rates(session, workspace)
    own = tested.account_rates(session, workspace.id, PlanResult.model_fields["currency"].default)
    options = prices.predict(
        model, tested.with_tested(options_frame(candidates, request.formats), own)
    )
    options = options.with_columns(tier=pl.Series(rates.tier_of(options["followers"].to_numpy())))
    expected = forecasts.expected(options, funnel)
    return pl.concat([options, expected], how="horizontal"), funnel, model


def _filters(options: pl.DataFrame, request: PlanRequest) -> tuple[pl.DataFrame, list[str]]:
    notes = []
    keep = pl.col("price_mid") <= request.budget
    if request.min_aqs is not None:
        keep &= pl.col("aqs").fill_null(-1.0) >= request.min_aqs
        notes.append("accounts without an Audience Quality Score are left out by the minimum AQS")
    if request.max_share is not None:
        keep &= pl.col("price_mid") <= request.max_share * request.budget
    kept = options.filter(keep)
    if kept.height == 0 and options.height:
        field = "min_aqs" if request.min_aqs is not None else "max_share"
        if request.max_share is None and request.min_aqs is None:
            field = "budget"
        raise InputError(
            "no candidate is left once the budget, the minimum AQS and the maximum share "
            "per creator are applied",
            field=field,
        )
    return kept, notes


def build_program(
    options: pl.DataFrame,
    request: PlanRequest,
    overlap: np.ndarray | None = None,
    *,
    constrained: bool = True,
) -> milp.Program:
    """The program's value vector and its named groups of constraints."""
    # The solver's module imports scipy.optimize and scipy.sparse (about 0.9 s): on first plan.
    from microfluence.planning import milp

    values = value_of(options, options["price_mid"].to_numpy(), request.objective)
    creators = options["creator_id"].to_numpy()
    per_creator, _ = milp.indicator(creators)
    n_creators = per_creator.shape[0]
    groups = [
        milp.Group(
            "one option per creator",
            "creator",
            per_creator,
            np.zeros(n_creators),
            np.ones(n_creators),
            required=True,
        ),
        milp.Group(
            f"budget {request.budget:,.2f}",
            "budget",
            milp.sparse.csr_matrix(options["price_mid"].to_numpy().reshape(1, -1)),
            np.array([0.0]),
            np.array([request.budget]),
        ),
    ]
    if not constrained:
        return milp.Program(values, groups)
    everyone = np.ones(options.height, dtype=bool)
    if request.min_creators is not None or request.max_creators is not None:
        groups.append(
            milp.count_group(
                _count_name(request.min_creators, request.max_creators, "creators"),
                "min_creators" if request.min_creators is not None else "max_creators",
                everyone,
                request.min_creators,
                request.max_creators,
            )
        )
    for fld, column, quotas in (
        ("niches", "niche", request.niches),
        ("countries", "country", request.countries),
        ("tiers", "tier", request.tiers),
    ):
        values_of = options[column].str.to_lowercase().to_numpy()
        for label, quota in quotas.items():
            mask = values_of == label.strip().lower()
            groups.append(
                milp.count_group(
                    f"{column} {label}: " + _count_name(quota.min, quota.max, "creators"),
                    f"{fld}.{label}",
                    mask,
                    quota.min,
                    quota.max,
                )
            )
    if overlap is not None and len(overlap):
        groups.append(
            milp.pair_group(
                f"audience overlap at most {request.max_overlap:.0%}",
                "max_overlap",
                options["account_id"].to_numpy(),
                overlap,
            )
        )
    return milp.Program(values, groups)


def _count_name(low: int | None, high: int | None, what: str) -> str:
    if low is not None and high is not None:
        return f"{low} to {high} {what}"
    return f"at least {low} {what}" if low is not None else f"at most {high} {what}"


def make_plan(session: Session, workspace: Workspace, request: PlanRequest) -> PlanResult:
    """Plan ``request`` over the workspace's accounts (or its shortlist)."""
    from microfluence.planning import milp

    _check(request)
    options, funnel, model = priced_options(session, workspace, request)
    total = options.height
    kept, notes = _filters(options, request)
    pairs = None
    if request.max_overlap is not None:
        pairs, estimated = overlap_pairs(
            session, workspace.id, kept["account_id"].unique().to_list(), request.max_overlap
        )
        notes.append(f"audience overlap estimated for {estimated} pairs of sampled accounts")
    solution = milp.solve(build_program(kept, request, pairs))
    free_options = options.filter(pl.col("price_mid") <= request.budget)
    free = milp.solve(build_program(free_options, request, constrained=False))
    seed = request.seed
    plan = outcome("plan", kept[solution.chosen], funnel, request.objective, seed=seed)
    unconstrained = outcome(
        "without constraints", free_options[free.chosen], funnel, request.objective, seed=seed
    )
    single = None
    if free_options.height:
        values = value_of(free_options, free_options["price_mid"].to_numpy(), request.objective)
        best = int(np.argmax(values))
        single = outcome(
            "best single creator", free_options[[best]], funnel, request.objective, seed=seed
        )
    if not solution.chosen.size:
        notes.append("no option adds to the objective within the budget: the plan is empty")
    return PlanResult(
        request=request,
        candidates=total,
        plan=plan,
        single_creator=single,
        unconstrained=unconstrained,
        solver=SolverInfo(
            status=solution.status,
            options=kept.height,
            seconds=round(solution.seconds, 4),
            gap=solution.gap,
            bound=solution.bound,
        ),
        price_basis=prices.basis(model),
        forecast_basis=forecast_basis(funnel, options),
        notes=notes,
    )


def forecast_basis(funnel: forecasts.Rates, options: pl.DataFrame) -> str:
    """The funnel's basis and how many candidates use their own tested conversion rate (and
    order value)."""
    rate = options.filter(pl.Series(forecasts.tested_rows(options)))["account_id"].n_unique()
    if not rate:
        return funnel.basis
    value = options.filter(pl.Series(forecasts.tested_aov(options)[3]))["account_id"].n_unique()
    word = "candidate" if rate == 1 else "candidates"
    return (
        f"{funnel.basis}; {rate:,} {word} with their own tested conversion rate and {value:,} "
        "with their own order value (test-and-learn posteriors)"
    )


def _check(request: PlanRequest) -> None:
    if (
        request.min_creators is not None
        and request.max_creators is not None
        and request.min_creators > request.max_creators
    ):
        raise InputError("is more than max_creators", field="min_creators")
    for fld, quotas in (
        ("niches", request.niches),
        ("countries", request.countries),
        ("tiers", request.tiers),
    ):
        for label, quota in quotas.items():
            if quota.min is not None and quota.max is not None and quota.min > quota.max:
                raise InputError("its minimum is more than its maximum", field=f"{fld}.{label}")
