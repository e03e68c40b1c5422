"""The pipeline pages through the real app, without JavaScript: add creators from the creators
list (ticked, or every one the filters find), move a card with its own form and several with the
bulk form, the sorted list, the statistics, a deal's history with the mover's e-mail; viewers
read but cannot move; CSRF and form errors."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from api_support import make_tenant, make_user
from microfluence.campaigns.campaigns import create_campaign
from microfluence.campaigns.schemas import CampaignCreate
from microfluence.kernel.store import open_store
from microfluence.web.app import create_app
from pages_support import HTML, sign_in


@pytest.fixture
def site(store_url: str) -> Iterator[tuple[TestClient, str, int, list[int]]]:
    store = open_store(store_url)
    tenant = make_tenant(store, "brand", prefix="alpha")
    make_user(store, "m@brand.io", "brand", "member")
    make_user(store, "v@brand.io", "brand", "viewer")
    with store.transaction() as session:
        cid = create_campaign(session, tenant.workspace_id, CampaignCreate(name="Spring")).id
    store.dispose()
    with TestClient(create_app(store_url)) as client:
        yield client, sign_in(client, "m@brand.io"), cid, tenant.creator_ids


def _post(client: TestClient, path: str, data: dict):  # type: ignore[no-untyped-def, type-arg]
    return client.post(path, data=data, headers=HTML, follow_redirects=False)


def _columns(html: str) -> dict[str, list[str]]:
    """Stage -> the creator names on its column, as the board shows them."""
    found: dict[str, list[str]] = {}
    for stage, body in re.findall(
        r'<section class="stage-column[^"]*" data-stage="(\w+)".*?>(.*?)</section>', html, re.S
    ):
        found[stage] = re.findall(r'class="strong">([^<]+)</a>', body)
    return found


def test_add_from_the_creators_list_move_and_read_the_history(site):
    client, csrf, cid, creators = site
    campaign_page = client.get(f"/campaigns/{cid}", headers=HTML).text
    assert f'href="/campaigns/{cid}/pipeline"' in campaign_page
    listing = client.get("/creators?q=ana", headers=HTML).text
    assert 'action="/creators/add-to-campaign"' in listing and 'name="creator_id"' in listing
    assert '<option value="' + str(cid) + '">Spring</option>' in listing
    added = _post(
        client,
        "/creators/add-to-campaign",
        {"csrf_token": csrf, "campaign_id": cid, "creator_id": creators[:2], "scope": "selected"},
    )
    assert added.status_code == 303, added.text
    assert added.headers["location"] == f"/campaigns/{cid}/pipeline?added=2&already=0"
    # Every creator the filters find (country FR: Ana and Cy); Ana is reported, not refused.
    matching = _post(
        client,
        "/creators/add-to-campaign",
        {"csrf_token": csrf, "campaign_id": cid, "scope": "matching", "country": "fr"},
    )
    assert matching.headers["location"].endswith("?added=1&already=1")
    page = client.get(matching.headers["location"], headers=HTML).text
    assert "Added 1 prospect(s); 1 already in the campaign" in page
    assert _columns(page)["prospect"] == ["alpha Ana", "alpha Bo", "alpha Cy"]
    deal_ids = [int(i) for i in re.findall(r'id="deal-(\d+)"', page)]
    ana, bo, cy = deal_ids
    # One card by its own form (no JavaScript), then two at once by the bulk form.
    moved = _post(
        client,
        f"/campaigns/{cid}/pipeline/move",
        {"csrf_token": csrf, "deal_id": ana, "stage": "contacted", "view": "board"},
    )
    assert moved.status_code == 303
    assert moved.headers["location"].endswith(f"moved=1&unchanged=0#deal-{ana}")
    bulk = _post(
        client,
        f"/campaigns/{cid}/pipeline/move",
        {"csrf_token": csrf, "deal_id": [ana, bo], "stage": "replied", "view": "list"},
    )
    assert "view=list" in bulk.headers["location"]
    board = client.get(f"/campaigns/{cid}/pipeline", headers=HTML).text
    assert _columns(board)["replied"] == ["alpha Ana", "alpha Bo"]
    assert _columns(board)["prospect"] == ["alpha Cy"]
    assert 'id="pipeline-funnel"' in board and "Reached paid: 0.0 % of 3 deal(s)" in board
    listed = client.get(f"/campaigns/{cid}/pipeline?view=list&sort=-stage", headers=HTML).text
    rows = re.findall(r'<tr id="deal-(\d+)"', listed)
    assert [int(r) for r in rows][-1] == cy
    # The pipeline's former deal URL answers a redirect to the deal's one page.
    old = client.get(f"/campaigns/{cid}/pipeline/deals/{ana}", follow_redirects=False)
    assert old.status_code == 308 and old.headers["location"] == f"/campaigns/{cid}/deals/{ana}"
    assert f'href="/campaigns/{cid}/deals/{ana}"' in board  # the board's cards link to it
    deal = client.get(f"/campaigns/{cid}/deals/{ana}", headers=HTML).text
    for section in ('id="portal"', 'id="gifts"', 'id="submissions"', "move-one"):
        assert section in deal
    history = deal.split('id="history"')[1]
    assert history.count("m@brand.io") == 3  # added, contacted, replied
    assert "prospect → <b>contacted</b>" in history and "contacted → <b>replied</b>" in history
    # Moving from the deal's page comes back to it.
    back = _post(
        client,
        f"/campaigns/{cid}/pipeline/move",
        {"csrf_token": csrf, "deal_id": ana, "stage": "on_hold", "view": "deal"},
    )
    assert back.headers["location"] == f"/campaigns/{cid}/deals/{ana}"


def test_viewers_read_but_cannot_move_or_add(site):
    client, csrf, cid, creators = site
    _post(
        client,
        "/creators/add-to-campaign",
        {"csrf_token": csrf, "campaign_id": cid, "creator_id": creators[0]},
    )
    viewer = TestClient(client.app)
    viewer_csrf = sign_in(viewer, "v@brand.io")
    page = viewer.get(f"/campaigns/{cid}/pipeline", headers=HTML)
    assert page.status_code == 200 and "alpha Ana" in page.text
    assert "move-one" not in page.text and "bulk-move" not in page.text
    assert "add-to-campaign" not in viewer.get("/creators", headers=HTML).text
    deal_id = re.findall(r'id="deal-(\d+)"', page.text)[0]
    deal_page = viewer.get(f"/campaigns/{cid}/deals/{deal_id}", headers=HTML)
    assert deal_page.status_code == 200 and "move-one" not in deal_page.text
    for path, data in (
        (f"/campaigns/{cid}/pipeline/move", {"deal_id": deal_id, "stage": "paid"}),
        ("/creators/add-to-campaign", {"campaign_id": cid, "creator_id": creators[1]}),
    ):
        answer = _post(viewer, path, {**data, "csrf_token": viewer_csrf})
        assert answer.status_code == 403, path
    # Without the CSRF token even a member is refused.
    assert (
        _post(
            client, f"/campaigns/{cid}/pipeline/move", {"deal_id": deal_id, "stage": "paid"}
        ).status_code
        == 403
    )
    board = client.get(f"/campaigns/{cid}/pipeline", headers=HTML).text
    assert _columns(board)["prospect"] == ["alpha Ana"]


def test_form_errors_name_the_field_and_change_nothing(site):
    client, csrf, cid, creators = site
    _post(
        client,
        "/creators/add-to-campaign",
        {"csrf_token": csrf, "campaign_id": cid, "creator_id": creators[0]},
    )
    before = _columns(client.get(f"/campaigns/{cid}/pipeline", headers=HTML).text)
    for path, data, status, text in (
        (f"/campaigns/{cid}/pipeline/move", {"stage": "paid"}, 422, "name at least one deal"),
        (
            f"/campaigns/{cid}/pipeline/move",
            {"deal_id": "1", "stage": "signed"},
            422,
            "unknown stage",
        ),
        (
            f"/campaigns/{cid}/pipeline/move",
            {"deal_id": str(2**31 - 1), "stage": "paid"},
            404,
            "no deal",
        ),
        (f"/campaigns/{cid}/pipeline/move", {"deal_id": "x", "stage": "paid"}, 422, "deal_id"),
        ("/creators/add-to-campaign", {"campaign_id": cid}, 422, "name at least one creator"),
        (
            "/creators/add-to-campaign",
            {"campaign_id": cid, "scope": "matching", "min_followers": "lots"},
            422,
            "min_followers",
        ),
        (
            "/creators/add-to-campaign",
            {"campaign_id": cid, "creator_id": str(2**31 - 1)},
            404,
            "no creator",
        ),
    ):
        answer = _post(client, path, {**data, "csrf_token": csrf})
        assert answer.status_code == status, (data, answer.text)
        assert text in answer.text, (data, answer.text)
    assert client.get(f"/campaigns/{cid}/pipeline?sort=email", headers=HTML).status_code == 422
    assert _columns(client.get(f"/campaigns/{cid}/pipeline", headers=HTML).text) == before
