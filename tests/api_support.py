"""Helpers for the web and API tests: workspaces, keys, users and a small catalog."""

from __future__ import annotations

import datetime as dt
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import uvicorn

from microfluence.access.api_keys import create_api_key
from microfluence.access.users import create_user, set_membership
from microfluence.catalog.latest import refresh_latest
from microfluence.kernel.store import Store
from microfluence.kernel.store.tables import Account, AccountSnapshot, Creator, Post
from microfluence.kernel.workspaces import ensure_workspace

PASSWORD = "correct horse battery"


@dataclass
class Tenant:
    """A workspace with a key per role and a few records."""

    name: str
    workspace_id: int
    keys: dict[str, str]
    creator_ids: list[int]
    account_ids: list[int]
    post_ids: list[int]
    snapshot_ids: list[int]

    def auth(self, role: str = "member") -> dict[str, str]:
        return {"Authorization": f"Bearer {self.keys[role]}"}


def make_tenant(store: Store, name: str, *, prefix: str | None = None) -> Tenant:
    """A workspace ``name`` with keys (viewer, member, owner), 3 creators, 4 accounts with two
    snapshots each, and 2 posts per account. Handles start with ``prefix`` (default: name)."""
    prefix = prefix or name
    with store.transaction() as session:
        ws = ensure_workspace(session, name)
        keys = {
            role: create_api_key(session, workspace=ws, name=role, role=role).secret
            for role in ("viewer", "member", "owner")
        }
        creators = [
            Creator(workspace_id=ws.id, name=f"{prefix} Ana", country="FR", category="beauty"),
            Creator(workspace_id=ws.id, name=f"{prefix} Bo", country="DE", category="food"),
            Creator(workspace_id=ws.id, name=f"{prefix} Cy", country="fr", category="travel"),
        ]
        session.add_all(creators)
        session.flush()
        specs = [
            (0, "instagram", f"{prefix}_ana", 1_000, "lipstick and skincare"),
            (0, "tiktok", f"{prefix}_ana_tt", 50_000, "short beauty clips"),
            (1, "instagram", f"{prefix}_bo", 12_000, "bread every day"),
            (2, "youtube", f"{prefix}_cy", 300_000, "slow travel films"),
        ]
        accounts = []
        for index, platform, handle, _followers, bio in specs:
            accounts.append(
                Account(
                    workspace_id=ws.id,
                    creator_id=creators[index].id,
                    platform=platform,
                    handle=handle,
                    display_name=handle.replace("_", " "),
                    bio=bio,
                    country=creators[index].country,
                    category=creators[index].category,
                )
            )
        session.add_all(accounts)
        session.flush()
        snapshots, posts = [], []
        start = dt.datetime(2026, 1, 1)
        for account, (_i, _p, handle, followers, _b) in zip(accounts, specs, strict=True):
            for step, factor in enumerate((0.9, 1.0)):
                snapshots.append(
                    AccountSnapshot(
                        workspace_id=ws.id,
                        account_id=account.id,
                        captured_at=start + dt.timedelta(days=30 * step),
                        followers=int(followers * factor),
                        following=100,
                        posts_count=10 + step,
                    )
                )
            for n in range(2):
                posts.append(
                    Post(
                        workspace_id=ws.id,
                        account_id=account.id,
                        platform_post_id=f"{handle}-{n}",
                        post_type="image",
                        posted_at=start + dt.timedelta(days=n),
                        caption=f"post {n} by {handle} #ad" if n else f"post {n} by {handle}",
                        hashtags=["ad"] if n else [],
                        likes=10 * (n + 1),
                        comments=n,
                        is_sponsored=bool(n),
                    )
                )
        session.add_all(snapshots + posts)
        session.flush()
        # Written directly, not through an import or the API: copy the newest onto the accounts.
        refresh_latest(session.connection(), [a.id for a in accounts])
        return Tenant(
            name=name,
            workspace_id=ws.id,
            keys=keys,
            creator_ids=[c.id for c in creators],
            account_ids=[a.id for a in accounts],
            post_ids=[p.id for p in posts],
            snapshot_ids=[s.id for s in snapshots],
        )


def make_user(store: Store, email: str, workspace: str, role: str) -> None:
    with store.transaction() as session:
        ws = ensure_workspace(session, workspace)
        user = create_user(session, email=email, password=PASSWORD)
        set_membership(session, user=user, workspace=ws, role=role)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def serve(app, port: int | None = None) -> Iterator[str]:  # type: ignore[no-untyped-def]
    """Run ``app`` with a real uvicorn server on 127.0.0.1 in a thread; yields its base URL."""
    port = port or free_port()
    config = uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="on")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("uvicorn did not start")
        time.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=20)
