"""Helpers for the campaign tests: a workspace with creators, accounts and crafted posts."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from microfluence.campaigns.campaigns import create_campaign
from microfluence.campaigns.deals import add_deal
from microfluence.campaigns.schemas import CampaignCreate, DealCreate, parse_model
from microfluence.kernel.store import Store
from microfluence.kernel.store.tables import Account, Creator, Post
from microfluence.kernel.workspaces import ensure_workspace


@dataclass
class World:
    workspace_id: int
    accounts: dict[str, int]  # "platform:handle" -> account id
    creators: dict[str, int]  # name -> creator id
    posts: dict[str, int] = field(default_factory=dict)  # label -> post id


def make_world(store: Store, name: str = "brand", prefix: str = "") -> World:
    """Sarah (instagram and tiktok), Tom (instagram) and Uma (youtube), no posts yet."""
    with store.transaction() as session:
        ws = ensure_workspace(session, name)
        creators = {
            n: Creator(workspace_id=ws.id, name=f"{prefix}{n}") for n in ("Sarah", "Tom", "Uma")
        }
        session.add_all(creators.values())
        session.flush()
        specs = [
            ("Sarah", "instagram", f"{prefix}sarah"),
            ("Sarah", "tiktok", f"{prefix}sarah_tt"),
            ("Tom", "instagram", f"{prefix}tom"),
            ("Uma", "youtube", f"{prefix}uma"),
        ]
        accounts = {}
        for who, platform, handle in specs:
            account = Account(
                workspace_id=ws.id, creator_id=creators[who].id, platform=platform, handle=handle
            )
            session.add(account)
            session.flush()
            accounts[f"{platform}:{handle}"] = account.id
        return World(ws.id, accounts, {n: c.id for n, c in creators.items()})


def add_post(
    store: Store,
    world: World,
    label: str,
    account: str,
    posted_at: dt.datetime,
    caption: str = "",
    post_type: str | None = "image",
    **extra: Any,
) -> int:
    with store.transaction() as session:
        post = Post(
            workspace_id=world.workspace_id,
            account_id=world.accounts[account],
            platform_post_id=label,
            url=f"https://example.social/p/{label}",
            post_type=post_type,
            posted_at=posted_at,
            caption=caption,
            **extra,
        )
        session.add(post)
        session.flush()
        world.posts[label] = post.id
        return post.id


def campaign(store: Store, world: World, **fields: Any) -> int:
    data = {
        "name": "Summer glow",
        "starts_on": "2026-06-01",
        "ends_on": "2026-06-30",
        "hashtags": ["#SummerGlow"],
        "mentions": ["@glowbrand"],
        **fields,
    }
    with store.transaction() as session:
        return create_campaign(session, world.workspace_id, parse_model(CampaignCreate, data)).id


def deal(store: Store, world: World, campaign_id: int, creator: str, **fields: Any) -> int:
    with store.transaction() as session:
        data = parse_model(DealCreate, {"creator": creator, **fields})
        return add_deal(session, world.workspace_id, campaign_id, data).id
