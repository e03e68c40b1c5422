"""A workspace to plan in: accounts with followers, ER, country, niche and AQS, some follower
samples (two accounts share most of theirs), and a past campaign with priced deals."""

from __future__ import annotations

from dataclasses import dataclass

from microfluence.campaigns.campaigns import create_campaign
from microfluence.campaigns.deals import add_deal
from microfluence.campaigns.schemas import CampaignCreate, DealCreate, parse_model
from microfluence.discovery.tables import AccountNiche, AccountQuality
from microfluence.kernel.store import Store
from microfluence.kernel.store.tables import Account, Creator, Follower
from microfluence.kernel.workspaces import ensure_workspace

# handle, platform, followers, ER, country, niche, AQS
ROSTER = (
    ("ana", "instagram", 8_000, 0.06, "FR", "beauty", 80.0),
    ("bo", "instagram", 40_000, 0.03, "DE", "food", 70.0),
    ("cy", "tiktok", 25_000, 0.08, "FR", "beauty", 60.0),
    ("di", "youtube", 120_000, 0.02, "US", "travel", 90.0),
    ("ed", "instagram", 600_000, 0.012, "US", "beauty", 40.0),
    ("fa", "instagram", 15_000, 0.05, "FR", "food", None),
)


@dataclass
class PlanWorld:
    workspace_id: int
    accounts: dict[str, int]  # handle (without prefix) -> account id
    campaign_id: int


def make_plan_world(store: Store, name: str = "brand", prefix: str = "") -> PlanWorld:
    with store.transaction() as session:
        ws = ensure_workspace(session, name)
        accounts = {}
        for handle, platform, followers, er, country, niche, aqs in ROSTER:
            creator = Creator(workspace_id=ws.id, name=f"{prefix}{handle.title()}", country=country)
            session.add(creator)
            session.flush()
            account = Account(
                workspace_id=ws.id,
                creator_id=creator.id,
                platform=platform,
                handle=f"{prefix}{handle}",
                followers=followers,
                reported_engagement_rate=er,
                country=country,
            )
            session.add(account)
            session.flush()
            accounts[handle] = account.id
            session.add(
                AccountNiche(workspace_id=ws.id, account_id=account.id, niche=niche, confidence=0.9)
            )
            session.add(AccountQuality(account_id=account.id, workspace_id=ws.id, aqs=aqs))
        # Ana and Fa share 30 of their 40 sampled followers; Bo's sample is his own.
        samples = {
            "ana": [f"u{i}" for i in range(40)],
            "fa": [f"u{i}" for i in range(10, 50)],
            "bo": [f"b{i}" for i in range(40)],
        }
        for handle, users in samples.items():
            session.add_all(
                Follower(workspace_id=ws.id, account_id=accounts[handle], username=u) for u in users
            )
        past = create_campaign(
            session, ws.id, parse_model(CampaignCreate, {"name": f"{prefix}Spring"})
        )
        for handle, fee, package in (("bo", "900", {"feed_post": 1}), ("cy", "300", {"video": 2})):
            add_deal(
                session,
                ws.id,
                past.id,
                parse_model(
                    DealCreate,
                    {
                        "creator": f"{dict((r[0], r[1]) for r in ROSTER)[handle]}:{prefix}{handle}",
                        "flat_fee": fee,
                        "package": package,
                    },
                ),
            )
        return PlanWorld(ws.id, accounts, past.id)
