"""Accounts that rename themselves are recognised by the platform's id (issue 11, part 4).

Every test runs on SQLite and PostgreSQL: the writer's id lookups, the two-step renames and
the search by an old handle are SQL of their own on each.
"""

from __future__ import annotations

import datetime as dt
import json
import os
from pathlib import Path

import polars as pl
import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from microfluence.catalog.accounts import find_account_by_reference, get_account
from microfluence.ingest.instagram.importer import import_instagram
from microfluence.ingest.report import ImportReport
from microfluence.ingest.tables.creators import import_creators
from microfluence.ingest.tables.posts import import_posts
from microfluence.ingest.write.writer import import_run
from microfluence.kernel.errors import InputError, NotFoundError
from microfluence.kernel.store.tables import Account, AccountSnapshot, Post, Workspace
from store_support import table_rows

T0 = dt.datetime(2024, 5, 1, 12, 0, 0)
DATA = (Account, AccountSnapshot, Post)


def _write(store, workspace: str, accounts: pl.DataFrame, posts=None, snapshots=None):
    report = ImportReport(kind="test", source="mem", workspace=workspace)
    with import_run(store, workspace, "test", "mem", report) as writer:
        writer.accounts(accounts)
        if posts is not None:
            writer.posts(posts)
        if snapshots is not None:
            writer.snapshots(snapshots)
    return report


def _accounts(store, workspace: str = "w") -> dict[str, Account]:
    with store.session() as session:
        ws = session.scalar(sa.select(Workspace.id).where(Workspace.name == workspace))
        return {
            a.handle: a
            for a in session.scalars(sa.select(Account).where(Account.workspace_id == ws))
        }


def _frame(handles, ids, platform="instagram", **extra):
    return pl.DataFrame(
        {"platform": [platform] * len(handles), "handle": handles, "external_id": ids, **extra},
        schema_overrides={"external_id": pl.String},
    )


def _posts(handle: str, *post_ids: str) -> pl.DataFrame:
    return pl.DataFrame(
        {
            "platform": ["instagram"] * len(post_ids),
            "handle": [handle] * len(post_ids),
            "platform_post_id": list(post_ids),
            "likes": [10] * len(post_ids),
        }
    )


def _snapshot(handle: str, at: dt.datetime, followers: int) -> pl.DataFrame:
    return pl.DataFrame(
        {
            "platform": ["instagram"],
            "handle": [handle],
            "captured_at": [at],
            "followers": [followers],
        }
    )


def _workspace_id(store, name: str) -> int:
    with store.session() as session:
        return session.scalar(sa.select(Workspace.id).where(Workspace.name == name))


def test_a_renamed_account_keeps_its_history(store):
    _write(
        store,
        "w",
        _frame(["lea.vintage", "bob"], ["111", None]),
        posts=_posts("lea.vintage", "p1", "p2"),
        snapshots=_snapshot("lea.vintage", T0, 1000),
    )
    before = _accounts(store)
    report = _write(
        store,
        "w",
        _frame(["Lea.Paris"], [" 111 "]),
        posts=_posts("lea.paris", "p3"),
        snapshots=_snapshot("lea.paris", T0 + dt.timedelta(days=7), 1100),
    )
    after = _accounts(store)
    assert set(after) == {"lea.paris", "bob"}  # no second account
    lea = after["lea.paris"]
    assert lea.id == before["lea.vintage"].id and lea.creator_id == before["lea.vintage"].creator_id
    assert lea.previous_handles == ["lea.vintage"] and lea.external_id == "111"
    assert report.renamed == [{"platform": "instagram", "from": "lea.vintage", "to": "lea.paris"}]
    assert report.created == {"posts": 1, "snapshots": 1}
    with store.session() as session:
        posts = session.scalars(sa.select(Post.platform_post_id).where(Post.account_id == lea.id))
        assert sorted(posts) == ["p1", "p2", "p3"]
        followers = session.scalars(
            sa.select(AccountSnapshot.followers)
            .where(AccountSnapshot.account_id == lea.id)
            .order_by(AccountSnapshot.captured_at)
        )
        assert list(followers) == [1000, 1100]
        # the latest numbers follow the account
        assert get_account(session, lea.workspace_id, lea.id).followers == 1100
        # a search by the old handle still finds it; by the new one too
        ws = lea.workspace_id
        assert find_account_by_reference(session, ws, "instagram:lea.vintage").id == lea.id
        assert find_account_by_reference(session, ws, "instagram:@Lea.Paris").id == lea.id
        assert get_account(session, ws, lea.id).previous_handles == ["lea.vintage"]
        with pytest.raises(NotFoundError):
            find_account_by_reference(session, ws, "instagram:lea")  # no prefix match


def test_renamed_twice_and_back_keeps_every_old_handle_once(store):
    _write(store, "w", _frame(["a1"], ["7"]))
    _write(store, "w", _frame(["a2"], ["7"]))
    _write(store, "w", _frame(["a3"], ["7"]))
    assert _accounts(store)["a3"].previous_handles == ["a1", "a2"]
    _write(store, "w", _frame(["a1"], ["7"]))  # back to the first handle
    accounts = _accounts(store)
    assert list(accounts) == ["a1"] and accounts["a1"].previous_handles == ["a2", "a3"]
    with store.session() as session:
        ws = accounts["a1"].workspace_id
        assert find_account_by_reference(session, ws, "instagram:a2").id == accounts["a1"].id


def test_old_and_new_handle_in_one_import(store):
    """Old post files and a fresh profile in one import: the last handle read is the current
    one, rows under the old handle land on the same account."""
    report = _write(
        store,
        "w",
        _frame(["old.name", "new.name"], ["55", "55"]),
        posts=pl.concat([_posts("old.name", "p1"), _posts("new.name", "p2")]),
        snapshots=_snapshot("old.name", T0, 10),
    )
    accounts = _accounts(store)
    assert list(accounts) == ["new.name"]
    assert accounts["new.name"].previous_handles == ["old.name"]
    assert report.created["accounts"] == 1 and report.created["posts"] == 2
    with store.session() as session:
        owner = set(session.scalars(sa.select(Post.account_id)))
        assert owner == {accounts["new.name"].id}


def test_rows_without_id_follow_a_rename_of_the_same_import(store):
    _write(store, "w", _frame(["old"], ["5"]))
    # the renamed account's id row, and an id-less row still under the old handle
    _write(store, "w", _frame(["new", "old"], ["5", None], display_name=[None, "Old Name"]))
    accounts = _accounts(store)
    assert list(accounts) == ["new"] and accounts["new"].display_name == "Old Name"


def test_a_handle_left_and_taken_in_one_import(store):
    """Id 1 leaves @x for @y, id 2 takes @x: each row stays with its own id."""
    report = ImportReport(kind="test", source="mem", workspace="w")
    with import_run(store, "w", "test", "mem", report) as writer:
        ids = writer.accounts(_frame(["x", "y", "x"], ["1", "1", "2"])).to_list()
        writer.posts(_posts("x", "px"))
    accounts = _accounts(store)
    assert {h: a.external_id for h, a in accounts.items()} == {"y": "1", "x": "2"}
    assert ids == [accounts["y"].id, accounts["y"].id, accounts["x"].id]
    with store.session() as session:  # a post under @x is id 2's
        assert session.scalar(sa.select(Post.account_id)) == accounts["x"].id
    assert _accounts(store)["y"].previous_handles == ["x"]
    assert _accounts(store)["x"].previous_handles is None


def test_an_account_without_id_takes_the_id_and_matches_later(store):
    _write(store, "w", _frame(["ann"], [None]))
    _write(store, "w", _frame(["ann"], ["900"]))
    assert _accounts(store)["ann"].external_id == "900"
    _write(store, "w", _frame(["ann.b"], ["900"]))
    assert list(_accounts(store)) == ["ann.b"]


def test_two_accounts_swapping_handles(store):
    _write(store, "w", _frame(["x", "y"], ["1", "2"]), posts=_posts("x", "px"))
    ids = {h: a.id for h, a in _accounts(store).items()}
    _write(store, "w", _frame(["y", "x"], ["1", "2"]))
    after = _accounts(store)
    assert after["y"].id == ids["x"] and after["x"].id == ids["y"]
    assert after["y"].previous_handles == ["x"] and after["x"].previous_handles == ["y"]


def test_new_handle_held_by_an_account_without_id_is_refused(store):
    _write(store, "w", _frame(["lea.vintage"], ["111"]), posts=_posts("lea.vintage", "p1"))
    _write(store, "w", _frame(["lea.paris"], [None]))  # a table imported after the rename
    before = table_rows(store, DATA)
    with pytest.raises(InputError) as caught:
        _write(store, "w", _frame(["lea.paris"], ["111"]))
    message = str(caught.value)
    assert "id 111 (stored as @lea.vintage" in message and "is now @lea.paris" in message
    assert "without a platform id" in message and "delete the one you do not want" in message
    assert caught.value.field == "external_id"
    assert table_rows(store, DATA) == before  # nothing written


def test_a_handle_given_to_someone_else_is_refused(store):
    _write(store, "w", _frame(["star", "other"], ["1", "2"]))
    before = table_rows(store, DATA)
    with pytest.raises(InputError, match="the platform gave the handle to someone else"):
        _write(store, "w", _frame(["star"], ["3"]))  # a new id under a stored one's handle
    with pytest.raises(InputError, match="id 2 .stored as @other, account .+ is now @star, but"):
        _write(store, "w", _frame(["star"], ["2"]))  # 2 renamed to the handle 1 still holds
    assert table_rows(store, DATA) == before
    # with the first account's new handle in the same import, the handle can move
    _write(store, "w", _frame(["star.old", "star"], ["1", "2"]))
    assert {h: a.external_id for h, a in _accounts(store).items()} == {
        "star.old": "1",
        "star": "2",
    }
    assert _accounts(store)["star"].previous_handles == ["other"]


def test_one_handle_for_two_ids_in_one_import_is_refused(sqlite_store):
    with pytest.raises(InputError, match="given to two different accounts"):
        _write(sqlite_store, "w", _frame(["dup", "dup"], ["1", "2"]))


def test_the_id_match_never_crosses_workspaces(store):
    _write(store, "alpha", _frame(["lea.vintage"], ["111"]), posts=_posts("lea.vintage", "p1"))
    # Another workspace, the same platform id under a new handle: a new account of its own.
    _write(store, "beta", _frame(["lea.paris"], ["111"]))
    assert list(_accounts(store, "alpha")) == ["lea.vintage"]
    beta = _accounts(store, "beta")
    assert list(beta) == ["lea.paris"] and beta["lea.paris"].previous_handles is None
    # alpha renames: beta's account holding the new handle is no collision for alpha
    _write(store, "alpha", _frame(["lea.paris"], ["111"]))
    alpha = _accounts(store, "alpha")
    assert list(alpha) == ["lea.paris"] and alpha["lea.paris"].previous_handles == ["lea.vintage"]
    with store.session() as session:
        beta_id, alpha_id = _workspace_id(store, "beta"), _workspace_id(store, "alpha")
        with pytest.raises(NotFoundError):  # beta never had the old handle
            find_account_by_reference(session, beta_id, "instagram:lea.vintage")
        found = find_account_by_reference(session, alpha_id, "instagram:lea.vintage")
        assert found.workspace_id == alpha_id
    # the same id on another platform is another account
    _write(store, "alpha", _frame(["lea.paris"], ["111"], platform="tiktok"))
    with store.session() as session:
        platforms = session.scalars(
            sa.select(Account.platform).where(Account.workspace_id == alpha_id)
        )
        assert sorted(platforms) == ["instagram", "tiktok"]


def test_bulk_renames(store):
    """Thousands of accounts renamed at once: a few chunked queries, not one per row."""
    n = 1_200
    ids = [str(10_000 + i) for i in range(n)]
    _write(store, "w", _frame([f"u{i}" for i in range(n)], ids))
    report = _write(store, "w", _frame([f"v{i}" for i in range(n)], ids))
    assert len(report.renamed) == n
    accounts = _accounts(store)
    assert len(accounts) == n and accounts["v7"].previous_handles == ["u7"]


# -- through the importers ---------------------------------------------------------------------


def _profile(username: str, followers: int) -> dict:
    return {
        "node": {
            "id": "1009876",
            "username": username,
            "edge_followed_by": {"count": followers},
            "edge_owner_to_timeline_media": {"count": 3, "edges": []},
        },
        "instaloader": {"node_type": "Profile"},
    }


def _post(username: str, shortcode: str) -> dict:
    return {
        "shortcode": shortcode,
        "taken_at_timestamp": 1_700_000_000,
        "owner": {"id": "1009876", "username": username},
    }


def _json(path: Path, data, mtime: dt.datetime) -> Path:
    path.write_text(json.dumps(data), encoding="utf-8")
    ts = mtime.replace(tzinfo=dt.UTC).timestamp()
    os.utime(path, (ts, ts))
    return path


def test_instagram_owner_id_follows_a_rename(store, tmp_path):
    first = [
        _json(tmp_path / "a.json", _profile("lea.vintage", 100), T0),
        _json(tmp_path / "p1.json", _post("lea.vintage", "BcmiA"), T0),
    ]
    import_instagram(store, "w", first)
    later = [
        _json(tmp_path / "b.json", _profile("lea.paris", 150), T0 + dt.timedelta(days=30)),
        _json(tmp_path / "p2.json", _post("lea.paris", "BcmiB"), T0 + dt.timedelta(days=30)),
    ]
    report = import_instagram(store, "w", later)
    assert report.renamed == [{"platform": "instagram", "from": "lea.vintage", "to": "lea.paris"}]
    accounts = _accounts(store)
    assert list(accounts) == ["lea.paris"]
    lea = accounts["lea.paris"]
    assert lea.previous_handles == ["lea.vintage"] and lea.followers == 150
    with store.session() as session:
        assert session.scalar(sa.select(sa.func.count()).select_from(Post)) == 2
        snaps = session.scalar(
            sa.select(sa.func.count())
            .select_from(AccountSnapshot)
            .where(AccountSnapshot.account_id == lea.id)
        )
        assert snaps == 2


def test_tables_user_id_and_channel_id_follow_a_rename(store, tmp_path):
    creators = tmp_path / "creators.csv"
    creators.write_text("handle,user_id,followers\nlea.vintage,111,1000\n", encoding="utf-8")
    import_creators(store, "w", creators, platform="instagram", captured_at=T0)
    creators.write_text("handle,user_id,followers\nlea.paris,111,1200\n", encoding="utf-8")
    report = import_creators(
        store, "w", creators, platform="instagram", captured_at=T0 + dt.timedelta(days=1)
    )
    assert report.renamed[0]["to"] == "lea.paris"
    posts = tmp_path / "videos.jsonl"
    posts.write_text(
        '{"id": "v1", "channelId": "111", "channel_handle": "lea.new", "views": "N/A"}\n',
        encoding="utf-8",
    )
    import_posts(store, "w", posts, platform="instagram")
    accounts = _accounts(store)
    assert list(accounts) == ["lea.new"]
    assert accounts["lea.new"].previous_handles == ["lea.vintage", "lea.paris"]
    assert accounts["lea.new"].followers == 1200


# -- any sequence of imports keeps one account per id -------------------------------------------

_IMPORT = st.dictionaries(
    st.sampled_from(["1", "2", "3"]), st.sampled_from(["a", "b", "c", "d"]), min_size=1
).filter(lambda d: len(set(d.values())) == len(d))  # one import: distinct ids and handles
_COUNTER = iter(range(10**9))


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(st.lists(_IMPORT, min_size=1, max_size=5))
def test_any_sequence_of_renames_keeps_one_account_per_id(sqlite_store, imports):
    workspace = f"h{next(_COUNTER)}"
    had: dict[str, set[str]] = {}  # every handle each id was successfully imported under
    for pairs in imports:
        before = table_rows(sqlite_store, [Account])
        try:
            _write(sqlite_store, workspace, _frame(list(pairs.values()), list(pairs)))
        except InputError as exc:
            # refused only for a handle some other stored account holds; nothing written
            assert exc.field == "external_id"
            assert table_rows(sqlite_store, [Account]) == before
            continue
        for ext, handle in pairs.items():
            had.setdefault(ext, set()).add(handle)
        accounts = _accounts(sqlite_store, workspace)
        by_id = {a.external_id: a for a in accounts.values()}
        assert len(by_id) == len(accounts) == len(had)  # one account per id, no other
        for ext, handle in pairs.items():
            assert by_id[ext].handle == handle
        for ext, handles in had.items():
            known = {by_id[ext].handle, *(by_id[ext].previous_handles or [])}
            assert handles <= known
            assert by_id[ext].handle not in (by_id[ext].previous_handles or [])
