"""`microfluence workspaces|users|api-keys|serve` on both stores."""

from __future__ import annotations

import os
import subprocess
import sys
import time

import httpx
import pytest
from typer.testing import CliRunner

from api_support import PASSWORD, cheap_password_hashing, free_port  # noqa: F401
from microfluence.access import cli as access_cli
from microfluence.access import sessions
from microfluence.cli.main import app
from microfluence.kernel.store import open_store

pytestmark = pytest.mark.usefixtures("cheap_password_hashing")


def run(store_url: str, *args: str, input: str | None = None):  # type: ignore[no-untyped-def]
    return CliRunner().invoke(
        app, list(args), input=input, env={"MICROFLUENCE_DATABASE_URL": store_url}
    )


def test_workspaces(store_url):
    assert run(store_url, "workspaces", "create", "acme").exit_code == 0
    made = run(store_url, "workspaces", "create", "beta", "--display-name", "Beta Foods")
    assert made.exit_code == 0 and "beta" in made.output
    listed = run(store_url, "workspaces", "list")
    assert "acme" in listed.output and "Beta Foods" in listed.output
    again = run(store_url, "workspaces", "create", "acme")
    assert again.exit_code == 1 and "already exists" in again.output
    bad = run(store_url, "workspaces", "create", "Not Valid")
    assert bad.exit_code == 1 and "workspace name" in bad.output


def test_users_with_a_password_from_stdin_or_a_prompt(store_url, monkeypatch):
    run(store_url, "workspaces", "create", "acme")
    piped = run(
        store_url,
        "users",
        "create",
        "Ann@Example.com",
        "--workspace",
        "acme",
        "--role",
        "owner",
        input=PASSWORD + "\n",
    )
    assert piped.exit_code == 0, piped.output
    assert "ann@example.com" in piped.output and "owner" in piped.output
    monkeypatch.setattr(access_cli, "_stdin_is_terminal", lambda: True)
    prompted = run(
        store_url,
        "users",
        "create",
        "bob@example.com",
        "-w",
        "acme",
        "--role",
        "viewer",
        input="another secret\nanother secret\n",
    )
    assert prompted.exit_code == 0, prompted.output
    assert "another secret" not in prompted.output  # hidden input
    store = open_store(store_url)
    _, ann = sessions.sign_in(store, email="ann@example.com", password=PASSWORD)
    _, bob = sessions.sign_in(store, email="bob@example.com", password="another secret")
    assert (ann.principal.role, bob.principal.role) == ("owner", "viewer")
    store.dispose()
    listed = run(store_url, "users", "list", "--workspace", "acme")
    assert "ann@example.com" in listed.output and "viewer" in listed.output
    monkeypatch.setattr(access_cli, "_stdin_is_terminal", lambda: False)
    for args, message in (
        (["x@example.com", "-w", "acme", "--role", "boss"], "unknown role"),
        (["x@example.com", "-w", "nope"], "no workspace"),
        (["not-an-email", "-w", "acme"], "not an e-mail"),
    ):
        failed = run(store_url, "users", "create", *args, input=PASSWORD + "\n")
        assert failed.exit_code == 1 and message in failed.output, failed.output
    short = run(store_url, "users", "create", "y@example.com", "-w", "acme", input="short\n")
    assert short.exit_code == 1 and "at least 8" in short.output
    empty = run(store_url, "users", "create", "z@example.com", "-w", "acme", input="")
    assert empty.exit_code == 1 and "no password" in empty.output


def test_api_keys(store_url):
    run(store_url, "workspaces", "create", "acme")
    made = run(store_url, "api-keys", "create", "--workspace", "acme", "--name", "ci")
    assert made.exit_code == 0, made.output
    key = made.output.strip().splitlines()[-1]
    assert key.startswith("mfk_") and len(key) > 50
    viewer = run(store_url, "api-keys", "create", "-w", "acme", "--role", "viewer")
    viewer_key = viewer.output.strip().splitlines()[-1]
    listed = run(store_url, "api-keys", "list", "--workspace", "acme")
    assert key[:12] in listed.output and "ci" in listed.output and key not in listed.output
    from fastapi.testclient import TestClient

    from microfluence.web.app import create_app

    with TestClient(create_app(store_url)) as client:
        me = client.get("/api/v1/workspace", headers={"Authorization": f"Bearer {key}"})
        assert me.json()["role"] == "member"
        revoked = run(store_url, "api-keys", "revoke", key[:12], "--workspace", "acme")
        assert revoked.exit_code == 0 and "revoked" in revoked.output
        gone = client.get("/api/v1/workspace", headers={"Authorization": f"Bearer {key}"})
        assert gone.status_code == 401
        still = client.get("/api/v1/workspace", headers={"Authorization": f"Bearer {viewer_key}"})
        assert still.json()["role"] == "viewer"
    unknown = run(store_url, "api-keys", "revoke", "mfk_unknown1", "--workspace", "acme")
    assert unknown.exit_code == 1 and "no API key" in unknown.output


def test_serve_runs_the_app_with_uvicorn(tmp_path):
    url = f"sqlite:///{tmp_path / 'served.sqlite'}"
    port = free_port()
    env = {**os.environ, "MICROFLUENCE_DATABASE_URL": url}
    proc = subprocess.Popen(
        [sys.executable, "-m", "microfluence", "serve", "--host", "127.0.0.1", "--port", str(port)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                response = httpx.get(f"http://127.0.0.1:{port}/openapi.json", timeout=10)
                break
            except httpx.TransportError:
                if time.monotonic() > deadline or proc.poll() is not None:
                    raise AssertionError(
                        proc.stdout.read().decode() if proc.stdout else ""
                    ) from None
                time.sleep(0.2)
        assert response.status_code == 200 and "/api/v1/creators" in response.json()["paths"]
        denied = httpx.get(f"http://127.0.0.1:{port}/api/v1/creators", timeout=60)
        assert denied.status_code == 401 and denied.json()["code"] == "unauthenticated"
    finally:
        proc.terminate()
        proc.wait(timeout=30)
