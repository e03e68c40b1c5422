"""The layer contracts of pyproject.toml ([tool.importlinter]) hold, and they can fail.

`make lint` runs ``lint-imports``; these tests run it on the real tree, then on a copy of the
package with deliberate bad imports, to show that each contract catches its kind of violation
and names the import.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def lint_imports(tree: Path) -> subprocess.CompletedProcess[str]:
    """``lint-imports`` with the contracts of ``tree/pyproject.toml`` over ``tree/src``."""
    script = Path(sys.executable).with_name("lint-imports")
    command = [str(script)] if script.exists() else ["lint-imports"]
    env = {**os.environ, "PYTHONPATH": str(tree / "src"), "COLUMNS": "200"}
    return subprocess.run(
        [*command, "--no-cache"], cwd=tree, env=env, capture_output=True, text=True, timeout=120
    )


def test_the_contracts_cover_every_package() -> None:
    """Every package under src/microfluence sits in a layer (the contract is also exhaustive)."""
    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    contracts = {c["id"]: c for c in config["tool"]["importlinter"]["contracts"]}
    assert {"layers", "frameworks", "faces-on-top"} <= set(contracts)
    declared = {
        name.strip() for layer in contracts["layers"]["layers"] for name in layer.split("|")
    }
    packages = {
        p.stem if p.is_file() else p.name
        for p in (ROOT / "src" / "microfluence").iterdir()
        if (p.is_dir() and (p / "__init__.py").exists())
        or (p.suffix == ".py" and p.name != "__init__.py")
    }
    assert packages == declared


def test_the_real_tree_keeps_every_contract() -> None:
    result = lint_imports(ROOT)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 broken" in result.stdout


def test_bad_imports_break_the_contracts(tmp_path: Path) -> None:
    tree = tmp_path / "tree"
    shutil.copytree(
        ROOT / "src" / "microfluence",
        tree / "src" / "microfluence",
        ignore=shutil.ignore_patterns("__pycache__", "*.html", "*.json", "*.css", "*.js"),
    )
    shutil.copy(ROOT / "pyproject.toml", tree / "pyproject.toml")
    package = tree / "src" / "microfluence"

    def add(module: str, line: str) -> None:
        path = package.joinpath(*module.split(".")).with_suffix(".py")
        path.write_text(path.read_text(encoding="utf-8") + f"\n{line}\n", encoding="utf-8")

    add("kernel.errors", "from microfluence.web import app as _up  # noqa")  # the bottom, upwards
    add("metrics.tiers", "from microfluence.access import roles as _sibling  # noqa")  # siblings
    add("catalog.listing", "import typer as _typer  # noqa")  # a framework in a service
    add("export.tables", "from microfluence.kernel import console as _plumbing  # noqa")

    result = lint_imports(tree)
    out = " ".join(result.stdout.split())  # the report wraps long lines
    assert result.returncode == 1, out
    assert "microfluence.kernel is not allowed to import microfluence.web" in out
    assert "microfluence.kernel.errors -> microfluence.web" in out
    assert "microfluence.metrics is not allowed to import microfluence.access" in out
    assert "microfluence.catalog is not allowed to import typer" in out
    assert "microfluence.catalog.listing -> typer" in out
    assert "microfluence.export.tables is not allowed to import microfluence.kernel.console" in out
    assert "0 kept, 3 broken" in out
