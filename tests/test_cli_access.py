"""`microfluence workspaces|users|api-keys|serve` on both stores."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time

import httpx
import pytest
from typer.testing import CliRunner

from api_support import PASSWORD, free_port
from microfluence.access import cli as access_cli
from microfluence.access import sessions
from microfluence.cli.main import app
from microfluence.kernel.store import open_store

pytestmark = pytest.mark.usefixtures("wide_console")


@pytest.fixture
def wide_console(monkeypatch: pytest.MonkeyPatch) -> None:
    """Tables wide enough that Rich does not wrap their cells (the console's width is fixed
    when it is made, whatever COLUMNS says later)."""
    from microfluence.kernel import console

    monkeypatch.setattr(console.console, "_width", 240)


def run(store_url: str, *args: str, input: str | None = None):  # type: ignore[no-untyped-def]
    env = {"MICROFLUENCE_DATABASE_URL": store_url}
    return CliRunner().invoke(app, list(args), input=input, env=env)


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


def test_invitations_from_the_command_line(store_url, monkeypatch):
    run(store_url, "workspaces", "create", "acme")
    monkeypatch.delenv("MICROFLUENCE_PUBLIC_URL", raising=False)
    made = run(
        store_url,
        "invitations",
        "create",
        "Ann@Example.com",
        "-w",
        "acme",
        "--role",
        "owner",
        "--base-url",
        "https://mf.example.org/",
    )
    assert made.exit_code == 0, made.output
    link = made.output.strip().splitlines()[-1]
    assert link.startswith("https://mf.example.org/invitations/mfi_")
    listed = run(store_url, "invitations", "list", "-w", "acme")
    assert "ann@example.com" in listed.output and "operator" in listed.output
    from microfluence.access import invitations

    store = open_store(store_url)
    token = link.rsplit("/", 1)[1]
    accepted = invitations.accept_with_password(store, token, password=PASSWORD)
    assert (accepted.workspace, accepted.role) == ("acme", "owner")
    store.dispose()
    again = run(store_url, "invitations", "create", "ann@example.com", "-w", "acme")
    assert again.exit_code == 1 and "already a member" in again.output
    other = run(store_url, "invitations", "create", "bo@example.com", "-w", "acme")
    invitation_id = re.search(r"\(id (\d+),", other.output).group(1)
    revoked = run(store_url, "invitations", "revoke", invitation_id, "-w", "acme")
    assert revoked.exit_code == 0 and "bo@example.com" in revoked.output
    assert "bo@example.com" not in run(store_url, "invitations", "list", "-w", "acme").output
    assert "revoked" in run(store_url, "invitations", "list", "-w", "acme", "--all").output


def test_the_operator_manages_accounts(store_url):
    run(store_url, "workspaces", "create", "acme")
    for email, role in (("ann@example.com", "owner"), ("bob@example.com", "member")):
        made = run(
            store_url, "users", "create", email, "-w", "acme", "--role", role, input=PASSWORD + "\n"
        )
        assert made.exit_code == 0, made.output
    store = open_store(store_url)
    sessions.sign_in(store, email="bob@example.com", password=PASSWORD)
    reset = run(store_url, "users", "set-password", "bob@example.com", input="a reset password\n")
    assert reset.exit_code == 0 and "1 session(s) ended" in reset.output
    sessions.sign_in(store, email="bob@example.com", password="a reset password")
    assert (
        run(
            store_url, "users", "set-role", "bob@example.com", "-w", "acme", "--role", "viewer"
        ).exit_code
        == 0
    )
    last = run(store_url, "users", "disable", "ann@example.com")
    assert last.exit_code == 1 and "last active owner" in last.output
    disabled = run(store_url, "users", "disable", "bob@example.com")
    assert disabled.exit_code == 0 and "disabled bob@example.com" in disabled.output
    listed = run(store_url, "users", "list", "-w", "acme")
    assert "disabled" in listed.output and "viewer" in listed.output
    with pytest.raises(sessions.AuthenticationError):
        sessions.sign_in(store, email="bob@example.com", password="a reset password")
    assert run(store_url, "users", "enable", "bob@example.com").exit_code == 0
    sessions.sign_in(store, email="bob@example.com", password="a reset password")
    removed = run(store_url, "users", "remove", "bob@example.com", "-w", "acme")
    assert removed.exit_code == 0
    assert "bob@example.com" not in run(store_url, "users", "list", "-w", "acme").output
    kept = run(store_url, "users", "delete", "bob@example.com", input="n\n")
    assert kept.exit_code == 1
    deleted = run(store_url, "users", "delete", "bob@example.com", "--yes")
    assert deleted.exit_code == 0, deleted.output
    with pytest.raises(sessions.AuthenticationError):
        sessions.sign_in(store, email="bob@example.com", password="a reset password")
    missing = run(store_url, "users", "delete", "bob@example.com", "--yes")
    assert missing.exit_code == 1 and "no user" in missing.output
    store.dispose()


def test_api_key_list_shows_who_made_each_key(store_url):
    run(store_url, "workspaces", "create", "acme")
    run(store_url, "api-keys", "create", "-w", "acme", "--name", "ci", "--role", "viewer")
    listed = run(store_url, "api-keys", "list", "-w", "acme")
    assert "operator (CLI)" in listed.output and "may now" in listed.output


def test_demo_user_goes_through_add_member(store_url):
    from microfluence.demo.user import ensure_demo_user

    run(store_url, "workspaces", "create", "demo")
    store = open_store(store_url)
    first = ensure_demo_user(store, "demo")
    token, _ = sessions.sign_in(store, email=first.email, password=first.password)
    second = ensure_demo_user(store, "demo")
    assert second.password != first.password
    with store.transaction() as session:
        assert sessions.resolve_session(session, token) is None  # the old sessions ended
    _, signed_in = sessions.sign_in(store, email=second.email, password=second.password)
    assert signed_in.principal.role == "owner"
    store.dispose()
