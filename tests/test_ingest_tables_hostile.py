"""Hostile input at the table importers: every file either imports correctly or fails with a
clear InputError naming the file (and the line and field for row errors) — and a failed import
leaves the store exactly as it was."""

from __future__ import annotations

import csv
import io
import json
import os
import uuid

import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, assume, example, given, settings
from hypothesis import strategies as st

from microfluence.ingest.tables.creators import import_creators
from microfluence.ingest.tables.posts import import_posts
from microfluence.ingest.values.numbers import TEXT_BLANKS
from microfluence.kernel.errors import InputError
from microfluence.kernel.store.tables import Account, AccountSnapshot, Creator, Post
from store_support import table_rows

SETTINGS = settings(
    max_examples=int(os.environ.get("MICROFLUENCE_HOSTILE_EXAMPLES", "50")),
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
TABLES = (Creator, Account, AccountSnapshot, Post)

numbers = st.one_of(
    st.integers(min_value=-(10**15), max_value=10**15).map(str),
    st.floats(allow_nan=True, allow_infinity=True).map(str),
    st.sampled_from(["475.8m", "3.3k", "1,234", "12 345", "1.39%", "N/A", "-", "", "1,5k", "x"]),
    st.text(max_size=8),
)
cells = st.one_of(numbers, st.text(max_size=30), st.sampled_from(['"', '""', ",", "\n", "\r\n"]))
handles = st.one_of(
    st.from_regex(r"[a-z][a-z0-9_.]{0,14}", fullmatch=True),
    st.text(max_size=12),
)


def check_outcome(store, path, run, *, row_error_needs_line=True):
    """Run an import; it succeeds, or fails cleanly with the store unchanged."""
    before = table_rows(store, TABLES)
    try:
        report = run()
    except InputError as exc:
        assert exc.file == str(path) or str(path) in str(exc)
        if exc.field and row_error_needs_line and exc.field not in ("handle", "post_id"):
            assert exc.line is not None, str(exc)
        assert table_rows(store, TABLES) == before
        return None
    after = table_rows(store, TABLES)
    with store.connection() as conn:
        snaps = AccountSnapshot.__table__
        bad = conn.execute(
            sa.select(sa.func.count())
            .select_from(snaps)
            .where((snaps.c.followers < 0) | (snaps.c.followers > 10**12))
        ).scalar()
    assert bad == 0
    assert len(after["accounts"]) >= len(before["accounts"])
    return report


def _csv(rows, header=("handle", "followers", "following", "ER", "email", "Country")):
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(header)
    writer.writerows(rows)
    return buffer.getvalue()


@SETTINGS
@given(
    rows=st.lists(
        st.tuples(handles, numbers, numbers, numbers, cells, cells), min_size=1, max_size=6
    ),
    skip=st.booleans(),
    chunk=st.sampled_from([None, 1, 2]),
)
@example(rows=[("ann", "-5", "1", "2", "", "")], skip=False, chunk=None)
@example(rows=[("ann", "2e13", "1", "2", "", "")], skip=True, chunk=None)
def test_malformed_creator_rows(sqlite_store, tmp_path, rows, skip, chunk):
    path = tmp_path / f"{uuid.uuid4().hex}.csv"
    path.write_text(_csv(rows), encoding="utf-8")
    report = check_outcome(
        sqlite_store,
        path,
        lambda: import_creators(
            sqlite_store, "default", path, platform="instagram", skip_invalid=skip, chunk_rows=chunk
        ),
    )
    if report is not None:
        assert report.rows_read == len(rows)
        assert report.rows_read == report.rejected + (len(rows) - report.rejected)
        if skip:
            assert (tmp_path / f"{path.stem}.rejects.csv").exists()


@SETTINGS
@given(data=st.binary(min_size=1, max_size=400), suffix=st.sampled_from([".csv", ".jsonl", ".tsv"]))
@example(data=b"\x00\x01\x02\xff\xfe", suffix=".csv")
@example(data=b'handle\n"ann', suffix=".csv")
def test_random_bytes(sqlite_store, tmp_path, data, suffix):
    path = tmp_path / f"{uuid.uuid4().hex}{suffix}"
    path.write_bytes(data)
    check_outcome(
        sqlite_store,
        path,
        lambda: import_creators(sqlite_store, "default", path, platform="tiktok"),
        row_error_needs_line=False,
    )


latin = st.text(
    alphabet=st.characters(min_codepoint=0x20, max_codepoint=0xFF, exclude_characters='",\x7f'),
    min_size=1,
    max_size=20,
).filter(lambda s: s.strip() and not any(0x80 <= ord(c) < 0xA0 for c in s))


@SETTINGS
@given(
    names=st.lists(latin, min_size=1, max_size=5),
    encoding=st.sampled_from(["latin-1", "cp1252", "utf-16-le", "utf-16-be", "utf-8"]),
)
def test_odd_encodings_import_correctly(sqlite_store, tmp_path, names, encoding):
    text = "handle,name\n" + "".join(f"h{i},{n}\n" for i, n in enumerate(names))
    path = tmp_path / f"{uuid.uuid4().hex}.csv"
    raw = text.encode(encoding)
    if encoding in ("latin-1", "cp1252") and not text.isascii():
        # Bytes that are also valid UTF-8 (b"\xc2\xa0") are read as UTF-8, by design.
        try:
            raw.decode("utf-8")
            assume(False)
        except UnicodeDecodeError:
            pass
    path.write_bytes(raw)
    workspace = uuid.uuid4().hex[:12]
    report = import_creators(sqlite_store, workspace, path, platform="instagram")
    assert report.created["accounts"] == len(names)
    with sqlite_store.connection() as conn:
        stored = conn.execute(
            sa.select(Account.__table__.c.display_name)
            .where(Account.__table__.c.source == str(path))
            .order_by(Account.__table__.c.handle)
        ).scalars()
        stored = list(stored)
    expected = [None if n.strip().lower() in TEXT_BLANKS else n.strip() for n in names]
    assert sorted(stored, key=str) == sorted(expected, key=str)


json_values = st.recursive(
    st.one_of(
        st.none(),
        st.booleans(),
        st.integers(min_value=-(10**20), max_value=10**20),
        st.floats(allow_nan=False, allow_infinity=False),
        st.text(max_size=10),
    ),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3)
    ),
    max_leaves=6,
)
post_records = st.fixed_dictionaries(
    {"handle": handles, "post_id": st.one_of(st.text(min_size=1, max_size=10), st.integers())},
    optional={
        "likes": json_values,
        "comments": json_values,
        "timestamp": json_values,
        "caption": json_values,
        "is_sponsored": json_values,
        "type": json_values,
        "hashtags": json_values,
    },
)


@SETTINGS
@given(
    records=st.lists(post_records, min_size=1, max_size=6),
    cut=st.one_of(st.none(), st.integers(min_value=1, max_value=400)),
    skip=st.booleans(),
    chunk=st.sampled_from([None, 1, 2]),
)
def test_wrong_types_and_truncated_json_posts(sqlite_store, tmp_path, records, cut, skip, chunk):
    text = "".join(json.dumps(r) + "\n" for r in records)
    if cut is not None:
        assume(cut < len(text) - 1)
        text = text[:cut]
    path = tmp_path / f"{uuid.uuid4().hex}.jsonl"
    path.write_text(text, encoding="utf-8")
    check_outcome(
        sqlite_store,
        path,
        lambda: import_posts(
            sqlite_store, "default", path, platform="instagram", skip_invalid=skip, chunk_rows=chunk
        ),
    )


@pytest.mark.parametrize("kind", ["creators", "posts"])
@settings(
    max_examples=int(os.environ.get("MICROFLUENCE_HOSTILE_PG_EXAMPLES", "15")),
    deadline=None,
    suppress_health_check=list(HealthCheck),
)
@given(
    rows=st.lists(st.tuples(handles, numbers, cells), min_size=1, max_size=4),
)
def test_hostile_rows_on_both_stores(store, tmp_path, kind, rows):
    path = tmp_path / f"{uuid.uuid4().hex}.csv"
    path.write_text(_csv(rows, header=("handle", "followers", "post_id")), encoding="utf-8")

    def run():
        if kind == "creators":
            return import_creators(store, "default", path, platform="youtube")
        return import_posts(store, "default", path, platform="youtube")

    check_outcome(store, path, run)
