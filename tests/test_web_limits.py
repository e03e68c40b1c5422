"""Request bodies against a real uvicorn server process on 127.0.0.1: nobody without a key or a
session gets a byte read, a body is counted as it streams (chunked too) and cut at its cap, and
the server's memory (its peak resident size, VmHWM) and writes (/proc/PID/io) stay bounded while
it refuses bodies of hundreds of MiB. The client sends from generators and stops when the server
answers, so the test neither builds nor sends those bodies.

Bounds (docs/security.md): the server's peak memory grows by less than MEMORY_BOUND over all the
refusals below; it writes less than WRITE_BOUND while refusing a 64 MiB upload with a 2 MiB cap;
a refused body is cut off after less than SENT_BOUND (what the sockets' buffers hold).
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from api_support import Tenant, make_tenant
from microfluence.kernel.store import open_store
from server_process import MiB, ServerProcess, multipart_head, push, repeat, server_process

MEMORY_BOUND = 48 * MiB
WRITE_BOUND = 8 * MiB
SENT_BOUND = 32 * MiB
BOMB = 400 * MiB
BOUNDARY = "mfboundary7d1c"
UPLOAD_MB = 2


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[ServerProcess, Tenant, Path]]:
    folder = tmp_path_factory.mktemp("limits")
    url = f"sqlite:///{folder / 'store.sqlite'}"
    store = open_store(url)
    tenant = make_tenant(store, "acme")
    store.dispose()
    uploads = folder / "uploads"
    with server_process(url, max_upload_mb=str(UPLOAD_MB), upload_dir=str(uploads)) as server:
        # Warm up (imports, the store's pool, a first answer) before measuring.
        with httpx.Client(base_url=server.base, timeout=30) as client:
            assert client.get("/api/v1/creators", headers=tenant.auth()).status_code == 200
            assert client.get("/sign-in").status_code == 200
        yield server, tenant, uploads


def _json_bomb(total: int) -> Iterator[bytes]:
    yield b'{"name": "'
    yield from repeat(b"a" * MiB, total)


def _upload(total: int, fields: dict[str, str] | None = None) -> Iterator[bytes]:
    yield multipart_head(BOUNDARY, fields or {"kind": "creators", "platform": "instagram"}, "x.csv")
    yield b"handle,name\n"
    sent, n = 0, 0
    while sent < total:  # whole rows, distinct handles, made a batch at a time
        batch = "".join(f"user{i},User {i}\n" for i in range(n, n + 4096)).encode()
        n += 4096
        sent += len(batch)
        yield batch
    yield f"\r\n--{BOUNDARY}--\r\n".encode()


MULTIPART = {"Content-Type": f"multipart/form-data; boundary={BOUNDARY}"}
JSON = {"Content-Type": "application/json"}


def _error(pushed) -> dict:  # type: ignore[no-untyped-def]
    return json.loads(pushed.answer.split(b"\r\n\r\n", 1)[1])


def test_no_body_is_read_before_the_caller_is_known(live):
    server, tenant, uploads = live
    peak, written = server.status_kib("VmHWM") << 10, server.written()
    # Issue 9: 400 MiB of JSON without a key grew the server by 1.2 GB before its 401.
    declared = push(server.port, "/api/v1/creators", _json_bomb(BOMB), headers=JSON, length=BOMB)
    assert declared.status == 401 and _error(declared)["code"] == "unauthenticated"
    assert declared.sent < SENT_BOUND
    streamed = push(server.port, "/api/v1/creators", _json_bomb(BOMB), headers=JSON)
    assert streamed.status == 401 and streamed.sent < SENT_BOUND
    # Chunked multipart uploads wrote ~275 MiB to temporary files before their 401/403.
    for path in ("/api/v1/imports", "/imports"):
        refused = push(server.port, path, _upload(BOMB), headers=MULTIPART)
        assert refused.status == 401, refused.answer[:300]
        assert refused.sent < SENT_BOUND
    viewer = push(
        server.port,
        "/api/v1/imports",
        _upload(BOMB),
        headers={**MULTIPART, **tenant.auth("viewer")},
    )
    assert viewer.status == 403 and viewer.sent < SENT_BOUND
    forged = push(
        server.port,
        "/api/v1/creators",
        _json_bomb(BOMB),
        headers={**JSON, "Authorization": "Bearer mfk_abcdefgh_forged"},
    )
    assert forged.status == 401 and forged.sent < SENT_BOUND
    assert (server.status_kib("VmHWM") << 10) - peak < MEMORY_BOUND
    assert server.written() - written < 1 * MiB  # nothing spooled, only the answers
    assert not any(uploads.glob("run-*/upload-*"))


def test_bodies_are_counted_as_they_stream_and_cut_at_their_cap(live):
    server, tenant, uploads = live
    member = tenant.auth("member")
    peak = server.status_kib("VmHWM") << 10
    # MICROFLUENCE_MAX_UPLOAD_MB=2 once let a 200 MiB chunked body into memory.
    json_stream = push(
        server.port, "/api/v1/creators", _json_bomb(BOMB), headers={**JSON, **member}
    )
    assert json_stream.status == 413, json_stream.answer[:300]
    assert _error(json_stream)["code"] == "payload_too_large"
    assert json_stream.sent < SENT_BOUND
    declared = push(
        server.port, "/api/v1/creators", _json_bomb(BOMB), headers={**JSON, **member}, length=BOMB
    )
    assert declared.status == 413 and declared.sent < SENT_BOUND
    written = server.written()
    upload = push(
        server.port, "/api/v1/imports", _upload(64 * MiB), headers={**MULTIPART, **member}
    )
    assert upload.status == 413, upload.answer[:300]
    assert "2 MiB" in _error(upload)["message"]
    # At most the cap reached a temporary file (64 MiB were on their way).
    assert server.written() - written < WRITE_BOUND
    assert (server.status_kib("VmHWM") << 10) - peak < MEMORY_BOUND
    with httpx.Client(base_url=server.base, timeout=30, headers=member) as client:
        assert client.get("/api/v1/imports").json()["count"] == 0  # no job was made
        # An upload under the cap, chunked, still imports.
        small = push(
            server.port, "/api/v1/imports", _upload(64 << 10), headers={**MULTIPART, **member}
        )
        assert small.status == 202, small.answer[:300]
        job = _error(small)["id"]
        for _ in range(300):  # bounded: a few thousand rows import in well under 30 s
            answer = client.get(f"/api/v1/imports/{job}").json()
            if answer["status"] in ("succeeded", "failed"):
                break
            time.sleep(0.1)
        assert answer["status"] == "succeeded", answer["errors"]
        assert answer["summary"]["created"]["accounts"] > 1000
    assert not any(uploads.glob("run-*/upload-*"))  # removed with its job


def test_small_forms_need_no_account_but_have_a_cap(live):
    server, _tenant, _uploads = live
    form = {"Content-Type": "application/x-www-form-urlencoded"}
    big = push(server.port, "/auth/sign-in", repeat(b"email=" + b"a" * MiB, BOMB), headers=form)
    assert big.status == 413 and big.sent < SENT_BOUND
    with httpx.Client(base_url=server.base, timeout=30) as client:
        # The sign-in form itself still reaches its handler (403: no CSRF token sent).
        assert (
            client.post("/auth/sign-in", data={"email": "a@b.c", "password": "x"}).status_code
            == 403
        )


def test_api_routes_whose_body_is_its_own_proof_are_open_but_capped(live):
    """A password change and accepting an invitation carry their own proof (the password, the
    token): no key is asked for, the small cap still holds, and the handler decides."""
    server, _tenant, _uploads = live
    as_json = {"Content-Type": "application/json"}
    for path in ("/api/v1/account/password", "/api/v1/invitations/mfi_x/accept"):
        big = push(server.port, path, repeat(b'{"a": "' + b"a" * MiB, BOMB), headers=as_json)
        assert big.status == 413 and big.sent < SENT_BOUND
    with httpx.Client(base_url=server.base + "/api/v1", timeout=30) as client:
        body = {"email": "nobody@x.test", "current_password": "wrong pass", "new_password": "x" * 9}
        assert client.post("/account/password", json=body).status_code == 401  # the handler's
        accept = client.post("/invitations/mfi_x/accept", json={"password": "x" * 9})
        assert accept.status_code in (400, 404, 422)  # reached the handler, no key asked for
    # Any other API body still needs a key first.
    assert push(server.port, "/api/v1/creators", repeat(b"{", 4), headers=as_json).status == 401
