"""Imports that cannot exhaust the server (issues 8 and 9), in process: every rejected row in the
rejects file however many there are, decompression bombs and row floods stopped at their caps,
large JSON lists parsed element by element, cancelling, and a read phase that holds no lock."""

from __future__ import annotations

import bz2
import csv
import gzip
import json
import lzma
import sqlite3
from pathlib import Path

import polars as pl
import pytest
import sqlalchemy as sa

from microfluence.ingest.followers import import_followers
from microfluence.ingest.guard import ImportCancelled, ImportLimitError
from microfluence.ingest.instagram import files as instagram_files
from microfluence.ingest.instagram.importer import import_instagram
from microfluence.ingest.report import REJECTION_SAMPLE
from microfluence.ingest.tables.creators import import_creators
from microfluence.ingest.tables.posts import import_posts
from microfluence.kernel.config import get_settings
from microfluence.kernel.errors import InputError
from microfluence.kernel.store.tables import Account, ImportRun, Post

MANY = 10_050  # more than the 10,000 rows the old importers kept (and cut the file at)


@pytest.fixture
def limits(monkeypatch: pytest.MonkeyPatch):  # type: ignore[no-untyped-def]
    """Set MICROFLUENCE_MAX_IMPORT_* for one test."""

    def set_limits(*, mb: int | None = None, rows: int | None = None) -> None:
        if mb is not None:
            monkeypatch.setenv("MICROFLUENCE_MAX_IMPORT_DECOMPRESSED_MB", str(mb))
        if rows is not None:
            monkeypatch.setenv("MICROFLUENCE_MAX_IMPORT_ROWS", str(rows))
        get_settings.cache_clear()

    yield set_limits
    monkeypatch.delenv("MICROFLUENCE_MAX_IMPORT_DECOMPRESSED_MB", raising=False)
    monkeypatch.delenv("MICROFLUENCE_MAX_IMPORT_ROWS", raising=False)
    get_settings.cache_clear()


def count(store, table) -> int:  # type: ignore[no-untyped-def]
    with store.connection() as conn:
        return conn.execute(sa.select(sa.func.count()).select_from(table)).scalar_one()


def rejects_rows(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def post(media_id: str, username: str | None = "ann") -> dict:
    owner = {"username": username, "id": "77"} if username else None
    return {"id": media_id, "shortcode": None, "owner": owner, "taken_at_timestamp": 1700000000}


# -- one rejects writer: every rejected row, streamed ----------------------------------------------


def test_instagram_writes_every_rejected_item(sqlite_store, tmp_path):
    lines = [json.dumps(post(str(i), username=None)) for i in range(MANY)]
    lines += [json.dumps(post("good-1")), "not json", json.dumps(post("good-2"))]
    source = tmp_path / "posts.jsonl"
    source.write_text("\n".join(lines) + "\n", encoding="utf-8")
    rejects = tmp_path / "rejected.csv"
    report = import_instagram(sqlite_store, "w", [source], skip_invalid=True, rejects_path=rejects)
    assert report.rejected == MANY + 1 and count(sqlite_store, Post) == 2
    rows = rejects_rows(rejects)
    assert len(rows) == MANY + 1  # every one, not the first 10,000
    assert rows[0]["line"] == "1" and rows[0]["field"] == "$.owner"
    assert rows[-1]["line"] == str(MANY + 2) and rows[-1]["reason"].startswith("not valid JSON")
    assert len(report.rejections) == REJECTION_SAMPLE  # only a sample stays in memory
    assert not rejects.with_name("rejected.csv.part").exists()


def test_followers_write_every_rejected_row(sqlite_store, tmp_path):
    body = ["username,followers"] + [f"fan{i},minus one" for i in range(MANY)] + ["ok_fan,12"]
    source = tmp_path / "sample.csv"
    source.write_text("\n".join(body) + "\n", encoding="utf-8")
    rejects = tmp_path / "sample.rejects.csv"
    report = import_followers(
        sqlite_store,
        "w",
        source,
        account="instagram:brand",
        skip_invalid=True,
        rejects_path=rejects,
    )
    assert report.rejected == MANY and report.rows_read == MANY + 1
    rows = rejects_rows(rejects)
    assert len(rows) == MANY
    assert rows[-1] == {
        "file": str(source),
        "line": str(MANY + 1),
        "field": "followers",
        "reason": "not a number",
        "value": "minus one",
        "row": f"fan{MANY - 1},minus one",
    }


def test_a_failed_import_leaves_no_rejects_file(sqlite_store, tmp_path):
    folder = tmp_path / "in"
    folder.mkdir()
    source = folder / "posts.csv"  # rows to reject, then a structure error
    source.write_text('handle,post_id\nbad row,1\nann,2\nbo,"3\n', encoding="utf-8")
    with pytest.raises(InputError, match="unterminated"):
        import_posts(sqlite_store, "w", source, platform="instagram", skip_invalid=True)
    assert sorted(p.name for p in folder.iterdir()) == ["posts.csv"]


# -- the decompressed-size cap ------------------------------------------------------------------


def _csv_bomb(opener, name: str, tmp_path: Path) -> Path:  # type: ignore[no-untyped-def]
    path = tmp_path / name
    with opener(path, "wb") as out:
        out.write(b"handle,followers\nann,1\n")
        block = b"\n" * (1 << 20)  # blank lines: no rows, only bytes
        for _ in range(3):
            out.write(block)
    return path


@pytest.mark.parametrize(
    ("opener", "name"),
    [(gzip.open, "bomb.csv.gz"), (bz2.open, "bomb.csv.bz2"), (lzma.open, "bomb.csv.xz")],
)
def test_a_table_decompression_bomb_stops_at_the_cap(store, tmp_path, limits, opener, name):
    limits(mb=1)
    bomb = _csv_bomb(opener, name, tmp_path)
    assert bomb.stat().st_size < 64 << 10
    with pytest.raises(ImportLimitError) as info:
        import_creators(store, "w", bomb, platform="instagram")
    assert info.value.file == str(bomb)
    assert "more than 1 MiB after decompression" in str(info.value)
    assert "MICROFLUENCE_MAX_IMPORT_DECOMPRESSED_MB" in str(info.value)
    assert count(store, Account) == 0
    with store.session() as session:
        failed = session.scalars(sa.select(ImportRun)).all()
    assert [r.status for r in failed] == []  # a new workspace: nothing to attach a log to


def test_plain_files_count_too(sqlite_store, tmp_path, limits):
    limits(mb=1)
    source = tmp_path / "posts.jsonl"
    row = json.dumps({"handle": "ann", "post_id": "1", "caption": "x" * 500}) + "\n"
    source.write_text(row * 3000, encoding="utf-8")  # 1.5 MiB, uncompressed
    with pytest.raises(ImportLimitError, match="after decompression"):
        import_posts(sqlite_store, "w", source, platform="instagram")


@pytest.mark.parametrize("compress", [gzip.compress, lzma.compress])
def test_an_instagram_bomb_stops_at_the_cap(sqlite_store, tmp_path, limits, compress):
    limits(mb=1)
    bomb = tmp_path / "bomb.jsonl"
    bomb.write_bytes(compress(b"\n" * (3 << 20)))  # JSON Lines of blank lines
    with pytest.raises(ImportLimitError) as info:
        import_instagram(sqlite_store, "w", [bomb], skip_invalid=True)  # never skipped
    assert info.value.file == str(bomb) and "1 MiB" in str(info.value)


# -- the row cap ----------------------------------------------------------------------------------


def test_row_cap_for_tables_followers_and_instagram(sqlite_store, tmp_path, limits):
    limits(rows=50)
    table = tmp_path / "creators.csv"
    table.write_text("handle\n" + "".join(f"u{i}\n" for i in range(60)), encoding="utf-8")
    with pytest.raises(ImportLimitError, match="more than 50 rows in one import") as info:
        import_creators(sqlite_store, "w", table, platform="instagram", chunk_rows=100)
    assert info.value.file == str(table)
    with pytest.raises(ImportLimitError, match="MICROFLUENCE_MAX_IMPORT_ROWS"):
        import_followers(sqlite_store, "w", table, account="instagram:brand")
    parquet = tmp_path / "creators.parquet"
    pl.DataFrame({"handle": [f"u{i}" for i in range(60)]}).write_parquet(parquet)
    with pytest.raises(ImportLimitError, match="50 rows"):  # told by the metadata, unread
        import_creators(sqlite_store, "w", parquet, platform="instagram")
    posts = tmp_path / "posts.jsonl"
    posts.write_text("\n".join(json.dumps(post(str(i))) for i in range(60)), encoding="utf-8")
    with pytest.raises(ImportLimitError, match="50 rows"):
        import_instagram(sqlite_store, "w", [posts])
    rejected = tmp_path / "rejected.jsonl"  # rejected items count too
    rejected.write_text('["junk"]\n' * 60, encoding="utf-8")
    with pytest.raises(ImportLimitError, match="50 rows"):
        import_instagram(sqlite_store, "w", [rejected], skip_invalid=True)
    assert count(sqlite_store, Account) == 0 and count(sqlite_store, Post) == 0


# -- Instagram JSON: big documents element by element ---------------------------------------------


def test_a_large_list_is_read_element_by_element(sqlite_store, tmp_path, monkeypatch):
    monkeypatch.setattr(instagram_files, "MAX_JSON_VALUE", 4096)
    items = [post(str(i)) for i in range(200)] + [{"id": "9", "shortcode": "B"}, "junk"]
    big = tmp_path / "dump.json.gz"
    big.write_bytes(gzip.compress(json.dumps(items).encode()))
    rejects = tmp_path / "rejects.csv"
    report = import_instagram(sqlite_store, "w", [big], skip_invalid=True, rejects_path=rejects)
    assert report.rows_read == 200 and count(sqlite_store, Post) == 200
    assert [(r["field"], r["reason"]) for r in rejects_rows(rejects)] == [
        ("$[200].owner", "the post has no owner"),
        ("$[201]", "expected a post object, got text"),
    ]
    with pytest.raises(InputError, match=r"\$\[200\]\.owner"):
        import_instagram(sqlite_store, "w", [big])  # without skip_invalid: stops, names it


def test_oversized_json_values_are_refused(sqlite_store, tmp_path, monkeypatch):
    monkeypatch.setattr(instagram_files, "MAX_JSON_VALUE", 4096)
    obj = tmp_path / "object.json"
    obj.write_text(json.dumps({"edges": [{"node": post(str(i))} for i in range(100)]}))
    with pytest.raises(InputError, match="must be a list of posts") as info:
        import_instagram(sqlite_store, "w", [obj])
    assert info.value.file == str(obj)
    element = tmp_path / "element.json"
    element.write_text(json.dumps([post("1"), [{}] * 40_000]))  # past one 64 KiB read
    with pytest.raises(InputError, match=r"element \$\[1\] of the list is larger than"):
        import_instagram(sqlite_store, "w", [element])
    line = tmp_path / "long.jsonl"
    line.write_text(json.dumps([{}] * 5000) + "\n")
    with pytest.raises(InputError, match="a line longer than"):
        import_instagram(sqlite_store, "w", [line])
    broken = tmp_path / "broken.json"
    broken.write_text(json.dumps([post(str(i)) for i in range(100)])[:-40])
    with pytest.raises(InputError, match="not valid JSON after element"):
        import_instagram(sqlite_store, "w", [broken])
    assert count(sqlite_store, Post) == 0


def test_the_issue_9_bomb_in_process(sqlite_store, tmp_path, limits):
    """'[' + '{},' * n + '{}]', gzip-compressed, with skip_invalid: every element is rejected
    (streamed), the row cap stops it, nothing is written."""
    limits(rows=20_000)
    bomb = tmp_path / "bomb.json"
    bomb.write_bytes(gzip.compress(b"[" + b"{}," * 2_000_000 + b"{}]"))
    with pytest.raises(ImportLimitError, match="20,000 rows"):
        import_instagram(sqlite_store, "w", [bomb], skip_invalid=True, rejects_path=tmp_path / "r")
    assert not (tmp_path / "r").exists() and not (tmp_path / "r.part").exists()
    with pytest.raises(InputError, match=r"\$\[0\]"):  # without skip_invalid: the first one
        import_instagram(sqlite_store, "w", [bomb])


# -- cancelling, and a read phase that holds no lock -------------------------------------------


def test_a_cancelled_import_writes_nothing(store, tmp_path):
    source = tmp_path / "posts.csv"
    source.write_text(
        "handle,post_id,likes\n" + "".join(f"ann,{i},{i}\n" for i in range(500)), "utf-8"
    )
    asked = []

    def cancel() -> bool:
        asked.append(1)
        return len(asked) > 3  # a few batches in

    with pytest.raises(ImportCancelled):
        import_posts(
            store,
            "w",
            source,
            platform="instagram",
            chunk_rows=100,
            cancel=cancel,
            skip_invalid=True,
        )
    assert count(store, Post) == 0 and count(store, Account) == 0
    assert not source.with_name("posts.rejects.csv").exists()
    report = import_posts(store, "w", source, platform="instagram", chunk_rows=100)
    with store.session() as session:
        runs = session.scalars(sa.select(ImportRun).order_by(ImportRun.id)).all()
    assert report.created["posts"] == 500 and [r.status for r in runs] == ["succeeded"]
    asked.clear()
    with pytest.raises(ImportCancelled):
        import_posts(store, "w", source, platform="instagram", chunk_rows=100, cancel=cancel)
    with store.session() as session:
        statuses = [r.status for r in session.scalars(sa.select(ImportRun).order_by(ImportRun.id))]
    assert statuses == ["succeeded", "cancelled"]  # logged, since the workspace exists


def test_other_writers_get_in_while_an_import_reads(sqlite_store, tmp_path):
    """The read-and-check phase holds no lock on SQLite: a writer that would not wait at all
    (busy timeout 0) writes while the import reads its file (at each progress report)."""
    source = tmp_path / "posts.csv"
    source.write_text(
        "handle,post_id,likes\n" + "".join(f"ann,{i},{i}\n" for i in range(300)), "utf-8"
    )
    path = sqlite_store.url.removeprefix("sqlite:///")
    wrote: list[int] = []

    def another_workspace_writes(_done: int, _total: int | None) -> None:
        other = sqlite3.connect(path, timeout=0)
        try:
            other.execute(
                "INSERT INTO workspaces (name, display_name, settings, created_at) "
                "VALUES (?, 'o', '{}', '2026-01-01')",
                (f"other{len(wrote)}",),
            )
            other.commit()  # "database is locked" at once if the import held the lock
            wrote.append(1)
        finally:
            other.close()

    report = import_posts(
        sqlite_store, "w", source, platform="instagram", progress=another_workspace_writes
    )
    assert report.created["posts"] == 300 and wrote
