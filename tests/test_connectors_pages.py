"""The connections page's roles: viewers read (no form; a post anyway is 403), members fetch,
refresh and schedule but cannot set credentials, owners set them; a bad secret or cron shows
the page again with why, never the secret."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from api_support import make_user
from connectors_support import API_KEY
from microfluence.web.app import create_app
from pages_support import HTML, sign_in


@pytest.fixture
def app_url(sqlite_store):  # type: ignore[no-untyped-def]
    for email, role in (("v@a.io", "viewer"), ("m@a.io", "member"), ("o@a.io", "owner")):
        make_user(sqlite_store, email, "acme", role)
    return sqlite_store.url


def test_roles_on_the_connections_page(app_url: str) -> None:
    with TestClient(create_app(app_url)) as client:
        csrf = sign_in(client, "v@a.io")
        page = client.get("/connections", headers=HTML).text
        assert "not connected" in page and 'id="fetch-form"' not in page
        assert 'id="youtube-form"' not in page and 'id="refresh-form"' not in page
        for path, data in (
            ("/connections/refresh", {}),
            ("/connections/fetch", {"platform": "youtube", "handles": "x"}),
            ("/connections/schedule", {"cron": "0 4 * * *"}),
            ("/connections/credentials", {"platform": "youtube", "secret": API_KEY}),
        ):
            answer = client.post(path, data={**data, "csrf_token": csrf}, headers=HTML)
            assert answer.status_code == 403, path
    with TestClient(create_app(app_url)) as client:
        csrf = sign_in(client, "m@a.io")
        page = client.get("/connections", headers=HTML).text
        assert 'id="fetch-form"' in page and 'id="youtube-form"' not in page
        refused = client.post(
            "/connections/credentials",
            data={"platform": "youtube", "secret": API_KEY, "csrf_token": csrf},
            headers=HTML,
        )
        assert refused.status_code == 403
        bad = client.post(
            "/connections/schedule", data={"cron": "99 * * * *", "csrf_token": csrf}, headers=HTML
        )
        assert bad.status_code == 422 and "99 * * * *" in bad.text
        made = client.post(
            "/connections/schedule",
            data={"cron": "0 4 * * *", "csrf_token": csrf},
            follow_redirects=False,
        )
        assert made.status_code == 303
        assert "<code>0 4 * * *</code>" in client.get("/connections", headers=HTML).text
    with TestClient(create_app(app_url)) as client:
        csrf = sign_in(client, "o@a.io")
        wrong = client.post(
            "/connections/credentials",
            data={
                "platform": "instagram",
                "secret": "EAAG-secret-token-123456",
                "csrf_token": csrf,
            },
            headers=HTML,
        )
        assert wrong.status_code == 422 and "business account id" in wrong.text
        assert "EAAG-secret-token-123456" not in wrong.text
