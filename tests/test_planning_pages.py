"""The planner page over HTTP: viewers plan but make no deals, a constraint no plan can meet is
named on the page, and a bad number names its field."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from api_support import make_user
from microfluence.web.app import create_app
from pages_support import HTML, sign_in
from planning_support import make_plan_world


@pytest.fixture
def client(sqlite_store) -> Iterator[TestClient]:  # type: ignore[no-untyped-def]
    make_plan_world(sqlite_store, "brand")
    make_user(sqlite_store, "v@brand.io", "brand", "viewer")
    with TestClient(create_app(sqlite_store.url)) as c:
        yield c


def test_viewers_plan_but_make_no_deals(client: TestClient) -> None:
    csrf = sign_in(client, "v@brand.io")
    empty = client.get("/planner", headers=HTML)
    assert empty.status_code == 200 and 'id="plan-form"' in empty.text
    assert 'id="chosen-table"' not in empty.text
    page = client.get("/planner?budget=3000&objective=clicks&countries=FR%3D2%3A", headers=HTML)
    assert page.status_code == 200, page.text
    assert 'id="chosen-table"' in page.text and "without constraints" in page.text
    assert 'id="plan-total"' in page.text and 'id="to-deals"' not in page.text
    refused = client.post(
        "/planner/deals",
        data={
            "csrf_token": csrf,
            "account": "instagram:bo",
            "format": "feed_post",
            "fee": "10",
            "campaign_name": "x",
        },
        follow_redirects=False,
    )
    assert refused.status_code == 403


def test_impossible_constraints_and_bad_numbers_are_named(client: TestClient) -> None:
    sign_in(client, "v@brand.io")
    page = client.get("/planner?budget=3000&niches=travel%3D3%3A", headers=HTML)
    assert page.status_code == 200
    assert "niche travel: at least 3 creators" in page.text
    assert 'id="chosen-table"' not in page.text
    bad = client.get("/planner?budget=lots", headers=HTML)
    assert "field &#39;budget&#39;" in bad.text or "field 'budget'" in bad.text
    share = client.get("/planner?budget=3000&max_share_pct=500", headers=HTML)
    assert "max_share" in share.text
