"""The home dashboard's "Needs attention" and the /tasks page over HTTP: what they show, the task
form's round trip (add, done, reopen, delete), errors naming the field, and roles (viewers read,
members change)."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from api_support import Tenant, make_tenant, make_user
from microfluence.campaigns.campaigns import create_campaign
from microfluence.campaigns.deals import add_deal
from microfluence.campaigns.schemas import CampaignCreate, DealCreate
from microfluence.campaigns.tables import Gift
from microfluence.kernel.store import open_store
from microfluence.kernel.store.tables import utcnow
from microfluence.relationships.stages import move_deals
from microfluence.web.app import create_app
from pages_support import HTML, sign_in


@pytest.fixture
def site(store_url: str) -> Iterator[tuple[TestClient, Tenant, dict[str, int]]]:
    """A workspace whose Ana was contacted 30 days ago (a follow-up) and was promised a gift
    30 days ago that never shipped; its members and viewer."""
    store = open_store(store_url)
    tenant = make_tenant(store, "alpha")
    make_user(store, "member@a.io", "alpha", "member")
    make_user(store, "viewer@a.io", "alpha", "viewer")
    long_ago = utcnow() - dt.timedelta(days=30)
    with store.transaction() as session:
        ws = tenant.workspace_id
        cid = create_campaign(session, ws, CampaignCreate(name="Launch")).id
        ana = add_deal(session, ws, cid, DealCreate(creator="instagram:alpha_ana")).id
        bo = add_deal(session, ws, cid, DealCreate(creator="instagram:alpha_bo")).id
        move_deals(session, ws, [ana], "contacted", actor="x", at=long_ago)
        session.add(Gift(workspace_id=ws, deal_id=bo, name="Serum kit", created_at=long_ago))
    store.dispose()
    with TestClient(create_app(store_url)) as client:
        yield client, tenant, {"campaign": cid, "ana": ana, "bo": bo}


def _post(client: TestClient, path: str, csrf: str, **data: str):  # type: ignore[no-untyped-def]
    return client.post(path, data={"csrf_token": csrf, **data}, follow_redirects=False)


def test_home_shows_what_needs_attention_grouped_by_kind(site) -> None:  # type: ignore[no-untyped-def]
    client, _, ids = site
    csrf = sign_in(client, "member@a.io")
    # A task due long ago: the most overdue item, so its group comes first.
    made = _post(client, "/tasks", csrf, title="Call the agency", due_on="2020-01-01")
    assert made.status_code == 303
    page = client.get("/", headers=HTML)
    assert page.status_code == 200
    html = page.text
    assert "Needs attention" in html and "3 overdue" in html
    kinds = re.findall(r'data-kind="([a-z_]+)"', html)
    # Most overdue first: the task (years), the gift (30 - 5 days), the follow-up (30 - 7).
    assert kinds == ["task", "gift_unshipped", "follow_up"]
    assert "Tasks: 1" in html and "Follow-ups: 1" in html and "Gifts to ship: 1" in html
    assert "Ship Serum kit" in html and "Follow up: no reply" in html
    # Each item links to its deal's page, at the section to act in.
    deal = f"/campaigns/{ids['campaign']}/deals/"
    assert re.search(rf'href="{deal}\d+#gifts"', html)
    assert re.search(rf'href="{deal}\d+#history"', html)
    # Filtered by campaign: the task without a deal goes.
    only = client.get(f"/?campaign_id={ids['campaign']}", headers=HTML).text
    assert re.findall(r'data-kind="([a-z_]+)"', only) == ["gift_unshipped", "follow_up"]


def test_the_task_form_round_trip(site) -> None:  # type: ignore[no-untyped-def]
    client, _, ids = site
    csrf = sign_in(client, "member@a.io")
    page = client.get("/tasks", headers=HTML).text
    assert "No open task" in page and "Launch · alpha Ana" in page  # the deal picker
    made = _post(
        client, "/tasks", csrf, title="Chase the draft", kind="review", due_on="+2d",
        deal_id=str(ids["ana"]), assignee="Member@A.io",
    )  # fmt: skip
    assert made.status_code == 303 and made.headers["location"].startswith("/tasks#task-")
    tid = made.headers["location"].rsplit("-", 1)[1]
    page = client.get("/tasks", headers=HTML).text
    row = page[page.index(f'id="task-{tid}"') :]
    assert "Chase the draft" in row and "in 2 days" in row and "member@a.io" in row
    assert "alpha Ana" in row and "Launch" in row
    assert _post(client, f"/tasks/{tid}/done", csrf).status_code == 303
    assert "Chase the draft" not in client.get("/tasks", headers=HTML).text
    done = client.get("/tasks?status=done", headers=HTML).text
    assert "Chase the draft" in done and "by member@a.io" in done
    assert _post(client, f"/tasks/{tid}/reopen", csrf).status_code == 303
    assert "Chase the draft" in client.get("/tasks?kind=review", headers=HTML).text
    assert "Chase the draft" not in client.get("/tasks?kind=shipment", headers=HTML).text
    assert "Chase the draft" in client.get("/tasks?assignee=member%40a.io", headers=HTML).text
    assert _post(client, f"/tasks/{tid}/delete", csrf).status_code == 303
    assert "Chase the draft" not in client.get("/tasks?status=all", headers=HTML).text


def test_bad_input_names_the_field(site) -> None:  # type: ignore[no-untyped-def]
    client, _, _ = site
    csrf = sign_in(client, "member@a.io")
    for data, field in (
        ({"title": "x", "due_on": "31/12/2026"}, "due_on"),
        ({"title": "x", "kind": "chore"}, "kind"),
        ({"title": "x", "deal_id": "999999"}, "deal_id"),
        ({"title": "x", "assignee": "nobody"}, "assignee"),
        ({"title": "   "}, "title"),
    ):
        answer = client.post("/tasks", data={"csrf_token": csrf, **data}, headers=HTML)
        assert answer.status_code == 422, data
        assert field in answer.text, data
    assert client.get("/tasks?status=closed", headers=HTML).status_code == 422
    assert "No task" in client.get("/tasks?status=all", headers=HTML).text


def test_viewers_read_but_cannot_change(site) -> None:  # type: ignore[no-untyped-def]
    client, _, _ = site
    member_csrf = sign_in(client, "member@a.io")
    made = _post(client, "/tasks", member_csrf, title="Member's task")
    tid = made.headers["location"].rsplit("-", 1)[1]
    viewer = TestClient(client.app)
    csrf = sign_in(viewer, "viewer@a.io")
    page = viewer.get("/tasks", headers=HTML).text
    assert "Member&#39;s task" in page and "New task" not in page and "/done" not in page
    assert viewer.get("/", headers=HTML).status_code == 200
    for path, data in (
        ("/tasks", {"title": "nope"}),
        (f"/tasks/{tid}/done", {}),
        (f"/tasks/{tid}/reopen", {}),
        (f"/tasks/{tid}/delete", {}),
    ):
        assert _post(viewer, path, csrf, **data).status_code == 403, path
    # Without the CSRF token, even a member's form is refused.
    assert client.post(f"/tasks/{tid}/done", data={}).status_code == 403
    assert "Member&#39;s task" in client.get("/tasks", headers=HTML).text


def test_owners_set_the_reminder_thresholds_on_the_settings_page(site, store_url) -> None:  # type: ignore[no-untyped-def]
    """The settings page shows every threshold in effect; an owner changes them through the same
    service as the API (the home page follows); a bad value names its threshold and changes
    nothing; members and viewers can neither see nor change them."""
    from microfluence.kernel.workspaces import get_workspace
    from microfluence.relationships.reminder_settings import own_thresholds

    client, tenant, _ids = site
    store = open_store(store_url)
    make_user(store, "owner@a.io", "alpha", "owner")
    store.dispose()
    for who in ("member@a.io", "viewer@a.io"):
        other = TestClient(client.app)
        other_csrf = sign_in(other, who)
        assert other.get("/settings", headers=HTML).status_code == 403
        denied = _post(
            other, "/settings/reminder-thresholds", other_csrf, **{"days.review_days": "9"}
        )
        assert denied.status_code == 403
    csrf = sign_in(client, "owner@a.io")
    page = client.get("/settings", headers=HTML).text
    rows = dict(re.findall(r'data-threshold="([a-z_]+)">.*?class="num">(\d+)</td>', page, re.S))
    assert rows == {
        "task_horizon_days": "3",
        "gift_ship_days": "5",
        "gift_delivery_days": "14",
        "review_days": "2",
        "follow_up_days": "7",
    }
    assert "Gifts to ship: 1" in client.get("/", headers=HTML).text
    saved = _post(
        client,
        "/settings/reminder-thresholds",
        csrf,
        **{"days.gift_ship_days": "60", "days.follow_up_days": " 10 ", "days.review_days": ""},
    )
    assert saved.status_code == 303 and saved.headers["location"].endswith("#reminder-thresholds")
    page = client.get("/settings", headers=HTML).text
    assert re.search(r'data-threshold="gift_ship_days">.*?class="num">60</td>', page, re.S)
    # The gift promised 30 days ago is no longer late with 60 days to ship it.
    assert "Gifts to ship: 1" not in client.get("/", headers=HTML).text
    for bad in ("-1", "366", "ten", "1.5"):
        refused = _post(
            client,
            "/settings/reminder-thresholds",
            csrf,
            **{"days.review_days": "4", "days.follow_up_days": bad},
        )
        assert refused.status_code == 422 and "follow_up_days" in refused.text
    unknown = _post(client, "/settings/reminder-thresholds", csrf, **{"days.nope": "3"})
    assert unknown.status_code == 422 and "nope" in unknown.text
    store = open_store(store_url)
    with store.session() as session:
        assert own_thresholds(get_workspace(session, tenant.name)) == {
            "gift_ship_days": 60,
            "follow_up_days": 10,
        }
    store.dispose()
    reset = _post(client, "/settings/reminder-thresholds", csrf, reset="on")
    assert reset.status_code == 303
    store = open_store(store_url)
    with store.session() as session:
        assert own_thresholds(get_workspace(session, tenant.name)) == {}
    store.dispose()
