"""The search's filters, exact: each a condition on ``account_search`` (one row per account,
kept current by the database's triggers; discovery.tables, revision "0030"), combined with AND
(docs/discovery.md, "Search"). Here as SQL, for the queries that rank in the database (semantic
search, the facets); the same filters are masks over the in-process search columns for the
rest (discovery.columns), and ``candidate_ids`` reads those.

* ranges are inclusive at both ends; an account whose value is unknown (NULL) is left out by
  any filter on that value;
* engagement rate: the account's stored ``er_median`` (by followers, metrics pipeline);
* quality: the stored Audience Quality Score (``account_quality``, discovery.quality);
* tier: ``account_tiers`` under the scheme named, or the workspace's chosen scheme;
* niche: the account's ``user`` rows when it has any, else its ``model`` rows with a confidence
  at or above the query's ``niche_confidence``;
* country, language: the account's or its creator's, in any case (both stored lower case, the
  value asked for lowered by the same ``lower()``); has email: the account's or its creator's
  address is not empty;
* posted within N days: the account's latest post is at or after ``now − N days`` (the same as
  "a post at or after").
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import numpy as np
from sqlalchemy import and_, exists, func, or_, select
from sqlalchemy.orm import Session, aliased

from microfluence.discovery import columns
from microfluence.discovery.query import SearchQuery
from microfluence.discovery.tables import AccountNiche, AccountSearch
from microfluence.kernel.store.tables import Account
from microfluence.metrics.tables import AccountMetric, AccountTier

ER_METRIC = "er_median"
_USER_NICHE = aliased(AccountNiche, name="user_niche")
S = AccountSearch


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


def tier_value(workspace_id: int, scheme: str, account_id: Any = S.account_id) -> Any:
    return (
        select(AccountTier.tier)
        .where(
            AccountTier.workspace_id == workspace_id,
            AccountTier.account_id == account_id,
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
        AccountNiche.account_id == S.account_id,
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


def _people(query: SearchQuery) -> list[Any]:
    out: list[Any] = []
    if query.language and query.language.strip():
        wanted = func.lower(query.language.strip())
        out.append(or_(S.language == wanted, S.creator_language == wanted))
    if query.has_email is not None:
        out.append(S.has_email == query.has_email)
    return out


def branches(query: SearchQuery) -> list[list[Any]]:
    """The country filter as disjoint alternatives, each one index range: the account's own
    country, or else its creator's. (An OR of the two columns would make SQLite's planner fall
    back to the follower range: ten times the rows at a million accounts.) One alternative
    without conditions when no country is asked for."""
    if not (query.country and query.country.strip()):
        return [[]]
    wanted = func.lower(query.country.strip())
    return [
        [S.country == wanted],
        [S.creator_country == wanted, or_(S.country.is_(None), S.country != wanted)],
    ]


def conditions(workspace_id: int, query: SearchQuery, scheme: str, now: dt.datetime) -> list[Any]:
    """The WHERE conditions of ``query`` over ``account_search`` but the country's
    (``branches``)."""
    where: list[Any] = [S.workspace_id == workspace_id]
    if query.platform:
        where.append(S.platform == query.platform)
    where += _range(S.followers, query.min_followers, query.max_followers)
    where += _range(S.er, query.min_er, query.max_er)
    if query.min_quality is not None:
        where.append(S.aqs >= query.min_quality)
    if query.tier:
        where.append(tier_value(workspace_id, scheme) == query.tier)
    if query.niche:
        where.append(niche_condition(workspace_id, query.niche, query.niche_confidence))
    where += _people(query)
    if query.posted_within_days is not None:
        where.append(S.last_post_at >= now - dt.timedelta(days=query.posted_within_days))
    return where


def row_conditions(
    workspace_id: int, query: SearchQuery, scheme: str, now: dt.datetime
) -> list[Any]:
    """Every WHERE condition of ``query`` on one driven row (an account the words or the
    nearest vectors chose, looked up by its id): ``conditions`` and the country's
    alternatives as one OR, which costs nothing there, no range being read."""
    where = conditions(workspace_id, query, scheme, now)
    country = branches(query)
    if len(country) > 1:
        where.append(or_(*(and_(*alt) for alt in country)))
    return where


def candidate_ids(
    session: Session,
    workspace_id: int,
    query: SearchQuery,
    scheme: str,
    now: dt.datetime,
    *,
    cap: int,
) -> np.ndarray | None:
    """The ids of every account of the workspace that passes the query's filters (its words,
    brief and lookalikes aside), sorted, as int64; ``None`` when more than ``cap`` pass, so a
    caller can let its own index drive instead. From the in-process search columns, the same
    accounts as ``conditions`` and ``branches`` pass in the database (discovery.columns)."""
    cols = columns.columns_for(session, workspace_id)
    rows = columns.passing(cols, query, columns.asked(session, query, scheme), now)
    return None if len(rows) > cap else cols.ids[rows]
