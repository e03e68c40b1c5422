"""Import jobs. Cancelling: one service (jobs.imports.cancel_job) behind the API, the job page and
the CLI; owners only, one workspace only; a running import stops at its next batch. And the
column mapping the page takes, parsed as the API and the CLI parse it."""

from __future__ import annotations

from pathlib import Path

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from api_support import (
    make_tenant,
    make_user,
)
from microfluence.cli.main import app as cli
from microfluence.jobs import imports
from microfluence.jobs.tables import ImportJob
from microfluence.kernel.errors import ConflictError, NotFoundError
from microfluence.web.app import create_app
from pages_support import HTML, sign_in


def queued_job(store, workspace_id: int, filename: str = "later.csv") -> str:  # type: ignore[no-untyped-def]
    """A job waiting for a worker (created, never submitted)."""
    with store.transaction() as session:
        job = imports.create_job(
            session, workspace_id=workspace_id, kind="creators", filename=filename, options={}
        )
        return job.id


def status_of(store, job_id: str) -> str:  # type: ignore[no-untyped-def]
    with store.transaction() as session:
        return session.get(ImportJob, job_id).status


def test_the_service_cancels_queued_and_running_jobs(store):
    acme = make_tenant(store, "acme")
    beta = make_tenant(store, "beta")
    waiting = queued_job(store, acme.workspace_id)
    with store.transaction() as session, pytest.raises(NotFoundError):
        imports.cancel_job(session, beta.workspace_id, waiting)  # another workspace's job
    with store.transaction() as session:
        assert imports.cancel_job(session, acme.workspace_id, waiting).status == "cancelled"
    with store.transaction() as session, pytest.raises(ConflictError, match="already ended"):
        imports.cancel_job(session, acme.workspace_id, waiting)
    running = queued_job(store, acme.workspace_id)
    with store.transaction() as session:
        session.execute(
            sa.update(ImportJob).where(ImportJob.id == running).values(status="running")
        )
    signalled: list[str] = []
    with store.transaction() as session:
        job = imports.cancel_job(session, acme.workspace_id, running, signal=signalled.append)
        assert job.status == "cancelling" and signalled == [running]
    # The running import (here: its cancel check) sees it in the store: another process's cancel.
    assert imports._cancel_check(store, running, None)() is False  # not polled again so soon
    check = imports._cancel_check(store, running, None)
    imports.CANCEL_POLL_SECONDS, saved = 0.0, imports.CANCEL_POLL_SECONDS
    try:
        assert check() is True
    finally:
        imports.CANCEL_POLL_SECONDS = saved
    assert imports.fail_interrupted(store) == 1  # a server stopped while it was cancelling
    assert status_of(store, running) == "cancelled"


def test_a_job_cancelled_while_queued_never_runs(store, tmp_path):
    acme = make_tenant(store, "acme")
    job_id = queued_job(store, acme.workspace_id)
    with store.transaction() as session:
        imports.cancel_job(session, acme.workspace_id, job_id)
    folder = tmp_path / "upload"
    folder.mkdir()
    upload = folder / "later.csv"
    upload.write_text("handle\nnew_one\n", encoding="utf-8")
    imports.run_job(store, job_id, upload, lambda *_: None)
    assert status_of(store, job_id) == "cancelled" and not folder.exists()
    with store.transaction() as session:
        assert session.scalar(sa.select(sa.func.count()).select_from(ImportJob)) == 1


def test_the_api_lets_owners_cancel_their_own_jobs(store, store_url):
    acme = make_tenant(store, "acme")
    beta = make_tenant(store, "beta")
    with TestClient(create_app(store_url)) as client:  # its start fails leftover jobs: then
        job_id = queued_job(store, acme.workspace_id)
        url = f"/api/v1/imports/{job_id}/cancel"
        assert client.post(url, headers=acme.auth("member")).status_code == 403
        theirs = client.post(url, headers=beta.auth("owner"))
        assert theirs.status_code == 404 and theirs.json()["code"] == "not_found"
        done = client.post(url, headers=acme.auth("owner"))
        assert done.status_code == 200 and done.json()["status"] == "cancelled"
        assert done.json()["error"] == imports.CANCELLED
        again = client.post(url, headers=acme.auth("owner"))
        assert again.status_code == 409 and again.json()["code"] == "conflict"
        listed = client.get("/api/v1/imports", headers=acme.auth("viewer")).json()
        assert [j["status"] for j in listed["data"]] == ["cancelled"]


def test_the_job_page_has_a_cancel_button_for_owners(store, store_url):
    acme = make_tenant(store, "acme")
    make_user(store, "owner@acme.io", "acme", "owner")
    make_user(store, "member@acme.io", "acme", "member")
    app = create_app(store_url)
    with TestClient(app) as owner:
        job_id = queued_job(store, acme.workspace_id)
        member = TestClient(app)
        member_csrf = sign_in(member, "member@acme.io")
        page = member.get(f"/imports/{job_id}", headers=HTML).text
        assert "Cancel this import" not in page
        refused = member.post(f"/imports/{job_id}/cancel", data={"csrf_token": member_csrf})
        assert refused.status_code == 403
        csrf = sign_in(owner, "owner@acme.io")
        page = owner.get(f"/imports/{job_id}", headers=HTML).text
        assert "Cancel this import" in page and f'action="/imports/{job_id}/cancel"' in page
        forged = owner.post(f"/imports/{job_id}/cancel", data={"csrf_token": "forged"})
        assert forged.status_code == 403 and status_of(store, job_id) == "queued"
        done = owner.post(
            f"/imports/{job_id}/cancel", data={"csrf_token": csrf}, follow_redirects=False
        )
        assert done.status_code == 303 and done.headers["location"] == f"/imports/{job_id}"
        page = owner.get(f"/imports/{job_id}", headers=HTML).text
        assert "status-cancelled" in page and "Cancel this import" not in page


def test_the_cli_lists_and_cancels_jobs(store, store_url):
    acme = make_tenant(store, "acme")
    beta = make_tenant(store, "beta")
    job_id = queued_job(store, acme.workspace_id, "creators-may.csv")
    theirs = queued_job(store, beta.workspace_id)
    runner = CliRunner()
    base = ["--workspace", "acme", "--database-url", store_url]
    listed = runner.invoke(cli, ["jobs", "list", *base])
    assert listed.exit_code == 0, listed.output
    assert job_id in listed.output and "queued" in listed.output and theirs not in listed.output
    other = runner.invoke(cli, ["jobs", "cancel", theirs, *base])
    assert other.exit_code == 1 and "no import job" in other.output
    done = runner.invoke(cli, ["jobs", "cancel", job_id, *base])
    assert done.exit_code == 0 and f"import {job_id} cancelled" in done.output
    again = runner.invoke(cli, ["jobs", "cancel", job_id, *base])
    assert again.exit_code == 1 and "already ended (cancelled)" in again.output
    assert status_of(store, theirs) == "queued"


def test_every_cancel_face_calls_the_one_service():
    """No face repeats the logic: each calls jobs.imports.cancel_job."""
    root = Path(__file__).parent.parent / "src" / "microfluence"
    for face in ("web/api/imports.py", "web/pages/imports.py", "jobs/cli.py"):
        assert "cancel_job(" in (root / face).read_text(encoding="utf-8"), face


def test_the_import_page_takes_a_column_mapping(store, store_url):
    acme = make_tenant(store, "acme")
    make_user(store, "member@acme.io", "acme", "member")
    with TestClient(create_app(store_url)) as client:
        csrf = sign_in(client, "member@acme.io")
        form = {"kind": "creators", "platform": "instagram", "csrf_token": csrf}
        content = b"Kanal,Fans gesamt\nkanal_eins,1.2K\n"
        bad = client.post(
            "/imports",
            data={**form, "mapping": "handle"},
            files={"file": ("k.csv", content)},
            headers=HTML,
        )
        assert bad.status_code == 422 and "FIELD=COLUMN" in bad.text
        started = client.post(
            "/imports",
            data={**form, "mapping": "handle=Kanal,followers=Fans gesamt"},
            files={"file": ("k.csv", content)},
            follow_redirects=False,
        )
        assert started.status_code == 303
        client.app.state.jobs.wait(timeout=60)
        found = client.get(
            "/api/v1/accounts", params={"q": "kanal_eins"}, headers=acme.auth()
        ).json()
        assert [(a["handle"], a["followers"]) for a in found["data"]] == [("kanal_eins", 1200)]
