"""Reading tables in chunks: formats, encodings, quoting, line numbers and clear errors."""

from __future__ import annotations

import codecs
import gzip

import polars as pl
import pytest

from microfluence.ingest.tables import reader as tables_reader
from microfluence.ingest.tables.reader import read_table
from microfluence.kernel.errors import InputError


def _rows(path, **kwargs):
    frames, lines, raws = [], [], []
    for chunk in read_table(path, **kwargs):
        frames.append(chunk.frame)
        lines.extend(chunk.lines.to_list())
        raws.extend(chunk.raw(i) for i in range(chunk.frame.height))
    frame = pl.concat(frames, how="diagonal_relaxed") if frames else pl.DataFrame()
    return frame, lines, raws


def test_csv_bom_quotes_newlines_crlf_and_blank_lines(tmp_path):
    path = tmp_path / "c.csv"
    path.write_bytes(
        codecs.BOM_UTF8 + b'Username,Followers,Bio\r\n@ann,"1,234","two\r\nlines, ""quoted"""\r\n'
        b"\r\n   \r\nbob,3.3k,plain\r\n"
    )
    frame, lines, raws = _rows(path)
    assert frame.columns == ["Username", "Followers", "Bio"]
    assert frame.to_dicts() == [
        {"Username": "@ann", "Followers": "1,234", "Bio": 'two\r\nlines, "quoted"'},
        {"Username": "bob", "Followers": "3.3k", "Bio": "plain"},
    ]
    assert lines == [2, 6]
    assert raws[1] == "bob,3.3k,plain"


@pytest.mark.parametrize(
    ("name", "content", "columns"),
    [
        ("t.tsv", b"handle\tfollowers\nann\t5\n", ["handle", "followers"]),
        ("t.txt", b"handle\tfollowers\nann\t5\n", ["handle", "followers"]),
        ("s.csv", b"handle;followers\nann;5\n", ["handle", "followers"]),
        ("p.csv", b"handle|followers\nann|5\n", ["handle", "followers"]),
        ("n", b'{"handle": "ann", "followers": 5}\n', ["handle", "followers"]),
    ],
)
def test_formats_and_delimiters_are_detected(tmp_path, name, content, columns):
    path = tmp_path / name
    path.write_bytes(content)
    frame, lines, _ = _rows(path)
    assert frame.columns == columns and frame.height == 1
    assert lines == ([1] if content.startswith(b"{") else [2])


def test_jsonl_nested_mixed_types_blank_lines(tmp_path):
    path = tmp_path / "p.jsonl"
    path.write_bytes(
        b'{"owner": {"username": "ann", "id": 1}, "likes": 5, "tags": ["a"]}\n\n'
        b'{"owner": {"username": "bob"}, "likes": "3k"}\n'
    )
    frame, lines, raws = _rows(path)
    assert set(frame.columns) == {"owner.username", "owner.id", "likes", "tags"}
    assert frame["likes"].to_list() == ["5", "3k"]
    assert lines == [1, 3]
    assert raws[1] == '{"owner": {"username": "bob"}, "likes": "3k"}'


def test_parquet_and_gzip(tmp_path):
    frame = pl.DataFrame({"handle": ["a", "b", "c"], "followers": [1, 2, 3]})
    frame.write_parquet(tmp_path / "f.parquet")
    read, lines, raws = _rows(tmp_path / "f.parquet", chunk_rows=2)
    assert read.equals(frame) and lines == [1, 2, 3]
    assert '"handle":"c"' in raws[2]
    with gzip.open(tmp_path / "f.csv.gz", "wb") as handle:
        handle.write(b"handle,followers\na,1\n")
    read, lines, _ = _rows(tmp_path / "f.csv.gz")
    assert read.to_dicts() == [{"handle": "a", "followers": "1"}] and lines == [2]


@pytest.mark.parametrize(
    ("encoding", "bom"),
    [
        ("cp1252", b""),
        ("latin-1", b""),
        ("utf-16-le", codecs.BOM_UTF16_LE),
        ("utf-16-be", codecs.BOM_UTF16_BE),
        ("utf-16-le", b""),
        ("utf-16-be", b""),
    ],
)
def test_odd_encodings_are_transcoded(tmp_path, encoding, bom):
    path = tmp_path / "e.csv"
    path.write_bytes(bom + "handle,name\nzoe,Zoë Müller\n".encode(encoding))
    frame, lines, _ = _rows(path)
    assert frame.to_dicts() == [{"handle": "zoe", "name": "Zoë Müller"}] and lines == [2]


@pytest.mark.parametrize(
    ("content", "line", "message"),
    [
        (b"a,b\n1,2\n3\n", 3, "1 fields where the header has 2"),
        (b"a,b\n1,2\n3,4,5\n", 3, "3 fields"),
        (b'a,b\n1,"open\n2,3\n', 2, "unterminated quoted field"),
        (b"a,b\n1,2\n\x81\x8d\x8f\x90,x\n", 3, "not UTF-8"),
        (b"a,b\n1,\x00\x01\x02x\n", 2, "control character"),
    ],
)
def test_bad_delimited_files_name_the_line(tmp_path, content, line, message):
    path = tmp_path / "bad.csv"
    path.write_bytes(content)
    with pytest.raises(InputError) as info:
        _rows(path)
    assert info.value.file == str(path) and info.value.line == line
    assert message in str(info.value)


def test_bad_utf8_late_in_a_utf8_file(tmp_path, monkeypatch):
    monkeypatch.setattr(tables_reader, "_SNIFF", 64)
    monkeypatch.setattr(tables_reader, "_BLOCK", 64)
    path = tmp_path / "late.csv"
    path.write_bytes(b"a,b\n" + b"x,1\n" * 50 + b"caf\xe9,2\n")
    with pytest.raises(InputError, match="not valid UTF-8") as info:
        _rows(path)
    assert info.value.line == 52


@pytest.mark.parametrize(
    ("content", "line", "message"),
    [
        (b'{"a": 1}\n{"a": ', 2, "not valid JSON"),
        (b'{"a": 1}\n\n[1, 2]\n', 3, "expected a JSON object"),
        (b'{"a": 1}{"a": 2}\n', 1, "not valid JSON"),
        (b'[{"a": 1}, {"a": 2}]\n', 1, "a JSON array"),
        (b'[\n  {"a": 1}\n]\n', 1, "a JSON array"),
        (b'{\n  "a": 1\n}\n', 1, "spread over several lines"),
    ],
)
def test_bad_json_lines_name_the_line(tmp_path, content, line, message):
    path = tmp_path / "bad.jsonl"
    path.write_bytes(content)
    with pytest.raises(InputError) as info:
        _rows(path)
    assert info.value.line == line and message in str(info.value)


def test_unreadable_files(tmp_path):
    (tmp_path / "empty.csv").write_bytes(b"")
    (tmp_path / "x.parquet").write_bytes(b"not parquet at all")
    (tmp_path / "r.csv").write_bytes(bytes(range(256)) * 4)
    for name, message in [
        ("empty.csv", "empty"),
        ("x.parquet", "Parquet"),
        ("r.csv", "not UTF-8, UTF-16 or Windows-1252"),
        ("missing.csv", "no such file"),
    ]:
        with pytest.raises(InputError, match=message) as info:
            _rows(tmp_path / name)
        assert info.value.file == str(tmp_path / name)


def test_small_blocks_and_chunks_keep_every_record_and_line(tmp_path, monkeypatch):
    monkeypatch.setattr(tables_reader, "_SNIFF", 50)
    monkeypatch.setattr(tables_reader, "_BLOCK", 37)
    rows = [f'h{i},"multi\nline {i}"' for i in range(300)]
    path = tmp_path / "many.csv"
    path.write_text("handle,bio\n" + "\n".join(rows) + "\n", encoding="utf-8")
    seen = []
    frame, lines, _ = _rows(path, chunk_rows=100, progress=lambda d, t: seen.append((d, t)))
    assert frame["handle"].to_list() == [f"h{i}" for i in range(300)]
    assert frame["bio"][299] == "multi\nline 299"
    assert lines == [2 + 2 * i for i in range(300)]
    assert seen[-1] == (path.stat().st_size, path.stat().st_size)
    assert [d for d, _ in seen] == sorted(d for d, _ in seen)
