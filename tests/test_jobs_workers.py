"""Issue 10: workers on other machines. The queue on PostgreSQL (huey's SqlHuey) or a SQLite
file, refused with a clear message when unusable; workers' heartbeats (job_workers) decide
whether a worker elsewhere lives; and an import whose worker died after its commit ends
succeeded from its committed run instead of running twice."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
import sqlalchemy as sa

from api_support import make_tenant
from microfluence.jobs import imports
from microfluence.jobs.backends import open_huey, shown_url
from microfluence.jobs.liveness import Heartbeat, this_host
from microfluence.jobs.recovery import recover_orphans
from microfluence.jobs.tables import ImportJob, JobWorker
from microfluence.jobs.uploads import UploadArea
from microfluence.kernel.errors import InputError
from microfluence.kernel.store.tables import Creator, ImportRun, utcnow

LEASE = 60.0


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("redis://localhost:6379/0", "is not supported"),
        ("sqlite:///", "is not supported"),
        ("postgresql://someone:s3cret@127.0.0.1:1", "names no database"),
        ("postgresql://someone:s3cret@127.0.0.1:1/db?schema=x;drop", "not a plain identifier"),
        ("postgresql://someone:s3cret@127.0.0.1:1/db", "cannot be reached"),
    ],
)
def test_a_queue_url_that_cannot_work_is_refused_clearly(url: str, message: str) -> None:
    with pytest.raises(InputError, match=message) as refused:
        open_huey(url)
    assert refused.value.field == "job_queue"
    assert "s3cret" not in str(refused.value)  # a password is never shown


def test_a_queue_url_is_shown_without_its_password() -> None:
    assert "s3cret" not in shown_url("postgresql://u:s3cret@db.internal/microfluence")
    assert shown_url("sqlite:////var/lib/q.db") == "sqlite:////var/lib/q.db"


@pytest.mark.parametrize("store_url", ["postgresql"], indirect=True)
def test_the_postgresql_queue_keeps_its_tables_in_a_schema_of_its_own(store, store_url) -> None:  # type: ignore[no-untyped-def]
    huey = open_huey(store_url)
    other = open_huey(f"{store_url}?schema=second_queue")
    huey.storage.enqueue(b"one")
    assert huey.storage.queue_size() == 1 and other.storage.queue_size() == 0
    assert huey.storage.dequeue() == b"one" and huey.storage.dequeue() is None
    with store.engine.connect() as conn:
        tables = set(
            conn.execute(
                sa.text(
                    "SELECT table_schema || '.' || table_name FROM information_schema.tables "
                    "WHERE table_schema IN ('microfluence_queue', 'second_queue', 'public')"
                )
            ).scalars()
        )
    assert {"microfluence_queue.task", "second_queue.task"} <= tables
    assert "public.task" not in tables  # the store's own schema holds none of the queue's


def _running_job(store, workspace_id: int, job_id: str, owner: str, upload: Path) -> None:  # type: ignore[no-untyped-def]
    with store.transaction() as session:
        session.add(
            ImportJob(
                id=job_id,
                workspace_id=workspace_id,
                kind="creators",
                filename=upload.name,
                options={"platform": "instagram"},
                status="running",
                progress_done=0,
                summary={},
                errors=[],
                owner=owner,
                attempts=1,
                upload_path=str(upload),
            )
        )


def _worker_elsewhere(store, name: str, seen_seconds_ago: float) -> None:  # type: ignore[no-untyped-def]
    seen = utcnow() - dt.timedelta(seconds=seen_seconds_ago)
    with store.transaction() as session:
        session.add(
            JobWorker(
                name=name,
                host="another-machine",
                pid=4242,
                lock_path="/srv/uploads/x.lock",  # not this machine's: never looked at
                started_at=seen,
                seen_at=seen,
            )
        )


def test_a_worker_on_another_machine_lives_while_its_heartbeat_is_fresh(store, tmp_path) -> None:  # type: ignore[no-untyped-def]
    acme = make_tenant(store, "acme")
    upload = tmp_path / "creators.csv"
    upload.write_text("handle\nfar_one\n", encoding="utf-8")
    _worker_elsewhere(store, "run-1-fresh", seen_seconds_ago=5)
    _worker_elsewhere(store, "run-2-stale", seen_seconds_ago=LEASE + 30)
    _running_job(store, acme.workspace_id, "fresh", "run-1-fresh", upload)
    _running_job(store, acme.workspace_id, "stale", "run-2-stale", upload)
    requeued: list[tuple[str, float]] = []
    counts = recover_orphans(
        store, tmp_path / "uploads", lambda job, delay: requeued.append((job, delay)), LEASE
    )
    assert counts["retried"] == 1 and [job for job, _ in requeued] == ["stale"]
    with store.session() as session:
        status = {j.id: (j.status, j.owner) for j in session.scalars(sa.select(ImportJob))}
        workers = set(session.scalars(sa.select(JobWorker.name)))
    assert status == {"fresh": ("running", "run-1-fresh"), "stale": ("queued", None)}
    assert workers == {"run-1-fresh"}  # the dead worker's row went with its jobs


def test_a_heartbeat_registers_renews_comes_back_and_signs_off(store, tmp_path) -> None:  # type: ignore[no-untyped-def]
    area = UploadArea(tmp_path / "uploads")
    heartbeat = Heartbeat(store, area.name, area.lock_path, interval=3600)
    heartbeat.start()
    try:

        def row() -> JobWorker | None:
            with store.session() as session:
                found = session.get(JobWorker, area.name)
                session.expunge_all()
                return found

        first = row()
        assert first is not None
        assert (first.host, first.lock_path) == (this_host(), str(area.lock_path))
        with store.transaction() as session:  # found dead by a recovery that lost sight of it
            session.execute(sa.delete(JobWorker))
        heartbeat.beat()
        again = row()
        assert again is not None and again.seen_at >= first.seen_at
    finally:
        heartbeat.stop()
        area.close()
    assert row() is None  # a worker stopped cleanly leaves no row


def test_an_import_committed_before_its_worker_died_ends_succeeded_not_rerun(
    store, tmp_path
) -> None:  # type: ignore[no-untyped-def]
    """The worker's last moments replayed in this process: the job started under its name, the
    import committed (marked with the job's id), and then the worker died before the job's own
    row said so. The recovery must finish the job from its run, and requeue nothing."""
    acme = make_tenant(store, "acme")
    uploads = tmp_path / "uploads"
    upload = tmp_path / "creators.csv"
    upload.write_text("handle\nwindow_one\nwindow_two\nwindow_three\n", encoding="utf-8")
    with store.transaction() as session:
        job_id = imports.create_job(
            session,
            workspace_id=acme.workspace_id,
            kind="creators",
            filename=upload.name,
            options={"platform": "instagram"},
            upload_path=str(upload),
        ).id
    _worker_elsewhere(store, "run-3-gone", seen_seconds_ago=LEASE * 10)
    started = imports._start(store, job_id, owner="run-3-gone")
    assert started is not None
    kind, options, workspace = started
    with imports.for_job(job_id):
        imports.IMPORTERS[kind](store, workspace, upload, options, lambda *_: None, lambda: False)

    def count() -> int:
        with store.session() as session:
            query = sa.select(sa.func.count()).where(Creator.workspace_id == acme.workspace_id)
            return session.scalar(query)

    written = count()
    requeued: list[str] = []
    counts = recover_orphans(store, uploads, lambda job, _delay: requeued.append(job), LEASE)
    assert counts == {"retried": 0, "failed": 0, "cancelled": 0, "succeeded": 1}
    assert requeued == []
    with store.session() as session:
        job = session.get(ImportJob, job_id)
        run = session.scalar(sa.select(ImportRun).where(ImportRun.job_id == job_id))
        assert run is not None and run.status == "succeeded"
        assert (job.status, job.attempts, job.import_run_id) == ("succeeded", 1, run.id)
        assert job.summary["rows_read"] == 3 and job.summary["source"] == upload.name
        assert job.finished_at is not None
    assert count() == written  # written once


def test_an_import_run_outside_a_job_carries_no_job_id(store, tmp_path) -> None:  # type: ignore[no-untyped-def]
    from microfluence.ingest.tables.creators import import_creators

    upload = tmp_path / "creators.csv"
    upload.write_text("handle\ncli_one\n", encoding="utf-8")
    with imports.for_job("abc"):
        pass  # the mark ends with its block
    report = import_creators(store, "acme", upload, platform="instagram")
    with store.session() as session:
        assert session.get(ImportRun, report.import_id).job_id is None


def test_a_queued_job_whose_message_was_taken_by_a_dead_worker_is_queued_again(
    store, store_url, tmp_path
) -> None:  # type: ignore[no-untyped-def]
    """A worker that died between taking a job's message and marking the job running leaves
    it ``queued`` with no message anywhere: the minutely look finds it and queues it again;
    jobs whose message still waits, and recent ones, are left alone."""
    from microfluence.jobs.queue import LOST_AFTER_SECONDS, Queue

    acme = make_tenant(store, "acme")
    url = store_url if store.dialect == "postgresql" else f"sqlite:///{tmp_path / 'queue.db'}"
    queue = Queue(url, store, tmp_path / "uploads")
    queue.huey.flush()
    long_ago = utcnow() - dt.timedelta(seconds=LOST_AFTER_SECONDS + 60)
    with store.transaction() as session:
        for job_id, updated in (("lost", long_ago), ("waiting", long_ago), ("fresh", utcnow())):
            session.add(
                ImportJob(
                    id=job_id,
                    workspace_id=acme.workspace_id,
                    kind="score",
                    filename="schedule 1",
                    options={},
                    status="queued",
                    progress_done=0,
                    summary={},
                    errors=[],
                    created_at=updated,
                    updated_at=updated,
                )
            )
    queue.enqueue("waiting")  # its message is on the queue: only late
    assert queue.requeue_lost() == ["lost"]
    waiting = sorted(str(m.args[0]) for m in queue.huey.pending())
    assert waiting == ["lost", "waiting"]
    assert queue.requeue_lost() == []  # now its message waits too
