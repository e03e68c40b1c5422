"""Helpers for the creator-authorisation tests: the stand-in platforms served once per module,
a workspace with its apps set, and the connect flow walked as a creator's browser would."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from urllib.parse import parse_qs, urlencode, urlsplit, urlunsplit

import httpx
import pytest
from fastapi.testclient import TestClient

from api_support import Tenant, make_tenant, serve
from microfluence.connectors.oauth.platforms import PLATFORMS
from microfluence.web.app import create_app
from oauth_standin import CLIENTS, Standin, make_app

SECRETS = {p: f"{p}-client-secret-{'s3cr3t' * 3}" for p in CLIENTS}
# The creator and account of make_tenant's data each platform's identity matches.
CREATOR_INDEX = {"instagram": 0, "tiktok": 0, "youtube": 2}
ACCOUNT_INDEX = {"instagram": 0, "tiktok": 1, "youtube": 3}


@dataclass
class World:
    client: TestClient
    a: Tenant
    s: Standin
    seen: list[str] = field(default_factory=list)  # every answer's text, to search for secrets

    def keep(self, response: httpx.Response) -> httpx.Response:
        self.seen.append(response.text + str(response.headers))
        return response

    def set_app(self, platform: str) -> None:
        answer = self.keep(
            self.client.put(
                f"/api/v1/oauth-apps/{platform}",
                json={"client_id": CLIENTS[platform], "client_secret": SECRETS[platform]},
                headers=self.a.auth("owner"),
            )
        )
        assert answer.status_code == 200, answer.text

    def link(self, platform: str) -> str:
        made = self.keep(
            self.client.post(
                "/api/v1/authorisations/links",
                json={
                    "creator_id": self.a.creator_ids[CREATOR_INDEX[platform]],
                    "platform": platform,
                },
                headers=self.a.auth("member"),
            )
        )
        assert made.status_code == 201, made.text
        return urlsplit(made.json()["url"]).path

    def to_consent(self, platform: str) -> str:
        """Open a connect link and press its button: the platform's consent URL."""
        path = self.link(platform)
        page = self.keep(self.client.get(path))
        assert page.status_code == 200 and "Connect with" in page.text
        start = self.keep(self.client.post(path, follow_redirects=False))
        assert start.status_code == 303, start.text
        return start.headers["location"]

    def consent(self, url: str, answer: str = "allow") -> str:
        """The creator answers on the platform's page: the callback URL it sends them to."""
        self.s.consent = answer
        back = httpx.get(url, follow_redirects=False)
        assert back.status_code == 302, back.text
        return back.headers["location"]

    def callback(self, url: str, client: TestClient | None = None) -> httpx.Response:
        return self.keep((client or self.client).get(url, follow_redirects=False))

    def connect(self, platform: str) -> dict:
        self.set_app(platform)
        done = self.callback(self.consent(self.to_consent(platform)))
        assert done.status_code == 200 and "Connected" in done.text, done.text
        rows = self.keep(
            self.client.get(
                "/api/v1/authorisations",
                params={"platform": platform},
                headers=self.a.auth("viewer"),
            )
        ).json()["data"]
        assert len(rows) == 1
        return rows[0]

    def fetch(self, auth_id: int) -> httpx.Response:
        return self.keep(
            self.client.post(
                f"/api/v1/authorisations/{auth_id}/fetch", headers=self.a.auth("member")
            )
        )


def with_query(url: str, **changes: str) -> str:
    parts = urlsplit(url)
    query = {k: v[0] for k, v in parse_qs(parts.query).items()} | changes
    return urlunsplit(parts._replace(query=urlencode(query)))


@pytest.fixture(scope="module", name="standin")
def standin_fixture() -> Iterator[tuple[Standin, str]]:
    s = Standin(secrets={CLIENTS[p]: SECRETS[p] for p in CLIENTS})
    with serve(make_app(s)) as url:
        yield s, url


@pytest.fixture(name="world")
def world_fixture(standin, store, store_url, monkeypatch) -> Iterator[World]:  # type: ignore[no-untyped-def]
    s, url = standin
    s.reset()
    s.redirects = {f"http://testserver/connect/callback/{p}" for p in PLATFORMS}
    monkeypatch.setenv("MICROFLUENCE_OAUTH_API_BASE", url)
    monkeypatch.delenv("MICROFLUENCE_PUBLIC_URL", raising=False)
    tenant = make_tenant(store, "brand", prefix="alpha")
    with TestClient(create_app(store_url)) as client:
        yield World(client, tenant, s)
