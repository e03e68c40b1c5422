"""The labelling page without a browser: roles, the verdict hidden until labelled, back,
pictures only from allowed hosts, and the workspace's estimate after labelling."""

from __future__ import annotations

import re

import sqlalchemy as sa
from fastapi.testclient import TestClient

from api_support import make_user
from labels_support import sampled_workspace
from microfluence.kernel.store import open_store
from microfluence.kernel.store.tables import Follower
from microfluence.web.app import create_app
from microfluence.web.settings import WebSettings
from pages_support import HTML, sign_in


def _site(store_url: str, **settings: str) -> TestClient:
    store = open_store(store_url)
    sampled_workspace(store)
    for email, role in (("own@x.io", "owner"), ("mem@x.io", "member"), ("view@x.io", "viewer")):
        make_user(store, email, "acme", role)
    store.dispose()
    return TestClient(create_app(store_url, WebSettings(**settings)))


def _follower(store_url: str, username: str) -> int:
    store = open_store(store_url)
    with store.session() as session:
        found = session.scalar(sa.select(Follower.id).where(Follower.username == username))
    store.dispose()
    return int(found)


def _card(html: str) -> str:
    match = re.search(r'data-follower-id="(\d+)"', html)
    assert match, "no follower card on the page"
    return match.group(1)


def test_members_label_with_the_verdict_hidden_until_then(store_url: str) -> None:
    with _site(store_url) as client:
        csrf = sign_in(client, "mem@x.io")
        page = client.get("/labels", headers=HTML)
        assert page.status_code == 200
        first = _card(page.text)
        assert "probability" not in page.text  # no verdict before the label
        assert 'id="label-back"' not in page.text  # nothing labelled yet
        assert "/static/labels.js" in page.text
        assert "0 of 60 followers labelled" in page.text
        # "Followers of": every sample (the form sends an empty value), or one.
        assert client.get("/labels?account=", headers=HTML).status_code == 200
        assert client.get("/labels?account=x1", headers=HTML).status_code == 422
        one = client.get("/labels?account=2", headers=HTML).text
        assert "0 of 20 followers labelled" in one and 'value="2" selected' in one
        done = client.post(
            f"/labels/{first}", data={"label": "unsure", "csrf_token": csrf}, follow_redirects=False
        )
        assert done.status_code == 303 and done.headers["location"] == f"/labels?last={first}"
        after = client.get(done.headers["location"], headers=HTML).text
        assert "you said <strong>unsure</strong>" in after and "probability" in after
        assert _card(after) != first
        assert f'href="/labels?follower={first}"' in after  # back to the last label
        again = client.get(f"/labels?follower={first}", headers=HTML).text
        assert _card(again) == first and "Labelled <strong>unsure</strong> by mem@x.io" in again
        refused = client.post(f"/labels/{first}", data={"label": "bogus", "csrf_token": csrf})
        assert refused.status_code == 422
        forged = client.post(f"/labels/{first}", data={"label": "fake"}, headers=HTML)
        assert forged.status_code == 403


def test_viewers_see_what_the_labels_say_but_cannot_label(store_url: str) -> None:
    with _site(store_url) as client:
        csrf = sign_in(client, "view@x.io")
        page = client.get("/labels", headers=HTML).text
        assert 'id="label-card"' not in page and 'id="label-accuracy"' in page
        assert "members label followers" in page
        answer = client.post("/labels/1", data={"label": "fake", "csrf_token": csrf}, headers=HTML)
        assert answer.status_code == 403


def test_pictures_load_only_from_the_hosts_the_operator_allows(store_url: str) -> None:
    with _site(store_url) as client:
        sign_in(client, "own@x.io")
        for _ in range(4):
            page = client.get("/labels", headers=HTML)
            assert "<img" not in page.text and 'class="label-picture initial"' in page.text
            assert "cdninstagram" not in page.headers["content-security-policy"]
    url = store_url.replace("store.sqlite", "store2.sqlite") if "sqlite" in store_url else None
    if url is None:
        return  # the policy does not depend on the store: checked once, on SQLite
    allowed = "https://*.cdninstagram.com"
    with _site(url, follower_picture_hosts=allowed) as client:
        sign_in(client, "own@x.io")
        person, bot = _follower(url, "ann.smith.0"), _follower(url, "user83920x0")
        page = client.get(f"/labels?follower={person}", headers=HTML)
        assert allowed in page.headers["content-security-policy"]
        assert '<img class="label-picture" src="https://scontent.cdninstagram.com/v/0.jpg"' in (
            page.text
        )
        assert 'referrerpolicy="no-referrer"' in page.text
        page = client.get(f"/labels?follower={bot}", headers=HTML)  # no picture URL: an initial
        assert "<img" not in page.text and 'class="label-picture initial"' in page.text
    with _site(
        url.replace("store2", "store3"), follower_picture_hosts="https://other.example"
    ) as client:
        sign_in(client, "own@x.io")
        person = _follower(url.replace("store2", "store3"), "ann.smith.0")
        page = client.get(f"/labels?follower={person}", headers=HTML)  # a host not allowed
        assert "<img" not in page.text and 'class="label-picture initial"' in page.text
    # Other pages keep the strict policy.
    with TestClient(create_app(url, WebSettings(follower_picture_hosts=allowed))) as client:
        sign_in(client, "own@x.io")
        assert (
            allowed not in client.get("/creators", headers=HTML).headers["content-security-policy"]
        )
