"""The library face (``import microfluence``): its public names, its workspace handle on both
stores, workspace isolation, clear errors, and docs/library.md's examples, run as written."""

from __future__ import annotations

import csv
import io
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import polars as pl
import pytest

import microfluence
from microfluence.kernel.errors import InputError, MicrofluenceError, NotFoundError
from microfluence.kernel.store import open_store
from microfluence.kernel.workspaces import find_workspace

ROOT = Path(__file__).resolve().parents[1]
LIBRARY_MD = ROOT / "docs" / "library.md"

CREATORS = (
    "handle,name,followers,country,category,captured_at\n"
    "ana.cooks,Ana Lima,48200,BR,food,2026-04-01\n"
    "leo.lifts,Leo Marchetti,12900,IT,fitness,2026-04-01\n"
)
POSTS = (
    "handle,post_id,posted_at,likes,comments\n"
    "ana.cooks,1,2026-04-03T18:00:00Z,2210,96\n"
    "ana.cooks,2,2026-04-10T18:00:00Z,1980,71\n"
    "leo.lifts,3,2026-04-04T07:00:00Z,190,4\n"
)


@pytest.fixture
def files(tmp_path: Path) -> Path:
    (tmp_path / "creators.csv").write_text(CREATORS, encoding="utf-8")
    (tmp_path / "posts.csv").write_text(POSTS, encoding="utf-8")
    return tmp_path


# -- the package's top ----------------------------------------------------------------------------
def test_import_microfluence_loads_nothing_heavy() -> None:
    """`microfluence --version` imports the package: the library must load on first use only."""
    code = (
        "import sys, microfluence\n"
        "heavy = [m for m in ('microfluence.library', 'polars', 'sqlalchemy', 'duckdb')"
        " if m in sys.modules]\n"
        "print(repr(heavy))\n"
    )
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src")}
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True
    ).stdout.split()
    assert out == ["[]"]


def test_every_public_name_resolves_and_nothing_else_does() -> None:
    for name in microfluence.__all__:
        assert getattr(microfluence, name) is not None
        assert name in dir(microfluence)
    assert microfluence.InputError is InputError
    assert issubclass(microfluence.NotFoundError, MicrofluenceError)
    with pytest.raises(AttributeError, match="no attribute 'ingest_everything'"):
        microfluence.ingest_everything  # noqa: B018


def test_every_public_name_is_in_library_md() -> None:
    text = LIBRARY_MD.read_text(encoding="utf-8")
    for name in microfluence.__all__:
        if name != "__version__":
            assert re.search(rf"`(microfluence\.)?{name}\b", text), name
    for method in ("import_creators", "import_posts", "import_instagram", "import_followers"):
        assert f"`Workspace.{method}(" in text


# -- the workspace handle -------------------------------------------------------------------------
def test_a_session_on_each_store(store_url: str, files: Path) -> None:
    with microfluence.open_workspace("acme", database_url=store_url) as ws:
        report = ws.import_creators(files / "creators.csv", platform="instagram")
        assert report.created["accounts"] == 2
        assert ws.import_posts(files / "posts.csv", platform="instagram").created == {"posts": 3}
        # the same file again updates, never duplicates
        assert ws.import_posts(files / "posts.csv", platform="instagram").created == {}

        summary = ws.score()
        assert (summary.workspace, summary.accounts, summary.posts) == ("acme", 2, 3)

        creators = ws.creators()
        assert isinstance(creators, pl.DataFrame)
        assert creators.select("handle", "followers", "creator_name").rows() == [
            ("ana.cooks", 48200, "Ana Lima"),
            ("leo.lifts", 12900, "Leo Marchetti"),
        ]
        assert creators["n_posts"].to_list() == [2, 1]  # the metrics of the score run
        posts = ws.posts()
        assert sorted(posts["platform_post_id"].to_list()) == ["1", "2", "3"]

        report = ws.vet("instagram:@Ana.Cooks", html=files / "ana.html")
        assert report.handle == "ana.cooks"
        assert "<html" in (files / "ana.html").read_text(encoding="utf-8").lower()

        rows = ws.export("creators", files / "out.csv")
        exported = list(csv.DictReader(io.StringIO((files / "out.csv").read_text())))
        assert rows == len(exported) == creators.height
        assert [r["handle"] for r in exported] == creators["handle"].to_list()
        assert ws.export("posts", files / "posts.json", format="json") == 3
        assert len(json.loads((files / "posts.json").read_text())) == 3


def test_workspaces_do_not_see_each_other(store_url: str, files: Path) -> None:
    with (
        microfluence.open_workspace("brand-a", database_url=store_url) as a,
        microfluence.open_workspace("brand-b", database_url=store_url) as b,
    ):
        a.import_creators(files / "creators.csv", platform="instagram")
        a.import_posts(files / "posts.csv", platform="instagram")
        assert a.creators().height == 2
        assert b.creators().height == 0
        assert b.creators().columns == a.creators().columns  # empty, with every column
        assert b.posts().height == 0
        with pytest.raises(NotFoundError):
            b.vet("instagram:ana.cooks")
        assert b.export("creators", files / "b.csv") == 0


def test_open_workspace_without_create_does_not_make_one(sqlite_store, files: Path) -> None:
    with pytest.raises(NotFoundError, match="no workspace named 'acme'"):
        microfluence.open_workspace("acme", database_url=sqlite_store.url, create=False)
    with sqlite_store.session() as session:
        assert find_workspace(session, "acme") is None
    with pytest.raises(InputError) as caught:
        microfluence.open_workspace("Not A Name", database_url=sqlite_store.url)
    assert caught.value.field == "workspace"


def test_bad_input_is_refused_naming_the_field_and_nothing_is_written(
    sqlite_store, files: Path
) -> None:
    (files / "bad.csv").write_text(
        CREATORS + "bad handle,Bad,12,BR,food,2026-04-01\n", encoding="utf-8"
    )
    with microfluence.open_workspace("acme", database_url=sqlite_store.url) as ws:
        with pytest.raises(InputError) as caught:
            ws.import_creators(files / "bad.csv", platform="instagram")
        assert (caught.value.line, caught.value.field) == (4, "handle")
        assert ws.creators().height == 0  # all or nothing
        with pytest.raises(InputError, match="unknown format 'xlsx'"):
            ws.export("creators", files / "out.xlsx", format="xlsx")
        assert not (files / "out.xlsx").exists()
        with pytest.raises(InputError, match="'creators' or 'posts'"):
            ws.export("snapshots", files / "out.csv")
        with pytest.raises(InputError, match="PLATFORM:HANDLE|platform"):
            ws.vet("ana.cooks")
        with pytest.raises(InputError, match="at least one"):
            ws.import_instagram()
        with pytest.raises(InputError, match="go with engine='spark'") as caught:
            ws.score(spark_master="spark://127.0.0.1:7077")
        assert caught.value.field == "engine"
        with pytest.raises(InputError, match="the Spark master is empty"):
            ws.score(engine="spark", spark_master=" ")


def test_close_releases_the_store(sqlite_store, files: Path) -> None:
    ws = microfluence.open_workspace("acme", database_url=sqlite_store.url)
    ws.close()
    assert "acme" in repr(ws)
    # the store itself is intact: another handle reads it
    store = open_store(sqlite_store.url)
    try:
        with store.session() as session:
            assert find_workspace(session, "acme") is not None
    finally:
        store.dispose()


# -- docs/library.md, run as written --------------------------------------------------------------
_BLOCK = re.compile(r"^```(\w+)([^\n]*)\n(.*?)^```$", re.MULTILINE | re.DOTALL)


def library_md_blocks() -> list[tuple[str, str, str]]:
    """(language, info after it, code) of each fenced block, in order."""
    return [
        (m.group(1), m.group(2).strip(), m.group(3))
        for m in _BLOCK.finditer(LIBRARY_MD.read_text(encoding="utf-8"))
    ]


def test_library_md_examples_run(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """Files titled ``file=NAME`` are written, then every python block runs, in order, in one
    namespace, in an empty folder: the page's examples work as a reader would paste them."""
    monkeypatch.chdir(tmp_path)
    namespace: dict[str, object] = {"__name__": "library_md"}
    ran = 0
    for language, info, code in library_md_blocks():
        target = re.fullmatch(r"file=(\S+)", info)
        if target:
            (tmp_path / target.group(1)).write_text(code, encoding="utf-8")
        elif language == "python":
            exec(compile(code, f"{LIBRARY_MD}:block{ran}", "exec"), namespace)  # noqa: S102
            ran += 1
    assert ran >= 6
    printed = capsys.readouterr().out
    # What the page says the examples print, it does print.
    assert "{'creators': 2, 'accounts': 2, 'snapshots': 4}" in printed
    assert "{'posts': 8} 0" in printed
    assert "messy.csv, line 3, field 'handle'" in printed
    assert "3 8 last 30 posts" in printed
    assert "['Leo Marchetti'] 1\n['contacted']\n2\n['contacted']" in printed
    assert "[('task', 'Ask Ana for the story', 2)]\n[]" in printed
    assert "ana@example.com ['food', 'spice-lovers'] 5" in printed
    assert "Spice launch contacted 400.00" in printed
    assert "['view', 'change']" in printed
    ws = namespace["ws"]
    assert isinstance(ws, microfluence.Workspace)
    assert (tmp_path / "leo.html").stat().st_size > 0
    assert (tmp_path / "rejected.csv").read_text().count("\n") == 2  # header and the bad row
    assert len((tmp_path / "posts.jsonl").read_text().splitlines()) == 8
    assert len((tmp_path / "scored.csv").read_text().splitlines()) == 5
    assert namespace["audit"].estimate.n == 4  # type: ignore[attr-defined]
