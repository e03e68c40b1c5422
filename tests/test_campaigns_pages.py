"""The campaign pages through the real app: create a campaign, add a deal, run the matcher,
confirm, reject and assign; roles, CSRF, and form errors naming the field."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from api_support import make_tenant, make_user
from microfluence.kernel.store import open_store
from microfluence.web.app import create_app
from pages_support import HTML, csrf_of, sign_in


@pytest.fixture
def browser(store_url: str) -> Iterator[tuple[TestClient, str]]:
    store = open_store(store_url)
    make_tenant(store, "brand", prefix="alpha")
    make_user(store, "m@brand.io", "brand", "member")
    make_user(store, "v@brand.io", "brand", "viewer")
    store.dispose()
    with TestClient(create_app(store_url)) as client:
        yield client, sign_in(client, "m@brand.io")


def _post(client: TestClient, path: str, csrf: str, **data: str):  # type: ignore[no-untyped-def]
    return client.post(
        path, data={**data, "csrf_token": csrf}, headers=HTML, follow_redirects=False
    )


def test_create_add_match_confirm_reject_assign(browser):
    client, csrf = browser
    listing = client.get("/campaigns", headers=HTML)
    assert listing.status_code == 200 and "No campaign yet" in listing.text
    assert 'action="/campaigns"' in listing.text and 'href="/campaigns"' in listing.text
    made = _post(
        client,
        "/campaigns",
        csrf,
        name="January push",
        currency="eur",
        starts_on="2026-01-01",
        ends_on="2026-01-31",
        budget="1200",
        hashtags="#AD, #Winter",
        targets="clicks=500 roi=2",
    )
    assert made.status_code == 303, made.text
    page_url = made.headers["location"]
    cid = int(page_url.rsplit("/", 1)[1])
    added = _post(
        client,
        f"/campaigns/{cid}/deals",
        csrf,
        creator="instagram:alpha_ana",
        flat_fee="300",
        commission_rate="10%",
        package="feed_post=1 story=1",
        due="2026-01-15",
    )
    assert added.status_code == 303, added.text
    page = client.get(page_url, headers=HTML).text
    assert "January push" in page and "1200.00" in page and "EUR" in page
    assert "instagram:alpha_ana" in page and "10.0 %" in page and "1 × feed_post" in page
    assert "#ad" in page and "#winter" in page and "target roi 2" in page
    # The edit form, as the page fills it, saves what it shows; a field changed is changed.
    form = dict(
        re.findall(r'<input name="(\w+)"[^>]*value="([^"]*)"', page.split('id="edit-campaign"')[1])
    )
    assert form["hashtags"].split() == ["#ad", "#winter"] and form["currency"] == "EUR"
    edited = _post(
        client,
        f"/campaigns/{cid}/edit",
        csrf,
        **{**form, "name": "January push!", "budget": "", "goal": "sales"},
        starts_on="2026-01-01",
        ends_on="2026-01-31",
        notes="hello",
    )
    assert edited.status_code == 303, edited.text
    page = client.get(page_url, headers=HTML).text
    assert "January push!" in page and "1200.00" not in page and "target roi 2" in page
    matched = _post(client, f"/campaigns/{cid}/match", csrf)
    assert matched.status_code == 303 and "matched=1" in matched.headers["location"]
    page = client.get(matched.headers["location"], headers=HTML).text
    assert "Matched 1 piece(s); 1 still pending." in page and "#ad in caption" in page
    piece = re.search(rf"/campaigns/{cid}/deliverables/(\d+)/confirm", page)
    assert piece is not None
    pid = piece.group(1)
    assert _post(client, f"/campaigns/{cid}/deliverables/{pid}/confirm", csrf).status_code == 303
    page = client.get(page_url, headers=HTML).text
    assert "confirmed" in page and f"/deliverables/{pid}/confirm" not in page
    post = re.search(r">post (\d+) <span", page)
    assert post is not None
    assert _post(client, f"/campaigns/{cid}/deliverables/{pid}/reject", csrf).status_code == 303
    page = client.get(page_url, headers=HTML).text
    assert "#ad in caption" not in page and f"/deliverables/{pid}/assign" in page
    assigned = _post(
        client, f"/campaigns/{cid}/deliverables/{pid}/assign", csrf, post=post.group(1)
    )
    assert assigned.status_code == 303
    page = client.get(page_url, headers=HTML).text
    assert "by hand" in page and "assigned by hand" in page
    for state in ("active", "paused", "ended"):
        assert _post(client, f"/campaigns/{cid}/status", csrf, status=state).status_code == 303
    page = client.get(page_url, headers=HTML).text
    assert "status-ended" in page and "Activate" not in page
    removed = client.get(page_url, headers=HTML).text
    deal = re.search(rf"/campaigns/{cid}/deals/(\d+)/remove", removed)
    assert deal is not None
    assert _post(client, deal.group(0), csrf).status_code == 303
    assert "No creator in this campaign yet" in client.get(page_url, headers=HTML).text
    assert _post(client, f"/campaigns/{cid}/delete", csrf).status_code == 303
    assert client.get(page_url, headers=HTML).status_code == 404


def test_form_errors_name_the_field_and_write_nothing(browser):
    client, csrf = browser
    for data, words in (
        ({"name": "X", "currency": "EURO"}, "currency"),
        ({"name": "X", "targets": "likes=3"}, "unknown KPI"),
        ({"name": "X", "hashtags": "#ok #not/ok"}, "not a valid hashtag"),
        ({"name": "X", "starts_on": "2026-02-01", "ends_on": "2026-01-01"}, "ends_on"),
    ):
        answer = _post(client, "/campaigns", csrf, **data)
        assert answer.status_code == 422, data
        assert words in answer.text
    assert "No campaign yet" in client.get("/campaigns", headers=HTML).text
    cid = _post(client, "/campaigns", csrf, name="Y").headers["location"].rsplit("/", 1)[1]
    for data, words in (
        ({"creator": "alpha_ana"}, "PLATFORM:HANDLE"),
        ({"creator": "instagram:alpha_ana", "package": "tweet=2"}, "unknown format"),
        ({"creator": "instagram:alpha_ana", "commission_rate": "200%"}, "commission_rate"),
    ):
        answer = _post(client, f"/campaigns/{cid}/deals", csrf, **data)
        assert answer.status_code == 422 and words in answer.text, data
    # Without the CSRF token: refused.
    refused = client.post("/campaigns", data={"name": "Z"}, headers=HTML)
    assert refused.status_code == 403


def test_viewers_see_but_cannot_write(browser, store_url):
    client, csrf = browser
    cid = _post(client, "/campaigns", csrf, name="Seen").headers["location"].rsplit("/", 1)[1]
    viewer = TestClient(client.app)
    viewer_csrf = sign_in(viewer, "v@brand.io")
    page = viewer.get(f"/campaigns/{cid}", headers=HTML).text
    assert "Seen" in page and "Add a creator" not in page and "Match posts" not in page
    assert "New campaign" not in viewer.get("/campaigns", headers=HTML).text
    answer = _post(viewer, "/campaigns", viewer_csrf, name="Nope")
    assert answer.status_code == 403
    answer = _post(viewer, f"/campaigns/{cid}/match", viewer_csrf)
    assert answer.status_code == 403
    assert csrf_of(page)  # the page still has its sign-out form
