"""The deal page's "Edit the deal" form through the real app: a member changes the fee, gift
cap, shipping, commission, notes and the package with its due dates (the same service as the
API's PATCH); viewers see the terms without the form and are refused; CSRF; a bad value shows
the form again with a 422 naming the field and nothing stored (hostile values by hypothesis)."""

from __future__ import annotations

import html
import re
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import update

from api_support import make_tenant, make_user
from microfluence.campaigns.campaigns import create_campaign
from microfluence.campaigns.deals import add_deal
from microfluence.campaigns.schemas import CampaignCreate, DealCreate
from microfluence.campaigns.tables import Deliverable
from microfluence.kernel.store import open_store
from microfluence.web.app import create_app
from pages_support import HTML, sign_in

FORM = {
    "flat_fee": "300",
    "product_value": "50.5",
    "shipping_cost": "7.25",
    "commission_rate": "12.5%",
    "package": "feed_post=2 reel=1",
    "due": "2026-07-01 reel=2026-07-10",
    "notes": "Ships from Lyon <b>fast</b>",
}


@pytest.fixture
def site(store_url: str) -> Iterator[tuple[TestClient, str, str]]:
    store = open_store(store_url)
    tenant = make_tenant(store, "brand", prefix="alpha")
    make_user(store, "m@brand.io", "brand", "member")
    make_user(store, "v@brand.io", "brand", "viewer")
    with store.transaction() as session:
        cid = create_campaign(
            session, tenant.workspace_id, CampaignCreate(name="Spring", currency="EUR")
        ).id
        deal = add_deal(
            session,
            tenant.workspace_id,
            cid,
            DealCreate(creator="instagram:alpha_ana", flat_fee="100", package={"story": 1}),
        )
    store.dispose()
    with TestClient(create_app(store_url)) as client:
        yield client, sign_in(client, "m@brand.io"), f"/campaigns/{cid}/deals/{deal.id}"


def _post(client: TestClient, path: str, data: dict):  # type: ignore[no-untyped-def, type-arg]
    return client.post(path, data=data, headers=HTML, follow_redirects=False)


def _terms(client: TestClient, page: str) -> str:
    """The deal's terms section as the page shows it."""
    text = client.get(page, headers=HTML).text
    return text.split('<section id="terms">')[1].split("</section>")[0]


def _value(section: str, name: str) -> str:
    found = re.search(rf'name="{name}"[^>]*value="([^"]*)"', section)
    assert found, name
    return html.unescape(found.group(1))


def test_a_member_edits_every_term(site):
    client, csrf, page = site
    before = _terms(client, page)
    assert "Edit the deal" in before
    assert _value(before, "flat_fee") == "100.00" and _value(before, "package") == "story=1"
    saved = _post(client, page + "/terms", {**FORM, "csrf_token": csrf})
    assert saved.status_code == 303 and saved.headers["location"] == page + "#terms"
    after = _terms(client, page)
    assert "300.00 <small>EUR</small>" in after and "50.50 <small>EUR</small>" in after
    assert "7.25 <small>EUR</small>" in after and "12.50 %" in after
    assert "2 × feed post · due 2026-07-01" in after and "1 × reel · due 2026-07-10" in after
    assert "story" not in after.split('id="term-package"')[1].split("</p>")[0]
    assert "Ships from Lyon &lt;b&gt;fast&lt;/b&gt;" in after  # notes are escaped
    # The form is filled in with what is stored.
    assert _value(after, "commission_rate") == "0.1250"
    assert _value(after, "due") == "feed_post=2026-07-01 reel=2026-07-10"
    # Sent back unchanged, the form changes nothing; blanks are 0, no piece, no notes.
    assert _post(client, page + "/terms", {**_filled(after), "csrf_token": csrf}).status_code == 303
    assert _terms(client, page) == after
    blank = {"csrf_token": csrf, "flat_fee": "", "package": "", "notes": " "}
    assert _post(client, page + "/terms", blank).status_code == 303
    cleared = _terms(client, page)
    assert "0.00 <small>EUR</small>" in cleared and "0.00 %" in cleared
    assert 'id="term-notes"' not in cleared and '<span class="na">none</span>' in cleared


def _filled(section: str) -> dict[str, str]:
    names = ("flat_fee", "product_value", "shipping_cost", "commission_rate", "package", "due")
    notes = re.search(r'<textarea name="notes"[^>]*>(.*?)</textarea>', section, re.S)
    assert notes
    return {name: _value(section, name) for name in names} | {
        "notes": html.unescape(notes.group(1))
    }


def test_viewers_read_the_terms_without_the_form(site):
    client, _, page = site
    viewer = TestClient(client.app)
    viewer_csrf = sign_in(viewer, "v@brand.io")
    shown = _terms(viewer, page)
    assert "100.00 <small>EUR</small>" in shown and "1 × story" in shown
    assert "Edit the deal" not in shown and 'action="' + page + '/terms"' not in shown
    refused = _post(viewer, page + "/terms", {**FORM, "csrf_token": viewer_csrf})
    assert refused.status_code == 403
    assert "100.00 <small>EUR</small>" in _terms(client, page)


def test_without_the_csrf_token_a_member_is_refused(site):
    client, _, page = site
    assert _post(client, page + "/terms", FORM).status_code == 403
    assert _post(client, page + "/terms", {**FORM, "csrf_token": "forged"}).status_code == 403
    assert "100.00 <small>EUR</small>" in _terms(client, page)


@pytest.mark.parametrize(
    ("field", "value", "named"),
    [
        ("flat_fee", "12.345", "flat_fee"),
        ("flat_fee", "-1", "flat_fee"),
        ("commission_rate", "150%", "commission_rate"),
        ("shipping_cost", "lots", "shipping_cost"),
        ("package", "feed_post=2 selfie=1", "package"),
        ("package", "reel=101", "package"),
        ("due", "2026-13-01", "due"),
    ],
)
def test_a_bad_value_shows_the_form_again_and_stores_nothing(site, field, value, named):
    client, csrf, page = site
    before = _terms(client, page)
    answer = _post(client, page + "/terms", {**FORM, field: value, "csrf_token": csrf})
    assert answer.status_code == 422, answer.text
    section = answer.text.split('<section id="terms">')[1].split("</section>")[0]
    assert 'role="alert"' in section and f"field '{named}'" in html.unescape(section)
    assert '<details class="card" id="edit-terms" open>' in section
    assert _value(section, field) == value  # the form as sent, to correct
    if field != "flat_fee":
        assert _value(section, "flat_fee") == FORM["flat_fee"]
    assert _terms(client, page) == before


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    field=st.sampled_from(["flat_fee", "product_value", "commission_rate", "package", "due"]),
    value=st.text(max_size=60),
)
def test_hostile_values_are_stored_or_refused_with_the_field_named(site, field, value):
    client, csrf, page = site
    before = _terms(client, page)
    answer = _post(client, page + "/terms", {**FORM, field: value, "csrf_token": csrf})
    assert answer.status_code in (303, 422), answer.text
    if answer.status_code == 422:
        assert f"field '{field}'" in html.unescape(answer.text)
        assert _terms(client, page) == before
    else:
        # Stored: the page shows the form filled in with values it accepts back as they are.
        after = _terms(client, page)
        again = _post(client, page + "/terms", {**_filled(after), "csrf_token": csrf})
        assert again.status_code == 303
        assert _terms(client, page) == after
        restore = {**FORM, "package": "story=1", "due": "", "flat_fee": "100"}
        assert _post(client, page + "/terms", {**restore, "csrf_token": csrf}).status_code == 303


def test_matched_pieces_cannot_be_dropped_and_nothing_is_half_written(site, store_url):
    client, csrf, page = site
    store = open_store(store_url, migrate=False)
    with store.transaction() as session:
        session.execute(update(Deliverable).values(status="matched"))
    store.dispose()
    before = _terms(client, page)
    answer = _post(client, page + "/terms", {**FORM, "package": "reel=1", "csrf_token": csrf})
    assert answer.status_code == 422
    assert "story: 1 piece(s) already matched" in html.unescape(answer.text)
    assert _terms(client, page) == before  # the fee sent with it was not stored either
