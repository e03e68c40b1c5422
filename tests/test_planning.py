"""Planning without a store: prices learnt from crafted deal histories, forecast intervals that
cover simulated truth at their stated rate, and the optimiser against brute force."""

from __future__ import annotations

import itertools

import numpy as np
import polars as pl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from scipy import optimize as scipy_optimize

from microfluence.kernel.errors import InputError
from microfluence.planning import forecasts, milp, prices, rates
from microfluence.planning.planner import build_program, options_frame
from microfluence.planning.schemas import PlanRequest, Quota

# --- prices ---------------------------------------------------------------------------------


def history(rows: list[tuple[str, float, float, str, float, dict[str, int]]]) -> pl.DataFrame:
    """Deals: (platform, followers, er, niche, fee, package)."""
    data = {
        "deal_id": list(range(1, len(rows) + 1)),
        "platform": [r[0] for r in rows],
        "followers": [r[1] for r in rows],
        "er": [r[2] for r in rows],
        "niche": [r[3] for r in rows],
        "fee": [r[4] for r in rows],
    }
    for fmt in rates.PIECE_FORMATS:
        data[fmt] = [r[5].get(fmt, 0) for r in rows]
    return pl.DataFrame(data)


def quote(model: prices.PriceModel, platform: str, followers: float, fmt: str, niche="beauty"):
    frame = pl.DataFrame(
        {
            "platform": [platform],
            "followers": [followers],
            "er": [0.03],
            "niche": [niche],
            "format": [fmt],
        }
    )
    return prices.predict(model, frame).row(0, named=True)


def prior_mid(platform: str, followers: float) -> float:
    low, high = rates.prior_log_band(np.array([platform], dtype=object), np.array([followers]))
    return float(np.exp((low[0] + high[0]) / 2))


def test_without_deals_the_range_is_the_published_band():
    model = prices.fit_prices(history([]))
    # At a band's geometric centre the prior is exactly that band (Instagram micro: $100-$500).
    row = quote(model, "instagram", np.sqrt(10_000 * 100_000), "feed_post")
    assert row["price_low"] == pytest.approx(100, rel=1e-9)
    assert row["price_high"] == pytest.approx(500, rel=1e-9)
    # Video is priced 0.20 / 0.14 of a photo; a TikTok nano video is in $5-$25.
    reel = quote(model, "instagram", np.sqrt(10_000 * 100_000), "reel")
    assert reel["price_mid"] / row["price_mid"] == pytest.approx(0.20 / 0.14)
    tiktok = quote(model, "tiktok", np.sqrt(1_000 * 10_000), "video")
    assert (tiktok["price_low"], tiktok["price_high"]) == pytest.approx((5, 25))
    assert prices.basis(model).startswith("prior only")


def test_one_expensive_deal_moves_the_price_but_does_not_swing_it():
    followers = 30_000.0
    base = prior_mid("instagram", followers)
    model = prices.fit_prices(
        history([("instagram", followers, 0.03, "beauty", 10 * base, {"feed_post": 1})])
    )
    moved = quote(model, "instagram", followers, "feed_post")["price_mid"]
    assert base < moved < base * np.sqrt(10)  # less than half the way in log price
    assert prices.basis(model) == "1 deal of this workspace + prior"


def test_many_deals_at_twice_the_rate_are_learnt():
    rng = np.random.default_rng(3)
    rows = []
    for _ in range(60):
        f = float(np.exp(rng.uniform(np.log(5_000), np.log(200_000))))
        fee = 2 * prior_mid("instagram", f) * float(np.exp(rng.normal(0, 0.1)))
        rows.append(("instagram", f, 0.03, "beauty", fee, {"feed_post": 1}))
    model = prices.fit_prices(history(rows))
    for f in (8_000.0, 40_000.0, 150_000.0):
        row = quote(model, "instagram", f, "feed_post")
        assert row["price_mid"] / prior_mid("instagram", f) == pytest.approx(2.0, rel=0.15)
        assert row["price_low"] < row["price_mid"] < row["price_high"]
        # Sixty consistent deals give a narrower range than the published band.
        assert row["price_high"] / row["price_low"] < 5


def test_a_niche_that_pays_more_is_learnt_apart_from_the_others():
    rng = np.random.default_rng(4)
    rows = []
    for i in range(80):
        niche = "finance" if i % 2 else "food"
        f = float(np.exp(rng.uniform(np.log(5_000), np.log(200_000))))
        factor = 3.0 if niche == "finance" else 1.0
        fee = factor * prior_mid("instagram", f) * float(np.exp(rng.normal(0, 0.1)))
        rows.append(("instagram", f, 0.03, niche, fee, {"feed_post": 1}))
    model = prices.fit_prices(history(rows))
    finance = quote(model, "instagram", 30_000, "feed_post", "finance")["price_mid"]
    food = quote(model, "instagram", 30_000, "feed_post", "food")["price_mid"]
    assert finance / food == pytest.approx(3.0, rel=0.2)


def test_packages_are_priced_in_main_format_units():
    # Deals for one reel and two stories at exactly the prior: nothing to learn.
    f = 30_000.0
    unit = prior_mid("instagram", f)
    fee = unit * (rates.VIDEO_PREMIUM + 2 * 0.5)
    model = prices.fit_prices(
        history([("instagram", f, 0.03, "beauty", fee, {"reel": 1, "story": 2})] * 5)
    )
    assert quote(model, "instagram", f, "feed_post")["price_mid"] == pytest.approx(unit, rel=0.01)


# --- forecasts ------------------------------------------------------------------------------


def simulate_truth(frame: pl.DataFrame, funnel: forecasts.Rates, rng: np.random.Generator):
    """What one campaign of each creator turns out to be, drawn by the documented model
    written out here, independently of forecasts.draw."""
    f = frame["followers"].to_numpy()
    er = frame["er"].to_numpy()
    sd = np.log(frame["er_median_hi"].to_numpy() / frame["er_median_lo"].to_numpy()) / (2 * 1.96)

    def mean_one(s, size):
        return np.exp(s * rng.standard_normal(size) - s**2 / 2)

    n = len(f)
    true_er = er * mean_one(sd, n) * mean_one(forecasts.POST_LOG_SD, n)
    engagements = rng.poisson(f * true_er)
    rho_sd = np.log(0.30 / 0.20) / (2 * rates.BAND_Z)
    reach = rng.poisson(f * true_er / np.sqrt(0.2 * 0.3) * mean_one(rho_sd, n))
    clicks = rng.poisson(reach * rng.beta(funnel.ctr_a, funnel.ctr_b, n))
    conversions = rng.binomial(clicks, rng.beta(funnel.cvr_a, funnel.cvr_b, n))
    revenue = conversions * funnel.aov * mean_one(funnel.aov_log_sd, n)
    return {
        "reach": reach,
        "engagements": engagements,
        "clicks": clicks,
        "conversions": conversions,
        "revenue": revenue,
    }


def test_forecast_intervals_cover_simulated_campaigns_at_their_stated_rate():
    rng = np.random.default_rng(20261126)
    n = 600
    followers = np.exp(rng.uniform(np.log(20_000), np.log(500_000), n))
    er = np.exp(rng.uniform(np.log(0.01), np.log(0.08), n))
    width = np.exp(rng.uniform(0.1, 0.8, n))
    frame = pl.DataFrame(
        {
            "platform": ["instagram"] * n,
            "format": ["feed_post"] * n,
            "followers": followers,
            "er": er,
            "er_median_lo": er / width,
            "er_median_hi": er * width,
        }
    )
    funnel = forecasts.funnel_rates(2_000_000, 20_000, 20_000, 600, 36_000)
    fc = forecasts.forecast(frame, funnel, draws=4000, seed=1, level=0.8)
    truth = simulate_truth(frame, funnel, rng)
    for name in ("reach", "engagements", "clicks", "revenue"):
        inside = (truth[name] >= fc[f"{name}_low"].to_numpy()) & (
            truth[name] <= fc[f"{name}_high"].to_numpy()
        )
        # 80 % intervals: the share inside is 0.80 give or take 3 standard errors (0.049).
        assert abs(inside.mean() - 0.80) < 0.05, (name, inside.mean())
    # The draws' average is the analytic expectation the planner optimises.
    sims = forecasts.draw(frame, funnel, draws=4000, seed=2)
    means = forecasts.expected(frame, funnel)
    assert sims["clicks"].mean() == pytest.approx(means["clicks"].sum() / n, rel=0.03)


def test_thin_history_falls_back_to_documented_defaults():
    funnel = forecasts.funnel_rates(0, 0, 0, 0, 0)
    assert funnel.ctr == pytest.approx(forecasts.DEFAULT_CTR)
    assert funnel.cvr == pytest.approx(forecasts.DEFAULT_CVR)
    assert funnel.aov == forecasts.DEFAULT_AOV
    assert funnel.basis.startswith("documented defaults")
    # A lot of history moves the rates to what was measured.
    measured = forecasts.funnel_rates(10_000_000, 200_000, 200_000, 1_000, 80_000)
    assert measured.ctr == pytest.approx(0.02, rel=0.01)
    assert measured.cvr == pytest.approx(0.005, rel=0.02)
    assert measured.aov == 80


# --- the optimiser --------------------------------------------------------------------------


def options(
    prices_: list[float],
    values: list[float],
    creators: list[int],
    niches: list[str],
) -> pl.DataFrame:
    n = len(prices_)
    return pl.DataFrame(
        {
            "account_id": creators,
            "creator_id": creators,
            "price_mid": prices_,
            "revenue": values,
            "niche": niches,
            "country": ["FR"] * n,
            "tier": ["micro"] * n,
        }
    )


def brute_force(frame: pl.DataFrame, request: PlanRequest) -> float | None:
    best = None
    p = frame["price_mid"].to_numpy()
    v = frame["revenue"].to_numpy()
    c = frame["creator_id"].to_numpy()
    niche = frame["niche"].to_numpy()
    for size in range(len(p) + 1):
        for combo in itertools.combinations(range(len(p)), size):
            idx = list(combo)
            if len(set(c[idx])) < len(idx) or p[idx].sum() > request.budget + 1e-9:
                continue
            if request.min_creators is not None and size < request.min_creators:
                continue
            if request.max_creators is not None and size > request.max_creators:
                continue
            ok = all(
                (q.min is None or (niche[idx] == k).sum() >= q.min)
                and (q.max is None or (niche[idx] == k).sum() <= q.max)
                for k, q in request.niches.items()
            )
            if ok and (best is None or v[idx].sum() > best):
                best = float(v[idx].sum())
    return best


instances = st.integers(min_value=1, max_value=8).flatmap(
    lambda n: st.tuples(
        st.lists(st.integers(1, 100), min_size=n, max_size=n),
        st.lists(st.integers(0, 100), min_size=n, max_size=n),
        st.lists(st.integers(1, 5), min_size=n, max_size=n),
        st.lists(st.sampled_from(["beauty", "food"]), min_size=n, max_size=n),
        st.integers(1, 300),
        st.one_of(st.none(), st.integers(0, 4)),
        st.one_of(st.none(), st.integers(0, 4)),
        st.one_of(st.none(), st.integers(0, 3)),
    )
)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(instances)
def test_the_optimiser_matches_brute_force_and_respects_every_constraint(instance):
    prices_, values, creators, niches, budget, low, high, beauty_min = instance
    frame = options([float(p) for p in prices_], [float(v) for v in values], creators, niches)
    request = PlanRequest(
        budget=budget,
        objective="revenue",
        min_creators=low,
        max_creators=high,
        niches={} if beauty_min is None else {"beauty": Quota(min=beauty_min)},
    )
    best = brute_force(frame, request)
    program = build_program(frame, request)
    if best is None:
        with pytest.raises(InputError) as caught:
            milp.solve(program)
        assert "constraint" in str(caught.value)
        return
    solution = milp.solve(program)
    chosen = frame[solution.chosen]
    assert solution.objective == pytest.approx(best, abs=1e-6)
    assert milp.lagrangian_bound(program) >= best - 1e-6  # a bound, always
    assert chosen["price_mid"].sum() <= budget + 1e-6
    assert chosen["creator_id"].n_unique() == chosen.height
    if low is not None:
        assert chosen.height >= low
    if high is not None:
        assert chosen.height <= high
    if beauty_min is not None:
        assert (chosen["niche"] == "beauty").sum() >= beauty_min


def test_an_infeasible_quota_is_named():
    frame = options([10, 10, 10], [5, 6, 7], [1, 2, 3], ["beauty", "food", "food"])
    request = PlanRequest(budget=100, niches={"beauty": Quota(min=2)})
    with pytest.raises(InputError) as caught:
        milp.solve(build_program(frame, request))
    assert caught.value.field == "niches.beauty"
    assert "niche beauty: at least 2 creators" in caught.value.message
    too_few = PlanRequest(budget=15, min_creators=2)
    with pytest.raises(InputError) as caught:
        milp.solve(build_program(frame, too_few))
    assert caught.value.field in {"min_creators", "budget"}


def test_overlapping_audiences_are_not_both_chosen():
    frame = options([10, 10, 10], [9, 8, 1], [1, 2, 3], ["food"] * 3)
    request = PlanRequest(budget=100, max_overlap=0.3)
    solution = milp.solve(build_program(frame, request, np.array([[1, 2]])))
    assert sorted(frame[solution.chosen]["creator_id"].to_list()) == [1, 3]


def test_greedy_baseline_stays_in_budget():
    rng = np.random.default_rng(0)
    values = rng.uniform(0, 10, 500)
    prices_ = rng.uniform(1, 20, 500)
    creators = rng.integers(0, 200, 500)
    taken = milp.greedy(values, prices_, creators, 150.0)
    assert prices_[taken].sum() <= 150.0
    assert len(set(creators[taken])) == len(taken)


def test_options_are_the_formats_each_platform_offers():
    frame = pl.DataFrame(
        {"account_id": [1, 2], "platform": ["youtube", "snapchat"], "followers": [1e4, 1e4]}
    )
    got = options_frame(frame).group_by("platform").agg(pl.col("format").sort())
    offered = dict(zip(got["platform"], got["format"].to_list(), strict=True))
    assert offered["youtube"] == ["bundle", "short", "video"]
    assert offered["snapchat"] == ["bundle", "feed_post", "story", "video"]


def test_reduced_cost_fixing_keeps_the_optimum():
    rng = np.random.default_rng(7)
    n = 300
    creators = rng.integers(0, 120, n)
    frame = options(
        list(rng.uniform(5, 200, n)),
        list(rng.uniform(0, 50, n)),
        list(creators),
        list(rng.choice(["beauty", "food"], n)),
    )
    request = PlanRequest(budget=800)
    program = build_program(frame, request)
    plain = milp.solve(program)
    taken = milp.greedy(program.values, frame["price_mid"].to_numpy(), creators, request.budget)
    incumbent = np.zeros(n)
    incumbent[taken] = 1.0
    fixed = milp.fixable(program, incumbent)
    assert fixed.sum() > n // 2  # most options are proved useless …
    assert not fixed[plain.chosen].any()  # … and none of the optimum
    assert milp.solve(program, incumbent=incumbent).objective == pytest.approx(plain.objective)
    # The Lagrangian bound's fixing (every side row relaxed) never drops the optimum either.
    relaxed = milp.lagrangian(program)
    assert relaxed is not None and relaxed.bound >= plain.objective - 1e-6
    by_lagrange, _ = milp._lagrangian_fixing(program, incumbent, relaxed)
    assert not by_lagrange[plain.chosen].any()


def _quota_program(n: int, seed: int) -> milp.Program:
    rng = np.random.default_rng(seed)
    creators = rng.integers(0, n // 3, n)
    frame = options(
        list(rng.uniform(5, 200, n)),
        list(rng.uniform(0, 50, n)),
        list(creators),
        list(rng.choice(["beauty", "food", "travel"], n, p=[0.1, 0.6, 0.3])),
    )
    request = PlanRequest(
        budget=40 * n / 100,
        max_creators=n // 40,
        niches={"beauty": Quota(min=n // 200), "travel": Quota(min=n // 100)},
    )
    return build_program(frame, request)


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_the_lagrangian_bound_is_the_lp_relaxations_optimum(seed):
    """Column generation stops at the LP's optimum: the bound equals the whole LP relaxation
    solved at once, and lies above the integer optimum."""
    program = _quota_program(600, seed)
    side, rhs = milp.side_rows(program)
    owners = next(g for g in program.groups if g.required)
    lp = scipy_optimize.linprog(
        -program.values,
        A_ub=milp.sparse.vstack([owners.matrix, side]).tocsr(),
        b_ub=np.concatenate([owners.high, rhs]),
        bounds=(0, 1),
        method="highs",
    )
    relaxed = milp.lagrangian(program, start=np.arange(50))  # a poor start: many rounds
    assert relaxed.bound == pytest.approx(-lp.fun, rel=1e-6)
    assert relaxed.bound >= milp.solve(program).objective - 1e-6


def test_a_large_program_is_solved_from_its_core_within_the_gap(monkeypatch):
    """Above LARGE options the first plan comes from the core; the answer is the whole
    program's optimum within the large gap (checked against HiGHS on the whole program)."""
    program = _quota_program(3_000, 5)
    exact, _ = milp._solve(program.values, program.groups, 60)
    optimum = -float(exact.fun)
    monkeypatch.setattr(milp, "LARGE", 1_000)
    monkeypatch.setattr(milp, "CORE", 200)
    relaxed = milp.lagrangian(program, milp._subset(program))
    core = milp.core_start(program, relaxed, 60)
    assert core is not None and milp._feasible(program.groups, core)
    solution = milp.solve(program)
    assert milp._feasible(program.groups, np.isin(np.arange(3_000), solution.chosen) * 1.0)
    assert solution.objective >= optimum * (1 - milp.LARGE_REL_GAP) - 1e-6
    assert solution.objective <= optimum + 1e-6
    assert solution.bound >= optimum - 1e-6


@settings(max_examples=200, deadline=None)
@given(st.lists(st.text(max_size=30), max_size=4))
def test_quota_texts_parse_or_name_the_option(texts):
    from microfluence.planning.schemas import parse_quotas

    try:
        quotas = parse_quotas(texts, "--niche")
    except InputError as exc:
        assert exc.field == "--niche"
        return
    for name, quota in quotas.items():
        assert name.strip() == name and name
        assert quota.min is not None or quota.max is not None
        assert quota.min is None or quota.max is None or quota.min <= quota.max
