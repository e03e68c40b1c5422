"""The campaign dashboard page (`/campaigns/{id}/dashboard`) on the crafted campaign of
measurement_support, every tile checked against the figures computed by hand in
docs/measurement.md's worked example; the period filter, hostile periods, an empty campaign;
and EMV's CPM per platform on the settings page (owners only). SQLite and PostgreSQL."""

from __future__ import annotations

import html
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from scipy.stats import binomtest

from api_support import make_user
from measurement_support import Crafted, crafted
from microfluence.campaigns.campaigns import create_campaign
from microfluence.campaigns.deals import add_deal
from microfluence.campaigns.schemas import CampaignCreate, DealCreate
from microfluence.kernel.workspaces import get_workspace
from microfluence.measurement import emv
from microfluence.measurement.intervals import poisson_bounds
from microfluence.web.app import create_app
from pages_support import HTML, csrf_of, sign_in


@dataclass
class Site:
    client: TestClient
    world: Crafted
    store: object

    @property
    def url(self) -> str:
        return f"/campaigns/{self.world.brand.campaign_id}/dashboard"

    def as_user(self, email: str) -> TestClient:
        other = TestClient(self.client.app)  # another browser; the lifespan is the outer one's
        sign_in(other, email)
        return other


@pytest.fixture
def site(store, store_url) -> Iterator[Site]:  # type: ignore[no-untyped-def]
    world = crafted(store)
    for role in ("owner", "member", "viewer"):
        make_user(store, f"{role}@acme.io", "acme", role)
    with TestClient(create_app(store_url)) as client:
        sign_in(client, "viewer@acme.io")
        yield Site(client, world, store)


def tiles(page: str) -> dict[str, str]:
    """Tile id → the tile's text, tags stripped and spaces collapsed."""
    found = re.findall(r'<div class="tile[^"]*" id="tile-([a-z_]+)"[^>]*>(.*?)</div>', page, re.S)
    return {
        key: " ".join(html.unescape(re.sub(r"<[^>]+>", " ", body)).split()) for key, body in found
    }


def figure(page: str, key: str) -> dict:  # type: ignore[type-arg]
    match = re.search(rf'id="chart-{key}" data-plotly-figure="([^"]*)"', page)
    assert match, f"no chart {key}"
    return json.loads(html.unescape(match.group(1)))


def test_tiles_show_the_hand_computed_kpis(site: Site) -> None:
    answer = site.client.get(site.url, headers=HTML)
    assert answer.status_code == 200, answer.text
    shown = tiles(answer.text)
    wilson = binomtest(4, 12).proportion_ci(0.95, method="wilson")  # the campaign: 4 of 12
    expected = {
        "clicks": "Clicks 14 70.0 % of target ≥ 20 · not met",  # 14 of 20
        "unique_clicks": "Unique clicks 12",
        "orders": "Orders 4 100.0 % of target ≥ 4 · met",
        "conversion_rate": f"Conversion rate 33.3 % 95 %: {100 * wilson.low:.1f} % to "
        f"{100 * wilson.high:.1f} %",
        "revenue": "Gross revenue 380.00 USD",
        "net_revenue": "Net revenue 350.00 USD",
        "revenue_per_click": "Revenue per click 29.17 USD",  # 350 / 12
        "average_order_value": "Average order value 95.00 USD",  # 380 / 4
        "cost": "Total cost 225.00 USD",  # fees 150 + product 30 + shipping 10 + commission 35
        "roas": "ROAS 1.56×",  # 350 / 225
        "cpa": "CPA 56.25 USD 112.5 % of target ≤ 50.00 · not met",  # lower is better
        "cpc": "CPC 18.75 USD",  # 225 / 12
        "posts": "Posts 2",
        "engagements": "Engagements 170",
        "impressions": "Impressions 3,000",
        "reach": "Reach 1,000",
        "cpe": "CPE 1.32 USD",  # 225 / 170
        "cpm": "CPM 75.00 USD",  # 225 / 3000 × 1000
        "emv": "EMV 22.50 USD",  # 3000 / 1000 × 7.50
    }
    for key, text in expected.items():
        assert shown[key] == text, key
    assert 'id="tile-clicks" title="Clicks = link clicks' in answer.text
    assert re.search(r"ROI 55\.6 % 95 %: -?\d+\.\d % to \d+\.\d %", shown["roi"]), shown["roi"]
    assert "instagram 7.50" in answer.text  # the CPM EMV used, in the EMV tile's tooltip


def test_charts_and_the_creators_table(site: Site) -> None:
    page = site.client.get(site.url, headers=HTML).text
    assert '<script src="/static/plotly.min.js">' in page
    days = figure(page, "revenue-clicks")
    # net revenue: May 1 Sarah 100; May 2 Sarah 50 − 30 refunded + Tom 80; May 3 Sarah 150
    assert days["data"][0]["y"] == [100.0, 100.0, 150.0]
    assert days["data"][1]["y"] == [10, 4, 0]  # clicks
    by_creator = figure(page, "creator-revenue")
    assert [t["name"] for t in by_creator["data"]] == ["Sarah O'Neil", "Tom"]
    clicks = figure(page, "creator-clicks")
    assert {t["name"]: sum(t["y"]) for t in clicks["data"]} == {"Sarah O'Neil": 10, "Tom": 4}
    roi = figure(page, "roi")["data"][0]
    error = roi["error_y"]
    bars = {
        name: (value, minus, plus)
        for name, value, minus, plus in zip(
            roi["x"], roi["y"], error["arrayminus"], error["array"], strict=True
        )
    }
    # Sarah: 3 orders of 90 net; Tom: 1 order of 80; costs 140 + 10 %, 50 + 10 %.
    for name, orders, mean, fixed in (("Sarah O'Neil", 3, 90, 140), ("Tom", 1, 80, 50)):
        low, high = poisson_bounds([orders])

        def at(revenue: float, fixed: float = fixed) -> float:
            return (revenue - (fixed + 0.1 * revenue)) / (fixed + 0.1 * revenue)

        value, minus, plus = bars[name]
        assert value - minus == pytest.approx(at(low[0] * mean), abs=1e-5)
        assert value + plus == pytest.approx(at(high[0] * mean), abs=1e-5)
    # One order is less evidence than three: Tom's interval is the wider one.
    assert sum(bars["Tom"][1:]) > sum(bars["Sarah O'Neil"][1:])
    # The per-creator table: the numbers of `microfluence report campaign`.
    rows = re.findall(r'<tr data-deal="\d+">(.*?)</tr>', page, re.S)
    sarah = dict(re.findall(r'data-kpi="([a-z_]+)">(.*?)</td>', rows[0]))
    tom = dict(re.findall(r'data-kpi="([a-z_]+)">(.*?)</td>', rows[1]))
    assert "Sarah O&#39;Neil" in rows[0] and (sarah["net_revenue"], sarah["cost"]) == (
        "270.00",
        "167.00",
    )
    assert sarah["roi"] == "61.7 %" and sarah["cpe"] == "0.98"  # 103 / 167; 167 / 170
    assert tom["cpe"] == '<span title="the denominator is 0">—</span>'  # no posts: undefined
    total = re.search(r'<tr id="creators-total">(.*?)</tr>', page, re.S).group(1)
    assert dict(re.findall(r'data-kpi="([a-z_]+)">(.*?)</td>', total))["net_revenue"] == "350.00"


def test_the_period_filter(site: Site) -> None:
    one_day = site.client.get(site.url + "?from=2026-05-02&to=2026-05-02", headers=HTML)
    assert one_day.status_code == 200
    shown = tiles(one_day.text)
    assert shown["clicks"] == "Clicks 4 20.0 % of target ≥ 20 · not met"
    assert shown["orders"].startswith("Orders 2 50.0 % of target")
    assert "2026-05-02 to 2026-05-02" in one_day.text
    assert 'name="from" value="2026-05-02"' in one_day.text
    later = site.client.get(site.url + "?from=2026-06-01", headers=HTML)
    assert later.status_code == 200 and "Nothing measured in this period" in later.text
    for query, field in (
        ("from=2026-05-03&to=2026-05-01", "to"),
        ("from=yesterday", "from"),
        ("to=2026-02-30", "to"),
        ("from=0001-01-01&to=9999-12-31", "to"),  # a span of millennia: refused, not drawn
    ):
        answer = site.client.get(f"{site.url}?{query}", headers=HTML)
        assert answer.status_code == 422, query
        assert field in answer.text, query


@settings(
    max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(start=st.text(max_size=30), end=st.text(max_size=30))
def test_hostile_periods_are_refused_or_shown_never_a_crash(
    site: Site, start: str, end: str
) -> None:
    answer = site.client.get(site.url, params={"from": start, "to": end}, headers=HTML)
    assert answer.status_code in (200, 422), answer.text


def test_an_empty_campaign_renders_with_an_explanation(site: Site) -> None:
    with site.store.transaction() as s:  # type: ignore[attr-defined]
        ws = site.world.brand.workspace_id
        bare = create_campaign(s, ws, CampaignCreate(name="Quiet")).id
        paid = create_campaign(s, ws, CampaignCreate(name="Paid, quiet")).id
        add_deal(s, ws, paid, DealCreate(creator="instagram:sarah_k", flat_fee="200"))
    for cid in (bare, paid):
        page = site.client.get(f"/campaigns/{cid}/dashboard", headers=HTML)
        assert page.status_code == 200, page.text
        assert "Nothing measured yet" in page.text
        assert "data-plotly-figure" not in page.text and "plotly.min.js" not in page.text
        shown = tiles(page.text)
        assert shown["clicks"] == "Clicks 0" and shown["conversion_rate"] == "Conversion rate —"
        assert 'title="no unique clicks: the denominator is 0">—' in page.text
        assert 'title="no orders: the denominator is 0">—' in page.text
    shown = tiles(site.client.get(f"/campaigns/{paid}/dashboard", headers=HTML).text)
    assert shown["cost"] == "Total cost 200.00 USD"
    assert shown["roi"] == "ROI -100.0 % no interval"  # a cost and nothing back; no orders
    bare_page = site.client.get(f"/campaigns/{bare}/dashboard", headers=HTML).text
    assert "No creator in this campaign yet" in bare_page
    assert 'title="no cost: the denominator is 0">—' in bare_page


def test_who_sees_the_dashboard(site: Site) -> None:
    campaign_page = site.client.get(f"/campaigns/{site.world.brand.campaign_id}", headers=HTML)
    assert f'href="{site.url}"' in campaign_page.text  # linked from the campaign's page
    anonymous = TestClient(site.client.app)
    answer = anonymous.get(site.url, headers=HTML, follow_redirects=False)
    assert answer.status_code in (302, 303) and "/sign-in" in answer.headers["location"]
    for email in ("member@acme.io", "owner@acme.io"):
        assert site.as_user(email).get(site.url, headers=HTML).status_code == 200
    # Only owners are pointed to the EMV rates they may change.
    assert 'href="/settings#emv-rates"' not in site.client.get(site.url, headers=HTML).text
    owner = site.as_user("owner@acme.io")
    assert 'href="/settings#emv-rates"' in owner.get(site.url, headers=HTML).text
    assert site.client.get("/campaigns/999999/dashboard", headers=HTML).status_code == 404


# --- EMV rates on the settings page ------------------------------------------------------------


def _rates(site: Site) -> tuple[dict[str, float], dict[str, float]]:
    with site.store.session() as s:  # type: ignore[attr-defined]
        ws = get_workspace(s, "acme")
        return emv.emv_rates(ws), emv.own_rates(ws)


def test_an_owner_sets_and_resets_the_emv_rates(site: Site) -> None:
    owner = site.as_user("owner@acme.io")
    page = owner.get("/settings", headers=HTML).text
    section = page[page.index('id="emv-rates"') :]
    assert re.search(r'data-platform="instagram".*?7\.50.*?default', section, re.S)
    saved = owner.post(
        "/settings/emv-rates",
        data={"csrf_token": csrf_of(page), "cpm.instagram": "9.5", "cpm.tiktok": " ", "cpm.x": ""},
        headers=HTML,
        follow_redirects=False,
    )
    assert saved.status_code == 303 and saved.headers["location"] == "/settings#emv-rates"
    rates, own = _rates(site)
    assert own == {"instagram": 9.5} and rates["tiktok"] == emv.DEFAULT_CPM["tiktok"]
    page = owner.get("/settings", headers=HTML).text
    section = page[page.index('id="emv-rates"') :]
    assert re.search(
        r'data-platform="instagram".*?9\.50.*?workspace.*?default 7\.50', section, re.S
    )
    # The dashboard's EMV follows: 3,000 impressions × 9.50 / 1000.
    assert tiles(owner.get(site.url, headers=HTML).text)["emv"] == "EMV 28.50 USD"
    reset = owner.post(
        "/settings/emv-rates",
        data={"csrf_token": csrf_of(page), "reset": "on", "cpm.youtube": "12"},
        headers=HTML,
        follow_redirects=False,
    )
    assert reset.status_code == 303
    assert _rates(site)[1] == {"youtube": 12.0}


@pytest.mark.parametrize(
    ("field", "value", "named"),
    [
        ("cpm.instagram", "abc", "emv_cpm.instagram"),
        ("cpm.tiktok", "-1", "emv_cpm.tiktok"),
        ("cpm.youtube", "1e9", "emv_cpm.youtube"),
        ("cpm.youtube", "nan", "emv_cpm.youtube"),
        ("cpm.myspace", "3", "emv_cpm.myspace"),
    ],
)
def test_bad_emv_rates_name_the_platform_and_change_nothing(
    site: Site, field: str, value: str, named: str
) -> None:
    owner = site.as_user("owner@acme.io")
    csrf = csrf_of(owner.get("/settings", headers=HTML).text)
    answer = owner.post(
        "/settings/emv-rates",
        data={"csrf_token": csrf, "cpm.instagram": "9", field: value},
        headers=HTML,
    )
    assert answer.status_code == 422 and named in answer.text
    assert _rates(site)[1] == {}  # all or nothing: instagram's good value not saved either


def test_members_and_viewers_cannot_change_the_emv_rates(site: Site) -> None:
    for email in ("member@acme.io", "viewer@acme.io"):
        browser = site.as_user(email)
        csrf = csrf_of(browser.get("/creators", headers=HTML).text)
        assert browser.get("/settings", headers=HTML).status_code == 403
        answer = browser.post(
            "/settings/emv-rates", data={"csrf_token": csrf, "cpm.instagram": "1"}, headers=HTML
        )
        assert answer.status_code == 403, email
    owner = site.as_user("owner@acme.io")
    no_token = owner.post("/settings/emv-rates", data={"cpm.instagram": "1"}, headers=HTML)
    assert no_token.status_code == 403  # the form's CSRF token is required
    assert _rates(site)[1] == {}


def test_creator_labels_are_unique_and_the_rest_are_summed() -> None:
    import datetime as dt

    import polars as pl

    from microfluence.measurement.dashboard import OTHERS, _labels, series_by_creator

    creators = pl.DataFrame(
        {
            "deal_id": [1, 2, 3, 4],
            "creator_id": [10, 11, 12, 13],
            "creator_name": ["Ana", "Ana", "Ana", None],
            "account": ["instagram:ana", "tiktok:ana", "tiktok:ana", None],
        }
    ).with_row_index("rank")
    labels = _labels(creators)["label"].to_list()
    assert labels == [
        "Ana (instagram:ana)",
        "Ana (tiktok:ana) · deal 2",
        "Ana (tiktok:ana) · deal 3",
        "creator 13",
    ]
    day = dt.date(2026, 5, 1)
    days = pl.DataFrame(
        {
            "deal_id": [1, 2, 3, 4],
            "day": [day] * 4,
            "clicks": [5, 3, 2, 1],
            "unique_clicks": [4, 3, 2, 1],
            "orders": [1, 0, 1, 1],
            "revenue": [10.0, 0.0, 20.0, 30.0],
            "net_revenue": [10.0, 0.0, 15.0, 30.0],
        }
    )
    series = series_by_creator(days, _labels(creators), top=2)
    assert series["creator"].to_list() == [labels[0], labels[1], OTHERS]
    assert series.filter(pl.col("creator") == OTHERS).row(0, named=True) == {
        "day": day,
        "creator": OTHERS,
        "order": 2,
        "clicks": 3,
        "unique_clicks": 3,
        "orders": 2,
        "revenue": 50.0,
        "net_revenue": 45.0,
    }


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(value=st.one_of(st.text(max_size=20), st.floats().map(str), st.integers().map(str)))
def test_hostile_emv_values_are_saved_exactly_or_refused_with_the_platform(
    site: Site, value: str
) -> None:
    owner = site.as_user("owner@acme.io")
    before = _rates(site)[1]
    csrf = csrf_of(owner.get("/settings", headers=HTML).text)
    answer = owner.post(
        "/settings/emv-rates",
        data={"csrf_token": csrf, "cpm.facebook": value},
        headers=HTML,
        follow_redirects=False,
    )
    if not value.strip():
        assert answer.status_code == 303 and _rates(site)[1] == before  # blank: unchanged
    elif answer.status_code == 303:
        assert _rates(site)[1]["facebook"] == float(value.strip())
    else:
        assert answer.status_code == 422 and "emv_cpm.facebook" in answer.text
        assert _rates(site)[1] == before
