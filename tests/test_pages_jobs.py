"""The jobs page over HTTP (a TestClient on the real app): recent jobs of every kind with their
progress, "Re-score now", the schedules (add with a hint, remove), roles and CSRF; on SQLite
and PostgreSQL."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from api_support import (
    Tenant,
    make_tenant,
    make_user,
)
from microfluence.jobs.imports import create_job
from microfluence.jobs.scoring import create_score_job
from microfluence.jobs.tables import ImportJob, JobSchedule
from microfluence.kernel.store import open_store
from microfluence.web.app import create_app
from pages_support import HTML, sign_in


@pytest.fixture
def site(store_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[TestClient, Tenant]]:
    monkeypatch.delenv("MICROFLUENCE_JOB_QUEUE", raising=False)  # plain `microfluence serve`
    store = open_store(store_url)
    tenant = make_tenant(store, "alpha")
    for email, role in (
        ("owner@a.io", "owner"),
        ("member@a.io", "member"),
        ("viewer@a.io", "viewer"),
    ):
        make_user(store, email, "alpha", role)
    store.dispose()
    with TestClient(create_app(store_url)) as client:
        yield client, tenant


def test_rescore_now_runs_a_job_followed_to_its_end(site: tuple[TestClient, Tenant]) -> None:
    client, _ = site
    csrf = sign_in(client, "member@a.io")
    page = client.get("/jobs", headers=HTML).text
    assert 'href="/jobs" aria-current="page"' in page  # the nav link, current
    assert 'action="/jobs/score"' in page and "No job yet" in page
    assert client.post("/jobs/score", headers=HTML).status_code == 403  # no CSRF token
    started = client.post("/jobs/score", data={"csrf_token": csrf}, follow_redirects=False)
    assert started.status_code == 303
    job_page = started.headers["location"]
    assert re.fullmatch(r"/jobs/[0-9a-f]{32}", job_page)
    client.app.state.jobs.wait(timeout=60)
    status = client.get(job_page + "/status").json()
    assert status["status"] == "succeeded" and status["progress"] == 1.0, status
    shown = client.get(job_page, headers=HTML).text
    assert "Re-score the workspace" in shown and "succeeded" in shown
    assert re.search(r"<th>accounts</th><td>4</td>", shown)
    listing = client.get("/jobs", headers=HTML).text
    assert f'href="{job_page}"' in listing and "status-succeeded" in listing
    assert 'data-status="succeeded"' in listing and "100 %" in listing


def test_jobs_of_every_kind_are_listed_with_progress(site: tuple[TestClient, Tenant]) -> None:
    client, tenant = site
    store = client.app.state.store
    with store.transaction() as session:
        imported = create_job(
            session,
            workspace_id=tenant.workspace_id,
            kind="creators",
            filename="list.csv",
            options={},
        )
        scoring = create_score_job(session, tenant.workspace_id, source="schedule 4")
        scoring.status, scoring.progress_done = "running", 3
        ids = imported.id, scoring.id
    sign_in(client, "viewer@a.io")
    page = client.get("/jobs", headers=HTML).text
    assert f'href="/imports/{ids[0]}"' in page and "list.csv" in page  # imports: their page
    assert f'href="/jobs/{ids[1]}"' in page and "schedule 4" in page
    assert 'aria-valuenow="50"' in page and "50 %" in page  # step 3 of 6
    assert f'data-job-status-url="/jobs/{ids[1]}/status" data-status="running"' in page
    # The import page lists imports only.
    imports_page = client.get("/imports", headers=HTML).text
    assert "list.csv" in imports_page and "schedule 4" not in imports_page


def test_schedules_are_added_with_words_refused_with_why_and_removed(
    site: tuple[TestClient, Tenant],
) -> None:
    client, tenant = site
    csrf = sign_in(client, "member@a.io")
    page = client.get("/jobs", headers=HTML).text
    assert "No schedule." in page and 'id="no-workers"' in page  # no queue: said so
    added = client.post(
        "/jobs/schedules",
        data={"kind": "score", "cron": "0 3 * * *", "csrf_token": csrf},
        follow_redirects=False,
    )
    assert added.status_code == 303 and added.headers["location"] == "/jobs#schedules"
    page = client.get("/jobs", headers=HTML).text
    assert "<code>0 3 * * *</code>" in page and "every day at 03:00 UTC" in page
    assert re.search(r"\d{4}-\d\d-\d\d 03:00</td>", page)  # the next run
    # A bad cron: the page again, saying why, with what was typed.
    bad = client.post(
        "/jobs/schedules",
        data={"kind": "score", "cron": "0 25 * * *", "csrf_token": csrf},
        headers=HTML,
    )
    assert bad.status_code == 422
    assert 'role="alert">cron &#39;0 25 * * *&#39;' in bad.text and 'value="0 25 * * *"' in bad.text
    twice = client.post(
        "/jobs/schedules",
        data={"kind": "score", "cron": "0 3 * * *", "csrf_token": csrf},
        headers=HTML,
    )
    assert twice.status_code == 409 and "already scheduled" in twice.text
    wrong_kind = client.post(
        "/jobs/schedules",
        data={"kind": "import", "cron": "0 3 * * *", "csrf_token": csrf},
        headers=HTML,
    )
    assert wrong_kind.status_code == 422
    with client.app.state.store.session() as session:
        (schedule,) = session.query(JobSchedule).all()
        schedule_id = schedule.id
    assert schedule.workspace_id == tenant.workspace_id
    refused = client.post(f"/jobs/schedules/{schedule_id}/delete", headers=HTML)
    assert refused.status_code == 403  # no CSRF token
    removed = client.post(
        f"/jobs/schedules/{schedule_id}/delete", data={"csrf_token": csrf}, follow_redirects=False
    )
    assert removed.status_code == 303
    assert "No schedule." in client.get("/jobs", headers=HTML).text


def test_the_cron_hint(site: tuple[TestClient, Tenant]) -> None:
    client, _ = site
    sign_in(client, "viewer@a.io")
    hint = client.get("/jobs/cron", params={"cron": " 30 6  * * 1-5"}).json()
    assert hint["cron"] == "30 6 * * 1-5" and hint["error"] is None
    assert hint["description"] == "Monday to Friday at 06:30 UTC"
    assert hint["next_run_at"].endswith(" 06:30")
    refused = client.get("/jobs/cron", params={"cron": "0 0 31 2 *"}).json()
    assert "never fires" in refused["error"] and refused["next_run_at"] is None
    signed_out = TestClient(client.app)
    assert signed_out.get("/jobs/cron", params={"cron": "* * * * *"}).status_code == 401


def test_viewers_follow_jobs_but_start_and_schedule_nothing(
    site: tuple[TestClient, Tenant],
) -> None:
    client, tenant = site
    with client.app.state.store.transaction() as session:
        schedule = JobSchedule(workspace_id=tenant.workspace_id, kind="score", cron="0 3 * * *")
        session.add(schedule)
        session.flush()
        schedule_id = schedule.id
    csrf = sign_in(client, "viewer@a.io")
    page = client.get("/jobs", headers=HTML).text
    assert "viewer role" in page and "0 3 * * *" in page
    assert 'action="/jobs/score"' not in page and 'action="/jobs/schedules"' not in page
    assert f"/jobs/schedules/{schedule_id}/delete" not in page
    for path, data in (
        ("/jobs/score", {}),
        ("/jobs/schedules", {"kind": "score", "cron": "0 4 * * *"}),
        (f"/jobs/schedules/{schedule_id}/delete", {}),
    ):
        answer = client.post(path, data={**data, "csrf_token": csrf}, headers=HTML)
        assert answer.status_code == 403 and "may not change data" in answer.text, path
    with client.app.state.store.session() as session:
        assert session.query(ImportJob).count() == 0 and session.query(JobSchedule).count() == 1


def test_owners_cancel_a_job_that_waits(site: tuple[TestClient, Tenant]) -> None:
    client, tenant = site
    with client.app.state.store.transaction() as session:
        job_id = create_score_job(session, tenant.workspace_id).id
    csrf = sign_in(client, "member@a.io")
    assert "Cancel this job" not in client.get(f"/jobs/{job_id}", headers=HTML).text
    member = client.post(f"/jobs/{job_id}/cancel", data={"csrf_token": csrf}, headers=HTML)
    assert member.status_code == 403
    csrf = sign_in(client, "owner@a.io")
    assert "Cancel this job" in client.get(f"/jobs/{job_id}", headers=HTML).text
    done = client.post(f"/jobs/{job_id}/cancel", data={"csrf_token": csrf}, follow_redirects=False)
    assert done.status_code == 303 and done.headers["location"] == f"/jobs/{job_id}"
    assert client.get(f"/jobs/{job_id}/status").json()["status"] == "cancelled"
    again = client.post(f"/jobs/{job_id}/cancel", data={"csrf_token": csrf}, headers=HTML)
    assert again.status_code == 409 and "already ended" in again.text


def test_with_a_queue_schedules_are_said_to_fire(
    store_url: str, tmp_path, monkeypatch: pytest.MonkeyPatch
) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("MICROFLUENCE_JOB_QUEUE", f"sqlite:///{tmp_path / 'queue.db'}")
    monkeypatch.setenv("MICROFLUENCE_UPLOAD_DIR", str(tmp_path / "uploads"))
    store = open_store(store_url)
    make_tenant(store, "alpha")
    make_user(store, "member@a.io", "alpha", "member")
    store.dispose()
    with TestClient(create_app(store_url)) as client:
        csrf = sign_in(client, "member@a.io")
        page = client.get("/jobs", headers=HTML).text
        assert 'id="no-workers"' not in page and "worker</code> processes fire them" in page
        started = client.post("/jobs/score", data={"csrf_token": csrf}, follow_redirects=False)
        assert started.status_code == 303
        assert client.app.state.queue.huey.pending_count() == 1  # for a worker to run
        assert client.get(started.headers["location"] + "/status").json()["status"] == "queued"
