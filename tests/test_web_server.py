"""The app on a real uvicorn server on 127.0.0.1: API keys, sign-in with session cookies, CSRF
on forms, rate-limited sign-in, and how a page router authenticates."""

from __future__ import annotations

from typing import Annotated

import httpx
import pytest
from fastapi import APIRouter, Form

from api_support import (
    PASSWORD,
    make_tenant,
    make_user,
    serve,
)
from microfluence.web.app import create_app
from microfluence.web.deps import CsrfChecked, DbSession, PageReader, PageWriter
from microfluence.web.settings import WebSettings

# A page router as the pages will add them: session cookie auth, CSRF on the form post.
pages = APIRouter()


@pages.get("/t/whoami")
def whoami(caller: PageReader) -> dict:
    return {"workspace": caller.workspace_name, "role": caller.role}


@pages.post("/t/rename", dependencies=[CsrfChecked])
def rename(caller: PageWriter, db: DbSession, name: Annotated[str, Form()]) -> dict:
    return {"renamed": name, "by": caller.role}


@pytest.fixture
def server(store, store_url):  # type: ignore[no-untyped-def]
    tenant = make_tenant(store, "acme")
    make_tenant(store, "beta")
    make_user(store, "ann@example.com", "acme", "member")
    make_user(store, "vic@example.com", "acme", "viewer")
    app = create_app(store_url)
    app.include_router(pages)
    with serve(app) as base:
        yield base, tenant


def csrf_of(client: httpx.Client) -> str:
    client.get("/docs")  # any page outside /api hands out the CSRF cookie
    return client.cookies["mf_csrf"]


def sign_in(client: httpx.Client, email: str, password: str = PASSWORD) -> httpx.Response:
    return client.post(
        "/auth/sign-in",
        data={"email": email, "password": password, "csrf_token": csrf_of(client), "next": "/t"},
    )


def test_the_api_over_http(server):
    base, tenant = server
    with httpx.Client(base_url=base, timeout=60) as client:
        assert client.get("/api/v1/creators").status_code == 401
        page = client.get("/api/v1/creators", headers=tenant.auth("viewer")).json()
        assert page["count"] == 3
        assert client.get("/openapi.json").json()["info"]["title"] == "microfluence"
        assert "mf_csrf" not in client.cookies  # the API sets no cookies


def test_sign_in_sets_a_safe_session_cookie(server):
    base, _tenant = server
    with httpx.Client(base_url=base, timeout=60) as client:
        response = sign_in(client, "ann@example.com")
        assert response.status_code == 303 and response.headers["location"] == "/t"
        cookie = next(
            c for c in response.headers.get_list("set-cookie") if c.startswith("mf_session=")
        )
        assert "HttpOnly" in cookie and "SameSite=lax" in cookie and "Path=/" in cookie
        assert "Secure" not in cookie  # plain http on 127.0.0.1: Secure only over HTTPS
        assert client.get("/t/whoami").json() == {"workspace": "acme", "role": "member"}
        token = csrf_of(client)
        # Signed in, forms need the token bound to the session, not the pre-sign-in one.
        refused = client.post("/t/rename", data={"name": "x", "csrf_token": token})
        assert refused.status_code == 403 and refused.json()["code"] == "forbidden"


def test_forms_need_the_csrf_token(server):
    base, _tenant = server
    with httpx.Client(base_url=base, timeout=60) as client:
        no_token = client.post(
            "/auth/sign-in", data={"email": "ann@example.com", "password": PASSWORD}
        )
        assert no_token.status_code == 403
        forged = client.post(
            "/auth/sign-in",
            data={"email": "ann@example.com", "password": PASSWORD, "csrf_token": "forged"},
        )
        assert forged.status_code == 403
        assert "mf_session" not in client.cookies


def test_session_bound_csrf_and_roles_on_pages(server, store):
    base, _tenant = server
    from microfluence.access import sessions

    with httpx.Client(base_url=base, timeout=60) as client:
        assert client.get("/t/whoami").status_code == 401
        sign_in(client, "ann@example.com")
        # The session's token is what pages put in their forms (web.auth.csrf_token).
        with store.transaction() as db:
            signed_in = sessions.resolve_session(db, client.cookies["mf_session"])
        ok = client.post("/t/rename", data={"name": "new", "csrf_token": signed_in.csrf_token})
        assert ok.json() == {"renamed": "new", "by": "member"}
        by_header = client.post(
            "/t/rename", data={"name": "h"}, headers={"X-CSRF-Token": signed_in.csrf_token}
        )
        assert by_header.status_code == 200
        out = client.post("/auth/sign-out", data={"csrf_token": signed_in.csrf_token})
        assert out.status_code == 303
        assert client.get("/t/whoami").status_code == 401
    with httpx.Client(base_url=base, timeout=60) as viewer:
        sign_in(viewer, "vic@example.com")
        with store.transaction() as db:
            token = sessions.resolve_session(db, viewer.cookies["mf_session"]).csrf_token
        denied = viewer.post("/t/rename", data={"name": "x", "csrf_token": token})
        assert denied.status_code == 403 and "viewer" in denied.json()["message"]


def test_sign_in_failures_and_the_rate_limit(server):
    base, _tenant = server
    with httpx.Client(base_url=base, timeout=60) as client:
        wrong = sign_in(client, "ann@example.com", "wrong password")
        assert wrong.status_code == 303
        assert wrong.headers["location"].startswith("/sign-in?error=invalid")
        for _ in range(5):
            last = sign_in(client, "ann@example.com", "wrong password")
        assert "error=rate_limited" in last.headers["location"]
        assert int(last.headers["retry-after"]) > 0
        locked = sign_in(client, "ann@example.com")  # the right password, but locked
        assert "error=rate_limited" in locked.headers["location"]
        assert "mf_session" not in client.cookies


def test_no_open_redirect_after_sign_in(server):
    base, _tenant = server
    with httpx.Client(base_url=base, timeout=60) as client:
        response = client.post(
            "/auth/sign-in",
            data={
                "email": "ann@example.com",
                "password": PASSWORD,
                "csrf_token": csrf_of(client),
                "next": "//evil.example/",
            },
        )
        assert response.headers["location"] == "/"


def test_workspace_switcher(server, store):
    base, _tenant = server
    from microfluence.access import sessions
    from microfluence.access.users import get_user, set_membership
    from microfluence.kernel.workspaces import get_workspace

    with store.transaction() as db:
        set_membership(
            db,
            user=get_user(db, "ann@example.com"),
            workspace=get_workspace(db, "beta"),
            role="viewer",
        )
    with httpx.Client(base_url=base, timeout=60) as client:
        sign_in(client, "ann@example.com")
        with store.transaction() as db:
            token = sessions.resolve_session(db, client.cookies["mf_session"]).csrf_token
        switched = client.post("/auth/workspace", data={"workspace": "beta", "csrf_token": token})
        assert switched.status_code == 303
        assert client.get("/t/whoami").json() == {"workspace": "beta", "role": "viewer"}
        nope = client.post("/auth/workspace", data={"workspace": "nope", "csrf_token": token})
        assert nope.status_code == 404


def test_cookies_are_secure_when_configured(store, store_url):
    make_user(store, "ann@example.com", "acme", "owner")
    app = create_app(store_url, settings=WebSettings(cookie_secure=True))
    with serve(app) as base, httpx.Client(base_url=base, timeout=60) as client:
        first = client.get("/docs")
        assert "Secure" in first.headers["set-cookie"]
        response = client.post(
            "/auth/sign-in",
            data={
                "email": "ann@example.com",
                "password": PASSWORD,
                "csrf_token": first.cookies["mf_csrf"],
            },
            headers={"Cookie": f"mf_csrf={first.cookies['mf_csrf']}"},
        )
        assert response.status_code == 303
        assert "Secure" in response.headers["set-cookie"]
