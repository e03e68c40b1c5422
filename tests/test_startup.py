"""Start-up cost: the entry points do not import the heavy libraries that only a few code paths
need (docs/benchmarks.md, "Start-up").

Every command, app and worker process pays for what its entry point imports. SciPy's stats,
optimize and sparse, scikit-learn, Ibis (with sqlglot), DuckDB, Spark and pandas are imported
by the functions that use them, on first use. Each entry point is imported in a fresh
interpreter (this process has imported everything already), and the heavy modules found in
``sys.modules`` afterwards are reported with the entry point that first pulled them in.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[1] / "src"

# Deferred to the functions that use them; none may come back as a module-level import on the
# start-up path of a command, the app, the worker or the library.
HEAVY = (
    "scipy",
    "scipy.stats",
    "scipy.optimize",
    "scipy.sparse",
    "sklearn",
    "ibis",
    "sqlglot",
    "duckdb",
    "pyspark",
    "pandas",
)

# The command line, the app, the worker (`microfluence worker` runs jobs.queue) and the library.
ENTRY_POINTS = (
    "microfluence.cli.main",
    "microfluence.web.app",
    "microfluence.jobs.queue",
    "microfluence",
)

# Imports each entry point in order, then (if asked) every sub-command as `microfluence --help`
# does; prints which heavy module each one pulled in first.
PROBE = """
import importlib, json, sys
heavy, entries, commands = %(heavy)r, %(entries)r, %(commands)r
found = {}

def note(entry):
    for name in heavy:
        if name in sys.modules and name not in found:
            found[name] = entry

for entry in entries:
    importlib.import_module(entry)
    note(entry)
if commands:
    from microfluence.cli.main import COMMANDS, load_command
    for name in COMMANDS:
        load_command(name)
        note("microfluence " + name)
print(json.dumps(found))
"""


def probe(entries: tuple[str, ...], *, commands: bool) -> dict[str, str]:
    """{heavy module: the entry point that imported it first}, in a fresh interpreter."""
    path = os.pathsep.join(p for p in (str(SRC), os.environ.get("PYTHONPATH", "")) if p)
    done = subprocess.run(
        [sys.executable, "-c", PROBE % {"heavy": HEAVY, "entries": entries, "commands": commands}],
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONPATH": path},
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.strip().splitlines()[-1])


@pytest.fixture(scope="module")
def loaded() -> dict[str, str]:
    return probe(ENTRY_POINTS, commands=True)


def test_the_probe_sees_a_heavy_import() -> None:
    """The check itself: the solver's module imports SciPy at module level, and is reported."""
    found = probe(("microfluence.planning.milp",), commands=False)
    assert found["scipy.optimize"] == "microfluence.planning.milp"
    assert "sklearn" not in found


@pytest.mark.parametrize("module", HEAVY)
def test_entry_points_do_not_import(loaded: dict[str, str], module: str) -> None:
    entry = loaded.get(module, "")
    assert module not in loaded, (
        f"{module} is imported at start-up by `{entry}`: import it inside the function that "
        "needs it (docs/benchmarks.md, Start-up); `python -X importtime` shows the chain"
    )
