"""A small hand-made workspace whose metrics are computed by hand in the tests."""

from __future__ import annotations

import datetime as dt

import pyarrow as pa

from microfluence.kernel.store import Store
from microfluence.kernel.store.tables import Account, AccountSnapshot, Creator, Post
from microfluence.kernel.workspaces import ensure_workspace
from microfluence.metrics.engines import PipelineInputs

DAY = 86_400
EPOCH = dt.datetime(1970, 1, 1)
NOW_DAY = 200
NOW = EPOCH + dt.timedelta(days=NOW_DAY)


def at(day: float) -> dt.datetime:
    return EPOCH + dt.timedelta(days=day)


# account 1 (instagram): three snapshots, five posts; a hidden-likes post; an old post.
# account 2 (tiktok): zero followers; videos with and without views.
# account 3 (instagram): one post, no snapshot at all.
# account 4 (youtube): one snapshot, after its only post (no snapshot before the post).
ACCOUNTS = [(1, "instagram"), (2, "tiktok"), (3, "instagram"), (4, "youtube")]
SNAPSHOTS = [
    # account, day, followers
    (1, 100, 1000),
    (1, 170, 1100),
    (1, 195, 1200),
    (2, 150, 0),
    (4, 190, 50_000),
]
POSTS = [
    # id, account, day, type, likes, comments, shares, saves, views, reach, sponsored
    (11, 1, 20, "image", 40, 2, None, None, None, None, None),  # older than 90 days
    (12, 1, 120, "image", 50, 5, None, 3, None, 500, True),
    (13, 1, 180, "reel", None, 7, None, None, 900, None, False),  # hidden likes
    (14, 1, 190, "carousel", 60, 4, 2, None, None, None, False),
    (15, 1, 199, "reel", 30, 3, None, None, 600, None, None),
    (21, 2, 160, "video", 100, 10, 5, None, 2000, None, None),
    (22, 2, 170, "video", 80, 8, None, None, None, None, None),  # video without views
    (31, 3, 150, "image", 9, 1, None, None, None, None, None),
    (41, 4, 180, "video", 1000, 100, None, None, 20_000, None, True),
]


def inputs() -> PipelineInputs:
    return PipelineInputs(
        accounts=pa.table(
            {"account_id": [a for a, _ in ACCOUNTS], "platform": [p for _, p in ACCOUNTS]}
        ),
        snapshots=pa.table(
            {
                "account_id": [s[0] for s in SNAPSHOTS],
                "t": [s[1] * DAY for s in SNAPSHOTS],
                "followers": [s[2] for s in SNAPSHOTS],
            }
        ),
        posts=pa.table(
            {
                "post_id": [p[0] for p in POSTS],
                "account_id": [p[1] for p in POSTS],
                "t": [p[2] * DAY for p in POSTS],
                "post_type": [p[3] for p in POSTS],
                "likes": [p[4] for p in POSTS],
                "comments": [p[5] for p in POSTS],
                "shares": [p[6] for p in POSTS],
                "saves": [p[7] for p in POSTS],
                "views": [p[8] for p in POSTS],
                "reach": [p[9] for p in POSTS],
                "is_sponsored": pa.array([p[10] for p in POSTS], pa.bool_()),
            }
        ),
    )


def load_into(store: Store, workspace: str = "acme") -> dict[int, int]:
    """Write the data set into ``store``; returns {our account number: stored account id}."""
    ids: dict[int, int] = {}
    with store.transaction() as session:
        ws = ensure_workspace(session, workspace)
        creator = Creator(workspace_id=ws.id, name="Someone")
        session.add(creator)
        session.flush()
        for number, platform in ACCOUNTS:
            account = Account(
                workspace_id=ws.id,
                creator_id=creator.id,
                platform=platform,
                handle=f"{workspace}_{number}",
            )
            session.add(account)
            session.flush()
            ids[number] = account.id
        for number, day, followers in SNAPSHOTS:
            session.add(
                AccountSnapshot(
                    workspace_id=ws.id,
                    account_id=ids[number],
                    captured_at=at(day),
                    followers=followers,
                )
            )
        for pid, number, day, kind, likes, comments, shares, saves, views, reach, sp in POSTS:
            session.add(
                Post(
                    workspace_id=ws.id,
                    account_id=ids[number],
                    platform_post_id=str(pid),
                    posted_at=at(day),
                    post_type=kind,
                    likes=likes,
                    comments=comments,
                    shares=shares,
                    saves=saves,
                    views=views,
                    reach=reach,
                    is_sponsored=sp,
                )
            )
    return ids
