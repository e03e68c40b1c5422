"""Reading what an authorisation allows and storing it as first-party numbers; showing them,
verified by the creator's authorisation, with the date they were read.

A read refreshes the token first when it is about to expire (grants.access_token); an API that
still says the token is invalid gets one forced refresh and a second try (Google, TikTok), then
the authorisation is marked. Rows are written in one transaction: a read that fails stores
nothing of itself (the authorisation's new status is kept). Re-reading replaces the same
(metric, period, end_time, item) and the same audience keys, so nothing is duplicated.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from pydantic import BaseModel
from sqlalchemy import delete, func, insert, select, tuple_
from sqlalchemy.orm import Session

from microfluence.catalog.schemas import UtcDateTime
from microfluence.connectors.oauth.calls import GrantError, PlatformError
from microfluence.connectors.oauth.grants import access_token, get_authorisation, mark
from microfluence.connectors.oauth.readers import READERS, Reading
from microfluence.connectors.oauth.tables import (
    FIRST_PARTY,
    AccountInsight,
    AudienceBreakdown,
    CreatorAuthorisation,
)
from microfluence.kernel.errors import NotFoundError
from microfluence.kernel.store.tables import Account, utcnow

VERIFIED = "verified by the creator's authorisation"


class FetchResult(BaseModel):
    authorisation_id: int
    platform: str
    status: str
    insights: int = 0
    audience: int = 0
    fetched_at: UtcDateTime | None = None
    error: str | None = None


def _read(session: Session, auth: CreatorAuthorisation, now: dt.datetime) -> Reading:
    reader = READERS[auth.platform]
    token = access_token(session, auth)
    try:
        return reader(auth.external_id, token, now)
    except GrantError as exc:
        if exc.status != "expired" or not auth.refresh_token_sealed:
            raise
    return reader(auth.external_id, access_token(session, auth, force_refresh=True), now)


def _store(
    session: Session, auth: CreatorAuthorisation, reading: Reading, now: dt.datetime
) -> None:
    common = {
        "workspace_id": auth.workspace_id,
        "authorisation_id": auth.id,
        "account_id": auth.account_id,
        "platform": auth.platform,
        "source": FIRST_PARTY,
        "fetched_at": now,
    }
    if reading.insights:
        keys = {(r["metric"], r["period"], r["end_time"], r["item_id"]) for r in reading.insights}
        rows = [{**common, **r} for r in reading.insights]
        rows = list(
            {(r["metric"], r["period"], r["end_time"], r["item_id"]): r for r in rows}.values()
        )
        session.execute(
            delete(AccountInsight).where(
                AccountInsight.authorisation_id == auth.id,
                tuple_(
                    AccountInsight.metric,
                    AccountInsight.period,
                    AccountInsight.end_time,
                    AccountInsight.item_id,
                ).in_(list(keys)),
            )
        )
        session.execute(insert(AccountInsight), rows)
    if reading.audience:
        dims = {r["dimension"] for r in reading.audience}
        session.execute(
            delete(AudienceBreakdown).where(
                AudienceBreakdown.authorisation_id == auth.id, AudienceBreakdown.dimension.in_(dims)
            )
        )
        rows = list(
            {(r["dimension"], r["key"]): {**common, **r} for r in reading.audience}.values()
        )
        session.execute(insert(AudienceBreakdown), rows)
    auth.fetched_at = now
    session.flush()


def fetch_insights(session: Session, workspace_id: int, auth_id: int) -> FetchResult:
    """Read what the authorisation allows now and store it. A refused grant does not raise: the
    authorisation is marked (expired or revoked) and the result says why, so the mark is kept
    when the caller commits. A platform that cannot be reached raises PlatformError."""
    auth = get_authorisation(session, workspace_id, auth_id)
    now = utcnow()
    result = FetchResult(authorisation_id=auth.id, platform=auth.platform, status=auth.status)
    try:
        with session.begin_nested():
            reading = _read(session, auth, now)
            _store(session, auth, reading, now)
    except GrantError as exc:
        if auth.status == "active":
            mark(session, auth, exc.status, str(exc))
        return result.model_copy(update={"status": auth.status, "error": str(exc)})
    return result.model_copy(
        update={
            "status": auth.status,
            "insights": len(reading.insights),
            "audience": len(reading.audience),
            "fetched_at": now,
        }
    )


def fetch_all(session: Session, workspace_id: int) -> list[FetchResult]:
    """Every active authorisation of the workspace read in turn (for cron, or the CLI)."""
    ids = session.scalars(
        select(CreatorAuthorisation.id).where(
            CreatorAuthorisation.workspace_id == workspace_id,
            CreatorAuthorisation.status == "active",
        )
    ).all()
    results = []
    for auth_id in ids:
        try:
            results.append(fetch_insights(session, workspace_id, auth_id))
        except PlatformError as exc:
            auth = get_authorisation(session, workspace_id, auth_id)
            results.append(
                FetchResult(
                    authorisation_id=auth_id,
                    platform=auth.platform,
                    status=auth.status,
                    error=str(exc),
                )
            )
    return results


# --- showing them ---------------------------------------------------------------------------


class InsightValue(BaseModel):
    metric: str
    period: str
    end_time: UtcDateTime
    value: int


class AudienceShare(BaseModel):
    key: str
    value: float
    unit: str


class AccountInsightsPublic(BaseModel):
    account_id: int
    verified: bool
    verified_label: str | None
    verified_at: UtcDateTime | None
    source: str
    authorisation_status: str | None
    latest: list[InsightValue]
    audience: dict[str, list[AudienceShare]]
    items: int


def _latest(session: Session, ws: int, account_id: int) -> list[InsightValue]:
    scope = (
        AccountInsight.workspace_id == ws,
        AccountInsight.account_id == account_id,
        AccountInsight.item_id == "",
    )
    newest = (
        select(
            AccountInsight.metric,
            AccountInsight.period,
            func.max(AccountInsight.end_time).label("t"),
        )
        .where(*scope)
        .group_by(AccountInsight.metric, AccountInsight.period)
        .subquery()
    )
    rows = session.execute(
        select(
            AccountInsight.metric,
            AccountInsight.period,
            AccountInsight.end_time,
            AccountInsight.value,
        )
        .join(
            newest,
            (newest.c.metric == AccountInsight.metric)
            & (newest.c.period == AccountInsight.period)
            & (newest.c.t == AccountInsight.end_time),
        )
        .where(*scope)
        .order_by(AccountInsight.metric)
    )
    return [InsightValue(metric=m, period=p, end_time=t, value=v) for m, p, t, v in rows]


def account_insights(session: Session, workspace_id: int, account_id: int) -> AccountInsightsPublic:
    """The account's first-party numbers: the newest of each metric, the audience, and whether
    (and when) they were verified by the creator's authorisation."""
    if (
        session.scalar(
            select(Account.id).where(Account.workspace_id == workspace_id, Account.id == account_id)
        )
        is None
    ):
        raise NotFoundError(f"no account with id {account_id}")
    auth = session.execute(
        select(CreatorAuthorisation.status, CreatorAuthorisation.fetched_at)
        .where(
            CreatorAuthorisation.workspace_id == workspace_id,
            CreatorAuthorisation.account_id == account_id,
        )
        .order_by(
            CreatorAuthorisation.fetched_at.desc().nulls_last(), CreatorAuthorisation.id.desc()
        )
        .limit(1)
    ).first()
    audience: dict[str, list[AudienceShare]] = {}
    for dimension, key, value, unit in session.execute(
        select(
            AudienceBreakdown.dimension,
            AudienceBreakdown.key,
            AudienceBreakdown.value,
            AudienceBreakdown.unit,
        )
        .where(
            AudienceBreakdown.workspace_id == workspace_id,
            AudienceBreakdown.account_id == account_id,
        )
        .order_by(
            AudienceBreakdown.dimension, AudienceBreakdown.value.desc(), AudienceBreakdown.key
        )
    ):
        audience.setdefault(dimension, []).append(AudienceShare(key=key, value=value, unit=unit))
    items = (
        session.scalar(
            select(func.count(func.distinct(AccountInsight.item_id))).where(
                AccountInsight.workspace_id == workspace_id,
                AccountInsight.account_id == account_id,
                AccountInsight.item_id != "",
            )
        )
        or 0
    )
    latest = _latest(session, workspace_id, account_id)
    verified_at = auth[1] if auth is not None else None
    verified = verified_at is not None and bool(latest or audience)
    return AccountInsightsPublic(
        account_id=account_id,
        verified=verified,
        verified_label=VERIFIED if verified else None,
        verified_at=verified_at if verified else None,
        source=FIRST_PARTY,
        authorisation_status=auth[0] if auth is not None else None,
        latest=latest,
        audience=audience,
        items=int(items),
    )


def verified_accounts(
    session: Session, workspace_id: int, account_ids: list[int]
) -> dict[int, Any]:
    """account id → its first-party insights, for the accounts that have any (the profile)."""
    having = session.scalars(
        select(CreatorAuthorisation.account_id).where(
            CreatorAuthorisation.workspace_id == workspace_id,
            CreatorAuthorisation.account_id.in_(account_ids),
            CreatorAuthorisation.fetched_at.is_not(None),
        )
    ).all()
    return {a: account_insights(session, workspace_id, a) for a in sorted(set(having))}
