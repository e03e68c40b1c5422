"""Per-workspace schedules (jobs.schedules), score jobs (jobs.scoring) and the recovery of jobs
whose process died (jobs.recovery), as services and through `microfluence jobs …`; on SQLite
and PostgreSQL."""

from __future__ import annotations

import datetime as dt
import subprocess
import sys
import time

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from api_support import make_tenant
from microfluence.cli.main import app as cli
from microfluence.jobs import imports
from microfluence.jobs.progress import ProgressWriter
from microfluence.jobs.recovery import INTERRUPTED, MAX_ATTEMPTS, backoff, recover_orphans
from microfluence.jobs.schedules import (
    add_schedule,
    fire_due,
    list_schedules,
    parse_cron,
    remove_schedule,
)
from microfluence.jobs.scoring import create_score_job, run_score_job
from microfluence.jobs.tables import ImportJob
from microfluence.jobs.uploads import UploadArea
from microfluence.kernel.errors import ConflictError, InputError, NotFoundError

NIGHT = dt.datetime(2026, 11, 26, 3, 0, 30)


@pytest.mark.parametrize(
    ("cron", "part"),
    [("0 3 * *", "needs 5 fields"), ("61 * * * *", "61"), ("x * * * *", "x"), ("", "not 0")],
)
def test_a_bad_cron_names_the_field_and_the_part(cron: str, part: str) -> None:
    with pytest.raises(InputError) as caught:
        parse_cron(cron)
    assert caught.value.field == "cron" and part in str(caught.value)


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=40))
def test_any_text_is_a_cron_or_a_clear_error(text: str) -> None:
    try:
        matcher = parse_cron(text)
    except InputError as exc:
        assert exc.field == "cron"
    else:
        assert isinstance(matcher(NIGHT), bool)


def test_a_schedule_fires_once_per_matching_minute(store) -> None:  # type: ignore[no-untyped-def]
    acme, beta = make_tenant(store, "acme"), make_tenant(store, "beta")
    with store.transaction() as session:
        nightly = add_schedule(session, acme.workspace_id, "score", "0  3 * * *").id
        with pytest.raises(ConflictError):
            add_schedule(session, acme.workspace_id, "score", "0 3 * * *")
        with pytest.raises(InputError):
            add_schedule(session, acme.workspace_id, "import", "0 3 * * *")
    queued: list[str] = []
    assert fire_due(store, queued.append, NIGHT - dt.timedelta(minutes=1)) == []
    fired = fire_due(store, queued.append, NIGHT)
    assert fired == queued and len(fired) == 1
    assert fire_due(store, queued.append, NIGHT + dt.timedelta(seconds=20)) == []  # same minute
    assert len(fire_due(store, queued.append, NIGHT + dt.timedelta(days=1))) == 1
    with store.session() as session:
        job = session.get(ImportJob, fired[0])
        assert (job.workspace_id, job.kind, job.status) == (acme.workspace_id, "score", "queued")
        assert job.filename == f"schedule {nightly}"
        # Another workspace neither sees nor removes it.
        assert list_schedules(session, beta.workspace_id) == []
        with pytest.raises(NotFoundError):
            remove_schedule(session, beta.workspace_id, nightly)
        assert [s.id for s in list_schedules(session, acme.workspace_id)] == [nightly]
    run_score_job(store, fired[0], owner="test")
    with store.session() as session:
        job = session.get(ImportJob, fired[0])
        assert job.status == "succeeded", job.error
        assert job.summary["accounts"] == 4 and job.attempts == 1


def test_a_score_job_is_cancelled_while_queued_only(store) -> None:  # type: ignore[no-untyped-def]
    acme = make_tenant(store, "acme")
    with store.transaction() as session:
        queued = create_score_job(session, acme.workspace_id).id
        running = create_score_job(session, acme.workspace_id).id
        with pytest.raises(InputError):
            create_score_job(session, acme.workspace_id, engine="excel")
    with store.transaction() as session:
        session.get(ImportJob, running).status = "running"
    with store.transaction() as session:
        assert imports.cancel_job(session, acme.workspace_id, queued).status == "cancelled"
        with pytest.raises(ConflictError, match="cannot be stopped"):
            imports.cancel_job(session, acme.workspace_id, running)
    run_score_job(store, queued)  # delivered after the cancel: runs nothing
    with store.session() as session:
        assert session.get(ImportJob, queued).status == "cancelled"


def test_jobs_of_dead_processes_are_retried_or_failed_and_live_ones_left(store, tmp_path) -> None:  # type: ignore[no-untyped-def]
    acme = make_tenant(store, "acme")
    uploads = tmp_path / "uploads"
    live = UploadArea(uploads)
    # A process that ended: its lock file is left behind, unlocked.
    dead = subprocess.run(
        [
            sys.executable,
            "-c",
            f"from microfluence.jobs.uploads import UploadArea as U; "
            f"import os; u = U({str(uploads)!r}); print(u.name); os._exit(0)",
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    assert dead.startswith("run-")
    upload = tmp_path / "kept.csv"
    upload.write_text("handle\nx\n", encoding="utf-8")
    rows = {
        "mine": ("running", live.name, 1, "creators"),
        "retry": ("running", dead, 1, "creators"),
        "worn": ("running", dead, MAX_ATTEMPTS, "creators"),
        "stop": ("cancelling", dead, 1, "creators"),
        "score": ("running", dead, 1, "score"),
    }
    with store.transaction() as session:
        for name, (status, owner, attempts, kind) in rows.items():
            session.add(
                ImportJob(
                    id=name,
                    workspace_id=acme.workspace_id,
                    kind=kind,
                    filename=name,
                    options={},
                    status=status,
                    progress_done=0,
                    summary={},
                    errors=[],
                    owner=owner,
                    attempts=attempts,
                    upload_path=str(upload),
                )
            )
    requeued: list[tuple[str, float]] = []
    counts = recover_orphans(store, uploads, lambda job, delay: requeued.append((job, delay)))
    assert counts == {"retried": 2, "failed": 1, "cancelled": 1, "succeeded": 0}
    assert sorted(requeued) == [("retry", backoff(1)), ("score", backoff(1))]
    assert recover_orphans(store, uploads, requeued.append) == dict.fromkeys(counts, 0)
    with store.session() as session:
        status = {j.id: (j.status, j.owner, j.error) for j in session.query(ImportJob)}
    assert status["mine"] == ("running", live.name, None)  # its process lives: left alone
    assert status["retry"][:2] == status["score"][:2] == ("queued", None)
    assert status["worn"] == ("failed", dead, INTERRUPTED)
    assert status["stop"][0] == "cancelled"
    assert backoff(1) < backoff(2) < backoff(3) <= 300
    live.close()


def test_schedules_from_the_command_line(store, store_url) -> None:  # type: ignore[no-untyped-def]
    make_tenant(store, "acme")
    runner = CliRunner()
    common = ["--workspace", "acme", "--database-url", store_url]
    made = runner.invoke(cli, ["jobs", "schedule", "score", "--cron", "0 3 * * *", *common])
    assert made.exit_code == 0, made.output
    schedule_id = made.output.split()[1].rstrip(":")
    listed = runner.invoke(cli, ["jobs", "schedules", *common])
    assert "1 schedules in acme" in listed.output and "0 3 * * *" in listed.output
    bad = runner.invoke(cli, ["jobs", "schedule", "score", "--cron", "0 25 * * *", *common])
    assert bad.exit_code == 1 and "cron" in bad.output
    gone = runner.invoke(cli, ["jobs", "unschedule", schedule_id, *common])
    assert gone.exit_code == 0, gone.output
    assert "0 schedules" in runner.invoke(cli, ["jobs", "schedules", *common]).output
    no_queue = runner.invoke(
        cli, ["worker", "--database-url", store_url], env={"MICROFLUENCE_JOB_QUEUE": ""}
    )
    assert no_queue.exit_code == 1 and "MICROFLUENCE_JOB_QUEUE" in no_queue.output


def test_progress_is_written_to_the_running_jobs_row(store) -> None:  # type: ignore[no-untyped-def]
    """Any process answers a poll: the runner's thread writes what the import noted."""
    acme = make_tenant(store, "acme")
    with store.transaction() as session:
        job_id = imports.create_job(
            session, workspace_id=acme.workspace_id, kind="creators", filename="a.csv", options={}
        ).id
        session.get(ImportJob, job_id).status = "running"
    writer = ProgressWriter(store)
    writer.sink(job_id, 512, 2048)
    writer.start()
    try:
        for _ in range(200):  # bounded: 200 polls of 50 ms
            with store.session() as session:
                done = session.get(ImportJob, job_id)
                if (done.progress_done, done.progress_total) == (512, 2048):
                    break
            time.sleep(0.05)
        assert (done.progress_done, done.progress_total) == (512, 2048)
        writer.sink(job_id, -1, None)  # the job ended: nothing more is written
        assert writer.latest == {}
    finally:
        writer.stop()
