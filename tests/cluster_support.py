"""A generated workspace written straight into PostgreSQL, for the Spark cluster tests."""

from __future__ import annotations

import sqlalchemy as sa

from microfluence.kernel.store import Store
from microfluence.kernel.store.tables import Account, Creator
from microfluence.kernel.workspaces import ensure_workspace


def generate_workspace(store: Store, name: str, *, accounts: int, posts: int) -> None:
    """A workspace of ``accounts`` accounts, 13 snapshots each and ``posts`` posts, with NULL
    counts, hidden likes, undated posts, zero followers and ties; generated inside PostgreSQL
    (deterministic arithmetic on ``generate_series``), so even large sizes load in seconds."""
    with store.transaction() as session:
        ws = ensure_workspace(session, name)
        creator = Creator(workspace_id=ws.id, name=f"{name} creator")
        session.add(creator)
        session.flush()
        platforms = ("instagram", "tiktok", "youtube")
        session.add_all(
            Account(
                workspace_id=ws.id,
                creator_id=creator.id,
                platform=platforms[i % 3],
                handle=f"{name}_{i}",
            )
            for i in range(accounts)
        )
        session.flush()
        ws_id = ws.id
    ids = f"(SELECT array_agg(id ORDER BY id) AS ids FROM accounts WHERE workspace_id = {ws_id}) x"
    with store.connection() as conn:
        conn.execute(
            sa.text(
                "INSERT INTO account_snapshots (workspace_id, account_id, captured_at, followers) "
                f"SELECT {ws_id}, a.id, timestamp '2026-01-01' - s * interval '15 days', "
                "CASE WHEN a.id % 17 = 0 THEN 0 WHEN (a.id + s) % 11 = 0 THEN NULL "
                "ELSE 1000 + (a.id * 7919) % 200000 - s * (a.id % 50) END "
                f"FROM accounts a, generate_series(0, 12) s WHERE a.workspace_id = {ws_id}"
            )
        )
        conn.execute(
            sa.text(
                "INSERT INTO posts (workspace_id, account_id, platform_post_id, posted_at, "
                "post_type, likes, comments, shares, saves, views, reach, is_sponsored) "
                f"SELECT {ws_id}, x.ids[1 + g % {accounts}], g::text, "
                "CASE WHEN g % 97 = 0 THEN NULL "
                "ELSE timestamp '2026-01-02' - ((g * 7919) % 15552000) * interval '1 second' END, "
                "(ARRAY['image', 'reel', 'video', 'carousel'])[1 + g % 4], "
                "CASE WHEN g % 29 = 0 THEN NULL ELSE (g * 37) % 5000 END, "
                "(g * 13) % 200, "
                "CASE WHEN g % 3 = 0 THEN NULL ELSE g % 50 END, "
                "CASE WHEN g % 5 = 0 THEN g % 20 END, "
                "CASE WHEN g % 4 IN (1, 2) THEN (g * 101) % 90000 END, "
                "CASE WHEN g % 7 = 0 THEN (g * 53) % 40000 END, "
                "CASE WHEN g % 10 = 0 THEN true WHEN g % 10 < 4 THEN NULL ELSE false END "
                f"FROM generate_series(1, {posts}) g, {ids}"
            )
        )
