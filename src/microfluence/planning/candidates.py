"""The candidates a plan chooses from: one row per account with what prices and forecasts need
(followers, engagement rate, country, niche, Audience Quality Score), read in a few queries
and joined in Polars."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import polars as pl
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from microfluence.discovery.shortlists import find_shortlist
from microfluence.discovery.tables import AccountNiche, AccountQuality, Shortlist, ShortlistEntry
from microfluence.kernel.errors import NotFoundError
from microfluence.kernel.store.tables import Account, Creator
from microfluence.metrics.tables import AccountMetric

METRICS = ("er_median", "er_median_lo", "er_median_hi", "n_er")
SCHEMA: dict[str, Any] = {
    "account_id": pl.Int64,
    "creator_id": pl.Int64,
    "creator_name": pl.String,
    "platform": pl.String,
    "handle": pl.String,
    "followers": pl.Float64,
    "reported_er": pl.Float64,
    "country": pl.String,
}


def _accounts(session: Session, workspace_id: int, where: Sequence[Any]) -> pl.DataFrame:
    rows = session.execute(
        select(
            Account.id,
            Account.creator_id,
            Creator.name,
            Account.platform,
            Account.handle,
            Account.followers,
            Account.reported_engagement_rate,
            func.coalesce(Account.country, Creator.country),
        )
        .join(Creator, Creator.id == Account.creator_id)
        .where(Account.workspace_id == workspace_id, *where)
        .order_by(Account.id)
    ).all()
    return pl.DataFrame([tuple(r) for r in rows], schema=SCHEMA, orient="row")


def _metrics(session: Session, workspace_id: int, ids: list[int]) -> pl.DataFrame:
    rows = session.execute(
        select(AccountMetric.account_id, AccountMetric.metric, AccountMetric.value).where(
            AccountMetric.workspace_id == workspace_id,
            AccountMetric.metric.in_(METRICS),
            AccountMetric.account_id.in_(ids),
        )
    ).all()
    long = pl.DataFrame(
        [tuple(r) for r in rows],
        schema={"account_id": pl.Int64, "metric": pl.String, "value": pl.Float64},
        orient="row",
    )
    wide = pl.DataFrame({"account_id": ids}, schema={"account_id": pl.Int64})
    for metric in METRICS:
        part = long.filter(pl.col("metric") == metric).select(
            "account_id", pl.col("value").alias(metric)
        )
        wide = wide.join(part, on="account_id", how="left")
    return wide


def _niches(session: Session, workspace_id: int, ids: list[int]) -> pl.DataFrame:
    """The account's main niche: a hand-set one first, else the model's most confident."""
    rows = session.execute(
        select(
            AccountNiche.account_id,
            AccountNiche.niche,
            AccountNiche.source,
            AccountNiche.confidence,
        ).where(AccountNiche.workspace_id == workspace_id, AccountNiche.account_id.in_(ids))
    ).all()
    frame = pl.DataFrame(
        [tuple(r) for r in rows],
        schema={
            "account_id": pl.Int64,
            "niche": pl.String,
            "source": pl.String,
            "confidence": pl.Float64,
        },
        orient="row",
    )
    return (
        frame.sort(
            "account_id",
            pl.col("source") == "user",
            "confidence",
            "niche",
            descending=[False, True, True, False],
        )
        .group_by("account_id", maintain_order=True)
        .first()
        .select("account_id", "niche")
    )


def _quality(session: Session, workspace_id: int, ids: list[int]) -> pl.DataFrame:
    rows = session.execute(
        select(AccountQuality.account_id, AccountQuality.aqs).where(
            AccountQuality.workspace_id == workspace_id, AccountQuality.account_id.in_(ids)
        )
    ).all()
    return pl.DataFrame(
        [tuple(r) for r in rows], schema={"account_id": pl.Int64, "aqs": pl.Float64}, orient="row"
    )


def load_candidates(
    session: Session,
    workspace_id: int,
    *,
    shortlist: str | None = None,
    account_ids: Sequence[int] | None = None,
) -> pl.DataFrame:
    """Every account of the workspace with followers known (or those of the shortlist named,
    or the ids given), with its ER (stored median, else the reported one), interval, niche,
    country and AQS."""
    where: list[Any] = [Account.followers.is_not(None)]
    if shortlist is not None:
        where.append(Account.creator_id.in_(_shortlist_creators(session, workspace_id, shortlist)))
    if account_ids is not None:
        where.append(Account.id.in_(list(account_ids)))
    accounts = _accounts(session, workspace_id, where)
    ids = accounts["account_id"].to_list()
    frame = (
        accounts.join(_metrics(session, workspace_id, ids), on="account_id", how="left")
        .join(_niches(session, workspace_id, ids), on="account_id", how="left")
        .join(_quality(session, workspace_id, ids), on="account_id", how="left")
    )
    return frame.with_columns(
        er=pl.coalesce("er_median", "reported_er"),
        niche=pl.col("niche").fill_null("unknown"),
        country=pl.col("country").str.to_uppercase().fill_null("unknown"),
    )


def _shortlist_creators(session: Session, workspace_id: int, name: str) -> Any:
    found = session.scalar(
        select(Shortlist.id).where(
            Shortlist.workspace_id == workspace_id, Shortlist.name == name.strip()
        )
    )
    if found is None:
        raise NotFoundError(f"no shortlist named {name.strip()[:200]!r} in this workspace")
    find_shortlist(session, workspace_id, found)
    return select(ShortlistEntry.creator_id).where(
        ShortlistEntry.workspace_id == workspace_id, ShortlistEntry.shortlist_id == found
    )
