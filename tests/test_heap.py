"""The app's start-up freezes what it made (kernel.heap, MICROFLUENCE_FREEZE_HEAP): the garbage
collector's full collections then walk only what came later. Run in a child process: a freeze
is for the whole process, and the test process makes hundreds of apps (conftest turns the
setting off here)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

CHILD = """
import gc, json, sys, weakref
from fastapi.testclient import TestClient
from microfluence.web.app import create_app
from microfluence.web.settings import WebSettings

class Cycle:
    pass

app = create_app(sys.argv[1], WebSettings(search_warm_accounts=0))
before = gc.get_freeze_count()
garbage = Cycle(); garbage.me = garbage; gone = weakref.ref(garbage)
garbage = None  # unreachable now: only a collection frees it
alive = Cycle(); alive.me = alive  # still referenced: frozen with the rest
with TestClient(app) as client:
    answered = client.get("/api/v1/creators").status_code
    frozen = gc.get_freeze_count()
    collected = gone() is None
    in_reach = any(o is alive for o in gc.get_objects())
print(json.dumps({"before": before, "frozen": frozen, "answered": answered,
                  "collected": collected, "in_reach": in_reach}))
"""


def _child(tmp_path: Path, freeze: str) -> dict[str, int | bool]:
    env = {**os.environ, "MICROFLUENCE_FREEZE_HEAP": freeze}
    done = subprocess.run(
        [sys.executable, "-c", CHILD, f"sqlite:///{tmp_path / 'store.sqlite'}"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.strip().splitlines()[-1])


@pytest.mark.parametrize("freeze", ["true", "false"])
def test_start_up_freezes_what_it_made_only_when_set(tmp_path: Path, freeze: str) -> None:
    seen = _child(tmp_path, freeze)
    assert seen["before"] == 0 and seen["answered"] == 401  # it serves: no key, refused
    if freeze == "true":
        assert seen["frozen"] > 10_000  # modules, classes, routes: tens of thousands
        assert seen["collected"]  # collected first: garbage is not frozen with the rest
        assert not seen["in_reach"]  # the live object went to the permanent generation
    else:
        assert seen["frozen"] == 0 and seen["in_reach"]
