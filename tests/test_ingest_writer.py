"""The one write path of every importer: idempotent, transactional, workspace-scoped."""

from __future__ import annotations

import datetime as dt

import polars as pl
import pytest
import sqlalchemy as sa

from microfluence.ingest.report import ImportReport
from microfluence.ingest.write.writer import import_run
from microfluence.kernel.errors import InputError
from microfluence.kernel.store.tables import Account, Comment, Creator, ImportRun, Post


def _counts(store):
    with store.connection() as conn:
        return {
            t.__tablename__: conn.execute(sa.select(sa.func.count()).select_from(t)).scalar()
            for t in (Creator, Account, Post, Comment)
        }


ACCOUNTS = pl.DataFrame(
    {
        "platform": ["instagram", "Instagram", "tiktok"],
        "handle": ["@Ann", "bob", "ann"],
        "display_name": ["Ann A", "Bob", None],
        "bio": ["hi", None, "tt"],
    }
)
T0 = dt.datetime(2024, 5, 1, 12, 0, 0)


def _posts():
    return pl.DataFrame(
        {
            "platform": ["instagram", "instagram", "tiktok"],
            "handle": ["ann", "ANN", "ann"],
            "platform_post_id": ["p1", "p2", "v1"],
            "posted_at": [T0, T0 + dt.timedelta(days=1), T0],
            "likes": [10, None, 5],
            "hashtags": [["a", "b"], [], None],
            "is_sponsored": [True, False, None],
        }
    )


def test_import_is_idempotent_and_counts(store):
    report = ImportReport(kind="test", source="mem", workspace="w1")
    with import_run(store, "w1", "test", "mem", report) as writer:
        ids = writer.accounts(ACCOUNTS)
        assert ids.null_count() == 0 and ids.n_unique() == 3
        writer.posts(_posts())
        writer.snapshots(
            pl.DataFrame(
                {
                    "platform": ["instagram"],
                    "handle": ["ann"],
                    "captured_at": [T0],
                    "followers": [1234],
                }
            )
        )
    assert report.created == {"creators": 3, "accounts": 3, "posts": 3, "snapshots": 1}
    first = _counts(store)

    again = ImportReport(kind="test", source="mem", workspace="w1")
    with import_run(store, "w1", "test", "mem", again) as writer:
        writer.accounts(ACCOUNTS.with_columns(pl.lit(None, dtype=pl.String).alias("bio")))
        writer.posts(_posts().with_columns(pl.lit(11).alias("likes")))
    assert _counts(store) == first
    assert again.created == {} and again.updated["posts"] == 3
    with store.session() as session:
        ann = session.scalar(
            sa.select(Account).where(Account.handle == "ann", Account.platform == "instagram")
        )
        assert ann.bio == "hi"  # NULL in a re-import never erases a stored value
        post = session.scalar(sa.select(Post).where(Post.platform_post_id == "p1"))
        assert post.likes == 11 and post.hashtags == ["a", "b"] and post.is_sponsored is True
        assert post.posted_at == T0 and post.source == "mem" and post.import_id is not None
        assert session.scalar(sa.select(sa.func.count()).select_from(ImportRun)) == 2


def test_comments_attach_to_posts(store):
    with import_run(store, "w1", "test", "mem") as writer:
        account_ids = writer.accounts(ACCOUNTS)
        writer.posts(_posts())
        keys = pl.DataFrame(
            {"account_id": [account_ids[0], account_ids[0]], "platform_post_id": ["p1", "zz"]}
        )
        post_ids = writer.post_ids(keys)
        assert post_ids[0] is not None and post_ids[1] is None
        writer.comments(
            pl.DataFrame(
                {"post_id": [post_ids[0]] * 2, "comment_key": ["c1", "c1"], "text": ["x", "y"]}
            )
        )
    with store.session() as session:
        assert session.scalars(sa.select(Comment.text)).all() == ["y"]


def test_failure_leaves_store_unchanged(store):
    with import_run(store, "w1", "test", "mem") as writer:
        writer.accounts(ACCOUNTS)
    before = _counts(store)
    with pytest.raises(InputError, match="platform"):
        with import_run(store, "w1", "test", "mem") as writer:
            writer.posts(_posts())
            writer.accounts(pl.DataFrame({"platform": ["myspace"], "handle": ["x"]}))
    assert _counts(store) == before
    with store.session() as session:
        statuses = session.scalars(sa.select(ImportRun.status).order_by(ImportRun.id)).all()
        assert statuses == ["succeeded", "failed"]


def test_workspaces_do_not_share_accounts(store):
    for ws in ("a", "b"):
        with import_run(store, ws, "test", "mem") as writer:
            writer.accounts(ACCOUNTS)
    assert _counts(store)["accounts"] == 6
