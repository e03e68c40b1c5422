"""The search's filters, exact and in the database: each is a condition on ``accounts`` (a
search result is an account), combined with AND (docs/discovery.md, "Search").

* ranges are inclusive at both ends; an account whose value is unknown (NULL) is left out by
  any filter on that value;
* engagement rate: the account's stored ``er_median`` (by followers, metrics pipeline);
* quality: the stored Audience Quality Score (``account_quality``, discovery.quality);
* tier: ``account_tiers`` under the scheme named, or the workspace's chosen scheme;
* niche: the account's ``user`` rows when it has any, else its ``model`` rows with a confidence
  at or above the query's ``niche_confidence``;
* country, language: the account's or its creator's, in any case; has email: the account's or
  its creator's address is not empty;
* posted within N days: a post at or after ``now − N days``.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import and_, exists, func, or_, select
from sqlalchemy.orm import Session, aliased

from microfluence.catalog.listing import Text
from microfluence.discovery.query import SearchQuery
from microfluence.discovery.tables import AccountNiche, AccountQuality
from microfluence.kernel.store.tables import Account, Creator, Post
from microfluence.metrics.tables import AccountMetric, AccountTier

ER_METRIC = "er_median"
_USER_NICHE = aliased(AccountNiche, name="user_niche")


def metric_value(workspace_id: int, metric: str) -> Any:
    return (
        select(AccountMetric.value)
        .where(
            AccountMetric.workspace_id == workspace_id,
            AccountMetric.account_id == Account.id,
            AccountMetric.metric == metric,
        )
        .scalar_subquery()
    )


def quality_value(workspace_id: int) -> Any:
    return (
        select(AccountQuality.aqs)
        .where(AccountQuality.workspace_id == workspace_id, AccountQuality.account_id == Account.id)
        .scalar_subquery()
    )


def tier_value(workspace_id: int, scheme: str) -> Any:
    return (
        select(AccountTier.tier)
        .where(
            AccountTier.workspace_id == workspace_id,
            AccountTier.account_id == Account.id,
            AccountTier.scheme == scheme,
        )
        .scalar_subquery()
    )


def niche_of_account(workspace_id: int, confidence: float) -> Any:
    """An ``account_niches`` row that counts: a user row, or a model row at or above
    ``confidence`` of an account without user rows."""
    has_user_rows = exists().where(
        _USER_NICHE.account_id == AccountNiche.account_id, _USER_NICHE.source == "user"
    )
    return and_(
        AccountNiche.workspace_id == workspace_id,
        or_(
            AccountNiche.source == "user",
            and_(
                AccountNiche.source == "model",
                AccountNiche.confidence >= confidence,
                ~has_user_rows,
            ),
        ),
    )


def niche_condition(workspace_id: int, niche: str, confidence: float) -> Any:
    """The account has ``niche``: among its user rows if it has any, else among its model rows
    at or above ``confidence``."""
    return exists().where(
        AccountNiche.account_id == Account.id,
        AccountNiche.niche == niche,
        niche_of_account(workspace_id, confidence),
    )


def _range(column: Any, low: Any, high: Any) -> list[Any]:
    out = []
    if low is not None:
        out.append(column >= low)
    if high is not None:
        out.append(column <= high)
    return out


def _people(session: Session, query: SearchQuery) -> list[Any]:
    text = Text(session)
    out: list[Any] = []
    for name in ("country", "language"):
        value = getattr(query, name)
        if value and value.strip():
            out.append(
                or_(
                    text.equals(getattr(Account, name), value),
                    text.equals(getattr(Creator, name), value),
                )
            )
    if query.has_email is not None:
        email = func.coalesce(func.nullif(func.trim(Account.email), ""), func.trim(Creator.email))
        has = func.coalesce(func.length(email), 0) > 0
        out.append(has if query.has_email else ~has)
    return out


def conditions(
    session: Session, workspace_id: int, query: SearchQuery, scheme: str, now: dt.datetime
) -> list[Any]:
    """The WHERE conditions of ``query`` over ``accounts`` joined to ``creators``."""
    where: list[Any] = [Account.workspace_id == workspace_id]
    if query.platform:
        where.append(Account.platform == query.platform)
    where += _range(Account.followers, query.min_followers, query.max_followers)
    if query.min_er is not None or query.max_er is not None:
        where += _range(metric_value(workspace_id, ER_METRIC), query.min_er, query.max_er)
    if query.min_quality is not None:
        where.append(quality_value(workspace_id) >= query.min_quality)
    if query.tier:
        where.append(tier_value(workspace_id, scheme) == query.tier)
    if query.niche:
        where.append(niche_condition(workspace_id, query.niche, query.niche_confidence))
    where += _people(session, query)
    if query.posted_within_days is not None:
        since = now - dt.timedelta(days=query.posted_within_days)
        where.append(
            exists().where(
                Post.workspace_id == workspace_id,
                Post.account_id == Account.id,
                Post.posted_at >= since,
            )
        )
    return where
