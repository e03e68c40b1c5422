"""The KPI expressions on any sums (hypothesis): undefined exactly where a denominator is 0,
never infinite; the identities between them; Wilson's bounds around the rate; ROI's Poisson
bounds around ROI."""

from __future__ import annotations

import math

import polars as pl
from hypothesis import given, settings
from hypothesis import strategies as st

from microfluence.measurement import kpis as K

counts = st.integers(min_value=0, max_value=10**6)
money = st.integers(min_value=0, max_value=10**9).map(lambda cents: cents / 100)  # amounts in cents


@st.composite
def sums(draw):  # type: ignore[no-untyped-def]
    unique = draw(counts)
    clicks = unique + draw(counts)
    revenue = draw(money)
    return {
        "clicks": clicks,
        "unique_clicks": unique,
        "bot_clicks": draw(counts),
        "orders": draw(st.integers(min_value=0, max_value=500)),
        "revenue": revenue,
        "net_revenue": round(revenue * draw(st.floats(min_value=0, max_value=1)), 2),
        "commission": draw(money),
        "flat_fee": draw(st.sampled_from([0.0, 100.0, 2500.5])),
        "product_value": draw(st.sampled_from([0.0, 30.0])),
        "shipping_cost": draw(st.sampled_from([0.0, 7.5])),
        "posts": draw(counts),
        "engagements": draw(counts),
        "impressions": draw(counts),
        "reach": draw(counts),
        "emv": draw(money),
    }


@settings(max_examples=300, deadline=None)
@given(st.lists(sums(), min_size=1, max_size=20))
def test_ratios_are_null_exactly_where_undefined(rows):  # type: ignore[no-untyped-def]
    frame = K.with_ratios(pl.DataFrame(rows))
    frame = K.with_roi_interval(frame, pl.lit(0.1))
    for r in frame.to_dicts():
        cost = r["flat_fee"] + r["product_value"] + r["shipping_cost"] + r["commission"]
        assert math.isclose(r["cost"], cost, rel_tol=1e-12, abs_tol=1e-9)
        for name, denominator in (
            ("conversion_rate", r["unique_clicks"]),
            ("revenue_per_click", r["unique_clicks"]),
            ("cpc", r["unique_clicks"]),
            ("average_order_value", r["orders"]),
            ("cpa", r["orders"]),
            ("roi", cost),
            ("roas", cost),
            ("cpe", r["engagements"]),
            ("cpm", r["impressions"]),
        ):
            value = r[name]
            assert (value is None) == (denominator == 0), name
            assert value is None or math.isfinite(value), name
        if r["roi"] is not None:
            assert math.isclose(r["roi"], r["roas"] - 1, rel_tol=1e-9, abs_tol=1e-9)
        if r["cpc"] and r["revenue_per_click"] is not None:
            assert math.isclose(r["revenue_per_click"] / r["cpc"], r["roas"], rel_tol=1e-9)
        if r["conversion_rate_low"] is not None:
            assert 0 <= r["conversion_rate_low"] <= r["conversion_rate"] <= 1
            assert r["conversion_rate"] <= r["conversion_rate_high"] <= 1
        else:
            assert r["unique_clicks"] == 0 or r["orders"] > r["unique_clicks"]
        if r["roi_low"] is not None:
            assert r["roi_low"] <= r["roi_high"]
        if r["orders"] == 0:
            assert r["roi_low"] is None and r["roi_high"] is None
