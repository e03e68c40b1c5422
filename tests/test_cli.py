"""The root command, `python -m microfluence` and `microfluence db`."""

from __future__ import annotations

import subprocess
import sys

from typer.testing import CliRunner

from microfluence import __version__
from microfluence.cli.main import app
from microfluence.kernel.store import migrations


def test_version_and_module_entry_point():
    result = CliRunner().invoke(app, ["--version"])
    assert result.exit_code == 0 and __version__ in result.output
    proc = subprocess.run(
        [sys.executable, "-m", "microfluence", "--help"], capture_output=True, text=True
    )
    assert proc.returncode == 0 and "import" in proc.stdout and "export" in proc.stdout


def test_db_upgrade_and_current(tmp_path):
    url = f"sqlite:///{tmp_path / 'fresh.sqlite'}"
    runner = CliRunner()
    current = runner.invoke(app, ["db", "current", "--database-url", url])
    assert current.exit_code == 0 and "empty" in current.output
    upgraded = runner.invoke(app, ["db", "upgrade", "--database-url", url])
    assert upgraded.exit_code == 0 and "upgraded to" in upgraded.output
    again = runner.invoke(app, ["db", "upgrade", "--database-url", url])
    assert "already at" in again.output
    for head in migrations.script_heads():
        assert head in again.output


def test_database_url_from_environment(tmp_path):
    url = f"sqlite:///{tmp_path / 'env.sqlite'}"
    result = CliRunner().invoke(app, ["db", "upgrade"], env={"MICROFLUENCE_DATABASE_URL": url})
    assert result.exit_code == 0
    assert (tmp_path / "env.sqlite").exists()


def test_bad_database_url_is_one_clear_line():
    result = CliRunner().invoke(app, ["db", "upgrade", "--database-url", "mysql://x@y/z"])
    assert result.exit_code == 1
    assert "unsupported database" in result.output
    assert "Traceback" not in result.output


def test_every_command_loads_and_has_help():
    from microfluence.cli.main import COMMANDS

    runner = CliRunner()
    for name in COMMANDS:
        result = runner.invoke(app, [name, "--help"])
        assert result.exit_code == 0, (name, result.output)
        assert "Usage" in result.output
    unknown = runner.invoke(app, ["no-such-command"])
    assert unknown.exit_code == 2 and "No such command" in unknown.output


def test_sub_commands_load_only_when_used():
    code = (
        "import sys\n"
        "from microfluence.cli.main import app\n"
        "try:\n    app(['--version'])\nexcept SystemExit:\n    pass\n"
        "heavy = ('ibis', 'duckdb', 'fastapi', 'sklearn', 'polars')\n"
        "print('loaded=' + ','.join(m for m in heavy if m in sys.modules))\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    assert "microfluence" in proc.stdout
    assert proc.stdout.strip().splitlines()[-1] == "loaded="
