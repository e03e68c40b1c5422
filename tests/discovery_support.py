"""Crafted accounts for the search tests: each with exactly the values a filter looks at."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy.orm import Session

from microfluence.discovery.tables import AccountNiche, AccountQuality
from microfluence.kernel.store.tables import Account, Creator, Post
from microfluence.metrics.tables import AccountMetric, AccountTier, MetricRun

NOW = dt.datetime(2026, 6, 1, 12, 0)
NICHES = (
    "fashion beauty fitness food_drink travel family_parenting home_interior pets gaming tech "
    "music sports outdoors lifestyle business education art_photography health_wellness "
    "automotive other"
).split()


class Planter:
    def __init__(self, session: Session, workspace_id: int) -> None:
        self.session = session
        self.ws = workspace_id
        self.run = MetricRun(workspace_id=workspace_id, engine="duckdb", now=NOW)
        session.add(self.run)
        session.flush()

    def account(  # noqa: PLR0913  test data: every value a filter reads
        self,
        handle: str,
        *,
        platform: str = "instagram",
        name: str | None = None,
        bio: str | None = None,
        followers: int | None = 10_000,
        country: str | None = None,
        language: str | None = None,
        email: str | None = None,
        creator_email: str | None = None,
        er: float | None = None,
        percentile: float | None = None,
        quality: float | None = None,
        tier: str | None = None,
        scheme: str = "mediakix",
        niches: dict[str, tuple[float, str]] | None = None,
        posts: list[dict[str, Any]] | None = None,
    ) -> Account:
        s = self.session
        creator = Creator(workspace_id=self.ws, name=name or handle.title(), email=creator_email)
        s.add(creator)
        s.flush()
        account = Account(
            workspace_id=self.ws,
            creator_id=creator.id,
            platform=platform,
            handle=handle,
            display_name=name,
            bio=bio,
            followers=followers,
            country=country,
            language=language,
            email=email,
        )
        s.add(account)
        s.flush()
        for metric, value in (("er_median", er), ("cohort_percentile", percentile)):
            if value is not None:
                s.add(
                    AccountMetric(
                        workspace_id=self.ws,
                        account_id=account.id,
                        run_id=self.run.id,
                        metric=metric,
                        value=value,
                    )
                )
        if quality is not None:
            s.add(AccountQuality(workspace_id=self.ws, account_id=account.id, aqs=quality))
        if tier is not None:
            s.add(
                AccountTier(
                    workspace_id=self.ws,
                    account_id=account.id,
                    run_id=self.run.id,
                    scheme=scheme,
                    tier=tier,
                    followers=followers,
                )
            )
        for niche, (confidence, source) in (niches or {}).items():
            s.add(
                AccountNiche(
                    workspace_id=self.ws,
                    account_id=account.id,
                    niche=niche,
                    confidence=confidence,
                    source=source,
                )
            )
        for i, post in enumerate(posts or []):
            s.add(
                Post(
                    workspace_id=self.ws,
                    account_id=account.id,
                    platform_post_id=f"{handle}-{i}",
                    **post,
                )
            )
        s.flush()
        return account
