"""The workspace's connections as every face shows them: each platform's credentials (masked),
the quota used today against the budget, and when the quota day ends."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from microfluence.connectors.credentials import find_credential
from microfluence.connectors.quota import PACIFIC, budget_of, quota_day
from microfluence.connectors.tables import CONNECTOR_PLATFORMS, ConnectorQuota


@dataclass(frozen=True)
class Connection:
    platform: str
    connected: bool
    hint: str | None
    business_account_id: str | None
    daily_budget: int | None  # the workspace's own, None: the default
    budget: int | None  # in force: its own or the platform's default (YouTube 10,000)
    used_today: int
    exhausted: bool  # the platform said today's quota is spent
    quota_day: dt.date
    resets_at: dt.datetime  # naive UTC
    updated_at: dt.datetime | None


def _resets_at(platform: str, now: dt.datetime) -> dt.datetime:
    day = quota_day(platform, now)
    zone = PACIFIC if platform == "youtube" else dt.UTC
    midnight = dt.datetime.combine(day + dt.timedelta(days=1), dt.time(), tzinfo=zone)
    return midnight.astimezone(dt.UTC).replace(tzinfo=None)


def connections(
    session: Session, workspace_id: int, now: dt.datetime | None = None
) -> list[Connection]:
    moment = now or dt.datetime.now(dt.UTC)
    found = []
    for platform in CONNECTOR_PLATFORMS:
        row = find_credential(session, workspace_id, platform)
        day = quota_day(platform, moment)
        used, exhausted = 0, False
        if row is not None:
            quota = session.execute(
                select(ConnectorQuota.units, ConnectorQuota.exhausted).where(
                    ConnectorQuota.credential_id == row.id, ConnectorQuota.day == day
                )
            ).first()
            if quota is not None:
                used, exhausted = quota[0], bool(quota[1])
        found.append(
            Connection(
                platform=platform,
                connected=row is not None,
                hint=row.hint if row else None,
                business_account_id=row.business_account_id if row else None,
                daily_budget=row.daily_budget if row else None,
                budget=budget_of(row) if row else None,
                used_today=used,
                exhausted=exhausted,
                quota_day=day,
                resets_at=_resets_at(platform, moment),
                updated_at=row.updated_at if row else None,
            )
        )
    return found
