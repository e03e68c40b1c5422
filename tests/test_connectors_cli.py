"""`microfluence connect|fetch|refresh` against the platforms' stand-in (connectors_support),
and the refresh as a job of the queue's kinds and schedules: the secret never shows in the
output, the logs or the store file."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest
import sqlalchemy as sa
from typer.testing import CliRunner

from connectors_support import API_KEY, IG_USER, TOKEN, platform_server, point_at, sample_platforms
from microfluence.cli.main import app
from microfluence.connectors.jobs import REFRESH, create_refresh_job
from microfluence.connectors.tables import RefreshRun
from microfluence.jobs import kinds, schedules
from microfluence.jobs.tables import ImportJob
from microfluence.kernel.store.tables import Account, AccountSnapshot
from microfluence.kernel.workspaces import get_workspace
from store_support import flat


@pytest.fixture(autouse=True)
def wide_console(monkeypatch: pytest.MonkeyPatch) -> None:
    from microfluence.kernel import console

    monkeypatch.setattr(console.console, "_width", 240)
    monkeypatch.setattr(console.err_console, "_width", 240)


@pytest.fixture
def platforms(monkeypatch):
    p = sample_platforms()
    with platform_server(p) as base:
        point_at(monkeypatch, base)
        yield p


def _run(url: str, *args: str, stdin: str | None = None) -> tuple[int, str]:
    result = CliRunner().invoke(
        app, [*args, "--database-url", url], input=stdin, catch_exceptions=False
    )
    return result.exit_code, flat(result.output)


def test_connect_fetch_refresh_and_the_secret_never_in_clear(
    sqlite_store, platforms, tmp_path: Path, caplog
):
    caplog.set_level(logging.DEBUG)
    url = sqlite_store.url
    key_file = tmp_path / "youtube.key"
    key_file.write_text(f"  {API_KEY}\n", encoding="utf-8")
    outputs = []
    code, out = _run(url, "connect", "youtube", "--api-key-file", str(key_file), "-w", "brand")
    assert code == 0 and "AIza…ijkl" in out
    outputs.append(out)
    code, out = _run(
        url,
        "connect",
        "instagram",
        "--token-file",
        "-",
        "--business-account-id",
        IG_USER,
        "-w",
        "brand",
        stdin=TOKEN + "\n",
    )
    assert code == 0, out
    outputs.append(out)
    code, out = _run(url, "connect", "list", "-w", "brand")
    assert "youtube AIza…ijkl used today 0 of 10000" in out
    outputs.append(out)
    code, out = _run(url, "fetch", "youtube", "@bakerann", "@nobody", "-w", "brand", "--no-score")
    assert code == 0, out
    assert "fetched 1 youtube account(s) (5 quota units)" in out  # @nobody: 2 look-ups
    assert "@nobody: no YouTube channel" in out
    outputs.append(out)
    code, out = _run(url, "fetch", "instagram", "plantpia", "-w", "brand", "--no-score")
    assert code == 0 and "fetched 1 instagram" in out
    outputs.append(out)
    code, out = _run(url, "fetch", "youtube", "--search", "sourdough", "-w", "brand")
    assert code == 1 and "costs 100 quota units" in out and "--yes" in out
    assert platforms.calls("/youtube/v3/search") == []
    code, out = _run(url, "refresh", "--workspace", "brand", "--no-score")
    assert code == 0 and "2 of 2 accounts done" in out
    outputs.append(out)
    code, out = _run(url, "refresh", "--log")
    assert "brand run 1 succeeded 2/2 done" in out
    with sqlite_store.session() as session:
        assert session.scalar(sa.select(sa.func.count()).select_from(AccountSnapshot)) == 4
    code, out = _run(url, "connect", "remove", "instagram", "-w", "brand")
    assert code == 0
    code, out = _run(url, "connect", "youtube", "--api-key-file", str(tmp_path / "none"))
    assert code == 1 and "none" in out
    bad = tmp_path / "two.key"
    bad.write_text("one\ntwo\n", encoding="utf-8")
    code, out = _run(url, "connect", "youtube", "--api-key-file", str(bad))
    assert code == 1 and "two.key must hold the secret on one line" in out
    # Neither secret anywhere: the commands' output, the logs, the store's file.
    seen = " ".join(outputs) + caplog.text
    stored = Path(url.removeprefix("sqlite:///")).read_bytes()
    for secret in (API_KEY, TOKEN):
        assert secret not in seen
        assert secret.encode() not in stored


def test_refresh_runs_as_a_job_kind_and_on_a_schedule(sqlite_store, platforms):
    url = sqlite_store.url
    key = Path(url.removeprefix("sqlite:///")).parent / "k"
    key.write_text(API_KEY, encoding="utf-8")
    _run(url, "connect", "youtube", "--api-key-file", str(key), "-w", "brand")
    _run(url, "fetch", "youtube", "@bakerann", "-w", "brand", "--no-score")
    assert REFRESH in schedules.schedulable_kinds()
    with sqlite_store.transaction() as session:
        ws_id = get_workspace(session, "brand").id
        job_id = create_refresh_job(session, ws_id).id
    kinds.run_registered(sqlite_store, job_id)
    with sqlite_store.session() as session:
        job = session.get(ImportJob, job_id)
        assert job.status == "succeeded", job.error
        assert job.summary["done"] == 1 and job.progress_done == 1
        assert session.scalar(sa.select(sa.func.count()).select_from(RefreshRun)) == 1
    import datetime as dt

    code, out = _run(url, "refresh", "--schedule", "0 4 * * *", "-w", "brand")
    assert code == 0 and "refresh on '0 4 * * *' in brand" in out
    made: list[str] = []
    fired = schedules.fire_due(sqlite_store, made.append, now=dt.datetime(2026, 11, 27, 4, 0))
    assert fired == made and len(made) == 1
    with sqlite_store.session() as session:
        assert session.get(ImportJob, made[0]).kind == REFRESH
        assert session.scalar(sa.select(sa.func.count()).select_from(Account)) == 1


def test_a_refresh_job_goes_through_the_durable_queue(sqlite_store, platforms, tmp_path: Path):
    """The queue hands a registered kind's job to its task; a worker started by the root
    command knows the kind before it runs anything."""
    import subprocess
    import sys

    from microfluence.jobs.queue import Queue

    url = sqlite_store.url
    key = tmp_path / "k"
    key.write_text(API_KEY, encoding="utf-8")
    _run(url, "connect", "youtube", "--api-key-file", str(key), "-w", "brand")
    _run(url, "fetch", "youtube", "@breadbob", "-w", "brand", "--no-score")
    queue = Queue(f"sqlite:///{tmp_path / 'queue.db'}", sqlite_store, tmp_path / "uploads")
    with sqlite_store.transaction() as session:
        job_id = create_refresh_job(session, get_workspace(session, "brand").id).id
    queue.enqueue(job_id)
    (message,) = queue.huey.pending()
    assert message.name == "microfluence.job" and message.args == (job_id,)
    queue.huey.execute(queue.huey.dequeue())
    with sqlite_store.session() as session:
        job = session.get(ImportJob, job_id)
        assert (job.status, job.summary["done"]) == ("succeeded", 1), job.error
    probe = (
        "from microfluence.cli.main import load_command; load_command('worker'); "
        "from microfluence.jobs.kinds import registered; print(registered('refresh') is not None)"
    )
    answer = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True, timeout=120
    )
    assert answer.stdout.strip() == "True"


def test_a_refresh_under_way_is_not_run_twice(sqlite_store, platforms, tmp_path: Path):
    from microfluence.connectors.refresh import refresh_workspace
    from microfluence.kernel.errors import ConflictError

    url = sqlite_store.url
    key = tmp_path / "k"
    key.write_text(API_KEY, encoding="utf-8")
    _run(url, "connect", "youtube", "--api-key-file", str(key), "-w", "brand")
    _run(url, "fetch", "youtube", "@breadbob", "-w", "brand", "--no-score")
    with sqlite_store.transaction() as session:
        from microfluence.connectors.refresh import _open_run

        run, _resumed = _open_run(session, get_workspace(session, "brand").id, "another process")
    with pytest.raises(ConflictError, match="under way"):
        refresh_workspace(sqlite_store, "brand", rescore=False)
    with sqlite_store.transaction() as session:  # its process died half an hour ago
        import datetime as dt

        stale = session.get(RefreshRun, run.id)
        stale.updated_at = stale.updated_at - dt.timedelta(minutes=31)
    resumed = refresh_workspace(sqlite_store, "brand", rescore=False)
    assert resumed.resumed and resumed.run_id == run.id and resumed.status == "succeeded"
