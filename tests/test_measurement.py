"""KPIs, targets, intervals and payouts on the crafted campaign of measurement_support, every
expected number computed by hand (docs/measurement.md, "Worked example"); SQLite and
PostgreSQL."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import polars as pl
import pytest
from scipy.stats import binomtest
from sqlalchemy import update

from measurement_support import DAY, MAY, crafted, order, put_orders, refund
from microfluence.campaigns.tables import Campaign, Deal, Deliverable
from microfluence.kernel.errors import InputError, NotFoundError
from microfluence.kernel.workspaces import ensure_workspace, get_workspace
from microfluence.measurement import emv
from microfluence.measurement.intervals import poisson_bounds
from microfluence.measurement.payouts import payouts, payouts_csv
from microfluence.measurement.report import campaign_days, campaign_report
from microfluence.measurement.sources import Period


def report(store, brand, period=None):  # type: ignore[no-untyped-def]
    with store.session() as s:
        return campaign_report(s, get_workspace(s, "acme"), brand.campaign_id, period)


def by_name(rep):  # type: ignore[no-untyped-def]
    return {c.creator_name: c for c in rep.creators}


@pytest.fixture
def world(store):  # type: ignore[no-untyped-def]
    return crafted(store)


def test_every_kpi_per_creator_by_hand(store, world):
    rep = report(store, world.brand)
    sarah, tom = by_name(rep)["Sarah O'Neil"], by_name(rep)["Tom"]
    # Sarah: 10 clicks, 8 unique, 2 bots; orders 100 + 50 + 150, 30 refunded.
    assert (sarah.clicks, sarah.unique_clicks, sarah.bot_clicks, sarah.orders) == (10, 8, 2, 3)
    assert sarah.revenue == Decimal("300.00") and sarah.refunds == Decimal("30.00")
    assert sarah.net_revenue == Decimal("270.00")
    assert sarah.commission == Decimal("27.00")  # 10 % of 100 + 20 + 150
    assert sarah.cost == Decimal("167.00")  # 100 fee + 30 product + 10 shipping + 27
    assert sarah.conversion_rate == pytest.approx(3 / 8)
    assert sarah.revenue_per_click == pytest.approx(270 / 8)
    assert sarah.average_order_value == pytest.approx(100.0)
    assert sarah.roi == pytest.approx((270 - 167) / 167, abs=1e-6)
    assert sarah.roas == pytest.approx(270 / 167, abs=1e-6)
    assert sarah.cpa == pytest.approx(167 / 3, abs=1e-6)
    assert sarah.cpc == pytest.approx(167 / 8)
    # Posts: 100+10+5+5 and 50 engagements; 2,000 impressions and (no impressions, no views)
    # the reach, 1,000; EMV at Instagram's default CPM of 7.50.
    assert (sarah.posts, sarah.engagements, sarah.impressions, sarah.reach) == (2, 170, 3000, 1000)
    assert sarah.cpe == pytest.approx(167 / 170, abs=1e-6)
    assert sarah.cpm == pytest.approx(167 / 3000 * 1000, abs=1e-6)
    assert sarah.emv == Decimal("22.50")
    # Tom: one order of 80 by his click; no posts, so CPE, CPM undefined.
    assert (tom.clicks, tom.unique_clicks, tom.bot_clicks, tom.orders) == (4, 4, 1, 1)
    assert tom.cost == Decimal("58.00") and tom.net_revenue == Decimal("80.00")
    assert tom.roi == pytest.approx(22 / 58, abs=1e-6)
    assert tom.cpe is None and tom.cpm is None and tom.emv == Decimal("0.00")
    assert [c.creator_name for c in rep.creators] == ["Sarah O'Neil", "Tom"]  # by net revenue


def test_campaign_totals_days_and_targets(store, world):
    rep = report(store, world.brand)
    t = rep.totals
    assert (t.clicks, t.unique_clicks, t.bot_clicks, t.orders) == (14, 12, 3, 4)
    assert (t.revenue, t.refunds, t.net_revenue) == (
        Decimal("380.00"),
        Decimal("30.00"),
        Decimal("350.00"),
    )
    assert t.cost == Decimal("225.00")  # fees 150 + product 30 + shipping 10 + commission 35
    assert t.roi == pytest.approx(125 / 225, abs=1e-6)
    assert t.roas == pytest.approx(350 / 225, abs=1e-6)
    assert t.cpa == pytest.approx(56.25) and t.cpc == pytest.approx(18.75)
    assert t.cpm == pytest.approx(75.0) and t.average_order_value == pytest.approx(95.0)
    days = {d.day: d for d in rep.days}
    assert list(days) == [dt.date(2026, 5, 1), dt.date(2026, 5, 2), dt.date(2026, 5, 3)]
    may1, may2, may3 = days.values()
    assert (may1.clicks, may1.unique_clicks, may1.bot_clicks, may1.orders) == (10, 10, 2, 1)
    assert (may2.clicks, may2.unique_clicks, may2.orders) == (4, 2, 2)
    assert may2.revenue == Decimal("130.00") and may2.net_revenue == Decimal("100.00")
    assert may3.clicks == 0 and may3.conversion_rate is None and may3.orders == 1
    targets = {g.kpi: g for g in rep.targets}
    assert targets["orders"].percent == 100.0 and targets["orders"].met is True
    assert targets["cpa"].better == "lower" and targets["cpa"].percent == 112.5
    assert targets["cpa"].met is False
    assert targets["clicks"].percent == 70.0 and targets["clicks"].met is False


def test_intervals(store, world):
    sarah = by_name(report(store, world.brand))["Sarah O'Neil"]
    wilson = binomtest(3, 8).proportion_ci(0.95, method="wilson")
    assert sarah.conversion_rate_low == pytest.approx(wilson.low, abs=1e-6)
    assert sarah.conversion_rate_high == pytest.approx(wilson.high, abs=1e-6)
    # Garwood's exact 95 % interval for 3 events: 0.6187 … 8.7673 (published tables).
    low, high = poisson_bounds([3])
    assert (low[0], high[0]) == (pytest.approx(0.6187, abs=1e-4), pytest.approx(8.7673, abs=1e-4))

    def roi(revenue: float) -> float:
        cost = 140 + 0.10 * revenue
        return (revenue - cost) / cost

    assert sarah.roi_low == pytest.approx(roi(low[0] * 90), abs=1e-5)
    assert sarah.roi_high == pytest.approx(roi(high[0] * 90), abs=1e-5)
    assert sarah.roi_low < sarah.roi < sarah.roi_high


def test_division_by_zero_is_null_never_zero_or_infinite(store):
    with store.transaction() as s:
        ws = ensure_workspace(s, "acme")
        s.add(Campaign(workspace_id=ws.id, name="empty", targets={"roi": 1.5}))
    with store.session() as s:
        ws = get_workspace(s, "acme")
        cid = s.query(Campaign.id).filter_by(name="empty").scalar()
        rep = campaign_report(s, ws, cid)
    t = rep.totals
    assert (t.clicks, t.orders, t.cost) == (0, 0, Decimal("0.00"))
    for ratio in (
        "conversion_rate",
        "conversion_rate_low",
        "revenue_per_click",
        "average_order_value",
        "roi",
        "roi_low",
        "roas",
        "cpa",
        "cpc",
        "cpe",
        "cpm",
    ):
        assert getattr(t, ratio) is None, ratio
    assert rep.creators == [] and rep.days == []
    assert rep.targets[0].actual is None and rep.targets[0].met is None


def test_orders_without_cost_or_clicks(store, world):
    """A deal costing nothing has no ROI, ROAS or CPA; code orders with no clicks have a
    conversion rate above 1 and no Wilson interval (not a proportion)."""
    brand = world.brand
    with store.transaction() as s:
        s.execute(
            update(Deal).where(Deal.id == brand.deals["tom"]).values(flat_fee=0, commission_rate=0)
        )
    tom = by_name(report(store, brand))["Tom"]
    assert tom.cost == Decimal("0.00") and tom.net_revenue == Decimal("80.00")
    assert tom.roi is None and tom.roas is None and tom.cpa == 0.0
    assert tom.roi_low is None and tom.roi_high is None
    period = Period(dt.date(2026, 5, 3), dt.date(2026, 5, 3))  # Sarah's May 3 order, no clicks
    sarah = by_name(report(store, brand, period))["Sarah O'Neil"]
    assert sarah.orders == 1 and sarah.unique_clicks == 0 and sarah.conversion_rate is None


def test_a_period_counts_its_days_only(store, world):
    rep = report(store, world.brand, Period(dt.date(2026, 5, 2), dt.date(2026, 5, 2)))
    t = rep.totals
    assert (t.clicks, t.unique_clicks, t.orders) == (4, 2, 2)
    assert t.revenue == Decimal("130.00") and t.net_revenue == Decimal("100.00")
    assert t.posts == 0  # posted on May 5 and 7
    assert [d.day for d in rep.days] == [dt.date(2026, 5, 2)]
    with store.session() as s, pytest.raises(InputError) as bad:
        campaign_report(
            s,
            get_workspace(s, "acme"),
            world.brand.campaign_id,
            Period(dt.date(2026, 5, 2), dt.date(2026, 5, 1)),
        )
    assert bad.value.field == "to"
    with pytest.raises(InputError) as bad:
        Period.parse("2026-13-01", None)
    assert bad.value.field == "from"


def test_emv_rates_are_a_workspace_setting(store, world):
    with store.transaction() as s:
        ws = get_workspace(s, "acme")
        rates = emv.set_emv_rates(s, ws, {"Instagram": "12"})
        assert rates["instagram"] == 12.0 and rates["tiktok"] == emv.DEFAULT_CPM["tiktok"]
        with pytest.raises(InputError) as bad:
            emv.set_emv_rates(s, ws, {"myspace": 3})
        assert bad.value.field == "emv_cpm.myspace"
        with pytest.raises(InputError):
            emv.set_emv_rates(s, ws, {"x": -1})
    sarah = by_name(report(store, world.brand))["Sarah O'Neil"]
    assert sarah.emv == Decimal("36.00")  # 3,000 impressions at 12
    with store.transaction() as s:
        other = ensure_workspace(s, "other")
        assert emv.emv_rates(other)["instagram"] == emv.DEFAULT_CPM["instagram"]
        assert emv.set_emv_rates(s, get_workspace(s, "acme"), {}, reset=True) == emv.DEFAULT_CPM


def test_another_workspaces_campaign_is_not_found(store, world):
    with store.transaction() as s:
        other = ensure_workspace(s, "other")
    with store.session() as s, pytest.raises(NotFoundError):
        campaign_report(s, get_workspace(s, "other"), world.brand.campaign_id)
    with store.session() as s:
        assert payouts(s, other.id, Period(dt.date(2026, 5, 1), dt.date(2026, 5, 31))).is_empty()


def owed(store, start, end, campaign_id=None):  # type: ignore[no-untyped-def]
    with store.session() as s:
        rows = payouts(s, get_workspace(s, "acme").id, Period(start, end), campaign_id=campaign_id)
    return {r["creator"]: r for r in rows.to_dicts()}, rows


def test_payouts_for_a_period(store, world):
    rows, frame = owed(store, dt.date(2026, 5, 1), dt.date(2026, 5, 31))
    sarah, tom = rows["Sarah O'Neil"], rows["Tom"]
    # Sarah: 10 % of 300 earned, 10 % of the May 20 refund of 30 back; delivered May 7 (fee).
    assert (sarah["orders"], sarah["net_revenue"], sarah["refunds"]) == (
        3,
        Decimal("300"),
        Decimal("30"),
    )
    assert sarah["commission_earned"] == Decimal("30.00")
    assert sarah["commission_refunded"] == Decimal("3.00")
    assert sarah["commission_owed"] == Decimal("27.00")
    assert sarah["fees_due"] == Decimal("100") and sarah["total_owed"] == Decimal("127.00")
    # Tom: no deliverables, so his fee is due on the campaign's first day, May 1.
    assert tom["commission_owed"] == Decimal("8.00") and tom["fees_due"] == Decimal("50")
    assert tom["account"] == "tiktok:tomcooks" and tom["campaigns"] == "spring"
    lines = payouts_csv(frame).splitlines()
    assert lines[0].startswith("creator_id,creator,account,currency,campaigns,orders")
    assert lines[-1] == ",TOTAL,,USD,,4,380.00,30.00,38.00,3.00,35.00,150.00,185.00"
    # April: nothing.
    assert owed(store, dt.date(2026, 4, 1), dt.date(2026, 4, 30))[1].is_empty()


def test_payout_period_edges_and_refund_caps(store, world):
    brand = world.brand
    last_second = dt.datetime(2026, 5, 31, 23, 59, 59)
    put_orders(store, brand, order("s4", last_second, "10.00", codes=["SARAH15"]))
    refund(store, brand, "r2", "s2", dt.datetime(2026, 6, 1), "40.00")  # only 20 of s2 left
    refund(store, brand, "r3", "s1", dt.datetime(2026, 6, 30, 23, 59, 59), "25.00")
    may, _ = owed(store, dt.date(2026, 5, 1), dt.date(2026, 5, 31))
    assert may["Sarah O'Neil"]["orders"] == 4  # the last second of May is May's
    assert may["Sarah O'Neil"]["commission_earned"] == Decimal("31.00")
    june, _ = owed(store, dt.date(2026, 6, 1), dt.date(2026, 6, 30))
    sarah = june["Sarah O'Neil"]
    assert sarah["orders"] == 0 and sarah["fees_due"] == Decimal("0")
    assert sarah["refunds"] == Decimal("45.00")  # 20 (capped at s2's net) + 25, both edges in
    assert sarah["commission_refunded"] == Decimal("4.50")
    assert sarah["commission_owed"] == Decimal("-4.50") and "Tom" not in june
    with pytest.raises(InputError) as bad:
        owed(store, None, dt.date(2026, 6, 30))
    assert bad.value.field == "from"


def test_payouts_of_one_campaign_and_when_a_fee_is_due(store, world):
    brand = world.brand
    with store.transaction() as s:
        autumn = Campaign(workspace_id=brand.workspace_id, name="autumn", targets={})
        s.add(autumn)
        s.flush()
        s.add(
            Deal(
                workspace_id=brand.workspace_id,
                campaign_id=autumn.id,
                creator_id=brand.creators["sarah"],
                flat_fee=Decimal("500"),
            )
        )
    # No deliverables and no first day: the autumn fee is due the day the deal was made.
    today = dt.datetime.now(dt.UTC).date()
    assert owed(store, today, today)[0]["Sarah O'Neil"]["fees_due"] == Decimal("500")
    one, _ = owed(store, dt.date(2026, 5, 1), dt.date(2026, 5, 31), brand.campaign_id)
    assert one["Sarah O'Neil"]["total_owed"] == Decimal("127.00")
    # A piece still pending: Sarah's spring deal is not delivered, its fee not yet due.
    with store.transaction() as s:
        s.add(
            Deliverable(
                workspace_id=brand.workspace_id, deal_id=brand.deals["sarah"], format="story"
            )
        )
    may, _ = owed(store, dt.date(2026, 5, 1), dt.date(2026, 5, 31), brand.campaign_id)
    assert may["Sarah O'Neil"]["fees_due"] == Decimal("0")
    assert may["Sarah O'Neil"]["commission_owed"] == Decimal("27.00")


def test_orders_never_paid_earn_nothing(store, world):
    """A cancelled order (and its refund) counts in neither the KPIs nor the payouts."""
    brand = world.brand
    cancelled = order("s9", MAY + DAY, "500.00", codes=["SARAH15"])
    cancelled.financial_status = "cancelled"
    put_orders(store, brand, cancelled)
    refund(store, brand, "r9", "s9", MAY + 2 * DAY, "500.00")
    sarah = by_name(report(store, brand))["Sarah O'Neil"]
    assert sarah.orders == 3 and sarah.revenue == Decimal("300.00")
    may, _ = owed(store, dt.date(2026, 5, 1), dt.date(2026, 5, 31))
    assert may["Sarah O'Neil"]["commission_refunded"] == Decimal("3.00")


def test_days_per_creator(store, world):
    with store.session() as s:
        ws = get_workspace(s, "acme")
        frame = campaign_days(s, ws, world.brand.campaign_id, by_deal=True)
        whole = campaign_days(s, ws, world.brand.campaign_id)
    assert frame.height == 2 * 3  # two deals × May 1-3, days without anything as zeros
    sarah = frame.filter(pl.col("deal_id") == world.brand.deals["sarah"]).sort("day")
    assert sarah["clicks"].to_list() == [6, 4, 0] and sarah["orders"].to_list() == [1, 1, 1]
    assert sarah["net_revenue"].to_list() == [100.0, 20.0, 150.0]
    assert sarah["conversion_rate"].to_list() == [pytest.approx(1 / 6), 0.5, None]
    summed = frame.group_by("day").agg(pl.col("clicks", "orders").sum()).sort("day")
    assert summed["clicks"].to_list() == whole["clicks"].to_list()
    assert summed["orders"].to_list() == whole["orders"].to_list()


def test_a_deals_gifts_replace_its_product_value_in_the_cost(store, world):
    """Sarah's product cost becomes her gifts' value × quantity (cancelled and returned ones
    not counted) instead of the deal's product_value of 30; Tom, without gifts, keeps his."""
    from microfluence.campaigns.tables import Gift

    brand = world.brand
    sarah = brand.deals["sarah"]
    with store.transaction() as s:
        for value, quantity, status in (
            ("12.50", 2, "delivered"),  # 25.00
            ("8.00", 1, "requested"),  # 8.00
            ("99.00", 1, "cancelled"),  # not counted
            ("40.00", 3, "returned"),  # not counted
        ):
            s.add(
                Gift(
                    workspace_id=brand.workspace_id,
                    deal_id=sarah,
                    name="gift",
                    value=Decimal(value),
                    quantity=quantity,
                    address={},
                    status=status,
                )
            )
    rep = report(store, brand)
    by = by_name(rep)
    # 100 fee + (25 + 8) gifts + 10 shipping + 27 commission = 170 (was 167 with product 30).
    assert by["Sarah O'Neil"].cost == Decimal("170.00")
    assert by["Sarah O'Neil"].product_value == Decimal("33.00")
    assert by["Tom"].cost == Decimal("58.00")
    # Only cancelled gifts: the deal has gifts, and they cost nothing.
    with store.transaction() as s:
        s.execute(update(Gift).where(Gift.deal_id == sarah).values(status="cancelled"))
    assert by_name(report(store, brand))["Sarah O'Neil"].cost == Decimal("137.00")
