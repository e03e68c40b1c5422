"""The API's faces of background jobs and schedules: /api/v1/jobs (every kind: list, poll,
cancel; start a re-score) and /api/v1/schedules; roles, bad bodies; on SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from api_support import Tenant, make_tenant
from microfluence.jobs.imports import create_job
from microfluence.jobs.scoring import create_score_job
from microfluence.jobs.tables import ImportJob, JobSchedule
from microfluence.metrics.service import STEPS
from microfluence.metrics.tables import MetricRun
from microfluence.web.app import create_app

ERROR_KEYS = {"status", "code", "message", "details"}


@pytest.fixture
def tenant(store) -> Tenant:  # type: ignore[no-untyped-def]
    return make_tenant(store, "acme")


@pytest.fixture
def client(store_url, tenant, monkeypatch) -> Iterator[TestClient]:  # type: ignore[no-untyped-def]
    monkeypatch.delenv("MICROFLUENCE_JOB_QUEUE", raising=False)  # jobs run in this process
    with TestClient(create_app(store_url)) as test_client:
        yield test_client


def error_of(response, status: int, code: str) -> dict:  # type: ignore[no-untyped-def]
    assert response.status_code == status, response.text
    body = response.json()
    assert set(body) == ERROR_KEYS and body["code"] == code and body["message"]
    return body


def test_a_member_starts_a_rescore_that_runs_to_its_end(client, tenant, store):  # type: ignore[no-untyped-def]
    started = client.post("/api/v1/jobs", json={"kind": "score"}, headers=tenant.auth("member"))
    assert started.status_code == 202, started.text
    job = started.json()
    assert job["kind"] == "score" and job["status"] in ("queued", "running", "succeeded")
    assert job["filename"] == "requested" and job["progress_total"] == len(STEPS)
    client.app.state.jobs.wait(timeout=60)
    done = client.get(f"/api/v1/jobs/{job['id']}", headers=tenant.auth("viewer")).json()
    assert done["status"] == "succeeded", done["error"]
    assert done["progress"] == 1.0 and done["progress_done"] == len(STEPS)
    assert done["summary"]["accounts"] == 4 and done["summary"]["posts"] == 8
    with store.session() as session:
        run = session.get(MetricRun, done["summary"]["run_id"])
        assert run is not None and run.workspace_id == tenant.workspace_id
        row = session.get(ImportJob, job["id"])
        assert row.owner == client.app.state.jobs.owner and row.attempts == 1


def test_jobs_of_every_kind_are_listed_and_filtered(client, tenant, store):  # type: ignore[no-untyped-def]
    with store.transaction() as session:
        imported = create_job(
            session, workspace_id=tenant.workspace_id, kind="creators", filename="a.csv", options={}
        ).id
        scored = create_score_job(session, tenant.workspace_id, source="schedule 7").id
    everything = client.get("/api/v1/jobs", headers=tenant.auth("viewer")).json()
    assert everything["count"] == 2
    assert {j["id"] for j in everything["data"]} == {imported, scored}
    only = client.get("/api/v1/jobs", params={"kind": "score"}, headers=tenant.auth()).json()
    assert [j["id"] for j in only["data"]] == [scored] and only["count"] == 1
    assert only["data"][0]["filename"] == "schedule 7"
    # The imports list holds imports only.
    listed = client.get("/api/v1/imports", headers=tenant.auth()).json()
    assert [j["id"] for j in listed["data"]] == [imported]
    paged = client.get("/api/v1/jobs", params={"limit": 1, "offset": 1}, headers=tenant.auth())
    assert len(paged.json()["data"]) == 1 and paged.json()["count"] == 2
    error_of(
        client.get("/api/v1/jobs", params={"kind": "nope"}, headers=tenant.auth()),
        422,
        "validation_error",
    )
    error_of(client.get("/api/v1/jobs/" + "0" * 32, headers=tenant.auth()), 404, "not_found")


def test_roles_decide_who_starts_cancels_and_schedules(client, tenant, store):  # type: ignore[no-untyped-def]
    viewer, member, owner = (tenant.auth(r) for r in ("viewer", "member", "owner"))
    error_of(client.post("/api/v1/jobs", json={"kind": "score"}, headers=viewer), 403, "forbidden")
    error_of(client.post("/api/v1/jobs", json={"kind": "score"}), 401, "unauthenticated")
    body = {"kind": "score", "cron": "0 3 * * *"}
    error_of(client.post("/api/v1/schedules", json=body, headers=viewer), 403, "forbidden")
    made = client.post("/api/v1/schedules", json=body, headers=member)
    assert made.status_code == 201, made.text
    assert client.get("/api/v1/schedules", headers=viewer).json()["count"] == 1
    sid = made.json()["id"]
    error_of(client.delete(f"/api/v1/schedules/{sid}", headers=viewer), 403, "forbidden")
    with store.transaction() as session:  # queued: nobody runs it in this test
        job_id = create_score_job(session, tenant.workspace_id).id
    error_of(client.post(f"/api/v1/jobs/{job_id}/cancel", headers=member), 403, "forbidden")
    cancelled = client.post(f"/api/v1/jobs/{job_id}/cancel", headers=owner)
    assert cancelled.status_code == 200 and cancelled.json()["status"] == "cancelled"
    again = error_of(client.post(f"/api/v1/jobs/{job_id}/cancel", headers=owner), 409, "conflict")
    assert "score job has already ended (cancelled)" in again["message"]
    assert client.delete(f"/api/v1/schedules/{sid}", headers=member).status_code == 204
    error_of(client.delete(f"/api/v1/schedules/{sid}", headers=member), 404, "not_found")


def test_a_running_score_job_cannot_be_cancelled(client, tenant, store):  # type: ignore[no-untyped-def]
    with store.transaction() as session:
        job = create_score_job(session, tenant.workspace_id)
        job.status = "running"
        job_id = job.id
    refused = error_of(
        client.post(f"/api/v1/jobs/{job_id}/cancel", headers=tenant.auth("owner")), 409, "conflict"
    )
    assert "cannot be stopped once it runs" in refused["message"]


def test_schedules_are_described_and_listed(client, tenant):  # type: ignore[no-untyped-def]
    made = client.post(
        "/api/v1/schedules",
        json={"kind": "score", "cron": " 30  6 * * 1-5 "},
        headers=tenant.auth(),
    )
    assert made.status_code == 201, made.text
    schedule = made.json()
    assert schedule["cron"] == "30 6 * * 1-5"  # spaces tidied
    assert schedule["description"] == "Monday to Friday at 06:30 UTC"
    assert schedule["last_fired_at"] is None
    upcoming = dt.datetime.fromisoformat(schedule["next_run_at"])
    assert upcoming > dt.datetime.now(dt.UTC) and upcoming.weekday() < 5
    assert (upcoming.hour, upcoming.minute) == (6, 30)
    odd = client.post(
        "/api/v1/schedules",
        json={"kind": "score", "cron": "5,10,20,40,50 3 * * *"},
        headers=tenant.auth(),
    ).json()
    assert odd["description"] is None and odd["next_run_at"]  # no words for it, but a next run
    listed = client.get("/api/v1/schedules", headers=tenant.auth("viewer")).json()
    assert [s["id"] for s in listed["data"]] == [schedule["id"], odd["id"]]
    twice = client.post(
        "/api/v1/schedules", json={"kind": "score", "cron": "30 6 * * 1-5"}, headers=tenant.auth()
    )
    error_of(twice, 409, "conflict")


@pytest.mark.parametrize(
    ("body", "field", "words"),
    [
        ({"kind": "score", "cron": "0 25 * * *"}, "cron", "25"),
        ({"kind": "score", "cron": "0 3 * *"}, "cron", "needs 5 fields"),
        ({"kind": "score", "cron": "0 0 31 2 *"}, "cron", "never fires"),
        ({"kind": "score", "cron": "*/0 * * * *"}, "cron", "*/0"),
        ({"kind": "score", "cron": "x" * 101}, "cron", "100"),
        ({"kind": "score", "cron": ""}, "cron", "at least 1"),
        ({"kind": "import", "cron": "0 3 * * *"}, "kind", "score"),
        ({"cron": "0 3 * * *"}, "kind", "required"),
        ({"kind": "score", "cron": "0 3 * * *", "extra": 1}, "extra", "not permitted"),
    ],
)
def test_bad_schedules_name_the_field_and_store_nothing(client, tenant, store, body, field, words):  # type: ignore[no-untyped-def]
    answer = client.post("/api/v1/schedules", json=body, headers=tenant.auth())
    assert answer.status_code == 422, answer.text
    error = answer.json()
    assert error["code"] in ("invalid_input", "validation_error")  # ours, or the schema's
    named = [d.get("field") or ".".join(map(str, d.get("loc", []))) for d in error["details"]]
    assert any(field in n for n in named), error
    assert words in error["message"], error
    with store.session() as session:
        assert session.query(JobSchedule).count() == 0


@pytest.mark.parametrize(
    "body", [{"kind": "import"}, {}, {"kind": "score", "engine": "spark"}, {"kind": ["score"]}]
)
def test_bad_job_bodies_start_nothing(client, tenant, store, body):  # type: ignore[no-untyped-def]
    answer = client.post("/api/v1/jobs", json=body, headers=tenant.auth())
    error_of(answer, 422, "validation_error")
    with store.session() as session:
        assert session.query(ImportJob).count() == 0


def test_job_bodies_go_through_the_request_limits(client, tenant):  # type: ignore[no-untyped-def]
    huge = '{"kind": "score", "cron": "' + "*" * (1 << 20) + '"}'
    headers = {**tenant.auth(), "Content-Type": "application/json"}
    error_of(
        client.post("/api/v1/schedules", content=huge, headers=headers), 413, "payload_too_large"
    )
    # No key: refused before the body is read.
    error_of(
        client.post(
            "/api/v1/jobs",
            content='{"kind": "score"}',
            headers={"Content-Type": "application/json"},
        ),
        401,
        "unauthenticated",
    )


def test_with_a_queue_the_app_enqueues_and_a_worker_task_runs_it(
    store_url, tenant, store, tmp_path, monkeypatch
):  # type: ignore[no-untyped-def]
    """With MICROFLUENCE_JOB_QUEUE the app only enqueues (no owner: a worker takes it); the
    queue's own task runs it; schedules made through the API are what the workers fire."""
    monkeypatch.setenv("MICROFLUENCE_JOB_QUEUE", f"sqlite:///{tmp_path / 'queue.db'}")
    monkeypatch.setenv("MICROFLUENCE_UPLOAD_DIR", str(tmp_path / "uploads"))
    with TestClient(create_app(store_url)) as client:
        queue = client.app.state.queue
        started = client.post("/api/v1/jobs", json={"kind": "score"}, headers=tenant.auth())
        assert started.status_code == 202, started.text
        job_id = started.json()["id"]
        assert started.json()["status"] == "queued" and queue.huey.pending_count() == 1
        with store.session() as session:
            assert session.get(ImportJob, job_id).owner is None
        queue.owner = "test-worker"
        queue.huey.execute(queue.huey.dequeue())  # what a worker's thread does
        done = client.get(f"/api/v1/jobs/{job_id}", headers=tenant.auth()).json()
        assert done["status"] == "succeeded", done["error"]
        assert done["summary"]["accounts"] == 4


def test_a_job_that_cannot_be_handed_over_is_failed_and_answered_503(client, tenant, store):  # type: ignore[no-untyped-def]
    client.app.state.jobs.shutdown()  # as when the server is stopping: its pool takes no job
    refused = client.post("/api/v1/jobs", json={"kind": "score"}, headers=tenant.auth())
    error_of(refused, 503, "busy")
    with store.session() as session:
        (job,) = session.query(ImportJob).all()
        assert job.status == "failed" and "try again" in job.error
    listed = client.get("/api/v1/jobs", headers=tenant.auth()).json()
    assert listed["data"][0]["status"] == "failed"  # recorded, not left queued forever
