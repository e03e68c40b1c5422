"""`microfluence report`, /api/v1/campaigns/{id}/report, /api/v1/payouts, /api/v1/emv-rates and
the library: the same services, the same numbers; roles, JSON shape, errors; both stores."""

from __future__ import annotations

import csv
import io
import json

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

import microfluence
from measurement_support import crafted
from microfluence.access.api_keys import create_api_key
from microfluence.cli.main import app
from microfluence.kernel.workspaces import ensure_workspace, get_workspace
from microfluence.measurement.schemas import CampaignReport, CreatorKpis, DayKpis
from microfluence.web.app import create_app
from store_support import flat

MAY = {"from": "2026-05-01", "to": "2026-05-31"}


def keys(store, name: str) -> dict[str, dict[str, str]]:  # type: ignore[no-untyped-def]
    with store.transaction() as s:
        ws = ensure_workspace(s, name)
        return {
            role: {
                "Authorization": "Bearer "
                + create_api_key(s, workspace=ws, name=role, role=role).secret
            }
            for role in ("viewer", "member", "owner")
        }


@pytest.fixture
def served(store, store_url):  # type: ignore[no-untyped-def]
    world = crafted(store)
    acme, other = keys(store, "acme"), keys(store, "other")
    with TestClient(create_app(store_url)) as client:
        yield client, world, acme, other


def test_report_over_the_api(served):
    client, world, acme, other = served
    cid = world.brand.campaign_id
    answer = client.get(f"/api/v1/campaigns/{cid}/report", headers=acme["viewer"])
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert set(body) == set(CampaignReport.model_fields)
    assert set(body["creators"][0]) == set(CreatorKpis.model_fields)
    assert set(body["days"][0]) == set(DayKpis.model_fields)
    assert body["totals"]["net_revenue"] == "350.00" and body["totals"]["orders"] == 4
    assert body["totals"]["roi"] == pytest.approx(125 / 225, abs=1e-6)
    assert body["creators"][1]["cpe"] is None  # Tom: no posts, null, never 0
    assert [d["day"] for d in body["days"]] == ["2026-05-01", "2026-05-02", "2026-05-03"]
    one_day = client.get(
        f"/api/v1/campaigns/{cid}/report",
        params={"from": "2026-05-02", "to": "2026-05-02"},
        headers=acme["viewer"],
    ).json()
    assert one_day["totals"]["clicks"] == 4 and one_day["period_from"] == "2026-05-02"
    bad = client.get(
        f"/api/v1/campaigns/{cid}/report",
        params={"from": "2026-05-03", "to": "2026-05-01"},
        headers=acme["viewer"],
    )
    assert bad.status_code == 422 and "before it starts" in bad.text
    # another workspace's campaign id: 404, as an id that does not exist
    assert client.get(f"/api/v1/campaigns/{cid}/report", headers=other["owner"]).status_code == 404
    assert client.get("/api/v1/campaigns/999999/report", headers=acme["owner"]).status_code == 404
    assert client.get(f"/api/v1/campaigns/{cid}/report").status_code == 401


def test_payouts_over_the_api(served):
    client, world, acme, other = served
    rows = client.get("/api/v1/payouts", params=MAY, headers=acme["viewer"])
    assert rows.status_code == 200, rows.text
    by_creator = {r["creator"]: r for r in rows.json()}
    assert by_creator["Sarah O'Neil"]["total_owed"] == "127.00"
    assert by_creator["Tom"]["total_owed"] == "58.00"
    as_csv = client.get("/api/v1/payouts", params={**MAY, "format": "csv"}, headers=acme["viewer"])
    assert as_csv.headers["content-type"].startswith("text/csv")
    table = list(csv.DictReader(io.StringIO(as_csv.text)))
    assert table[-1]["creator"] == "TOTAL" and table[-1]["total_owed"] == "185.00"
    assert (
        client.get(
            "/api/v1/payouts", params={"from": "2026-05-01"}, headers=acme["viewer"]
        ).status_code
        == 422
    )
    cid = world.brand.campaign_id
    theirs = client.get(
        "/api/v1/payouts", params={**MAY, "campaign_id": cid}, headers=other["viewer"]
    )
    assert theirs.status_code == 404
    assert client.get("/api/v1/payouts", params=MAY, headers=other["viewer"]).json() == []


def test_emv_rates_over_the_api_owners_set_them(served):
    client, world, acme, other = served
    rates = client.get("/api/v1/emv-rates", headers=acme["viewer"]).json()
    assert rates["rates"]["instagram"] == 7.5 and rates["own"] == {}
    body = {"rates": {"instagram": 12}}
    assert client.put("/api/v1/emv-rates", json=body, headers=acme["member"]).status_code == 403
    done = client.put("/api/v1/emv-rates", json=body, headers=acme["owner"])
    assert done.status_code == 200 and done.json()["own"] == {"instagram": 12.0}
    bad = client.put("/api/v1/emv-rates", json={"rates": {"myspace": 1}}, headers=acme["owner"])
    assert bad.status_code == 422 and "myspace" in bad.text
    report = client.get(
        f"/api/v1/campaigns/{world.brand.campaign_id}/report", headers=acme["viewer"]
    )
    assert report.json()["totals"]["emv"] == "36.00"
    assert client.get("/api/v1/emv-rates", headers=other["viewer"]).json()["own"] == {}


def run(store_url: str, *args: str):  # type: ignore[no-untyped-def]
    return CliRunner().invoke(app, [*args, "--workspace", "acme", "--database-url", store_url])


def test_report_commands(store, store_url, tmp_path):
    world = crafted(store)
    table = run(store_url, "report", "campaign", "spring")
    assert table.exit_code == 0, table.output
    text = flat(table.output)
    assert "Sarah O'Neil" in text and "campaign" in text and "Targets" in text
    as_json = run(store_url, "report", "campaign", "spring", "--json")
    assert as_json.exit_code == 0, as_json.output
    body = json.loads(as_json.output)
    with store.session() as s:
        from microfluence.measurement.report import campaign_report

        same = campaign_report(s, get_workspace(s, "acme"), world.brand.campaign_id)
    assert body["totals"] == json.loads(same.totals.model_dump_json())
    day = run(
        store_url,
        "report",
        "campaign",
        "spring",
        "--json",
        "--from",
        "2026-05-02",
        "--to",
        "2026-05-02",
    )
    assert json.loads(day.output)["totals"]["orders"] == 2
    missing = run(store_url, "report", "campaign", "winter")
    assert missing.exit_code == 1 and "no campaign named 'winter'" in flat(missing.output)
    bad = run(store_url, "report", "campaign", "spring", "--from", "May 1")
    assert bad.exit_code == 1 and "from" in flat(bad.output)
    out = tmp_path / "payouts.csv"
    paid = run(
        store_url,
        "report",
        "payouts",
        "--from",
        "2026-05-01",
        "--to",
        "2026-05-31",
        "--output",
        str(out),
    )
    assert paid.exit_code == 0, paid.output
    assert "185.00 USD owed" in flat(paid.output)
    assert (
        out.read_text().splitlines()[-1]
        == ",TOTAL,,USD,,4,380.00,30.00,38.00,3.00,35.00,150.00,185.00"
    )
    printed = run(
        store_url,
        "report",
        "payouts",
        "--campaign",
        "spring",
        "--from",
        "2026-05-01",
        "--to",
        "2026-05-31",
    )
    assert printed.output == out.read_text()
    needs = run(store_url, "report", "payouts", "--to", "2026-05-31")
    assert needs.exit_code == 1 and "--from and --to" in flat(needs.output)
    rates = run(store_url, "report", "emv-rates", "--set", "tiktok=11", "--json")
    assert rates.exit_code == 0 and json.loads(rates.output)["tiktok"] == 11.0
    wrong = run(store_url, "report", "emv-rates", "--set", "tiktok")
    assert wrong.exit_code == 1 and "PLATFORM=CPM" in flat(wrong.output)


def test_library(store, store_url, tmp_path):
    crafted(store)
    with microfluence.open_workspace("acme", store_url, create=False) as ws:
        report = ws.campaign_report("spring", start="2026-05-01", end="2026-05-31")
        assert str(report.totals.net_revenue) == "350.00"
        rows = ws.payouts(start="2026-05-01", end="2026-05-31", output=tmp_path / "p.csv")
        assert rows.height == 2 and (tmp_path / "p.csv").exists()
        days = ws.campaign_days("spring", by_creator=True)
        assert days.height == 6 and days["orders"].sum() == 4
        assert ws.emv_rates({"youtube": 20})["youtube"] == 20.0
        assert ws.emv_rates()["youtube"] == 20.0
