"""The plan as a mixed-integer program, solved by HiGHS through ``scipy.optimize.milp``.

One binary ``x_k`` per option (a creator's account × a deliverable format), maximising
``Σ v_k x_k`` (``v`` the option's expected objective) subject to, each a named group of rows:

* one option per creator: ``Σ_{k of creator c} x_k ≤ 1``;
* budget: ``Σ p_k x_k ≤ B`` (``p`` the price's centre);
* number of creators, per-niche, per-country and per-tier quotas: ``min ≤ Σ_{k in group} x_k ≤
  max``;
* audience overlap: ``Σ_{k of i} x_k + Σ_{k of j} x_k ≤ 1`` for each pair of accounts whose
  sampled followers overlap more than the limit.

Minimum AQS, allowed formats and the maximum budget share per creator remove options before
the program is built. When the program is infeasible, each group is dropped in turn: the first
whose removal makes it feasible is the one named in the error (docs/planning.md).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import numpy as np
from scipy import sparse
from scipy.optimize import Bounds, LinearConstraint, linprog, milp

from microfluence.kernel.errors import InputError

TIME_LIMIT = 60.0
REL_GAP = 1e-4  # HiGHS's relative gap: exact for the plans people make …
LARGE_REL_GAP = 1e-3  # … 0.1 % above LARGE options (100,000 candidates: bench/planner.py)


@dataclass
class Group:
    """Rows of constraints that mean one thing to the user (its ``name`` and ``field``)."""

    name: str
    field: str
    matrix: sparse.csr_matrix
    low: np.ndarray
    high: np.ndarray
    required: bool = False  # never dropped when diagnosing (one option per creator)


@dataclass
class Program:
    values: np.ndarray
    groups: list[Group] = field(default_factory=list)


@dataclass(frozen=True)
class Solution:
    chosen: np.ndarray  # indices of the options taken
    objective: float
    status: str
    seconds: float
    gap: float | None
    bound: float | None


def indicator(keys: np.ndarray) -> tuple[sparse.csr_matrix, np.ndarray]:
    """A 0/1 matrix with one row per distinct key, one column per option."""
    labels, rows = np.unique(keys, return_inverse=True)
    n = len(keys)
    matrix = sparse.csr_matrix((np.ones(n), (rows, np.arange(n))), shape=(len(labels), n))
    return matrix, labels


def count_group(
    name: str, fld: str, mask: np.ndarray, low: float | None, high: float | None
) -> Group:
    row = sparse.csr_matrix(mask.astype("float64").reshape(1, -1))
    return Group(
        name,
        fld,
        row,
        np.array([0.0 if low is None else float(low)]),
        np.array([np.inf if high is None else float(high)]),
    )


def _solve(values: np.ndarray, groups: list[Group], time_limit: float) -> tuple[object, float]:
    n = len(values)
    constraints = [
        LinearConstraint(g.matrix, g.low, g.high) for g in groups if g.matrix.shape[0] > 0
    ]
    started = time.perf_counter()
    result = milp(
        -values,
        integrality=np.ones(n),
        bounds=Bounds(0, 1),
        constraints=constraints,
        options={
            "time_limit": time_limit,
            "mip_rel_gap": REL_GAP if n <= LARGE else LARGE_REL_GAP,
            "presolve": True,
        },
    )
    return result, time.perf_counter() - started


def _feasible(groups: list[Group], x: np.ndarray) -> bool:
    return all(
        bool(np.all((g.matrix @ x >= g.low - 1e-9) & (g.matrix @ x <= g.high + 1e-9)))
        for g in groups
    )


def fixable(program: Program, incumbent: np.ndarray | None) -> np.ndarray:
    """The options reduced-cost fixing removes (see :func:`relax`)."""
    return relax(program, incumbent)[0]


def relax(program: Program, incumbent: np.ndarray | None) -> tuple[np.ndarray, float | None]:
    """Options that no solution better than ``incumbent`` (a feasible 0/1 vector) can take,
    by reduced-cost fixing on the LP relaxation: if the LP's optimum minus an option's reduced
    cost is below the incumbent's value, taking it can only do worse (exact)."""
    n = len(program.values)
    if incumbent is None or not _feasible(program.groups, incumbent):
        return np.zeros(n, dtype=bool), None
    side, rhs = side_rows(program)
    owners = next(g for g in program.groups if g.required)
    lp = linprog(
        -program.values,
        A_ub=sparse.vstack([owners.matrix, side]).tocsr(),
        b_ub=np.concatenate([owners.high, rhs]),
        bounds=(0, 1),
        method="highs",
    )
    if lp.status != 0:
        return np.zeros(n, dtype=bool), None
    best = -float(lp.fun)
    reduced = np.asarray(lp.lower.marginals)  # ≥ 0 for options the LP leaves at 0
    found = float(program.values @ incumbent)
    return (lp.x < 1e-9) & (best - reduced < found - 1e-9 * max(1.0, abs(found))), best


LARGE = 5_000  # options above which a warm start is looked for
SUBSET = 3_000


def _subset(program: Program) -> np.ndarray:
    """The options a warm start looks among: the best by value per unit of price, by value,
    and in every group that asks for a minimum."""
    n = len(program.values)
    budget = next((g for g in program.groups if g.field == "budget"), None)
    price = budget.matrix.toarray().ravel() if budget is not None else np.ones(n)
    ratio = program.values / np.maximum(price, 1e-12)
    picked = [np.argsort(-ratio)[:SUBSET], np.argsort(-program.values)[: SUBSET // 3]]
    for g in program.groups:
        if g.required or g.matrix.shape[0] != 1 or not g.low[0] > 0:
            continue
        members = g.matrix.indices
        picked.append(members[np.argsort(-ratio[members])][: int(50 * g.low[0]) + 50])
    return np.unique(np.concatenate(picked))


def warm_start(program: Program, time_limit: float) -> np.ndarray | None:
    """A feasible solution of a large program, from the same program over a subset of its
    options (the best by value per unit of price, by value, and in every group that asks for
    a minimum): any solution of the subset is one of the whole. None when there is none."""
    n = len(program.values)
    if n <= LARGE:
        return None
    return _sub_solution(program, _subset(program), time_limit)


CORE = 2_000  # options in the core a large program's first plan is looked for in


def _sub_solution(program: Program, subset: np.ndarray, time_limit: float) -> np.ndarray | None:
    """A plan of the whole program from the program over ``subset`` (any plan of a subset is
    one of the whole), or None when the subset has none."""
    groups = [
        Group(g.name, g.field, g.matrix[:, subset], g.low, g.high, g.required)
        for g in program.groups
    ]
    result, _ = _solve(program.values[subset], groups, time_limit / 4)
    if result.x is None:
        return None
    x = np.zeros(len(program.values))
    x[subset[result.x > 0.5]] = 1.0
    return x


def core_start(
    program: Program, relaxed: Lagrangian | None, time_limit: float
) -> np.ndarray | None:
    """A large program's first plan from its **core** (Balas & Zemel 1980, for knapsacks): the
    ``CORE`` options whose forced choice keeps the Lagrangian bound highest
    (``L − best_c + reduced_k``, the LP relaxation's own ranking), solved exactly. With the LP's
    multipliers the optimum lies almost always among them; when it does not, the bound says so
    and the fixing below takes over. None for small programs or when the core has no plan."""
    n = len(program.values)
    if n <= LARGE or relaxed is None:
        return None
    forced = relaxed.bound - relaxed.best + relaxed.reduced
    core = np.sort(np.argpartition(-forced, CORE)[:CORE])
    return _sub_solution(program, core, time_limit)


@dataclass(frozen=True)
class Lagrangian:
    bound: float
    reduced: np.ndarray  # per option: v_k − Σ_r μ_r a_rk
    best: np.ndarray  # per option: its creator's max(0, best reduced value)


def side_rows(program: Program) -> tuple[sparse.csr_matrix, np.ndarray]:
    """Every constraint but one option per creator as rows ``D x ≤ d``: a row's maximum as it
    is, its minimum (when above 0) negated."""
    n = len(program.values)
    parts, rhs = [], []
    for g in program.groups:
        if g.required or g.matrix.shape[0] == 0:
            continue
        finite_hi = np.isfinite(g.high)
        if finite_hi.any():
            parts.append(g.matrix[np.flatnonzero(finite_hi)])
            rhs.append(g.high[finite_hi])
        positive_lo = g.low > 0
        if positive_lo.any():
            parts.append(-g.matrix[np.flatnonzero(positive_lo)])
            rhs.append(-g.low[positive_lo])
    if not parts:
        return sparse.csr_matrix((0, n)), np.zeros(0)
    return sparse.vstack(parts).tocsr(), np.concatenate(rhs)


def _owners(program: Program) -> tuple[np.ndarray, int] | None:
    owners = next((g for g in program.groups if g.required), None)
    if owners is None:
        return None
    return owners.matrix.tocsc().indices, owners.matrix.shape[0]


def _dual(program: Program, side: sparse.csr_matrix, rhs: np.ndarray, mu: np.ndarray) -> Lagrangian:
    """``L(μ) = μ·d + Σ_c max(0, max_{k of c} (v_k − (Dᵀμ)_k))``: an upper bound on the plan's
    value for any ``μ ≥ 0`` (every constraint but one option per creator moved into the
    objective; one option per creator is kept, so the inner maximum is taken per creator)."""
    owner, n_owners = _owners(program)  # type: ignore[misc]
    reduced = program.values - side.T @ mu
    best = np.zeros(n_owners)
    np.maximum.at(best, owner, reduced)
    return Lagrangian(float(mu @ rhs) + float(best.sum()), reduced, best[owner])


MAX_ROUNDS = 30  # column generation's rounds (a few suffice: docs/planning.md)
ADD_PER_ROUND = 2_000


def _penalty(program: Program) -> float:
    """The price of a unit of a minimum left unmet in the restricted LP: above any dual a
    minimum can have (taking one more option costs at most its budget share at the best value
    per price, plus the best value), so the LP meets every minimum it can."""
    budget = next((g for g in program.groups if g.field == "budget"), None)
    v = float(np.max(np.abs(program.values), initial=1.0))
    if budget is None:
        return 10.0 * v + 1.0
    price = budget.matrix.toarray().ravel()
    ratio = float(np.max(np.abs(program.values) / np.maximum(price, 1e-12), initial=0.0))
    return 10.0 * (ratio * float(np.max(price, initial=0.0)) + v) + 1.0


def _restricted_lp(
    program: Program, side: sparse.csr_matrix, rhs: np.ndarray, subset: np.ndarray
) -> tuple[np.ndarray, np.ndarray] | None:
    """The LP relaxation over ``subset``'s options: the duals of its creators' rows (by owner
    index) and of the side rows; None when HiGHS finds no optimum. A minimum the subset cannot
    meet is met by a slack at :func:`_penalty` per unit (big-M), so the duals still point to
    the options that would meet it."""
    owner, n_owners = _owners(program)  # type: ignore[misc]
    present, rows = np.unique(owner[subset], return_inverse=True)
    per_creator = sparse.csr_matrix(
        (np.ones(len(subset)), (rows, np.arange(len(subset)))), shape=(len(present), len(subset))
    )
    minima = np.flatnonzero(rhs < 0)
    slack = sparse.csr_matrix(
        (-np.ones(len(minima)), (minima, np.arange(len(minima)))), shape=(len(rhs), len(minima))
    )
    matrix = (
        sparse.bmat([[per_creator, None], [side[:, subset], slack]], format="csr")
        if len(minima)
        else sparse.vstack([per_creator, side[:, subset]]).tocsr()
    )
    lp = linprog(
        np.concatenate([-program.values[subset], np.full(len(minima), _penalty(program))]),
        A_ub=matrix,
        b_ub=np.concatenate([np.ones(len(present)), rhs]),
        bounds=np.column_stack(
            [
                np.zeros(len(subset) + len(minima)),
                np.r_[np.ones(len(subset)), np.full(len(minima), np.inf)],
            ]
        ),
        method="highs",
    )
    if lp.status != 0:
        return None
    duals = np.maximum(-np.asarray(lp.ineqlin.marginals), 0.0)
    pi = np.zeros(n_owners)
    pi[present] = duals[: len(present)]
    return pi, duals[len(present) :]


def lagrangian(program: Program, start: np.ndarray | None = None) -> Lagrangian | None:
    """The LP relaxation's bound, cheap at any size, by column generation (Dantzig & Wolfe
    1960; Desrosiers & Lübbecke 2005): the LP over a subset of the options (``start``, or the
    warm start's), its duals ``μ`` (side rows) and ``π`` (one per creator), then the options
    whose reduced profit ``v_k − (Dᵀμ)_k − π_c`` is positive are added, best per creator
    first, until none is. ``L(μ)`` (:func:`_dual`) bounds the plan for every ``μ`` it tries, so
    the bound is valid whenever it stops; when no option prices out it is the LP's optimum."""
    if _owners(program) is None:
        return None
    side, rhs = side_rows(program)
    if side.shape[0] == 0:
        return _dual(program, side, rhs, np.zeros(0))
    owner, n_owners = _owners(program)  # type: ignore[misc]
    subset = np.unique(start if start is not None else _subset(program))
    found = _dual(program, side, rhs, np.zeros(len(rhs)))
    for _ in range(MAX_ROUNDS):
        duals = _restricted_lp(program, side, rhs, subset)
        if duals is None:
            break
        pi, mu = duals
        trial = _dual(program, side, rhs, mu)
        if trial.bound < found.bound:
            found = trial
        profit = trial.reduced - pi[owner]
        profit[subset] = -np.inf
        candidates = np.flatnonzero(profit > 1e-9 * max(1.0, abs(trial.bound)))
        if candidates.size == 0:
            break
        order = candidates[np.argsort(-profit[candidates], kind="stable")]
        _, first = np.unique(owner[order], return_index=True)
        subset = np.union1d(subset, order[np.sort(first)][:ADD_PER_ROUND])
    return found


def lagrangian_bound(program: Program) -> float | None:
    found = lagrangian(program)
    return None if found is None else found.bound


def _proved(
    program: Program, incumbent: np.ndarray | None, bound: float | None, started: float
) -> Solution | None:
    """The incumbent as the solution when ``bound`` proves it within the relative gap."""
    if incumbent is None or bound is None or not _feasible(program.groups, incumbent):
        return None
    found = float(program.values @ incumbent)
    gap = (bound - found) / max(abs(bound), 1e-12)
    if gap > (REL_GAP if len(program.values) <= LARGE else LARGE_REL_GAP):
        return None
    return Solution(
        np.flatnonzero(incumbent > 0.5),
        found,
        "optimal",
        time.perf_counter() - started,
        max(gap, 0.0),
        bound,
    )


def _lagrangian_fixing(
    program: Program, incumbent: np.ndarray | None, relaxed: Lagrangian | None
) -> tuple[np.ndarray, float | None]:
    """Options whose forced choice lowers the Lagrangian bound below the incumbent: the bound
    with ``x_k = 1`` is ``L − best_c + reduced_k`` (exact, as reduced-cost fixing)."""
    n = len(program.values)
    if relaxed is None or incumbent is None or not _feasible(program.groups, incumbent):
        return np.zeros(n, dtype=bool), None
    found = float(program.values @ incumbent)
    forced = relaxed.bound - relaxed.best + relaxed.reduced
    return forced < found - 1e-9 * max(1.0, abs(found)), relaxed.bound


def solve(
    program: Program, *, time_limit: float = TIME_LIMIT, incumbent: np.ndarray | None = None
) -> Solution:
    """The best set of options; InputError naming the constraint when none can be met.
    With a feasible ``incumbent`` the options it proves useless are fixed to 0 first."""
    if len(program.values) == 0:
        return Solution(np.zeros(0, dtype="int64"), 0.0, "empty", 0.0, 0.0, 0.0)
    started = time.perf_counter()
    given = incumbent is not None and _feasible(program.groups, incumbent)
    start = _subset(program)
    if given:
        start = np.union1d(start, np.flatnonzero(incumbent > 0.5))
    relaxed = lagrangian(program, start)
    if not given:
        incumbent = core_start(program, relaxed, time_limit)
        if incumbent is None:
            incumbent = warm_start(program, time_limit)
    quick = _proved(program, incumbent, None if relaxed is None else relaxed.bound, started)
    if quick is not None:
        return quick
    drop, bound = _lagrangian_fixing(program, incumbent, relaxed)
    if not drop.any():
        drop, bound = relax(program, incumbent)
    proved = _proved(program, incumbent, bound, started)
    if proved is not None:  # the LP's bound proves it: what HiGHS would stop at
        return proved
    if drop.any():
        keep = np.flatnonzero(~drop)
        reduced = Program(
            program.values[keep],
            [
                Group(g.name, g.field, g.matrix[:, keep], g.low, g.high, g.required)
                for g in program.groups
            ],
        )
        inner = solve(reduced, time_limit=time_limit)
        return Solution(
            keep[inner.chosen],
            inner.objective,
            inner.status,
            time.perf_counter() - started,
            inner.gap,
            inner.bound,
        )
    result, seconds = _solve(program.values, program.groups, time_limit)
    if result.status == 2:  # infeasible
        raise _infeasible(program, time_limit)
    if result.x is None:
        raise InputError(f"the planner stopped without a plan: {result.message}", field="budget")
    chosen = np.flatnonzero(result.x > 0.5)
    objective = float(program.values[chosen].sum())
    bound = None if result.mip_dual_bound is None else -float(result.mip_dual_bound)
    gap = None if result.mip_gap is None else float(result.mip_gap)
    status = "optimal" if result.status == 0 else "time limit"
    return Solution(chosen, objective, status, seconds, gap, bound)


def _infeasible(program: Program, time_limit: float) -> InputError:
    zero = np.zeros(len(program.values))
    for i, group in enumerate(program.groups):
        if group.required:
            continue
        rest = program.groups[:i] + program.groups[i + 1 :]
        result, _ = _solve(zero, rest, time_limit)
        if result.status != 2:
            return InputError(
                f"no plan meets the constraint '{group.name}' together with the others: "
                "loosen it (or the budget)",
                field=group.field,
            )
    names = ", ".join(f"'{g.name}'" for g in program.groups if not g.required)
    return InputError(
        f"no plan meets these constraints together: {names}: loosen one of them",
        field="constraints",
    )


def pair_group(name: str, fld: str, owners: np.ndarray, pairs: np.ndarray) -> Group:
    """``Σ x(options of a) + Σ x(options of b) ≤ 1`` per pair ``(a, b)`` of owners (account
    ids): the pairs × owners incidence times the owners × options indicator."""
    n = len(owners)
    if len(pairs) == 0:
        return Group(name, fld, sparse.csr_matrix((0, n)), np.zeros(0), np.zeros(0))
    by_owner, labels = indicator(owners)
    index = np.searchsorted(labels, pairs)
    found = (index < len(labels)) & (labels[np.minimum(index, len(labels) - 1)] == pairs)
    pairs_in = index[found.all(axis=1)]
    m = len(pairs_in)
    incidence = sparse.csr_matrix(
        (np.ones(2 * m), (np.repeat(np.arange(m), 2), pairs_in.ravel())),
        shape=(m, len(labels)),
    )
    return Group(name, fld, (incidence @ by_owner).tocsr(), np.zeros(m), np.ones(m))


def greedy(
    values: np.ndarray,
    prices: np.ndarray,
    creators: np.ndarray,
    budget: float,
    max_count: int | None = None,
) -> np.ndarray:
    """The baseline: each creator's best option by value per unit of price, taken in that
    order while the budget lasts, then the options that still fit in what is left (again in
    that order), one per creator; only the budget and the count are respected."""
    ratio = np.where(prices > 0, values / np.maximum(prices, 1e-12), np.inf)
    order = np.argsort(-ratio, kind="stable")
    order = order[values[order] > 0]
    _, first = np.unique(creators[order], return_index=True)
    queue = order[np.sort(first)]
    taken: list[np.ndarray] = []
    left = budget
    while queue.size:  # each round takes a prefix that fits; a few rounds at most
        queue = queue[prices[queue] <= left]
        prefix = np.searchsorted(np.cumsum(prices[queue]), left, side="right")
        if prefix == 0:
            break
        taken.append(queue[:prefix])
        left -= float(prices[queue[:prefix]].sum())
        queue = queue[prefix:]
    chosen = np.concatenate(taken) if taken else np.zeros(0, dtype="int64")
    return chosen[:max_count] if max_count is not None else chosen
