"""`import followers`: a sample of an account's followers, with their own numbers."""

from __future__ import annotations

import csv
import datetime as dt
import json
import os
from pathlib import Path

import polars as pl
import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from microfluence.catalog.validation import parse_account_reference as parse_account
from microfluence.cli.main import app
from microfluence.ingest.followers import import_followers
from microfluence.ingest.instagram.importer import import_instagram
from microfluence.kernel.errors import InputError
from microfluence.kernel.store import open_store
from microfluence.kernel.store.tables import Account, Creator, Follower
from store_support import flat, table_rows

SAMPLED = dt.datetime(2024, 5, 6, 7, 8, 9)


def write(path: Path, text: str, *, encoding: str = "utf-8", mtime: dt.datetime = SAMPLED) -> Path:
    path.write_bytes(text.encode(encoding))
    ts = mtime.replace(tzinfo=dt.UTC).timestamp()
    os.utime(path, (ts, ts))
    return path


def followers(store) -> dict[str, Follower]:
    with store.session() as session:
        return {f.username: f for f in session.scalars(sa.select(Follower))}


CSV = (
    "\ufeffUsername,Full Name,Biography,#Posts,Followers,Following,Profile Pic,Private,"
    "Verified,Website,Notes\n"
    '@Ann_B,"Ann, B.","Vintage 🌿\nParis",12,"1,234",3.3k,yes,N,FALSE,https://ann.example,x\n'
    "bob.bot,,,0,N/A,7 500,0,1,no,0,\n"
    "Cara,Cara C,,1.2K,12 345,12,TRUE,no,Y,,ignored\n"
)


def test_csv_maps_every_field(store, tmp_path):
    path = write(tmp_path / "sample.csv", CSV)
    report = import_followers(store, "brand", path, account="instagram:@Lea.Vintage")
    assert report.rows_read == 3 and report.rejected == 0
    assert report.created == {"creators": 1, "accounts": 1, "followers": 3}
    account = next(iter(_accounts(store)))
    assert (account.platform, account.handle) == ("instagram", "lea.vintage")

    rows = followers(store)
    assert set(rows) == {"ann_b", "bob.bot", "cara"}
    ann, bob, cara = rows["ann_b"], rows["bob.bot"], rows["cara"]
    assert ann.account_id == account.id
    assert (ann.full_name, ann.biography) == ("Ann, B.", "Vintage 🌿\nParis")
    assert (ann.posts_count, ann.followers, ann.following) == (12, 1234, 3300)
    assert (ann.has_profile_pic, ann.is_private, ann.is_verified) == (True, False, False)
    assert ann.external_url == "https://ann.example"
    assert ann.sampled_at == SAMPLED
    assert ann.source == f"followers:{path}"
    assert (bob.full_name, bob.biography, bob.followers, bob.following) == (None, None, None, 7500)
    assert (bob.has_profile_pic, bob.is_private, bob.is_verified) == (False, True, False)
    assert bob.external_url is None  # "0": the data set says there is no link
    assert (cara.posts_count, cara.followers, cara.is_verified) == (1200, 12345, True)
    assert cara.external_url is None


def _accounts(store):
    with store.session() as session:
        return session.scalars(sa.select(Account)).all()


def test_tsv_jsonl_and_utf16(sqlite_store, tmp_path):
    write(tmp_path / "a.tsv", "user_name\tfollower_count\tis_private\nann\t10\ttrue\n")
    write(
        tmp_path / "b.jsonl",
        json.dumps({"username": "bob", "followers": 20, "is_private": False, "extra": [1]})
        + "\n"
        + json.dumps({"username": "cara", "followers": "2.5k"})
        + "\n",
    )
    write(tmp_path / "c.csv", "username,followers\ndan,40\n", encoding="utf-16")
    pl.DataFrame({"Username": ["eve"], "Followers": [50], "Private": [True]}).write_parquet(
        tmp_path / "d.parquet"
    )
    for name in ("a.tsv", "b.jsonl", "c.csv", "d.parquet"):
        import_followers(sqlite_store, "default", tmp_path / name, account="instagram:brand")
    rows = followers(sqlite_store)
    assert {k: (v.followers, v.is_private) for k, v in rows.items()} == {
        "ann": (10, True),
        "bob": (20, False),
        "cara": (2500, None),
        "dan": (40, None),
        "eve": (50, True),
    }


def test_profile_pic_url_tells_whether_there_is_a_picture(sqlite_store, tmp_path):
    default = "https://scontent.cdninstagram.com/v/t51.2885-19/44884218_345707102882519_2446069589734326272_n.jpg"
    write(
        tmp_path / "f.csv",
        f"username,profile_pic_url\nann,https://x/real.jpg\nbob,{default}\ncara,\n",
    )
    import_followers(sqlite_store, "default", tmp_path / "f.csv", account="instagram:brand")
    rows = followers(sqlite_store)
    assert [rows[u].has_profile_pic for u in ("ann", "bob", "cara")] == [True, False, None]
    # The address is kept for the labelling page; only http(s) addresses are.
    assert [rows[u].profile_pic_url for u in ("ann", "bob", "cara")] == [
        "https://x/real.jpg",
        default,
        None,
    ]
    write(
        tmp_path / "g.csv",
        "username,has_profile_pic,avatar\ndan,yes,javascript:alert(1)\neve,no,1\n"
        "fay,yes, https://x/fay.jpg \n",
    )
    import_followers(sqlite_store, "default", tmp_path / "g.csv", account="instagram:brand")
    rows = followers(sqlite_store)
    assert [rows[u].profile_pic_url for u in ("dan", "eve", "fay")] == [
        None,
        None,
        "https://x/fay.jpg",
    ]
    assert [rows[u].has_profile_pic for u in ("dan", "eve", "fay")] == [True, False, True]


def test_existing_account_is_reused_and_reimport_updates(store, tmp_path):
    post = {"shortcode": "BcmiW", "owner": {"username": "lea.vintage", "full_name": "Léa"}}
    (tmp_path / "p.json").write_text(json.dumps(post))
    import_instagram(store, "default", [tmp_path / "p.json"])
    path = write(tmp_path / "f.csv", "username,followers\nann,10\nbob,20\n")
    import_followers(store, "default", path, account="instagram:Lea.Vintage")
    assert len(_accounts(store)) == 1
    before = table_rows(store, (Creator, Account, Follower), provenance=False)

    write(path, "username,followers,is_verified\nann,11,yes\nbob,,\n")
    report = import_followers(
        store, "default", path, account="instagram:lea.vintage", sampled_at=dt.datetime(2025, 1, 1)
    )
    assert report.created == {} and report.updated == {"followers": 2}
    after = table_rows(store, (Creator, Account, Follower), provenance=False)
    assert {k: len(v) for k, v in after.items()} == {k: len(v) for k, v in before.items()}
    rows = followers(store)
    assert (rows["ann"].followers, rows["ann"].is_verified) == (11, True)
    assert rows["bob"].followers == 20  # a blank cell never erases what is known
    assert rows["ann"].sampled_at == dt.datetime(2025, 1, 1)


def test_sampled_at_with_zone_is_stored_in_utc(sqlite_store, tmp_path):
    path = write(tmp_path / "f.csv", "username\nann\n")
    zone = dt.timezone(dt.timedelta(hours=2))
    import_followers(
        sqlite_store,
        "default",
        path,
        account="instagram:brand",
        sampled_at=dt.datetime(2024, 1, 1, 12, 0, tzinfo=zone),
    )
    assert followers(sqlite_store)["ann"].sampled_at == dt.datetime(2024, 1, 1, 10, 0)


@pytest.mark.parametrize(
    "account", ["brand", "instagram:", ":brand", "myspace:brand", "instagram:two words"]
)
def test_account_must_be_platform_and_handle(account):
    assert parse_account(" Instagram:@Lea.Vintage ") == ("instagram", "lea.vintage")
    with pytest.raises(InputError, match="PLATFORM:HANDLE|unknown platform"):
        parse_account(account)


@pytest.mark.parametrize(
    ("text", "line", "field", "reason"),
    [
        ("username,followers\nann,10\n,20\n", 3, "username", "missing username"),
        ("handle,followers\nann,-3\n", 2, "followers", "negative count"),
        ("username,following\nann,lots\n", 2, "following", "not a number"),
        ("username,posts\nann,1.5\n", 2, "posts", "not a whole number"),
        ("username,followers\nann,9e99\n", 2, "followers", "absurdly large"),
        ("username,is_private\nann,maybe\n", 2, "is_private", "not a yes/no value"),
        ('username,followers\nann,1\n"bob,2\n', 3, None, "unterminated quoted field"),
        ("followers,following\n1,2\n", None, "username", "no username column"),
        ("username,followers\ntwo words,1\n", 2, "username", "not a username"),
    ],
)
def test_bad_rows_name_line_and_field_and_change_nothing(
    store, tmp_path, text, line, field, reason
):
    import_followers(
        store, "default", write(tmp_path / "ok.csv", "username\nzoe\n"), account="instagram:brand"
    )
    before = table_rows(store, (Creator, Account, Follower), provenance=False)
    path = write(tmp_path / "bad.csv", text)
    with pytest.raises(InputError, match=reason) as info:
        import_followers(store, "default", path, account="instagram:brand")
    assert info.value.file == str(path)
    if line is not None:
        assert info.value.line == line
    if field is not None:
        assert info.value.field == field
    assert table_rows(store, (Creator, Account, Follower), provenance=False) == before


@pytest.mark.parametrize(
    "raw",
    [b"", bytes(range(256)) * 4, b"username,followers\n\xff\xfe\x00\x01garbage\x00\n"],
    ids=["empty", "random bytes", "binary row"],
)
def test_unreadable_files_fail_cleanly(sqlite_store, tmp_path, raw):
    path = tmp_path / "f.csv"
    path.write_bytes(raw)
    with pytest.raises(InputError) as info:
        import_followers(sqlite_store, "default", path, account="instagram:brand")
    assert info.value.file == str(path)
    assert followers(sqlite_store) == {}


def test_skip_invalid_writes_rejects_with_reasons(store, tmp_path):
    path = write(
        tmp_path / "f.csv",
        "username,followers,is_verified\nann,10,yes\n,5,no\nbob,-1,no\ncara,7,perhaps\ndan,1k,\n",
    )
    rejects = tmp_path / "rejects.csv"
    report = import_followers(
        store, "default", path, account="instagram:brand", skip_invalid=True, rejects_path=rejects
    )
    assert report.rows_read == 5 and report.rejected == 3
    assert set(followers(store)) == {"ann", "dan"}
    rows = list(csv.DictReader(rejects.open(encoding="utf-8")))
    assert [(r["line"], r["field"], r["reason"], r["row"]) for r in rows] == [
        ("3", "username", "missing username", ",5,no"),
        ("4", "followers", "negative count", "bob,-1,no"),
        ("5", "is_verified", "not a yes/no value", "cara,7,perhaps"),
    ]


CELLS = st.one_of(
    st.text(max_size=12),
    st.sampled_from(["1,234", "3.3k", "-1", "1e30", "N/A", "yes", "0", "TRUE", "12 345", "1.5"]),
    st.integers(-(10**15), 10**15).map(str),
)


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(rows=st.lists(st.tuples(CELLS, CELLS, CELLS, CELLS), min_size=1, max_size=6))
def test_any_cells_import_or_fail_cleanly(store, tmp_path, rows):
    path = tmp_path / "fuzz.csv"
    with path.open("w", newline="", encoding="utf-8") as handle:
        out = csv.writer(handle)
        out.writerow(["username", "followers", "is_private", "posts"])
        out.writerows(rows)
    before = table_rows(store, (Creator, Account, Follower), provenance=False)
    try:
        report = import_followers(store, "fuzz", path, account="instagram:brand")
    except InputError as exc:
        assert exc.file == str(path)
        assert exc.line is None or exc.line >= 2
        assert table_rows(store, (Creator, Account, Follower), provenance=False) == before
    else:
        assert report.rows_read == len(rows)
        stored = followers(store)
        for follower in stored.values():
            assert follower.followers is None or 0 <= follower.followers <= 10**12
            assert follower.posts_count is None or follower.posts_count >= 0


def test_cli_end_to_end(store_url, tmp_path):
    path = write(tmp_path / "sample.csv", CSV)
    runner = CliRunner()
    result = runner.invoke(
        app,
        [
            "import",
            "followers",
            str(path),
            "--account",
            "instagram:lea.vintage",
            "-w",
            "acme",
            "--sampled-at",
            "2024-02-03T04:05:06",
            "--database-url",
            store_url,
        ],
    )
    assert result.exit_code == 0, result.output
    assert "created 1 creators, 1 accounts, 3 followers" in flat(result.output)
    store = open_store(store_url)
    try:
        assert followers(store)["ann_b"].sampled_at == dt.datetime(2024, 2, 3, 4, 5, 6)
    finally:
        store.dispose()

    bad = write(tmp_path / "bad.csv", "username,followers\nann,1\nbob,minus one\n")
    result = runner.invoke(
        app,
        [
            "import",
            "followers",
            str(bad),
            "--account",
            "instagram:lea.vintage",
            "-w",
            "acme",
            "--database-url",
            store_url,
        ],
    )
    assert result.exit_code == 1
    assert "bad.csv, line 3, field 'followers': not a number" in flat(result.output)

    result = runner.invoke(
        app,
        ["import", "followers", str(bad), "--account", "brand", "--database-url", store_url],
    )
    assert result.exit_code == 1 and "PLATFORM:HANDLE" in flat(result.output)


def test_unknown_markers_with_units_are_unknown(store, tmp_path):
    """A follower sample exported from a spreadsheet: #N/A, NaN%, '-' … are unknown, not errors."""
    text = (
        "username,posts,followers,following,private\n"
        "ann,#N/A,N/A K,- ,#VALUE!\n"
        "bob,NaN%,#DIV/0!,12,n/a\n"
        "cara,3,1.2k,—,no\n"
    )
    path = write(tmp_path / "sample.csv", text)
    report = import_followers(store, "brand", path, account="instagram:lea")
    assert report.rows_read == 3 and report.rejected == 0
    rows = followers(store)
    assert (rows["ann"].posts_count, rows["ann"].followers, rows["ann"].following) == (None,) * 3
    assert rows["ann"].is_private is None
    assert (rows["bob"].posts_count, rows["bob"].followers, rows["bob"].following) == (
        None,
        None,
        12,
    )
    assert (rows["cara"].followers, rows["cara"].following) == (1200, None)


def test_a_refused_sample_says_how_to_import_the_valid_rows(sqlite_store, tmp_path):
    path = write(tmp_path / "sample.csv", "username,followers\nann,12abc\nbob,5\ncara,-1\n")
    with pytest.raises(InputError) as caught:
        import_followers(sqlite_store, "brand", path, account="instagram:lea")
    message = str(caught.value)
    assert (caught.value.line, caught.value.field) == (2, "followers")
    assert "not a number ('12abc'); 1 more invalid row seen so far" in message
    assert "--skip-invalid (command line), skip_invalid=true (API, library)" in message
