"""`microfluence learn`, GET /api/v1/campaigns/{id}/learn and the test-and-learn page: the same
service (planning.learn.learn_report), the same numbers; roles, errors; both stores."""

from __future__ import annotations

import json

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

import microfluence
from api_support import make_user
from measurement_support import crafted
from microfluence.cli.main import app
from microfluence.planning.learn_schemas import CreatorPosterior, LearnReport
from microfluence.web.app import create_app
from pages_support import HTML, sign_in
from test_measurement_faces import keys


@pytest.fixture
def served(store, store_url):  # type: ignore[no-untyped-def]
    world = crafted(store)
    acme, other = keys(store, "acme"), keys(store, "other")
    with TestClient(create_app(store_url)) as client:
        yield client, world, acme, other


def test_learn_over_the_api_the_command_and_the_page(served, store, store_url, monkeypatch):
    from microfluence.kernel import console

    monkeypatch.setattr(console.console, "_width", 250)  # the table whole, whatever ran before
    client, world, acme, other = served
    cid = world.brand.campaign_id
    answer = client.get(f"/api/v1/campaigns/{cid}/learn", headers=acme["viewer"])
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert set(body) == set(LearnReport.model_fields)
    assert set(body["creators"][0]) == set(CreatorPosterior.model_fields)
    assert [c["unique_clicks"] for c in body["creators"]] == [8, 4]
    assert body["next_round"]["budget"] == pytest.approx(190)
    split = client.get(
        f"/api/v1/campaigns/{cid}/learn",
        params={"budget": 1000, "explore": 0.5, "also": [cid]},
        headers=acme["viewer"],
    ).json()["next_round"]
    assert split["new_share"] >= 0.5 and split["budget"] == 1000
    assert sum(c["amount"] for c in split["creators"]) + split["new_amount"] == pytest.approx(1000)
    bad = client.get(
        f"/api/v1/campaigns/{cid}/learn", params={"explore": 2}, headers=acme["viewer"]
    )
    assert bad.status_code == 422
    assert client.get(f"/api/v1/campaigns/{cid}/learn", headers=other["owner"]).status_code == 404
    assert client.get(f"/api/v1/campaigns/{cid}/learn").status_code == 401
    # the command prints the same report
    run = CliRunner().invoke(
        app, ["learn", "spring", "--workspace", "acme", "--json", "--database-url", store_url]
    )
    assert run.exit_code == 0, run.output
    assert json.loads(run.output)["creators"] == body["creators"]
    table = CliRunner().invoke(
        app,
        ["learn", "spring", "--workspace", "acme", "--database-url", store_url],
        env={"COLUMNS": "250"},
    )
    assert table.exit_code == 0 and "Next round" in table.output and "sarah_k" in table.output
    missing = CliRunner().invoke(
        app, ["learn", "nope", "--workspace", "acme", "--database-url", store_url]
    )
    assert missing.exit_code == 1 and "no campaign named 'nope'" in missing.output
    # the page: linked from the campaign, the chart, the flags and the split
    make_user(store, "v@acme.io", "acme", "viewer")
    sign_in(client, "v@acme.io")
    campaign_page = client.get(f"/campaigns/{cid}", headers=HTML).text
    assert f'href="/campaigns/{cid}/learn"' in campaign_page
    page = client.get(f"/campaigns/{cid}/learn?budget=500", headers=HTML)
    assert page.status_code == 200
    assert 'id="chart-revenue-per-click"' in page.text and 'id="split-table"' in page.text
    assert "sarah_k" in page.text and "not enough data" in page.text and "500.00" in page.text
    wrong = client.get(f"/campaigns/{cid}/learn?budget=lots", headers=HTML)
    assert wrong.status_code == 422 and "budget" in wrong.text


def test_learn_from_the_library(store, store_url):  # type: ignore[no-untyped-def]
    crafted(store)
    with microfluence.open_workspace("acme", store_url, create=False) as acme:
        report = acme.learn(["spring"], budget=300)
        frame = acme.creator_posteriors(["spring"])
    assert report.next_round.budget == 300
    assert frame["account"].to_list() == [c.account for c in report.creators]
    assert frame["conversion_mean"].to_list() == pytest.approx(
        [c.conversion_mean for c in report.creators]
    )
