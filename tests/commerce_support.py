"""Helpers for the codes, shops, orders and attribution tests: a workspace with creators,
accounts, a campaign with deals, tracking links and clicks, inserted directly (the campaigns and
links capabilities are built elsewhere; these are their rows, nothing more)."""

from __future__ import annotations

import datetime as dt
import secrets
from dataclasses import dataclass, field
from decimal import Decimal

from microfluence.campaigns.tables import Campaign, Deal
from microfluence.kernel.store import Store
from microfluence.kernel.store.tables import Account, Creator
from microfluence.kernel.workspaces import ensure_workspace
from microfluence.tracking.tables import LinkClick, TrackingLink

T0 = dt.datetime(2026, 5, 1, 12, 0, 0)


@dataclass
class Brand:
    workspace_id: int
    creators: dict[str, int]  # first name -> creator id
    campaign_id: int
    deals: dict[str, int]  # first name -> deal id
    links: dict[str, int] = field(default_factory=dict)  # first name -> link id
    slugs: dict[str, str] = field(default_factory=dict)


def make_brand(
    store: Store, name: str = "acme", *, attribution_days: int = 30, commission: str = "0.10"
) -> Brand:
    """A workspace with Sarah (instagram:sarah_k) and Tom (tiktok:tomcooks), a campaign
    "spring" and a deal for each, and one tracking link each (utm_content = the handle)."""
    with store.transaction() as s:
        ws = ensure_workspace(s, name)
        people = {
            "sarah": ("Sarah O'Neil", "instagram", "sarah_k"),
            "tom": ("Tom", "tiktok", "tomcooks"),
        }
        creators: dict[str, int] = {}
        for key, (full, platform, handle) in people.items():
            c = Creator(workspace_id=ws.id, name=full)
            s.add(c)
            s.flush()
            s.add(Account(workspace_id=ws.id, creator_id=c.id, platform=platform, handle=handle))
            creators[key] = c.id
        campaign = Campaign(
            workspace_id=ws.id,
            name="spring",
            attribution_days=attribution_days,
            targets={},
            hashtags=[],
            mentions=[],
        )
        s.add(campaign)
        s.flush()
        deals = {}
        links = {}
        slugs = {}
        for key, cid in creators.items():
            d = Deal(
                workspace_id=ws.id,
                campaign_id=campaign.id,
                creator_id=cid,
                commission_rate=Decimal(commission),
            )
            s.add(d)
            s.flush()
            deals[key] = d.id
            slug = f"{name}-{key}-{secrets.token_hex(3)}"
            utm = {
                "utm_source": "instagram",
                "utm_medium": "influencer",
                "utm_campaign": "spring",
                "utm_content": people[key][2],
            }
            link = TrackingLink(
                workspace_id=ws.id,
                slug=slug,
                creator_id=cid,
                campaign_id=campaign.id,
                deal_id=d.id,
                utm=utm,
                destination="https://shop.example/?" + "&".join(f"{k}={v}" for k, v in utm.items()),
            )
            s.add(link)
            s.flush()
            links[key] = link.id
            slugs[key] = slug
        return Brand(ws.id, creators, campaign.id, deals, links, slugs)


def add_click(
    store: Store,
    brand: Brand,
    who: str,
    at: dt.datetime,
    *,
    bot: bool = False,
    token: str | None = None,
) -> str:
    """One click on ``who``'s link at ``at``; its token (the redirect's ``mf_click``)."""
    token = token or secrets.token_urlsafe(12)
    with store.transaction() as s:
        s.add(
            LinkClick(
                workspace_id=brand.workspace_id,
                link_id=brand.links[who],
                token=token,
                clicked_at=at,
                agent_class="bot" if bot else "browser",
                visitor_hash=secrets.token_hex(8),
                is_bot=bot,
                is_unique=True,
            )
        )
    return token
