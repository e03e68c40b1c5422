"""What each platform's authorisation lets us read, in its documented shapes, turned into rows
of ``account_insights`` (metric, period, end_time, item_id, value) and ``audience_breakdowns``
(dimension, key, value, unit).

* Instagram Graph API (v21.0): ``/{ig-user-id}?fields=followers_count`` (follower count);
  ``/{ig-user-id}/insights?metric=reach,impressions,profile_views&period=day`` —
  ``{"data": [{"name", "period", "values": [{"value", "end_time"}]}]}``;
  ``metric=follower_demographics&period=lifetime&metric_type=total_value&breakdown=country|age|
  gender`` — ``{"data": [{"total_value": {"breakdowns": [{"dimension_keys": ["country"],
  "results": [{"dimension_values": ["FR"], "value": 120}]}]}}]}``; stories from
  ``/{ig-user-id}/stories`` and each story's ``/insights?metric=reach,replies,shares``.
* YouTube Analytics API v2 ``reports`` (``ids=channel==MINE``), 28 days to yesterday:
  ``views,estimatedMinutesWatched,subscribersGained``; ``viewerPercentage`` by
  ``ageGroup,gender``; ``views`` by ``country`` — ``{"columnHeaders": [{"name"}], "rows": [[…]]}``.
* TikTok Display API: ``/v2/user/info/`` (follower_count, following_count, likes_count,
  video_count) and ``/v2/video/list/`` (id, create_time, view_count…; ``cursor``, ``has_more``).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from microfluence.connectors.oauth.calls import PlatformError, call
from microfluence.connectors.oauth.platforms import GRAPH

IG_DAILY = ("reach", "impressions", "profile_views")
IG_DIMENSIONS = ("country", "age", "gender")
IG_STORY_METRICS = ("reach", "replies", "shares")
STORIES_MAX = 25
YT_REPORTS = "https://youtubeanalytics.googleapis.com/v2/reports"
YT_TOTALS = ("views", "estimatedMinutesWatched", "subscribersGained")
YT_DAYS = 28
TT_USER = "https://open.tiktokapis.com/v2/user/info/"
TT_VIDEOS = "https://open.tiktokapis.com/v2/video/list/"
TT_COUNTS = ("follower_count", "following_count", "likes_count", "video_count")
TT_PAGES, TT_PAGE_SIZE = 5, 20


@dataclass
class Reading:
    """What one read gave: insight rows and audience rows."""

    insights: list[dict[str, Any]] = field(default_factory=list)
    audience: list[dict[str, Any]] = field(default_factory=list)

    def insight(  # noqa: PLR0913 - one row's columns
        self, metric: str, period: str, end: dt.datetime, value: Any, item: str = ""
    ) -> None:
        if isinstance(value, bool) or not isinstance(value, int | float):
            return  # a metric the platform did not give stays absent, never 0
        self.insights.append(
            {
                "metric": metric,
                "period": period,
                "end_time": end,
                "item_id": item,
                "value": int(value),
            }
        )

    def share(self, dimension: str, key: Any, value: Any, unit: str, period: str) -> None:
        if key in (None, "") or isinstance(value, bool) or not isinstance(value, int | float):
            return
        self.audience.append(
            {
                "dimension": dimension,
                "key": str(key)[:40],
                "value": float(value),
                "unit": unit,
                "period": period,
            }
        )


def parse_time(text: Any) -> dt.datetime | None:
    """A platform's time (ISO 8601 with an offset, ``+0000`` included, or epoch seconds) as
    naive UTC; None when it is not one."""
    if isinstance(text, int | float) and not isinstance(text, bool):
        return dt.datetime.fromtimestamp(text, dt.UTC).replace(tzinfo=None)
    if not isinstance(text, str):
        return None
    value = text.strip()
    if len(value) > 5 and value[-5] in "+-" and value[-4:].isdigit():  # noqa: PLR2004
        value = value[:-2] + ":" + value[-2:]
    try:
        moment = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    if moment.tzinfo is not None:
        moment = moment.astimezone(dt.UTC).replace(tzinfo=None)
    return moment


def _today(now: dt.datetime) -> dt.datetime:
    return dt.datetime(now.year, now.month, now.day)


# --- Instagram ------------------------------------------------------------------------------


def _ig_daily(reading: Reading, body: dict[str, Any]) -> None:
    for series in body.get("data") or []:
        name, period = series.get("name"), series.get("period") or "day"
        for point in series.get("values") or []:
            end = parse_time(point.get("end_time"))
            if name and end is not None:
                reading.insight(str(name), str(period), end, point.get("value"))


def _ig_breakdown(reading: Reading, body: dict[str, Any], dimension: str) -> None:
    for series in body.get("data") or []:
        total = series.get("total_value") or {}
        for breakdown in total.get("breakdowns") or []:
            for result in breakdown.get("results") or []:
                keys = result.get("dimension_values") or [None]
                reading.share(dimension, keys[0], result.get("value"), "count", "lifetime")


def read_instagram(ig_id: str, token: str, now: dt.datetime) -> Reading:
    reading, base = Reading(), f"{GRAPH}/{ig_id}"
    me = call("instagram", "GET", base, token=token, params={"fields": "followers_count,username"})
    reading.insight("follower_count", "lifetime", _today(now), me.get("followers_count"))
    since = int((now - dt.timedelta(days=YT_DAYS)).replace(tzinfo=dt.UTC).timestamp())
    daily = call(
        "instagram",
        "GET",
        f"{base}/insights",
        token=token,
        params={"metric": ",".join(IG_DAILY), "period": "day", "since": since},
    )
    _ig_daily(reading, daily)
    for dimension in IG_DIMENSIONS:
        body = call(
            "instagram",
            "GET",
            f"{base}/insights",
            token=token,
            params={
                "metric": "follower_demographics",
                "period": "lifetime",
                "metric_type": "total_value",
                "breakdown": dimension,
            },
        )
        _ig_breakdown(reading, body, dimension)
    stories = call(
        "instagram", "GET", f"{base}/stories", token=token, params={"fields": "id,timestamp"}
    )
    for story in (stories.get("data") or [])[:STORIES_MAX]:
        story_id, end = str(story.get("id") or ""), parse_time(story.get("timestamp"))
        if not story_id.isdigit() or end is None:
            continue
        body = call(
            "instagram",
            "GET",
            f"{GRAPH}/{story_id}/insights",
            token=token,
            params={"metric": ",".join(IG_STORY_METRICS)},
        )
        for series in body.get("data") or []:
            values = series.get("values") or [{}]
            reading.insight(
                f"story_{series.get('name')}", "lifetime", end, values[0].get("value"), story_id
            )
    return reading


# --- YouTube --------------------------------------------------------------------------------


def _table(body: dict[str, Any]) -> list[dict[str, Any]]:
    names = [str(h.get("name")) for h in body.get("columnHeaders") or []]
    return [dict(zip(names, row, strict=False)) for row in body.get("rows") or []]


def read_youtube(channel_id: str, token: str, now: dt.datetime) -> Reading:
    reading = Reading()
    end = _today(now) - dt.timedelta(days=1)
    span = {
        "ids": "channel==MINE",
        "startDate": (end - dt.timedelta(days=YT_DAYS - 1)).date().isoformat(),
        "endDate": end.date().isoformat(),
    }
    period = f"{YT_DAYS}d"

    def report(**params: str) -> list[dict[str, Any]]:
        return _table(call("youtube", "GET", YT_REPORTS, token=token, params=span | params))

    for row in report(metrics=",".join(YT_TOTALS)):
        for metric in YT_TOTALS:
            reading.insight(metric, period, end, row.get(metric))
    ages: dict[str, float] = {}
    genders: dict[str, float] = {}
    for row in report(dimensions="ageGroup,gender", metrics="viewerPercentage"):
        age, gender, share = row.get("ageGroup"), row.get("gender"), row.get("viewerPercentage")
        if not isinstance(share, int | float):
            continue
        reading.share("age_gender", f"{age}/{gender}", share, "percent", period)
        ages[str(age)] = ages.get(str(age), 0.0) + share  # at most 7 × 3 rows
        genders[str(gender)] = genders.get(str(gender), 0.0) + share
    for age, share in ages.items():
        reading.share("age", age, round(share, 4), "percent", period)
    for gender, share in genders.items():
        reading.share("gender", gender, round(share, 4), "percent", period)
    for row in report(dimensions="country", metrics="views", sort="-views", maxResults="50"):
        reading.share("country", row.get("country"), row.get("views"), "count", period)
    return reading


# --- TikTok ---------------------------------------------------------------------------------


def read_tiktok(open_id: str, token: str, now: dt.datetime) -> Reading:
    reading = Reading()
    body = call(
        "tiktok", "GET", TT_USER, token=token, params={"fields": "open_id," + ",".join(TT_COUNTS)}
    )
    user = (body.get("data") or {}).get("user") or {}
    if user.get("open_id") not in (None, open_id):
        raise PlatformError("tiktok: the token belongs to another account than the one connected")
    for metric in TT_COUNTS:
        reading.insight(metric, "lifetime", _today(now), user.get(metric))
    cursor: int | None = None
    for _page in range(TT_PAGES):
        payload: dict[str, Any] = {"max_count": TT_PAGE_SIZE} | (
            {"cursor": cursor} if cursor else {}
        )
        page = call(
            "tiktok",
            "POST",
            TT_VIDEOS,
            token=token,
            params={"fields": "id,create_time,view_count,like_count,comment_count,share_count"},
            json=payload,
        )
        data = page.get("data") or {}
        for video in data.get("videos") or []:
            posted, vid = parse_time(video.get("create_time")), str(video.get("id") or "")[:100]
            if posted is None or not vid:
                continue
            for metric in ("view_count", "like_count", "comment_count", "share_count"):
                reading.insight(f"video_{metric}", "lifetime", posted, video.get(metric), vid)
        cursor = data.get("cursor")
        if not data.get("has_more") or not isinstance(cursor, int):
            break
    return reading


READERS: dict[str, Callable[[str, str, dt.datetime], Reading]] = {
    "instagram": read_instagram,
    "youtube": read_youtube,
    "tiktok": read_tiktok,
}
