"""Planning on the store (SQLite and PostgreSQL): prices from the workspace's own deals, a plan
over its accounts under constraints, and a plan turned into a campaign's deals."""

from __future__ import annotations

import pytest

from microfluence.campaigns.deals import list_deals
from microfluence.kernel.errors import ConflictError, InputError, NotFoundError
from microfluence.kernel.store.tables import Workspace
from microfluence.planning import prices
from microfluence.planning.planner import make_plan
from microfluence.planning.schemas import PlanDeals, PlanRequest, Quota
from microfluence.planning.todeals import plan_to_deals
from planning_support import make_plan_world
from store_support import table_rows


def test_prices_name_their_basis_and_learn_from_deals(store):
    world = make_plan_world(store)
    with store.transaction() as session:
        quoted = prices.account_prices(session, world.workspace_id, "instagram:bo")
        history = prices.deal_history(session, world.workspace_id)
    assert quoted.deals == 2 and history.height == 2
    assert {p.format for p in quoted.prices} == {"feed_post", "reel", "story", "bundle"}
    feed = next(p for p in quoted.prices if p.format == "feed_post")
    assert feed.low < feed.mid < feed.high
    assert feed.basis == "2 deals of this workspace + prior"
    bundle = next(p for p in quoted.prices if p.format == "bundle")
    assert bundle.package == {"feed_post": 1, "reel": 1, "story": 1}
    with store.transaction() as session, pytest.raises(NotFoundError):
        prices.account_prices(session, world.workspace_id, "instagram:nobody")


def plan(store, world, **fields):  # type: ignore[no-untyped-def]
    with store.transaction() as session:
        workspace = session.get_one(Workspace, world.workspace_id)
        return make_plan(session, workspace, PlanRequest(**fields))


def test_a_plan_respects_budget_and_constraints_and_shows_alternatives(store):
    world = make_plan_world(store)
    result = plan(
        store,
        world,
        budget=3000,
        objective="clicks",
        max_creators=3,
        countries={"FR": Quota(min=2)},
        min_aqs=50,
        max_share=0.5,
    )
    chosen = result.plan.items
    assert 2 <= len(chosen) <= 3
    assert result.plan.cost <= 3000
    assert sum(item.country == "FR" for item in chosen) >= 2
    assert all(item.aqs is not None and item.aqs >= 50 for item in chosen)
    assert all(item.price.mean <= 1500 for item in chosen)
    assert len({item.creator_id for item in chosen}) == len(chosen)
    totals = result.plan.totals["clicks"]
    assert totals.low <= totals.mean <= totals.high
    assert 0 <= result.plan.p_roi_positive <= 1
    # Without the constraints the plan is at least as good; one creator is at most as good.
    assert result.unconstrained.objective_value >= result.plan.objective_value - 1e-6
    assert result.single_creator is not None and len(result.single_creator.items) == 1
    assert result.single_creator.cost <= 3000
    assert result.solver.status == "optimal"
    assert result.price_basis == "2 deals of this workspace + prior"


def test_overlapping_audiences_are_not_planned_together(store):
    world = make_plan_world(store)
    both = plan(store, world, budget=5000, objective="engagements", tiers={"mega": Quota(max=0)})
    handles = {item.account for item in both.plan.items}
    assert {"instagram:ana", "instagram:fa"} <= handles
    apart = plan(
        store,
        world,
        budget=5000,
        objective="engagements",
        max_overlap=0.5,
        tiers={"mega": Quota(max=0)},
    )
    handles = {item.account for item in apart.plan.items}
    assert not {"instagram:ana", "instagram:fa"} <= handles
    assert any("overlap" in note for note in apart.notes)


def test_infeasible_constraints_name_the_constraint(store):
    world = make_plan_world(store)
    with pytest.raises(InputError) as caught:
        plan(store, world, budget=10_000, niches={"travel": Quota(min=2)})
    assert caught.value.field == "niches.travel"
    with pytest.raises(InputError) as caught:
        plan(store, world, budget=10_000, min_creators=4, max_creators=2)
    assert caught.value.field == "min_creators"
    with pytest.raises(NotFoundError):
        plan(store, world, budget=100, shortlist="nope")


def test_a_plan_becomes_a_campaigns_deals_in_one_step(store):
    world = make_plan_world(store)
    result = plan(store, world, budget=2000, objective="revenue", max_creators=2)
    items = [
        {"account": i.account, "format": i.format, "fee": i.price.mean} for i in result.plan.items
    ]
    assert items
    with store.transaction() as session:
        campaign_id, deals = plan_to_deals(
            session, world.workspace_id, PlanDeals(campaign_name="From the plan", items=items)
        )
        listed = list_deals(session, world.workspace_id, campaign_id)
    assert [d.account for d in deals] == [i["account"] for i in items]
    assert {d.account for d in listed} == {i["account"] for i in items}
    assert all(sum(d.package.values()) >= 1 for d in listed)
    # One bad item adds nothing (the whole step is one transaction).
    from microfluence.campaigns.tables import Campaign, Deal, Deliverable

    before = table_rows(store, [Campaign, Deal, Deliverable])
    bad = [*items, {"account": "instagram:nobody", "format": "feed_post", "fee": 10}]
    with pytest.raises(InputError) as caught, store.transaction() as session:
        plan_to_deals(session, world.workspace_id, PlanDeals(campaign_name="Again", items=bad))
    assert caught.value.field == f"items.{len(items)}.creator"
    assert table_rows(store, [Campaign, Deal, Deliverable]) == before
    with pytest.raises(ConflictError), store.transaction() as session:
        plan_to_deals(
            session, world.workspace_id, PlanDeals(campaign_id=campaign_id, items=items[:1])
        )
    with pytest.raises(InputError) as caught, store.transaction() as session:
        plan_to_deals(
            session,
            world.workspace_id,
            PlanDeals(
                campaign_id=campaign_id,
                items=[{"account": "tiktok:cy", "format": "reel", "fee": 1}],
            ),
        )
    assert caught.value.field == "items.0.format"
