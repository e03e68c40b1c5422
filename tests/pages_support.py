"""Helpers for the page tests: sign in through the real form, read a page's CSRF token."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient

from api_support import PASSWORD

HTML = {"Accept": "text/html"}
_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


def csrf_of(html: str) -> str:
    match = _CSRF.search(html)
    assert match, "the page has no form with a CSRF token"
    return match.group(1)


def sign_in(client: TestClient, email: str, password: str = PASSWORD) -> str:
    """Sign in with the sign-in form; returns the CSRF token of the signed-in session."""
    form = client.get("/sign-in", headers=HTML)
    assert form.status_code == 200
    answer = client.post(
        "/auth/sign-in",
        data={
            "email": email,
            "password": password,
            "csrf_token": csrf_of(form.text),
            "next": "/creators",
        },
        follow_redirects=False,
    )
    assert answer.status_code == 303, answer.text
    assert answer.headers["location"] == "/creators"
    page = client.get("/creators", headers=HTML)
    assert page.status_code == 200, page.text
    return csrf_of(page.text)
