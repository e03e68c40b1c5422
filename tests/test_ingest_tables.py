"""`microfluence import creators|posts` end to end, on SQLite and PostgreSQL."""

from __future__ import annotations

import csv
import datetime as dt
import json
import os

import polars as pl
import pytest
import sqlalchemy as sa
from typer.testing import CliRunner

from microfluence.cli.main import app
from microfluence.ingest.tables.creators import import_creators
from microfluence.ingest.tables.posts import import_posts
from microfluence.kernel.errors import InputError
from microfluence.kernel.store import open_store
from microfluence.kernel.store.tables import Account, AccountSnapshot, Creator, ImportRun, Post
from store_support import flat, table_rows

runner = CliRunner()
DATA_TABLES = (Creator, Account, AccountSnapshot, Post)

CREATORS_CSV = (
    "\ufeffUsername,Name,Followers,Following,Posts,ER,Country/Region,E-mail,Profile URL,"
    "avg. likes,Notes\n"
    '@Ann,Ann A,475.8k,"1,234",12,1.39%,DE,ann@x.de,https://instagram.com/ann,"3,3k",hi\n'
    'bob,"Bob, the Builder",3.3k,N/A,,0.02,FR,,,,"multi\nline"\n'
    "carl,Carl,12 345,5,7,2.5,,,,,\n"
)


def counts(store):
    with store.connection() as conn:
        return {
            t.__tablename__: conn.execute(sa.select(sa.func.count()).select_from(t)).scalar()
            for t in DATA_TABLES
        }


def invoke(*args):
    return runner.invoke(app, [str(a) for a in args], catch_exceptions=False)


def test_import_creators_then_reimport_updates(store_url, tmp_path):
    path = tmp_path / "creators.csv"
    path.write_text(CREATORS_CSV, encoding="utf-8")
    result = invoke(
        "import", "creators", path, "--platform", "instagram", "--database-url", store_url
    )
    assert result.exit_code == 0, result.output
    assert "Notes" in flat(result.output)  # the ignored column is reported
    store = open_store(store_url)
    try:
        assert counts(store) == {"creators": 3, "accounts": 3, "account_snapshots": 3, "posts": 0}
        with store.connection() as conn:
            ann = conn.execute(
                sa.select(Account.__table__).where(Account.__table__.c.handle == "ann")
            ).one()
            snaps = dict(
                conn.execute(
                    sa.select(
                        AccountSnapshot.__table__.c.account_id,
                        AccountSnapshot.__table__.c.followers,
                    )
                ).all()
            )
            creator = conn.execute(
                sa.select(Creator.__table__.c.name, Creator.__table__.c.email).where(
                    Creator.__table__.c.id == ann.creator_id
                )
            ).one()
        assert ann.display_name == "Ann A" and ann.country == "DE" and ann.email == "ann@x.de"
        assert ann.reported_engagement_rate == pytest.approx(0.0139)
        assert ann.reported_avg_likes == 3300
        assert tuple(creator) == ("Ann A", "ann@x.de")
        assert sorted(snaps.values()) == [3300, 12345, 475800]
        before = table_rows(store, DATA_TABLES)

        again = invoke(
            "import", "creators", path, "--platform", "instagram", "--database-url", store_url
        )
        assert again.exit_code == 0, again.output
        assert counts(store) == {"creators": 3, "accounts": 3, "account_snapshots": 3, "posts": 0}
        with store.connection() as conn:
            run = conn.execute(
                sa.select(ImportRun.__table__).order_by(ImportRun.__table__.c.id.desc())
            ).first()
        assert run.status == "succeeded" and run.created == 0 and run.updated == 6
        after = table_rows(store, DATA_TABLES)
        # Same ids, same values: only provenance (import id and time) moved on.
        assert [r[0] for r in after["accounts"]] == [r[0] for r in before["accounts"]]

        # A later capture time adds a point to each account's history.
        later = invoke(
            "import",
            "creators",
            path,
            "--platform",
            "instagram",
            "--captured-at",
            "2030-01-01T00:00:00",
            "--database-url",
            store_url,
        )
        assert later.exit_code == 0, later.output
        assert counts(store)["account_snapshots"] == 6
    finally:
        store.dispose()


def test_bad_row_aborts_and_leaves_store_unchanged(store_url, tmp_path):
    good = tmp_path / "good.csv"
    good.write_text("handle,followers\nann,5\n", encoding="utf-8")
    assert (
        invoke("import", "creators", good, "-p", "tiktok", "--database-url", store_url).exit_code
        == 0
    )
    store = open_store(store_url)
    try:
        before = table_rows(store, DATA_TABLES)
        bad = tmp_path / "bad.csv"
        bad.write_text("handle,followers\nann,7\nbob,-3\ncarl,9\n", encoding="utf-8")
        result = invoke("import", "creators", bad, "-p", "tiktok", "--database-url", store_url)
        assert result.exit_code == 1
        assert "bad.csv, line 3, field 'followers': negative count" in flat(result.output)
        assert table_rows(store, DATA_TABLES) == before
        assert not (tmp_path / "bad.rejects.csv").exists()
        with store.connection() as conn:
            statuses = conn.execute(sa.select(ImportRun.__table__.c.status)).scalars().all()
        assert statuses == ["succeeded", "failed"]
    finally:
        store.dispose()


def test_skip_invalid_writes_rejects(store_url, tmp_path):
    path = tmp_path / "mixed.csv"
    path.write_text(
        "handle,followers,email,platform\n"
        "ann,5,ann@x.de,instagram\n"
        "bob,lots,bob@x,instagram\n"
        ",5,,instagram\n"
        "dan,2k,,myspace\n"
        "eve,1.5M,,yt\n",
        encoding="utf-8",
    )
    result = invoke("import", "creators", path, "--skip-invalid", "--database-url", store_url)
    assert result.exit_code == 0, result.output
    assert "rows rejected" in flat(result.output) and "line 3" in flat(result.output)
    rejects = list(csv.DictReader((tmp_path / "mixed.rejects.csv").open(encoding="utf-8")))
    assert [(r["line"], r["field"]) for r in rejects] == [
        ("3", "followers"),
        ("4", "handle"),
        ("5", "platform"),
    ]
    assert "not a number" in rejects[0]["reason"] and "not an e-mail" in rejects[0]["reason"]
    assert rejects[0]["value"] == "lots" and rejects[0]["row"] == "bob,lots,bob@x,instagram"
    store = open_store(store_url)
    try:
        with store.connection() as conn:
            rows = conn.execute(
                sa.select(Account.__table__.c.platform, Account.__table__.c.handle).order_by(
                    Account.__table__.c.handle
                )
            ).all()
        assert [tuple(r) for r in rows] == [("instagram", "ann"), ("youtube", "eve")]
    finally:
        store.dispose()


def test_every_format_imports_the_same(store_url, tmp_path):
    frame = pl.DataFrame(
        {
            "username": ["ann", "bob"],
            "followers": [1200, 3400],
            "engagement_rate": [0.02, 0.035],
            "captured_at": ["2024-05-01T00:00:00Z", "2024-05-01T00:00:00Z"],
        }
    )
    frame.write_csv(tmp_path / "c.csv")
    frame.write_csv(tmp_path / "c.tsv", separator="\t")
    frame.write_ndjson(tmp_path / "c.jsonl")
    frame.write_parquet(tmp_path / "c.parquet")
    store = open_store(store_url)
    try:
        for i, name in enumerate(["c.csv", "c.tsv", "c.jsonl", "c.parquet"]):
            report = import_creators(store, f"w{i}", tmp_path / name, platform="youtube")
            assert report.created == {"creators": 2, "accounts": 2, "snapshots": 2}, name
        with store.connection() as conn:
            rows = conn.execute(
                sa.select(
                    AccountSnapshot.__table__.c.workspace_id,
                    AccountSnapshot.__table__.c.followers,
                    AccountSnapshot.__table__.c.captured_at,
                )
            ).all()
        assert len(rows) == 8
        assert {r.followers for r in rows} == {1200, 3400}
        assert {r.captured_at for r in rows} == {dt.datetime(2024, 5, 1)}
    finally:
        store.dispose()


def test_captured_at_defaults_to_file_time(sqlite_store, tmp_path):
    path = tmp_path / "c.csv"
    path.write_text("handle,followers\nann,5\n", encoding="utf-8")
    stamp = dt.datetime(2023, 3, 4, 5, 6, 7, tzinfo=dt.UTC).timestamp()
    os.utime(path, (stamp, stamp))
    import_creators(sqlite_store, "default", path, platform="instagram")
    with sqlite_store.connection() as conn:
        when = conn.execute(sa.select(AccountSnapshot.__table__.c.captured_at)).scalar_one()
    assert when == dt.datetime(2023, 3, 4, 5, 6, 7)


def test_missing_handle_column_and_unknown_platform(sqlite_store, tmp_path):
    path = tmp_path / "c.csv"
    path.write_text("Followers,Bio\n5,hi\n", encoding="utf-8")
    with pytest.raises(InputError, match="no handle column"):
        import_creators(sqlite_store, "default", path, platform="instagram")
    path.write_text("handle\nann\n", encoding="utf-8")
    with pytest.raises(InputError, match="unknown platform 'myspace'"):
        import_creators(sqlite_store, "default", path, platform="myspace")
    with pytest.raises(InputError, match="no platform"):
        import_creators(sqlite_store, "default", path, platform=None)
    mapped = tmp_path / "m.csv"
    mapped.write_text("Kanal,Fans gesamt\nann,1.234.567\n", encoding="utf-8")
    report = import_creators(
        sqlite_store,
        "default",
        mapped,
        platform="x",
        mapping=["handle=Kanal", "followers=Fans gesamt"],
    )
    assert report.created["snapshots"] == 1


POSTS = [
    {
        "ownerUsername": "Ann",
        "shortcode": "C1",
        "timestamp": "2024-05-01T12:00:00+02:00",
        "caption": "Summer #Café #ad with @bob_1. write to me@x.com",
        "likesCount": "1.2k",
        "commentsCount": 5,
        "type": "Sidecar",
        "isSponsored": True,
    },
    {
        "ownerUsername": "ann",
        "shortcode": "C2",
        "timestamp": 1714564800,
        "caption": None,
        "likesCount": 7,
        "hashtags": ["given"],
        "type": "Video",
    },
    {"ownerUsername": "zed", "shortcode": "C3", "videoPlayCount": "3,5k", "type": "clips"},
]


def test_import_posts_jsonl_and_reimport(store_url, tmp_path):
    path = tmp_path / "posts.jsonl"
    path.write_text("\n".join(json.dumps(p) for p in POSTS) + "\n", encoding="utf-8")
    result = invoke("import", "posts", path, "--platform", "instagram", "--database-url", store_url)
    assert result.exit_code == 0, result.output
    store = open_store(store_url)
    try:
        assert counts(store) == {"creators": 2, "accounts": 2, "account_snapshots": 0, "posts": 3}
        with store.connection() as conn:
            rows = {r.platform_post_id: r for r in conn.execute(sa.select(Post.__table__)).all()}
        c1 = rows["C1"]
        assert c1.posted_at == dt.datetime(2024, 5, 1, 10, 0)
        assert c1.likes == 1200 and c1.comments == 5 and c1.post_type == "carousel"
        assert c1.is_sponsored is True and c1.sponsor_evidence == "source"
        hashtags = c1.hashtags if isinstance(c1.hashtags, list) else json.loads(c1.hashtags)
        mentions = c1.mentions if isinstance(c1.mentions, list) else json.loads(c1.mentions)
        assert hashtags == ["café", "ad"] and mentions == ["bob_1"]
        c2 = rows["C2"]
        assert c2.posted_at == dt.datetime(2024, 5, 1, 12, 0) and c2.post_type == "video"
        given = c2.hashtags if isinstance(c2.hashtags, list) else json.loads(c2.hashtags)
        assert given == ["given"]
        assert rows["C3"].views == 3500 and rows["C3"].post_type == "reel"
        before = table_rows(store, DATA_TABLES)
        again = invoke("import", "posts", path, "-p", "instagram", "--database-url", store_url)
        assert again.exit_code == 0
        assert counts(store)["posts"] == 3
        assert [r[0] for r in table_rows(store, DATA_TABLES)["posts"]] == [
            r[0] for r in before["posts"]
        ]
    finally:
        store.dispose()


def test_posts_every_format_and_errors(sqlite_store, tmp_path):
    frame = pl.DataFrame(
        {
            "platform": ["tiktok", "tiktok"],
            "author": ["carl", "carl"],
            "video_id": ["7001", "7002"],
            "create_time": ["2024-05-01 12:00:00", "2024-05-02 12:00:00"],
            "desc": ["#fyp", "#fyp #ad"],
            "play_count": ["1.1M", "900"],
        }
    )
    frame.write_csv(tmp_path / "p.csv")
    frame.write_csv(tmp_path / "p.tsv", separator="\t")
    frame.write_parquet(tmp_path / "p.parquet")
    frame.write_ndjson(tmp_path / "p.jsonl")
    for i, name in enumerate(["p.csv", "p.tsv", "p.parquet", "p.jsonl"]):
        report = import_posts(sqlite_store, f"w{i}", tmp_path / name)
        assert report.created["posts"] == 2, name
    bad = tmp_path / "bad.csv"
    bad.write_text("handle,post_id,likes\nann,1,5\nann,,6\n", encoding="utf-8")
    with pytest.raises(InputError) as info:
        import_posts(sqlite_store, "w0", bad, platform="instagram")
    assert (info.value.line, info.value.field) == (3, "post_id")
    bad.write_text("handle,likes\nann,5\n", encoding="utf-8")
    with pytest.raises(InputError, match="no post_id column"):
        import_posts(sqlite_store, "w0", bad, platform="instagram")


def test_posts_alt_texts_are_read_under_their_common_names(sqlite_store, tmp_path):
    path = tmp_path / "alts.csv"
    path.write_text(
        "handle,post_id,accessibility_caption\n"
        'ann,1,"Image may contain: dog, grass"\n'
        "ann,2,\n"
        "ann,3,N/A\n",
        encoding="utf-8",
    )
    import_posts(sqlite_store, "w", path, platform="instagram")
    with sqlite_store.connection() as conn:
        alts = dict(conn.execute(sa.select(Post.platform_post_id, Post.alt_text)).all())
    # Free text: "N/A" may be what the image says, so it is kept as written.
    assert alts == {"1": "Image may contain: dog, grass", "2": None, "3": "N/A"}
    path.write_text("handle,post_id,alt_text\nann,4," + "x" * 5001 + "\n", encoding="utf-8")
    with pytest.raises(InputError) as info:
        import_posts(sqlite_store, "w", path, platform="instagram")
    assert (info.value.line, info.value.field) == (2, "alt_text")


def test_error_in_a_later_chunk_rolls_back_earlier_chunks(store, tmp_path):
    path = tmp_path / "long.csv"
    rows = [f"h{i},{i}" for i in range(9)] + ["bad,12.5"]
    path.write_text("handle,followers\n" + "\n".join(rows) + "\n", encoding="utf-8")
    with pytest.raises(InputError) as info:
        import_creators(store, "default", path, platform="instagram", chunk_rows=2)
    assert (info.value.line, info.value.field) == (11, "followers")
    assert counts(store) == {"creators": 0, "accounts": 0, "account_snapshots": 0, "posts": 0}
    header_only = tmp_path / "header.csv"
    header_only.write_text("Followers,Bio\n", encoding="utf-8")
    with pytest.raises(InputError, match="no handle column"):
        import_creators(store, "default", header_only, platform="instagram")
    header_only.write_text("handle,Bio\n", encoding="utf-8")
    report = import_creators(store, "default", header_only, platform="instagram")
    assert report.rows_read == 0 and report.created == {}


def test_scraper_shapes_tag_objects_and_hidden_likes(store, tmp_path):
    """TikTok scrapers give hashtags as objects; Instagram's -1 means the likes are hidden."""
    path = tmp_path / "scraped.jsonl"
    rows = [
        {
            "id": "1",
            "text": "Morning #Fitness",
            "createTime": 1700000000,
            "authorMeta": {"name": "FitJane"},
            "diggCount": 1500,
            "playCount": 25000,
            "commentCount": 45,
            "hashtags": [{"name": "Fitness", "id": "9"}, {"name": "gym", "id": "8"}],
        },
        {
            "id": "2",
            "text": "hidden",
            "createTime": 1700100000,
            "authorMeta": {"name": "fitjane"},
            "diggCount": -1,
            "playCount": 100,
            "commentCount": 2,
            "hashtags": [],
        },
    ]
    path.write_text("\n".join(json.dumps(r) for r in rows) + "\n")
    import_posts(store, "w", path, platform="tiktok")
    with store.session() as session:
        posts = {p.platform_post_id: p for p in session.scalars(sa.select(Post))}
    assert posts["1"].hashtags == ["fitness", "gym"] and posts["1"].likes == 1500
    assert posts["2"].likes is None and posts["2"].views == 100
    bad = tmp_path / "bad.jsonl"
    bad.write_text(json.dumps({**rows[1], "id": "3", "diggCount": -2}) + "\n")
    with pytest.raises(InputError, match="negative count"):
        import_posts(store, "w", bad, platform="tiktok")


# -- a real-world "top influencers" sheet: unknown markers are unknown (issue 11, part 4) ------
TOP_INFLUENCERS = os.path.join(os.path.dirname(__file__), "data", "top_influencers.csv")


def test_top_influencers_sheet_imports_every_row(store):
    report = import_creators(store, "w", TOP_INFLUENCERS, platform="instagram")
    assert report.rows_read == 40 and report.rejected_count == 0
    table = Account.__table__
    with store.connection() as conn:
        rows = {
            r.handle: r
            for r in conn.execute(
                sa.select(
                    table.c.handle,
                    table.c.reported_engagement_rate,
                    table.c.reported_avg_likes,
                    table.c.followers,
                    table.c.posts_count,
                    table.c.country,
                )
            )
        }
    assert len(rows) == 40
    assert rows["cristiano"].reported_engagement_rate == pytest.approx(0.0139)
    assert rows["cristiano"].followers == 475_800_000
    assert rows["davidbeckham"].followers == 1_200_000
    assert rows["davidbeckham"].posts_count == 1234
    assert rows["davidbeckham"].reported_engagement_rate == pytest.approx(0.045)
    # NaN%, #DIV/0!, - %, N/A%, #NUM!, NaN %, –, #NULL!, nan: unknown, the rest of the row kept
    blank_rates = ("leomessi", "therock", "kimkardashian", "natgeo", "mileycyrus", "ddlovato")
    blank_rates += ("realmadrid", "billieeilish", "dualipa")
    for handle in blank_rates:
        assert rows[handle].reported_engagement_rate is None, handle
    assert rows["leomessi"].followers == 310_100_000
    assert rows["therock"].reported_avg_likes is None and rows["therock"].followers is not None
    assert rows["kimkardashian"].followers is None  # "-"
    assert rows["khloekardashian"].posts_count is None  # "N/A"
    assert rows["jlo"].country is None  # "#N/A" is no country
    assert {h for h, r in rows.items() if r.reported_engagement_rate is None} == set(blank_rates)


def test_top_influencers_garbage_still_names_line_and_field(sqlite_store, tmp_path):
    lines = open(TOP_INFLUENCERS, encoding="utf-8").read().splitlines()
    lines[4] = lines[4].replace("2.3m", "12abc", 1)  # selenagomez's avg_likes, line 5
    bad = tmp_path / "top.csv"
    bad.write_text("\n".join(lines) + "\n", encoding="utf-8")
    with pytest.raises(InputError) as caught:
        import_creators(sqlite_store, "w", bad, platform="instagram")
    assert (caught.value.line, caught.value.field) == (5, "avg_likes")
    assert "not a number ('12abc')" in str(caught.value)


def test_a_refusal_says_how_to_import_the_valid_rows(store_url, tmp_path):
    bad = tmp_path / "bad.csv"
    bad.write_text("handle,followers\nann,7\nbob,-3\ncarl,x\ndan,1.2.3\n", encoding="utf-8")
    result = invoke("import", "creators", bad, "-p", "tiktok", "--database-url", store_url)
    assert result.exit_code == 1
    output = flat(result.output)
    assert "line 3, field 'followers': negative count ('-3'); 2 more invalid rows" in output
    assert "--skip-invalid (command line)" in output
    assert "skip_invalid=true (API, library)" in output
    assert '"Import the valid rows and list the others" ticked (import page)' in output
    # and the advice works: the valid row is imported, the others listed
    result = invoke(
        "import", "creators", bad, "-p", "tiktok", "--skip-invalid", "--database-url", store_url
    )
    assert result.exit_code == 0, result.output
    with open(tmp_path / "bad.rejects.csv", encoding="utf-8") as handle:
        assert [r["line"] for r in csv.DictReader(handle)] == ["3", "4", "5"]
