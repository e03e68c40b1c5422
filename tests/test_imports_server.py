"""Issue 9's reproductions against a real server: `uvicorn` serving `create_app` in its own
process on 127.0.0.1 with a SQLite store, its memory read from /proc (VmHWM, the peak resident
set) while it refuses the bombs, and another workspace writing while a large import runs."""

from __future__ import annotations

import gzip
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from api_support import Tenant, free_port, make_tenant
from microfluence.kernel.store import open_store

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="needs Linux /proc"),
]

SRC = Path(__file__).parent.parent / "src"
PEAK_BOUND_MIB = 640  # docs/importing.md, "Limits": the server's peak while refusing a bomb
GROWTH_BOUND_MIB = 128  # … of which the import itself may add at most this much
WAIT_SECONDS = 120  # the longest any job here may take, on a loaded 2-core machine


@dataclass
class Server:
    base: str
    pid: int
    acme: Tenant
    beta: Tenant

    def memory_mib(self, field: str) -> float:
        for line in Path(f"/proc/{self.pid}/status").read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1]) / 1024
        raise AssertionError(f"no {field} in /proc/{self.pid}/status")

    def wait(self, client: httpx.Client, job_id: str, tenant: Tenant) -> dict:
        """Poll a job until it ends (bounded in polls and in time)."""
        deadline = time.monotonic() + WAIT_SECONDS
        for _ in range(WAIT_SECONDS * 10):
            job = client.get(f"/api/v1/imports/{job_id}", headers=tenant.auth()).json()
            if job["status"] not in ("queued", "running", "cancelling"):
                return job
            if time.monotonic() > deadline:
                break
            time.sleep(0.1)
        raise AssertionError(f"job {job_id} did not end: {job}")


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    folder = tmp_path_factory.mktemp("server")
    url = f"sqlite:///{folder / 'store.sqlite'}"
    store = open_store(url)
    acme, beta = make_tenant(store, "acme"), make_tenant(store, "beta")
    store.dispose()
    port = free_port()
    env = {
        **os.environ,
        "MICROFLUENCE_DATABASE_URL": url,
        "PYTHONPATH": os.pathsep.join([str(SRC), os.environ.get("PYTHONPATH", "")]),
        "MICROFLUENCE_MAX_IMPORT_DECOMPRESSED_MB": "16",
        "MICROFLUENCE_IMPORT_CHUNK_ROWS": "100",  # many small batches: a long import
        "TMPDIR": str(folder),  # uploads and staged rows, removed with the folder
    }
    env.pop("MICROFLUENCE_MAX_IMPORT_ROWS", None)  # the default cap
    command = [sys.executable, "-m", "uvicorn", "--factory", "microfluence.web.app:create_app"]
    process = subprocess.Popen(
        [*command, "--host", "127.0.0.1", "--port", str(port), "--log-level", "warning"],
        env=env,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(300):
            try:
                if httpx.get(base + "/openapi.json", timeout=5).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert process.poll() is None, "the server did not start"
            time.sleep(0.1)
        else:
            raise AssertionError("the server did not answer within 30 s")
        yield Server(base, process.pid, acme, beta)
    finally:
        process.terminate()
        process.wait(timeout=30)


def upload(client: httpx.Client, tenant: Tenant, name: str, content: bytes, **form: str) -> str:
    started = client.post(
        "/api/v1/imports", files={"file": (name, content)}, data=form, headers=tenant.auth()
    )
    assert started.status_code == 202, started.text
    return started.json()["id"]


def test_the_json_bomb_is_refused_in_bounded_memory(server: Server):
    """'[' + '{},' * 22,400,000 + '{}]' gzip-compressed (64 MiB of JSON in 65 KB) as a member's
    `kind=instagram`, `skip_invalid=true` upload: it drove the server to 23.7 GB."""
    bomb = gzip.compress(b"[" + b"{}," * 22_400_000 + b"{}]", 9)
    assert len(bomb) < 100_000
    with httpx.Client(base_url=server.base, timeout=60) as client:
        before = server.memory_mib("VmRSS")
        job = server.wait(
            client,
            upload(client, server.acme, "bomb.json", bomb, kind="instagram", skip_invalid="true"),
            server.acme,
        )
        assert job["status"] == "failed"
        assert "more than 250,000 rows in one import" in job["error"]
        assert job["errors"][0]["file"] == "bomb.json"
        # Without skip_invalid the first element stops it (a 32 KB file peaked at 1.1 GB).
        small = gzip.compress(b"[" + b"{}," * 10_000_000 + b"{}]", 9)
        job = server.wait(
            client, upload(client, server.acme, "b.json", small, kind="instagram"), server.acme
        )
        assert job["status"] == "failed" and "$[0]" in job["error"]
        peak = server.memory_mib("VmHWM")
        accounts = client.get("/api/v1/accounts", headers=server.acme.auth()).json()
    assert peak < PEAK_BOUND_MIB, f"peak {peak:.0f} MiB"
    assert peak - before < GROWTH_BOUND_MIB, f"grew {peak - before:.0f} MiB from {before:.0f}"
    assert accounts["count"] == 4  # make_tenant's, nothing more


def test_a_decompression_bomb_stops_at_the_cap(server: Server):
    """32 MiB of blank lines in a 32 KB gzip: stopped at the 16 MiB this server allows."""
    bomb = gzip.compress(b"handle,followers\n" + b"\n" * (32 << 20), 9)
    assert len(bomb) < 200_000
    with httpx.Client(base_url=server.base, timeout=60) as client:
        job_id = upload(client, server.acme, "creators.csv.gz", bomb, kind="creators")
        job = server.wait(client, job_id, server.acme)
        peak = server.memory_mib("VmHWM")
    assert job["status"] == "failed"
    assert job["error"].startswith("creators.csv.gz: more than 16 MiB after decompression")
    assert "MICROFLUENCE_MAX_IMPORT_DECOMPRESSED_MB" in job["error"]
    assert peak < PEAK_BOUND_MIB, f"peak {peak:.0f} MiB"


def test_other_workspaces_write_during_a_large_import_which_an_owner_cancels(server: Server):
    """Issue 9's item 3: an import holds no lock while it reads and checks its file, so another
    workspace's write goes through at once; the owner's cancel then stops it, nothing written."""
    rows = b"".join(b"bulk%07d,%d,FR\n" % (i, i % 9973) for i in range(240_000))
    big = gzip.compress(b"handle,followers,country\n" + rows, 6)
    acme, beta = server.acme, server.beta
    with httpx.Client(base_url=server.base, timeout=60) as client:
        job_id = upload(client, acme, "big.csv.gz", big, kind="creators", platform="instagram")
        for _ in range(WAIT_SECONDS * 20):  # until it is reading
            job = client.get(f"/api/v1/imports/{job_id}", headers=acme.auth()).json()
            if job["status"] != "queued" and job["progress_done"]:
                break
            time.sleep(0.05)
        assert job["status"] == "running", job
        made = client.post("/api/v1/creators", json={"name": "Beta New"}, headers=beta.auth())
        assert made.status_code == 201, made.text
        # The write did not wait for the import to end: it is still running, and cancellable.
        url = f"/api/v1/imports/{job_id}/cancel"
        assert client.post(url, headers=beta.auth("owner")).status_code == 404
        assert client.post(url, headers=acme.auth("member")).status_code == 403
        cancelled = client.post(url, headers=acme.auth("owner"))
        assert cancelled.status_code == 200, cancelled.text
        assert cancelled.json()["status"] in ("cancelling", "cancelled")
        job = server.wait(client, job_id, acme)
        assert job["status"] == "cancelled" and "nothing was written" in job["error"]
        assert client.get("/api/v1/creators", headers=acme.auth()).json()["count"] == 3
        assert client.get("/api/v1/creators", headers=beta.auth()).json()["count"] == 4
