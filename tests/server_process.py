"""The app in a uvicorn server process of its own on 127.0.0.1, whose memory and writes can be
read from /proc, and a raw-socket client that streams a body (with a Content-Length or chunked)
until the server answers, so a test can send "400 MiB" without making them."""

from __future__ import annotations

import os
import select
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx

from api_support import free_port

SRC = Path(__file__).resolve().parents[1] / "src"
MiB = 1 << 20


@dataclass
class ServerProcess:
    base: str
    port: int
    pid: int

    def status_kib(self, field: str) -> int:
        """A /proc/PID/status field in KiB (VmHWM: the peak resident memory so far)."""
        for line in Path(f"/proc/{self.pid}/status").read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1])
        raise KeyError(field)

    def written(self) -> int:
        """Bytes the process has passed to write() so far (files, temporary files, sockets)."""
        for line in Path(f"/proc/{self.pid}/io").read_text().splitlines():
            if line.startswith("wchar:"):
                return int(line.split()[1])
        raise KeyError("wchar")


@contextmanager
def server_process(store_url: str, **settings: str) -> Iterator[ServerProcess]:
    """uvicorn serving ``create_app`` over ``store_url``; ``settings`` are MICROFLUENCE_* values."""
    port = free_port()
    env = {
        **os.environ,
        "MICROFLUENCE_DATABASE_URL": store_url,
        "PYTHONPATH": os.pathsep.join([str(SRC), os.environ.get("PYTHONPATH", "")]),
        **{f"MICROFLUENCE_{k.upper()}": v for k, v in settings.items()},
    }
    command = [sys.executable, "-m", "uvicorn", "--factory", "microfluence.web.app:create_app"]
    command += ["--host", "127.0.0.1", "--port", str(port), "--log-level", "warning"]
    process = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            if process.poll() is not None:
                raise RuntimeError(f"the server exited with {process.returncode}")
            try:
                httpx.get(base + "/openapi.json", timeout=2)
                break
            except httpx.TransportError:
                if time.monotonic() > deadline:
                    raise RuntimeError("the server did not start") from None
                time.sleep(0.1)
        yield ServerProcess(base=base, port=port, pid=process.pid)
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=20)


@dataclass
class Pushed:
    status: int | None  # None: no answer before the connection ended
    sent: int  # body bytes the socket took before the server answered or closed
    answer: bytes


def repeat(piece: bytes, total: int) -> Iterator[bytes]:
    """``total`` bytes made lazily of ``piece``: nothing is built until a socket takes it."""
    left = total
    while left > 0:
        chunk = piece[:left]
        left -= len(chunk)
        yield chunk


def chunked(pieces: Iterator[bytes]) -> Iterator[bytes]:
    """HTTP/1.1 chunked framing."""
    for piece in pieces:
        yield b"%x\r\n%s\r\n" % (len(piece), piece)
    yield b"0\r\n\r\n"


def push(
    port: int,
    path: str,
    body: Iterator[bytes],
    *,
    headers: dict[str, str],
    length: int | None = None,
    seconds: float = 20,
) -> Pushed:
    """POST ``body`` (with ``length`` as Content-Length, else chunked) as fast as the server takes
    it, reading all the while; stops sending at the first byte of an answer. Bounded in time."""
    framing = {"Content-Length": str(length)} if length is not None else {}
    if length is None:
        framing = {"Transfer-Encoding": "chunked"}
        body = chunked(body)
    lines = [f"POST {path} HTTP/1.1", "Host: 127.0.0.1"]
    lines += [f"{k}: {v}" for k, v in {**headers, **framing}.items()]
    pending = ("\r\n".join(lines) + "\r\n\r\n").encode()
    head_size = len(pending)
    answer = bytearray()
    sent = 0
    sending = True
    deadline = time.monotonic() + seconds
    with socket.create_connection(("127.0.0.1", port), timeout=seconds) as sock:
        sock.setblocking(False)
        while time.monotonic() < deadline:
            writable = [sock] if sending else []
            readable, ready, _ = select.select([sock], writable, [], 0.5)
            if readable:
                try:
                    data = sock.recv(1 << 16)
                except (ConnectionResetError, BlockingIOError):
                    data = b""
                if not data:
                    break  # the server closed the connection
                answer += data
                sending = False  # it has answered: stop sending, read the rest
            if ready and sending:
                if not pending:
                    pending = next(body, b"")
                    if not pending:
                        sending = False
                        continue
                try:
                    count = sock.send(pending)
                except (BrokenPipeError, ConnectionResetError):
                    sending = False
                    continue
                sent += count
                pending = pending[count:]
    status_line = bytes(answer).split(b"\r\n", 1)[0].split()
    status = int(status_line[1]) if len(status_line) > 1 and status_line[1].isdigit() else None
    return Pushed(status=status, sent=max(0, sent - head_size), answer=bytes(answer))


def multipart_head(boundary: str, fields: dict[str, str], filename: str) -> bytes:
    """A multipart body's fields and the headers of its file part (the file's bytes follow)."""
    parts = b""
    for name, value in fields.items():
        parts += (
            f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'
        ).encode()
    parts += (
        f"--{boundary}\r\nContent-Disposition: form-data; "
        f'name="file"; filename="{filename}"\r\nContent-Type: text/csv\r\n\r\n'
    ).encode()
    return parts
