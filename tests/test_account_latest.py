"""Each account row's copy of its newest snapshot (migration 0006) stays right after every write
of snapshots: imports (also of older snapshots), the API's snapshot creation, any workspace."""

from __future__ import annotations

import datetime as dt

import polars as pl
import sqlalchemy as sa

from microfluence.catalog.accounts import AccountFilters, get_account, list_accounts
from microfluence.catalog.creators import CreatorFilters, list_creators
from microfluence.catalog.latest import refresh_latest
from microfluence.catalog.schemas import SnapshotCreate
from microfluence.catalog.snapshots import create_snapshot
from microfluence.ingest.write.writer import import_run
from microfluence.kernel.store import migrations
from microfluence.kernel.store.tables import Account
from microfluence.kernel.workspaces import ensure_workspace

T1 = dt.datetime(2026, 1, 1)
T2 = dt.datetime(2026, 2, 1)
T3 = dt.datetime(2026, 3, 1)


def _latest(store, workspace: str) -> dict[str, tuple]:
    """handle -> (followers, following, posts_count, snapshot_at) as stored on the account."""
    with store.transaction() as session:
        ws = ensure_workspace(session, workspace).id
        rows = session.execute(
            sa.select(
                Account.handle,
                Account.followers,
                Account.following,
                Account.posts_count,
                Account.snapshot_at,
            ).where(Account.workspace_id == ws)
        )
        return {r[0]: tuple(r[1:]) for r in rows}


def _import(store, workspace: str, handles, times, followers, following=None) -> None:
    n = len(handles)
    with import_run(store, workspace, "test", "mem") as writer:
        writer.accounts(pl.DataFrame({"platform": ["instagram"] * n, "handle": handles}))
        writer.snapshots(
            pl.DataFrame(
                {
                    "platform": ["instagram"] * n,
                    "handle": handles,
                    "captured_at": times,
                    "followers": followers,
                    "following": following or [None] * n,
                },
                schema_overrides={"following": pl.Int64},
            )
        )


def test_imports_keep_the_newest_snapshot_on_the_account(store):
    _import(store, "w", ["ann", "ann", "bob"], [T1, T2, T1], [100, 200, 50], [1, 2, 3])
    assert _latest(store, "w") == {"ann": (200, 2, None, T2), "bob": (50, 3, None, T1)}

    # An older snapshot, and a correction of an older one, leave the newest in place.
    _import(store, "w", ["ann", "bob"], [dt.datetime(2025, 12, 1), T1], [999, 60])
    assert _latest(store, "w") == {"ann": (200, 2, None, T2), "bob": (60, 3, None, T1)}

    # A newer one replaces it; a re-import of the newest with new numbers corrects it.
    _import(store, "w", ["ann", "bob"], [T3, T1], [300, 70])
    assert _latest(store, "w") == {"ann": (300, None, None, T3), "bob": (70, 3, None, T1)}


def test_an_accounts_frame_never_writes_the_latest_numbers_itself(store):
    _import(store, "w", ["ann"], [T1], [100])
    with import_run(store, "w", "test", "mem") as writer:
        frame = pl.DataFrame({"platform": ["instagram"], "handle": ["ann"], "followers": [5]})
        writer.accounts(frame.with_columns(pl.lit("Ann").alias("display_name")))
    assert _latest(store, "w")["ann"] == (100, None, None, T1)


def test_a_failed_import_leaves_the_latest_numbers_as_they_were(store):
    _import(store, "w", ["ann"], [T1], [100])
    try:
        with import_run(store, "w", "test", "mem") as writer:
            writer.snapshots(
                pl.DataFrame(
                    {"platform": ["instagram"], "handle": ["ann"], "captured_at": [T2]}
                ).with_columns(pl.lit(500).alias("followers"))
            )
            raise RuntimeError("the file ended early")
    except RuntimeError:
        pass
    assert _latest(store, "w")["ann"] == (100, None, None, T1)


def test_api_snapshots_update_the_account_and_its_lists(store):
    _import(store, "w", ["ann", "bob"], [T2, T2], [100, 5000])
    with store.transaction() as session:
        ws = ensure_workspace(session, "w").id
        ann = session.scalar(sa.select(Account.id).where(Account.handle == "ann"))
        create_snapshot(session, ws, ann, SnapshotCreate(captured_at=T3, followers=9000))
        assert get_account(session, ws, ann).followers == 9000
        # Older than the newest: stored, but the account keeps the newest numbers.
        create_snapshot(session, ws, ann, SnapshotCreate(captured_at=T1, followers=1))
        public = get_account(session, ws, ann)
        assert (public.followers, public.captured_at) == (9000, T3.replace(tzinfo=dt.UTC))

        page = list_accounts(session, ws, sort="-followers")
        assert [a.handle for a in page.data] == ["ann", "bob"]
        assert [a.followers for a in page.data] == [9000, 5000]
        page = list_accounts(session, ws, AccountFilters(min_followers=6000))
        assert [a.handle for a in page.data] == ["ann"] and page.count == 1
        page = list_accounts(session, ws, AccountFilters(max_followers=6000))
        assert [a.handle for a in page.data] == ["bob"]

        creators = list_creators(session, ws, sort="followers")
        assert [c.followers for c in creators.data] == [5000, 9000]
        creators = list_creators(session, ws, CreatorFilters(min_followers=6000))
        assert creators.count == 1 and creators.data[0].accounts[0].followers == 9000


def test_the_latest_numbers_stay_in_their_workspace(store):
    _import(store, "a", ["ann"], [T1], [100])
    _import(store, "b", ["ann"], [T2], [7])
    _import(store, "a", ["ann"], [T3], [300])
    assert _latest(store, "a") == {"ann": (300, None, None, T3)}
    assert _latest(store, "b") == {"ann": (7, None, None, T2)}
    with store.transaction() as session:
        b = ensure_workspace(session, "b").id
        assert list_accounts(session, b, AccountFilters(min_followers=50)).count == 0
        assert list_creators(session, b, sort="-followers").data[0].followers == 7


def test_an_account_without_snapshots_gets_nulls(store):
    _import(store, "w", ["ann"], [T1], [100])
    with store.transaction() as session:
        conn = session.connection()
        conn.execute(sa.text("DELETE FROM account_snapshots"))
        ids = list(session.scalars(sa.select(Account.id)))
        assert refresh_latest(conn, ids) == 1
    assert _latest(store, "w") == {"ann": (None, None, None, None)}


def test_migration_0006_backfills_existing_accounts(store):
    _import(store, "w", ["ann", "bob", "cyd"], [T1, T1, T1], [100, 50, 1])
    _import(store, "w", ["ann"], [T2], [200])
    with store.connection() as conn:
        conn.execute(sa.text("DELETE FROM account_snapshots WHERE followers = 1"))
        conn.commit()
    migrations.downgrade(store.engine, "0005")  # back to the parents of 0006
    with store.connection() as conn:
        columns = {c["name"] for c in sa.inspect(conn).get_columns("accounts")}
    assert "followers" not in columns
    with store.connection() as conn:  # the downgrade kept every snapshot
        assert conn.execute(sa.text("SELECT count(*) FROM account_snapshots")).scalar() == 3
    migrations.upgrade(store.engine)
    assert _latest(store, "w") == {
        "ann": (200, None, None, T2),
        "bob": (50, None, None, T1),
        "cyd": (None, None, None, None),
    }
