"""The test-and-learn posteriors feed the planner (issue 15, item 4): a tested account's own
conversion posterior replaces the workspace's funnel in its forecast rows, untested accounts
keep the funnel, campaigns in another currency are left out, and without campaigns nothing
changes. On a crafted store (SQLite and PostgreSQL)."""

from __future__ import annotations

import datetime as dt
import secrets
from dataclasses import dataclass

import numpy as np
import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from commerce_support import Brand
from measurement_support import order as order_record
from measurement_support import put_orders
from microfluence.campaigns.tables import Campaign, Deal
from microfluence.commerce.shops import create_shop
from microfluence.kernel.store import Store
from microfluence.kernel.store.tables import Account, Creator, Workspace
from microfluence.kernel.workspaces import ensure_workspace
from microfluence.planning import forecasts
from microfluence.planning.planner import make_plan, priced_options
from microfluence.planning.schemas import PlanRequest
from microfluence.planning.tested import account_rates
from microfluence.tracking.tables import LinkClick, TrackingLink

MAY = dt.datetime(2026, 5, 1, 10, 0, 0)
SHOP = "https://shop.example/"
# handle -> (campaign currency, unique clicks, orders, order value): Proven converts 15 % at 90,
# Dud 1 % at 30, Twin's clicks are in a EUR campaign (not the plan's currency), Fresh was
# never tested.
TESTS = {
    "proven": ("USD", 200, 30, "90.00"),
    "dud": ("USD", 200, 2, "30.00"),
    "twin": ("EUR", 60, 0, "0"),
}
HANDLES = ("proven", "dud", "twin", "fresh")


@dataclass
class World:
    workspace_id: int
    accounts: dict[str, int]


def _accounts(session, ws_id: int) -> dict[str, int]:  # type: ignore[no-untyped-def]
    """Four identical Instagram accounts (same followers, ER, country): the same price."""
    out = {}
    for handle in HANDLES:
        creator = Creator(workspace_id=ws_id, name=handle.title(), country="FR")
        session.add(creator)
        session.flush()
        account = Account(
            workspace_id=ws_id,
            creator_id=creator.id,
            platform="instagram",
            handle=handle,
            followers=30_000,
            reported_engagement_rate=0.03,
            country="FR",
        )
        session.add(account)
        session.flush()
        out[handle] = account.id
    return out


def _tested(session, ws_id: int, accounts: dict[str, int]) -> list[tuple[str, str]]:  # type: ignore[no-untyped-def]
    """One campaign per currency, a deal and a link per tested account, its unique clicks in
    one insert; the tokens of the clicks that will bring an order, with the order's value."""
    campaigns = {}
    for currency in ("USD", "EUR"):
        campaign = Campaign(
            workspace_id=ws_id, name=f"test {currency}", currency=currency, targets={}
        )
        session.add(campaign)
        session.flush()
        campaigns[currency] = campaign.id
    tokens = []
    for handle, (currency, clicks, orders, value) in TESTS.items():
        creator_id = session.get(Account, accounts[handle]).creator_id
        deal = Deal(
            workspace_id=ws_id,
            campaign_id=campaigns[currency],
            creator_id=creator_id,
            account_id=accounts[handle],
        )
        session.add(deal)
        session.flush()
        link = TrackingLink(
            workspace_id=ws_id,
            slug=f"{handle}-{secrets.token_hex(3)}",
            creator_id=creator_id,
            campaign_id=campaigns[currency],
            deal_id=deal.id,
            utm={},
            destination="https://shop.example/",
        )
        session.add(link)
        session.flush()
        rows = [
            LinkClick(
                workspace_id=ws_id,
                link_id=link.id,
                token=secrets.token_urlsafe(12),
                clicked_at=MAY,
                agent_class="browser",
                visitor_hash=secrets.token_hex(8),
                is_bot=False,
                is_unique=True,
                window_start=MAY,
            )
            for _ in range(clicks)
        ]
        session.add_all(rows)
        tokens += [(r.token, value) for r in rows[:orders]]
    return tokens


def make_world(store: Store, *, campaigns: bool = True) -> World:
    with store.transaction() as session:
        ws = ensure_workspace(session, "brand")
        accounts = _accounts(session, ws.id)
        tokens = _tested(session, ws.id, accounts) if campaigns else []
        create_shop(session, ws.id, platform="shopify", name="main")
    orders = (
        order_record(f"o{i}", MAY + dt.timedelta(hours=1), v, landing=f"{SHOP}?mf_click={t}")
        for i, (t, v) in enumerate(tokens)
    )
    if tokens:
        put_orders(store, Brand(ws.id, {}, 0, {}), *orders)
    return World(ws.id, accounts)


def options_of(store: Store, world: World, request: PlanRequest):  # type: ignore[no-untyped-def]
    with store.session() as session:
        workspace = session.get_one(Workspace, world.workspace_id)
        options, funnel, _ = priced_options(session, workspace, request)
        result = make_plan(session, workspace, request)
    return options.filter(pl.col("format") == "feed_post"), funnel, result


def by_handle(options: pl.DataFrame, world: World) -> dict[str, dict]:
    rows = {r["account_id"]: r for r in options.to_dicts()}
    return {h: rows[world.accounts[h]] for h in HANDLES}


ONE_POST = PlanRequest(
    budget=100_000, objective="conversions", max_creators=1, formats=["feed_post"]
)


def test_a_tested_creators_own_conversion_rate_feeds_the_plan(store):
    world = make_world(store)
    with store.session() as session:
        own = account_rates(session, world.workspace_id, "USD")
    assert set(own["account_id"]) == {world.accounts["proven"], world.accounts["dud"]}
    options, funnel, result = options_of(store, world, ONE_POST)
    rows = by_handle(options, world)
    cvr = {h: r["conversions"] / r["clicks"] for h, r in rows.items()}
    # The workspace funnel pools every campaign: 32 orders on 460 clicks over its prior.
    assert funnel.orders == 32 and funnel.clicks == 460
    # Proven: 30 / 200 = 15 %, pulled towards the pooled rate but far nearer their own.
    assert funnel.cvr < cvr["proven"] < 0.15
    assert 0.15 - cvr["proven"] < cvr["proven"] - funnel.cvr
    assert cvr["dud"] < funnel.cvr
    # Twin (tested in EUR only) and Fresh (never tested) keep the workspace's funnel.
    assert cvr["twin"] == pytest.approx(funnel.cvr) and cvr["fresh"] == pytest.approx(funnel.cvr)
    # Same followers, ER and platform: the same price and clicks; the proven one is planned.
    assert len({r["price_mid"] for r in rows.values()}) == 1
    assert [item.account for item in result.plan.items] == ["instagram:proven"]
    assert result.forecast_basis.endswith(
        "; 2 candidates with their own tested conversion rate and 2 with their own order value "
        "(test-and-learn posteriors)"
    )
    # Order values: the workspace's mean is (30 × 90 + 2 × 30) / 32; Proven's own posterior
    # lies between it and their 90, Dud's below it; the others keep the workspace's.
    aov = {h: r["revenue"] / r["conversions"] for h, r in rows.items()}
    assert funnel.aov == pytest.approx(2760 / 32)
    assert funnel.aov < aov["proven"] <= 90 + 1e-6 and aov["dud"] < funnel.aov
    assert aov["twin"] == pytest.approx(funnel.aov) and aov["fresh"] == pytest.approx(funnel.aov)
    # The draws follow each row's own posteriors too (per-row parameters).
    sims = forecasts.draw(options, funnel, draws=4000, seed=3)
    for num, den in (("conversions", "clicks"), ("revenue", "conversions")):
        drawn = sims[num].sum(axis=1) / sims[den].sum(axis=1)
        assert np.allclose(drawn, options[num] / options[den], rtol=0.08), num


def test_without_campaigns_the_plan_is_the_funnels(store):
    world = make_world(store, campaigns=False)
    options, funnel, result = options_of(store, world, ONE_POST)
    assert options["tested_cvr_a"].null_count() == options.height
    assert result.forecast_basis == funnel.basis
    bare = options.drop("tested_cvr_a", "tested_cvr_b")
    assert np.array_equal(
        options["conversions"].to_numpy(),
        forecasts.expected(bare, funnel)["conversions"].to_numpy(),
    )
    with_nulls, without = (forecasts.draw(f, funnel, draws=200, seed=5) for f in (options, bare))
    for name in forecasts.OUTCOMES:
        assert np.array_equal(with_nulls[name], without[name])


ODD = st.one_of(
    st.none(),
    st.sampled_from([0.0, -1.0, float("nan"), float("inf"), -float("inf"), 1e-300, 1e300]),
    st.floats(min_value=0.01, max_value=1e6),
)


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(ODD, ODD, ODD, ODD, ODD), min_size=1, max_size=4))
def test_odd_posterior_parameters_fall_back_or_forecast_finitely(params):
    rows = len(params)
    frame = pl.DataFrame(
        {
            "followers": [20_000.0] * rows,
            "er": [0.03] * rows,
            "platform": ["instagram"] * rows,
            "format": ["feed_post"] * rows,
            **{
                name: pl.Series([p[i] for p in params], dtype=pl.Float64)
                for i, name in enumerate((*forecasts.TESTED_CVR, *forecasts.TESTED_AOV))
            },
        }
    )
    funnel = forecasts.funnel_rates(0, 0, 0, 0, 0)
    means = forecasts.expected(frame, funnel)
    sims = forecasts.draw(frame, funnel, draws=50, seed=1)
    for name in forecasts.OUTCOMES:
        assert np.isfinite(means[name].to_numpy()).all() and (means[name] >= 0).all()
        assert np.isfinite(sims[name]).all() and (sims[name] >= 0).all()
    a, b = frame["tested_cvr_a"].to_numpy(), frame["tested_cvr_b"].to_numpy()
    bad = ~(np.isfinite(a) & np.isfinite(b) & (a > 0) & (b > 0))
    cvr = means["conversions"].to_numpy() / means["clicks"].to_numpy()
    assert np.allclose(cvr[bad], funnel.cvr)
