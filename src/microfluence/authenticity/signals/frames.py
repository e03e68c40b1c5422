"""The frames the authenticity signals read: accounts, snapshots, posts and comments.

Every signal is a pure function over these frames (several accounts at once, keyed by
``account_id``), so the same code vets one account or scores a whole workspace. This module is the
only one that talks to the store; it reads with plain SQL and builds Polars frames with fixed
schemas, so SQLite and PostgreSQL give identical frames.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import polars as pl
import sqlalchemy as sa
from sqlalchemy import Connection

from microfluence.kernel.store.tables import Account, AccountSnapshot, Comment, Post
from microfluence.metrics.tables import AccountMetric, AccountTier, MetricRun

ACCOUNT_SCHEMA = {
    "account_id": pl.Int64,
    "platform": pl.String,
    "handle": pl.String,
    "display_name": pl.String,
    "bio": pl.String,
    "is_verified": pl.Boolean,
    "is_private": pl.Boolean,
}
SNAPSHOT_SCHEMA = {
    "account_id": pl.Int64,
    "captured_at": pl.Datetime("us"),
    "followers": pl.Int64,
    "following": pl.Int64,
    "posts_count": pl.Int64,
}
POST_SCHEMA = {
    "account_id": pl.Int64,
    "post_id": pl.Int64,
    "platform_post_id": pl.String,
    "url": pl.String,
    "post_type": pl.String,
    "posted_at": pl.Datetime("us"),
    "caption": pl.String,
    "hashtags": pl.List(pl.String),
    "likes": pl.Int64,
    "comments": pl.Int64,
    "views": pl.Int64,
    "is_sponsored": pl.Boolean,
    "sponsor_evidence": pl.String,
}
COMMENT_SCHEMA = {
    "account_id": pl.Int64,
    "post_id": pl.Int64,
    "comment_id": pl.Int64,
    "text": pl.String,
    "author_handle": pl.String,
    "posted_at": pl.Datetime("us"),
}
_CHUNK = 500
TIME_FORMAT = "%Y-%m-%d %H:%M:%S%.f"


@dataclass(frozen=True)
class AccountFrames:
    """Everything the signals need about a set of accounts (one workspace)."""

    accounts: pl.DataFrame
    snapshots: pl.DataFrame
    posts: pl.DataFrame
    comments: pl.DataFrame

    @classmethod
    def empty(cls) -> AccountFrames:
        return cls(
            accounts=pl.DataFrame(schema=ACCOUNT_SCHEMA),
            snapshots=pl.DataFrame(schema=SNAPSHOT_SCHEMA),
            posts=pl.DataFrame(schema=POST_SCHEMA),
            comments=pl.DataFrame(schema=COMMENT_SCHEMA),
        )

    def only(self, account_id: int) -> AccountFrames:
        """The same frames restricted to one account."""
        keep = pl.col("account_id") == account_id
        return AccountFrames(
            accounts=self.accounts.filter(keep),
            snapshots=self.snapshots.filter(keep),
            posts=self.posts.filter(keep),
            comments=self.comments.filter(keep),
        )


def _time(column: sa.ColumnElement) -> sa.ColumnElement:
    # Times travel as text and are parsed by Polars in one vectorised pass: converting hundreds
    # of thousands of SQLite timestamps to Python datetimes one by one dominated the load time.
    return sa.cast(column, sa.String)


def _frame(rows: Sequence[Sequence[object]], schema: dict[str, pl.DataType]) -> pl.DataFrame:
    times = [name for name, dtype in schema.items() if isinstance(dtype, pl.Datetime)]
    raw = {name: (pl.String if name in times else dtype) for name, dtype in schema.items()}
    frame = pl.DataFrame(rows, schema=raw, orient="row")
    return frame.with_columns(
        pl.col(name).str.to_datetime(TIME_FORMAT, time_unit="us", strict=False) for name in times
    )


def _hashtags(text: pl.Expr) -> pl.Expr:
    # The JSON column arrives as its text and is decoded in one pass; anything but a JSON list
    # of strings (an importer bug, a hand edit) counts as "no hashtags", never as an error.
    cleaned = text.str.strip_chars()
    is_list = cleaned.str.starts_with("[") & cleaned.str.ends_with("]")
    return (
        pl.when(is_list)
        .then(cleaned)
        .otherwise(None)
        .str.json_decode(pl.List(pl.String))
        .alias("hashtags")
    )


def _select_in(
    conn: Connection, query: sa.Select, column: sa.ColumnElement, ids: Sequence[int] | None
) -> list[Sequence[object]]:
    if ids is None:
        return list(conn.execute(query))
    rows: list[Sequence[object]] = []
    for start in range(0, len(ids), _CHUNK):
        rows.extend(conn.execute(query.where(column.in_(list(ids[start : start + _CHUNK])))))
    return rows


def load_account_frames(
    conn: Connection,
    workspace_id: int,
    account_ids: Sequence[int] | None = None,
    *,
    platform: str | None = None,
    with_comments: bool = True,
) -> AccountFrames:
    """The frames of ``account_ids`` (every account of the workspace when None)."""
    a, s, p, c = (t.__table__ for t in (Account, AccountSnapshot, Post, Comment))
    ids = sorted(set(account_ids)) if account_ids is not None else None
    account_query = sa.select(
        a.c.id, a.c.platform, a.c.handle, a.c.display_name, a.c.bio, a.c.is_verified, a.c.is_private
    ).where(a.c.workspace_id == workspace_id)
    if platform is not None:
        account_query = account_query.where(a.c.platform == platform)
    accounts = _frame(_select_in(conn, account_query, a.c.id, ids), ACCOUNT_SCHEMA)
    if ids is None and platform is not None:
        ids = accounts["account_id"].to_list()

    if ids is not None:
        # Only ids of this workspace's accounts (read above) go on: the snapshot and comment
        # queries below can then look them up by account (SQLite's planner, without statistics,
        # otherwise scans the whole workspace's rows through the workspace index: 0.3 s each).
        ids = accounts["account_id"].to_list()
    snapshot_query = sa.select(
        s.c.account_id, _time(s.c.captured_at), s.c.followers, s.c.following, s.c.posts_count
    )
    if ids is None:
        snapshot_query = snapshot_query.where(s.c.workspace_id == workspace_id)
    snapshots = _frame(_select_in(conn, snapshot_query, s.c.account_id, ids), SNAPSHOT_SCHEMA)

    post_query = sa.select(
        p.c.account_id,
        p.c.id,
        p.c.platform_post_id,
        p.c.url,
        p.c.post_type,
        _time(p.c.posted_at),
        p.c.caption,
        sa.cast(p.c.hashtags, sa.String),
        p.c.likes,
        p.c.comments,
        p.c.views,
        p.c.is_sponsored,
        p.c.sponsor_evidence,
    ).where(p.c.workspace_id == workspace_id)
    raw_posts = _frame(
        _select_in(conn, post_query, p.c.account_id, ids),
        POST_SCHEMA | {"hashtags": pl.String},
    )
    posts = raw_posts.with_columns(_hashtags(pl.col("hashtags")))

    comments = pl.DataFrame(schema=COMMENT_SCHEMA)
    if with_comments:
        comment_query = (
            sa.select(
                p.c.account_id,
                c.c.post_id,
                c.c.id,
                c.c.text,
                c.c.author_handle,
                _time(c.c.posted_at),
            )
            .join(p, p.c.id == c.c.post_id)
            .where(
                p.c.workspace_id == workspace_id
                if ids is not None
                else c.c.workspace_id == workspace_id
            )
        )
        comments = _frame(_select_in(conn, comment_query, p.c.account_id, ids), COMMENT_SCHEMA)
    return AccountFrames(accounts=accounts, snapshots=snapshots, posts=posts, comments=comments)


def load_cohort_frames(
    conn: Connection, workspace_id: int, platform: str, *, cohort_posts: int = 30
) -> AccountFrames:
    """The lean frames of every account on ``platform``: enough for engagement cohorts only
    (each account's ``cohort_posts`` most recent posts with usable counts)."""
    a, s, p = (t.__table__ for t in (Account, AccountSnapshot, Post))
    accounts = _frame(
        list(
            conn.execute(
                sa.select(
                    a.c.id,
                    a.c.platform,
                    a.c.handle,
                    sa.null(),
                    sa.null(),
                    a.c.is_verified,
                    a.c.is_private,
                ).where(a.c.workspace_id == workspace_id, a.c.platform == platform)
            )
        ),
        ACCOUNT_SCHEMA,
    )
    on_platform = sa.select(a.c.id).where(
        a.c.workspace_id == workspace_id, a.c.platform == platform
    )
    snapshots = _frame(
        list(
            conn.execute(
                sa.select(
                    s.c.account_id,
                    _time(s.c.captured_at),
                    s.c.followers,
                    s.c.following,
                    s.c.posts_count,
                ).where(s.c.workspace_id == workspace_id, s.c.account_id.in_(on_platform))
            )
        ),
        SNAPSHOT_SCHEMA,
    )
    # Only each account's most recent usable posts (what the cohort statistics read), picked
    # by the database: the same cohort, a fraction of the rows.
    recent = (
        sa.select(
            p.c.account_id,
            p.c.id,
            p.c.posted_at,
            p.c.likes,
            p.c.comments,
            sa.func.row_number()
            .over(partition_by=p.c.account_id, order_by=p.c.posted_at.desc())
            .label("recency"),
        )
        .where(
            p.c.workspace_id == workspace_id,
            p.c.account_id.in_(on_platform),
            p.c.posted_at.is_not(None),
            p.c.likes >= 0,
            sa.or_(p.c.comments.is_(None), p.c.comments >= 0),
        )
        .subquery()
    )
    lean = _frame(
        list(
            conn.execute(
                sa.select(
                    recent.c.account_id,
                    recent.c.id,
                    _time(recent.c.posted_at),
                    recent.c.likes,
                    recent.c.comments,
                ).where(recent.c.recency <= cohort_posts)
            )
        ),
        {
            "account_id": pl.Int64,
            "post_id": pl.Int64,
            "posted_at": pl.Datetime("us"),
            "likes": pl.Int64,
            "comments": pl.Int64,
        },
    )
    posts = lean.with_columns(
        [
            pl.lit(None, dtype=dtype).alias(name)
            for name, dtype in POST_SCHEMA.items()
            if name not in lean.columns
        ]
    ).select(list(POST_SCHEMA))
    return AccountFrames(
        accounts=accounts,
        snapshots=snapshots,
        posts=posts,
        comments=pl.DataFrame(schema=COMMENT_SCHEMA),
    )


# The per-account engagement statistics of the metrics pipeline (``microfluence score``) that
# place an account in its engagement cohort: read instead of recomputed from every post.
STORED_ENGAGEMENT_METRICS = ("er_median", "n_er", "likes_to_comments", "followers")
STORED_ENGAGEMENT_SCHEMA = {
    "account_id": pl.Int64,
    "platform": pl.String,
    "tier": pl.String,
    "latest_followers": pl.Int64,
    "engagement_posts": pl.UInt32,
    "engagement_rate": pl.Float64,
    "commented_posts": pl.UInt32,
    "likes_comments_ratio": pl.Float64,
}


@dataclass(frozen=True)
class StoredEngagement:
    """Every scored account's engagement statistics as the last metrics run stored them."""

    frame: pl.DataFrame  # STORED_ENGAGEMENT_SCHEMA, one row per scored account
    computed_at: object  # the run's finish time (naive UTC datetime), for the report's note
    scheme: str


def load_stored_engagement(
    conn: Connection, workspace_id: int, scheme: str, *, platform: str | None = None
) -> StoredEngagement | None:
    """The stored ER median, likes-to-comments ratio and tier of every scored account (of
    ``platform`` when given), in one aggregate query; None when no metrics run has finished.

    The shape is that of :func:`engagement.account_engagement`. ``commented_posts`` is
    not stored by the metrics pipeline: it is set to the number of posts with an ER when the
    account has a likes-to-comments ratio (comments on its window posts), else 0 — so a cohort
    member counts for the ratio's statistics when it has 3 posts and some comments.
    """
    r = MetricRun.__table__
    run = conn.execute(
        sa.select(r.c.finished_at)
        .where(r.c.workspace_id == workspace_id, r.c.finished_at.is_not(None))
        .order_by(r.c.id.desc())
        .limit(1)
    ).first()
    if run is None:
        return None
    a, t, m = Account.__table__, AccountTier.__table__, AccountMetric.__table__

    def metric(name: str) -> sa.ColumnElement:
        return sa.func.max(sa.case((m.c.metric == name, m.c.value))).label(name)

    query = (
        sa.select(
            a.c.id,
            a.c.platform,
            t.c.tier,
            *(metric(name) for name in STORED_ENGAGEMENT_METRICS),
        )
        .join(t, (t.c.account_id == a.c.id) & (t.c.scheme == scheme))
        .outerjoin(
            m,
            (m.c.account_id == a.c.id) & m.c.metric.in_(STORED_ENGAGEMENT_METRICS),
        )
        .where(a.c.workspace_id == workspace_id)
        .group_by(a.c.id, a.c.platform, t.c.tier)
    )
    if platform is not None:
        query = query.where(a.c.platform == platform)
    raw = pl.DataFrame(
        [tuple(row) for row in conn.execute(query)],
        schema={
            "account_id": pl.Int64,
            "platform": pl.String,
            "tier": pl.String,
            **dict.fromkeys(STORED_ENGAGEMENT_METRICS, pl.Float64),
        },
        orient="row",
    )
    if raw.height == 0:
        return None
    # As in account_engagement: a non-positive median ER or ratio has no logarithm, so it is
    # left out (and the account counts no usable posts for the ER).
    rate = pl.when(pl.col("er_median") > 0).then(pl.col("er_median"))
    ratio = pl.when(pl.col("likes_to_comments") > 0).then(pl.col("likes_to_comments"))
    posts = pl.when(rate.is_not_null()).then(pl.col("n_er").fill_null(0)).otherwise(0)
    frame = raw.select(
        "account_id",
        "platform",
        "tier",
        pl.col("followers").round().cast(pl.Int64).alias("latest_followers"),
        posts.cast(pl.UInt32).alias("engagement_posts"),
        rate.alias("engagement_rate"),
        pl.when(ratio.is_not_null())
        .then(pl.col("n_er").fill_null(0))
        .otherwise(0)
        .cast(pl.UInt32)
        .alias("commented_posts"),
        ratio.alias("likes_comments_ratio"),
    ).cast(STORED_ENGAGEMENT_SCHEMA)
    return StoredEngagement(frame=frame.sort("account_id"), computed_at=run[0], scheme=scheme)
