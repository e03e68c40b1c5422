"""What the creator profile shows, gathered from the catalog and metrics services: per account
its latest numbers, follower history, growth, recent posts with their engagement, tiers under
every scheme, cohort percentile and vendor-compatible engagement rates."""

from __future__ import annotations

import html
from dataclasses import dataclass, field
from typing import Any

from markupsafe import Markup
from sqlalchemy.orm import Session

from microfluence.access.principal import Principal
from microfluence.catalog.accounts import get_account
from microfluence.catalog.creators import get_creator
from microfluence.catalog.listing import Window
from microfluence.catalog.posts import PostFilters, list_posts
from microfluence.catalog.schemas import AccountPublic, CreatorPublic
from microfluence.metrics.catalogue import VENDOR_METRICS
from microfluence.metrics.inputs import GROWTH_DAYS
from microfluence.metrics.service import (
    AccountMetrics,
    account_metrics,
    follower_history,
    post_engagement,
)
from microfluence.web.pages import charts

RECENT_POSTS = 12  # rows in the table; the chart shows up to CHART_POSTS
CHART_POSTS = 120
VENDOR_LABELS = {
    "er_hypeauditor": "HypeAuditor",
    "er_modash": "Modash",
    "er_upfluence": "Upfluence",
    "er_grin": "GRIN",
}


@dataclass
class AccountView:
    account: AccountPublic
    metrics: AccountMetrics
    scored: bool  # False until `microfluence score` has run over this account
    recent_posts: list[Any]  # PostEngagement once scored, else the catalog's PostPublic
    history_chart: Markup | None
    growth_chart: Markup | None
    engagement_chart: Markup | None
    vendor_rates: list[tuple[str, float | None]] = field(default_factory=list)

    def metric(self, name: str) -> Any:
        return self.metrics.value(name)


@dataclass
class ProfileView:
    creator: CreatorPublic
    accounts: list[AccountView]


def _account_view(session: Session, caller: Principal, account_id: int) -> AccountView:
    workspace = caller.workspace_name
    account = get_account(session, caller.workspace_id, account_id)
    metrics = account_metrics(session, workspace, account_id)
    posts = post_engagement(session, workspace, account_id, limit=CHART_POSTS)
    history = follower_history(session, workspace, account_id)
    # Plotly reads a few HTML tags in titles: the handle is data, never markup.
    label = html.escape(f"{account.platform}:{account.handle}")
    scored = metrics.computed_at is not None and any(
        m.value is not None for m in metrics.metrics.values()
    )
    key = f"a{account_id}"
    recent: list[Any] = list(posts[:RECENT_POSTS])
    if not recent:  # not scored yet: the posts without rates, still worth seeing
        window = Window(limit=RECENT_POSTS)
        filters = PostFilters(account_id=account_id)
        recent = list(list_posts(session, caller.workspace_id, filters, window=window).data)
    return AccountView(
        account=account,
        metrics=metrics,
        scored=scored,
        recent_posts=recent,
        history_chart=charts.to_div(
            charts.follower_history_figure(history, f"Followers over time · {label}"),
            f"followers-{key}",
        ),
        growth_chart=charts.to_div(
            charts.growth_figure(metrics, GROWTH_DAYS, f"Follower growth · {label}"),
            f"growth-{key}",
        ),
        engagement_chart=charts.to_div(
            charts.engagement_figure(posts, f"Engagement per post · {label}"),
            f"engagement-{key}",
        ),
        vendor_rates=[(VENDOR_LABELS[n], metrics.value(n)) for n in VENDOR_METRICS],
    )


def creator_profile(session: Session, caller: Principal, creator_id: int) -> ProfileView:
    """The profile of a creator of the caller's workspace (NotFoundError for any other id)."""
    creator = get_creator(session, caller.workspace_id, creator_id)
    views = [_account_view(session, caller, a.id) for a in creator.accounts]
    return ProfileView(creator=creator, accounts=views)
