"""The quota meter: units spent per credential and quota day, against a daily budget.

YouTube Data API v3 (https://developers.google.com/youtube/v3/getting-started#quota and the
quota calculator, https://developers.google.com/youtube/v3/determine_quota_cost): a project
gets 10,000 units a day by default; every request costs at least one unit, even an invalid
one; ``channels.list``, ``playlistItems.list`` and ``videos.list`` cost 1 unit, ``search.list``
100. "Daily quotas reset at midnight Pacific Time (PT)": the quota day is the date in
America/Los_Angeles.

Instagram's Graph API has no units: its limits are rates, read from the answers' headers
(connectors.instagram); the meter counts its calls per UTC day, against the budget when one is
set. A call is charged before it is made, in a transaction of its own, by a conditional update:
two runs sharing a key never spend more than the budget between them."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError

from microfluence.connectors.http import QuotaExhausted
from microfluence.connectors.settings import DEFAULT_YOUTUBE_BUDGET
from microfluence.connectors.tables import ConnectorCredential, ConnectorQuota
from microfluence.kernel.store import Store

PACIFIC = ZoneInfo("America/Los_Angeles")
YOUTUBE_COSTS = {
    "channels.list": 1,
    "playlistItems.list": 1,
    "videos.list": 1,
    "search.list": 100,
}


def quota_day(platform: str, now: dt.datetime | None = None) -> dt.date:
    """The platform's quota day at ``now`` (aware, or naive UTC): Pacific for YouTube."""
    moment = now or dt.datetime.now(dt.UTC)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=dt.UTC)
    zone = PACIFIC if platform == "youtube" else dt.UTC
    return moment.astimezone(zone).date()


def budget_of(credential: ConnectorCredential) -> int | None:
    """The units a day the workspace allows itself: its own budget, else Google's default for
    YouTube, none for Instagram (its rate limits rule)."""
    if credential.daily_budget is not None:
        return credential.daily_budget
    return DEFAULT_YOUTUBE_BUDGET if credential.platform == "youtube" else None


@dataclass
class QuotaMeter:
    store: Store
    workspace_id: int
    credential_id: int
    platform: str
    budget: int | None
    spent: int = 0  # by this meter (this run)

    def _row(self, day: dt.date) -> None:
        """The day's row, made if missing (another run may make it at the same time)."""
        with self.store.transaction() as session:
            found = session.scalar(
                select(ConnectorQuota.id).where(
                    ConnectorQuota.credential_id == self.credential_id, ConnectorQuota.day == day
                )
            )
            if found is not None:
                return
            try:
                with session.begin_nested():
                    session.add(
                        ConnectorQuota(
                            workspace_id=self.workspace_id,
                            credential_id=self.credential_id,
                            day=day,
                            units=0,
                            exhausted=False,
                        )
                    )
            except IntegrityError:
                pass

    def used(self, now: dt.datetime | None = None) -> tuple[int, bool]:
        """(units spent today, whether the platform said the quota is exhausted)."""
        with self.store.session() as session:
            row = session.execute(
                select(ConnectorQuota.units, ConnectorQuota.exhausted).where(
                    ConnectorQuota.credential_id == self.credential_id,
                    ConnectorQuota.day == quota_day(self.platform, now),
                )
            ).first()
        return (row[0], bool(row[1])) if row else (0, False)

    def charge(self, method: str, now: dt.datetime | None = None) -> int:
        """Spend ``method``'s cost before calling it; :class:`QuotaExhausted` when it would go
        past the budget or the platform has said today's quota is spent."""
        cost = YOUTUBE_COSTS.get(method, 1)
        day = quota_day(self.platform, now)
        self._row(day)
        table = ConnectorQuota
        query = update(table).where(
            table.credential_id == self.credential_id, table.day == day, ~table.exhausted
        )
        if self.budget is not None:
            query = query.where(table.units + cost <= self.budget)
        with self.store.transaction() as session:
            charged = session.execute(query.values(units=table.units + cost)).rowcount
        if not charged:
            used, exhausted = self.used(now)
            if exhausted:
                raise QuotaExhausted(
                    f"the {self.platform} quota of today is spent (the API said so); it resets "
                    "at midnight Pacific time"
                )
            raise QuotaExhausted(
                f"the daily budget of {self.budget} units is reached ({used} spent today; "
                f"{method} costs {cost}); it resets at midnight Pacific time"
            )
        self.spent += cost
        return cost

    def mark_exhausted(self, now: dt.datetime | None = None) -> None:
        """The platform answered quotaExceeded: no more calls with this key today."""
        day = quota_day(self.platform, now)
        self._row(day)
        with self.store.transaction() as session:
            session.execute(
                update(ConnectorQuota)
                .where(
                    ConnectorQuota.credential_id == self.credential_id, ConnectorQuota.day == day
                )
                .values(exhausted=True)
            )
